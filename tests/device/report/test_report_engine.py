"""The report from real gait-engine output: a synthetic runner session with evidence frames and the
force-plate validation trial (real running, MoveNet-like noise)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from device.config import Config
from device.keypoints_csv import read_csv
from device.norms_file import load_norms
from device.report import render_report_html, render_report_pdf, session_from_analysis
from device.report.units import Units, is_number
from tests.device.report.conftest import pdf_info, pdf_text
from tests.support.synthetic_session import NAME, synthetic_session

pytestmark = pytest.mark.slow  # full report PDFs from the gait engine's analyses


@pytest.fixture(scope="module")
def synthetic() -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    return synthetic_session(duration_s=25.0)  # findings need 20 s of running (norms.toml [evidence])


def _expected_values(analysis: dict[str, Any], units: Units) -> list[str]:
    """Every measured number of the analysis as the report formats it."""
    out = []
    for m in analysis["metrics"].values():
        for k in ("value", "left", "right"):
            if is_number(m.get(k)):
                out.append(units.value(m[k], m["unit"]))
    return out


def _check_text(text: str, analysis: dict[str, Any], units: Units) -> None:
    flat = " ".join(text.split())
    missing = [v for v in _expected_values(analysis, units) if v not in flat]
    assert not missing, f"values not in the PDF text: {missing}"


def test_synthetic_session_pdf(synthetic, tmp_path: Path) -> None:
    session, evidence = synthetic
    analysis = session["analysis"]
    assert len(evidence) == 6  # the engine picked landing, midstance, push-off per side
    pdf = render_report_pdf(session, Config(), evidence)
    text = pdf_text(pdf, tmp_path)
    assert NAME in text
    _check_text(text, analysis, Units("metric"))
    for m in analysis["metrics"].values():  # every unmeasurable metric says why
        if m["value"] is None and m.get("reason") and "rear" not in m["reason"]:
            assert " ".join(m["reason"].split()[-3:]) in " ".join(text.split())
    info = pdf_info(pdf, tmp_path)
    assert 1 <= int(info["Pages"]) <= 2
    if shutil.which("pdfimages"):
        src = tmp_path / "img.pdf"
        src.write_bytes(pdf)
        listing = subprocess.run(
            ["pdfimages", "-list", str(src)], capture_output=True, text=True, check=True
        ).stdout
        assert sum(1 for ln in listing.splitlines()[2:] if " image " in ln) >= 6  # evidence frames embedded
    # rasterises cleanly at low resolution (what we looked at while laying it out)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(tmp_path / "report.pdf"), str(tmp_path / "page")], check=True
        )
        assert 1 <= len(list(tmp_path.glob("page-*.png"))) <= 2


def test_synthetic_session_imperial_letter(synthetic, tmp_path: Path) -> None:
    session, evidence = synthetic
    cfg = Config()
    cfg.station.units = "imperial"
    cfg.printing.paper = "Letter"
    pdf = render_report_pdf(session, cfg, evidence[:2])
    info = pdf_info(pdf, tmp_path)
    assert info["Page size"].startswith("612 x 792") and 1 <= int(info["Pages"]) <= 2
    text = pdf_text(pdf, tmp_path)
    _check_text(text, session["analysis"], Units("imperial"))
    assert "6.8 mph" in text  # 11 km/h


def test_engine_cues_and_flags_reach_the_page(synthetic) -> None:
    session, _ = synthetic
    a = session["analysis"]
    html = render_report_html(session, Config())
    flagged = [k for k, m in a["metrics"].items() if m.get("flag")]
    assert flagged, "the synthetic runner is built to be flagged (cadence 158)"
    assert "Key findings" in html
    for cue in a["cues"]:
        assert cue["title"] in html


def test_validation_trial_report(validation_dir: Path, tmp_path: Path) -> None:
    from device.gait import analyze
    from device.gait.types import RunnerInfo

    tl = read_csv(validation_dir / "hamner_mt_run300.realistic.csv")
    analysis = analyze(tl, RunnerInfo(height_cm=177.0, speed_kmh=10.8), norms=load_norms()).to_dict()
    session = session_from_analysis(analysis, name="Hamner run300", source="hamner_mt_run300.realistic.csv")
    pdf = render_report_pdf(session, Config())
    text = pdf_text(pdf, tmp_path)
    assert "Hamner run300" in text and "10.8 km/h" in text
    _check_text(text, analysis, Units("metric"))
    assert 1 <= int(pdf_info(pdf, tmp_path)["Pages"]) <= 2


def test_sample_clip_session_pdf(tmp_path: Path, samples_dir: Path, model_path: Path) -> None:
    """A real treadmill clip → MoveNet → gait engine → the printed report: the runner and every
    measured value of that analysis are on the page; it rasterises to 1–2 pages."""
    from device.analyze import analyze_file

    analysis, _ = analyze_file(
        samples_dir / "treadmill_side_18fps.gif",
        height_cm=175.0,
        speed_kmh=10.0,
        view="auto",
        capture_fps=None,
        model=str(model_path),
        threads=2,
        cfg=None,
        show_progress=False,
    )
    assert analysis["view"]["kind"] == "side" and analysis["cadence_spm"]
    session = session_from_analysis(analysis, name="Clip Runner", source="treadmill_side_18fps.gif")
    pdf = render_report_pdf(session, Config())
    text = pdf_text(pdf, tmp_path)
    assert "Clip Runner" in text and f"{analysis['cadence_spm']:.0f} spm" in text
    _check_text(text, analysis, Units("metric"))
    assert 1 <= int(pdf_info(pdf, tmp_path)["Pages"]) <= 2
    (tmp_path / "clip.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", str(tmp_path / "clip.pdf"), str(tmp_path / "clip")], check=True
        )
        assert 1 <= len(list(tmp_path.glob("clip-*.png"))) <= 2
