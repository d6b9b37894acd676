"""SVG charts: well-formed, self-contained, escaped, and honest about missing data."""

import xml.etree.ElementTree as ET

from device.report import charts
from tests.device.report.handmade import handmade_analysis

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on malformed XML


def test_angle_chart_draws_both_sides_with_sd_bands() -> None:
    a = handmade_analysis()
    svg = charts.angle_cycle_chart(a["curves"]["knee_flexion"], title="Knee flexion", toe_off_pct=38.0)
    root = _parse(svg)
    lines = root.findall(f".//{SVG}polyline")
    assert {ln.get("stroke") for ln in lines} == {charts.LEFT_COLOR, charts.RIGHT_COLOR}
    assert len(root.findall(f".//{SVG}polygon")) == 2  # one ± sd band per side
    assert "toe-off" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # no external references


def test_text_is_escaped() -> None:
    svg = charts.angle_cycle_chart({}, title='<script>alert("x")</script> & co')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; co" in svg
    _parse(svg)


def test_missing_samples_break_the_line_instead_of_dropping_to_zero() -> None:
    mean = [10.0] * 40 + [None] * 20 + [float("nan")] * 5 + [20.0] * 36
    svg = charts.angle_cycle_chart({"left": {"mean": mean, "sd": []}})
    root = _parse(svg)
    assert len(root.findall(f".//{SVG}polyline")) == 2
    # no polyline point sits at the value 0: the y axis spans 10..20 only
    assert "not measured" not in svg


def test_empty_chart_says_so() -> None:
    svg = charts.cadence_chart([])
    _parse(svg)
    assert "no cadence over time" in svg
    svg2 = charts.angle_cycle_chart({"left": {"mean": [], "sd": []}})
    assert "not measured" in svg2


def test_cadence_chart_shades_the_normal_range_and_compares() -> None:
    series = [[float(t), 170.0 + t % 3] for t in range(0, 120, 5)]
    svg = charts.cadence_chart(series, normal=[170, 185], compare=[[0.0, 160.0], [60.0, 162.0]])
    root = _parse(svg)
    assert "normal 170–185" in svg
    assert any(p.get("stroke-dasharray") for p in root.findall(f".//{SVG}polyline"))


def test_nice_ticks() -> None:
    assert charts.nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    t = charts.nice_ticks(-43.2, 41.7)
    assert t[0] <= -43.2 and t[-1] >= 41.7 and len(t) <= 8
