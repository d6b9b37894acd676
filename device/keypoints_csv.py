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


def _num(text: str, line: int, col: str) -> float:
    if text == "" or text.strip() == "":
        return math.nan
    try:
        v = float(text)
    except ValueError:
        raise KeypointCSVError(f"line {line}: column {col} is not a number: {text[:20]!r}") from None
    return v


def _parse_rows(
    reader: Any, header: list[str], cols: list[int], frame_col: int | None
) -> tuple[list[tuple[float, list[float], int | None]], int]:
    """The data rows as (t, 51 values, frame or None), and how many rows had no usable t."""
    parsed: list[tuple[float, list[float], int | None]] = []
    no_time = 0
    for line_no, rec in enumerate(reader, start=2):
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) < len(header):
            rec = rec + [""] * (len(header) - len(rec))
        t = _num(rec[cols[0]], line_no, "t")
        if not math.isfinite(t):
            no_time += 1
            continue
        vals = [_num(rec[c], line_no, HEADER[j + 1]) for j, c in enumerate(cols[1:])]
        fr = None
        if frame_col is not None and rec[frame_col].strip():
            with contextlib.suppress(ValueError):
                fr = int(float(rec[frame_col]))
        parsed.append((t, vals, fr))
    return parsed, no_time


def read_csv(src: str | Path | IO[str]) -> Timeline:
    """Read a keypoint CSV; raise :class:`KeypointCSVError` with a one-line reason if it is unusable.

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
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                return read_csv(fh)
        except UnicodeDecodeError:
            raise KeypointCSVError(f"{path}: not a UTF-8 text CSV") from None
    reader = csv.reader(src)
    try:
        header = next(reader)
    except StopIteration:
        raise KeypointCSVError("the CSV is empty (no header row)") from None
    header = [h.strip() for h in header]
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    index = {name: i for i, name in enumerate(header)}
    missing = [h for h in HEADER if h not in index]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise KeypointCSVError(f"the CSV lacks {len(missing)} required column(s): {shown}")
    cols = [index[h] for h in HEADER]
    frame_col = index.get("frame")
    parsed, no_time = _parse_rows(reader, header, cols, frame_col)
    total = len(parsed) + no_time
    if not parsed:
        raise KeypointCSVError("the CSV has a header but no usable rows")
    # A few rows going back in time are glitches (dropped); many are a reordered file (sorted).
    backwards = sum(1 for a, b in zip(parsed, parsed[1:], strict=False) if b[0] <= a[0])
    reordered = backwards > max(2, REORDERED_SHARE * len(parsed))
    if reordered:
        parsed.sort(key=lambda row: row[0])
    ts: list[float] = []
    rows: list[list[float]] = []
    frames: list[int] = []
    dropped = no_time
    last_t = -math.inf
    for t, vals, fr in parsed:
        if t <= last_t:  # a repeated time (or a glitch going back): the first row wins
            dropped += 1
            continue
        last_t = t
        ts.append(t)
        rows.append(vals)
        frames.append(fr if fr is not None else len(frames))
    if dropped > max(2, MAX_DROPPED_SHARE * total):
        raise KeypointCSVError(
            f"{dropped} of {total} rows have a missing, repeated or out-of-order time (t): "
            "not a usable timeline (analysing the rest would misstate the run)"
        )
    arr = np.asarray(rows, dtype=np.float64).reshape(len(ts), N_KEYPOINTS, 3)
    _require_pixels(arr[:, :, :2])
    _require_unit_scores(arr[:, :, 2])
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
    tl.meta["reordered_rows"] = backwards if reordered else 0
    return tl


def _require_pixels(xy: np.ndarray) -> None:
    """Refuse coordinates given as fractions of the frame: read as pixels, the runner would be a
    dot, and the analysis would say "view unknown" instead of what is wrong."""
    seen = xy[np.isfinite(xy)]
    lo, hi = NORMALISED_RANGE
    if seen.size and lo <= seen.min() and seen.max() <= hi:
        raise KeypointCSVError(
            f"every x and y lies between {seen.min():.2f} and {seen.max():.2f}: these look like fractions "
            "of the frame, and the CSV needs pixels of the full camera frame (x × width, y × height)"
        )


def _require_unit_scores(score: np.ndarray) -> None:
    """Refuse scores beyond 0–1 (percentages, most often): cut to 1 without a word, every
    keypoint would pass as confidently seen."""
    finite = score[np.isfinite(score)]
    if finite.size and finite.max() > MAX_SCORE:
        raise KeypointCSVError(
            f"scores go up to {finite.max():g}: the CSV needs confidences between 0 and 1 "
            "(percentages? divide them by 100)"
        )
