"""PIN login, rate limit, session cookie, CSRF, first-run setup and `gait-station set-pin`."""

from __future__ import annotations

import io
import os
import stat
import types

from tests.web.conftest import PIN, csrf_from, login, pin_hash
from web import auth
from web.app import create_app
from web.security import LoginRateLimiter


def test_login_with_right_pin_sets_hardened_cookie(client):
    resp = login(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Expires=" in cookie
    assert client.get("/").status_code == 200


def test_wrong_pin_is_refused(client):
    resp = login(client, pin="0000")
    assert resp.status_code == 401
    assert "Wrong PIN" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_needs_csrf_token(client):
    client.get("/login")
    resp = client.post("/login", data={"pin": PIN})
    assert resp.status_code == 403
    assert client.get("/").status_code == 302


def test_login_rate_limited_per_ip_with_wait_message(client):
    for _ in range(3):  # cfg.web.login_attempts_per_minute = 3
        assert login(client, pin="1111", ip="10.0.0.5").status_code == 401
    resp = login(client, pin=PIN, ip="10.0.0.5")  # even the right PIN waits
    assert resp.status_code == 429
    body = resp.get_data(as_text=True)
    assert "Try again in" in body and int(resp.headers["Retry-After"]) > 0
    # another device is not affected
    assert login(client, pin=PIN, ip="10.0.0.6").status_code == 302


def test_rate_limiter_window_expires():
    now = [100.0]
    lim = LoginRateLimiter(2, clock=lambda: now[0])
    lim.record_failure("a")
    lim.record_failure("a")
    assert lim.retry_after("a") == 60
    now[0] += 30
    assert lim.retry_after("a") == 30
    now[0] += 30.5
    assert lim.retry_after("a") == 0
    assert lim._failures == {}  # pruned: memory stays bounded


def test_logout_needs_csrf_and_ends_session(logged_in):
    assert logged_in.post("/logout").status_code == 403
    assert logged_in.post("/logout", data={"csrf_token": logged_in.csrf}).status_code == 302
    assert logged_in.get("/").status_code == 302


def test_changing_the_pin_logs_everyone_out(logged_in, cfg):
    auth.save_pin_hash(cfg.data_dir, pin_hash("97531"))
    assert logged_in.get("/").status_code == 302


def test_session_expires_after_session_minutes(logged_in, app, monkeypatch):
    import time as _time

    real = _time.time
    later = real() + app.permanent_session_lifetime.total_seconds() + 5
    monkeypatch.setattr("web.security.time.time", lambda: later)
    assert logged_in.get("/").status_code == 302


def test_next_redirect_stays_on_site(app):
    for target, expected in (
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/runners", "/runners"),
    ):
        c = app.test_client()
        token = csrf_from(c.get("/login").get_data(as_text=True))
        resp = c.post("/login", data={"pin": PIN, "csrf_token": token, "next": target})
        assert resp.headers["Location"] == expected


def test_unauthenticated_page_redirects_to_login_with_next(client):
    resp = client.get("/runners?q=a")
    assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"]


def test_first_run_setup_only_from_the_station(station, cfg):
    app = create_app(station, cfg, testing=True)  # no PIN saved
    c = app.test_client()
    page = c.get("/login", environ_base={"REMOTE_ADDR": "192.168.1.30"})
    assert "No PIN set yet" in page.get_data(as_text=True)
    assert "gait-station set-pin" in page.get_data(as_text=True)
    assert c.get("/setup", environ_base={"REMOTE_ADDR": "192.168.1.30"}).status_code == 403
    token = csrf_from(c.get("/setup").get_data(as_text=True))
    resp = c.post("/setup", data={"pin": "12", "pin_again": "12", "csrf_token": token})
    assert resp.status_code == 400 and "at least 4" in resp.get_data(as_text=True)
    resp = c.post("/setup", data={"pin": "13579", "pin_again": "13579", "csrf_token": token})
    assert resp.status_code == 302
    assert c.get("/").status_code == 200  # logged in by setting it
    mode = stat.S_IMODE(os.stat(cfg.data_dir / "web_auth.json").st_mode)
    assert mode == 0o600
    # once set, the setup page is gone for everyone
    assert c.get("/setup").status_code == 302


def test_remote_post_to_setup_refused(station, cfg):
    app = create_app(station, cfg, testing=True)
    c = app.test_client()
    ip = {"REMOTE_ADDR": "192.168.1.30"}
    token = csrf_from(c.get("/login", environ_base=ip).get_data(as_text=True))
    resp = c.post("/setup", data={"pin": "13579", "pin_again": "13579", "csrf_token": token}, environ_base=ip)
    assert resp.status_code == 403
    assert not (cfg.data_dir / "web_auth.json").exists()


def test_secret_key_generated_once_0600(cfg, station):
    a1 = create_app(station, cfg, testing=True)
    a2 = create_app(station, cfg, testing=True)
    assert a1.secret_key == a2.secret_key and len(a1.secret_key) >= 32
    assert stat.S_IMODE(os.stat(cfg.data_dir / "secret_key").st_mode) == 0o600


def test_set_pin_cli_from_stdin(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("8642\n"))
    args = types.SimpleNamespace(config=None, data_dir=str(tmp_path), pin_stdin=True)
    assert auth.main(args) == 0
    h = auth.load_pin_hash(tmp_path)
    assert auth.check_pin(h, "8642") and not auth.check_pin(h, "8643")
    assert h.startswith("scrypt:")
    assert "web_auth.json" in capsys.readouterr().out


def test_set_pin_cli_refuses_short_pin(tmp_path, monkeypatch):
    import pytest

    from device.errors import InputError

    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    args = types.SimpleNamespace(config=None, data_dir=str(tmp_path), pin_stdin=True)
    with pytest.raises(InputError, match="at least 4"):
        auth.main(args)
    assert not (tmp_path / "web_auth.json").exists()


def test_set_pin_cli_interactive_mismatch(tmp_path, monkeypatch):
    import pytest

    from device.errors import InputError

    answers = iter(["1234", "1235"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    args = types.SimpleNamespace(config=None, data_dir=str(tmp_path), pin_stdin=False)
    with pytest.raises(InputError, match="differ"):
        auth.main(args)


def test_config_pin_hash_used_when_no_file(station, cfg):
    cfg.web.pin_hash = pin_hash()
    app = create_app(station, cfg, testing=True)
    c = app.test_client()
    assert login(c).status_code == 302
