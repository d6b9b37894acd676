"""The dashboard in headless Chromium against a real station served on 127.0.0.1.

Logs in, starts a session, watches the live numbers move (pushed by SSE), stops, opens the
session and comparison pages, saves screenshots to artifacts/screenshots/, and checks that no
request ever leaves the machine. Chromium missing: skipped on a dev machine, FAILS in CI.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.eventually import eventually
from tests.support.live_rig import CHROMIUM, browser_login, launch_chromium, start_rig

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _need_browser():
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if not Path(CHROMIUM).exists():
        (pytest.fail if ci else pytest.skip)(f"{CHROMIUM} not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        (pytest.fail if ci else pytest.skip)(f"playwright not installed: {exc}")
    return sync_playwright


@pytest.fixture
def rig(tmp_path, model_path):
    r = start_rig(tmp_path / "data", model_path, duration_s=4.0, countdown_s=1)
    yield r
    r.close()


@pytest.fixture
def rig_rear(tmp_path, model_path):
    """Side camera plus a rear camera (both synthetic), as a clinic with two cameras has."""
    r = start_rig(tmp_path / "data", model_path, duration_s=4.0, countdown_s=1, rear_source="synthetic:rear")
    yield r
    r.close()


LANDSCAPE = {"width": 1280, "height": 800}
PORTRAIT = {"width": 800, "height": 1280}


def _shoot(page, name: str, full_page: bool = False) -> None:
    """Landscape and portrait screenshots of the current page (lazy images loaded first)."""
    for tag, size in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page.set_viewport_size(size)
        if full_page:
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=15000)
            page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{tag}.png"), full_page=full_page)
    page.set_viewport_size(LANDSCAPE)


def _numbers(page) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#live .number .value')]
               .map(el => [el.dataset.field, el.textContent]))"""
    )


def _run_capture(page, base: str, runner: str, speed: str, shoes: str, shots: bool) -> tuple[int, list[dict]]:
    page.goto(base + "/sessions/new")
    if runner.startswith("#"):
        page.select_option("#runner_id", runner[1:])
    else:
        page.select_option("#runner_id", "new")
        page.fill("#runner_name", runner)
        page.fill("#height_cm", "172")
    page.fill("#speed_kmh", speed)
    page.fill("#shoes", shoes)
    page.click("#start-capture")
    page.wait_for_url(base + "/")
    seen: list[dict] = []
    end = time.monotonic() + 90
    shot_taken = False
    while time.monotonic() < end:
        state = page.get_attribute("#live", "data-state")
        nums = _numbers(page)
        if not seen or nums != seen[-1].get("nums") or state != seen[-1]["state"]:
            seen.append({"state": state, "nums": nums})
        if shots and not shot_taken and state == "capturing" and nums.get("elapsed_s") not in ("—", "0:00"):
            page.wait_for_timeout(600)  # let a preview frame arrive
            page.screenshot(path=str(SHOTS / "live-capturing-landscape.png"))
            page.set_viewport_size(PORTRAIT)
            page.wait_for_timeout(200)
            page.screenshot(path=str(SHOTS / "live-capturing-portrait.png"))
            page.set_viewport_size(LANDSCAPE)
            shot_taken = True
        if state in ("done", "failed"):
            break
        page.wait_for_timeout(150)
    href = page.get_attribute("#result-link", "href")
    m = re.search(r"/sessions/(\d+)", href or "")
    assert m, f"no session link on the live page; states seen: {seen}"
    return int(m.group(1)), seen


