"""CupsPrinter against a private cupsd with a cups-pdf queue (tests/cups_server.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from device.printing import JOB_STATES, CupsPrinter, PrintError, format_summary, summary_pdf
from tests.cups_server import CupsServer, in_ci


def pdftotext(data_or_path: bytes | Path) -> str:
    if shutil.which("pdftotext") is None:
        msg = "pdftotext (poppler-utils) not installed"
        if in_ci():
            pytest.fail(msg)
        pytest.skip(msg)
    if isinstance(data_or_path, Path):
        return subprocess.run(
            ["pdftotext", "-layout", str(data_or_path), "-"], capture_output=True, text=True, check=True
        ).stdout
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data_or_path, capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.slow
def test_summary_pdf_has_the_lines(session: dict[str, Any]) -> None:
    lines = format_summary(session, clinic_name="Riverside Physio")
    pdf = summary_pdf(lines, paper="Letter")
    assert pdf.startswith(b"%PDF")
    text = pdftotext(pdf)
    assert "Riverside Physio" in text and "Jane Müller" in text and "164 spm" in text


def test_summary_pdf_refuses_unknown_paper() -> None:
    with pytest.raises(ValueError, match="A4, Letter"):
        summary_pdf(["x"], paper="A5")


@pytest.mark.cups
def test_print_summary_comes_out_of_the_cups_pdf_queue(
    cups_server: CupsServer, session: dict[str, Any]
) -> None:
    printer = cups_server.printer()
    assert printer.available()
    job = printer.print_summary(format_summary(session, clinic_name="Riverside Physio"), title="Summary Jane")
    queue, _, number = job.rpartition("-")
    assert queue == cups_server.queue and number.isdigit()
    out = cups_server.wait_for_pdf(job)
    text = pdftotext(out)
    assert "Jane Müller" in text
    assert "164 spm" in text
    # The job is reported completed once cups-pdf is done.
    deadline = time.monotonic() + 10
    while (state := printer.job_state(job)) != "completed" and time.monotonic() < deadline:
        assert state in JOB_STATES
        time.sleep(0.1)
    assert state == "completed"


@pytest.mark.cups
def test_print_file_with_copies_and_title(cups_server: CupsServer, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(summary_pdf(["Full gait report", "Knee flexion at landing 12 deg"]))
    job = cups_server.printer().print_file(pdf, title="Report 7")
    text = pdftotext(cups_server.wait_for_pdf(job))
    assert "Knee flexion at landing" in text


@pytest.mark.cups
def test_missing_queue_is_a_clear_print_error(cups_server: CupsServer, tmp_path: Path) -> None:
    printer = cups_server.printer("no-such-printer")
    assert not printer.available()
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(PrintError, match=r"no printer queue 'no-such-printer' in CUPS"):
        printer.print_file(pdf)
    with pytest.raises(PrintError, match="no printer queue"):
        printer.check()


@pytest.mark.cups
def test_unknown_job(cups_server: CupsServer) -> None:
    with pytest.raises(PrintError, match="no print job"):
        cups_server.printer().job_state(f"{cups_server.queue}-99999")


@pytest.mark.cups
def test_no_default_destination(cups_server: CupsServer) -> None:
    printer = CupsPrinter(None, server=cups_server.server)
    with pytest.raises(PrintError, match="no default printer"):
        printer.check()


def _need_lp() -> None:
    if shutil.which("lp") is None:
        if in_ci():
            pytest.fail("lp (cups-client) not installed")
        pytest.skip("lp (cups-client) not installed")


def test_cups_down_is_a_clear_print_error(tmp_path: Path) -> None:
    _need_lp()
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    printer = CupsPrinter("anything", server=str(tmp_path / "no-cupsd.sock"), timeout_s=10)
    assert not printer.available()
    with pytest.raises(PrintError, match="CUPS print service at .* is not running"):
        printer.print_file(pdf)


def test_missing_file_and_missing_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PrintError, match="does not exist"):
        CupsPrinter("q").print_file(tmp_path / "nope.pdf")
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    monkeypatch.setenv("PATH", str(tmp_path))  # no lp anywhere
    with pytest.raises(PrintError, match="install the cups-client package"):
        CupsPrinter("q").print_file(pdf)
