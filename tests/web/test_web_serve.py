"""`gait-station run` as systemd runs it: binds the given host/port, serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.web.live_rig import source_spec

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_and_stops_cleanly_on_sigterm(tmp_path, model_path):
    port = _free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[pose]\nmodel_path = "{model_path}"\nnum_threads = 1\n[gpio]\nenabled = false\n', encoding="utf-8"
    )
    env = {**os.environ, "GAIT_STATION_API_TOKEN": "serve-test-token-0123"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "device.cli",
            "run",
            "--source",
            source_spec(),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--config",
            str(cfg),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = None
        end = time.monotonic() + 60
        while time.monotonic() < end and proc.poll() is None:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/status",
                    headers={"Authorization": "Bearer serve-test-token-0123"},
                )
                with urllib.request.urlopen(req, timeout=2) as resp:
                    status = resp.status
                    break
            except OSError:
                time.sleep(0.3)
        assert status == 200, "the dashboard never answered"
        # an open live stream must not hold up the shutdown
        stream = urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/live/events",
                headers={"Authorization": "Bearer serve-test-token-0123"},
            ),
            timeout=5,
        )
        assert stream.readline().startswith(b"retry:")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert time.monotonic() - t0 < 15
        assert "stopped" in out and "Traceback" not in out
        stream.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


# -- issue 13: live viewers and idle connections must not lock out Stop/status/login ----------------

TOKEN = "serve-test-token-0123"


@pytest.fixture
def served(tmp_path):
    """The dashboard on the real server (web.serve) with the station stand-in: 4 request threads."""
    from device.store import Store
    from tests.web.conftest import make_config, pin_hash
    from tests.web.fakes import FakeStation
    from web.app import create_app
    from web.auth import save_pin_hash
    from web.serve import DashboardServer

    cfg = make_config(tmp_path / "data")
    cfg.web.api_token = TOKEN
    cfg.capture.live_preview_fps = 10
    save_pin_hash(cfg.data_dir, pin_hash())
    store = Store(cfg.data_dir / "station.db")
    station = FakeStation(store)
    station.preview = (1, b"\xff\xd8" + b"j" * 5000 + b"\xff\xd9")
    app = create_app(station, cfg)
    server = DashboardServer(app, "127.0.0.1", 0, threads=4).start()
    try:
        yield server, station, cfg
    finally:
        server.stop()
        store.close()


def _open_stream(port: int, path: str, source: str, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})})
    resp = conn.getresponse()
    assert resp.status == 200, (path, resp.status)
    return conn, resp


def _timed(port: int, method: str, path: str, source: str = "127.0.0.1", headers=None) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})})
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - t0
    finally:
        conn.close()


def test_forty_live_streams_hold_no_request_thread(served):
    server, station, _ = served
    streams = []
    for i in range(20):  # 20 tablets on the live page: two streams each, 4 request threads in all
        ip = f"127.0.0.{10 + i}"
        streams.append(_open_stream(server.port, "/live/events", ip))
        streams.append(_open_stream(server.port, "/live/preview.mjpg", ip))
    try:
        for _, resp in streams:  # every viewer gets data
            first = resp.readline()
            assert first.startswith((b"retry:", b"--gaitframe")), first
        station.state = "capturing"
        for _ in range(10):
            code, dt = _timed(server.port, "GET", "/api/status")
            assert code == 200 and dt < 1.0, dt
        code, dt = _timed(server.port, "POST", "/api/capture/stop")
        assert code == 200 and dt < 1.0, dt
        assert ("stop", None) in station.calls
        assert _timed(server.port, "GET", "/login", headers={"Authorization": ""})[0] == 200
        events = server.app.extensions["gait_live_hub"].feed("events")
        assert events.viewers == 20 and len(station.subs) == 1  # one subscription for 20 viewers
    finally:
        for conn, _ in streams:
            conn.close()


def test_half_sent_requests_do_not_lock_out_the_api_and_are_closed(served):
    server, _, _ = served
    server.limits["head_timeout"] = 1.5
    idle = []
    for i in range(120):  # 120 "tablets" that never finish their request head
        s = socket.create_connection(
            ("127.0.0.1", server.port), timeout=5, source_address=(f"127.0.1.{i + 1}", 0)
        )
        s.sendall(b"GET /api/status HTTP/1.1\r\nHost: station\r\n")
        idle.append(s)
    try:
        for _ in range(5):
            code, dt = _timed(server.port, "GET", "/api/status")
            assert code == 200 and dt < 1.0, dt
        time.sleep(2.5)
        closed = 0
        for s in idle:
            s.settimeout(2)
            with contextlib.suppress(TimeoutError, ConnectionResetError):
                closed += s.recv(100) == b""
        assert closed == 120  # the server closed every half-sent connection
    finally:
        for s in idle:
            s.close()


def test_one_address_cannot_hold_the_server(served):
    from web.serve import PER_ADDRESS_CONNECTIONS

    server, _, _ = served
    socks = [
        socket.create_connection(("127.0.0.1", server.port), timeout=5, source_address=("127.0.2.1", 0))
        for _ in range(PER_ADDRESS_CONNECTIONS + 10)
    ]
    try:
        time.sleep(0.3)
        refused = 0
        for s in socks:
            s.settimeout(0.2)
            with contextlib.suppress(TimeoutError):
                refused += s.recv(1) == b""
        assert refused == 10
        assert _timed(server.port, "GET", "/api/status", source="127.0.2.2")[0] == 200
    finally:
        for s in socks:
            s.close()


def _login_cookie(port: int) -> tuple[str, str]:
    from tests.web.conftest import PIN, csrf_from

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    page = resp.read().decode()
    cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
    form = urllib.parse.urlencode({"pin": PIN, "csrf_token": csrf_from(page)})
    conn.request(
        "POST",
        "/login",
        body=form,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 302
    cookie = next(
        c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") if c.startswith("gait_station=")
    )
    conn.request("GET", "/", headers={"Cookie": cookie})
    home = conn.getresponse()
    csrf = csrf_from(home.read().decode())
    conn.close()
    return cookie, csrf


def _ends_within(resp, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if resp.readline() == b"":
                return True
        except (TimeoutError, OSError):
            return True
    return False


def test_logout_and_a_pin_change_close_open_live_streams(served):
    from tests.web.conftest import pin_hash
    from web.auth import save_pin_hash

    server, _, cfg = served
    cookie, csrf = _login_cookie(server.port)
    conn, resp = _open_stream(
        server.port, "/live/events", "127.0.0.1", {"Cookie": cookie, "Authorization": ""}
    )
    assert resp.readline().startswith(b"retry:")
    code, _ = _timed(
        server.port,
        "POST",
        "/logout",
        headers={"Cookie": cookie, "Authorization": "", "X-CSRF-Token": csrf},
    )
    assert code == 302
    assert _ends_within(resp, 5), "the stream outlived the logout"
    conn.close()

    cookie, _ = _login_cookie(server.port)
    conn, resp = _open_stream(
        server.port, "/live/preview.mjpg", "127.0.0.1", {"Cookie": cookie, "Authorization": ""}
    )
    assert resp.readline().startswith(b"--gaitframe")
    save_pin_hash(cfg.data_dir, pin_hash("815304"))  # `gait-station set-pin` while the tablet watches
    assert _ends_within(resp, 5), "the stream outlived the PIN change"
    conn.close()
