"""Bad inputs to `gait-station analyze` and `gait-station report`: corrupt and truncated videos made
from the real samples, damaged keypoint CSVs, absurd runner values, paths outside the data folder.
Each gives a clear one-line error (or a valid analysis of what could be read) — never a traceback.
The simple cases (zero-length file, JPEG renamed .mp4, missing columns) are in test_analyze_cli.py
and test_keypoints_csv.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device.cli import main as cli_main
from device.keypoints_csv import KeypointCSVError, read_csv, write_csv
from device.synthetic.runner import RunnerParams, SyntheticRunner

REPO = Path(__file__).resolve().parents[2]
CLIP = "overground_side_run_30fps.mp4"  # 47 frames, 74 kB: quick through MoveNet
GIF = "treadmill_side_18fps.gif"


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    code = "import sys; from device.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def _one_line_error(res: subprocess.CompletedProcess[str], command: str) -> str:
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"gait-station {command}: error:"), res.stderr
    return lines[0]


def _truncate(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def _flip(src: Path, dst: Path, start: float, end: float, every: int) -> Path:
    data = bytearray(src.read_bytes())
    for i in range(int(len(data) * start), int(len(data) * end), every):
        data[i] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("cut-half.mp4", lambda s, d: _truncate(s / CLIP, d, 0.5)),
        ("cut-header.mp4", lambda s, d: _truncate(s / CLIP, d, 0.02)),
        ("flipped-data.mp4", lambda s, d: _flip(s / CLIP, d, 0.2, 0.9, 53)),
        ("flipped-header.mp4", lambda s, d: _flip(s / CLIP, d, 0.0, 0.01, 3)),
        ("cut.gif", lambda s, d: _truncate(s / GIF, d, 0.3)),
        ("flipped.gif", lambda s, d: _flip(s / GIF, d, 0.0, 0.002, 2)),
    ],
)
def test_corrupt_and_truncated_videos(
    tmp_path: Path, samples_dir: Path, model_path: Path, name: str, make
) -> None:
    video = make(samples_dir, tmp_path / name)
    out = tmp_path / "a.json"
    res = _run("analyze", str(video), "--model", str(model_path), "--threads", "2", "--json", str(out))
    assert "Traceback" not in res.stderr, res.stderr
    if res.returncode == 0:  # what could be decoded was analysed: a valid analysis, honest about it
        d = json.loads(out.read_text())
        assert d["input"]["frames"] > 0 and "metrics" in d
    else:
        line = _one_line_error(res, "analyze")
        reason = {"cut-header.mp4": "the video has no decodable frames"}.get(
            name, "not a video file this station can read"
        )
        assert line.startswith(f"gait-station analyze: error: {video}: {reason}"), line
        assert not out.exists()


def _csv(tmp_path: Path, mangle) -> Path:
    tl = SyntheticRunner(RunnerParams(duration_s=8, height_cm=175, speed_kmh=11)).timeline()
    path = tmp_path / "kp.csv"
    write_csv(tl, path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(mangle(lines)) + "\n")
    return path


def _cells(line: str, fn) -> str:
    cells = line.split(",")
    fn(cells)
    return ",".join(cells)


def _set(cols: slice | int, value: str):
    def fn(cells: list[str]) -> None:
        idx = range(len(cells))[cols] if isinstance(cols, slice) else [cols]
        for i in idx:
            cells[i] = value

    return fn


def test_csv_with_nans_and_infinities_is_analysed_honestly(tmp_path: Path, capsys) -> None:
    # every 5th row: keypoints written as "nan"; every 7th: "inf"; every 11th: t is "nan"
    def mangle(lines: list[str]) -> list[str]:
        out = [lines[0]]
        for i, line in enumerate(lines[1:]):
            if i % 5 == 0:
                line = _cells(line, _set(slice(2, None), "nan"))
            elif i % 7 == 0:
                line = _cells(line, _set(slice(2, 8), "inf"))
            elif i % 11 == 0:
                line = _cells(line, _set(0, "nan"))
            out.append(line)
        return out

    path = _csv(tmp_path, mangle)
    tl = read_csv(path)
    assert len(tl) > 0 and not np.isinf(tl.xy).any()  # infinities are not positions
    assert tl.meta["dropped_rows"] > 0 and np.all(np.diff(tl.t) > 0)
    out = tmp_path / "a.json"
    assert (
        cli_main(["analyze", str(path), "--json", str(out), "--height-cm", "175", "--speed-kmh", "11"]) == 0
    )
    d = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in the analysis JSON"))
    assert d["cadence_spm"] is None or 140 < d["cadence_spm"] < 200
    for mid, m in d["metrics"].items():  # every metric is a finite number, or null with a reason
        assert (m["value"] is None and m.get("reason")) or np.isfinite(m["value"]), mid


def _scaled(lines: list[str], suffixes: tuple[str, ...], factor: float) -> list[str]:
    """Every filled cell of the columns ending in ``suffixes`` multiplied by ``factor``."""
    cols = [i for i, name in enumerate(lines[0].split(",")) if name.endswith(suffixes)]

    def scale(cells: list[str]) -> None:
        for i in cols:
            if cells[i]:
                cells[i] = f"{float(cells[i]) * factor:.6g}"

    return [lines[0]] + [_cells(x, scale) for x in lines[1:]]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (
            lambda ls: [ls[0]] + [_cells(x, _set(slice(2, None), "")) for x in ls[1:]],
            "no runner|no usable|keypoint",
        ),
        (lambda ls: [ls[0]] + [_cells(x, _set(0, "nan")) for x in ls[1:]], "no usable rows"),
        # every row at the same time (a reversed or shuffled file is sorted: test below)
        (lambda ls: [ls[0]] + [_cells(x, _set(0, "3.0")) for x in ls[1:]], "missing, repeated"),
        (lambda ls: [ls[0].replace("left_ankle_x,", "")] + ls[1:], "left_ankle_x"),
        (lambda ls: ls[:1], "no usable rows"),
        (lambda ls: _scaled(ls, ("_x", "_y"), 1 / 2000), "look like fractions of the frame"),
        (lambda ls: _scaled(ls, ("_score",), 100), "scores go up to"),
    ],
    ids=[
        "all-keypoints-missing",
        "all-times-nan",
        "times-repeated",
        "missing-column",
        "header-only",
        "coordinates-0-to-1",
        "scores-in-percent",
    ],
)
def test_unusable_csv_via_cli_is_one_line(tmp_path: Path, capsys, mangle, message: str) -> None:
    import re

    path = _csv(tmp_path, mangle)
    assert cli_main(["analyze", str(path), "--json", str(tmp_path / "a.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("gait-station analyze: error:"), err
    assert re.search(message, err), err
    assert "kp.csv: " in err, err  # which file: a batch of CSVs in a folder is otherwise a guess
    assert not (tmp_path / "a.json").exists()


def test_two_rows_with_junk_columns_give_nulls_with_reasons(tmp_path: Path, capsys) -> None:
    path = _csv(tmp_path, lambda ls: [ls[0]] + [x + ",1,2,3" * 50 for x in ls[1:3]])
    out = tmp_path / "a.json"
    assert cli_main(["analyze", str(path), "--json", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["cadence_spm"] is None
    assert all(m["value"] is None and m["reason"] for m in d["metrics"].values())  # no guesses


def test_csv_read_errors_are_keypoint_csv_errors(tmp_path: Path) -> None:
    path = _csv(tmp_path, lambda ls: [ls[0].replace("t,", "time,", 1)] + ls[1:])
    with pytest.raises(KeypointCSVError):
        read_csv(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--height-cm", "900"], "height"),
        (["--height-cm", "-170"], "height"),
        (["--height-cm", "nan"], "height"),
        (["--height-cm", "1e400"], "height"),
        (["--speed-kmh", "300"], "speed"),
        (["--speed-kmh", "0"], "speed"),
        (["--speed-kmh", "inf"], "speed"),
        (["--speed-kmh", "fast"], "speed"),
        (["--capture-fps", "-1"], "fps"),
        (["--threads", "1000"], "threads"),
    ],
)
def test_absurd_runner_values_on_the_cli(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    path = _csv(tmp_path, lambda ls: ls)
    with pytest.raises(SystemExit) as info:
        cli_main(["analyze", str(path), *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_report_cli_refuses_paths_and_junk_targets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    from device.store import Store

    Store(data / "station.db").close()
    secret = "root:x:0:0"
    for target in ("../../etc/passwd", "/etc/passwd", "1; rm -rf /", "..%2F..%2Fetc%2Fpasswd", "99"):
        res = _run("report", target, "--data-dir", str(data), "--pdf", str(tmp_path / "out.pdf"), timeout=60)
        line = _one_line_error(res, "report")
        assert secret not in res.stderr and secret not in res.stdout, target  # nothing of the file shown
        assert not (tmp_path / "out.pdf").exists(), target
        assert target != "99" or "session 99 not found" in line


# -- issue 13 item 11: a reordered CSV and a half-cut video are never analysed silently -------------


def test_a_shuffled_csv_is_analysed_whole_in_time_order(tmp_path: Path, capsys) -> None:
    import random

    def shuffle(lines: list[str]) -> list[str]:
        body = lines[1:]
        random.Random(7).shuffle(body)
        return [lines[0], *body]

    path = _csv(tmp_path, shuffle)
    rows = len(path.read_text().splitlines()) - 1
    tl = read_csv(path)
    assert len(tl) == rows and tl.meta["reordered_rows"] > rows // 3  # nothing dropped: sorted by t
    assert np.all(np.diff(tl.t) > 0)
    out = tmp_path / "a.json"
    assert (
        cli_main(["analyze", str(path), "--height-cm", "175", "--speed-kmh", "11", "--json", str(out)]) == 0
    )
    assert json.loads(out.read_text())["input"]["frames"] == rows
    assert "warning: kp.csv: the rows were not in time order" in capsys.readouterr().err


def test_a_csv_mostly_without_usable_times_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, lambda lines: [lines[0]] + [_cells(ln, _set(0, "5.0")) for ln in lines[1:]])
    with pytest.raises(KeypointCSVError, match=r"rows have a missing, repeated or out-of-order time"):
        read_csv(path)
    one_glitch = _csv(tmp_path, lambda lines: [lines[0], *lines[1:10], lines[3], *lines[10:]])
    tl = read_csv(one_glitch)  # a single row going back in time is a glitch: dropped, said, analysed
    assert tl.meta["dropped_rows"] == 1 and tl.meta["reordered_rows"] == 0


def test_csv_warnings_name_the_file_and_the_lines(tmp_path: Path, capsys) -> None:
    # file line 11 repeats line 4 (a glitch going back in time): dropped, and said where
    path = _csv(tmp_path, lambda lines: [lines[0], *lines[1:10], lines[3], *lines[10:]])
    out = tmp_path / "a.json"
    assert cli_main(["analyze", str(path), "--height-cm", "175", "--json", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: kp.csv: dropped 1 row(s) with a missing or non-increasing time (line 11)\n" in err, err


@pytest.mark.slow
def test_a_half_cut_video_says_it_was_cut_short(tmp_path: Path, samples_dir: Path, model_path: Path) -> None:
    video = _truncate(samples_dir / "treadmill_side_slowmo.mp4", tmp_path / "half.mp4", 0.5)
    out = tmp_path / "a.json"
    res = _run(
        "analyze", str(video), "--model", str(model_path), "--threads", "2", "--json", str(out), timeout=300
    )
    assert "Traceback" not in res.stderr and res.returncode == 0, res.stderr
    frames = json.loads(out.read_text())["input"]["frames"]
    assert frames < 949 * 0.7
    assert "of the 949 frames its header announces (the file was cut short)" in res.stderr
    assert f"analysed the {frames} frames before the damage" in res.stderr


# -- a video damaged in the middle is analysed around the damage, and said once ---------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("frames", "kept", "said"),
    [
        (range(40, 43), 91, "the video is damaged: 3 frames could not be read and are left out"),
        (range(60, 94), 60, "the video is damaged after frame 60 (1.97 s into the video)"),
    ],
    ids=["middle", "to-the-end"],
)
def test_a_damaged_video_is_analysed_and_said_once(
    tmp_path: Path, samples_dir: Path, model_path: Path, frames: range, kept: int, said: str
) -> None:
    from tests.support import damaged_video, video_clock

    clip = video_clock.clip_frames(samples_dir / CLIP) * 2  # 94 frames, 3.1 s
    clean = damaged_video.write_mp4(tmp_path / "clean.mp4", clip)
    video = damaged_video.damage(clean, tmp_path / "run.mp4", frames)
    out = tmp_path / "a.json"
    res = _run("analyze", str(video), "--model", str(model_path), "--threads", "2", "--json", str(out))
    assert "Traceback" not in res.stderr and res.returncode == 0, res.stderr
    d = json.loads(out.read_text())
    # the decoder's copy of the last good picture can give keypoints identical to it: a frame
    # left out as a repeat (and said), not lost to the damage
    repeated = sum(int(w.split()[0]) for w in d["quality"]["warnings"] if "repeated frame(s)" in w)
    assert d["input"]["frames"] + repeated == kept
    if kept == 91:  # the lost 0.1 s stays a gap in time: the clip still spans 0 to 93/30 s
        assert d["input"]["duration_s"] == pytest.approx(93 / 30, abs=1e-3)
    about = [ln for ln in res.stderr.splitlines() if "the video is damaged" in ln]
    assert len(about) == 1, res.stderr  # one line, not a log line and a warning saying it twice
    assert about[0].startswith(f"gait-station analyze: warning: {video}: {said}"), about
    assert any(said in w for w in d["quality"]["warnings"])  # and in the saved analysis


def test_no_runner_in_a_damaged_video_says_the_damage_first(
    tmp_path: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Garbled pictures hide a runner who was there: "film again" alone sends the clinic to
    refilm when the copy is what is broken."""
    from tests.support import damaged_video

    rng = np.random.default_rng(0)
    room = [np.full((240, 320, 3), 180, np.uint8) for _ in range(60)]
    for i, f in enumerate(room):
        f[100:140, 100 + i : 140 + i] = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)  # no body
    clean = damaged_video.write_mp4(tmp_path / "clean.mp4", room)
    video = damaged_video.damage(clean, tmp_path / "room.mp4", range(20, 23))
    assert cli_main(["analyze", str(video), "--model", str(model_path), "--read-once"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err  # one line
    assert "no runner found in what could be read of this damaged video" in err, err
    assert "3 frames could not be read" in err and "copy it again from the original" in err, err

    assert cli_main(["analyze", str(clean), "--model", str(model_path), "--read-once"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no runner found (a confident body in only" in err and "damaged video" not in err, err


# -- absurd positions and scores are refused on one line, not described as something else ---------


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        # every keypoint at 1e30: was analysed and called "repeated frames"
        (
            lambda ls: [ls[0]] + [_cells(x, lambda c: _set_xy(c, "1e30")) for x in ls[1:]],
            r"kp\.csv: line 2: nose_x is 1e\+30, far outside any camera frame",
        ),
        # one knee shifted by a million pixels in one frame: was called "two people"
        (
            lambda ls: [*ls[:40], _cells(ls[40], _shift("left_knee_x", 1e6, ls[0])), *ls[41:]],
            r"kp\.csv: line 41: left_knee_x is 100\d{4}, far outside any camera frame",
        ),
        (
            lambda ls: [
                *ls[:30],
                _cells(ls[30], _shift("right_hip_score", -1.0, ls[0], absolute=True)),
                *ls[31:],
            ],
            r"kp\.csv: line 31: right_hip_score is -1: the CSV needs confidences between 0 and 1",
        ),
    ],
    ids=["1e30", "million-pixel-jump", "negative-score"],
)
def test_absurd_positions_and_scores_are_one_line_errors(
    tmp_path: Path, capsys, mangle, message: str
) -> None:
    import re

    path = _csv(tmp_path, mangle)
    out = tmp_path / "a.json"
    assert cli_main(["analyze", str(path), "--height-cm", "175", "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("gait-station analyze: error:"), err
    assert re.search(message, err), err
    assert "repeated" not in err and "two people" not in err
    assert not out.exists()


def _set_xy(cells: list[str], value: str) -> None:
    for i in range(1, 52):
        if i % 3 != 0:  # x and y, not the scores
            cells[i] = value


def _shift(column: str, by: float, header: str, absolute: bool = False):
    i = header.split(",").index(column)

    def fn(cells: list[str]) -> None:
        cells[i] = f"{by:g}" if absolute else f"{float(cells[i]) + by:.2f}"

    return fn


def test_infinite_positions_are_read_as_unseen_and_said(tmp_path: Path, capsys) -> None:
    path = _csv(
        tmp_path, lambda ls: [ls[0]] + [_cells(x, _set(slice(4, 6), "inf")) for x in ls[1:4]] + ls[4:]
    )
    assert cli_main(["analyze", str(path), "--height-cm", "175", "--json", str(tmp_path / "a.json")]) == 0
    err = capsys.readouterr().err
    assert (
        "warning: kp.csv: 3 keypoint position(s) written as infinite (the first on line 2) were read as unseen"
        in err
    )


def test_a_csv_whose_y_points_up_is_one_line_not_a_report(tmp_path: Path, capsys) -> None:
    """y flipped (y' = height − y): the runner upside down was analysed as a "Good capture" with a
    hip flexion of −334° and cues for the customer."""
    path = _csv(tmp_path, lambda ls: [ls[0]] + [_cells(x, _flip_y) for x in ls[1:]])
    out = tmp_path / "a.json"
    assert (
        cli_main(["analyze", str(path), "--height-cm", "175", "--speed-kmh", "11", "--json", str(out)]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(
        "gait-station analyze: error: kp.csv: the runner is upside down"
    ), err
    assert "y seems to point up" in err and "y = frame height − y" in err
    assert not out.exists()


def _flip_y(cells: list[str]) -> None:
    for i in range(2, 52, 3):  # the y columns
        if cells[i]:
            cells[i] = f"{720.0 - float(cells[i]):.2f}"
