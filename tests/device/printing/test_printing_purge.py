"""Deleting a runner or a session takes their print jobs out of CUPS (the private cupsd, its queue
paused like a printer out of paper): the queued report, its spooled PDF and its job history go,
and no job title ever names the runner."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.config import Config
from device.printing import summary_pdf
from device.printing.purge import CupsJobPurger
from device.station import Station
from tests.cups_server import CupsServer

NAME = "Zelda Quxworthy"


def _run(cups: CupsServer, tool: str, *args: str) -> str:
    env = {**os.environ, "LC_ALL": "C"}
    return subprocess.run(
        [tool, "-h", cups.server, *args], capture_output=True, text=True, env=env, check=True
    ).stdout


def _spooled(cups: CupsServer, job: str) -> list[str]:
    """The job's files in cupsd's spool: its control file (title) and its document (the PDF)."""
    n = job.rsplit("-", 1)[1]
    return sorted(p.name for p in (cups.root / "spool").iterdir() if p.name.lstrip("cd").startswith(n))


@pytest.fixture
def paused(cups_server: CupsServer) -> Iterator[CupsServer]:
    """The queue stopped (the printer is out of paper): jobs wait in the spool."""
    subprocess.run(["cupsdisable", "-h", cups_server.server, cups_server.queue], check=True)
    yield cups_server
    subprocess.run(["cancel", "-h", cups_server.server, "-a", cups_server.queue], check=False)
    subprocess.run(["cupsenable", "-h", cups_server.server, cups_server.queue], check=True)


@pytest.fixture
def station(tmp_path: Path, paused: CupsServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Station]:
    cfg = Config()
    cfg.storage.data_dir = str(tmp_path / "data")
    cfg.gpio.enabled = False
    cfg.printing.cups_queue = paused.queue
    cfg.printing.receipt_printer = ""  # the summary goes through CUPS as a sheet
    monkeypatch.setenv("CUPS_SERVER", paused.server)
    st = Station(cfg, "synthetic")
    # the report's content is not the point: a small PDF with the runner's name (no WeasyPrint)
    monkeypatch.setattr(
        st, "report_pdf", lambda sid: summary_pdf([f"Gait report of {NAME}", f"session {sid}"])
    )
    yield st
    st.store.close()


def _session(st: Station) -> tuple[int, int]:
    rid = st.store.create_runner(NAME, 170)
    return rid, st.store.create_session(rid, speed_kmh=10)


def test_deleting_the_runner_purges_their_queued_report(station: Station, paused: CupsServer) -> None:
    rid, sid = _session(station)
    job = station.print_report(sid)
    listing = _run(paused, "lpq", "-P", paused.queue, "-l")  # what anyone at the station can list
    assert f"Gait report, session {sid}" in listing
    assert NAME not in listing  # the title says which session, not whose
    assert _spooled(paused, job), "the job should wait in the paused queue"
    assert station.store.print_jobs(sid) == [job]

    station.store.delete_runner(rid)

    assert job not in _run(paused, "lpstat", "-W", "all", "-o")  # not queued, not in the history
    assert _spooled(paused, job) == []  # the PDF with the name is gone from the spool
    assert station.store.pending_print_jobs() == []


def test_deleting_a_session_while_cups_is_down_purges_its_job_when_cups_is_back(
    station: Station,
    paused: CupsServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, sid = _session(station)
    job = station.print_report(sid)
    monkeypatch.setenv("CUPS_SERVER", str(tmp_path / "cupsd-down.sock"))
    with caplog.at_level(logging.INFO, logger="device.printing.purge"):
        station.store.delete_session(sid)  # does not fail
    assert [r.levelno for r in caplog.records] == [logging.WARNING]  # one line says so
    assert job in caplog.records[0].getMessage()
    assert station.store.pending_print_jobs() == [job] and _spooled(paused, job)

    monkeypatch.setenv("CUPS_SERVER", paused.server)  # CUPS back: the next start purges it
    station.store.purge_print_jobs()
    assert _spooled(paused, job) == [] and station.store.pending_print_jobs() == []


def test_purging_a_job_cups_no_longer_knows_counts_as_gone(paused: CupsServer) -> None:
    purger = CupsJobPurger(paused.server)
    job = paused.printer().print_pdf(summary_pdf(["x"]), "x")
    assert purger.purge([job]) == [job]
    assert purger.purge([job, f"{paused.queue}-1"]) == [job, f"{paused.queue}-1"]
