"""A session's recorded run, read back frame by frame.

The capture spool (:class:`device.capture.spool.FrameSpool`) is kept as the session's video: a
plain concatenation of JPEGs (``session-N.mjpeg``) with an index beside it (``.idx``: the source
frame number and byte span of each JPEG). Reading one frame is one seek and one read, so the
dashboard can step through a two-minute run without decoding it.
"""

from __future__ import annotations

import bisect
import json
import shutil
from pathlib import Path
from typing import Any

from device.errors import UserError


class VideoUnavailableError(UserError):
    """The session has no recorded video (recording off, disk too full, or deleted)."""

    http_status = 404


class SessionVideo:
    """Random access to the JPEG frames of one recorded session."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        idx = Path(str(self.path) + ".idx")
        try:
            index = json.loads(idx.read_text(encoding="utf-8"))
            self.frames: list[int] = [int(f) for f in index["frames"]]
            self.spans: list[tuple[int, int]] = [(int(o), int(n)) for o, n in index["spans"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VideoUnavailableError(f"the video of this session cannot be read ({exc})") from None
        if len(self.frames) != len(self.spans) or not self.path.is_file():
            raise VideoUnavailableError("the video of this session is incomplete")

    def __len__(self) -> int:
        return len(self.frames)

    def jpeg(self, index: int) -> bytes:
        """The JPEG of the ``index``-th recorded frame (0-based)."""
        if not 0 <= index < len(self.spans):
            raise IndexError(f"frame {index} is outside the video (0–{len(self.spans) - 1})")
        offset, length = self.spans[index]
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return fh.read(length)

    def index_of(self, frame: int) -> int | None:
        """The position of the recorded frame nearest to source frame ``frame``."""
        if not self.frames:
            return None
        i = bisect.bisect_left(self.frames, frame)
        cands = [j for j in (i - 1, i) if 0 <= j < len(self.frames)]
        return min(cands, key=lambda j: abs(self.frames[j] - frame))


def open_video(session: dict) -> SessionVideo:
    """The video of a session dict (``video_path``), or VideoUnavailableError saying why not."""
    path = session.get("video_path")
    if not path:
        raise VideoUnavailableError("no video was recorded for this session")
    return SessionVideo(path)


def video_fits(cfg: Any, video_bytes: int) -> bool:
    """Keep a capture's video only when the disk has room: after keeping it, the free space must
    still hold ``[storage] min_free_mb`` plus one more video of the same size (the next run)."""
    try:
        free = shutil.disk_usage(cfg.data_dir).free
    except OSError:
        return False
    return free - 2 * video_bytes >= cfg.storage.min_free_mb * 1_000_000
