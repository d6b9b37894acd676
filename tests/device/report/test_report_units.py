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
