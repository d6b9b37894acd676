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

from device.camera.base import Frame
from device.camera.synthetic import SyntheticSource
from device.synthetic.render import RunnerRenderer
from device.synthetic.runner import RunnerParams
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
    r = start_rig(tmp_path / "data", model_path, duration_s=8.0, countdown_s=1, rear_source="synthetic:rear")
    yield r
    r.close()


LANDSCAPE = {"width": 1280, "height": 800}
PORTRAIT = {"width": 800, "height": 1280}


def _shoot(page, name: str, full_page: bool = False) -> None:
    """Landscape and portrait screenshots of the current page (lazy images loaded first)."""
    for tag, size in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page.set_viewport_size(size)
        if full_page:
            # every lazy image asked for now: one between two scroll positions never loads
            page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=60000)
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
            page.wait_for_function(  # long enough for several strides (however slow the machine)
                "() => +document.querySelector('[data-field=strides]').textContent >= 6"
                " || !['—','0:00','0:01','0:02','0:03','0:04','0:05','0:06','0:07','0:08','0:09']"
                ".includes(document.querySelector('[data-field=elapsed_s]').textContent)",
                timeout=60000,
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
            assert rig.station.controller.hub.viewers == 1  # one station subscription, shared
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
    assert eventually(lambda: events.viewers == 0 and rig.station.controller.hub.viewers == 0, timeout=10), (
        "streams did not end on disconnect"
    )


class _EmptyTreadmill(SyntheticSource):
    """The synthetic station's camera with the runner stepped off: the treadmill and the wall
    only, at the camera's pace. The real MoveNet looks at it and finds nobody."""

    def open(self) -> None:
        super().open()
        self.empty = RunnerRenderer(self.runner).background

    def read(self) -> Frame | None:
        frame = super().read()
        return None if frame is None else Frame(self.empty.copy(), frame.t, frame.index)


def test_no_runner_in_view_is_one_line_on_the_dashboard(tmp_path, model_path):
    """Capturing an empty treadmill: "Fix this first" names it once, and no second line says
    the same thing in other words (the live view's and the live cadence's hints merge by code);
    stopped, the dashboard says in one line that nobody was seen, never a success-looking done."""
    from device.gait.live import HINT_WORDS, Hint

    sync_playwright = _need_browser()
    r = start_rig(
        tmp_path / "data",
        model_path,
        duration_s=30.0,
        source_factory=lambda: _EmptyTreadmill(RunnerParams(width=640, height=360, fps=15)),
    )
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                page = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
                browser_login(page, r.url)
                page.evaluate(
                    "window.gait.postJSON('/api/capture/start', {runner: {name: 'Nobody', height_cm: 175}, speed_kmh: 10})"
                )
                page.wait_for_function(
                    "() => document.querySelector('#live').dataset.state === 'capturing'", timeout=60000
                )
                # the live cadence joins in after 10 frames: give it a few hint updates
                assert eventually(lambda: (r.station.status()["elapsed_s"] or 0) > 3, timeout=30)
                page.wait_for_function("() => !document.querySelector('#fix-first').hidden", timeout=20000)
                page.wait_for_timeout(1000)
                fix = page.inner_text("#fix-first [data-field=fix]")
                others = page.eval_on_selector_all("#hints li", "els => els.map(e => e.textContent)")
                assert (fix, others) == (HINT_WORDS[Hint.NO_RUNNER], [])
                assert page.is_hidden("#hints-heading")  # no heading over an empty list
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "live-no-runner-1024.png"))
                # stopped, it is analysed and kept, but shown as failed with one line, not "done"
                page.evaluate("window.gait.postJSON('/api/capture/stop', {})")
                page.wait_for_function(
                    "() => ['done', 'failed'].includes(document.querySelector('#live').dataset.state)",
                    timeout=120000,
                )
                assert page.text_content("#state-badge") == "failed"
                line = page.inner_text("#live [data-field=message]")
                assert line.startswith("Nobody was seen in session ") and "nothing was measured" in line
            finally:
                browser.close()
    finally:
        r.close()


# -- issue 12: tablet layout, the recorded-run player, before/after, a correction -------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory, model_path):
    """A real station with two recorded runs of one runner (video kept), shared by the tests below."""
    from tests.support.tablet_pages import record_two, start_station

    d = start_station(tmp_path_factory.mktemp("demo") / "data", model_path)
    try:
        record_two(d)
        yield d
    finally:
        d.close()


def test_no_page_scrolls_sideways_on_either_tablet_size(demo):
    from tests.support.tablet_pages import launch, walk

    sync_playwright = _need_browser()
    first = demo.station.store.list_analyses(demo.after)[0]["id"]
    demo.station.reanalyse(demo.after, {"swap_sides": True}, "Dr Kay")  # the history table shows
    demo.ids["earlier_analysis"] = first
    seen = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            seen = list(walk(browser, demo))
        finally:
            browser.close()
    names = {n for n, _, _ in seen}
    assert {"login", "live", "new-session", "session", "compare", "runner-merge", "print-failed"} <= names
    assert len(seen) == 2 * len(names)  # every page at both sizes
    wide = [(n, s, w) for n, s, w in seen if w["doc"] > w["view"]]
    assert not wide, f"pages wider than the tablet: {wide}"
    hidden = [(n, s, w) for n, s, w in seen if w["table"] > 0]
    assert not hidden, f"table columns hidden behind a sideways scroll: {hidden}"


