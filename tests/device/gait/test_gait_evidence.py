"""The evidence gate (device.gait.evidence): no flag, cue or "good" verdict beyond the evidence.

Engine cases run the synthetic runner (exact truth) through ``analyze``; the rules themselves are
tested on hand-built schema-2 analyses with known numbers.
"""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest

from device.errors import ConfigError
from device.gait.analysis import analyze
from device.gait.evidence import MEASUREMENT_ERROR, WORDS, Status, measurement_errors, review
from device.gait.norms import norms_from_dict
from device.gait.types import RunnerInfo
from device.keypoints import Timeline
from device.norms_file import DEFAULT_PATH, load_norms
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.device.report.handmade import metric

NORMS = load_norms()


def _engine(view: str = "side", **params: Any) -> dict[str, Any]:
    p = RunnerParams(**{"duration_s": 30.0, "noise_px": 1.5, "seed": 3, **params})
    tl = SyntheticRunner(p).timeline()
    return analyze(
        tl, RunnerInfo(height_cm=p.height_cm, speed_kmh=p.speed_kmh), view=view, norms=load_norms()
    ).to_dict()


def _metric(value, unit, left=None, right=None, sd=2.0, n=60, **kw) -> dict[str, Any]:
    # the report tests' schema-2 metric builder, with this file's defaults (60 steps, sd 2)
    m = metric(value, unit, left, right, sd=sd, n=n)
    m["symmetry_index_pct"] = None
    m.update(kw)
    return m


def _v2(**metrics: dict[str, Any]) -> dict[str, Any]:
    """A good 2-minute side-view capture at 30 fps, near leg right, with the given metrics."""
    base = {
        "cadence_spm": _metric(172.0, "spm"),
        "contact_time_ms": _metric(250.0, "ms", 248.0, 252.0, sd=12.0),
        "symmetry_index_pct": _metric(1.6, "%"),
    }
    base.update(metrics)
    return {
        "schema_version": 2,
        "cadence_spm": base["cadence_spm"]["value"],
        "activity": "running",
        "view": {"kind": "side", "facing": "right", "detected": "side"},
        "metrics": base,
        "events": [],
        "cues": [],
        "quality": {
            "frames_analysed": 3600,
            "duration_s": 120.0,
            "effective_fps": 30.0,
            "steps_used": 120,
            "strides_used": 60,
            "near_side": "right",
            "verdict_code": "good",
            "issues": [],
            "verdict": "good",
        },
        "input": {"t0_s": 296.0},
    }


def _status(a: dict[str, Any], mid: str) -> str:
    return a["quality"]["evidence"][mid]["status"]


# ----------------------------------------------------------------------------- engine cases


def test_a_view_not_recognised_is_not_called_a_different_view() -> None:
    """Keypoints that show no view (a runner a few pixels tall: a CSV in fractions of the frame):
    unusable because the view was not recognised, not "differs from the one chosen" (auto)."""
    tl = SyntheticRunner(RunnerParams(duration_s=30.0, noise_px=1.5, seed=3)).timeline()
    tiny = Timeline(tl.t, tl.xy / 1000, tl.score, tl.frame, tl.width, tl.height)
    q = analyze(tiny, RunnerInfo(), norms=load_norms()).to_dict()["quality"]
    assert q["verdict_code"] == "unusable" and "view_unknown" in q["issues"]
    assert "view_mismatch" not in q["issues"] and "differs" not in q["verdict"]
    assert q["withheld"][0].startswith("The camera view was not recognised")


def test_a_stored_unknown_view_coded_as_a_mismatch_reads_as_not_recognised() -> None:
    a = _v2()
    a["view"] = {"kind": "unknown", "facing": None, "detected": "unknown"}
    a["quality"].update(verdict_code="unusable", issues=["view_mismatch"], verdict="camera not side-on")
    q = review(a, NORMS)["quality"]
    assert q["verdict_code"] == "unusable" and q["issues"] == ["view_unknown"]
    assert q["verdict"] == "camera view not recognised"
    assert q["withheld"][0].startswith("The camera view was not recognised")


def test_wrong_view_makes_no_finding_and_says_why_first() -> None:
    """A side-on camera declared "rear": the engine's pelvic drop etc. are no clinical finding."""
    a = _engine(view="rear")
    q = a["quality"]
    assert a["view"]["kind"] == "rear" and a["view"]["detected"] == "side"
    assert q["verdict_code"] == "unusable" and "view_mismatch" in q["issues"]
    assert q["withheld"][0].startswith("The camera was set to rear view but the video looks like a side view")
    assert not [k for k, m in a["metrics"].items() if m["flag"]]
    assert a["cues"] == []
    measured_out = [k for k, e in q["evidence"].items() if e["status"] == Status.NOT_ENOUGH_EVIDENCE]
    assert all(q["evidence"][k]["why"] == q["withheld"][0] for k in measured_out)


def test_three_second_capture_is_not_good() -> None:
    a = _engine(duration_s=3.0, cadence_spm=150.0)  # 150 spm would be "below normal"
    q = a["quality"]
    assert q["verdict_code"] != "good" and "too_short" in q["issues"]
    assert any("findings need at least 20 s" in w for w in q["withheld"])
    assert a["metrics"]["cadence_spm"]["flag"] is None and a["cues"] == []


