"""Frames from a video file (MP4, MOV, MKV, WebM, GIF…) through PyAV, with container timestamps.

``t`` is the frame's presentation time (pts × time_base), so a GIF's per-frame durations and a
phone's variable-frame-rate clip are honoured instead of assuming a fixed rate. Unreadable,
empty, truncated or still-image files raise :class:`SourceError` with a one-line reason.

A clock that stops or restarts (every pts 0; clips joined with ``cat a.ts b.ts``) is not a
clock: from the frame where it happens the frames are timed at the nominal rate, and
:attr:`VideoFileSource.retimed` says so. The rule: a frame whose time does not move forward
while the next frame's does not either (the clock carries on from the lower time, or stays
stuck). A single frame out of step, with the clock going on as before, is a glitch: it keeps
its time and the reader skips it.

A damaged packet in the middle of the file (a bad sector, a copy with a hole in it) costs the
frames it held, not the rest of the run: a packet the decoder refuses, or a frame it marks as
corrupt, is left out and decoding goes on. The frames after it keep their own timestamps, so
the frames lost stay a gap in time, and :attr:`VideoFileSource.damaged` says at the end how many
frames and which stretch of the video were lost. Damage that nothing decodes after (a corrupt
tail) ends the video with a :class:`SourceError` naming the frame it starts at, as before.

Containers lose frames in their own ways. FFmpeg's Matroska demuxer skips a damaged block to
the next cluster (a key frame) without a word: a jump in time over 1.5 frames onto a key frame
is counted as frames lost. A Matroska file announces its length, not a frame count, so one that
stops early (cut off, or damage the demuxer does not read past) says in :attr:`cut_short` at
which second of that length it stopped. FFmpeg numbers an AVI's frames as it reads its chunks,
so a chunk lost to damage would close up the time over it: an AVI is read in the order of its
index (written last), which numbers every frame; one without an index says in :attr:`damaged`
where the demuxer skipped damaged bytes and that the time after runs early (nothing can place
the frames lost there), instead of calling the shortfall "cut short".

``warn_damage`` (a station reading a file as its camera): each damaged stretch is also logged as
one warning line as it is read, on the first pass through the file only.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from device.camera.base import Frame, FrameSource
from device.errors import SourceError

log = logging.getLogger(__name__)

# Demuxers that open a single picture: a JPEG/PNG renamed .mp4 opens "successfully" as one.
_STILL_IMAGE_FORMATS = {"image2", "jpeg_pipe", "png_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe", "gif_pipe"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _secs(t: float) -> str:
    """A time in the video for a person: 0.07 s, 1.40 s, 83.4 s."""
    return f"{t:.2f} s" if t < 10 else f"{t:.1f} s"


def _announced_duration(container: Any, stream: Any) -> tuple[float, float]:
    """(seconds of video, start time in seconds) a Matroska/WebM header announces; (0, 0) when
    it announces none, or for another format (those announce a frame count, or estimate their
    length from the bit rate: not a promise to hold the file to)."""
    if not container.format.name.startswith("matroska"):
        return 0.0, 0.0
    start = container.start_time / 1e6 if container.start_time else 0.0
    tag = next((v for k, v in stream.metadata.items() if k.upper() == "DURATION"), None)
    if tag:  # the track's own length, written by FFmpeg's muxer: HH:MM:SS.fraction
        try:
            h, m, sec = str(tag).split(":")
            return int(h) * 3600 + int(m) * 60 + float(sec), start
        except ValueError:
            pass
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base), start
    return (container.duration / 1e6 if container.duration else 0.0), start


def _incomplete_mp4(path: Path) -> bool:
    """An MP4/MOV whose pictures (the 'mdat' box) are there but whose index (the 'moov' box) is
    not, and whose last box runs to or past the end of the file: phones and most cameras write
    the index last, so the file was cut off before its end (a copy that did not finish, a
    recording that stopped abruptly). A file whose boxes turn to junk part-way is damaged, not
    cut off: False."""
    seen: set[bytes] = set()
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            pos = 0
            while pos + 8 <= size:
                fh.seek(pos)
                head = fh.read(16)
                box_size, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if not all(0x20 <= c < 0x7F for c in kind) or (pos == 0 and kind != b"ftyp"):
                    return False  # not (or no longer) a box structure
                seen.add(kind)
                if box_size == 1 and len(head) == 16:  # a 64-bit size follows the type
                    box_size = int.from_bytes(head[8:16], "big")
                if box_size == 0:  # the box runs to the end of the file
                    break
                if box_size < 8:
                    return False
                pos += box_size
    except OSError:
        return False
    return b"ftyp" in seen and b"mdat" in seen and b"moov" not in seen


class _DecodeLog:
    """One pass through the file: the packets given to the decoder and the frames it gave
    back, so that what damage cost is known by frame and by time.

    ``step``: a frame's length in the stream's time base, for a demuxer that skips damaged data
    without a word (Matroska: it resyncs at the next cluster, a key frame): a jump in time over
    1.5 frames onto a key frame is frames lost, not a pause. ``chunks``: an AVI's frames are
    chunks laid end to end (with other streams' chunks, padding and lists between, each starting
    with a four-letter name), so a chunk that does not start where the last one ended, over bytes
    that do not start with such a name, means the demuxer skipped damaged bytes (it counts
    frames, so without an index the frames lost there close up in time). ``chunks`` is the file
    to look at those bytes in."""

    def __init__(self, step: float | None = None, chunks: Path | None = None) -> None:
        self.sent: list[int] = []  # pts of every packet with data (in stream time_base)
        self.order: list[int] = []  # the same, sorted
        self.got: set[int] = set()  # pts of every frame handed out
        self.failed = 0  # packets the decoder refused, frames it marked corrupt
        self.no_pts = False  # a packet or frame without a pts: losses counted, not timed
        self.frames_out = 0
        self.frames_since_failure = 0
        self.detail: str | None = None  # the decoder's own words for the first failure
        self.step = step
        self.keys: set[int] = set()  # pts of key-frame packets (where a Matroska resync lands)
        self.unseen = 0  # frames the demuxer skipped without a word (by the jump in time)
        self._prev: int | None = None  # pts of the frame handed out last
        self.chunks = chunks
        self._chunk_end: int | None = None  # where the next AVI chunk should start
        self._last_sent: int | None = None
        #: pts of the last packet before each place the demuxer skipped damaged bytes (AVI)
        self.skips: list[int] = []

    def chunk(self, pkt: Any) -> None:
        """Any stream's packet of an AVI, read in file order: did the demuxer skip bytes before
        it? (An AVI packet's position is its data, after an 8-byte header.)"""
        if self.chunks is None or pkt.pos is None or pkt.pos < 0 or not pkt.size:
            return
        pos, end = int(pkt.pos), self._chunk_end
        if end is not None and pos > end and self._last_sent is not None and not self._chunk_at(end - 8):
            self.skips.append(self._last_sent)
        self._chunk_end = pos + pkt.size + (pkt.size & 1) + 8  # the next chunk's data, after its header

    def packet(self, pkt: Any) -> None:
        if not pkt.size or pkt.is_discard:
            return
        if pkt.pts is None:
            self.no_pts = True
        else:
            q = int(pkt.pts)
            self.sent.append(q)
            bisect.insort(self.order, q)
            self._last_sent = q
            if pkt.is_keyframe:
                self.keys.add(q)

    def _chunk_at(self, pos: int) -> bool:
        """Does an AVI chunk (a four-letter name: another stream's, padding, a list) start at pos?"""
        assert self.chunks is not None
        try:
            with open(self.chunks, "rb") as fh:
                fh.seek(pos)
                name = fh.read(4)
        except OSError:
            return True  # cannot tell: not called damage
        return len(name) == 4 and all(
            48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c == 32 for c in name
        )

    def failure(self, detail: str) -> None:
        self.failed += 1
        self.frames_since_failure = 0
        if self.detail is None:
            self.detail = detail

    def frame(self, vf: Any) -> list[int]:
        """Count a frame handed out; the pts of the frames lost just before it (a stretch of
        damage, said as it happens on a live station), or []."""
        self.frames_out += 1
        self.frames_since_failure += 1
        if vf.pts is None:
            self.no_pts = True
            return []
        q, prev = int(vf.pts), self._prev
        self.got.add(q)
        self._prev = q
        if prev is None or q <= prev:
            return []
        # frames come out in time order: a packet between the last frame and this one that
        # gave no frame was lost
        between = self.order[bisect.bisect_right(self.order, prev) : bisect.bisect_left(self.order, q)]
        lost = [p for p in between if p not in self.got]
        if self.step and q in self.keys and q - prev > 1.5 * self.step:
            slots = [round(prev + k * self.step) for k in range(1, round((q - prev) / self.step))]
            unseen = [p for p in slots if all(abs(p - b) > self.step / 2 for b in between)]
            for p in unseen:
                self.sent.append(p)
                bisect.insort(self.order, p)
            self.unseen += len(unseen)
            lost = sorted(lost + unseen)
        return lost

    def lost(self) -> tuple[list[int], list[int]]:
        """(pts of frames lost between decoded ones, pts of frames lost after the last decoded
        one): by timestamp, so a decoder working on several frames at once (which reports a
        failure a few packets late) does not blur where the loss was."""
        last = max(self.got) if self.got else None
        missing = sorted(set(self.sent) - self.got)
        inside = [q for q in missing if last is not None and q < last]
        return inside, [q for q in missing if last is None or q > last]


#: The gap put between two takes joined in one file (its clock starts again): longer than any
#: gap the analysis bridges (device.gait.analysis.MAX_TIME_GAP_S), so it never reads the two
#: as one run.
TAKE_GAP_S = 10.0


class VideoFileSource(FrameSource):
    """Every frame of a video file in order. ``loop``: restart at the end with times continuing
    (a demo on a dev machine); otherwise :meth:`read` returns None at the end."""

    is_live = False

    def __init__(self, path: str | Path, loop: bool = False, warn_damage: bool = False) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.loop = loop
        #: Log one warning line per damaged stretch as it is read (a live station's source: no
        #: one reads the summary at the end); otherwise the caller says :attr:`damaged` once.
        self.warn_damage = warn_damage
        self._container: Any = None
        self._stream: Any = None
        self._frames: Iterator[Any] | None = None
        self._size = (0, 0)
        self._fps = 0.0
        self._index = 0
        self._loop_offset = 0.0
        self._last_t = -np.inf
        self._rotation = 0
        self._pending: Any = None
        self._pending_error: SourceError | None = None
        self._base_pts: float | None = None
        #: (frame index, time) from which frames are timed at the nominal rate; None: by pts.
        self._nominal_from: tuple[int, float] | None = None
        #: Added to the pts after the clock started again (clips joined): keeps takes apart.
        self._offset = 0.0
        #: Set when the file's clock stopped or restarted and frames were timed at the nominal rate.
        self.retimed: str | None = None
        #: Set at the end when damaged frames in the middle of the file were left out (one line:
        #: how many, and the stretch of video lost); ``frames_damaged`` is their number.
        self.damaged: str | None = None
        self.frames_damaged = 0
        #: Frames the container says it holds (0 when unknown): for progress bars.
        self.frame_count = 0
        #: Set at the end when the file held fewer frames, or a shorter stretch of time, than its
        #: header announces and the frames are missing at its end (cut short, or a demuxer that
        #: stopped at damage).
        self.cut_short: str | None = None
        self._duration = 0.0  # seconds from the start the header announces (0: unknown)
        self._start_s = 0.0
        self._log: _DecodeLog | None = None
        self._passes = 0
        self._ended = False
        #: Container/stream metadata tags (e.g. a phone's capture-rate tag for slow motion).
        self.metadata: dict[str, str] = {}

    # -- FrameSource ---------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def nominal_fps(self) -> float:
        return self._fps

    def open(self) -> None:
        import av

        p = self.path
        if not p.exists():
            raise SourceError(f"{p}: no such file")
        if p.is_dir():
            raise SourceError(f"{p}: is a folder, not a video file")
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise SourceError(f"{p}: cannot read ({_first_line(exc)})") from None
        if size == 0:
            raise SourceError(f"{p}: the file is empty (0 bytes)")
        try:
            container = av.open(str(p), mode="r")
            if container.format.name == "avi":
                # FFmpeg reads an AVI chunk after chunk and numbers the frames as it goes, so a
                # chunk lost to damage closes up the time over it. With the index at the end of
                # the file read as the order (sortdts), each frame keeps its own number.
                container.close()
                container = av.open(str(p), mode="r", options={"fflags": "+sortdts"})
        except PermissionError:
            raise SourceError(f"{p}: permission denied") from None
        except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
            if _incomplete_mp4(p):
                raise SourceError(
                    f"{p}: the video file is incomplete: it was probably cut off before its end (a copy "
                    "that did not finish, or a recording that stopped abruptly); copy it again from the original"
                ) from None
            raise SourceError(f"{p}: not a video file this station can read ({_first_line(exc)})") from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"{p}: has no video stream")
        if container.format.name in _STILL_IMAGE_FORMATS:
            container.close()
            raise SourceError(f"{p}: is a still image ({container.format.name}), not a video")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            container.close()
            raise SourceError(f"{p}: the video stream has no picture size (corrupt header?)")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self._fps = float(rate) if rate else 0.0
        self.frame_count = int(stream.frames or 0)
        self._duration, self._start_s = _announced_duration(container, stream)
        self.metadata = {**dict(container.metadata), **dict(stream.metadata)}
        self._container, self._stream = container, stream
        self._size = (int(width), int(height))
        self._start()
        # Decode the first frame now: a file that cannot be decoded fails at open with a clear
        # message, and a phone's display rotation is known before anyone asks for the size.
        first = self._next_decoded()
        if first is None:
            self.close()
            raise SourceError(f"{p}: the video has no decodable frames")
        # getattr: VideoFrame.rotation is newer than some PyAV versions our range allows (av>=12)
        self._rotation = int(getattr(first, "rotation", 0) or 0) % 360
        if self._rotation in (90, 270):
            self._size = (int(height), int(width))
        self._pending = first

    def _start(self) -> None:
        self._frames = self._decode()

    def _decode(self) -> Iterator[Any]:
        """The stream's frames in order. A packet the decoder refuses, or a frame it marks as
        corrupt, is left out and decoding goes on; at the end, :meth:`_end_of_pass` says what
        was lost (or raises when nothing decoded after the damage)."""
        import av

        stream = self._stream
        # a Matroska file at a steady camera rate (not a rate FFmpeg guessed from a millisecond clock)
        steady = self._container.format.name.startswith("matroska") and 0 < self._fps <= 240
        step = float(1 / (stream.time_base * self._fps)) if steady and stream.time_base else None
        log_ = _DecodeLog(step=step, chunks=self.path if self._container.format.name == "avi" else None)
        self._log = log_
        self._passes += 1
        # stretches of frames that gave no picture, said as warnings once the decoder has refused
        # something (a packet that gives no picture by design, e.g. a DivX placeholder, is no loss)
        held: list[list[int]] = []
        # an AVI: every stream's packets, to see where the demuxer skipped damaged bytes
        packets = self._container.demux() if log_.chunks is not None else self._container.demux(stream)
        while True:
            try:
                pkt = next(packets)
            except StopIteration:
                break
            except (av.FFmpegError, OSError, ValueError) as exc:
                # the container itself is damaged from here on: no packets to go on with
                log_.failure(_first_line(exc))
                self._end_of_pass(log_, container_broken=True)
                return
            log_.chunk(pkt)
            if pkt.stream is not stream:
                continue
            log_.packet(pkt)
            try:
                decoded = pkt.decode()
            except (av.FFmpegError, OSError, ValueError) as exc:
                log_.failure(_first_line(exc))
                continue
            for vf in decoded:
                if vf.is_corrupt:
                    log_.failure("the decoder marked a frame as corrupt")
                    continue
                lost = log_.frame(vf)
                if lost and self.warn_damage and self._passes == 1:
                    held.append(lost)
                if held and (log_.failed or log_.unseen):
                    for stretch in held:
                        log.warning("%s", self._damage_line(stretch, log_.sent, len(stretch)))
                    held.clear()
                yield vf
        self._end_of_pass(log_, container_broken=False)

    def _end_of_pass(self, log_: _DecodeLog, container_broken: bool) -> None:
        """What damage cost this pass, said once: the frames lost between decoded ones in
        :attr:`damaged`; damage that nothing decoded after raises, as a corrupt tail always
        has (the frames before it are kept by whoever reads)."""
        if not log_.failed and not log_.unseen:
            return
        if log_.detail:
            log.debug("%s: decoding failed %d time(s), first: %s", self.name, log_.failed, log_.detail)
        if not log_.frames_out:
            raise SourceError(f"{self.path}: cannot decode the video (the file is damaged)")
        if log_.no_pts:  # no timestamps to place the loss: count it
            inside: list[int] = []
            tail = container_broken or log_.frames_since_failure == 0
            lost_inside = log_.failed if not tail else 0
        else:
            inside, after = log_.lost()
            tail = container_broken or bool(after)
            lost_inside = len(inside)
        if lost_inside and self.damaged is None:
            self.frames_damaged = lost_inside
            self.damaged = self._damage_line(inside, log_.sent, lost_inside)
            log.debug("%s", self.damaged)
        if tail:
            tb = self._stream.time_base if self._stream is not None else None
            at = f" ({_secs(self._time_of(max(log_.got), tb))} into the video)" if log_.got and tb else ""
            raise SourceError(
                f"{self.path}: the video is damaged after frame {log_.frames_out}{at} and nothing "
                "after that could be decoded"
            )

    def _damage_line(self, lost: list[int], sent: list[int], n: int) -> str:
        """One line: how many frames were lost, in how many places, and where in the video."""
        frames = (
            f"{n} frame{'s' if n != 1 else ''} could not be read and {'are' if n != 1 else 'is'} left out"
        )
        if not lost or self._stream is None or self._stream.time_base is None:
            return f"{self.path}: the video is damaged: {frames}"
        tb = self._stream.time_base
        order = sorted(set(sent))
        pos = {q: i for i, q in enumerate(order)}
        step = self._step()

        def duration(q: int) -> float:
            i = pos[q]
            return float((order[i + 1] - q) * tb) if i + 1 < len(order) else step

        places = 1 + sum(1 for a, b in zip(lost, lost[1:], strict=False) if pos[b] != pos[a] + 1)
        missing_s = sum(duration(q) for q in lost)
        start, end = self._time_of(lost[0], tb), self._time_of(lost[-1], tb) + duration(lost[-1])
        where = (
            f"between {_secs(start)} and {_secs(end)}"
            if places == 1
            else f"in {places} places between {_secs(start)} and {_secs(end)}"
        )
        return f"{self.path}: the video is damaged: {frames} ({_secs(missing_s)} of the video is missing, {where})"

    def _next_decoded(self) -> Any | None:
        import av

        assert self._frames is not None
        try:
            return next(self._frames)
        except StopIteration:
            return None
        except (av.FFmpegError, OSError, ValueError) as exc:  # not from a packet: say so plainly
            log.debug("%s: decoding failed: %s", self.name, _first_line(exc))
            if self._index == 0:
                raise SourceError(f"{self.path}: cannot decode the video (the file is damaged)") from None
            raise SourceError(f"{self.path}: the video is damaged after frame {self._index}") from None

    def _peek(self) -> Any | None:
        """The next decoded frame without consuming it (None at the end, or when it fails to
        decode: that failure is raised by the read that would have returned it)."""
        if self._pending is None and self._pending_error is None:
            try:
                self._pending = self._next_decoded()
            except SourceError as exc:
                self._pending_error = exc
        return self._pending

    def read(self) -> Frame | None:
        if self._container is None:
            raise SourceError(f"{self.path}: read before open")
        if self._pending is None and self._pending_error is not None:
            exc, self._pending_error = self._pending_error, None
            raise exc
        vf, self._pending = (
            (self._pending, None) if self._pending is not None else (self._next_decoded(), None)
        )
        if vf is None and self.loop and self._index > 0:
            self._loop_offset = self._last_t + (1.0 / self._fps if self._fps else 0.04)
            self._container.seek(0)
            self._start()
            self._base_pts = None
            vf = self._next_decoded()
        if vf is None:
            if self._index == 0:
                raise SourceError(f"{self.path}: the video has no decodable frames")
            self._at_end()
            return None
        t = self._frame_time(vf)
        image = vf.to_ndarray(format="bgr24")
        if self._rotation:
            image = _rotate(image, self._rotation)
        frame = Frame(image=image, t=t, index=self._index)
        self._index += 1
        self._last_t = t
        return frame

    def _at_end(self) -> None:
        """The file held less than its header announces: frames lost where the demuxer skipped
        damaged bytes (an AVI without an index), or missing at the end: cut short (a copy
        stopped half-way), or a demuxer that stopped at damage without a word (Matroska). Whoever
        reads the analysis must know what it covers."""
        if self._ended:  # said once, however often read() is asked again
            return
        self._ended = True
        held = self._index + self.frames_damaged
        missing = self.frame_count - held if self.frame_count else 0
        skips = self._log.skips if self._log is not None else []
        if missing > 0 and skips and self._stream is not None and self._stream.time_base is not None:
            self._skipped_in_avi(missing, skips)
        elif self.frame_count and held < self.frame_count - max(2, 0.02 * self.frame_count):
            self.cut_short = (
                f"{self.path}: the video ends after {self._index} of the {self.frame_count} "
                "frames its header announces (the file was cut short)"
            )
        elif not self.frame_count and self._duration and self._nominal_from is None and not self._offset:
            end = self._last_t + self._step() - self._start_s
            if self._duration - end > max(0.5, 3 * self._step(), 0.02 * self._duration):
                self.cut_short = (
                    f"{self.path}: the video stops at {_secs(end)} of the {_secs(self._duration)} its "
                    "header announces: the rest could not be read (the file was cut short or is damaged)"
                )
        if self.cut_short and self.warn_damage:
            log.warning("%s", self.cut_short)

    def _skipped_in_avi(self, missing: int, skips: list[int]) -> None:
        """An AVI without an index (its index is written last) whose demuxer skipped damaged
        chunks: FFmpeg numbers the frames as it reads them, so the frames lost are not a gap in
        time: the video after the first place is timed early by up to what was lost."""
        assert self._stream is not None
        tb = self._stream.time_base
        places = sorted({self._time_of(q, tb) + self._step() for q in skips})
        if len(places) > 3:
            at = f"in {len(places)} places between {_secs(places[0])} and {_secs(places[-1])}"
        else:
            at = (
                "at "
                + ", ".join(_secs(t) for t in places[:-1])
                + (" and " if len(places) > 1 else "")
                + _secs(places[-1])
            )
        s = "s" if missing != 1 else ""
        clause = (
            f"{missing} frame{s} could not be read and {'are' if s else 'is'} left out (lost {at}); "
            f"this AVI file has no index to place {'them' if s else 'it'}, so the video after {_secs(places[0])} is timed "
            f"up to {_secs(missing * self._step())} early"
        )
        self.damaged = (
            f"{self.damaged}; and {clause}"
            if self.damaged
            else f"{self.path}: the video is damaged: {clause}"
        )
        self.frames_damaged += missing
        if self.warn_damage:
            log.warning("%s", self.damaged)

    def _frame_time(self, vf: Any) -> float:
        if self._nominal_from is not None:
            return self._nominal_time()
        t = self._pts_time(vf)
        if t is None:  # no pts (rare raw streams): continue at the nominal rate
            return 0.0 if self._index == 0 else self._last_t + self._step()
        t += self._offset
        if self._index > 0 and t <= self._last_t and self._clock_broken():
            raw = t - self._offset
            nxt = self._pts_time(self._pending) if self._pending is not None else None
            if nxt is not None and nxt > raw:
                # the clock runs on from a lower time: another take joined on (cat a.ts b.ts).
                # Nothing says the motion runs on too: the parts stay apart, as separate takes
                self._offset = self._last_t + TAKE_GAP_S - raw
                self.retimed = (
                    f"{self.path}: the video's clock starts again at frame {self._index} (clips "
                    "joined?): its parts are kept apart as separate takes"
                )
                return raw + self._offset
            self._nominal_from = (self._index - 1, self._last_t)
            self.retimed = (
                f"{self.path}: the video's timestamps stand still at frame {self._index} "
                f"(a damaged file, or a muxer that wrote no clock): timed from there at "
                f"{1.0 / self._step():g} fps"
            )
            return self._nominal_time()
        return t

    def _pts_time(self, vf: Any) -> float | None:
        if vf.pts is None or vf.time_base is None:
            return None
        return self._time_of(vf.pts, vf.time_base)

    def _time_of(self, pts: int, time_base: Any) -> float:
        t = float(pts * time_base)
        if self.loop:
            if self._base_pts is None:
                self._base_pts = t
            t = t - self._base_pts + self._loop_offset
        return t

    def _clock_broken(self) -> bool:
        """After a frame that did not move forward: does the next one fail to as well? (A lone
        glitch is followed by the clock going on past the last good time.)"""
        nxt = self._peek()
        t = self._pts_time(nxt) if nxt is not None else None
        return nxt is not None and (t is None or t + self._offset <= self._last_t)

    def _nominal_time(self) -> float:
        assert self._nominal_from is not None
        index, t = self._nominal_from
        return t + (self._index - index) * self._step()

    def _step(self) -> float:
        return 1.0 / self._fps if self._fps else 1.0 / 30.0

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = None
        self._stream = None
        self._frames = None


def _rotate(image: np.ndarray, degrees: int) -> np.ndarray:
    """Apply a phone's display rotation so the runner is upright."""
    import cv2

    # PyAV reports the counter-clockwise rotation of the display matrix.
    code = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}.get(
        degrees
    )
    return image if code is None else cv2.rotate(image, code)
