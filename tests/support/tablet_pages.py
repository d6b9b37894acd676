"""Every dashboard page on a tablet: a station with recorded runs, and a walk through all pages.

Used by the browser tests (no page may scroll sideways at 1024×768 or 768×1024) and by
``bench/screens.py``, which saves the screenshots in docs/screens/. One list of pages for both,
so a new page is checked and pictured in the same place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.config import Config
from tests.support.live_rig import CHROMIUM_ARGS, PIN, make_config, pin_hash, source_spec
from web.app import create_app
from web.auth import save_pin_hash
from web.serve import DashboardServer

SIZES = {"landscape": {"width": 1024, "height": 768}, "portrait": {"width": 768, "height": 1024}}


@dataclass
class Demo:
    """A running station with two recorded runs of one runner (the second corrected)."""

    cfg: Config
    station: Any
    server: DashboardServer
    runner_id: int = 0
    before: int = 0  # session ids
    after: int = 0
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.stop()
        self.station.close()


def start_station(
    data_dir: Path, model_path: Path, *, duration_s: float = 12.0, countdown_s: int = 0
) -> Demo:
    """A real station on the synthetic runner with video recording and a (mock) buzzer."""
    from gpiozero.pins.mock import MockFactory

    from device.station import Station

    cfg = make_config(data_dir)
    cfg.pose.model_path = str(model_path)
    cfg.pose.num_threads = 1
    cfg.capture.duration_s = duration_s  # below the config file's minimum on purpose: fast runs
    cfg.capture.countdown_s = countdown_s
    cfg.capture.record_video = True
    cfg.capture.stall_timeout_s = (
        30.0  # the synthetic runner is drawn in software: a busy CI machine stalls it
    )
    cfg.gpio.enabled = True  # buttons, LED and buzzer on gpiozero's mock pins: the metronome shows
    cfg.gpio.buzzer_pin = 18
    cfg.printing.cups_queue = "gait-screens-no-such-queue"  # printing fails: the fallback page shows
    cfg.web.port = 0
    save_pin_hash(cfg.data_dir, pin_hash())
    station = Station(cfg, source_spec=source_spec(), pin_factory=MockFactory())
    station.start()
    try:
        app = create_app(station, cfg)
        server = DashboardServer(app, "127.0.0.1", 0, threads=cfg.web.threads).start()
    except BaseException:
        station.close()
        raise
    return Demo(cfg, station, server)


def record(demo: Demo, runner: dict[str, Any] | int, speed_kmh: float, shoes: str) -> int:
    """One capture to the end (timer), analysed; returns its session id."""
    st = demo.station
    kw: dict[str, Any] = {"runner_id": runner} if isinstance(runner, int) else {"runner": runner}
    sid = st.start_capture(session={"speed_kmh": speed_kmh, "shoes": shoes, "view": "side"}, **kw)
    assert sid is not None, st.status()
    end = time.monotonic() + 120
    while time.monotonic() < end:
        s = st.store.get_session(sid)
        if s["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    s = st.store.get_session(sid)
    assert s["status"] == "done", f"session {sid}: {s['status']} {s.get('error')}"
    assert s["video_path"], "recording is on by default: the run's video is kept"
    st.wait_for_state(("done", "idle"), 30)
    return sid


def record_two(demo: Demo) -> Demo:
    """Before/after runs of one runner (shoe A/B)."""
    demo.before = record(demo, {"name": "Ann Lee", "height_cm": 168}, 11.0, "Clifton 9")
    demo.runner_id = demo.station.store.get_session(demo.before)["runner_id"]
    demo.after = record(demo, demo.runner_id, 12.0, "Ghost 15")
    return demo


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def login(page: Any, base: str) -> None:
    page.goto(base + "/login")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def _new_session_duplicate(page: Any, base: str) -> None:
    page.goto(base + "/sessions/new")
    page.select_option("#runner_id", "new")
    page.fill("#runner_name", "ann lee")
    page.fill("#height_cm", "168")
    page.fill("#speed_kmh", "11")
    page.click("#prepare-capture")
    page.wait_for_selector("#existing-runner")


def _print_failed(page: Any, base: str, demo: Demo) -> None:
    page.goto(f"{base}/compare?a={demo.before}&b={demo.after}")
    page.click("#print-comparison", timeout=90000)
    page.wait_for_selector("#print-failed", timeout=90000)


def pages(demo: Demo) -> list[tuple[str, Callable[[Any, str], None], bool]]:
    """(name, how to open it, full-page screenshot) for every page of the dashboard."""
    a, b, r = demo.before, demo.after, demo.runner_id
    earlier = demo.ids.get("earlier_analysis")

    def go(path: str, wait: str | None = None) -> Callable[[Any, str], None]:
        def open_(page: Any, base: str) -> None:
            page.goto(base + path)
            if wait:
                page.wait_for_selector(wait)

        return open_

    out: list[tuple[str, Callable[[Any, str], None], bool]] = [
        ("live", go("/", "#live"), False),
        ("new-session", go("/sessions/new", "#start-capture"), False),
        ("new-session-existing-name", lambda p, base: _new_session_duplicate(p, base), False),
        ("sessions", go("/sessions"), False),
        ("session", go(f"/sessions/{b}", "#player[data-ready='1']"), True),
        ("session-corrections", go(f"/sessions/{b}#corrections", "#correct-form"), False),
        ("runners", go("/runners"), False),
        ("runner", go(f"/runners/{r}"), False),
        ("runner-edit", go(f"/runners/{r}/edit", "#save-runner"), False),
        ("runner-merge", go(f"/runners/{r}/merge"), False),
        ("runner-delete", go(f"/runners/{r}/delete", "#confirm-delete"), False),
        ("session-delete", go(f"/sessions/{a}/delete"), False),
        ("compare", go(f"/compare?a={a}&b={b}", "#player-2[data-ready='1']"), True),
        ("print-failed", lambda p, base: _print_failed(p, base, demo), False),
        ("not-found", go("/sessions/999999"), False),
    ]
    if earlier:
        out.insert(
            5,
            ("session-earlier-analysis", go(f"/sessions/{b}?analysis={earlier}", "#earlier-analysis"), False),
        )
    return out


def overflow(page: Any) -> dict[str, int]:
    """Document and viewport widths (the page scrolls sideways when doc > viewport), and how
    far the widest table overflows its box (columns hidden behind a scroll bar)."""
    return page.evaluate(
        """() => ({doc: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
                   view: window.innerWidth,
                   table: Math.max(0, ...[...document.querySelectorAll('.table-wrap')]
                                         .map(w => w.scrollWidth - w.clientWidth))})"""
    )


def walk(
    browser: Any, demo: Demo, shots: Path | None = None, names: set[str] | None = None
) -> Iterator[tuple[str, str, dict[str, int]]]:
    """Open every page at both tablet sizes (logged in; the login page logged out); yields
    (page, size, widths) and, with ``shots``, saves ``<page>-<size>.png`` there."""
    base = demo.url
    for size_name, size in SIZES.items():
        ctx = browser.new_context(viewport=size, device_scale_factor=1)
        try:
            page = ctx.new_page()
            page.goto(base + "/login")
            page.wait_for_selector("#pin")
            if names is None or "login" in names:
                if shots:
                    page.screenshot(path=str(shots / f"login-{size_name}.png"))
                yield "login", size_name, overflow(page)
            login(page, base)
            for name, open_, full in pages(demo):
                if names is not None and name not in names:
                    continue
                open_(page, base)
                page.wait_for_load_state("load")
                if shots:
                    if full:  # lazy evidence images: load them all before the full-page picture
                        page.evaluate(
                            "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
                        )
                        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                        page.wait_for_function(
                            "() => [...document.images].every(i => i.complete)", timeout=60000
                        )
                        page.evaluate("window.scrollTo(0, 0)")
                    page.wait_for_timeout(400)
                    page.screenshot(path=str(shots / f"{name}-{size_name}.png"), full_page=full)
                yield name, size_name, overflow(page)
        finally:
            ctx.close()
