"""Printer faults at the station: receipt printer missing, failing mid-job or out of paper, CUPS
down. The session, its summary text and its report stay; the dashboard says what went wrong; a
print later succeeds once the printer is back (dummy receipt printer, the private cupsd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from device.config import Config
from device.errors import UserError
from device.printing import PrintError
from device.station import Station
from tests.cups_server import CupsServer
from tests.device.printing.test_printing_receipt import FakeNetworkPrinter
from tests.support.synthetic_session import synthetic_session

pytestmark = pytest.mark.slow  # printer faults with a private cupsd and real reports

_SESSION_CACHE: list = []


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    """A station (store, printing; no camera loop) holding one analysed session with evidence."""
    if not _SESSION_CACHE:
        _SESSION_CACHE.append(synthetic_session(20.0))
    session, evidence = _SESSION_CACHE[0]
    cfg = Config()
    cfg.storage.data_dir = str(tmp_path / "data")
    cfg.gpio.enabled = False
    st = Station(cfg, "synthetic")
    rid = st.store.create_runner(session["runner"]["name"], session["runner"]["height_cm"])
    sid = st.store.create_session(rid, speed_kmh=session["speed_kmh"], view="side")
    for meta, jpeg in evidence:
        st.store.add_evidence(
            sid, meta["side"], meta["phase"], meta["t"], meta["frame"] or 0, jpeg, meta["keypoints"]
        )
    st.store.save_analysis(sid, session["analysis"])
    st.sid = sid  # type: ignore[attr-defined]
    yield st
    st.store.close()


def _kept(st: Station, sid: int) -> None:
    """Nothing lost: the session is done, its receipt text stored, its report still renders."""
    s = st.store.get_session(sid)
    assert s["status"] == "done" and s["analysis"]["cadence_spm"]
    assert s["summary_text"] and "Sam Synthetic" in s["summary_text"]
    assert s["printed_summary_at"] is None and s["printed_report_at"] is None
    assert st.report_pdf(sid)[:5] == b"%PDF-"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("file:/nonexistent/usb/lp0", "cannot reach the printer device"),  # unplugged
        ("file:/dev/full", "No space left on device"),  # the device fails while writing
        ("network:127.0.0.1:9", "cannot reach the network printer"),  # switched off
    ],
)
def test_receipt_printer_fault_keeps_summary_and_reprints_later(
    station: Station, spec: str, message: str
) -> None:
    sid = station.sid  # type: ignore[attr-defined]
    station.cfg.printing.receipt_printer = spec
    with pytest.raises(PrintError, match=message):
        station.print_summary(sid)
    assert f"summary of session {sid} not printed" in station.status()["printer_error"]
    assert message in station.status()["printer_error"]
    _kept(station, sid)
    text = station.store.get_session(sid)["summary_text"]
    station.cfg.printing.receipt_printer = "dummy"  # printer back
    station.print_summary(sid)
    s = station.store.get_session(sid)
    assert s["printed_summary_at"] and s["summary_text"] == text  # the stored text was printed
    assert station.status()["printer_error"] is None


def test_receipt_printer_out_of_paper(station: Station) -> None:
    sid = station.sid  # type: ignore[attr-defined]
    fake = FakeNetworkPrinter(paper_status=bytes([114]))  # paper end sensor
    try:
        station.cfg.printing.receipt_printer = f"network:127.0.0.1:{fake.port}"
        with pytest.raises(PrintError, match="out of paper"):
            station.print_summary(sid)
        fake.thread.join(5)
        assert b"Sam Synthetic" not in fake.received  # nothing half-printed
    finally:
        fake.close()
    assert "out of paper" in station.status()["printer_error"]
    _kept(station, sid)
    paper = FakeNetworkPrinter(paper_status=bytes([18]))  # roll replaced
    try:
        station.cfg.printing.receipt_printer = f"network:127.0.0.1:{paper.port}"
        station.print_summary(sid)
        paper.thread.join(5)
        assert b"Sam Synthetic" in paper.received
    finally:
        paper.close()
    assert station.store.get_session(sid)["printed_summary_at"]


def test_cups_down_then_back_report_and_summary_print_later(
    station: Station, cups_server: CupsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = station.sid  # type: ignore[attr-defined]
    station.cfg.printing.receipt_printer = ""  # the summary goes through CUPS too
    station.cfg.printing.cups_queue = cups_server.queue
    monkeypatch.setenv("CUPS_SERVER", str(tmp_path / "cupsd-down.sock"))  # the scheduler is not running
    with pytest.raises(PrintError, match="CUPS print service is not running"):
        station.print_report(sid)
    assert f"report of session {sid} not printed" in station.status()["printer_error"]
    with pytest.raises(UserError, match="not running"):
        station.print_summary(sid)
    _kept(station, sid)

    monkeypatch.setenv("CUPS_SERVER", cups_server.server)  # cups started again
    job = station.print_report(sid)
    pdf = cups_server.wait_for_pdf(job)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000  # the full report with images
    station.print_summary(sid)
    s = station.store.get_session(sid)
    assert s["printed_report_at"] and s["printed_summary_at"]
    assert station.status()["printer_error"] is None
