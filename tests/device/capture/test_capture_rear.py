"""The rear camera's frontal metrics merged into the side view's analysis, and judged on the rear
capture's own evidence."""

from __future__ import annotations

import pytest

from device.capture.rear import merge_rear
from device.gait.analysis import analyze
from device.gait.types import RunnerInfo
from device.norms_file import load_norms
from device.report.rear import rear_summary
from device.report.review import reviewed
from device.synthetic.runner import RunnerParams, SyntheticRunner

RUNNER = RunnerInfo(height_cm=175, speed_kmh=10)
FRONTAL = ("pelvic_drop_deg", "lateral_sway_cm", "step_width_cm", "knee_frontal_angle_deg")


@pytest.fixture(scope="module")
def side() -> dict:
    tl = SyntheticRunner(RunnerParams(duration_s=40)).timeline()
    return analyze(tl, RUNNER, norms=load_norms()).to_dict()


def test_a_rear_capture_whose_findings_were_withheld_makes_none_in_the_merged_report(side: dict) -> None:
    # the "rear" camera films the runner side-on: its own analysis withholds every finding
    tl = SyntheticRunner(RunnerParams(duration_s=40, facing="left", seed=2)).timeline()
    rear = analyze(tl, RUNNER, "rear", norms=load_norms()).to_dict()
    assert rear["quality"]["verdict_code"] == "unusable" and "view_mismatch" in rear["quality"]["issues"]
    merged = reviewed(merge_rear(side, rear))
    assert merged["quality"]["verdict_code"] == "good"  # the side view's own capture
    for mid in FRONTAL:
        ev = merged["quality"]["evidence"][mid]
        assert merged["metrics"][mid]["source"] == "rear"
        assert ev["status"] in ("not_enough_evidence", "not_measurable"), (mid, ev)
        assert merged["metrics"][mid]["flag"] is None
    # the keypoints of another view measure nothing: not measurable, with the reason
    knee = merged["metrics"]["knee_frontal_angle_deg"]
    assert knee["value"] is None and knee["left"] is None and knee["right"] is None
    assert knee["reason"].startswith("the keypoints look like a side view, not a rear view")
    assert merged["quality"]["evidence"]["knee_frontal_angle_deg"]["status"] == "not_measurable"
    assert not [c for c in merged["cues"] if "knee" in c["title"].lower() and "inward" in c["title"].lower()]


def test_the_rear_camera_is_said_to_have_measured_only_what_it_measured(side: dict) -> None:
    tl = SyntheticRunner(RunnerParams(duration_s=1.5, view="rear")).timeline()
    rear = analyze(tl, RUNNER, "rear", norms=load_norms()).to_dict()
    assert all(rear["metrics"][m]["value"] is None for m in FRONTAL)
    merged = merge_rear(side, rear)
    assert merged["rear"]["metrics_from_rear"] == []
    merged["rear"]["frames"] = 45
    assert "Measured by the rear camera" not in str(rear_summary(reviewed(merged)))
