"""The keypoint CSV (shared/docs/keypoints-csv.md): write → read round trip and bad files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from device.keypoints import KEYPOINT_NAMES, Timeline
from device.keypoints_csv import HEADER, KeypointCSVError, read_csv, timeline_to_csv_text, write_csv


def _timeline(n: int = 25, seed: int = 3) -> Timeline:
    rng = np.random.default_rng(seed)
    t = 10.0 + np.cumsum(rng.uniform(0.03, 0.07, n))  # uneven, not starting at 0
    xy = rng.uniform(0, 640, (n, 17, 2)).astype(np.float32)
    score = rng.uniform(0, 1, (n, 17)).astype(np.float32)
    unseen = rng.random((n, 17)) < 0.2
    xy[unseen] = np.nan
    score[unseen] = 0.0
    frame = np.arange(n) * 2 + 5  # gaps: frames dropped at the source
    return Timeline(t, xy, score, frame, 640, 480)


def test_round_trip_equal_including_nans(tmp_path: Path) -> None:
    tl = _timeline()
    path = tmp_path / "kp.csv"
    write_csv(tl, path)
    back = read_csv(path)
    assert len(back) == len(tl)
    np.testing.assert_allclose(back.t, tl.t, atol=1e-5)
    np.testing.assert_array_equal(np.isnan(back.xy), np.isnan(tl.xy))
    np.testing.assert_allclose(back.xy, tl.xy, atol=0.006, equal_nan=True)
    np.testing.assert_allclose(back.score, tl.score, atol=0.0006)
    np.testing.assert_array_equal(back.frame, tl.frame)
    assert back.meta["dropped_rows"] == 0


def test_header_matches_the_contract() -> None:
    text = timeline_to_csv_text(_timeline(2))
    header = text.splitlines()[0].split(",")
    assert header[0] == "t" and header[1:4] == ["nose_x", "nose_y", "nose_score"]
    assert header[-4:-1] == ["right_ankle_x", "right_ankle_y", "right_ankle_score"]
    assert len(header) == 1 + 17 * 3 + 1 and header[-1] == "frame"
    assert tuple(header[:-1]) == HEADER and len(KEYPOINT_NAMES) == 17


def test_unseen_keypoint_is_empty_with_score_zero() -> None:
    tl = _timeline(1)
    tl.xy[0, 0] = np.nan
    tl.score[0, 0] = 0.7  # a raw score kept in memory is written as 0 for an unseen point
    row = timeline_to_csv_text(tl).splitlines()[1].split(",")
    assert row[1:4] == ["", "", "0.000"]


def test_missing_columns_is_a_clear_error() -> None:
    text = timeline_to_csv_text(_timeline(3))
    lines = text.splitlines()
    cols = lines[0].split(",")
    drop = cols.index("left_knee_y")
    cut = "\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != drop) for line in lines)
    with pytest.raises(KeypointCSVError, match="left_knee_y"):
        read_csv(io.StringIO(cut))


def test_non_monotonic_timestamps_dropped_and_counted() -> None:
    tl = _timeline(6)
    lines = timeline_to_csv_text(tl).splitlines()
    rows = lines[1:]
    bad = [rows[0], rows[1], rows[1], rows[3], rows[2], rows[4], rows[5]]  # a repeat and a step back
    back = read_csv(io.StringIO("\n".join([lines[0], *bad])))
    assert len(back) == 5 and back.meta["dropped_rows"] == 2
    assert np.all(np.diff(back.t) > 0)
    np.testing.assert_allclose(back.t, tl.t[[0, 1, 3, 4, 5]], atol=1e-5)


def test_extra_columns_and_bom_accepted() -> None:
    lines = timeline_to_csv_text(_timeline(3)).splitlines()
    lines[0] = "\ufeff" + lines[0] + ",note"
    lines[1:] = [line + ",hello" for line in lines[1:]]
    assert len(read_csv(io.StringIO("\n".join(lines)))) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "empty"), (",".join(HEADER) + "\n", "no usable rows"), ("t,a,b\n1,2,3\n", "lacks")],
)
def test_unusable_csvs(content: str, message: str) -> None:
    with pytest.raises(KeypointCSVError, match=message):
        read_csv(io.StringIO(content))


def test_not_a_number_names_line_and_column() -> None:
    lines = timeline_to_csv_text(_timeline(2)).splitlines()
    cells = lines[2].split(",")
    cells[4] = "abc"
    lines[2] = ",".join(cells)
    with pytest.raises(KeypointCSVError, match="line 3.*left_eye_x"):
        read_csv(io.StringIO("\n".join(lines)))


def test_binary_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(b"\xff\xfe\x00garbage\x89")
    with pytest.raises(KeypointCSVError):
        read_csv(p)


def test_coordinates_in_fractions_of_the_frame_are_refused() -> None:
    """x/y in 0–1 (as many pose tools write them) read as pixels would be a runner one pixel
    tall: the analysis found no view and blamed the camera. The reader says what is wrong."""
    tl = _timeline()
    tl.xy[..., 0] /= 640
    tl.xy[..., 1] /= 480
    with pytest.raises(KeypointCSVError, match=r"fractions of the frame.*needs pixels") as info:
        read_csv(io.StringIO(timeline_to_csv_text(tl)))
    assert "\n" not in str(info.value)
    tl.xy *= 3  # every keypoint within 3 px of the corner: odd, but not fractions of the frame
    assert len(read_csv(io.StringIO(timeline_to_csv_text(tl)))) == len(tl)


def test_scores_as_percentages_are_refused() -> None:
    """Scores 0–100 were cut to 1 without a word: every keypoint counted as confidently seen."""
    tl = _timeline()
    tl.score *= 100
    with pytest.raises(KeypointCSVError, match=r"scores go up to 9\d\.\d+: .*between 0 and 1") as info:
        read_csv(io.StringIO(timeline_to_csv_text(tl)))
    assert "\n" not in str(info.value)


def _bad_cell(line: int, col: int, value: str):
    def mangle(lines: list[str]) -> list[str]:
        cells = lines[line - 1].split(",")
        cells[col] = value
        return [*lines[: line - 1], ",".join(cells), *lines[line:]]

    return mangle


def _times_stuck(lines: list[str]) -> list[str]:
    """Lines 3–12 repeat line 2's time (a logger whose clock stalled)."""
    t = lines[1].split(",")[0]
    return [*lines[:2], *(",".join([t, *ln.split(",")[1:]]) for ln in lines[2:12]), *lines[12:]]


