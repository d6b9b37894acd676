"""PicameraSource against a stand-in Picamera2 module (no Pi camera on build machines):
two streams, sensor timestamps, gaps for dropped frames, unplug → SourceError."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from device.camera.picamera import LoresFrame, PicameraSource, picamera_available
from device.config import Config
from device.errors import SourceError


class _Request:
    def __init__(self, cam: _Camera, ts: int) -> None:
        self.cam, self.ts, self.released = cam, ts, False

    def get_metadata(self) -> dict:
        return {"SensorTimestamp": self.ts, "FrameDuration": 33333}

    def make_array(self, name: str) -> np.ndarray:
        cfg = self.cam.config[name]
        w, h = cfg["size"]
        if name == "main":
            img = np.zeros((h, w, 3), np.uint8)
            img[..., 2] = 200  # red in BGR order (what RGB888 gives)
            return img
        yuv = np.full((h * 3 // 2, w + 32), 128, np.uint8)  # padded stride, neutral chroma
        yuv[:h] = 90
        return yuv

    def release(self) -> None:
        self.released = True


class _Camera:
    timestamps: list[int] = []
    fail_after: int | None = None
    instances: list[_Camera] = []

    def __init__(self, index: int = 0) -> None:
        self.index, self.started, self.closed, self.n = index, False, False, 0
        _Camera.instances.append(self)

    @staticmethod
    def global_camera_info() -> list[dict]:
        return [{"Model": "imx708"}]

    # What Picamera2 lists for a Camera Module 3 (imx708, Raspberry Pi camera documentation).
    sensor_modes = [
        {"size": (1536, 864), "fps": 120.13, "bit_depth": 10},
        {"size": (2304, 1296), "fps": 56.03, "bit_depth": 10},
        {"size": (4608, 2592), "fps": 14.35, "bit_depth": 10},
    ]

    def create_video_configuration(
        self, main: dict, lores: dict, sensor: dict, controls: dict, buffer_count: int, transform: _Transform
    ) -> dict:
        return {
            "main": main,
            "lores": lores,
            "sensor": sensor,
            "controls": controls,
            "buffers": buffer_count,
            "transform": transform,
        }

    def configure(self, config: dict) -> None:
        self.config = config

    def start(self) -> None:
        self.started = True

    def capture_request(self, wait: float | None = None) -> _Request:
        assert isinstance(wait, float)  # always a timeout: an unplugged camera must not hang us
        if self.fail_after is not None and self.n >= self.fail_after:
            raise TimeoutError("no frame")
        ts = self.timestamps[self.n]
        self.n += 1
        return _Request(self, ts)

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


class _Transform:
    """libcamera.Transform's constructor (keyword flips, 0 or 1)."""

    def __init__(self, hflip: int = 0, vflip: int = 0) -> None:
        self.hflip, self.vflip = hflip, vflip


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> type[_Camera]:
    mod = types.ModuleType("picamera2")
    mod.Picamera2 = _Camera  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", mod)
    lib = types.ModuleType("libcamera")
    lib.Transform = _Transform  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "libcamera", lib)
    _Camera.instances = []
    _Camera.fail_after = None
    t0 = 5_000_000_000
    period = 33_333_000
    # Frame 3 and 4 were missed by a slow reader: sensor time jumps by three periods.
    _Camera.timestamps = [t0, t0 + period, t0 + 2 * period, t0 + 5 * period, t0 + 6 * period]
    return _Camera


def test_frames_timestamps_and_low_res(fake_picamera2: type[_Camera]) -> None:
    assert picamera_available()
    src = PicameraSource(0, 1280, 720, 30.0)
    with src:
        cam = fake_picamera2.instances[0]
        assert cam.started and cam.config["main"] == {"size": (1280, 720), "format": "RGB888"}
        assert cam.config["lores"] == {"size": (426, 240), "format": "YUV420"}
        # 30 fps asked: the largest whole-runner mode that reaches it, frame time pinned
        assert cam.config["sensor"] == {"output_size": (2304, 1296), "bit_depth": 10}
        assert cam.config["controls"] == {"FrameDurationLimits": (33333, 33333)}
        assert src.mode is not None and src.nominal_fps == 30.0
        frames = [src.read() for _ in range(5)]
    assert cam.closed and not cam.started
    assert all(isinstance(f, LoresFrame) for f in frames)
    assert [f.index for f in frames] == [0, 1, 2, 5, 6]
    assert frames[0].t == pytest.approx(5.0) and frames[3].t - frames[2].t == pytest.approx(0.1, abs=1e-6)
    f = frames[0]
    assert f.image.shape == (720, 1280, 3) and f.image[0, 0, 2] == 200
    assert f.lores.shape == (240, 426, 3)  # padding stripped, converted to BGR
    assert abs(int(f.lores[10, 10, 0]) - 90) < 6  # grey Y=90 with neutral chroma
    assert f.lores_scale == pytest.approx((1280 / 426, 720 / 240))


