"""PIN login, rate limit, session cookie, CSRF, first-run setup and `gait-station set-pin`."""

from __future__ import annotations

import io
import os
import stat
import types

from tests.web.conftest import PIN, csrf_from, login, pin_hash
from web import auth
from web.app import create_app


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
    from web.security import LoginLimiter

    now = [100.0]
    lim = LoginLimiter(2, clock=lambda: now[0])
    assert lim.admit("a") == 0 and lim.admit("a") == 0
    assert lim.admit("a") == 60 and lim.retry_after("a") == 60
    now[0] += 30
    assert lim.retry_after("a") == 30 and lim.clients_tracked == 1
    now[0] += 30.5
    assert lim.retry_after("a") == 0
    assert lim.clients_tracked == 0  # pruned: memory stays bounded


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
    assert resp.status_code == 400 and "at least 6" in resp.get_data(as_text=True)
    resp = c.post("/setup", data={"pin": "815304", "pin_again": "815304", "csrf_token": token})
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
    resp = c.post(
        "/setup", data={"pin": "815304", "pin_again": "815304", "csrf_token": token}, environ_base=ip
    )
    assert resp.status_code == 403
    assert not (cfg.data_dir / "web_auth.json").exists()


def test_secret_key_generated_once_0600(cfg, station):
    a1 = create_app(station, cfg, testing=True)
    a2 = create_app(station, cfg, testing=True)
    assert a1.secret_key == a2.secret_key and len(a1.secret_key) >= 32
    assert stat.S_IMODE(os.stat(cfg.data_dir / "secret_key").st_mode) == 0o600


def test_set_pin_cli_from_stdin(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("864209\n"))
    args = types.SimpleNamespace(config=None, data_dir=str(tmp_path), pin_stdin=True)
    assert auth.main(args) == 0
    h = auth.load_pin_hash(tmp_path)
    assert auth.check_pin(h, "864209") and not auth.check_pin(h, "864208")
    assert h.startswith("scrypt:16384:8:1$")  # 16 MB per check, not werkzeug's 32 MB
    assert auth.pin_policy(tmp_path) == auth.PIN_POLICY
    assert "web_auth.json" in capsys.readouterr().out


def test_set_pin_cli_refuses_short_pin(tmp_path, monkeypatch):
    import pytest

    from device.errors import InputError

    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    args = types.SimpleNamespace(config=None, data_dir=str(tmp_path), pin_stdin=True)
    with pytest.raises(InputError, match="at least 6"):
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


# -- issue 13: brute force, login floods, logout, first-run Host ------------------------------------


def _wrong_pin_burst(app, n: int, ip_of) -> list[int]:
    """``n`` concurrent wrong-PIN logins (each its own browser), released together."""
    import threading

    barrier = threading.Barrier(n)
    codes: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        c = app.test_client()
        env = {"REMOTE_ADDR": ip_of(i)}
        token = csrf_from(c.get("/login", environ_base=env).get_data(as_text=True))
        barrier.wait()
        code = c.post("/login", data={"pin": f"90{i:04d}", "csrf_token": token}, environ_base=env).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def test_concurrent_wrong_pins_from_one_address_get_exactly_the_limit(app):
    # Check-then-record let 19 of 40 concurrent guesses through; check-and-record admits exactly 3.
    codes = _wrong_pin_burst(app, 24, lambda i: "10.0.0.9")
    assert len(codes) == 24
    assert codes.count(401) == 3, codes  # cfg.web.login_attempts_per_minute = 3
    assert codes.count(429) == 21


def test_many_addresses_are_slowed_by_the_global_backoff_but_the_tablet_is_not(app, client):
    assert login(client).status_code == 302  # the clinic's tablet logged in before: trusted device
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    codes = _wrong_pin_burst(app, 16, lambda i: f"10.0.1.{i + 1}")  # one guess from each of 16 addresses
    # The global bucket holds 10 (the tablet's own first login took one): then everyone untrusted waits.
    assert codes.count(401) in (9, 10) and codes.count(429) == 16 - codes.count(401), codes
    fresh = app.test_client()
    resp = login(fresh, ip="10.0.1.200")  # a new device now waits (a delay, not a lock-out)…
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 6
    assert login(client).status_code == 302  # …but the tablet that logged in before does not


