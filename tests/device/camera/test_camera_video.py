"""Video files through PyAV: container timestamps and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.camera.video import TAKE_GAP_S, VideoFileSource
from device.errors import SourceError
from tests.support import damaged_video, video_clock


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


def _clip(samples_dir: Path, tmp_path: Path, codec: str = "mpeg4") -> Path:
    """94 frames (3.1 s at 30 fps) of a real runner as an MP4 with its index at the end."""
    import av

    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg has no {codec} encoder")
    frames = video_clock.clip_frames(samples_dir / "overground_side_run_30fps.mp4") * 2
    return damaged_video.write_mp4(tmp_path / f"clip-{codec}.mp4", frames, codec)


@pytest.mark.parametrize("codec", ["mpeg4", "h264"])
def test_a_damaged_packet_mid_video_costs_only_its_frames(
    samples_dir: Path, tmp_path: Path, codec: str
) -> None:
    """Three packets of junk at 1.3 s ended the video there ("corrupt after frame 40"): the
    other two thirds of the run were never analysed although they decode. Now the damaged frames
    are left out, counted and placed in time, and the frames after them keep their own times."""
    bad = damaged_video.damage(_clip(samples_dir, tmp_path, codec), tmp_path / "bad.mp4", range(40, 43))
    with VideoFileSource(bad) as src:
        frames = list(src)
    numbers = np.array([f.t for f in frames]) * 30  # each frame's own time, in frames of the clip
    assert np.allclose(numbers, np.round(numbers), atol=1e-6)  # no frame re-timed to close the gap
    lost = sorted(set(range(94)) - {round(n) for n in numbers})
    assert set(range(40, 43)) <= set(lost) and lost == list(range(lost[0], lost[-1] + 1))
    assert len(lost) <= 6 and len(frames) + len(lost) == 94  # everything after the damage decoded
    assert src.frames_damaged == len(lost)
    assert [f.index for f in frames] == list(range(len(frames)))
    start, end = lost[0] / 30, (lost[-1] + 1) / 30
    assert src.damaged == (
        f"{bad}: the video is damaged: {len(lost)} frames could not be read and are left out "
        f"({len(lost) / 30:.2f} s of the video is missing, between {start:.2f} s and {end:.2f} s)"
    )
    assert src.cut_short is None and src.retimed is None


def test_damage_in_several_places_is_said_once(samples_dir: Path, tmp_path: Path) -> None:
    clean = _clip(samples_dir, tmp_path)
    bad = damaged_video.damage(clean, tmp_path / "bad.mp4", range(20, 21))
    worse = damaged_video.damage(bad, tmp_path / "worse.mp4", range(70, 72))
    with VideoFileSource(worse) as src:
        frames = list(src)
    assert len(frames) == 91 and src.frames_damaged == 3
    assert src.damaged is not None and "\n" not in src.damaged
    assert src.damaged.endswith(
        "3 frames could not be read and are left out (0.10 s of the video is missing, in 2 places between 0.67 s and 2.40 s)"
    )


def test_damage_that_nothing_decodes_after_ends_the_video_as_before(
    samples_dir: Path, tmp_path: Path
) -> None:
    bad = damaged_video.damage(_clip(samples_dir, tmp_path), tmp_path / "bad.mp4", range(60, 94))
    src = VideoFileSource(bad)
    src.open()
    got = []
    with pytest.raises(SourceError) as info:
        while (frame := src.read()) is not None:
            got.append(frame)
    src.close()
    assert len(got) == 60 and got[-1].t == pytest.approx(59 / 30)
    assert str(info.value) == (
        f"{bad}: the video is damaged after frame 60 (1.97 s into the video) and nothing after that could be decoded"
    )
    assert src.damaged is None  # nothing was skipped in the middle


def test_an_mp4_cut_off_before_its_index_says_it_is_incomplete(samples_dir: Path, tmp_path: Path) -> None:
    """Phones write the index (the 'moov' box) last: a copy or recording cut off loses it, and
    the station said only "not a video file this station can read"."""
    data = _clip(samples_dir, tmp_path).read_bytes()
    assert data.find(b"moov") > len(data) // 2  # the index is at the end, as a phone writes it
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError) as info:
        VideoFileSource(cut).open()
    assert str(info.value) == (
        f"{cut}: the video file is incomplete: it was probably cut off before its end (a copy that did "
        "not finish, or a recording that stopped abruptly); copy it again from the original"
    )
    # the same length with its index overwritten is damaged, not cut off: not called incomplete
    junk = tmp_path / "junk-index.mp4"
    at = data.find(b"moov") - 4
    junk.write_bytes(data[:at] + bytes((i * 151 + 7) % 256 for i in range(len(data) - at)))
    with pytest.raises(SourceError, match="not a video file this station can read"):
        VideoFileSource(junk).open()


def _frames_of(samples_dir: Path) -> list[np.ndarray]:
    """94 frames (3.1 s at 30 fps) of a real runner."""
    return video_clock.clip_frames(samples_dir / "overground_side_run_30fps.mp4") * 2


def _read_all(path: Path) -> tuple[VideoFileSource, list[float]]:
    """Every frame's time in frames of the clip (frame i at i/30 s) and the reader, closed."""
    with VideoFileSource(path) as src:
        numbers = [f.t * 30 for f in src]
    return src, numbers


