"""Simultaneous starts (issue 13, item 1): of two or more starts at the same instant — two
POST /api/capture/start, a double-tapped form, the button plus a tablet — exactly one wins and
every other is refused (409 over HTTP), under any interleaving; nothing is left behind (no
orphan session, runner, thread, file handle or spool)."""

from __future__ import annotations

import http.client
import json
import os
import threading
from pathlib import Path

import pytest

from device.capture.controller import CaptureController
from device.config import Config
from device.station import Station
from device.store import Store
from tests.support.eventually import eventually

from .capture.capture_fakes import PoseFromTime, ScriptedSource, fake_analyzer

TOKEN = "race-test-token-0123456789"


def _cfg(data: Path) -> Config:
    cfg = Config()
    cfg.storage.data_dir = str(data)
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = 60
    cfg.capture.countdown_s = 0
    cfg.gpio.enabled = False
    cfg.printing.receipt_printer = ""
    cfg.web.api_token = TOKEN
    cfg.web.port = 0
    return cfg


def _capture_threads() -> set[str]:
    return {
        t.name
        for t in threading.enumerate()
        if t.name.startswith(("kp-writer-", "pose-spool-", "spool-", "finalize-", "finish-"))
    }


def _open_files() -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue  # closed meanwhile
    return sorted(out)


def _leaked(before: list[str]) -> list[str]:
    now = list(_open_files())
    for f in before:
        if f in now:
            now.remove(f)
    return now


def _race(n: int, fn, ready=None) -> list:
    """Run ``fn(i)`` on ``n`` threads released together by a barrier; their results.
    ``ready(i)`` (optional) runs on each thread before the barrier (e.g. connect)."""
    barrier = threading.Barrier(n)
    results: list = []
    lock = threading.Lock()

    def run(i: int) -> None:
        arg = ready(i) if ready is not None else i
        barrier.wait()
        r = fn(arg)
        with lock:
            results.append(r)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    return results


@pytest.mark.parametrize("n", [2, 8])
def test_simultaneous_starts_on_the_controller_one_wins(tmp_path: Path, n: int) -> None:
    cfg = _cfg(tmp_path)
    store = Store(tmp_path / "station.db")
    src = ScriptedSource(live=True, fps=60)
    ctl = CaptureController(cfg, store, lambda: src, PoseFromTime(), analyzer=fake_analyzer([]), norms=None)
    ctl.start()
    try:
        assert ctl.wait_for_state("idle", 5) == "idle"
        store.list_sessions()  # this thread's own DB connection, before counting files
        # Round 0 may leave one descriptor of station.db that SQLite parks on purpose (a closed
        # connection's fd is kept while another holds a POSIX lock, then reused): count from 1.
        for round_ in range(6):  # many interleavings
            threads_before, fds_before = _capture_threads(), _open_files()

            def go(_i: int) -> int | None:
                try:
                    return ctl.start_capture()
                finally:
                    store.release_thread()  # the caller's own DB connection (per thread)

            results = _race(n, go)
            winners = [r for r in results if r is not None]
            assert len(results) == n and len(winners) == 1, results
            sessions = store.list_sessions()
            assert [s["id"] for s in sessions if s["status"] == "capturing"] == winners
            assert ctl.cancel_capture() is True
            assert ctl.wait_for_state("idle", 10) == "idle"
            assert store.list_sessions() == []  # no orphan session
            assert eventually(lambda b=threads_before: _capture_threads() <= b), _capture_threads()
            if round_:
                assert eventually(lambda f=fds_before: not _leaked(f)), _leaked(fds_before)
            assert not list((tmp_path / "spool").glob("session-*"))  # no orphan spool
    finally:
        ctl.close()
        store.close()


def test_simultaneous_http_starts_one_201_the_others_409(tmp_path: Path) -> None:
    from web.app import create_app
    from web.serve import DashboardServer

    cfg = _cfg(tmp_path / "data")
    src = ScriptedSource(live=True, fps=60)
    station = Station(cfg, "scripted", estimator=PoseFromTime(), source_factory=lambda: src)
    station.start()
    server = DashboardServer(create_app(station, cfg), "127.0.0.1", 0, threads=cfg.web.threads).start()
    host, port = server.url.split("//")[1].split(":")
    try:
        assert station.wait_for_state("idle", 5) == "idle"
        for round_ in range(4):
            n = 6

            def connect(i: int) -> tuple[int, http.client.HTTPConnection]:
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                conn.connect()  # connected before the barrier: the requests leave together
                return i, conn

            def post(arg: tuple[int, http.client.HTTPConnection], r: int = round_) -> tuple[int, dict]:
                i, conn = arg
                body = json.dumps({"runner": {"name": f"Runner {r}-{i}", "height_cm": 170}, "speed_kmh": 10})
                conn.request(
                    "POST",
                    "/api/capture/start",
                    body,
                    {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
                )
                resp = conn.getresponse()
                data = json.loads(resp.read() or b"{}")
                conn.close()
                return resp.status, data

            codes = _race(n, post, ready=connect)
            statuses = sorted(c for c, _ in codes)
            assert statuses == [201] + [409] * (n - 1), codes
            sid = next(d["session_id"] for c, d in codes if c == 201)
            sessions = station.store.list_sessions()
            assert [s["id"] for s in sessions] == [sid]  # no orphan session
            assert len(station.store.list_runners()) == 1  # the refused starts' runners removed
            assert station.cancel_capture() == sid
            assert station.wait_for_state("idle", 10) == "idle"
            assert station.store.list_sessions() == []
            for r in station.store.list_runners():
                station.store.delete_runner(r["id"])
            assert not list((cfg.data_dir / "spool").glob("session-*"))
    finally:
        server.stop()
        station.close()
