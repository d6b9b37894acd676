"""The evidence spool: kept as the session video (``record_video``) it reads back frame by frame;
cut short by a crash, it is recovered from its sidecar."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.capture.spool import FrameSpool, SpooledFrames, SpooledVideo, spans_path
from tests.support.eventually import eventually


def test_kept_video_reads_back_by_frame_number(tmp_path: Path) -> None:
    spool = FrameSpool(tmp_path / "spool" / "s.mjpeg", quality=80)
    img = np.zeros((120, 160, 3), np.uint8)
    for i in (0, 4, 8, 12):  # the evidence spool takes every 4th frame of a 120 fps capture
        img[:] = 10 * i
        spool.put(i, img.copy())
    path = spool.keep_as_video(tmp_path / "videos" / "session-1.mjpeg")
    video = SpooledVideo(path)
    assert video.frames == [0, 4, 8, 12] and len(video) == 4
    assert video.nearest(6) in (4, 8) and video.nearest(100) == 12
    jpeg = video.read(8)
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    import cv2

    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert abs(int(decoded.mean()) - 80) <= 2
    assert video.read(5) is None  # not a stored frame
    assert SpooledVideo(tmp_path / "missing.mjpeg").frames == []


def _spool_cut_short(path: Path, frames: list[int]) -> None:
    """What a power cut leaves of a spool of ``frames`` (1280 wide: spooled at 800): the JPEGs
    and the sidecar, no ``.idx``; the last index line torn, a span the OS never wrote, and the
    first bytes of a JPEG that was being written."""
    spool = FrameSpool(path, quality=80)
    img = np.zeros((720, 1280, 3), np.uint8)
    for n, i in enumerate(frames):
        img[:] = i
        spool.put(i, img.copy())
        assert eventually(lambda n=n: len(spool) == n + 1, 5)  # never skipped: the queue is short
    spool.finish()
    size = path.stat().st_size
    with open(spans_path(path), "a", encoding="ascii") as fh:
        fh.write(f"{frames[-1] + 1} {size} 5000 0.625\n{frames[-1] + 2} {size + 5000} 50")
    with open(path, "ab") as fh:
        fh.write(b"\xff\xd8\xff\xe0 half a JPEG")


def test_a_spool_cut_short_by_a_power_cut_is_recovered_from_its_sidecar(tmp_path: Path, caplog) -> None:
    path = tmp_path / "spool" / "session-3.mjpeg"
    _spool_cut_short(path, [0, 4, 8, 12])
    whole = path.stat().st_size - len(b"\xff\xd8\xff\xe0 half a JPEG")
    spool = SpooledFrames.recover(path)
    assert spool is not None and len(spool) == 4 and spool.nearest(100) == 12
    assert "4 frame(s) recovered, 2 cut short" in caplog.text  # one line says what was lost
    assert path.stat().st_size == whole == spool.bytes  # the torn JPEG cut off: a stream of whole ones
    got = spool.read(8)
    assert got is not None and got[0][:2] == b"\xff\xd8" and got[1] == 0.625  # full size evidence
    video = SpooledVideo(spool.keep_as_video(tmp_path / "videos" / "session-3.mjpeg"))
    assert video.frames == [0, 4, 8, 12] and video.read(12) == spool.read(12)[0]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "session-3.mjpeg",
        "session-3.mjpeg.idx",
    ]


def test_recovering_a_spool_without_its_sidecar_gives_no_frames(tmp_path: Path) -> None:
    path = tmp_path / "session-3.mjpeg"
    assert SpooledFrames.recover(path) is None  # no spool at all
    path.write_bytes(b"\xff\xd8 frames with no index \xff\xd9")
    spool = SpooledFrames.recover(path)
    assert spool is not None and len(spool) == 0  # nothing to show: the finisher deletes it
    spool.delete()
    assert not list(tmp_path.iterdir())


def test_a_deleted_spool_takes_its_sidecar_along(tmp_path: Path) -> None:
    spool = FrameSpool(tmp_path / "session-3.mjpeg")
    spool.put(0, np.zeros((90, 160, 3), np.uint8))
    assert eventually(lambda: len(spool) == 1, 5)
    assert spans_path(spool.path).read_text(encoding="ascii").split() == ["0", "0", str(spool.bytes), "1.0"]
    spool.delete()
    assert not list(tmp_path.iterdir())
