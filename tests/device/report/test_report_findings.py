"""Headline findings and coaching cues: ranked by clinical importance, said plainly."""

from device.report.findings import flag_direction, good_points, rank_findings, symmetry_index
from device.report.units import Units
from tests.device.report.handmade import handmade_analysis, metric

U = Units("metric")


def test_overstride_outranks_cadence_and_families_are_not_repeated() -> None:
    f = rank_findings(handmade_analysis()["metrics"], U)
    ids = [x.metric_id for x in f]
    assert ids[0] == "overstride_cm"
    assert "cadence_spm" in ids[:3]
    # overstride in % of leg length says the same as overstride in cm: not a second headline
    assert ids.index("overstride_pct_leg") > ids.index("vertical_oscillation_cm")
    assert "14.2 cm ahead of your hips" in f[0].text and "≤ 10.0 cm" in f[0].text


def test_further_outside_the_range_ranks_higher() -> None:
    small = {
        "pelvic_drop_deg": metric(6.2, "deg", flag="high", normal=[None, 6]),
        "hip_extension_peak_deg": metric(2.0, "deg", flag="low", normal=[10, 25]),
    }
    ranked = [x.metric_id for x in rank_findings(small, U)]
    assert ranked == ["hip_extension_peak_deg", "pelvic_drop_deg"]


def test_side_note_and_imperial_text() -> None:
    m = {"overstride_cm": metric(11.0, "cm", left=14.0, right=8.0, flag="high", normal=[None, 10])}
    text = rank_findings(m, Units("imperial"))[0].text
    assert "mostly on the left" in text
    assert "4.3 in" in text and "≤ 3.9 in" in text


def test_flag_directions() -> None:
    assert flag_direction(metric(1, "cm", flag="high")) == "high"
    assert flag_direction(metric(1, "cm", flag="low")) == "low"
    assert flag_direction(metric(1, "cm", flag="asymmetric")) == "asymmetric"
    assert flag_direction(metric(1, "cm", flag=None)) is None
    assert flag_direction(metric(20, "cm", flag="out of range", normal=[0, 10])) == "high"
    assert flag_direction(metric(None, "cm", flag="high", reason="x")) is None
    assert symmetry_index(10, 12) == 100 * 2 / 11
    assert symmetry_index(-1, 2) is None


def test_good_points_when_nothing_is_flagged() -> None:
    ms = {k: dict(v, flag=None) for k, v in handmade_analysis()["metrics"].items()}
    ms["cadence_spm"]["value"] = 176.0
    assert rank_findings(ms, U) == []
    good = good_points(ms, U)
    assert good[0] == "Cadence 176 spm is within the normal 170–185 spm."
    assert len(good) == 3


def test_evidence_frames_are_named_in_the_clinics_words() -> None:
    from device.report.catalog import event_label

    assert event_label("left", "initial_contact") == "Left landing"
    assert event_label("right", "toe_off") == "Right push-off"
    assert event_label("unknown", "midstance") == "Midstance (side unknown)"
    assert event_label(None, "initial_contact") == "Landing (side unknown)"
