"""Videos damaged on purpose, made at test time from a real clip's frames: an MP4, MKV or AVI
written with PyAV (FFmpeg's own muxers and encoder), then bytes of chosen packets (or an AVI's
chunk headers) overwritten with junk, as a bad sector or a copy with a hole in it leaves them.
Nothing is committed as a binary."""

from __future__ import annotations

import fractions
import random
from pathlib import Path

import numpy as np

RATE = 30


def write_mp4(path: Path, frames: list[np.ndarray], codec: str = "mpeg4", gop: int = 12) -> Path:
    """The frames as an MP4 at 30 fps (frame i at i/30 s), a key frame every ``gop`` frames;
    the index ('moov') is written at the end, as phones and cameras do."""
    return write(path, frames, "mp4", codec, gop)


def write(path: Path, frames: list[np.ndarray], fmt: str, codec: str = "mpeg4", gop: int = 12) -> Path:
    """The frames in the container ``fmt`` ("mp4", "matroska", "avi") at 30 fps (frame i at
    i/30 s), a key frame every ``gop`` frames. FFmpeg's Matroska muxer starts a cluster at each
    key frame; its AVI muxer writes the index ('idx1') at the end."""
    import av

    with av.open(str(path), "w", format=fmt) as c:
        s = c.add_stream(codec, rate=RATE)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.codec_context.gop_size = gop
        for i, img in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(img, format="bgr24")
            vf.pts = i
            vf.time_base = fractions.Fraction(1, RATE)
            for pkt in s.encode(vf):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def packets(path: Path) -> list[tuple[int, int, int]]:
    """(frame number, byte offset, size) of every video packet, in file order."""
    import av

    out = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        for pkt in c.demux(s):
            if pkt.size and pkt.pos is not None and pkt.pts is not None:
                out.append((round(float(pkt.pts * s.time_base) * RATE), int(pkt.pos), int(pkt.size)))
    return out


def damage(src: Path, dst: Path, frames: range, seed: int = 7) -> Path:
    """A copy of ``src`` whose packets for ``frames`` are overwritten with random bytes (the
    container's index still points at them: a hole in the data, not a cut)."""
    data = bytearray(src.read_bytes())
    rng = random.Random(seed)
    for frame, pos, size in packets(src):
        if frame in frames:
            data[pos : pos + size] = bytes(rng.randrange(256) for _ in range(size))
    dst.write_bytes(bytes(data))
    return dst


def damage_avi_chunks(src: Path, dst: Path, frames: range, seed: int = 7) -> Path:
    """A copy of the AVI ``src`` whose chunk headers (the 8 bytes naming each frame's chunk and
    its size) for ``frames`` are overwritten with junk: FFmpeg's demuxer no longer finds those
    chunks reading the file in order."""
    data = bytearray(src.read_bytes())
    rng = random.Random(seed)
    for frame, pos, _ in packets(src):
        if frame in frames:  # an AVI packet's position is its data, after the chunk header
            data[pos - 8 : pos] = bytes(rng.randrange(256) for _ in range(8))
    dst.write_bytes(bytes(data))
    return dst


def without_avi_index(src: Path, dst: Path) -> Path:
    """A copy of the AVI ``src`` without its index ('idx1', written last): as a recording that
    stopped before its end leaves it, and as some cameras write it."""
    data = bytearray(src.read_bytes())
    at = data.rfind(b"idx1")
    assert at > 0, "no idx1 index in the AVI"
    data = data[:at]
    data[4:8] = (len(data) - 8).to_bytes(4, "little")  # the RIFF size
    dst.write_bytes(bytes(data))
    return dst


def matroska_clusters(path: Path) -> list[int]:
    """Byte offsets of a Matroska file's clusters (its blocks of frames, each from a key frame)."""
    data = path.read_bytes()
    out, at = [], data.find(_CLUSTER)
    while at >= 0:
        out.append(at)
        at = data.find(_CLUSTER, at + 1)
    return out


_CLUSTER = bytes.fromhex("1f43b675")  # the Matroska Cluster element's ID
