"""format_summary: the receipt text of a session."""

from __future__ import annotations

from typing import Any

import pytest

from device.config import Config
from device.norms_file import DEFAULT_PATH
from device.printing import format_summary
from tests.device.report.handmade import NORMS, norms_with_sides

CFG = Config()
CFG.station.norms_file = str(NORMS)  # the ranges the fixture's numbers were written against


@pytest.fixture
def session(session: dict[str, Any]) -> dict[str, Any]:
    """The printing fixture as the engine now stores it: schema 2, a 2-minute side-view capture
    at 30 fps with the near leg known and per-side counts (so its flags have their evidence)."""
    a = session["analysis"]
    a["schema_version"] = 2
    for m in a["metrics"].values():
        if m.get("left") is not None:
            m.update(n_left=20, n_right=20, sd_left=m["sd"], sd_right=m["sd"])
    a["view"]["detected"] = "side"
    a["quality"].update(
        frames_analysed=3600,
        duration_s=120.0,
        steps_used=40,
        strides_used=20,
        near_side="right",
        verdict_code="good",
        issues=[],
        verdict="good",
    )
    return session


def fmt(session: dict[str, Any], **kw: Any) -> list[str]:
    return format_summary(session, config=CFG, **kw)


def text(lines: list[str]) -> str:
    return "\n".join(lines)


def flowing(lines: list[str]) -> str:
    """The lines joined as wrapped prose reads."""
    return " ".join(ln.strip() for ln in lines)


def test_summary_has_the_headline_facts(session: dict[str, Any]) -> None:
    lines = fmt(session, clinic_name="Riverside Physio")
    t = text(lines)
    assert lines[0].strip() == "Riverside Physio"
    assert "Jane Müller" in t
    assert "2026-11-22" in t
    assert "12.0 km/h, 1% incline" in t
    assert "Pegasus 40" in t
    assert any(ln.startswith("Cadence") and ln.endswith("164 spm below normal") for ln in lines), t
    assert any(ln.startswith("Ground contact time") and ln.endswith("252 ms") for ln in lines), t
    assert "  L 248 ms   R 256 ms" in lines
    assert any(ln.startswith("Overstride") and ln.endswith("14.2 cm above normal") for ln in lines), t
    assert "  L 13.9 cm (far)   R 14.5 cm" in lines
    assert "Steps:  40 used (20 strides)" in lines
    assert "Capture: good" in lines


def test_main_flags_listed_most_important_first(session: dict[str, Any]) -> None:
    t = text(fmt(session))
    assert "What stood out:" in t
    bullets = list(t.split("What stood out:")[1].split("* ")[1:])
    # Overstride is the most important flagged metric (catalog importance), cadence next.
    assert len(bullets) == 2
    assert "14.2 cm" in bullets[0] and "164 spm" in bullets[1]


def test_unmeasurable_key_metric_says_why(session: dict[str, Any]) -> None:
    m = session["analysis"]["metrics"]["overstride_cm"]
    m.update(value=None, left=None, right=None, flag=None, reason="feet leave the frame at landing")
    lines = fmt(session)
    row = next(ln for ln in lines if ln.startswith("Overstride"))
    assert row.endswith("not measurable")
    assert "(feet leave the frame at landing)" in text(lines).replace("\n  ", " ")


def test_missing_cadence_is_not_measurable_not_zero(session: dict[str, Any]) -> None:
    session["analysis"]["cadence_spm"] = None
    del session["analysis"]["metrics"]["cadence_spm"]
    lines = fmt(session)
    assert next(ln for ln in lines if ln.startswith("Cadence")).endswith("not measurable")


@pytest.mark.parametrize("width", [24, 32, 42, 48, 64])
def test_every_line_fits_the_paper(session: dict[str, Any], width: int) -> None:
    session["shoes"] = "A very long shoe model name with a colourway description, size 44.5"
    lines = fmt(session, width_chars=width, clinic_name="The Extremely Long Named Running Clinic and Physio")
    assert all(len(ln) <= width for ln in lines), [ln for ln in lines if len(ln) > width]


def test_receipt_text_is_printer_safe(session: dict[str, Any]) -> None:
    session["analysis"]["metrics"]["knee_flexion_ic_deg"][
        "value"
    ] = -0.4  # would print "−0"/"−" in the report
    t = text(fmt(session))
    for ch in "−–—≤≥×→′″":
        assert ch not in t