def test_unplugged_camera_is_a_source_error(fake_picamera2: type[_Camera]) -> None:
    fake_picamera2.fail_after = 2
    with PicameraSource(0) as src:
        src.read()
        src.read()
        with pytest.raises(SourceError, match="unplugged"):
            src.read()


def test_camera_index_not_connected(fake_picamera2: type[_Camera]) -> None:
    with pytest.raises(SourceError, match="camera 1 not found"):
        PicameraSource(1).open()


def test_default_is_the_fastest_mode_that_frames_the_whole_runner(fake_picamera2: type[_Camera]) -> None:
    src = PicameraSource(0, 1280, 720)  # [camera] fps = 0: auto
    with src:
        cam = fake_picamera2.instances[0]
        assert cam.config["sensor"] == {"output_size": (1536, 864), "bit_depth": 10}
        assert cam.config["controls"] == {"FrameDurationLimits": (8324, 8324)}  # 1e6 / 120.13 µs
        assert src.nominal_fps == pytest.approx(120.13)
        assert src.mode is not None
        assert src.mode.describe() == "imx708 sensor mode 1536×864 10-bit, 120.13 fps (mode max 120.1)"


def test_mode_choice_per_sensor() -> None:
    from device.camera.picamera import pick_mode

    hq = [
        {"size": (1332, 990), "fps": 120.05, "bit_depth": 10},
        {"size": (2028, 1080), "fps": 50.03, "bit_depth": 12},
        {"size": (4056, 3040), "fps": 10.0, "bit_depth": 12},
    ]
    assert pick_mode("imx477", hq).size == (1332, 990)
    assert pick_mode("imx477", hq, 50).size == (2028, 1080)
    v2 = [  # the v2 camera's 640×480 at 206 fps is a centre crop: it would cut the runner off
        {"size": (640, 480), "fps": 206.65, "bit_depth": 10},
        {"size": (1640, 1232), "fps": 41.85, "bit_depth": 10},
        {"size": (1920, 1080), "fps": 47.57, "bit_depth": 10},
    ]
    m = pick_mode("imx219", v2)
    assert m.size == (1920, 1080) and m.fps == pytest.approx(47.57)
    m = pick_mode("imx219", v2, 120)  # more than any whole-runner mode gives: its fastest, at its rate
    assert m.size == (1920, 1080) and m.fps == pytest.approx(47.57)
    assert pick_mode("imx708_wide", _Camera.sensor_modes).size == (1536, 864)


def test_auto_on_a_pi_never_turns_into_the_synthetic_runner(
    fake_picamera2: type[_Camera], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ribbon cable out (Picamera2 lists no camera): ``auto`` is still the Pi camera, and
    opening it says the camera is missing. It used to answer with the synthetic runner, so a
    camera that failed mid-day was silently replaced by the drawn runner for the next customer."""
    from device.camera import is_synthetic, open_source, resolve_spec

    monkeypatch.setattr(fake_picamera2, "global_camera_info", staticmethod(lambda: []))
    assert resolve_spec("auto") == "picamera" and not is_synthetic(resolve_spec("auto"))
    src = open_source("auto", Config())
    assert isinstance(src, PicameraSource)
    with pytest.raises(SourceError, match="not found .*ribbon cable"):
        src.open()


def test_a_leaping_sensor_time_does_not_renumber_every_later_frame(fake_picamera2: type[_Camera]) -> None:
    """One frame stamped 10⁶ s ahead (a driver fault): the frames after it were numbered from
    the first frame's time, i.e. in the millions, as if that many had been missed."""
    t0, period = 5_000_000_000, 33_333_000
    fake_picamera2.timestamps = [
        t0,
        t0 + period,
        t0 + 10**15,
        t0 + 3 * period,
        t0 + 4 * period,
        t0 + 6 * period,
    ]
    with PicameraSource(0, 1280, 720, 30.0) as src:
        idx = [src.read().index for _ in range(6)]
    assert idx == [0, 1, 2, 3, 4, 6]  # the leap counts as one frame; a real missed frame (5) still shows


def test_a_camera_mounted_upside_down_is_turned_by_its_sensor(fake_picamera2: type[_Camera]) -> None:
    """[camera] upside_down: the sensor flips both ways (a 180° turn) for every stream, the
    model's low-res one too; by default it turns nothing. The pose model finds no runner upside
    down (the labelled clip turned 180°: a confident body in 156 of 360 frames, "no runner")."""
    from device.camera import open_source
    from device.config import Config

    cfg = Config()
    cfg.camera.upside_down = True
    with open_source("picamera", cfg, upside_down=cfg.camera.upside_down) as src:
        src.read()
    turned = fake_picamera2.instances[-1].config["transform"]
    assert (turned.hflip, turned.vflip) == (1, 1)
    with open_source("picamera", cfg) as src:
        src.read()
    plain = fake_picamera2.instances[-1].config["transform"]
    assert (plain.hflip, plain.vflip) == (0, 0)
