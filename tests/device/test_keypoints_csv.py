"""The keypoint CSV (shared/docs/keypoints-csv.md): write → read round trip and bad files."""

from __future__ import annotations

import io
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