def test_imperial_units(session: dict[str, Any]) -> None:
    t = text(fmt(session, units="imperial"))
    assert "7.5 mph" in t
    assert "5.6 in above normal" in t  # 14.2 cm


def test_failed_session(session: dict[str, Any]) -> None:
    session.update(status="failed", analysis=None, error="no runner found in the video")
    t = text(fmt(session))
    assert "Analysis failed: no runner found in the video" in t.replace("\n", " ")
    assert "Jane Müller" in t


def test_nothing_flagged(session: dict[str, Any]) -> None:
    # flags follow the values and the clinic's ranges: bring the flagged ones in range
    session["analysis"]["metrics"]["cadence_spm"]["value"] = 175.0
    session["analysis"]["metrics"]["overstride_cm"].update(value=6.0, left=5.9, right=6.1)  # ±3.4 cm of 10
    # 12° is on the packaged 12° floor: within the engine's error of it (±4.5°), "at the limit"
    session["analysis"]["metrics"]["knee_flexion_ic_deg"].update(value=20.0, left=19.0, right=21.0)
    t = text(fmt(session))
    assert "Nothing outside the clinic's normal ranges." in flowing(fmt(session))
    assert "What stood out" not in t


def test_nothing_flagged_but_a_value_at_the_limit_is_not_called_normal(session: dict[str, Any]) -> None:
    """Knee bend at landing 13° against the packaged 12° floor: inside the range by less than the
    engine's error (±4.5°). Not "nothing outside the normal ranges": at the limit, and why."""
    session["analysis"]["metrics"]["cadence_spm"]["value"] = 175.0
    session["analysis"]["metrics"]["overstride_cm"].update(value=6.0, left=5.9, right=6.1)
    session["analysis"]["metrics"]["knee_flexion_ic_deg"].update(value=13.0, left=12.5, right=13.5)
    t = flowing(fmt(session))
    assert "Nothing outside the clinic's normal ranges." not in t
    assert "Nothing flagged. At the limit: Knee bend at landing (see the report)." in t


def test_wrong_view_prints_why_first_and_no_flag(session: dict[str, Any]) -> None:
    session["analysis"]["view"] = {"kind": "rear", "facing": None, "detected": "side"}
    lines = fmt(session)
    t = text(lines)
    assert lines.index("NO FINDINGS FROM THIS CAPTURE:") < next(
        i for i, ln in enumerate(lines) if ln.startswith("Cadence")
    )
    assert "set to rear view but the video looks like a side view" in flowing(lines)
    assert "above normal" not in t and "below normal" not in t and "What stood out" not in t
    assert "Capture: unusable" in t


def test_unusable_capture_marks_a_number_that_has_no_normal_range(session: dict[str, Any], tmp_path) -> None:
    """A clinic without a contact-time range, a wrong-view capture: the contact time printed on the
    receipt carries the same mark as every number of that capture, not a bare value."""
    text_ = NORMS.read_text(encoding="utf-8")
    block = '[metrics.contact_time_ms]\nlow = 180\nhigh = 300\nsource = "test"\n'
    assert block in text_
    clinic = tmp_path / "clinic-norms.toml"
    clinic.write_text(text_.replace(block, ""), encoding="utf-8")
    cfg = Config()
    cfg.station.norms_file = str(clinic)
    session["analysis"]["view"] = {"kind": "rear", "facing": None, "detected": "side"}
    out = format_summary(session, config=cfg)
    row = next(i for i, ln in enumerate(out) if ln.startswith("Ground contact time"))
    assert out[row].split()[-2:] == ["252", "ms"]
    assert out[row + 2].strip() == "not enough evidence: see above", out[row : row + 3]


