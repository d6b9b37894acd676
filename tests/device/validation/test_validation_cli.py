"""`gait-station validate` end to end on a slice of the development set: the tables it prints,
the physics-only conditions (the timing real video gets, scored on force plates), bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device.cli import main as cli_main


def test_validate_prints_fitted_and_physics_only_tables(validation_dir: Path, tmp_path: Path) -> None:
    md, js = tmp_path / "v.md", tmp_path / "v.json"
    args = ["validate", "--dev-dir", str(validation_dir / "dev"), "--runners", "rbds_003,rbds_017"]
    args += ["--conditions", "realistic_60fps,physics_60fps", "--no-loro", "--jobs", "1"]
    rc = cli_main([*args, "--markdown", str(md), "--json", str(js)])
    text = md.read_text(encoding="utf-8")
    assert "### realistic_60fps — in-sample" in text and "### physics_60fps — in-sample" in text
    assert "no learned correction" in text  # the physics table says how its events were timed
    assert rc == 0 and "Overall: PASS" in text  # both runners meet the 60 fps acceptance
    res = json.loads(js.read_text(encoding="utf-8"))
    fitted, physics = res["realistic_60fps"]["in-sample"], res["physics_60fps"]["in-sample"]
    assert len(fitted) == len(physics) == 6  # 2 runners × 3 speeds
    assert {s["event_timing"] for s in fitted} == {"physics + learned correction"}
    assert all(s["event_timing"].endswith("forward turning points") for s in physics)
    assert all(s["spurious"] == 0 for s in physics)
    # the L/R contact-time difference is scored on every trial (both sides measured)
    assert "L/R contact diff err ms" in text and "knee peak stance err °" in text
    assert all(s["knee_peak_err_deg"] is not None and s["knee_peak_err_deg"] < 10 for s in fitted)
    assert all(
        s["contact_diff_err_ms"] is not None and s["contact_diff_err_ms"] < 25 for s in fitted + physics
    )


def test_validate_refuses_an_unknown_condition(validation_dir: Path, capsys: pytest.CaptureFixture) -> None:
    rc = cli_main(["validate", "--dev-dir", str(validation_dir / "dev"), "--conditions", "physics_90fps"])
    assert rc == 2
    assert "physics_90fps" in capsys.readouterr().err


def test_validate_refuses_a_runner_not_in_the_set(
    validation_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    """A typo in --runners scored no trial and printed empty tables."""
    argv = ["validate", "--conditions", "clean", "--runners", "rbds_001,rbds_0o2"]
    assert cli_main([*argv, "--dev-dir", str(validation_dir / "dev")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--runners: no trials of rbds_0o2" in err and "\n" not in err


def test_validate_remakes_the_set_at_25_fps_with_its_own_recipe(validation_dir: Path, tmp_path: Path) -> None:
    """physics_25fps: the development set's realistic recipe (make_realistic.py's ``corrupt``)
    at 25 fps, made into the cache once, seeded by the trial's name (the same file every time),
    timed as captures are."""
    import gzip

    from device.validation.dataset import condition_path, dev_trials

    args = ["validate", "--dev-dir", str(validation_dir / "dev"), "--runners", "rbds_003"]
    args += ["--conditions", "physics_25fps", "--jobs", "1", "--cache-dir", str(tmp_path)]
    md = tmp_path / "v.md"
    cli_main([*args, "--markdown", str(md)])
    assert "### physics_25fps — in-sample" in md.read_text(encoding="utf-8")
    trial = next(t for t in dev_trials(validation_dir / "dev") if t.runner == "rbds_003")
    made = condition_path(trial, "realistic_25fps", tmp_path)
    rows = gzip.decompress(made.read_bytes()).decode().splitlines()
    t = [float(r.split(",")[0]) for r in rows[1:] if r and r[0].isdigit()]
    steps = sorted(b - a for a, b in zip(t, t[1:], strict=False))
    assert abs(steps[len(steps) // 2] - 0.04) < 0.002  # 25 frames a second
    made.unlink()
    cli_main([*args, "--markdown", str(md)])
    assert gzip.decompress(made.read_bytes()).decode().splitlines() == rows


def test_validate_scores_the_fitted_timing_on_noise_it_was_not_fitted_on(
    validation_dir: Path, tmp_path: Path
) -> None:
    """redraw_60fps: the set's own recipe at 60 fps with another seed. The keypoints are the
    published file's runner with other noise, and the fitted timing is held to the 60 fps
    limits for the record."""
    import gzip

    from device.validation.dataset import condition_path, dev_trials

    args = ["validate", "--dev-dir", str(validation_dir / "dev"), "--runners", "rbds_003"]
    args += ["--conditions", "redraw_60fps", "--no-loro", "--jobs", "1", "--cache-dir", str(tmp_path)]
    md, js = tmp_path / "v.md", tmp_path / "v.json"
    assert cli_main([*args, "--markdown", str(md), "--json", str(js)]) == 0
    text = md.read_text(encoding="utf-8")
    assert "### redraw_60fps — in-sample" in text and "noise it was not fitted on" in text
    assert "Against realistic_60fps's limits: **met by every runner**" in text
    assert len(json.loads(js.read_text(encoding="utf-8"))["redraw_60fps"]["in-sample"]) == 3
    trial = next(t for t in dev_trials(validation_dir / "dev") if t.runner == "rbds_003")
    made = gzip.decompress(condition_path(trial, "realistic_60fps_redraw", tmp_path).read_bytes()).decode()
    published = gzip.decompress(condition_path(trial, "realistic_60fps").read_bytes()).decode()
    made_rows, published_rows = made.splitlines(), published.splitlines()
    assert made_rows[0] == published_rows[0] and abs(len(made_rows) - len(published_rows)) <= 2
    assert made_rows[1:] != published_rows[1:]  # another draw of the noise


def test_a_bad_output_path_is_refused_before_the_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # no development set there: the run would fail on it if it started before the check
    args = ["validate", "--dev-dir", str(tmp_path / "none"), "--conditions", "physics_60fps"]
    assert cli_main([*args, "--json", str(tmp_path)]) == 2
    assert (
        capsys.readouterr().err
        == f"gait-station validate: error: --json: {tmp_path} is a folder; give a file name\n"
    )
    assert cli_main([*args, "--markdown", str(tmp_path / "no" / "v.md")]) == 2
    assert (
        capsys.readouterr().err
        == f"gait-station validate: error: --markdown: folder {tmp_path / 'no'} does not exist\n"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk)")
def test_a_full_disk_for_the_markdown_still_writes_the_json(
    validation_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    js = tmp_path / "v.json"
    args = ["validate", "--dev-dir", str(validation_dir / "dev"), "--runners", "rbds_003"]
    args += ["--conditions", "physics_60fps", "--jobs", "1", "--markdown", "/dev/full", "--json", str(js)]
    assert cli_main(args) == 2
    out, err = capsys.readouterr()
    assert "### physics_60fps — in-sample" in out
    assert len(json.loads(js.read_text(encoding="utf-8"))["physics_60fps"]["in-sample"]) == 3
    assert err.splitlines()[-1] == (
        "gait-station validate: error: cannot write /dev/full (--markdown): No space left on device; "
        f"the tables are on standard output; kept {js}"
    )


def test_fitting_without_a_development_set_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from device.validation.fitting import main as fitting_main

    assert fitting_main(["--dev-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fitting: no development set in {tmp_path / 'nowhere'} (give --dev-dir)"]