def _player_state(page, sel: str) -> dict:
    return page.evaluate(
        """(sel) => { const el = document.querySelector(sel); const c = el.querySelector('canvas');
             const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let lit = 0; for (let i = 0; i < px.length; i += 4 * 97) if (px[i] + px[i+1] + px[i+2] > 30) lit++;
             return {index: +el.dataset.index, loaded: el.dataset.loaded, lit: lit,
                     pos: el.querySelector('[data-field=pos]').textContent}; }""",
        sel,
    )


def test_video_player_steps_frames_and_jumps_to_evidence(demo):
    from tests.support.tablet_pages import SIZES, launch, login

    sync_playwright = _need_browser()
    frames: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for size in SIZES.values():
                ctx = browser.new_context(viewport=size)
                page = ctx.new_page()
                page.on(
                    "response",
                    lambda r: (
                        frames.append(r.headers.get("cache-control", "")) if "/video/" in r.url else None
                    ),
                )
                login(page, demo.url)
                page.goto(f"{demo.url}/sessions/{demo.before}")
                page.wait_for_selector("#player[data-ready='1'][data-loaded='0']", timeout=20000)
                st = _player_state(page, "#player")
                assert st["index"] == 0 and st["lit"] > 50, st  # the first frame is on the canvas
                page.click("#player [data-act=fwd]")
                page.wait_for_selector("#player[data-loaded='1']")
                page.click("#player [data-act=fwd]")
                page.wait_for_selector("#player[data-loaded='2']")
                page.click("#player [data-act=back]")
                page.wait_for_selector("#player[data-loaded='1']")
                assert "frame 2 /" in _player_state(page, "#player")["pos"]
                chips = page.locator("#player .player-evidence .chip")
                assert chips.count() >= 2
                # the clinic's words, as the evidence captions: "Left landing", not "left initial_contact"
                label = r"((Left|Right) (landing|midstance|push-off)|(Landing|Midstance|Push-off) \(side unknown\))"
                assert all(re.match(label + r" · \d+\.\d\d s$", t) for t in chips.all_inner_texts())
                target = page.evaluate(
                    "fetch(document.querySelector('#player').dataset.video).then(r => r.json())"
                    ".then(m => m.evidence[m.evidence.length - 1].index)"
                )
                chips.last.click()
                page.wait_for_selector(f"#player[data-loaded='{target}']")
                # slow motion: a quarter speed plays frame after frame, then pauses
                page.click("#player [data-act=back]")
                page.wait_for_selector(f"#player[data-loaded='{target - 1}']")
                page.select_option("#player [data-act=rate]", "0.25")
                page.click("#player [data-act=play]")
                page.wait_for_function(
                    f"() => +document.querySelector('#player').dataset.loaded >= {target + 1}", timeout=10000
                )
                page.click("#player [data-act=play]")  # pause
                ctx.close()
        finally:
            browser.close()
    assert frames and all("no-store" in cc for cc in frames), frames[:3]


def test_before_after_side_by_side(demo):
    from tests.support.tablet_pages import SIZES, launch, login

    sync_playwright = _need_browser()
    with sync_playwright() as p:
        browser = launch(p)
        try:
            for size in SIZES.values():
                ctx = browser.new_context(viewport=size)
                page = ctx.new_page()
                login(page, demo.url)
                page.goto(f"{demo.url}/compare?a={demo.after}&b={demo.before}")
                for sel in ("#player-1", "#player-2"):
                    page.wait_for_selector(f"{sel}[data-ready='1'][data-loaded='0']", timeout=20000)
                labels = page.locator(".player-label").all_inner_texts()
                assert labels[0].startswith("Before") and "Clifton 9" in labels[0]  # older run on the left
                assert labels[1].startswith("After") and "Ghost 15" in labels[1]
                boxes = [page.locator(s).bounding_box() for s in ("#player-1", "#player-2")]
                if size["width"] > size["height"]:
                    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1  # side by side
                page.click("#player-group > .player-controls [data-act=fwd]")  # one tap steps both
                for sel in ("#player-1", "#player-2"):
                    page.wait_for_selector(f"{sel}[data-loaded='1']")
                    assert _player_state(page, sel)["lit"] > 50
                page.click("#player-2 [data-act=fwd]")  # and each alone
                page.wait_for_selector("#player-2[data-loaded='2']")
                assert _player_state(page, "#player-1")["index"] == 1
                ctx.close()
        finally:
            browser.close()


def _num(text: str) -> float:
    """A shown value as a number ("312 ms", "−12°", "4.1 cm"); NaN for "—" (not measured)."""
    digits = re.sub(r"[^0-9.\-]", "", text.replace("−", "-"))
    return float(digits) if re.search(r"\d", digits) else float("nan")


