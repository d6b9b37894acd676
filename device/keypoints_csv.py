"""Read and write the keypoint timeline CSV (``shared/docs/keypoints-csv.md``).

Columns: ``t``, then ``<name>_x, <name>_y, <name>_score`` for the 17 keypoints in canonical
order, then optional trailing columns (we write ``frame``; readers ignore what they don't know).
An unseen keypoint has empty x and y and score 0.
"""

from __future__ import annotations

import csv
import io
import math
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import numpy as np

from device.errors import UserError
from device.keypoints import KEYPOINT_NAMES, KP, N_KEYPOINTS, Timeline

HEADER: tuple[str, ...] = ("t",) + tuple(
    f"{name}_{part}" for name in KEYPOINT_NAMES for part in ("x", "y", "score")
)


#: Every x and y within these bounds: fractions of the frame, not pixels (a runner in pixels
#: cannot fit in the frame's top-left 1.5-pixel corner; fractions may stray a little outside
#: 0–1 for a keypoint guessed just beyond the edge of the picture).
NORMALISED_RANGE = (-0.5, 1.5)
#: A runner upside down in more than this share of the frames showing the head (or shoulders),
#: hips and ankles, and in at least MIN_BODY_FRAMES of them, is a file whose y points up.
UPSIDE_DOWN_SHARE = 0.5
MIN_BODY_FRAMES = 5
#: A confidence outside these is not a 0–1 score (the small margins allow for rounding).
MIN_SCORE = -0.001
MAX_SCORE = 1.001
#: A position beyond this many pixels from the frame's corner is in no camera's picture (an 8K
#: frame is 7 680 px wide): a broken writer, which the analysis would mislabel ("two people").
MAX_PIXELS = 100_000.0
REORDERED_SHARE = 0.02  # more rows than this going back in time: the file was reordered, sort it
MAX_DROPPED_SHARE = 0.10  # more rows than this without a usable time: refuse the file
#: Up to this many rows in a row out of time order are a glitch (left out); more, in order among
#: themselves and at times already passed, are a clock that restarted (the file is refused).
MAX_GLITCH_ROWS = 3
#: The most data rows a file may have, and why: a capture is about 2 minutes (≈15 000 rows at
#: 120 fps); a file 15 times longer is not one run, and its numbers alone would crowd a 1 GB Pi.
MAX_ROWS = 30 * 60 * 120
MAX_ROWS_WHY = "30 minutes at 120 fps"


class KeypointCSVError(UserError):
    """The file is not a usable keypoint timeline CSV (message says where and why)."""


def _fmt(v: float, nd: int) -> str:
    return "" if not math.isfinite(v) else f"{v:.{nd}f}"


def write_csv(timeline: Timeline, dest: str | Path | IO[str]) -> None:
    """Write ``timeline`` as a keypoint CSV to a path or a text stream."""
    if isinstance(dest, str | Path):
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            write_csv(timeline, fh)
        return
    w = csv.writer(dest, lineterminator="\n")
    w.writerow((*HEADER, "frame"))
    for i in range(len(timeline)):
        row = [f"{timeline.t[i]:.5f}"]
        for k in range(N_KEYPOINTS):
            x, y = float(timeline.xy[i, k, 0]), float(timeline.xy[i, k, 1])
            s = float(timeline.score[i, k])
            seen = math.isfinite(x) and math.isfinite(y)
            row += [_fmt(x, 2), _fmt(y, 2), f"{s if seen else 0.0:.3f}"]
        row.append(str(int(timeline.frame[i])))
        w.writerow(row)


def timeline_to_csv_text(timeline: Timeline) -> str:
    buf = io.StringIO()
    write_csv(timeline, buf)
    return buf.getvalue()


def _num(text: str, name: str, line: int, col: str) -> float:
    if text == "" or text.strip() == "":
        return math.nan
    try:
        v = float(text)
    except ValueError:
        raise KeypointCSVError(f"{name}: line {line}: column {col} is not a number: {text[:20]!r}") from None
    return v


#: Rows turned into numbers at a time: memory holds the numbers as float32 arrays, never a
#: whole file of Python floats (a 2-million-row file took 12 GB that way).
_CHUNK_ROWS = 4096


