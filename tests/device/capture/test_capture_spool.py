"""The session video (evidence spool kept with ``record_video``) reads back frame by frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.capture.spool import FrameSpool, SpooledVideo


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
