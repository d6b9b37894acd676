"""Hardening of the dashboard: path traversal on exports, absurd and oversized input, script in a
runner's name on every page and in the report, the server binding only to the configured address,
and secrets (PIN, API token, session key) never in the logs.

Already proven elsewhere: default-deny URL-map walk and CSRF on every state change
(test_web_routes.py), login rate limit (test_web_auth.py), the systemd sandbox
(tests/device/test_systemd_unit.py)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support.live_rig import source_spec
from tests.web.conftest import csrf_from, pin_hash
from tests.web.test_web_pages import XSS, _done_session
from web.auth import save_pin_hash

REPO = Path(__file__).resolve().parents[2]
TOKEN = "tok-7f3a9c1e5b2d4f6a8c0e"


def _post(client, url: str, body) -> object:
    return client.post(url, json=body, headers={"X-CSRF-Token": client.csrf})


# -- path traversal ------------------------------------------------------------------------------

TRAVERSALS = [
    "/api/sessions/..%2F..%2Fetc%2Fpasswd/report.pdf",
    "/api/sessions/../../etc/passwd/report.pdf",
    "/api/sessions/%2e%2e%2f%2e%2e%2fetc%2fpasswd/keypoints.csv",
    "/api/sessions/1%2F..%2F..%2Fstation.db/analysis.json",
    "/api/sessions/-1/report.pdf",
    "/api/sessions/1e3/report.pdf",
    "/sessions/..%2F..%2Fetc%2Fpasswd",
    "/sessions/1/evidence/..%2F..%2Fstation.db.jpg",
    "/static/..%2F..%2Fdevice%2Fconfig.py",
    "/static/../security.py",
    "/static/%2e%2e/app.py",
    "/static/..%5Csecurity.py",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_path_traversal_on_export_report_and_static_routes_fails(logged_in, store, url: str) -> None:
    rid = store.create_runner("Ann", 170)
    _done_session(store, rid)
    resp = logged_in.get(url)
    body = resp.get_data()
    assert resp.status_code in (400, 404), (url, resp.status_code)
    assert b"root:" not in body and b"SQLite format" not in body and b"import " not in body, url


def test_traversal_is_refused_before_login_too(client) -> None:
    for url in TRAVERSALS[:4]:
        assert client.get(url).status_code in (401, 404), url
    assert client.get("/static/..%2F..%2Fdevice%2Fconfig.py").status_code == 404


def test_download_filenames_cannot_carry_a_path_or_header(logged_in, store) -> None:
    rid = store.create_runner('../../etc/x"\r\nSet-Cookie: a=b', 170)
    sid = _done_session(store, rid)
    for ext in ("analysis.json", "keypoints.csv"):
        resp = logged_in.get(f"/api/sessions/{sid}/{ext}")
        if resp.status_code != 200:
            continue  # no keypoints stored in this fixture session: nothing downloaded
        cd = resp.headers["Content-Disposition"]
        name = re.search(r'filename="([^"]*)"', cd)[1]
        assert "/" not in name and ".." not in name and "\r" not in cd and "\n" not in cd, cd
        assert all(not c.startswith("a=b") for c in resp.headers.getlist("Set-Cookie"))


# -- absurd and oversized input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runner", "session", "field"),
    [
        ({"name": "A", "height_cm": "nan"}, {"speed_kmh": 10}, "height_cm"),
        ({"name": "A", "height_cm": "inf"}, {"speed_kmh": 10}, "height_cm"),
        ({"name": "A", "height_cm": 1e400}, {"speed_kmh": 10}, "height_cm"),  # JSON Infinity
        ({"name": "A", "height_cm": -170}, {"speed_kmh": 10}, "height_cm"),
        ({"name": "A", "height_cm": 9000}, {"speed_kmh": 10}, "height_cm"),
        ({"name": "A", "height_cm": 170}, {"speed_kmh": 300}, "speed_kmh"),
        ({"name": "A", "height_cm": 170}, {"speed_kmh": "NaN"}, "speed_kmh"),
        ({"name": "A", "height_cm": 170}, {"speed_kmh": True}, "speed_kmh"),
        ({"name": "A" * 10_000, "height_cm": 170}, {"speed_kmh": 10}, "runner_name"),
        ({"name": "A", "height_cm": 170}, {"speed_kmh": 10, "notes": "x" * 100_000}, "notes"),
        ({"name": "A", "height_cm": 170}, {"speed_kmh": 10, "shoes": ["a"]}, "shoes"),
        ({"name": "A\x00B", "height_cm": 170}, {"speed_kmh": 10}, "runner_name"),
    ],
)
def test_api_refuses_absurd_values_with_400(logged_in, station, store, runner, session, field) -> None:
    resp = _post(logged_in, "/api/capture/start", {"runner": runner, **session})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.is_json and field in resp.json.get("fields", {}) or field.split("_")[0] in resp.json["error"]
    assert station.calls == [] and store.list_runners() == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"height_cm": "nan", "speed_kmh": "10"}, "height_cm"),
        ({"height_cm": "1e999", "speed_kmh": "10"}, "height_cm"),
        ({"height_cm": "170", "speed_kmh": "-3"}, "speed_kmh"),
        ({"height_cm": "170", "speed_kmh": "infinity"}, "speed_kmh"),
        ({"height_cm": "170", "speed_kmh": "10", "runner_name": "B" * 5000}, "runner_name"),
        ({"height_cm": "170", "speed_kmh": "10", "notes": "n" * 50_000}, "notes"),
    ],
)
def test_form_refuses_absurd_values_with_the_field_marked(logged_in, station, store, form, field) -> None:
    data = {"csrf_token": logged_in.csrf, "runner_id": "new", "runner_name": "Ann", **form}
    resp = logged_in.post("/sessions/new", data=data)
    assert resp.status_code == 400
    assert f'id="err-{field}"' in resp.get_data(as_text=True)
    assert station.calls == [] and store.list_runners() == []


def test_oversized_request_bodies_are_413_not_a_crash(logged_in, station) -> None:
    big = "x" * (300 * 1024)
    resp = logged_in.post(
        "/sessions/new", data={"csrf_token": logged_in.csrf, "runner_name": "A", "notes": big}
    )
    assert resp.status_code == 413
    resp = _post(logged_in, "/api/capture/start", {"runner": {"name": "A", "height_cm": 170}, "notes": big})
    assert resp.status_code == 413
    resp = logged_in.post(
        "/api/capture/start",
        data=b"[" * 200_000 + b"]" * 200_000,
        content_type="application/json",
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert resp.status_code in (400, 413)  # deep nesting: refused, not a RecursionError
    assert station.calls == []
    assert logged_in.get("/api/status").status_code == 200  # still serving


# -- script in a runner's name ------------------------------------------------------------------


def test_runner_name_with_script_escaped_on_home_and_in_the_report(logged_in, store, cfg) -> None:
    rid = store.create_runner(XSS, 170, notes="<b onmouseover=alert(2)>")
    sid = _done_session(
        store, rid, shoes="<img src=x onerror=alert(1)>", notes="</textarea><script>x()</script>"
    )
    for url in ("/", "/sessions", f"/sessions/{sid}", f"/sessions/{sid}/delete", f"/runners/{rid}"):
        body = logged_in.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<script>x()" not in body, url
        assert "<img src=x" not in body and "<b onmouseover" not in body, url
    from device.report.render import render_report_html

    html = render_report_html(store.get_session(sid), cfg, [])
    assert "<script>alert" not in html and "<img src=x" not in html and "<script>x()" not in html
    assert "&lt;script&gt;alert(" in html or "&lt;script&gt;alert(&#39;x&#39;)" in html
    # the JSON API returns the name as data, served as JSON (never rendered as HTML)
    resp = logged_in.get(f"/api/sessions/{sid}")
    assert resp.mimetype == "application/json" and resp.json["runner"]["name"] == XSS


# -- the real server: bind address and secrets in the logs ---------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listeners(port: int) -> list[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp and tcp6; no psutil needed)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, state = parts[1], parts[3]
            addr, hexport = local.split(":")
            if state != "0A" or int(hexport, 16) != port:
                continue
            if len(addr) == 8:
                found.append(socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr)[::-1]))
            else:
                raw = b"".join(bytes.fromhex(addr[i : i + 8])[::-1] for i in range(0, 32, 8))
                found.append(socket.inet_ntop(socket.AF_INET6, raw))
    return found


@pytest.mark.slow
def test_run_binds_only_the_configured_address_and_logs_no_secrets(tmp_path: Path, model_path: Path) -> None:
    pin = "73918264"
    data = tmp_path / "data"
    save_pin_hash(data, pin_hash(pin))
    port = _free_port()
    conf = tmp_path / "config.toml"
    conf.write_text(
        f'[pose]\nmodel_path = "{model_path}"\nnum_threads = 1\n[gpio]\nenabled = false\n', encoding="utf-8"
    )
    env = {**os.environ, "GAIT_STATION_API_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "device.cli",
            "-v",
            "run",
            "--source",
            source_spec(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            str(conf),
            "--data-dir",
            str(data),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and proc.poll() is None and not _listeners(port):
            time.sleep(0.1)
        assert _listeners(port) == ["127.0.0.1"], _listeners(port)  # not 0.0.0.0, not [::]

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def login(p: str) -> int:
            page = opener.open(f"{base}/login", timeout=10).read().decode()
            form = urllib.parse.urlencode({"pin": p, "csrf_token": csrf_from(page)}).encode()
            try:
                return opener.open(f"{base}/login", data=form, timeout=10).status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert login("55501234") == 401  # a wrong PIN, typed by a curious customer
        assert login(pin) == 200  # redirected to the dashboard
        assert "Log out" in opener.open(f"{base}/", timeout=10).read().decode() or jar
        req = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        bad = urllib.request.Request(f"{base}/api/status", headers={"Authorization": "Bearer wrong-token-99"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bad, timeout=10)
        assert info.value.code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    secret_key = (data / "secret_key").read_text().strip()
    cookies = [c.value for c in jar]
    assert cookies
    for secret in (pin, "55501234", TOKEN, "wrong-token-99", secret_key, pin_hash(pin), *cookies):
        assert secret not in out, f"a secret is in the log: {secret[:6]}…"
    assert "INFO" in out and "dashboard on http://127.0.0.1" in out  # the log was captured


# -- disk full -----------------------------------------------------------------------------------


def test_device_disk_full_error_is_507_on_the_api_and_the_form(logged_in, station, store) -> None:
    from device.errors import DiskFullError
    from web.errors import status_for

    assert status_for(DiskFullError("x")) == 507
    station.start_error = DiskFullError("disk nearly full: 40 MB free, need 500 MB to capture")
    resp = _post(
        logged_in, "/api/capture/start", {"runner": {"name": "Ann", "height_cm": 168}, "speed_kmh": 12}
    )
    assert resp.status_code == 507 and "40 MB free" in resp.json["error"]
    resp = logged_in.post(
        "/sessions/new",
        data={
            "csrf_token": logged_in.csrf,
            "runner_id": "new",
            "runner_name": "Ann",
            "height_cm": "168",
            "speed_kmh": "12",
        },
    )
    assert resp.status_code == 507 and "40 MB free" in resp.get_data(as_text=True)
    assert store.list_runners() == []  # the refused start left no runner behind


def test_every_rule_refuses_a_wrong_token_and_a_forged_cookie(app, station) -> None:
    from tests.web.test_web_routes import _concrete, _rules

    client = app.test_client()
    client.set_cookie("session", "eyJhdXRoIjp7ImZwIjoieCIsImF0IjoxfX0.forged.signature")
    for rule in _rules(app):
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(url, method=method, headers={"Authorization": "Bearer not-the-token"})
            expected = 401 if rule.endpoint.startswith(("api.", "live.")) else 302
            assert resp.status_code == expected, f"{method} {url}"
            resp = client.open(url, method=method)  # the forged cookie alone
            assert resp.status_code == expected, f"{method} {url} (forged cookie)"
    assert station.calls == []
