"""Video files through PyAV: container timestamps and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.camera.video import TAKE_GAP_S, VideoFileSource
from device.errors import SourceError
from tests.support import video_clock


def test_gif_timestamps_follow_frame_durations(samples_dir: Path) -> None:
    with VideoFileSource(samples_dir / "treadmill_side_18fps.gif") as src:
        assert src.size == (520, 293)
        frames = list(src)
    assert len(frames) == 90
    t = np.array([f.t for f in frames])
    steps = np.diff(t)
    assert np.all((steps >= 0.045) & (steps <= 0.065))  # 50–60 ms GIF durations
    assert len(set(np.round(steps, 3))) >= 2  # uneven: not a fixed assumed rate
    assert t[0] == 0.0 and 4.9 < t[-1] < 5.0
    assert [f.index for f in frames] == list(range(90))
    img = frames[0].image
    assert img.shape == (293, 520, 3) and img.dtype == np.uint8


def test_mp4_times_and_rate(samples_dir: Path) -> None:
    with VideoFileSource(samples_dir / "overground_side_run_30fps.mp4") as src:
        assert abs(src.nominal_fps - 29.97) < 0.01
        assert src.frame_count == 47
        frames = list(src)
    t = np.array([f.t for f in frames])
    assert len(frames) == 47
    assert np.allclose(np.diff(t), 1001 / 30000, atol=1e-6)
    assert frames[0].image.shape == (352, 480, 3)


def test_loop_continues_time(samples_dir: Path) -> None:
    with VideoFileSource(samples_dir / "overground_side_run_30fps.mp4", loop=True) as src:
        frames = [src.read() for _ in range(100)]
    t = np.array([f.t for f in frames])
    assert np.all(np.diff(t) > 0)
    assert t[-1] > 3.2


def _jpeg_bytes() -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.mp4", b"", "empty"),
        ("photo.mp4", "jpeg", "still image"),
        ("notes.mp4", b"hello, this is just a text file\n" * 20, "not a video"),
        ("random.mov", bytes(range(256)) * 40, "not a video"),
    ],
)
def test_bad_files_raise_one_line_source_errors(tmp_path: Path, name: str, content, message: str) -> None:
    p = tmp_path / name
    p.write_bytes(_jpeg_bytes() if content == "jpeg" else content)
    src = VideoFileSource(p)
    with pytest.raises(SourceError) as info:
        src.open()
        list(src)
    text = str(info.value)
    assert message in text and str(p) in text and "\n" not in text
    src.close()


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        VideoFileSource(tmp_path / "nope.mp4").open()
    with pytest.raises(SourceError, match="folder"):
        VideoFileSource(tmp_path).open()


def test_truncated_mp4_never_crashes(samples_dir: Path, tmp_path: Path) -> None:
    data = (samples_dir / "overground_side_run_30fps.mp4").read_bytes()
    for keep in (2_000, len(data) // 2):
        p = tmp_path / f"cut{keep}.mp4"
        p.write_bytes(data[:keep])
        try:
            with VideoFileSource(p) as src:
                n = sum(1 for _ in src)
        except SourceError as exc:
            assert "\n" not in str(exc)
        else:
            assert n < 47


@pytest.mark.parametrize(
    ("make", "from_frame"),
    [
        (lambda frames: video_clock.joined(frames, at=24), 24),  # `cat a.ts b.ts`
        (video_clock.all_at_zero, 1),
    ],
    ids=["clips-joined", "every-pts-zero"],
)
def test_a_clock_that_restarts_or_stands_still_is_timed_at_the_nominal_rate(
    samples_dir: Path, tmp_path: Path, make, from_frame: int
) -> None:
    frames = video_clock.clip_frames(samples_dir / "overground_side_run_30fps.mp4")
    video = tmp_path / "clock.ts"
    video.write_bytes(make(frames))
    with VideoFileSource(video) as src:
        t = np.array([f.t for f in src])
    assert len(t) == len(frames)  # every frame kept, in order
    step = np.diff(t)
    if from_frame > 1:  # joined takes stay apart: one gap no analysis bridges, 1/30 s elsewhere
        assert step[from_frame - 1] >= TAKE_GAP_S and np.allclose(np.delete(step, from_frame - 1), 1 / 30)
    else:  # a clock that stands still: timed at the nominal rate
        assert np.allclose(step, 1 / 30, atol=1e-6)
    assert src.retimed is not None and f"at frame {from_frame} " in src.retimed
    assert "\n" not in src.retimed