@pytest.mark.parametrize("fps", [3.0, 5.0])
def test_overloaded_pi_frame_rate_is_never_good(fps: float) -> None:
    a = _engine(fps=fps, duration_s=60.0)
    q = a["quality"]
    assert q["verdict_code"] != "good" and "low_fps" in q["issues"]
    assert not [k for k, m in a["metrics"].items() if m["flag"]] and a["cues"] == []


@pytest.mark.parametrize("fps", [30, 60, 120])
def test_symmetric_runner_has_no_asymmetry_at_any_frame_rate(fps: int) -> None:
    """The synthetic runner is exactly symmetric: noise and far-leg dropouts must not become an
    asymmetry, and no angle carries a left/right percentage (far leg unreliable from the side)."""
    a = _engine(fps=fps, noise_px=3.0, dropout_prob=0.03, swaps=4, seed=fps)
    q = a["quality"]
    assert q["verdict_code"] == "good"
    assert all(e["status"] != Status.UNEVEN for e in q["evidence"].values())
    assert a["metrics"]["symmetry_index_pct"]["flag"] is None
    for mid, m in a["metrics"].items():
        if m["unit"] == "deg":
            assert m["symmetry_index_pct"] is None, mid
    assert not [c for c in a["cues"] if c["metric"] == "symmetry_index_pct"]


def test_engine_counts_steps_and_strides_and_the_real_frame_rate() -> None:
    a = _engine(fps=30, frame_drop=0.25, duration_s=30.0, seed=4)
    q = a["quality"]
    assert q["strides_used"] == q["steps_used"] // 2
    # frames analysed / duration: a quarter of the frames dropped is ~22.5 fps, not the nominal 30
    assert q["effective_fps"] == pytest.approx((q["frames_analysed"] - 1) / q["duration_s"], abs=0.01)
    assert 21.0 < q["effective_fps"] < 24.0


def test_engine_records_the_session_start() -> None:
    a = _engine(t0=296.0)
    assert a["input"]["t0_s"] == pytest.approx(296.0)


# ----------------------------------------------------------------------------- the rules


def test_each_side_is_checked_and_the_near_side_is_flagged() -> None:
    """A range for each side (``applies_to = "sides"``): stance knee mean 45° in range (30–50)
    but the near (right) knee 59°: flagged, that side."""
    sides = _norms_sides("knee_flexion_stance_peak_deg")
    a = review(_v2(knee_flexion_stance_peak_deg=_metric(45.0, "deg", 31.0, 59.0)), sides)
    e = a["quality"]["evidence"]["knee_flexion_stance_peak_deg"]
    # the far left knee, 1° inside the floor, is within the engine's error of it (±3.2°)
    assert e["status"] == Status.ABOVE and e["right"] == Status.ABOVE and e["left"] == Status.AT_LIMIT
    assert a["metrics"]["knee_flexion_stance_peak_deg"]["flag"] == "high"
    assert e["far"] == "left"
    assert [c["metric"] for c in a["cues"]] == ["knee_flexion_stance_peak_deg"]


def test_far_leg_alone_never_makes_a_finding() -> None:
    sides = _norms_sides("knee_flexion_stance_peak_deg")  # a one-side finding could be made
    a = review(_v2(knee_flexion_stance_peak_deg=_metric(45.0, "deg", 59.0, 31.0)), sides)
    e = a["quality"]["evidence"]["knee_flexion_stance_peak_deg"]
    assert e["status"] == Status.NOT_ENOUGH_EVIDENCE and e["far"] == "left"
    assert "left leg, the one further from the camera" in e["why"]
    assert a["metrics"]["knee_flexion_stance_peak_deg"]["flag"] is None and a["cues"] == []


def _norms_sides(*mids: str) -> Any:
    """The packaged norms with the ranges of ``mids`` applying to each side (``applies_to``)."""
    doc = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    for mid in mids:
        doc["metrics"][mid]["applies_to"] = "sides"
    return norms_from_dict(doc, "clinic.toml")


def test_the_far_leg_outside_the_range_is_not_judged_when_the_near_leg_carries_the_finding() -> None:
    """Stance knee L 26° (far) R 55° (near), mean 40° in 30–50: the finding rests on the near
    right knee; the far left knee, seen through it, is "not enough evidence", not "below"."""
    peak = "knee_flexion_stance_peak_deg"
    a = review(_v2(**{peak: _metric(40.0, "deg", 26.0, 55.0)}), _norms_sides(peak))
    e = a["quality"]["evidence"][peak]
    assert e["status"] == Status.ABOVE and e["only"] == "right" and e["far"] == "left"
    assert e["right"] == Status.ABOVE and e["left"] == Status.NOT_ENOUGH_EVIDENCE
    # the near leg's finding and a far leg outside the other way: still not judged
    both = review(_v2(**{peak: _metric(56.0, "deg", 57.0, 55.0)}), _norms_sides(peak))["quality"]
    assert both["evidence"][peak]["status"] == Status.ABOVE
    assert both["evidence"][peak]["left"] == Status.NOT_ENOUGH_EVIDENCE
    assert both["evidence"][peak]["right"] == Status.ABOVE


