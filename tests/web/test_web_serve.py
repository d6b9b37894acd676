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

from tests.support.live_rig import source_spec

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
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
STREAM_PATHS_SERVED = ("/live/events", "/live/preview.mjpg")  # rear.mjpg: 404 without a rear camera


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


@pytest.mark.slow
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


@pytest.mark.slow
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
    cookie = "; ".join(  # the login session and the trusted-device cookie
        c.split(";", 1)[0]
        for c in resp.headers.get_all("Set-Cookie")
        if c.startswith(("gait_station=", "gait_device="))
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


def test_a_stream_asked_for_by_head_or_post_shows_no_internal_headers(served):
    """HEAD gets the stream's headers and no stream; no method ever sees which feed or whose
    login (the PIN's fingerprint) the server hands a stream over with."""
    server, _, _ = served
    cookie, _ = _login_cookie(server.port)
    for path in sorted(STREAM_PATHS_SERVED):
        for method in ("HEAD", "POST"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            try:
                conn.request(method, path, headers={"Cookie": cookie})
                resp = conn.getresponse()
                resp.read()  # HEAD: nothing, at once (not a stream that never ends)
            finally:
                conn.close()
            where = f"{method} {path}"
            assert resp.status == 200 if method == "HEAD" else resp.status >= 400, where
            assert not [k for k in resp.headers if k.lower().startswith("x-gait")], (where, resp.headers)
            if method == "HEAD":
                assert resp.getheader("Content-Type", "").startswith(("text/event-stream", "multipart/")), (
                    where
                )
    feeds = server.app.extensions["gait_live_hub"].feeds
    assert all(feed.viewers == 0 for feed in feeds.values())  # nobody was left watching


def test_a_refused_login_is_answered_before_a_request_thread(served):
    """Once an address must wait, its login page and PIN posts are answered by the server loop
    itself (no Flask, no template, no scrypt): a flood then costs the station little."""
    server, _, _ = served
    cookie, _ = _login_cookie(server.port)  # the tablet: trusted from now on
    ip = "127.0.4.1"
    limiter = server.app.extensions["gait_login_limiter"]
    for _ in range(3):  # cfg.web.login_attempts_per_minute = 3 wrong PINs from that address
        assert limiter.admit(f"ip:{ip}") == 0
    for method in ("GET", "POST"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5, source_address=(ip, 0))
        conn.request(method, "/login")
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        assert resp.status == 429 and "Try again in" in body and int(resp.getheader("Retry-After")) > 0
        assert resp.getheader("Set-Cookie") is None  # not even a session: nothing but the refusal
    # the tablet, same address or not, still gets its login page
    code, _ = _timed(server.port, "GET", "/login", source=ip, headers={"Authorization": "", "Cookie": cookie})
    assert code in (200, 302)


# -- issue 13 item 9: a damaged data folder is one line at start, not a traceback --------------------


def _run_once(tmp_path: Path, model_path: Path, data: Path) -> subprocess.CompletedProcess[str]:
    conf = tmp_path / "config.toml"
    conf.write_text(
        f'[pose]\nmodel_path = "{model_path}"\nnum_threads = 1\n[gpio]\nenabled = false\n', encoding="utf-8"
    )
    args = ["run", "--source", "synthetic", "--port", str(_free_port()), "--config", str(conf)]
    code = "import sys; from device.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args, "--data-dir", str(data)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(res: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("gait-station run: error:")]
    assert len(lines) == 1, res.stderr
    return lines[0]


@pytest.mark.slow
def test_corrupt_database_or_binary_secret_key_is_one_line_at_start(tmp_path, model_path):
    import random

    from device.store import Store

    data = tmp_path / "corrupt"
    data.mkdir()
    (data / "station.db").write_bytes(random.Random(3).randbytes(20_000))
    line = _one_line(_run_once(tmp_path, model_path, data))
    assert "station.db" in line and "backup" in line

    data = tmp_path / "damaged"
    Store(data / "station.db").close()  # a real database whose pages are then overwritten
    raw = bytearray((data / "station.db").read_bytes())
    raw[100:] = random.Random(4).randbytes(len(raw) - 100)
    (data / "station.db").write_bytes(bytes(raw))
    assert "station.db" in _one_line(_run_once(tmp_path, model_path, data))

    data = tmp_path / "key"
    data.mkdir()
    (data / "secret_key").write_bytes(random.Random(5).randbytes(64) + b"\xff")
    line = _one_line(_run_once(tmp_path, model_path, data))
    assert "secret_key" in line and "delete it" in line


def test_read_only_database_is_one_line(tmp_path, monkeypatch, capsys):
    """`gait-station run` on a database it may not write: one line naming the fix, exit 2 (as
    root the test cannot make the file read-only, so the station's open says it is)."""
    import sqlite3

    from device.cli import main as cli_main

    class ReadOnlyStation:
        def __init__(self, cfg, source_spec=None):
            raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr("device.station.Station", ReadOnlyStation)
    monkeypatch.delenv("GAIT_STATION_CONFIG", raising=False)
    rc = cli_main(["run", "--source", "synthetic", "--data-dir", str(tmp_path)])  # fails before it listens
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"gait-station run: error: cannot use the database {tmp_path / 'station.db'}")
    assert err[0].endswith(
        "readonly database; make the data folder and the database writable by the station's user"
    )


def test_a_tablet_that_stops_reading_is_dropped_not_buffered(served, monkeypatch):
    import threading

    from web import serve

    server, station, _ = served
    monkeypatch.setattr(serve, "WRITE_TIMEOUT_S", 1.0)
    stop = threading.Event()

    def camera() -> None:  # a new 300 kB preview frame every 50 ms
        seq = 1
        while not stop.wait(0.05):
            seq += 1
            station.preview = (seq, b"\xff\xd8" + bytes([seq % 251]) * 300_000 + b"\xff\xd9")

    cam = threading.Thread(target=camera, daemon=True)
    cam.start()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind(("127.0.0.7", 0))
    s.connect(("127.0.0.1", server.port))
    s.sendall(f"GET /live/preview.mjpg HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
    preview = server.app.extensions["gait_live_hub"].feed("preview")
    try:
        end = time.monotonic() + 5
        while preview.viewers == 0 and time.monotonic() < end:
            time.sleep(0.05)
        assert preview.viewers == 1
        end = time.monotonic() + 10  # never read: the server gives up on it after ~1 s of no progress
        while preview.viewers and time.monotonic() < end:
            time.sleep(0.1)
        assert preview.viewers == 0, "a stuck tablet is still being fed"
        assert _timed(server.port, "GET", "/api/status")[0] == 200
    finally:
        stop.set()
        s.close()


def _thread_nice(prefix: str) -> list[int]:
    import threading

    return [
        os.getpriority(os.PRIO_PROCESS, t.native_id)
        for t in threading.enumerate()
        if t.name.startswith(prefix) and t.native_id is not None
    ]


def test_the_dashboard_threads_share_the_capture_priority_and_the_pin_hash_runs_below(served):
    """The event loop and request threads take the GIL in turns with the camera loop: at a lower
    priority, one preempted while holding the GIL makes the camera wait (priority inversion), so
    they run at the capture's priority. The PIN hash releases the GIL while it works: it runs
    lower, so a login flood's hashing yields the CPU to the capture. The GIL is handed over
    within 1 ms, not CPython's 5 ms, so the camera loop gets it back promptly after each
    OpenCV call."""
    server, _, _ = served
    _login_cookie(server.port)  # one request thread and one PIN check have run
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert _thread_nice("dashboard-server") == [own]
    request_threads = _thread_nice("WSGI")
    assert request_threads and set(request_threads) == {own}
    pin_check = _thread_nice("pin-check")
    assert pin_check and all(n == min(19, own + 10) for n in pin_check)  # 19: the lowest there is
    assert sys.getswitchinterval() <= 0.001


def test_an_endless_request_head_is_refused_not_buffered(served):
    """A request head is at most MAX_HEAD_BYTES (httptools, unlike h11, sets no limit itself): a
    client sending headers without end gets 431 and the connection is closed; others are served."""
    from web.serve import MAX_HEAD_BYTES

    server, _, _ = served
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        s.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        with contextlib.suppress(OSError):
            for i in range(4 * MAX_HEAD_BYTES // 1000):
                s.sendall(f"X-Filler-{i}: {'a' * 990}\r\n".encode())
        with contextlib.suppress(OSError):
            while chunk := s.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    finally:
        s.close()
    assert _timed(server.port, "GET", "/api/status")[0] == 200


def test_a_request_body_sent_with_its_head_is_not_counted_as_head(served):
    """A JSON body of 100 KB (the app takes up to 256 KB) arriving in the same reads as its head
    is a body, not an over-long head: the app answers it."""
    server, _, _ = served
    body = b'{"notes": "' + b"n" * 100_000 + b'"}'
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(
            b"POST /api/capture/start HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + TOKEN.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    finally:
        s.close()
    status = int(answer.split(b" ", 2)[1])
    assert status != 431 and status < 500, answer[:200]
