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