def test_a_mean_the_far_leg_pulls_out_while_the_near_leg_is_out_the_other_way_is_no_finding() -> None:
    """Stance knee L 88° (far) R 24° (near, below 30), mean 56° above 50: the "deep knee bend"
    rested on the far leg alone, and the leg seen clearly says the opposite."""
    peak = "knee_flexion_stance_peak_deg"
    for norms in (NORMS, _norms_sides(peak)):
        a = review(_v2(**{peak: _metric(56.0, "deg", 88.0, 24.0)}), norms)
        e = a["quality"]["evidence"][peak]
        assert e["status"] == Status.NOT_ENOUGH_EVIDENCE, e
        assert e["why"].startswith(
            "the left leg, the one further from the camera (partly hidden), pulls the mean"
        )
        assert a["metrics"][peak]["flag"] is None and a["cues"] == []


def test_a_range_for_the_mean_is_not_applied_to_one_side() -> None:
    """The packaged stance-knee range (30–50°) applies to the mean (norms.toml ``applies_to``
    "value", the default): mean 47° with the near right knee 56° is in range, no "deep knee bend"
    cue; the one-sided difference is an asymmetry, not a side above normal. A range that
    applies to the sides flags that knee."""
    peak = "knee_flexion_stance_peak_deg"
    assert NORMS.get(peak).applies_to == "value"
    a = review(_v2(**{peak: _metric(46.0, "deg", 40.0, 56.0)}), NORMS)
    e = a["quality"]["evidence"][peak]
    assert e["status"] == Status.IN_RANGE and e["only"] is None
    assert e["right"] is None and e["left"] == Status.IN_RANGE  # the side is not judged against it
    assert a["metrics"][peak]["flag"] is None and a["cues"] == []
    sides = review(_v2(**{peak: _metric(46.0, "deg", 40.0, 56.0)}), _norms_sides(peak))
    assert sides["quality"]["evidence"][peak]["status"] == Status.ABOVE
    assert sides["quality"]["evidence"][peak]["only"] == "right"
    # the mean past the limit by less than the engine's error: no verdict, whatever one side
    # does; clearly past it: the mean's finding
    near = review(_v2(**{peak: _metric(50.5, "deg", 40.0, 61.0, sd=3.9, n=60)}), NORMS)
    e = near["quality"]["evidence"][peak]
    assert e["status"] == Status.NOT_ENOUGH_EVIDENCE and e["only"] is None
    assert e["why"] == "above 50° by less than the engine's error (±3.2°): may be normal"
    assert e["right"] == Status.NOT_ENOUGH_EVIDENCE and near["cues"] == []
    clear = review(_v2(**{peak: _metric(58.0, "deg", 56.0, 60.0)}), NORMS)["quality"]["evidence"][peak]
    assert clear["status"] == Status.ABOVE and clear["only"] is None and clear["right"] == Status.ABOVE


def test_packaged_frontal_plane_ranges_apply_to_each_side() -> None:
    """Pelvic drop and knee valgus are judged per stance side (a one-sided drop is the finding)."""
    for mid in ("pelvic_drop_deg", "knee_frontal_angle_deg"):
        assert NORMS.get(mid).applies_to == "sides", mid
    assert all(
        NORMS.get(mid).applies_to == "value"
        for mid in NORMS.ranges
        if mid not in ("pelvic_drop_deg", "knee_frontal_angle_deg")
    )


def test_side_unknown_allows_only_the_mean() -> None:
    a = _v2(knee_flexion_stance_peak_deg=_metric(45.0, "deg", 31.0, 59.0))
    a["quality"]["near_side"] = None
    r = review(a, _norms_sides("knee_flexion_stance_peak_deg"))
    assert _status(r, "knee_flexion_stance_peak_deg") == Status.NOT_ENOUGH_EVIDENCE
    assert "side_unknown" in r["quality"]["issues"] and r["quality"]["verdict_code"] == "limited"


def test_a_flag_needs_enough_steps() -> None:
    a = review(_v2(overstride_cm=_metric(31.0, "cm", 30.0, 32.0, n=6)), NORMS)
    e = a["quality"]["evidence"]["overstride_cm"]
    assert e["status"] == Status.NOT_ENOUGH_EVIDENCE and "measured on 6 steps" in e["why"]


def test_overstriding_is_one_cue_not_two() -> None:
    a = review(
        _v2(
            overstride_cm=_metric(31.0, "cm", 30.0, 32.0),
            overstride_pct_leg=_metric(35.0, "%", 34.0, 36.0),
            shank_angle_ic_deg=_metric(14.0, "deg", 13.0, 15.0),
        ),
        NORMS,
    )
    assert {_status(a, k) for k in ("overstride_cm", "overstride_pct_leg", "shank_angle_ic_deg")} == {
        Status.ABOVE
    }
    assert [c["metric"] for c in a["cues"]] == ["overstride_cm"]


def test_negative_flight_time_is_not_measurable() -> None:
    a = review(_v2(flight_time_ms=_metric(-218.0, "ms", -230.0, -206.0)), NORMS)
    m = a["metrics"]["flight_time_ms"]
    assert m["value"] is None and m["left"] is None and m["right"] is None
    assert "no flight phase measured" in m["reason"]
    assert _status(a, "flight_time_ms") == Status.NOT_MEASURABLE


def test_no_percentage_on_signed_or_near_zero_angles() -> None:
    a = review(
        _v2(
            shank_angle_ic_deg=_metric(0.2, "deg", -1.0, 1.4, symmetry_index_pct=None),
            knee_flexion_ic_deg=_metric(2.0, "deg", 0.5, 3.5, symmetry_index_pct=150.0),
            contact_time_ms=_metric(250.0, "ms", 230.0, 270.0, sd=12.0, symmetry_index_pct=16.0),
        ),
        NORMS,
    )
    assert a["metrics"]["knee_flexion_ic_deg"]["symmetry_index_pct"] is None  # 0.5°/3.5° → no "150 %"
    assert a["metrics"]["shank_angle_ic_deg"]["symmetry_index_pct"] is None
    assert a["metrics"]["contact_time_ms"]["symmetry_index_pct"] == 16.0  # a magnitude, both feet seen