@dataclass
class _Rows:
    """The data rows with a usable ``t``, in file order, and the lines of those without."""

    line: np.ndarray  # (n,) int64: the file's line of each row
    t: np.ndarray  # (n,) float64
    values: np.ndarray  # (n, 51) float32: x, y, score of each keypoint, NaN where empty
    frame: np.ndarray  # (n,) float64: the frame column, NaN where absent or not a number
    no_time: list[int]
    infinite_points: int  # keypoints whose x or y is written as infinite (read as unseen)
    first_infinite_line: int | None


#: Where the x and y, and the scores, are among the 51 values of a row.
_XY = [j for j, h in enumerate(HEADER[1:]) if not h.endswith("_score")]
_SCORES = [j for j, h in enumerate(HEADER[1:]) if h.endswith("_score")]


def _records(reader: Any, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-blank data row; refuses a file beyond :data:`MAX_ROWS`."""
    n = 0
    for rec in reader:
        if not "".join(rec).strip():
            continue
        n += 1
        if n > MAX_ROWS:
            raise KeypointCSVError(
                f"{name}: line {reader.line_num}: more than {MAX_ROWS} rows ({MAX_ROWS_WHY}): "
                "not one capture (a capture is a few minutes); cut the file to the run"
            )
        yield reader.line_num, rec  # the file's line (a quoted cell may span several)


def _numbers(chunk: list[tuple[int, list[str]]], name: str, width: int, cols: list[int]) -> np.ndarray:
    """(rows, 52) float64: t and the 51 values of each record (NaN for an empty cell)."""
    pick = itemgetter(*cols)
    try:  # the usual file: every cell a number or empty, every row complete
        flat = [float(c) if c else math.nan for _, rec in chunk for c in pick(rec)]
    except (ValueError, IndexError):  # one cell at a time, to name the line and column at fault
        flat = []
        for line_no, rec in chunk:
            if len(rec) < width:
                rec = rec + [""] * (width - len(rec))
            t = _num(rec[cols[0]], name, line_no, "t")
            if not math.isfinite(t):  # the row is dropped: its other cells are not read
                flat += [t] + [math.nan] * (len(cols) - 1)
                continue
            flat += [t, *(_num(rec[c], name, line_no, HEADER[j + 1]) for j, c in enumerate(cols[1:]))]
    return np.array(flat, dtype=np.float64).reshape(len(chunk), len(cols))


def _frame_number(text: str) -> float:
    try:
        return float(int(float(text)))
    except (ValueError, OverflowError):  # not a number, or infinite
        return math.nan


def _parse_rows(reader: Any, name: str, header: list[str], cols: list[int], frame_col: int | None) -> _Rows:
    lines: list[np.ndarray] = []
    times: list[np.ndarray] = []
    values: list[np.ndarray] = []
    frames: list[np.ndarray] = []
    no_time: list[int] = []
    infinite, first_infinite = 0, None
    records = _records(reader, name)
    while chunk := list(islice(records, _CHUNK_ROWS)):
        num = _numbers(chunk, name, len(header), cols)
        timed = np.isfinite(num[:, 0])
        line = np.array([ln for ln, _ in chunk], dtype=np.int64)
        no_time += line[~timed].tolist()
        _require_positions_and_scores(num[timed, 1:], line[timed], name)
        inf = np.isinf(num[timed][:, 1:][:, _XY]).reshape(-1, N_KEYPOINTS, 2).any(axis=2)
        if inf.any():
            infinite += int(inf.sum())
            first_infinite = first_infinite or int(line[timed][inf.any(axis=1)][0])
        lines.append(line[timed])
        times.append(num[timed, 0])
        values.append(num[timed, 1:].astype(np.float32))
        if frame_col is None:
            frames.append(np.full(int(timed.sum()), np.nan))
        else:
            fr = [_frame_number(rec[frame_col]) if len(rec) > frame_col else math.nan for _, rec in chunk]
            frames.append(np.array(fr)[timed])
    if not lines:
        return _Rows(
            np.zeros(0, np.int64),
            np.zeros(0),
            np.zeros((0, 3 * N_KEYPOINTS), np.float32),
            np.zeros(0),
            no_time,
            0,
            None,
        )
    return _Rows(
        np.concatenate(lines),
        np.concatenate(times),
        np.concatenate(values),
        np.concatenate(frames),
        no_time,
        infinite,
        first_infinite,
    )


def _pixels(v: float) -> str:
    return f"{v:.0f}" if abs(v) < 1e9 else f"{v:.3g}"


def _require_positions_and_scores(values: np.ndarray, line: np.ndarray, name: str) -> None:
    """Refuse, naming the first line at fault, a position in no camera's picture or a negative
    score: clipped to 0 or kept, they were analysed as something they are not."""
    xy = values[:, _XY]
    with np.errstate(invalid="ignore"):
        far = np.isfinite(xy) & (np.abs(xy) > MAX_PIXELS)
    if far.any():
        r, c = np.argwhere(far)[0]
        raise KeypointCSVError(
            f"{name}: line {line[r]}: {HEADER[1 + _XY[c]]} is {_pixels(xy[r, c])}, far outside any camera frame "
            f"(beyond ±{MAX_PIXELS:.0f} px): the CSV needs pixel positions in the camera frame"
        )
    score = values[:, _SCORES]
    with np.errstate(invalid="ignore"):
        negative = score < MIN_SCORE
    if negative.any():
        r, c = np.argwhere(negative)[0]
        raise KeypointCSVError(
            f"{name}: line {line[r]}: {HEADER[1 + _SCORES[c]]} is {score[r, c]:g}: the CSV needs "
            "confidences between 0 and 1 (an unseen keypoint has empty x and y and score 0)"
        )


def _first_non_utf8_line(path: Path) -> int | None:
    """The line number of the first line that is not UTF-8 text (None if it cannot be told)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    for n, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return n
    return None


def read_csv(src: str | Path | IO[str], name: str | None = None) -> Timeline:
    """Read a keypoint CSV; raise :class:`KeypointCSVError` with a one-line reason if it is unusable.

    Every reason starts with the file's name (``name``; a path's own name by default, "the CSV"
    for a stream without one) and gives the line where one line is at fault.

    Rows whose ``t`` is missing/NaN, rows out of time order (the fewest: a lone row far ahead of
    or behind its neighbours, not every row after it) and repeated times (the first row wins) are
    dropped (counted in ``timeline.meta['dropped_rows']``, their lines in ``dropped_lines``)
    rather than failing the whole file: a recording with one bad timestamp is still worth
    analysing. Exact copies of a row are dropped too (also in ``meta['duplicate_rows']``). A file
    whose rows are out of time order throughout (sorted by another column in a spreadsheet) is
    put back in time order, said in ``timeline.meta['reordered_rows']``: ``t`` is the time of
    each row, the row order is not. A time that goes back and carries on from there (a restarted
    clock, two recordings joined) refuses the file, naming the line; so does more than
    :data:`MAX_DROPPED_SHARE` of the rows unusable: analysing what is left would present a
    fraction of the run as the run. So does a file of more than :data:`MAX_ROWS` rows.

    NaN coordinates count as unseen, and so do infinite ones (counted in
    ``meta['infinite_points']``, the first on ``meta['first_infinite_line']``). A position beyond
    :data:`MAX_PIXELS` or a score below 0 refuses the file, naming the line.
    """
    if isinstance(src, str | Path):
        path = Path(src)
        name = name or path.name
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                return read_csv(fh, name)
        except UnicodeDecodeError:
            line = _first_non_utf8_line(path)
            where = f"line {line} is" if line is not None else "it is"
            raise KeypointCSVError(f"{name}: {where} not UTF-8 text (save the CSV as UTF-8)") from None
    name = name or "the CSV"
    reader = csv.reader(src)
    try:
        header = next(reader)
    except StopIteration:
        raise KeypointCSVError(f"{name}: the CSV is empty (no header row)") from None
    except csv.Error as exc:
        raise KeypointCSVError(f"{name}: line {reader.line_num}: not a readable CSV ({exc})") from None
    header = [h.strip() for h in header]
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    index = {name: i for i, name in enumerate(header)}
    missing = [h for h in HEADER if h not in index]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise KeypointCSVError(f"{name}: line 1: the header lacks {len(missing)} required column(s): {shown}")
    cols = [index[h] for h in HEADER]
    frame_col = index.get("frame")
    try:
        rows = _parse_rows(reader, name, header, cols, frame_col)
    except csv.Error as exc:
        raise KeypointCSVError(f"{name}: line {reader.line_num}: not a readable CSV ({exc})") from None
    n = len(rows.t)
    total = n + len(rows.no_time)
    if not n:
        raise KeypointCSVError(f"{name}: the CSV has a header but no usable rows")
    t = rows.t
    copy = _exact_copies(rows)  # the same row twice: nothing is lost by leaving one out
    distinct = np.flatnonzero(~copy)
    td = t[distinct]
    # A few rows going back in time are glitches (dropped); many are a reordered file (sorted).
    backwards = int(np.count_nonzero(td[1:] <= td[:-1]))
    reordered = backwards > max(2, REORDERED_SHARE * len(distinct))
    if reordered:
        order = distinct[np.argsort(td, kind="stable")]
        ts = t[order]
        keep = order[np.concatenate([[True], ts[1:] > ts[:-1]])]  # of a repeated time, the first row
    else:
        _refuse_restarted_clock(td, rows.line[distinct], name)
        keep = distinct[_longest_in_time_order(td)]
    bad_time = list(rows.no_time) + rows.line[np.setdiff1d(distinct, keep)].tolist()
    total -= int(copy.sum())
    if len(bad_time) > max(2, MAX_DROPPED_SHARE * total):
        raise KeypointCSVError(
            f"{name}: {len(bad_time)} of {total} rows have a missing, repeated or out-of-order time (t), "
            f"the first on line {min(bad_time)}: not a usable timeline (analysing the rest "
            "would misstate the run)"
        )
    dropped_lines = bad_time + rows.line[copy].tolist()
    dropped = len(dropped_lines)
    arr = rows.values[keep].reshape(len(keep), N_KEYPOINTS, 3)
    _require_pixels(arr[:, :, :2], name)
    _require_unit_scores(arr[:, :, 2], name)
    xy = np.ascontiguousarray(arr[:, :, :2])
    score = arr[:, :, 2]
    score = np.where(np.isfinite(score), np.clip(score, 0.0, 1.0), 0.0).astype(np.float32)
    unseen = ~np.isfinite(xy).all(axis=2)
    xy[unseen] = np.nan
    score[unseen] = 0.0
    _require_y_down(xy, name)
    fr = rows.frame[keep]
    frame = np.where(np.isfinite(fr), fr, np.arange(len(keep))).astype(np.int64)
    if np.any(np.diff(frame) <= 0):
        frame = np.arange(len(keep), dtype=np.int64)
    tl = Timeline(t[keep], xy, score, frame)
    tl.meta["dropped_rows"] = dropped
    tl.meta["dropped_lines"] = sorted(dropped_lines)
    tl.meta["reordered_rows"] = backwards if reordered else 0
    tl.meta["duplicate_rows"] = int(copy.sum())
    tl.meta["infinite_points"] = rows.infinite_points
    tl.meta["first_infinite_line"] = rows.first_infinite_line
    return tl


def _exact_copies(rows: _Rows) -> np.ndarray:
    """Rows identical (time, every value, frame) to an earlier row: a writer that wrote a row twice."""
    order = np.argsort(rows.t, kind="stable")  # stable: of two copies, the earlier comes first
    ts = rows.t[order]
    pair = np.flatnonzero(ts[1:] == ts[:-1])
    first, again = order[pair], order[pair + 1]
    a, b = rows.values[first], rows.values[again]
    same = ((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=1)
    fa, fb = rows.frame[first], rows.frame[again]
    same &= (fa == fb) | (np.isnan(fa) & np.isnan(fb))
    copy = np.zeros(rows.t.size, dtype=bool)
    copy[again[same]] = True
    return copy


def _refuse_restarted_clock(t: np.ndarray, line: np.ndarray, name: str) -> None:
    """Refuse a file whose time goes back and carries on from there (rows in time order before
    and after, the later ones at times already passed): a clock that restarted, or two recordings
    joined. Analysed as one, the two runs would pass for one; a lone row out of line is not this."""
    k = MAX_GLITCH_ROWS + 1
    for i in (np.flatnonzero(t[1:] < t[:-1]) + 1).tolist():
        if i < k or i + k > t.size:
            continue
        before, after = t[i - k : i], t[i : i + k]
        in_order = bool(np.all(np.diff(before) > 0) and np.all(np.diff(after) > 0))
        if in_order and after[0] < before[0] and after[-1] < before[-1]:
            raise KeypointCSVError(
                f"{name}: line {line[i]}: the time goes back from {t[i - 1]:.3f} s to {t[i]:.3f} s and "
                "carries on from there: the clock restarted, or two recordings were joined "
                "(analyse each recording as a file of its own)"
            )


def _longest_in_time_order(t: np.ndarray) -> np.ndarray:
    """The rows (indices, ascending) of the longest sequence whose times increase: a lone row far
    ahead of or behind its neighbours is the one left out, not every row after it (a running
    maximum dropped the rest of the file after one row at t = 1e12). Of sequences as long, the
    one of the earliest rows: the first of two rows claiming a moment wins."""
    if t.size < 2 or bool(np.all(t[1:] > t[:-1])):
        return np.arange(t.size)
    ts = t.tolist()
    # from the end: the length of the longest increasing sequence starting at each row
    # (patience sorting of the negated times, read backwards)
    tails: list[float] = []
    from_here = [0] * len(ts)
    for i in range(len(ts) - 1, -1, -1):
        k = bisect_left(tails, -ts[i])
        if k == len(tails):
            tails.append(-ts[i])
        else:
            tails[k] = -ts[i]
        from_here[i] = k + 1
    need, last, keep = len(tails), -math.inf, []
    for i, (x, n) in enumerate(zip(ts, from_here, strict=True)):
        if n == need and x > last:  # the earliest row that still leaves a sequence this long
            keep.append(i)
            last, need = x, need - 1
            if not need:
                break
    return np.array(keep, dtype=np.int64)


def _require_pixels(xy: np.ndarray, name: str) -> None:
    """Refuse coordinates given as fractions of the frame: read as pixels, the runner would be a
    dot, and the analysis would say "view unknown" instead of what is wrong."""
    seen = xy[np.isfinite(xy)]
    lo, hi = NORMALISED_RANGE
    if seen.size and lo <= seen.min() and seen.max() <= hi:
        raise KeypointCSVError(
            f"{name}: every x and y lies between {seen.min():.2f} and {seen.max():.2f}: these look like fractions "
            "of the frame, and the CSV needs pixels of the full camera frame (x × width, y × height)"
        )


def _mean_y(xy: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Per frame, the mean image y of the seen keypoints of ``names`` (NaN where none is seen)."""
    y = xy[:, [KP[n] for n in names], 1]
    seen = np.isfinite(y)
    n = seen.sum(axis=1)
    return np.where(n > 0, np.where(seen, y, 0.0).sum(axis=1) / np.maximum(n, 1), np.nan)


def _require_y_down(xy: np.ndarray, name: str) -> None:
    """Refuse a runner upside down in most frames (head below the hips, hips below the ankles in
    image y): y points up, not down as the contract says. Analysed, such a file gave "Good
    capture", a hip flexion of −334° and coaching cues."""
    head = _mean_y(xy, ("nose", "left_shoulder", "right_shoulder"))
    hips = _mean_y(xy, ("left_hip", "right_hip"))
    ankles = _mean_y(xy, ("left_ankle", "right_ankle"))
    whole = np.isfinite(head) & np.isfinite(hips) & np.isfinite(ankles)
    upside_down = int(np.count_nonzero(whole & (head > hips) & (hips > ankles)))
    seen = int(whole.sum())
    if seen >= MIN_BODY_FRAMES and upside_down > UPSIDE_DOWN_SHARE * seen:
        raise KeypointCSVError(
            f"{name}: the runner is upside down in {upside_down} of {seen} frames (head below the hips, "
            "hips below the ankles): y seems to point up, and the CSV needs y pointing down from the top "
            "of the frame; flip it (y = frame height − y)"
        )


def _require_unit_scores(score: np.ndarray, name: str) -> None:
    """Refuse scores beyond 0–1 (percentages, most often): cut to 1 without a word, every
    keypoint would pass as confidently seen."""
    finite = score[np.isfinite(score)]
    if finite.size and finite.max() > MAX_SCORE:
        raise KeypointCSVError(
            f"{name}: scores go up to {finite.max():g}: the CSV needs confidences between 0 and 1 "
            "(percentages? divide them by 100)"
        )