def test_far_leg_alone_is_not_enough_evidence(session: dict[str, Any], tmp_path) -> None:
    m = session["analysis"]["metrics"]
    m["cadence_spm"]["value"] = 175.0
    m["overstride_cm"].update(value=8.0, left=7.9, right=8.1)
    # facing right: the left leg is the far one; only it is over 25 cm
    m["overstride_cm"].update(value=20.0, left=31.0, right=9.0)
    m["knee_flexion_ic_deg"].update(value=20.0, left=19.0, right=21.0)  # clear of its 12° floor
    cfg = Config()  # the packaged norms (overstride ≤ 25 cm, contact ≤ 300 ms), each side judged
    cfg.station.norms_file = str(norms_with_sides(tmp_path, "overstride_cm", base=DEFAULT_PATH))
    lines = format_summary(session, config=cfg)
    t = flowing(lines)
    assert "L 31.0 cm (far)" in t
    assert "not enough evidence: only the left leg, the one further from the camera" in t
    assert "Nothing flagged. Not enough evidence for: Overstride" in t


def test_a_finding_on_the_near_leg_names_that_side_and_not_the_far_one(session: dict[str, Any]) -> None:
    """Stance knee L 26° (far) R 55° (near), mean 40° inside 35–50: the finding rests on the
    right knee, and the receipt says so on the right, never on the far left leg."""
    m = session["analysis"]["metrics"]
    m["knee_flexion_stance_peak_deg"] = {
        **m["knee_flexion_ic_deg"],
        **dict(value=40.0, left=26.0, right=55.0, sd=2.0, sd_left=2.0, sd_right=2.0, normal=None),
    }
    lines = fmt(session)
    row = next(i for i, ln in enumerate(lines) if ln.startswith("Peak knee bend in stance"))
    assert lines[row].split()[-1] == "40°"  # the mean is in range: not called high
    assert lines[row + 1] == "  L 26° (far)   R 55° above normal"
    assert "knee bends 55° under load on the right" in flowing(lines)


def test_an_imperial_receipt_says_why_a_value_may_be_normal_in_inches(session: dict[str, Any]) -> None:
    """Overstride 10.2 cm (≤ 10 cm) by less than the engine's error (±3.4 cm): the reason is in
    inches, as the number above it is."""
    session["analysis"]["metrics"]["overstride_cm"].update(
        value=10.2, left=10.1, right=10.3, sd=2.0, sd_left=2.0, sd_right=2.0, n=24, n_left=12, n_right=12
    )
    t = flowing(fmt(session, units="imperial"))
    assert "not enough evidence: above 3.9 in by less than the engine's error (±1.3 in): may be normal" in t
    assert " cm" not in t


def test_one_foot_contact_time_is_flagged_for_either_foot(session: dict[str, Any], tmp_path) -> None:
    """Contact times come from both feet's events (seen from the side): with a range for each
    side, the far foot counts."""
    session["analysis"]["metrics"]["contact_time_ms"].update(value=265.0, left=330.0, right=200.0)
    cfg = Config()
    cfg.station.norms_file = str(norms_with_sides(tmp_path, "contact_time_ms", base=DEFAULT_PATH))
    lines = format_summary(session, config=cfg)
    # the mean (265 ms) is in range: the left foot carries the flag, the mean is not called high
    assert any(ln.startswith("Ground contact time") and ln.endswith(" 265 ms") for ln in lines)
    assert "  L 330 ms above normal   R 200 ms" in lines
    assert "330 ms per step on the left" in " ".join(" ".join(lines).split())  # the finding quotes that foot


def test_a_walking_capture_prints_no_running_range(session: dict[str, Any]) -> None:
    """Walking: the receipt says the running norms are not applied and prints no range or
    verdict against them, like the report and the page."""
    session["analysis"]["activity"] = "walking"
    text = "\n".join(fmt(session))
    assert "the running norms are not applied" in " ".join(text.split())
    assert not any(w in text for w in ("170-185", "<=", ">=", "above normal", "below normal", "in range"))


def test_few_strides_reason_counts_as_the_steps_line_does(session: dict[str, Any]) -> None:
    """The reason at the top and the "Steps:" line name the same counts: strides and steps."""
    session["analysis"]["quality"].update(steps_used=13, strides_used=6)
    text = " ".join("\n".join(fmt(session)).split())
    assert "Only 6 usable strides (13 steps); findings need at least 8 strides (16 steps)" in text
    assert "Steps: 13 used (6 strides)" in text


def test_a_walking_capture_is_not_titled_running(session: dict[str, Any]) -> None:
    assert "Running gait summary" in text(fmt(session))
    session["analysis"]["activity"] = "walking"
    got = text(fmt(session))
    assert "Walking gait summary" in got and "Running gait summary" not in got