def test_a_timed_left_right_percentage_only_beyond_the_engines_own_error_of_the_difference() -> None:
    """The labelled clip's step times read L 356 / R 348 ms (2 %) where the labels give 9 % the
    other way: a difference inside the engine's error of it is not printed as the runner's."""
    sym = "symmetry_index_pct"
    small = review(
        _v2(
            step_time_ms=_metric(352.0, "ms", 356.0, 348.0, sd=13.0, symmetry_index_pct=2.2),
            contact_time_ms=_metric(250.0, "ms", 245.0, 255.0, sd=12.0, symmetry_index_pct=4.0),
            duty_factor=_metric(0.35, "", 0.345, 0.355, sd=0.02, symmetry_index_pct=2.9),
        ),
        NORMS,
    )
    for mid in ("step_time_ms", "contact_time_ms", "duty_factor"):
        assert small["metrics"][mid][sym] is None, mid
    large = review(
        _v2(
            step_time_ms=_metric(350.0, "ms", 320.0, 380.0, sd=13.0, symmetry_index_pct=17.1),
            contact_time_ms=_metric(250.0, "ms", 230.0, 270.0, sd=12.0, symmetry_index_pct=16.0),
            # a frame (33 ms at 30 fps) of contact over a 700 ms stride is 0.048: 0.06 is beyond it
            duty_factor=_metric(0.35, "", 0.32, 0.38, sd=0.02, symmetry_index_pct=17.1),
        ),
        NORMS,
    )
    assert [large["metrics"][m][sym] for m in ("step_time_ms", "contact_time_ms", "duty_factor")] == [
        17.1,
        16.0,
        17.1,
    ]
    # beyond the engine's error but not the stride-to-stride noise of 6 steps a side: not shown
    noisy = review(
        _v2(step_time_ms=_metric(350.0, "ms", 320.0, 380.0, sd=60.0, n=12, symmetry_index_pct=17.1)), NORMS
    )
    assert noisy["metrics"]["step_time_ms"][sym] is None


def _asym(left: float, right: float, sd: float, fps: float = 23.2) -> dict[str, Any]:
    a = _v2(
        contact_time_ms=_metric((left + right) / 2, "ms", left, right, sd=sd, n=120),
        symmetry_index_pct=_metric(100 * abs(left - right) / ((left + right) / 2), "%", n=120),
    )
    a["quality"]["frames_analysed"] = round(120.0 * fps)
    return a


def test_sub_frame_difference_never_makes_an_injury_cue() -> None:
    """42 ms at 23.2 fps (one frame = 43 ms): SI 16 % over the 10 % threshold, but less than a frame."""
    a = review(_asym(240.0, 282.0, sd=5.0), NORMS)
    e = a["quality"]["evidence"]["symmetry_index_pct"]
    assert e["status"] == Status.NOT_ENOUGH_EVIDENCE and "less than one frame (43 ms)" in e["why"]
    assert a["metrics"]["symmetry_index_pct"]["flag"] is None
    assert not [c for c in a["cues"] if c["metric"] == "symmetry_index_pct"]


def test_difference_within_stride_noise_is_not_flagged() -> None:
    a = review(_asym(230.0, 290.0, sd=180.0, fps=60.0), NORMS)
    assert "stride-to-stride variation" in a["quality"]["evidence"]["symmetry_index_pct"]["why"]


def test_difference_within_the_engines_own_error_is_not_flagged() -> None:
    """A clinic with a 4 % threshold and a 120 fps camera: a 12 ms difference clears one frame
    and the stride noise, but not what the engine's left/right difference is off by on the
    force plates (CONTACT_DIFF_ERROR_MS); 20 ms does."""
    doc = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    doc["metrics"]["symmetry_index_pct"]["high"] = 4
    strict = norms_from_dict(doc, "clinic.toml")
    small = review(_asym(244.0, 256.0, sd=4.0, fps=120.0), strict)["quality"]["evidence"][
        "symmetry_index_pct"
    ]
    assert small["status"] == Status.NOT_ENOUGH_EVIDENCE and "engine's own left/right error" in small["why"]
    assert (
        _status(review(_asym(240.0, 260.0, sd=4.0, fps=120.0), strict), "symmetry_index_pct") == Status.UNEVEN
    )