def test_mkv_frames_its_demuxer_skips_over_damage_are_counted_and_placed(
    samples_dir: Path, tmp_path: Path
) -> None:
    """FFmpeg's Matroska demuxer meets a damaged block, skips to the next cluster (the next key
    frame) and says nothing: 8 frames went missing and the station said nothing. They are
    counted and placed now, and the frames after keep their own times (a gap, not closed up)."""
    clip = damaged_video.write(tmp_path / "clip.mkv", _frames_of(samples_dir), "matroska")
    bad = damaged_video.damage(clip, tmp_path / "bad.mkv", range(40, 43))
    src, numbers = _read_all(bad)
    assert np.allclose(numbers, np.round(numbers), atol=0.02)  # each frame's own time (ms clock)
    lost = sorted(set(range(94)) - {round(n) for n in numbers})
    assert lost == list(range(40, 48))  # up to the next cluster: nothing from 40 to 47 decodes
    assert src.frames_damaged == 8 and src.cut_short is None
    assert src.damaged == (
        f"{bad}: the video is damaged: 8 frames could not be read and are left out "
        "(0.27 s of the video is missing, between 1.33 s and 1.60 s)"
    )


def test_an_mkv_that_stops_early_says_how_much_it_covers(samples_dir: Path, tmp_path: Path) -> None:
    """A Matroska file announces its length, not a frame count: a file whose demuxer stopped
    early (cut off; or zeros from 1.6 s on, as a copy into a file made at its full size leaves
    it) was read to where it stopped without a word. Now it says it ended early and where."""
    clip = damaged_video.write(tmp_path / "clip.mkv", _frames_of(samples_dir), "matroska")
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    zeros = tmp_path / "zeros.mkv"
    at = damaged_video.matroska_clusters(clip)[4]  # the cluster of frames 48-59
    zeros.write_bytes(data[:at] + bytes(len(data) - at))
    for path, frames, stop in ((cut, 28, "0.93 s"), (zeros, 48, "1.60 s")):
        src, numbers = _read_all(path)
        assert len(numbers) == frames and src.damaged is None
        assert src.cut_short == (
            f"{path}: the video stops at {stop} of the 3.13 s its header announces: the rest could not "
            "be read (the file was cut short or is damaged)"
        )
    src, numbers = _read_all(clip)
    assert len(numbers) == 94 and src.cut_short is None and src.damaged is None


def test_avi_frames_keep_their_time_when_a_chunk_header_is_damaged(samples_dir: Path, tmp_path: Path) -> None:
    """FFmpeg reads an AVI chunk after chunk and numbers the frames as it goes: three damaged
    chunk headers at 0.67 s lost their frames and every later frame came 0.10 s early, without a
    word. Read in the order of the AVI's index, every frame keeps its number (here all decode)."""
    clip = damaged_video.write(tmp_path / "clip.avi", _frames_of(samples_dir), "avi")
    bad = damaged_video.damage_avi_chunks(clip, tmp_path / "bad.avi", range(20, 23))
    src, numbers = _read_all(bad)
    assert numbers == pytest.approx(list(range(94)))
    assert src.damaged is None and src.cut_short is None
    # damaged frame data in an indexed AVI: the lost frames are a gap in time, said and placed
    bad = damaged_video.damage(clip, tmp_path / "data.avi", range(40, 43))
    src, numbers = _read_all(bad)
    assert numbers == pytest.approx([n for n in range(94) if n not in (40, 41, 42)])
    assert src.damaged is not None and src.damaged.endswith(
        "3 frames could not be read and are left out (0.10 s of the video is missing, between 1.33 s and 1.43 s)"
    )


def test_an_avi_without_index_says_where_frames_were_lost_not_cut_short(
    samples_dir: Path, tmp_path: Path
) -> None:
    """Without its index (written last: a recording stopped before its end) an AVI's lost chunks
    close up in time and nothing places them: the shortfall against the header's frame count was
    called "cut short" although the frames were lost at 0.67 s and 2.00 s, not at the end. Now it
    says where, and that the time after runs early."""
    clip = damaged_video.write(tmp_path / "clip.avi", _frames_of(samples_dir), "avi")
    bare = damaged_video.without_avi_index(clip, tmp_path / "bare.avi")
    once = damaged_video.damage_avi_chunks(bare, tmp_path / "once.avi", range(20, 21))
    bad = damaged_video.damage_avi_chunks(once, tmp_path / "bad.avi", range(60, 62))
    src, numbers = _read_all(bad)
    assert len(numbers) == 91 and src.cut_short is None and src.frames_damaged == 3
    assert src.damaged == (
        f"{bad}: the video is damaged: 3 frames could not be read and are left out (lost at 0.67 s and "
        "2.00 s); this AVI file has no index to place them, so the video after 0.67 s is timed up to "
        "0.10 s early"
    )
    src, numbers = _read_all(bare)  # the same file undamaged: nothing to say
    assert numbers == pytest.approx(list(range(94))) and src.damaged is None and src.cut_short is None


def test_a_station_reading_a_damaged_file_warns_once_per_damaged_stretch(
    samples_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A video file as the live station's camera: frames skipped for damage were logged only at
    debug level. Now each damaged stretch is one warning line as it is read, said once even when
    the file loops."""
    import logging

    from device.camera import open_source
    from device.config import Config

    clean = _clip(samples_dir, tmp_path)
    bad = damaged_video.damage(clean, tmp_path / "bad.mp4", range(20, 21))
    worse = damaged_video.damage(bad, tmp_path / "worse.mp4", range(70, 72))
    cfg = Config()
    cfg.camera.loop_video = True
    with caplog.at_level(logging.WARNING, logger="device.camera.video"):
        src = open_source(str(worse), cfg)
        with src:
            for _ in range(2 * 91 + 5):  # round the file twice
                assert src.read() is not None
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert lines == [
        f"{worse}: the video is damaged: 1 frame could not be read and is left out (0.03 s of the video "
        "is missing, between 0.67 s and 0.70 s)",
        f"{worse}: the video is damaged: 2 frames could not be read and are left out (0.07 s of the video "
        "is missing, between 2.33 s and 2.40 s)",
    ]
