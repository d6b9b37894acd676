"""Videos whose clock misbehaves, made from a real clip's frames: MPEG-TS pieces joined byte for
byte, as ``cat a.ts b.ts`` does (each piece's timestamps are whatever it was written with)."""

from __future__ import annotations

import fractions
import io
from pathlib import Path

import numpy as np

RATE = 30


def clip_frames(video: Path) -> list[np.ndarray]:
    import av

    with av.open(str(video)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def ts_piece(frames: list[np.ndarray], first_pts: int) -> bytes:
    """The frames as one MPEG-TS at 30 fps, numbered from ``first_pts``."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mpegts") as c:
        s = c.add_stream("mpeg4", rate=RATE)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.codec_context.time_base = fractions.Fraction(1, RATE)
        for i, img in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(img, format="bgr24")
            vf.pts = first_pts + i
            vf.time_base = fractions.Fraction(1, RATE)
            for pkt in s.encode(vf):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return buf.getvalue()


def joined(frames: list[np.ndarray], at: int) -> bytes:
    """Two clips joined at frame ``at``: the second's clock starts again at 0."""
    return ts_piece(frames[:at], 0) + ts_piece(frames[at:], 0)


def one_frame_back(frames: list[np.ndarray], at: int, by: int = 10) -> bytes:
    """Frame ``at`` stamped ``by`` frames too early; the clock goes on as before after it."""
    return (
        ts_piece(frames[:at], 0) + ts_piece(frames[at : at + 1], at - by) + ts_piece(frames[at + 1 :], at + 1)
    )


def all_at_zero(frames: list[np.ndarray]) -> bytes:
    """Every frame stamped 0 (a muxer that wrote no clock)."""
    return b"".join(ts_piece([f], 0) for f in frames)