def test_value_past_a_limit_by_less_than_the_engines_error_is_not_flagged() -> None:
    """Contact time 315 ms against a 300 ms limit: the engine's contact times are off by up to
    29 ms on 95 % of force-plate trials (MEASUREMENT_ERROR), so the runner may be at 290 ms —
    no flag, no cue, and the reason says so; 335 ms is clear of that error."""
    near = review(_v2(contact_time_ms=_metric(315.0, "ms", 313.0, 317.0, sd=12.0)), NORMS)
    e = near["quality"]["evidence"]["contact_time_ms"]
    assert e["status"] == Status.NOT_ENOUGH_EVIDENCE
    assert e["why"] == "above 300\u00a0ms by less than the engine's error (±29\u00a0ms): may be normal"
    assert near["metrics"]["contact_time_ms"]["flag"] is None
    assert not [c for c in near["cues"] if c["metric"] == "contact_time_ms"]
    clear = review(_v2(contact_time_ms=_metric(335.0, "ms", 333.0, 337.0, sd=12.0)), NORMS)
    assert _status(clear, "contact_time_ms") == Status.ABOVE
    # the angle at contact below its 12° floor by less than 4.5°, and clearly below it
    knee = review(_v2(knee_flexion_ic_deg=_metric(9.0, "deg", 8.5, 9.5)), NORMS)["quality"]["evidence"]
    assert (
        knee["knee_flexion_ic_deg"]["why"]
        == "below 12° by less than the engine's error (±4.5°): may be normal"
    )
    assert (
        _status(review(_v2(knee_flexion_ic_deg=_metric(6.0, "deg", 5.5, 6.5)), NORMS), "knee_flexion_ic_deg")
        == Status.BELOW
    )
    # peak knee flexion in stance above its 50° limit by less than 3.2°, and clearly above it
    peak = "knee_flexion_stance_peak_deg"
    assert (
        _status(review(_v2(**{peak: _metric(52.0, "deg", 51.5, 52.5)}), NORMS), peak)
        == Status.NOT_ENOUGH_EVIDENCE
    )
    assert _status(review(_v2(**{peak: _metric(56.0, "deg", 55.5, 56.5)}), NORMS), peak) == Status.ABOVE


def test_value_past_a_limit_by_less_than_its_steps_vary_is_not_flagged() -> None:
    """The labelled clip's hip flexion in swing, 32.4° ± 5.6° over 16 steps, was a "low knee
    lift" cue against a 35° line: its runner's own average may be over 35°. Two standard
    errors of the mean are the margin; with 160 steps of the same spread the flag stands."""
    hip = "hip_flexion_swing_peak_deg"
    few = review(_v2(**{hip: _metric(32.4, "deg", 33.6, 31.2, sd=5.6, n=16)}), NORMS)
    e = few["quality"]["evidence"][hip]
    assert e["status"] == Status.NOT_ENOUGH_EVIDENCE
    assert e["why"] == "below 35° by less than its steps vary (±2.8°): may be normal"  # 2·5.6/√16
    assert few["metrics"][hip]["flag"] is None and not [c for c in few["cues"] if c["metric"] == hip]
    many = review(_v2(**{hip: _metric(32.4, "deg", 33.6, 31.2, sd=5.6, n=160)}), NORMS)
    assert _status(many, hip) == Status.BELOW and many["metrics"][hip]["flag"] == "low"
    # the engine's error still counts when it is the larger margin
    knee = review(_v2(knee_flexion_ic_deg=_metric(9.0, "deg", 8.5, 9.5, sd=1.0, n=160)), NORMS)
    assert "engine's error (±4.5°)" in knee["quality"]["evidence"]["knee_flexion_ic_deg"]["why"]


def test_value_inside_a_limit_by_less_than_its_margin_is_at_the_limit_not_in_range() -> None:
    """The margin that holds back a flag just past a limit holds back "in range" just inside it.
    A 30 s treadmill run's overstride read 24.5 cm against its 25 cm limit, "in range", where its
    runner landed 25.7 cm ahead (the engine's overstride error: ±3.4 cm): it is "at the limit",
    with why, no flag, no cue and no "good" point; 21 cm is clear of it and in range. Without a
    measured error, the steps' spread is the margin: vertical oscillation 9.9 cm ± 1.0 over 83
    steps against 10 cm."""
    from device.report.findings import good_points
    from device.report.units import Units

    over = "overstride_cm"
    a = review(_v2(**{over: _metric(24.5, "cm", 24.6, 24.4, sd=1.164, n=83)}), NORMS)
    e = a["quality"]["evidence"][over]
    assert e["status"] == Status.AT_LIMIT and WORDS[Status.AT_LIMIT] == "at the limit"
    assert e["why"] == (
        "within the engine's error (±3.4\u00a0cm) of the 25\u00a0cm limit: may be outside the range"
    )
    assert e["margin"] == {"where": "at", "bound": 25.0, "by": "error", "pm": 3.4, "unit": "cm"}
    assert a["metrics"][over]["flag"] is None and not [c for c in a["cues"] if c["metric"] == over]
    good = good_points(a["metrics"], Units(), evidence=a["quality"]["evidence"])
    assert not any(g.startswith("Overstride") for g in good)
    clear = review(_v2(**{over: _metric(21.0, "cm", 21.1, 20.9, sd=1.164, n=83)}), NORMS)
    assert _status(clear, over) == Status.IN_RANGE
    vo = "vertical_oscillation_cm"
    v = review(_v2(**{vo: _metric(9.9, "cm", sd=1.0, n=83)}), NORMS)["quality"]["evidence"][vo]
    assert v["status"] == Status.AT_LIMIT
    assert v["why"] == (
        "within its steps' variation (±0.22\u00a0cm) of the 10\u00a0cm limit: may be outside the range"
    )
    assert _status(review(_v2(**{vo: _metric(9.5, "cm", sd=1.0, n=83)}), NORMS), vo) == Status.IN_RANGE
    # the engine's own error, where it is the larger margin: 280 ms is within 29 ms of 300 ms
    ct = review(_v2(contact_time_ms=_metric(280.0, "ms", 279.0, 281.0, sd=12.0)), NORMS)
    e = ct["quality"]["evidence"]["contact_time_ms"]
    assert e["status"] == Status.AT_LIMIT
    assert (
        e["why"]
        == "within the engine's error (±29\u00a0ms) of the 300\u00a0ms limit: may be outside the range"
    )
    assert e["left"] == e["right"] == Status.AT_LIMIT  # each side is as close to it
    assert (
        _status(
            review(_v2(contact_time_ms=_metric(265.0, "ms", 264.0, 266.0, sd=12.0)), NORMS), "contact_time_ms"
        )
        == Status.IN_RANGE
    )
    # a low limit too: a knee at contact of 14° is within 4.5° of its 12° floor
    assert (
        _status(
            review(_v2(knee_flexion_ic_deg=_metric(14.0, "deg", 13.9, 14.1)), NORMS), "knee_flexion_ic_deg"
        )
        == Status.AT_LIMIT
    )
    # a capture that supports no verdict says so first: not enough evidence, not at the limit
    short = _v2(**{over: _metric(24.5, "cm", 24.6, 24.4, sd=1.164, n=83)})
    short["quality"]["duration_s"] = 10.0
    assert _status(review(short, NORMS), over) == Status.NOT_ENOUGH_EVIDENCE
    # reviewing again changes nothing
    assert review(a, NORMS) == a


