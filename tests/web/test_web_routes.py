"""Default-deny: every route needs a login or the API token; CSRF on every state change."""

from __future__ import annotations

import re

import pytest

PUBLIC = {"auth.login", "auth.setup", "static"}
TOKEN = "t0ken-for-tests-0123456789abcdef"


def _concrete(rule) -> str:
    # Fill every URL variable with a plausible value (ids that exist or not: auth comes first).
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "1", rule.rule)


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC]


def test_url_map_is_not_empty(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    for needed in (
        "api.status",
        "api.capture_start",
        "api.capture_stop",
        "api.sessions",
        "api.session_detail",
        "api.print_session",
        "api.report_pdf",
        "api.keypoints_csv",
        "api.analysis_json",
        "live.events",
        "live.preview_stream",
        "pages.home",
        "pages.new_session",
        "pages.session_page",
        "pages.compare",
        "pages.delete_runner",
        "pages.runner_page",
    ):
        assert needed in endpoints


def test_every_rule_refuses_anonymous_requests(app, station):
    client = app.test_client()
    checked = 0
    for rule in _rules(app):
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(url, method=method)
            where = f"{method} {url} ({rule.endpoint})"
            if rule.endpoint.startswith(("api.", "live.")):
                assert resp.status_code == 401, where
                assert resp.is_json and resp.json["error"], where
            else:
                assert resp.status_code == 302 and "/login" in resp.headers["Location"], where
            checked += 1
    assert checked >= 20
    assert station.calls == []  # nothing reached the station


def test_unknown_url_does_not_reveal_routes(client):
    assert client.get("/nope").status_code == 302
    assert client.get("/api/nope").status_code == 401


def test_every_state_changing_rule_needs_csrf(logged_in, app, station):
    for rule in _rules(app):
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            resp = logged_in.open(_concrete(rule), method=method, json={})
            assert resp.status_code == 403, f"{method} {rule.rule}"
    assert station.calls == []


def test_wrong_csrf_token_refused(logged_in, station):
    resp = logged_in.post("/api/capture/stop", headers={"X-CSRF-Token": "x" * 43})
    assert resp.status_code == 403 and "CSRF" in resp.json["error"]
    assert station.calls == []


@pytest.fixture
def token_app(station, cfg):
    from tests.web.conftest import pin_hash
    from web.app import create_app
    from web.auth import save_pin_hash

    save_pin_hash(cfg.data_dir, pin_hash())
    cfg.web.api_token = TOKEN
    return create_app(station, cfg, testing=True)


def test_bearer_token_works_without_csrf(token_app, station):
    c = token_app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert c.get("/api/status", headers=auth).status_code == 200
    resp = c.post("/api/capture/stop", headers=auth)
    assert resp.status_code == 409  # reached the station: idle, nothing to stop
    # the token does not open the HTML pages' session
    assert c.get("/", headers=auth).status_code == 200


def test_wrong_bearer_token_is_401(token_app):
    c = token_app.test_client()
    resp = c.get("/api/status", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and "token" in resp.json["error"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_env_token_overrides(monkeypatch, station, cfg):
    from web.app import create_app

    monkeypatch.setenv("GAIT_STATION_API_TOKEN", "from-env-0123456789")
    c = create_app(station, cfg, testing=True).test_client()
    assert c.get("/api/status", headers={"Authorization": "Bearer from-env-0123456789"}).status_code == 200


def test_no_token_configured_means_token_auth_off(client):
    assert client.get("/api/status", headers={"Authorization": "Bearer "}).status_code == 401


def test_security_headers(logged_in):
    resp = logged_in.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_static_assets_are_local_and_public(client, app):
    for name in ("style.css", "app.js", "live.js"):
        assert client.get(f"/static/{name}").status_code == 200
    import pathlib

    root = pathlib.Path(app.root_path)
    for path in list((root / "templates").glob("*.html")) + list((root / "static").glob("*")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), f"external asset in {path.name}"
        assert "<script>" not in text, f"inline script in {path.name} (CSP forbids it)"