def _scaled(factor_xy: float = 1.0, factor_score: float = 1.0):
    def mangle(lines: list[str]) -> list[str]:
        tl = read_csv(io.StringIO("\n".join(lines)))
        tl.xy *= factor_xy
        tl.score *= factor_score
        return timeline_to_csv_text(tl).splitlines()

    return mangle


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda ls: [], r"the CSV is empty"),
        (lambda ls: ls[:1], r"no usable rows"),
        (lambda ls: ["t,a,b", "1,2,3"], r"line 1: the header lacks 51 required column\(s\)"),
        (_bad_cell(3, 4, "abc"), r"line 3: column left_eye_x is not a number"),
        (_bad_cell(4, 0, "later"), r"line 4: column t is not a number"),
        (_times_stuck, r"10 of 25 rows have a missing, repeated .*time \(t\), the first on line 3"),
        (_scaled(factor_xy=1 / 700), r"every x and y lies between .*fractions of the frame"),
        (_scaled(factor_score=100), r"scores go up to 9\d\.\d+"),
    ],
    ids=[
        "empty",
        "header-only",
        "no-columns",
        "not-a-number",
        "bad-time",
        "no-times",
        "fractions",
        "percent",
    ],
)
def test_every_csv_error_names_the_file_and_line(tmp_path: Path, mangle, message: str) -> None:
    """`gait-station analyze run7.csv` said "line 3: column … is not a number" without the file:
    with several CSVs in a folder (or a batch script) the person could not tell which one."""
    path = tmp_path / "runner 7.csv"
    lines = mangle(timeline_to_csv_text(_timeline()).splitlines())
    path.write_text("".join(f"{ln}\n" for ln in lines))
    with pytest.raises(KeypointCSVError) as info:
        read_csv(path)
    text = str(info.value)
    assert text.startswith("runner 7.csv: ") and "\n" not in text, text
    assert re.search(message, text), text
    with pytest.raises(KeypointCSVError, match=r"^kp\.csv\.gz: "):  # a stream is named by its caller
        read_csv(io.StringIO(path.read_text()), "kp.csv.gz")


