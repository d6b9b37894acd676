"""Display units: conversion happens in one place and values, sd and ranges convert together."""

import pytest

from device.config import Config
from device.report.units import Units, units_for


def test_metric_formatting_per_unit() -> None:
    u = Units("metric")
    assert u.value(158.44, "spm") == "158 spm"
    assert u.value(14.26, "cm") == "14.3 cm"
    assert u.value(12.4, "deg") == "12°"
    assert u.value(0.3534, "ratio") == "0.35"
    assert u.value(None, "cm") == "—"
    assert u.value(float("nan"), "cm") == "—"
    assert u.value(-3.04, "cm") == "−3.0 cm"
    assert u.value(-0.01, "cm") == "0.0 cm"  # no "-0.0" on paper
    assert u.value(2.0, "cm", signed=True) == "+2.0 cm"


def test_imperial_converts_lengths_and_speed_only() -> None:
    u = Units("imperial")
    assert u.value(25.4, "cm") == "10.0 in"
    assert u.unit("cm") == "in"
    assert u.value(12.0, "deg") == "12°"  # angles never convert
    assert u.value(268, "ms") == "268 ms"
    assert u.speed(16.09344) == "10.0 mph"
    assert u.height(180.34) == "5′ 11″"
    assert u.range([None, 10.16], "cm") == "≤ 4.0 in"


def test_ranges() -> None:
    u = Units("metric")
    assert u.range([170, 185], "spm") == "170–185 spm"
    assert u.range([None, 10], "cm") == "≤ 10.0 cm"
    assert u.range([5, None], "deg") == "≥ 5°"
    assert u.range(None, "cm") == ""
    assert u.range([None, None], "cm") == ""


def test_units_from_config_and_validation() -> None:
    cfg = Config()
    assert units_for(cfg).system == "metric"
    cfg.station.units = "imperial"
    assert units_for(cfg).imperial
    with pytest.raises(ValueError):
        Units("furlongs")


def test_a_margin_keeps_two_figures_in_display_units() -> None:
    assert Units("imperial").margin(0.53, "cm") == "0.21 in"
    assert Units("metric").margin(0.53, "cm") == "0.53 cm"
    assert Units("metric").margin(4.5, "deg") == "4.5°"
    assert Units("metric").margin(126.4, "ms") == "126 ms"  # not "1.3e+02 ms"


def test_every_surface_reads_a_may_be_normal_reason_in_the_clinics_units() -> None:
    """The page and the API read the gate's verdicts through reviewed(): the reason a value
    may be normal is worded in the clinic's units from the gate's numbers (kept in the
    analysis' own), not in the centimetres the gate words it in."""
    from device.report.review import reviewed
    from tests.device.report.handmade import NORMS, handmade_analysis, metric

    a = handmade_analysis()
    # vertical oscillation: no measured engine error, its steps' spread is the margin
    a["metrics"]["vertical_oscillation_cm"] = metric(10.2, "cm", 10.1, 10.3, 2.0, 23, normal=[5, 10])
    cfg = Config()
    cfg.station.norms_file = str(NORMS)
    cfg.station.units = "imperial"
    ev = reviewed(a, cfg)["quality"]["evidence"]["vertical_oscillation_cm"]
    assert ev["why"] == "above 3.9\u00a0in by less than its steps vary (±0.33\u00a0in): may be normal"
    margin = ev["margin"]
    assert {k: margin[k] for k in ("where", "bound", "by", "unit")} == {
        "where": "above",
        "bound": 10.0,
        "by": "spread",
        "unit": "cm",
    }
    assert margin["pm"] == pytest.approx(2.0 * 2.0 / 23**0.5)  # the mean's: its range is the mean's
    cfg.station.units = "metric"
    assert reviewed(a, cfg)["quality"]["evidence"]["vertical_oscillation_cm"]["why"].startswith(
        "above 10.0\u00a0cm by"
    )