def test_a_side_at_the_limit_of_a_per_side_range_is_at_the_limit() -> None:
    """Pelvic drop is judged per stance side: a mean well inside its range with one side within
    its steps' variation of the limit is not "in range"; the side it rests on is named."""
    rng = NORMS.get("pelvic_drop_deg")
    assert rng.applies_to == "sides" and rng.high is not None
    a = _v2(
        pelvic_drop_deg=_metric(
            rng.high - 2.0, "deg", rng.high - 3.5, rng.high - 0.3, sd=2.0, n=40, source="rear"
        )
    )
    a["view"] = {"kind": "rear", "detected": "rear"}
    e = review(a, NORMS)["quality"]["evidence"]["pelvic_drop_deg"]
    assert e["status"] == Status.AT_LIMIT and e["only"] == "right"
    assert e["right"] == Status.AT_LIMIT and e["left"] == Status.IN_RANGE


def test_the_engines_error_margin_grows_below_30_fps() -> None:
    """At 20–25 fps the engine's contact times and knee angles are further off on the force
    plates (MEASUREMENT_ERROR_BELOW_30_FPS): 331 ms against the 300 ms limit is a finding at
    30 fps (±29 ms) but not at 22 fps (±33 ms); 335 ms is one at both. A knee at contact of 7°
    is below its 12° floor by more than 4.5° (30 fps) but not than 5.4° (20 fps)."""

    def at(fps: float, **metrics: dict[str, Any]) -> dict[str, Any]:
        a = _v2(**metrics)
        a["quality"]["frames_analysed"] = round(fps * 120.0) + 1  # over the capture's 120 s
        return review(a, NORMS)

    ct = {"contact_time_ms": _metric(331.0, "ms", 330.0, 332.0, sd=12.0)}
    assert _status(at(30.0, **ct), "contact_time_ms") == Status.ABOVE
    slow = at(22.0, **ct)["quality"]["evidence"]["contact_time_ms"]
    assert slow["status"] == Status.NOT_ENOUGH_EVIDENCE
    assert slow["why"] == "above 300\u00a0ms by less than the engine's error (±33\u00a0ms): may be normal"
    assert _status(at(23.5, **ct), "contact_time_ms") == Status.NOT_ENOUGH_EVIDENCE
    ct25 = {"contact_time_ms": _metric(330.5, "ms", 330.2, 330.8, sd=12.0)}
    assert _status(at(29.99, **ct25), "contact_time_ms") == Status.ABOVE
    assert _status(at(24.9, **ct25), "contact_time_ms") == Status.NOT_ENOUGH_EVIDENCE  # ±31 ms at 25 fps
    past = {"contact_time_ms": _metric(332.5, "ms", 332.0, 333.0, sd=12.0)}
    assert _status(at(24.9, **past), "contact_time_ms") == Status.ABOVE
    assert _status(at(29.99, **ct), "contact_time_ms") == Status.ABOVE  # a 30 fps capture's own rate
    clear = {"contact_time_ms": _metric(335.0, "ms", 334.0, 336.0, sd=12.0)}
    assert _status(at(22.0, **clear), "contact_time_ms") == Status.ABOVE
    knee = {"knee_flexion_ic_deg": _metric(7.0, "deg", 6.9, 7.1)}
    assert _status(at(30.0, **knee), "knee_flexion_ic_deg") == Status.BELOW
    assert _status(at(20.0, **knee), "knee_flexion_ic_deg") == Status.NOT_ENOUGH_EVIDENCE
    assert measurement_errors(None) == measurement_errors(60.0) == MEASUREMENT_ERROR