def test_a_non_utf8_line_is_named(tmp_path: Path) -> None:
    lines = timeline_to_csv_text(_timeline()).encode("utf-8").splitlines()
    lines[5] = lines[5].replace(b",", b",\xe9", 1)  # a Latin-1 'é' in line 6
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(KeypointCSVError) as info:
        read_csv(path)
    assert str(info.value) == "latin1.csv: line 6 is not UTF-8 text (save the CSV as UTF-8)"


def test_a_stream_without_a_name_is_called_the_csv() -> None:
    with pytest.raises(KeypointCSVError, match=r"^the CSV: the CSV is empty"):
        read_csv(io.StringIO(""))


def test_a_file_beyond_the_row_cap_is_refused_without_reading_it_whole(monkeypatch) -> None:
    """A 2-million-row CSV took 7 minutes and 12 GB (Python floats): the reader stops at the cap
    with one line, and what it holds meanwhile is arrays, not lists of floats."""
    import device.keypoints_csv as kc

    monkeypatch.setattr(kc, "MAX_ROWS", 20)
    text = timeline_to_csv_text(_timeline(21))
    with pytest.raises(KeypointCSVError, match=r"^the CSV: line 22: more than 20 rows \(30 minutes") as info:
        read_csv(io.StringIO(text))
    assert "\n" not in str(info.value)
    assert len(read_csv(io.StringIO(timeline_to_csv_text(_timeline(20))))) == 20


def test_row_cap_is_generous_for_a_capture() -> None:
    from device.keypoints_csv import MAX_ROWS

    assert MAX_ROWS >= 15 * 2 * 60 * 120  # fifteen two-minute captures at 120 fps


def test_rows_are_read_in_chunks_with_their_line_numbers() -> None:
    """Many more rows than one chunk, a blank line and a bad cell far in: the line is still right."""
    import device.keypoints_csv as kc

    lines = timeline_to_csv_text(_timeline(2 * kc._CHUNK_ROWS + 10)).splitlines()
    lines.insert(5, "")
    back = read_csv(io.StringIO("\n".join(lines)))
    assert len(back) == 2 * kc._CHUNK_ROWS + 10 and back.meta["dropped_rows"] == 0
    cells = lines[kc._CHUNK_ROWS + 100].split(",")
    cells[6] = "x"
    lines[kc._CHUNK_ROWS + 100] = ",".join(cells)
    with pytest.raises(KeypointCSVError, match=rf"line {kc._CHUNK_ROWS + 101}: column left_eye_score"):
        read_csv(io.StringIO("\n".join(lines)))


def _with_cell(text: str, line: int, column: str, value: str) -> str:
    lines = text.splitlines()
    cells = lines[line - 1].split(",")
    cells[HEADER.index(column)] = value
    lines[line - 1] = ",".join(cells)
    return "\n".join(lines)


def test_negative_scores_are_refused_with_the_line() -> None:
    """A score of −0.4 was clipped to 0 without a word: like a percentage, it is not a 0–1 score."""
    text = _with_cell(timeline_to_csv_text(_timeline()), 7, "left_knee_score", "-0.4")
    with pytest.raises(KeypointCSVError) as info:
        read_csv(io.StringIO(text), "run.csv")
    assert str(info.value) == (
        "run.csv: line 7: left_knee_score is -0.4: the CSV needs confidences between 0 and 1 "
        "(an unseen keypoint has empty x and y and score 0)"
    )
    rounded = _with_cell(timeline_to_csv_text(_timeline()), 7, "left_knee_score", "-0.000")
    assert read_csv(io.StringIO(rounded)).score.min() == 0.0  # a rounded zero is a zero


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("right_ankle_y", "1e30", "1e+30"),
        ("nose_x", "-250000", "-250000"),
        ("left_hip_x", "1000321.5", "1000322"),
    ],
)
def test_positions_outside_any_camera_frame_are_refused_with_the_line(
    column: str, value: str, shown: str
) -> None:
    """1e30 was later called "repeated frames" and a 1e6-pixel jump "two people": neither is what is
    wrong, and no camera frame is 100 000 pixels wide."""
    text = _with_cell(timeline_to_csv_text(_timeline()), 12, column, value)
    with pytest.raises(KeypointCSVError) as info:
        read_csv(io.StringIO(text), "run.csv")
    assert str(info.value).startswith(f"run.csv: line 12: {column} is {shown}, far outside any camera frame")
    assert "\n" not in str(info.value)


