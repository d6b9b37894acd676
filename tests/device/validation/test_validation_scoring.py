"""Scoring one analysis against its truth (device.validation.scoring): pure, no data needed."""

from __future__ import annotations

import pytest

from device.validation.scoring import pool, score_trial


def _analysis(left: float | None, right: float | None) -> dict:
    ev = [
        {"kind": "initial_contact", "side": "left", "t": 1.0},
        {"kind": "toe_off", "side": "left", "t": 1.25},
    ]
    return {"events": ev, "metrics": {"contact_time_ms": {"left": left, "right": right}}, "quality": {}}


def test_left_right_difference_error_is_not_hidden_by_the_mean() -> None:
    truth = {"events": _analysis(0, 0)["events"], "contact_time_ms": {"left": 250.0, "right": 270.0}}
    # both sides 10 ms off in opposite directions: a 10 ms mean error, a 20 ms error of the difference
    s = score_trial(_analysis(260.0, 260.0), truth, "t", "r")
    assert s.contact_err_ms == pytest.approx(10.0)
    assert s.contact_diff_err_ms == pytest.approx(20.0)
    # the same bias on both sides: the difference is exact
    same = score_trial(_analysis(240.0, 260.0), truth, "t", "r")
    assert same.contact_diff_err_ms == pytest.approx(0.0) and same.contact_err_ms == pytest.approx(10.0)
    # a side the engine could not measure: no difference to score
    assert score_trial(_analysis(250.0, None), truth, "t", "r").contact_diff_err_ms is None
    assert pool("all", [s, same]).contact_diff_mae == pytest.approx(10.0)