def test_a_symmetry_index_nearer_its_limit_than_the_engines_error_is_at_the_limit() -> None:
    """The headline index is held to the same rule as every other metric: 236 / 251 ms is 6.2 %
    against the 10 % line, but the engine's left/right difference may be 14 ms off (±5.7 points
    at 243.5 ms): the runner's own index may be above 10 %. 245 / 253 ms (3.2 %) is in range."""
    a = review(_asym(236.0, 251.0, sd=10.0, fps=60.0), NORMS)
    e = a["quality"]["evidence"]["symmetry_index_pct"]
    assert e["status"] == Status.AT_LIMIT
    assert (
        e["why"] == "within the engine's error (±5.7\u00a0%) of the 10\u00a0% limit: may be outside the range"
    )
    assert a["metrics"]["symmetry_index_pct"]["flag"] is None
    assert not [c for c in a["cues"] if c["metric"] == "symmetry_index_pct"]
    assert (
        _status(review(_asym(245.0, 253.0, sd=10.0, fps=60.0), NORMS), "symmetry_index_pct")
        == Status.IN_RANGE
    )
    # below 30 fps, where the error was not measured, a frame is the margin: 40 ms at 25 fps
    assert (
        _status(review(_asym(245.0, 253.0, sd=10.0, fps=25.0), NORMS), "symmetry_index_pct")
        == Status.AT_LIMIT
    )
    # a wide stride-to-stride spread is the larger margin: 80 ms of sd over 120 steps each
    wide = review(_asym(240.0, 250.0, sd=80.0, fps=60.0), NORMS)["quality"]["evidence"]["symmetry_index_pct"]
    assert wide["status"] == Status.AT_LIMIT and wide["margin"]["by"] == "spread"


def test_real_asymmetry_is_flagged_once() -> None:
    a = review(_asym(230.0, 290.0, sd=10.0, fps=60.0), NORMS)
    assert _status(a, "symmetry_index_pct") == Status.UNEVEN
    assert a["metrics"]["symmetry_index_pct"]["flag"] == "high"
    assert [c["metric"] for c in a["cues"]] == ["symmetry_index_pct"]


def test_schema_1_is_read_conservatively() -> None:
    """A stored schema-1 analysis: "strides_used" counted steps; no per-side spread ⇒ no asymmetry
    flag and no one-side flag; the frame rate is frames analysed / duration."""
    a = _asym(230.0, 290.0, sd=10.0, fps=60.0)
    a["schema_version"] = 1
    q = a["quality"]
    q.pop("steps_used")
    q.pop("near_side")
    q.pop("verdict_code")
    q.pop("issues")
    q.update(strides_used=268, near_leg="right", effective_fps=30.0, frames_analysed=2789, duration_s=120.2)
    a["metrics"]["knee_flexion_stance_peak_deg"] = _metric(45.0, "deg", 31.0, 59.0)
    r = review(a, _norms_sides("knee_flexion_stance_peak_deg"))  # a one-side flag could be made
    rq = r["quality"]
    assert (rq["steps_used"], rq["strides_used"]) == (268, 134)
    assert rq["effective_fps"] == pytest.approx(23.2, abs=0.01)
    assert rq["verdict_code"] == "good"
    assert _status(r, "symmetry_index_pct") == Status.NOT_ENOUGH_EVIDENCE
    assert "older analysis" in rq["evidence"]["symmetry_index_pct"]["why"]
    assert _status(r, "knee_flexion_stance_peak_deg") == Status.NOT_ENOUGH_EVIDENCE


def test_schema_1_verdict_words_become_issues() -> None:
    a = _v2()
    a["schema_version"] = 1
    for k in ("verdict_code", "issues", "steps_used"):
        a["quality"].pop(k)
    a["quality"].update(strides_used=120, verdict="two people in view; too few strides")
    q = review(a, NORMS)["quality"]
    assert q["verdict_code"] == "unusable" and {"two_people", "few_strides"} <= set(q["issues"])


def test_walking_makes_no_running_finding() -> None:
    a = _v2(cadence_spm=_metric(110.0, "spm"))
    a["activity"] = "walking"
    r = review(a, NORMS)
    assert _status(r, "cadence_spm") == Status.NOT_ENOUGH_EVIDENCE and r["cues"] == []
    assert "walking" in r["quality"]["withheld"][0]


