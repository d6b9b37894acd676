"""Choosing a source from a spec; webcam clock; Pi camera sizing (no camera on this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.camera import is_synthetic, open_source, parse_spec, resolve_spec
from device.camera.base import model_image_size
from device.camera.picamera import PicameraSource, picamera_available, picamera_installed
from device.camera.video import VideoFileSource
from device.camera.webcam import DriverClock, WebcamSource
from device.config import Config
from device.errors import SourceError


def test_parse_spec() -> None:
    assert parse_spec("picamera") == ("picamera", "")
    assert parse_spec("picamera:1") == ("picamera", "1")
    assert parse_spec("webcam:2") == ("webcam", "2")
    assert parse_spec("synthetic") == ("synthetic", "")
    assert parse_spec("") == ("auto", "")
    assert parse_spec("/videos/run.mp4") == ("file", "/videos/run.mp4")
    assert parse_spec("clip.gif") == ("file", "clip.gif")


def test_open_source_builds_the_right_kind(samples_dir: Path) -> None:
    cfg = Config()
    cfg.camera.width, cfg.camera.height, cfg.camera.fps = 1920, 1080, 50.0
    src = open_source(str(samples_dir / "treadmill_side_18fps.gif"), cfg)
    assert isinstance(src, VideoFileSource) and not src.is_live
    cam = open_source("picamera:1", cfg)
    assert isinstance(cam, PicameraSource) and cam.is_live and cam.index == 1
    assert cam.size == (1920, 1080) and cam.nominal_fps == 50.0
    web = open_source("webcam", cfg)
    assert isinstance(web, WebcamSource) and web.index == 0


def test_bad_camera_number() -> None:
    with pytest.raises(SourceError, match="whole number"):
        open_source("webcam:front", None)


@pytest.mark.skipif(picamera_available(), reason="a Pi camera is connected")
def test_picamera_missing_is_a_clear_error() -> None:
    with pytest.raises(SourceError) as info:
        PicameraSource(0).open()
    assert "\n" not in str(info.value)


def test_lores_stream_sized_for_the_model() -> None:
    assert model_image_size((1280, 720), 192) == (426, 240)
    w, h = model_image_size((1920, 1080), 256)
    assert h == 320 and w % 2 == 0 and abs(w / h - 16 / 9) < 0.01
    assert model_image_size((320, 240), 192) == (320, 240)


def test_webcam_clock_prefers_driver_then_falls_back() -> None:
    clock = DriverClock(30.0)
    assert clock.time(1000.0, 50.0) == 1.0
    assert clock.time(1033.0, 50.033) == pytest.approx(1.033) and clock.uses_driver
    # The driver repeats itself: switch to the monotonic clock, continuing one frame after the last time.
    t = clock.time(1033.0, 50.066)
    assert t == pytest.approx(1.033 + 1 / 30) and not clock.uses_driver
    assert clock.time(2000.0, 50.1) == pytest.approx(t + 0.034, abs=1e-6)  # for good


def test_webcam_zero_driver_time_uses_monotonic_clock() -> None:
    clock = DriverClock(30.0)
    assert clock.time(0.0, 100.0) == 0.0
    assert clock.time(0.0, 100.04) == pytest.approx(0.04)
    clock.reset(30.0)  # the camera reopened: the driver gets its chance again
    assert clock.uses_driver and clock.time(500.0, 200.0) == 0.5


def test_missing_webcam_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="not found"):
        WebcamSource(57).open()


def test_a_missing_webcam_tried_again_and_again_keeps_opencv_quiet(capfd) -> None:
    """The camera loop tries a missing webcam every 2 s: OpenCV's own warning on every try would
    fill the journal all day. Its log is silent while opening, and left as it was."""
    from device.camera.webcam import opencv_log_level

    api = opencv_log_level()
    assert api is not None
    before = api[0]()
    capfd.readouterr()
    for _ in range(3):
        with pytest.raises(SourceError, match="not found"):
            WebcamSource(57).open()
    assert capfd.readouterr().err == ""
    assert api[0]() == before


def test_opencv_4_without_utils_logging_still_opens_webcams(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenCV 4.x (the Pi branch's wheel under numpy < 2) has cv2.setLogLevel and no
    cv2.utils.logging: opening a webcam raised AttributeError there (tools/pi-check.sh,
    bookworm), so no webcam could be used on a Pi."""
    import cv2

    levels: list[int] = [3]
    monkeypatch.delattr(cv2.utils, "logging", raising=False)  # absent already on OpenCV 4.x
    monkeypatch.setattr(cv2, "getLogLevel", lambda: levels[-1], raising=False)
    monkeypatch.setattr(cv2, "setLogLevel", levels.append, raising=False)
    with pytest.raises(SourceError, match="not found"):
        WebcamSource(57).open()
    assert levels == [3, 0, 3]  # silent while opening, as it was afterwards


def test_synthetic_and_auto_without_a_pi_camera() -> None:
    from device.camera.synthetic import SyntheticSource

    cfg = Config()
    assert isinstance(open_source("synthetic:rear", cfg), SyntheticSource)
    if not picamera_installed():  # no Pi camera stack: the demo runner
        assert resolve_spec("auto") == "synthetic" and is_synthetic(resolve_spec("auto"))
        assert isinstance(open_source("auto", cfg), SyntheticSource)
    with pytest.raises(SourceError):
        open_source("synthetic:nonsense", cfg)


class _FakeCapture:
    """cv2.VideoCapture stand-in: three frames with driver timestamps, then the cable is pulled."""

    def __init__(self, index: int) -> None:
        self.n, self.props = 0, {}

    def isOpened(self) -> bool:
        return True

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        import cv2

        if prop == cv2.CAP_PROP_POS_MSEC:
            return 1000.0 + 40.0 * self.n
        return {
            cv2.CAP_PROP_FRAME_WIDTH: 640.0,
            cv2.CAP_PROP_FRAME_HEIGHT: 480.0,
            cv2.CAP_PROP_FPS: 25.0,
        }.get(prop, 0.0)

    def grab(self) -> bool:
        self.n += 1
        return self.n <= 3

    def retrieve(self):
        import numpy as np

        return True, np.zeros((480, 640, 3), np.uint8)

    def release(self) -> None:
        self.released = True


def test_webcam_frames_then_unplug(monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    monkeypatch.setattr(cv2, "VideoCapture", _FakeCapture)
    with WebcamSource(0, 1280, 720, 30) as cam:
        assert cam.size == (640, 480) and cam.nominal_fps == 25.0  # what the driver granted
        frames = [cam.read() for _ in range(3)]
        assert [f.t for f in frames] == pytest.approx([1.04, 1.08, 1.12])
        assert [f.index for f in frames] == [0, 1, 2]
        with pytest.raises(SourceError, match="unplugged"):
            cam.read()