def test_infinite_positions_are_unseen_and_counted() -> None:
    text = _with_cell(timeline_to_csv_text(_timeline()), 5, "nose_x", "inf")
    text = _with_cell(text, 9, "left_ankle_y", "-inf")
    tl = read_csv(io.StringIO(text))
    assert tl.meta["infinite_points"] == 2 and tl.meta["first_infinite_line"] == 5
    assert np.isnan(tl.xy[3, 0]).all() and tl.score[3, 0] == 0.0
    clean = read_csv(io.StringIO(timeline_to_csv_text(_timeline())))
    assert clean.meta["infinite_points"] == 0 and clean.meta["first_infinite_line"] is None


def _with_times(tl: Timeline, t: np.ndarray) -> str:
    return timeline_to_csv_text(Timeline(t, tl.xy, tl.score, tl.frame, tl.width, tl.height))


def test_one_absurd_time_in_the_middle_drops_that_row_alone() -> None:
    """One row at t = 1e12 made every later row "out of order" (a running maximum): the file was
    refused for too many dropped rows. It is a glitch: that row is left out, and counted."""
    tl = _timeline(60)
    t = tl.t.copy()
    t[30] = 1e12
    back = read_csv(io.StringIO(_with_times(tl, t)))
    assert len(back) == 59 and back.meta["dropped_rows"] == 1
    assert back.meta["dropped_lines"] == [32]  # the header is line 1: row 30 is line 32
    np.testing.assert_allclose(back.t, np.delete(tl.t, 30), atol=1e-5)
    t[30] = 0.0  # and one far behind
    back = read_csv(io.StringIO(_with_times(tl, t)))
    assert len(back) == 59 and back.meta["dropped_lines"] == [32]


def test_a_clock_that_restarts_is_refused_where_it_restarts() -> None:
    """Two recordings joined (t back to 0, then on): was refused for "too many rows" or half
    dropped; analysed as one, two runs would pass for one."""
    tl = _timeline(60)
    t = np.concatenate([tl.t[:40], tl.t[:20] - tl.t[0]])
    with pytest.raises(KeypointCSVError) as info:
        read_csv(io.StringIO(_with_times(tl, t)), "joined.csv")
    assert str(info.value).startswith(
        f"joined.csv: line 42: the time goes back from {tl.t[39]:.3f} s to 0.000 s and carries on from there: "
        "the clock restarted, or two recordings were joined"
    )
    assert "\n" not in str(info.value)


def test_exact_copies_of_rows_are_dropped_and_counted() -> None:
    """Every row written twice (a logger that flushed twice) lost nothing, yet the file was
    refused for too many repeated times."""
    lines = timeline_to_csv_text(_timeline(30)).splitlines()
    twice = [lines[0], *(row for line in lines[1:] for row in (line, line))]
    back = read_csv(io.StringIO("\n".join(twice)))
    assert len(back) == 30 and back.meta["duplicate_rows"] == 30 and back.meta["dropped_rows"] == 30
    assert back.meta["dropped_lines"][:3] == [3, 5, 7] and back.meta["reordered_rows"] == 0
    # a copy far from its original (a stretch written again later) is a copy too
    again = [*lines, *lines[5:15]]
    back = read_csv(io.StringIO("\n".join(again)))
    assert len(back) == 30 and back.meta["duplicate_rows"] == 10


@pytest.mark.parametrize("flip", [lambda y: 720.0 - y, lambda y: -y], ids=["height-minus-y", "negative-y"])
def test_a_runner_upside_down_is_refused_y_points_up(flip) -> None:
    """A CSV whose y points up was analysed: "Good capture", a hip flexion of −334° and coaching
    cues. The body itself says so: the head below the hips and the hips below the ankles."""
    from device.synthetic.runner import RunnerParams, SyntheticRunner

    tl = SyntheticRunner(RunnerParams(fps=60, duration_s=4, noise_px=1.0, seed=5)).timeline()
    assert len(read_csv(io.StringIO(timeline_to_csv_text(tl)))) == len(tl)  # upright: read
    tl.xy[..., 1] = flip(tl.xy[..., 1])
    with pytest.raises(KeypointCSVError) as info:
        read_csv(io.StringIO(timeline_to_csv_text(tl)), "run.csv")
    assert str(info.value) == (
        f"run.csv: the runner is upside down in {len(tl)} of {len(tl)} frames (head below the hips, hips "
        "below the ankles): y seems to point up, and the CSV needs y pointing down from the top of the "
        "frame; flip it (y = frame height − y)"
    )