def test_too_few_strides_says_strides_as_it_compares_them() -> None:
    """The capture needs ``min_steps`` strides (norms.toml): the reason counts strides, with
    the steps the receipt's "Steps: 13 used (6 strides)" counts; which captures pass is as
    before (8 strides, 16 steps)."""
    a = _v2()
    a["quality"].update(steps_used=13, strides_used=6)
    q = review(a, NORMS)["quality"]
    assert q["withheld"] == [
        "Only 6 usable strides (13 steps); findings need at least 8 strides (16 steps): record at "
        "least 30 s of steady running."
    ]
    for steps, few in ((15, True), (16, False)):
        a["quality"].update(steps_used=steps, strides_used=steps // 2)
        assert ("few_strides" in review(a, NORMS)["quality"]["issues"]) is few, steps


def test_walking_is_not_judged_against_running_norms() -> None:
    """The engine applies no running norm to walking; the gate applies none either, and drops the
    running ranges an earlier review stored: every surface then shows no range beside the
    numbers, no cadence band and no side outside a range. Which captures give findings does not
    change (walking withholds them all)."""
    a = _v2(
        cadence_spm=_metric(110.0, "spm", normal=[160.0, 200.0]),
        contact_time_ms=_metric(520.0, "ms", 500.0, 540.0, sd=12.0, normal=[None, 300.0]),
    )
    a["activity"] = "walking"
    r = review(a, NORMS)
    assert all(m["normal"] is None for m in r["metrics"].values())
    for mid, e in r["quality"]["evidence"].items():
        assert e["status"] == Status.NOT_ENOUGH_EVIDENCE and e["left"] is None and e["right"] is None, mid
    assert review(r, NORMS)["metrics"] == r["metrics"]  # reviewing again changes nothing
    running = review(_v2(cadence_spm=_metric(110.0, "spm")), NORMS)
    assert running["metrics"]["cadence_spm"]["normal"] == [160.0, 200.0]


def test_unusable_capture_marks_every_number_even_without_a_normal_range() -> None:
    """A wrong-view capture: metrics that have no normal range (step length, flight time) and
    the symmetry index without one are marked like the others, with the capture's reason, not
    left bare as if they were valid."""
    doc = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    del doc["metrics"]["symmetry_index_pct"]  # a clinic's file without a symmetry range
    norms = norms_from_dict(doc, "clinic.toml")
    a = _v2(
        step_length_cm=_metric(112.0, "cm", 110.0, 114.0),
        flight_time_ms=_metric(95.0, "ms", 94.0, 96.0),
    )
    a["view"]["detected"] = "rear"
    r = review(a, norms)
    q = r["quality"]
    assert q["verdict_code"] == "unusable" and q["withheld"]
    assert norms.get("step_length_cm") is None and norms.get("symmetry_index_pct") is None
    for mid in ("step_length_cm", "flight_time_ms", "symmetry_index_pct", "cadence_spm"):
        assert q["evidence"][mid] == {
            **q["evidence"][mid],
            "status": "not_enough_evidence",
            "why": q["withheld"][0],
        }
    # a good capture leaves them "no normal range": nothing to judge, nothing withheld
    good = review(_v2(step_length_cm=_metric(112.0, "cm", 110.0, 114.0)), norms)
    assert _status(good, "step_length_cm") == Status.NO_RANGE
    assert _status(good, "symmetry_index_pct") == Status.NO_RANGE


def test_review_is_idempotent_and_pure() -> None:
    a = _v2(
        knee_flexion_stance_peak_deg=_metric(45.0, "deg", 31.0, 59.0),
        flight_time_ms=_metric(-20.0, "ms", -30.0, -10.0),
    )
    before = copy.deepcopy(a)
    once = review(a, NORMS)
    assert a == before  # the input is not touched
    assert review(once, NORMS) == once


def test_a_stored_series_of_a_withheld_cadence_is_not_passed_on() -> None:
    """An analysis stored before the engine stopped making one: a cadence over the run beside a
    cadence that is not measurable (not one take) reaches no surface; a measured one stays."""
    a = _v2(cadence_spm=_metric(None, "spm", reason="not one continuous take"))
    a["cadence_series"] = [[300.0 + 5 * i, 153.0 + 3 * i] for i in range(10)]
    assert review(a, NORMS)["cadence_series"] == []
    ok = _v2()
    ok["cadence_series"] = [[300.0 + 5 * i, 172.0] for i in range(10)]
    assert review(ok, NORMS)["cadence_series"] == ok["cadence_series"]


def test_one_vocabulary() -> None:
    assert WORDS[Status.IN_RANGE] == "in range" and WORDS[Status.ABOVE] == "above normal"
    assert WORDS[Status.NOT_ENOUGH_EVIDENCE] == "not enough evidence"
    assert set(WORDS) == set(Status)


# ----------------------------------------------------------------------------- norms.toml


def test_packaged_norms_state_the_evidence_rules() -> None:
    rules = load_norms(DEFAULT_PATH).evidence
    assert rules.min_duration_s == 20 and rules.min_fps == 20
    assert rules.min_steps >= 8 and rules.source


@pytest.mark.parametrize(
    ("table", "msg"),
    [
        ({"min_fps": 0}, "must be above 0"),
        ({"min_fps": "fast"}, "must be a number"),
        ({"minimum": 3}, "unknown key"),
    ],
)
def test_bad_evidence_table_is_one_clear_line(table: dict[str, Any], msg: str) -> None:
    doc = {"metrics": {"cadence_spm": {"low": 160, "source": "x"}}, "evidence": table}
    with pytest.raises(ConfigError, match=msg):
        norms_from_dict(doc, "clinic.toml")


def test_clinic_rules_apply(tmp_path) -> None:
    doc = {"metrics": {"cadence_spm": {"low": 160, "source": "x"}}, "evidence": {"min_duration_s": 300}}
    strict = norms_from_dict(doc, "clinic.toml")
    q = review(_v2(), strict)["quality"]
    assert "too_short" in q["issues"] and "at least 300 s" in q["withheld"][0]


def test_a_range_the_clinic_removed_is_not_printed_from_an_earlier_review() -> None:
    """The analysis stored the range of its day; the clinic's norms no longer have one."""
    from dataclasses import replace as dc_replace

    from device.gait.evidence import review
    from device.norms_file import load_norms

    norms = load_norms()
    a = {
        "schema_version": 2,
        "metrics": {"trunk_lean_deg": {"value": 14.0, "unit": "deg", "n": 40, "normal": [2, 12]}},
        "quality": {"duration_s": 120.0, "effective_fps": 30.0, "steps_used": 80, "strides_used": 40},
        "view": {"kind": "side", "detected": "side"},
    }
    without = dc_replace(norms, ranges={k: v for k, v in norms.ranges.items() if k != "trunk_lean_deg"})
    m = review(a, without)["metrics"]["trunk_lean_deg"]
    assert m["normal"] is None and m["flag"] is None