def test_someone_elses_wrong_pins_on_the_same_address_do_not_lock_out_the_tablet(app, client):
    assert login(client, ip="10.0.0.5").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    guesser = app.test_client()
    for _ in range(3):
        assert login(guesser, pin="555123", ip="10.0.0.5").status_code == 401
    assert login(guesser, pin=PIN, ip="10.0.0.5").status_code == 429  # the guesser waits
    assert login(client, ip="10.0.0.5").status_code == 302  # the tablet (same Wi-Fi address) does not


def test_global_backoff_is_a_delay_that_refills():
    from web.security import LoginLimiter

    now = [0.0]
    lim = LoginLimiter(5, global_burst=3, global_refill_s=6.0, clock=lambda: now[0])
    assert [lim.admit(f"ip:{i}") for i in range(3)] == [0, 0, 0]
    assert lim.admit("ip:9") == 6  # everyone untrusted waits one refill
    assert lim.admit("device:tablet", trusted=True) == 0
    now[0] += 6.0
    assert lim.admit("ip:9") == 0


def test_short_and_trivial_pins_are_refused():
    for pin in (
        "1111",
        "12345",
        "111111",
        "123456",
        "654321",
        "121212",
        "123123",
        "112233",
        "abcdef",
        "999999999",
    ):
        assert auth.validate_pin(pin), pin
    for pin in ("815304", "40271993", "horse-battery-7"):
        assert auth.validate_pin(pin) is None, pin


def test_an_old_four_digit_pin_still_works_but_the_dashboard_asks_to_change_it(client, cfg):
    assert len(PIN) == 4  # conftest's station was set up before the 6-character rule
    assert login(client).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "short or easy to guess" in home and "gait-station set-pin" in home


def test_pin_checks_run_one_at_a_time_at_low_priority(monkeypatch):
    import threading
    import time

    from web.security import PinChecker

    running, peak, nice = [0], [0], []
    lock = threading.Lock()

    def slow_check(pin_hash, pin):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return False

    monkeypatch.setattr("web.security.check_pin", slow_check)
    checker = PinChecker(wait_s=10)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(checker.check("h", "555123"))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1 and len(results) == 8
    assert set(nice) == {min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)}
    assert checker.check("h", "x" * 500) is False and len(nice) == 8  # refused without hashing


def test_logout_ends_the_session_on_the_server(logged_in, app):
    saved = logged_in.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert logged_in.post("/logout", data={"csrf_token": logged_in.csrf}).status_code == 302
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], saved)  # a saved copy of the cookie
    assert replay.get("/").status_code == 302
    assert replay.get("/api/status").status_code == 401


def test_setup_only_under_the_stations_own_name(station, cfg):
    app = create_app(station, cfg, testing=True)  # no PIN saved yet
    c = app.test_client()
    rebound = {"Host": "attacker.example:8080"}  # a DNS-rebinding page resolving to 127.0.0.1
    assert c.get("/setup", headers=rebound).status_code == 403
    token = csrf_from(c.get("/setup", headers={"Host": "localhost:8080"}).get_data(as_text=True))
    resp = c.post(
        "/setup", data={"pin": "815304", "pin_again": "815304", "csrf_token": token}, headers=rebound
    )
    assert resp.status_code == 403 and not (cfg.data_dir / "web_auth.json").exists()
    for host in ("localhost:8080", "127.0.0.1:8080", "[::1]:8080"):
        assert c.get("/setup", headers={"Host": host}).status_code == 200, host


def test_a_pin_change_ends_every_devices_own_allowance(app, client, cfg):
    # cookies collected while knowing the old PIN bought PIN checks of their own after the change
    assert login(client, ip="10.0.2.1").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    auth.save_pin_hash(cfg.data_dir, pin_hash("864209"))
    codes = _wrong_pin_burst(app, 16, lambda i: f"10.0.3.{i + 1}")  # the global bucket runs dry
    assert codes.count(429) >= 6, codes
    resp = login(client, pin="864209", ip="10.0.2.1")
    assert resp.status_code == 429  # waits like any browser the new PIN has not seen


def test_the_stations_own_screen_is_not_held_up_by_a_flood_from_elsewhere(app):
    codes = _wrong_pin_burst(app, 16, lambda i: f"10.0.4.{i + 1}")
    assert codes.count(429) >= 6, codes
    assert login(app.test_client(), ip="10.0.4.200").status_code == 429
    assert login(app.test_client(), ip="127.0.0.1").status_code == 302