def test_dashboard_end_to_end_in_chromium(rig_rear):
    rig = rig_rear
    sync_playwright = _need_browser()
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = rig.url
    requests: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
            page = ctx.new_page()
            page.on("request", lambda r: requests.append(r.url))
            browser_login(page, base)
            assert page.locator("#rear-preview").count() == 1  # a rear camera is configured: two previews

            sid1, seen = _run_capture(page, base, "Ann <b>Lee</b>", "12", "Clifton 9", shots=True)
            states = [s["state"] for s in seen]
            assert "capturing" in states, states
            capturing = [s["nums"] for s in seen if s["state"] == "capturing"]
            elapsed = {n["elapsed_s"] for n in capturing}
            assert len(elapsed) >= 2, f"elapsed time did not move on screen: {capturing}"
            assert states[-1] == "done", f"capture did not finish: {seen[-3:]}"

            # The session page: metrics, charts, evidence, quality
            page.goto(f"{base}/sessions/{sid1}")
            assert page.locator("#metrics tr[data-metric]").count() >= 5
            assert "Ann <b>Lee</b>" in page.inner_text("h1")  # shown as text, not markup
            assert page.locator("#rear-metrics tr[data-metric]").count() >= 1
            assert page.locator("#metrics tr[data-metric=pelvic_drop_deg]").count() == 0
            _shoot(page, "session", full_page=True)
            page.goto(base + "/")
            _shoot(page, "live-idle")

            # A second run for the same runner, stopped with the tablet's Stop button
            runner_id = page.evaluate(
                f"fetch('/api/sessions/{sid1}').then(r => r.json()).then(s => s.runner_id)"
            )
            page.goto(base + "/sessions/new")
            page.select_option("#runner_id", str(runner_id))
            page.fill("#speed_kmh", "13")
            rig.cfg.capture.duration_s = 30.0  # this one ends with the Stop button, not the timer
            page.click("#start-capture")
            page.wait_for_url(base + "/")
            page.wait_for_selector("#btn-stop:not([hidden])", timeout=20000)
            page.wait_for_function(  # long enough for a few strides: a comparison with numbers
                "() => !['—','0:00','0:01','0:02'].includes(document.querySelector('[data-field=elapsed_s]').textContent)",
                timeout=30000,
            )
            page.click("#btn-stop")
            page.wait_for_function(
                "() => ['done','failed'].includes(document.querySelector('#live').dataset.state)",
                timeout=60000,
            )
            sid2 = int(re.search(r"/sessions/(\d+)", page.get_attribute("#result-link", "href")).group(1))
            assert sid2 != sid1

            page.goto(f"{base}/compare?a={sid1}&b={sid2}")
            assert page.locator("#comparison tr[data-metric]").count() >= 5
            _shoot(page, "compare", full_page=True)

            page.goto(f"{base}/runners/{runner_id}")
            page.screenshot(path=str(SHOTS / "runner-history.png"), full_page=True)
            page.goto(f"{base}/sessions/new")
            page.screenshot(path=str(SHOTS / "new-session.png"), full_page=True)
        finally:
            browser.close()
    hosts = {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:", "about:"))}
    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
    assert len(requests) > 10


def test_several_tablets_get_live_updates(rig):
    """Three tablets watch at once; each gets pushed updates; closing them frees the streams."""
    sync_playwright = _need_browser()
    base = rig.url
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            pages = []
            for _ in range(3):
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                pg = ctx.new_page()
                browser_login(pg, base)
                pages.append(pg)
            events = rig.app.extensions["gait_live_hub"].feed("events")
            assert eventually(lambda: events.viewers >= 3, 10), "each tablet watches the status stream"
            assert len(rig.station.controller._subs) == 1  # one station subscription, shared
            before = [int(pg.get_attribute("#live", "data-updates") or 0) for pg in pages]
            pages[0].evaluate(
                "window.gait.postJSON('/api/capture/start', {runner: {name: 'Bo', height_cm: 180}, speed_kmh: 10})"
            )
            for pg in pages:
                pg.wait_for_function(
                    "() => document.querySelector('#live').dataset.state !== 'idle'", timeout=20000
                )
            after = [int(pg.get_attribute("#live", "data-updates") or 0) for pg in pages]
            assert all(a > b for a, b in zip(after, before, strict=True))
            pages[0].evaluate("window.gait.postJSON('/api/capture/cancel', {})")
        finally:
            browser.close()
    assert eventually(lambda: events.viewers == 0 and len(rig.station.controller._subs) == 0, timeout=10), (
        "streams did not end on disconnect"
    )