def _exact_session(store, runner_id: int) -> int:
    """A finished session whose keypoints are the synthetic runner's exact ones, with a right
    contact 40 ms longer than the left: a swap must show in the numbers, whatever the machine's
    speed did to the recorded runs."""
    import numpy as np

    from device.capture.finisher import default_analyzer
    from device.gait.types import RunnerInfo
    from device.norms_file import load_norms
    from device.synthetic.runner import RunnerParams, SyntheticRunner

    tl = SyntheticRunner(
        RunnerParams(
            cadence_spm=170, duration_s=20, height_cm=178, speed_kmh=11, right={"contact_time_ms": 290}
        )
    ).clean_timeline()
    sid = store.create_session(runner_id, 11.0, 0.0, "Exact", "", "side", "synthetic", {}, height_cm=178)
    store.append_keypoints(sid, tl.t, np.concatenate([tl.xy, tl.score[..., None]], axis=2), tl.frame)
    store.set_status(sid, "analysing", frame_width=tl.width, frame_height=tl.height)
    # analysed as the station analyses a capture (its re-analysis below runs the same way)
    first = default_analyzer(
        tl, RunnerInfo(height_cm=178, speed_kmh=11.0), "side", load_norms(), "neutral", 0.0
    )
    store.save_analysis(sid, first.to_dict())
    return sid


def test_swap_sides_correction_reanalyses_and_keeps_the_original(demo):
    from tests.support.tablet_pages import launch, login

    sync_playwright = _need_browser()
    store = demo.station.store
    sid = _exact_session(store, demo.runner_id)
    original = store.get_session(sid)["analysis"]
    with sync_playwright() as p:
        browser = launch(p)
        try:
            ctx = browser.new_context(viewport={"width": 768, "height": 1024})
            page = ctx.new_page()
            login(page, demo.url)
            page.goto(f"{demo.url}/sessions/{sid}")
            # a measurement measured on at least one side, differing between the sides (the
            # engine may leave the far leg's value out: then it is the measured side that moves)
            metric = page.evaluate(
                r"""() => [...document.querySelectorAll('#metrics tr[data-metric]')].find(tr => {
                     const l = tr.querySelector('td.left'), r = tr.querySelector('td.right');
                     return l && r && /\d/.test(l.textContent + r.textContent)
                       && l.textContent.trim() !== r.textContent.trim(); })?.dataset.metric"""
            )
            assert metric, "no measurement with a left or right value"
            before_left = page.inner_text(f"#m-{metric} td.left")
            before_right = page.inner_text(f"#m-{metric} td.right")
            page.click("#corrections summary")
            page.check("#swap_sides")
            page.fill("#c_created_by", "Dr <b>Kay</b>")
            page.fill("#c_note", "camera mounted mirrored")
            page.click("#reanalyse")
            page.wait_for_selector("#analysis-history tr[data-analysis] >> nth=1", timeout=60000)
            rows = page.locator("#analysis-history tbody tr")
            assert rows.count() == 2
            assert "as captured (original)" in rows.nth(0).inner_text()
            assert "Dr <b>Kay</b>" in rows.nth(1).inner_text()  # shown as text
            assert (
                "left and right swapped" in rows.nth(1).inner_text() and "current" in rows.nth(1).inner_text()
            )
            # the sides of the re-analysis are the original's, exchanged (the engine's own
            # tie-breaks on real keypoints can move an event by a frame: within 5 %)
            after_left = page.inner_text(f"#m-{metric} td.left")
            after_right = page.inner_text(f"#m-{metric} td.right")
            assert _num(after_left) == pytest.approx(_num(before_right), rel=0.05, nan_ok=True), (
                metric,
                before_left,
                before_right,
                after_left,
                after_right,
            )
            assert _num(after_right) == pytest.approx(_num(before_left), rel=0.05, nan_ok=True), (
                metric,
                before_left,
                before_right,
                after_left,
                after_right,
            )
            # the original stays, one tap away
            rows.nth(0).locator("a").click()
            page.wait_for_selector("#earlier-analysis")
            assert page.inner_text(f"#m-{metric} td.left") == before_left
        finally:
            browser.close()
    hist = store.list_analyses(sid)
    assert [h["created_by"] for h in hist] == ["station", "Dr <b>Kay</b>"]
    assert store.get_analysis(hist[0]["id"])["analysis"] == original
    now = store.get_session(sid)["analysis"]
    assert now["input"]["sides_swapped"] is True
    sided = [
        k for k, m in original["metrics"].items() if m.get("left") is not None or m.get("right") is not None
    ]
    assert sided, "the original analysis has no sided value to swap"
    for k in sided:
        o, n = original["metrics"][k], now["metrics"][k]
        assert (n["left"] is None) == (o["right"] is None) and (n["right"] is None) == (o["left"] is None), k
    assert now["view"]["facing"] == original["view"]["facing"]  # the video's runner, not the mirror
