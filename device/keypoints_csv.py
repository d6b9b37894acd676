"""Read and write the keypoint timeline CSV (``shared/docs/keypoints-csv.md``).

Columns: ``t``, then ``<name>_x, <name>_y, <name>_score`` for the 17 keypoints in canonical
order, then optional trailing columns (we write ``frame``; readers ignore what they don't know).
An unseen keypoint has empty x and y and score 0.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
from pathlib import Path
from typing import IO, Any

import numpy as np

from device.errors import UserError
from device.keypoints import KEYPOINT_NAMES, N_KEYPOINTS, Timeline

HEADER: tuple[str, ...] = ("t",) + tuple(
    f"{name}_{part}" for name in KEYPOINT_NAMES for part in ("x", "y", "score")
)


#: Every x and y within these bounds: fractions of the frame, not pixels (a runner in pixels
#: cannot fit in the frame's top-left 1.5-pixel corner; fractions may stray a little outside
#: 0–1 for a keypoint guessed just beyond the edge of the picture).
NORMALISED_RANGE = (-0.5, 1.5)
#: A confidence above this is not a 0–1 score (the small margin allows for rounding).
MAX_SCORE = 1.001
REORDERED_SHARE = 0.02  # more rows than this going back in time: the file was reordered, sort it
MAX_DROPPED_SHARE = 0.10  # more rows than this without a usable time: refuse the file


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


#: A data row: (line number in the file, t, 51 values, frame or None).
_Row = tuple[int, float, list[float], int | None]


def _parse_rows(
    reader: Any, name: str, header: list[str], cols: list[int], frame_col: int | None
) -> tuple[list[_Row], list[int]]:
    """The data rows, and the line numbers of the rows with no usable t."""
    parsed: list[_Row] = []
    no_time: list[int] = []
    for rec in reader:
        line_no = reader.line_num  # the file's line (a quoted cell may span several)
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) < len(header):
            rec = rec + [""] * (len(header) - len(rec))
        t = _num(rec[cols[0]], name, line_no, "t")
        if not math.isfinite(t):
            no_time.append(line_no)
            continue
        vals = [_num(rec[c], name, line_no, HEADER[j + 1]) for j, c in enumerate(cols[1:])]
        fr = None
        if frame_col is not None and rec[frame_col].strip():
            with contextlib.suppress(ValueError):
                fr = int(float(rec[frame_col]))
        parsed.append((line_no, t, vals, fr))
    return parsed, no_time


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

    Rows whose ``t`` is missing/NaN or not after the previous row are dropped (counted in
    ``timeline.meta['dropped_rows']``) rather than failing the whole file: a recording with one
    bad timestamp is still worth analysing. A file whose rows are out of time order throughout
    (sorted by another column in a spreadsheet) is put back in time order, said in
    ``timeline.meta['reordered_rows']``: ``t`` is the time of each row, the row order is not.
    More than :data:`MAX_DROPPED_SHARE` of the rows unusable refuses the file: analysing what is
    left would present a fraction of the run as the run. Non-finite coordinates count as unseen.
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
        parsed, no_time = _parse_rows(reader, name, header, cols, frame_col)
    except csv.Error as exc:
        raise KeypointCSVError(f"{name}: line {reader.line_num}: not a readable CSV ({exc})") from None
    total = len(parsed) + len(no_time)
    if not parsed:
        raise KeypointCSVError(f"{name}: the CSV has a header but no usable rows")
    # A few rows going back in time are glitches (dropped); many are a reordered file (sorted).
    backwards = sum(1 for a, b in zip(parsed, parsed[1:], strict=False) if b[1] <= a[1])
    reordered = backwards > max(2, REORDERED_SHARE * len(parsed))
    if reordered:
        parsed.sort(key=lambda row: row[1])
    ts: list[float] = []
    rows: list[list[float]] = []
    frames: list[int] = []
    dropped_lines = list(no_time)
    last_t = -math.inf
    for line_no, t, vals, fr in parsed:
        if t <= last_t:  # a repeated time (or a glitch going back): the first row wins
            dropped_lines.append(line_no)
            continue
        last_t = t
        ts.append(t)
        rows.append(vals)
        frames.append(fr if fr is not None else len(frames))
    dropped = len(dropped_lines)
    if dropped > max(2, MAX_DROPPED_SHARE * total):
        raise KeypointCSVError(
            f"{name}: {dropped} of {total} rows have a missing, repeated or out-of-order time (t), "
            f"the first on line {min(dropped_lines)}: not a usable timeline (analysing the rest "
            "would misstate the run)"
        )
    arr = np.asarray(rows, dtype=np.float64).reshape(len(ts), N_KEYPOINTS, 3)
    _require_pixels(arr[:, :, :2], name)
    _require_unit_scores(arr[:, :, 2], name)
    xy = arr[:, :, :2].astype(np.float32)
    score = arr[:, :, 2]
    score = np.where(np.isfinite(score), np.clip(score, 0.0, 1.0), 0.0).astype(np.float32)
    unseen = ~np.isfinite(xy).all(axis=2)
    xy[unseen] = np.nan
    score[unseen] = 0.0
    frame = np.asarray(frames, dtype=np.int64)
    if np.any(np.diff(frame) <= 0):
        frame = np.arange(len(ts), dtype=np.int64)
    tl = Timeline(np.asarray(ts), xy, score, frame)
    tl.meta["dropped_rows"] = dropped
    tl.meta["dropped_lines"] = sorted(dropped_lines)
    tl.meta["reordered_rows"] = backwards if reordered else 0
    return tl


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


def _require_unit_scores(score: np.ndarray, name: str) -> None:
    """Refuse scores beyond 0–1 (percentages, most often): cut to 1 without a word, every
    keypoint would pass as confidently seen."""
    finite = score[np.isfinite(score)]
    if finite.size and finite.max() > MAX_SCORE:
        raise KeypointCSVError(
            f"{name}: scores go up to {finite.max():g}: the CSV needs confidences between 0 and 1 "
            "(percentages? divide them by 100)"
        )
