"""The report HTML/PDF from a hand-built analysis with known numbers (engine output: test_report_engine)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from device.config import Config
from device.report import (
    comparison_rows,
    render_comparison_html,
    render_comparison_pdf,
    render_report_html,
    render_report_pdf,
    session_from_analysis,
)
from device.report.units import Units
from tests.device.report.conftest import pdf_info, pdf_text
from tests.device.report.handmade import NORMS, handmade_analysis, handmade_session, metric, norms_with_sides


def _cfg(**station) -> Config:
    cfg = Config()
    cfg.station.norms_file = str(NORMS)
    for k, v in station.items():
        setattr(cfg.station, k, v)
    return cfg


def test_html_is_self_contained() -> None:
    html = render_report_html(handmade_session(), _cfg())
    assert "<style>" in html and "@page { size: A4 portrait; }" in html
    # no external resources: every src/href is a data: URI (or none at all)
    for ref in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert ref.startswith("data:"), ref
    assert "url(" not in html
    assert "<script" not in html.lower()


def test_accuracy_note_gives_the_margins_at_the_captures_frame_rate() -> None:
    """Below 30 fps the engine is further off on the force plates (physics_25fps / _20fps):
    the note quotes the margins the evidence gate used for this capture, and its rate."""
    from device.report.render import accuracy_note

    assert "ground contact time ±29 ms" in accuracy_note() and " fps" not in accuracy_note()
    assert accuracy_note({"effective_fps": 59.9}) == accuracy_note()
    assert accuracy_note({"effective_fps": 29.99}) == accuracy_note()  # a 30 fps capture's jitter
    slow = accuracy_note({"effective_fps": 21.7})
    assert "(95 % of trials, at 22 fps)" in slow
    assert "ground contact time ±33 ms" in slow and "knee angles ±5.4–6°" in slow
    # overstride, against the set's joint centres at its force-plate contacts, in the report's units
    assert "overstride ±3.4 cm" in accuracy_note() and "overstride ±3.9 cm" in slow
    assert "overstride ±1.3 in" in accuracy_note(units=Units("imperial"))


def test_report_says_which_numbers_were_checked_and_how_closely() -> None:
    html = render_report_html(handmade_session(), _cfg())
    method = unescape(re.search(r'<div class="method">(.*?)</div>', html, re.S).group(1))
    assert "force plates and motion capture of 23 runners" in method
    assert "ground contact time ±29 ms" in method and "knee angles ±3.2–4.5°" in method
    assert "+ the pose model's error" in method  # the angles' figures are floors
    assert "others: synthetic runner only" in method


def test_runner_name_is_escaped() -> None:
    html = render_report_html(handmade_session(name='<script>alert("pwn")</script> O\'Brien'), _cfg())
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_header_facts_summary_and_unmeasurable_reasons() -> None:
    html = render_report_html(handmade_session(), _cfg(clinic_name="Fleet Feet Physio"))
    assert "Fleet Feet Physio" in html and "Alex Runner" in html
    assert "11.5 km/h, 1% incline" in html and "Pegasus 40" in html and "178 cm" in html
    assert "Key findings" in html
    assert "not measurable — needs the treadmill speed" in html
    # the four rear-view metrics share one reason: a single group line, not four rows
    assert "not measurable: needs a rear view" in html
    assert html.count('class="badge above"') == 4  # overstride cm/%, shank angle, vertical oscillation
    assert 'class="badge below"' in html  # cadence


def test_a_walking_capture_is_not_titled_a_running_report() -> None:
    def titles(html: str) -> tuple[str, str]:
        doc = re.search(r'<div class="doc-title">(.*?)</div>', html, re.S)
        page = re.search(r"<title>(.*?)</title>", html, re.S)
        assert doc and page
        return unescape(doc.group(1)).strip(), unescape(page.group(1)).strip()

    doc, page = titles(render_report_html(handmade_session(), _cfg()))
    assert doc == "Running gait report" and page.startswith("Running gait report")
    doc, page = titles(render_report_html(handmade_session(activity="walking"), _cfg()))
    assert doc == "Walking gait report" and page.startswith("Walking gait report")


def _all_in_range() -> dict:
    """The hand-made analysis with every flagged value brought inside its range (flags follow
    the values and the clinic's ranges: the evidence gate)."""
    a = handmade_analysis()
    for mid, v in (
        ("cadence_spm", 178.0),
        ("overstride_cm", 6.0),  # clear of the 10 cm limit by more than the engine's ±3.4 cm
        ("overstride_pct_leg", 7.0),  # and of 11 % by more than its ±3.9 %
        ("shank_angle_ic_deg", 5.0),
        ("vertical_oscillation_cm", 9.0),
    ):
        a["metrics"][mid].update(value=v, left=None, right=None)
    return a


def test_nothing_flagged_says_what_is_good() -> None:
    a = _all_in_range()
    s = handmade_session()
    s["analysis"] = a
    html = render_report_html(s, _cfg())
    assert "What looks good" in html and "Key findings" not in html
    assert "Cadence 178 spm is within the normal 170–185 spm." in html


def test_unusable_capture_marks_numbers_that_have_no_normal_range() -> None:
    """A wrong-view capture: flight time, step time, duty factor (no normal range) carry the same
    mark and pointer to the capture note as the metrics with a range, not a bare value."""
    s = handmade_session(view={"kind": "side", "facing": "right", "detected": "rear"})
    html = render_report_html(s, _cfg())
    assert "Unusable capture" in html
    for mid in ("flight_time_ms", "step_time_ms", "duty_factor", "contact_time_ms"):
        row = re.search(rf'<tr class="metric" data-metric="{mid}">.*?</tr>', html, re.S).group(0)
        assert '<span class="badge not_enough_evidence">not enough evidence</span>' in row, mid
        assert '<span class="why">see the capture note at the top</span>' in row, mid


def test_imperial_units_everywhere() -> None:
    html = render_report_html(handmade_session(), _cfg(units="imperial"))
    assert "7.1 mph" in html  # 11.5 km/h
    assert "5.6 in" in html  # overstride 14.2 cm
    assert "≤ 3.9 in" in html  # its normal range
    assert "5′ 10″" in html  # 178 cm
    assert " cm" not in re.sub(r"<style>.*?</style>", "", html, flags=re.S)


def test_imperial_report_says_why_a_value_may_be_normal_in_inches() -> None:
    """Vertical oscillation 10.2 cm (L 10.1, R 10.3) against ≤ 10 cm, by less than its steps vary: the
    reason under the name is in the table's inches, not the analysis' centimetres."""
    s = handmade_session()
    # vertical oscillation: no measured engine error, its steps' spread is the margin
    vo = "vertical_oscillation_cm"
    s["analysis"]["metrics"][vo] = metric(10.2, "cm", 10.1, 10.3, 2.0, 23, normal=[5, 10])
    html = unescape(render_report_html(s, _cfg(units="imperial")))
    row = re.search(rf'<tr class="metric" data-metric="{vo}">.*?</tr>', html, re.S).group(0)
    why = re.search(r'<span class="why">(.*?)</span>', row, re.S).group(1)
    assert why == "above 3.9\u00a0in by less than its steps vary (±0.33\u00a0in): may be normal"
    metric_html = unescape(render_report_html(s, _cfg()))
    assert "above 10.0\u00a0cm by less than its steps vary (±0.83\u00a0cm): may be normal" in metric_html


def test_cues_come_from_the_engine_library_and_follow_the_clinic_profile() -> None:
    s = handmade_session()  # cadence 158 spm flagged low, overstride flagged high
    tall = render_report_html(s, _cfg(coaching_profile="ankle_lean"))
    hinge = render_report_html(s, _cfg(coaching_profile="hip_hinge"))
    assert "metronome" in tall and "Target about 166–174 spm" in tall  # concrete metronome target
    assert "A-skips" in tall  # overstride drill
    assert "Run tall and let the foot land under you" in tall
    assert "Keep the hips back and the foot landing under the knee" in hinge

    # the profile changes the advice, never the measurements
    def strip(h: str) -> str:
        return re.sub(
            r"<h2>Coaching cues and drills</h2>.*?</section>|Coaching profile: [a-z ]+", "", h, flags=re.S
        )

    assert re.findall(r"\d+(?:\.\d+)? (?:cm|spm|ms)", strip(tall)) == re.findall(
        r"\d+(?:\.\d+)? (?:cm|spm|ms)", strip(hinge)
    )


@pytest.mark.slow
def test_pdf_a4_and_letter(tmp_path: Path) -> None:
    s = handmade_session()
    a4 = pdf_info(render_report_pdf(s, _cfg()), tmp_path)
    assert a4["Page size"].startswith("595.") and 1 <= int(a4["Pages"]) <= 2
    cfg = _cfg()
    cfg.printing.paper = "Letter"
    letter_pdf = render_report_pdf(s, cfg)
    info = pdf_info(letter_pdf, tmp_path)
    assert info["Page size"].startswith("612 x 792") and 1 <= int(info["Pages"]) <= 2
    text = pdf_text(letter_pdf, tmp_path)
    assert "Alex Runner" in text and "14.2 cm" in text and "158 spm" in text


def test_logo_is_embedded_and_a_missing_logo_is_skipped(tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    html = render_report_html(handmade_session(), _cfg(clinic_logo=str(logo)))
    assert 'src="data:image/svg+xml;base64,' in html
    html = render_report_html(handmade_session(), _cfg(clinic_logo=str(tmp_path / "missing.png")))
    assert "<img" not in html.split("</header>")[0]


def test_session_from_bare_analysis() -> None:
    s = session_from_analysis(handmade_analysis(), source="run.json")
    assert s["runner"]["name"] == "" and s["runner"]["height_cm"] == 178.0
    html = render_report_html(s, _cfg())
    assert "Runner not recorded" in html and "Analysis of run.json" in html
    with pytest.raises(ValueError):
        session_from_analysis(["not", "an", "analysis"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "not_an_analysis",
    [
        {"source": "clip.mp4", "fps": 30, "cadence_spm": 170.0, "events": []},  # a truth file
        {"a": 1},
        {"metrics": {}},  # nothing but an empty 'metrics'
        {"metrics": [], "quality": {}},
    ],
    ids=["truth-file", "any-object", "metrics-only", "metrics-not-an-object"],
)
def test_a_json_object_that_is_not_an_analysis_is_refused(not_an_analysis: dict) -> None:
    """Any object without 'metrics' passed and printed as an empty report."""
    with pytest.raises(ValueError, match="not an analysis JSON") as info:
        session_from_analysis(not_an_analysis, source="x.json")
    assert "\n" not in str(info.value)
    old_schema = {"metrics": {}, "quality": {"verdict": "good"}}  # schema 1: no version, has quality
    assert session_from_analysis(old_schema)["analysis"] is old_schema


def test_comparison_marks_changes_beyond_stride_noise() -> None:
    before = handmade_analysis()
    after = handmade_analysis()
    after["metrics"]["cadence_spm"] = metric(171.0, "spm", sd=3.0, n=24, normal=[170, 185])  # +12.6, sd ~3
    after["metrics"]["overstride_cm"] = metric(
        13.0, "cm", 13.4, 12.6, 2.4, 23, flag="high", normal=[None, 10]
    )
    after["metrics"]["trunk_lean_deg"] = metric(13.9, "deg", sd=1.0, n=24, flag="high", normal=[2, 12])
    rows = {r["id"]: r for r in comparison_rows(before, after, Units("metric"))}
    assert rows["cadence_spm"]["beyond_noise"] and rows["cadence_spm"]["trend"] == "toward normal"
    assert rows["cadence_spm"]["delta"] == "+13 spm"
    assert not rows["overstride_cm"]["beyond_noise"]  # −1.2 cm against ~2.3 cm stride-to-stride sd
    assert rows["trunk_lean_deg"]["beyond_noise"] and rows["trunk_lean_deg"]["trend"] == "away from normal"
    assert "vertical_ratio_pct" not in rows  # measured in neither


@pytest.mark.slow
def test_comparison_report(tmp_path: Path) -> None:
    a, b = handmade_session(), handmade_session()
    b["started_at"] = "2026-12-20T09:30:00+00:00"
    b["analysis"]["metrics"]["cadence_spm"] = metric(172.0, "spm", sd=2.8, n=24, normal=[170, 185])
    html = render_comparison_html(a, b, _cfg())
    assert "Before" in html and "After" in html and "toward normal" in html
    assert "20 Nov 2026" in html and "20 Dec 2026" in html
    pdf = render_comparison_pdf(a, b, _cfg())
    text = pdf_text(pdf, tmp_path)
    assert "Gait comparison" in text and "+14 spm" in text
    assert 1 <= int(pdf_info(pdf, tmp_path)["Pages"]) <= 2


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        ("Maximiliana-Alexandrina Wolkenstein-Oberhausen " * 3)[:100].strip(),
        ("Wolkensteinoberhausen" * 5)[:100],  # one word: nowhere to break
    ],
)
def test_long_runner_name_stays_in_its_half_of_the_header(name: str, tmp_path) -> None:
    """Issue 13 item 14: a 100-character name wraps under itself; it neither overprints the report
    title nor runs off the page (word boxes from pdftotext -bbox)."""
    import subprocess
    from xml.etree import ElementTree

    pdf = render_report_pdf(handmade_session(name=name), _cfg())
    src = tmp_path / "long.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(src), "-"], capture_output=True, check=True
    )
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    page = ElementTree.fromstring(out.stdout).find(".//x:page", ns)
    width = float(page.get("width"))
    words = [
        (w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
        for w in page.findall(".//x:word", ns)
    ]
    title = [w for w in words if w[0] in ("Running", "gait", "report")][:3]
    assert len(title) == 3
    t_x1, t_y0, t_y1 = max(w[3] for w in title), min(w[2] for w in title), max(w[4] for w in title)
    name_words = [w for w in words if len(w[0]) >= 3 and w[0] in name and w[2] < t_y1 + 40]
    assert sum(len(w[0]) for w in name_words) >= len(name.replace(" ", "")) - 2, name_words
    for text, x0, y0, x1, y1 in name_words:
        assert x0 >= 0 and x1 <= width - 20, (
            f"{text!r} runs off the page ({x0:.0f}–{x1:.0f} of {width:.0f} pt)"
        )
        assert not (x0 < t_x1 and y0 < t_y1 and y1 > t_y0), f"{text!r} overprints the report title"


def test_printed_comparison_never_calls_an_unmeasured_spread_within_noise() -> None:
    """A cadence without its step-to-step spread (analyses before engine 2.7) cannot be read
    against noise: the printed comparison said "within noise" for 158 → 178 spm."""
    before, after = handmade_analysis(), handmade_analysis()
    before["metrics"]["cadence_spm"] = metric(158.0, "spm", n=24, normal=[170, 185])
    after["metrics"]["cadence_spm"] = metric(178.0, "spm", n=24, normal=[170, 185])
    rows = {r["id"]: r for r in comparison_rows(before, after, Units("metric"))}
    assert rows["cadence_spm"]["verdict"] == "cannot tell" and not rows["cadence_spm"]["beyond_noise"]
    a, b = handmade_session(), handmade_session()
    a["analysis"], b["analysis"] = before, after
    html = render_comparison_html(a, b, _cfg())
    row = re.search(r'<tr class="metric" data-metric="cadence_spm">.*?</tr>', html, re.S).group(0)
    assert "cannot tell: no stride-to-stride SD" in row and "within noise" not in row


def test_printed_comparison_reads_no_change_from_a_withheld_capture() -> None:
    a, b = handmade_session(), handmade_session()
    a["analysis"]["quality"]["duration_s"] = 12.0  # too short: its findings are withheld
    b["analysis"]["metrics"]["cadence_spm"] = metric(178.0, "spm", sd=3.0, n=24, normal=[170, 185])
    html = render_comparison_html(a, b, _cfg())
    row = re.search(r'<tr class="metric" data-metric="cadence_spm">.*?</tr>', html, re.S).group(0)
    assert "cannot tell: findings withheld (see above)" in row and "toward normal" not in row
    note = re.search(r'<p class="withheld-note" id="compare-withheld">(.*?)</p>', html, re.S).group(1)
    assert note.startswith("No change is read from these two runs: no findings from the before capture (")
    assert html.count("no findings from the before capture") == 1  # said once, not on every row
    assert "none from a capture whose findings are withheld" in html


def test_a_flag_from_one_side_quotes_that_side_not_the_mean(tmp_path) -> None:
    """Both feet's contacts are seen from the side: with a range for each side, one foot above
    it is a finding, but the in-range mean is not "above normal" and the sentence quotes the
    foot's own value."""
    s = handmade_session()
    for mid, v in (("cadence_spm", 178.0), ("overstride_cm", 9.0), ("overstride_pct_leg", 10.0)):
        s["analysis"]["metrics"][mid].update(value=v, left=None, right=None)  # in range: the top finding
    s["analysis"]["metrics"]["contact_time_ms"] = metric(
        280.0, "ms", 345.0, 215.0, 11.0, 24, normal=[180, 300]
    )
    html = render_report_html(s, _cfg(norms_file=str(norms_with_sides(tmp_path, "contact_time_ms"))))
    row = re.search(r'<tr class="metric" data-metric="contact_time_ms">.*?</tr>', html, re.S).group(0)
    assert "above normal (left)" in unescape(row)
    assert "stay on the ground 345 ms per step on the left" in unescape(html)


def test_the_far_leg_is_never_marked_outside_the_range() -> None:
    """Near leg left: its 55° stance knee (35–50) is the finding; the far right knee's 26° is
    marked as the far leg but not coloured as outside the range: it makes no finding alone."""
    s = handmade_session()
    s["analysis"]["metrics"]["knee_flexion_stance_peak_deg"] = metric(40.0, "deg", 55.0, 26.0, 2.0, 40)
    html = render_report_html(s, _cfg())
    row = re.search(
        r'<tr class="metric" data-metric="knee_flexion_stance_peak_deg">.*?</tr>', html, re.S
    ).group(0)
    cells = re.findall(r"<td class=\"([^\"]*)\">(.*?)</td>", row, re.S)
    left = next(c for c in cells if c[1].startswith("55"))
    right = next(c for c in cells if c[1].startswith("26"))
    assert left[0] == "out" and right[0] == "" and 'class="far"' in right[1]
    assert "above normal (left)" in unescape(row)


def test_nothing_flagged_but_a_value_without_evidence_is_not_called_normal() -> None:
    a = _all_in_range()
    # below 10° by less than the engine's own error (±4.5°): no verdict either way
    a["metrics"]["knee_flexion_ic_deg"].update(value=8.0, left=7.9, right=8.1)
    s = handmade_session()
    s["analysis"] = a
    html = unescape(render_report_html(s, _cfg()))
    assert "Nothing measured is outside the clinic's normal ranges." not in html
    assert "Nothing flagged. Not enough evidence for: Knee bend at landing (see the table)." in html


def test_a_value_inside_its_limit_by_less_than_its_margin_is_at_the_limit_not_in_range() -> None:
    """Overstride 10.0 % of leg against an 11 % limit: its runner's own average may be above it
    (the engine's error, ±3.9 %). The row says "at the limit" and why, never "in range", the
    summary names it, and it is not among what looks good; 7 % is in range."""
    a = _all_in_range()
    a["metrics"]["overstride_pct_leg"].update(value=10.0)
    s = handmade_session()
    s["analysis"] = a
    html = unescape(render_report_html(s, _cfg()))
    row = re.search(r'<tr class="metric" data-metric="overstride_pct_leg">.*?</tr>', html, re.S).group(0)
    assert '<span class="badge at_limit">at the limit</span>' in row and "in range" not in row
    assert "within the engine's error (±3.9%) of the 11.0% limit: may be outside the range" in row
    assert "Nothing measured is outside the clinic's normal ranges." not in html
    # the hand-made knee at landing, 12.3° against a 10° floor, is within the engine's ±4.5° too
    assert (
        "Nothing flagged. At the limit (may be outside the range): Overstride (% leg length), "
        "Knee bend at landing (see the table)." in html
    )
    assert "Overstride (% leg length) 10.0%" not in html  # not a "good" point
    s["analysis"] = _all_in_range()
    row = re.search(
        r'<tr class="metric" data-metric="overstride_pct_leg">.*?</tr>', render_report_html(s, _cfg()), re.S
    ).group(0)
    assert '<span class="badge in_range">in range</span>' in row


def test_symmetry_finding_names_what_differs() -> None:
    from device.report.findings import finding_text

    m = metric(18.6, "%", n=24, flag="high", normal=[None, 10])
    text = finding_text("symmetry_index_pct", m, "high", Units("metric"))
    assert text.startswith("Your ground contact time differs between the left and right foot by 18.6%")


def test_a_left_right_difference_is_printed_as_the_symmetry_row_prints_it() -> None:
    """The contact-time L/R difference is the symmetry index: one number, rounded once (units:
    "18.6%"), in the L/R diff. column, the symmetry row and an asymmetry sentence alike."""
    from device.report.findings import finding_text

    s = handmade_session()
    m = s["analysis"]["metrics"]
    m["contact_time_ms"].update(value=280.0, left=254.0, right=306.0, symmetry_index_pct=18.6)
    m["symmetry_index_pct"] = metric(18.6, "%", n=24)
    html = unescape(render_report_html(s, _cfg()))
    ct = re.search(r'<tr class="metric" data-metric="contact_time_ms">.*?</tr>', html, re.S).group(0)
    sym = re.search(r'<tr class="metric" data-metric="symmetry_index_pct">.*?</tr>', html, re.S).group(0)
    assert re.findall(r"<td>([\d.]+%)</td>", ct) == ["18.6%"] and "18.6%" in sym
    m["contact_time_ms"]["flag"] = "asymmetric"
    text = finding_text("contact_time_ms", m["contact_time_ms"], "asymmetric", Units("metric"))
    assert text.endswith("— a difference of 18.6%.")


def test_a_walking_capture_prints_no_running_range() -> None:
    """Walking: the running norms are not applied (the note says so first), so no running range
    is printed beside a number ("—" as on the page), the cadence chart has no normal band and no
    side is marked outside a range."""
    s = handmade_session()
    s["analysis"]["activity"] = "walking"
    s["analysis"]["metrics"]["overstride_cm"].update(left=18.0, right=12.8)
    html = unescape(render_report_html(s, _cfg()))
    assert "the running norms are not applied" in html
    rows = re.findall(r'<tr class="metric" data-metric="[^"]+">.*?</tr>', html, re.S)
    assert rows and all(re.search(r"<td>—</td>\s*<td>\d*</td>", row) for row in rows)
    assert "170–185" not in html and "≤ 10.0 cm" not in html and "normal 170" not in html
    assert '<td class="out">' not in html


def test_a_withheld_capture_has_no_red_side() -> None:
    s = handmade_session()
    s["analysis"]["quality"]["duration_s"] = 12.0  # too short: findings withheld
    s["analysis"]["metrics"]["overstride_cm"].update(left=18.0, right=12.8)
    html = render_report_html(s, _cfg())
    row = re.search(r'<tr class="metric" data-metric="overstride_cm">.*?</tr>', html, re.S).group(0)
    assert '<td class="out">' not in row and "above normal" not in row


def test_front_view_block_is_called_front_view() -> None:
    s = handmade_session(view={"kind": "front", "facing": None})
    html = render_report_html(s, _cfg())
    assert "<h2>Front view" in html and "<h2>Rear view" not in html
    # its table's section says so too (it read "Pelvis and knees (rear view)")
    assert "Pelvis and knees (front view)" in html and "(rear view)" not in html
    rear = render_report_html(handmade_session(view={"kind": "rear", "facing": None}), _cfg())
    assert "Pelvis and knees (rear view)" in rear


def _front_view_of_a_cut_clip() -> dict:
    """The front-view sample as an analysis stored before the engine stopped making a series for
    a withheld cadence: no side-view metric, cadence not measurable (cuts), a series anyway."""
    s = handmade_session(view={"kind": "front", "facing": None, "detected": "front"})
    m = s["analysis"]["metrics"]
    why = "needs a side view (this is a front view)"
    for mid in list(m):
        m[mid] = metric(None, m[mid]["unit"], reason=why)
    m["cadence_spm"] = metric(
        None, "spm", reason="not one continuous take (cuts, or the camera moved): a cadence needs one"
    )
    s["analysis"]["cadence_spm"] = None
    s["analysis"]["curves"] = {}
    s["analysis"]["cadence_series"] = [[1.0 + i, 153.0 + 3.0 * i] for i in range(11)]  # 153–183 spm
    return s


def test_no_cadence_chart_where_the_cadence_is_not_measurable() -> None:
    """The table says "Cadence not measurable — not one continuous take": page 2 drew a
    153–183 spm line across the cuts under "Cadence over the run". No chart."""
    html = render_report_html(_front_view_of_a_cut_clip(), _cfg())
    assert "not measurable — not one continuous take" in html
    assert "Cadence over the run" not in html


@pytest.mark.slow
def test_a_collapsed_section_wraps_inside_the_table(tmp_path) -> None:
    """A front view collapses the landing metrics into one line of names; it ran past the table
    edge ("… Hip flexion at landin") instead of wrapping."""
    text = " ".join(pdf_text(render_report_pdf(_front_view_of_a_cut_clip(), _cfg()), tmp_path).split())
    assert "Knee bend at landing, Hip flexion at landing)" in text
    assert "Cadence over the run" not in text
