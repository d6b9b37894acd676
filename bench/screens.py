"""Screenshots of every dashboard page on both tablet sizes, into docs/screens/.

    .venv/bin/python bench/screens.py [--out docs/screens]

Runs a real station (synthetic runner, MoveNet, store, video recording, mock buzzer) served on
127.0.0.1, records two runs of one runner (shoe A/B), corrects the second (left/right swapped,
so the page lists the original and the re-analysis), then opens every page in Debian's Chromium
at 1024×768 (landscape) and 768×1024 (portrait) and saves ``<page>-<size>.png`` (colours
quantised: the set stays a few MB). Prints each page's document width against the viewport and
exits 1 if any page scrolls sideways. Needs /usr/bin/chromium, Playwright and the MoveNet model.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.tablet_pages import SIZES, launch, login, record_two, start_station, walk  # noqa: E402


def _model() -> Path:
    from device.config import Config
    from device.pose import resolve_model_path

    return resolve_model_path(Config())


def _optimise(png: Path) -> None:
    """256-colour palette PNG: screenshots of flat UI lose nothing visible and shrink ~4×."""
    from PIL import Image

    with Image.open(png) as im:
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    q.save(png, optimize=True)


def _live_shots(browser, demo, out: Path) -> None:
    """The live view during a countdown and while recording (both sizes)."""
    demo.cfg.capture.countdown_s = 5
    demo.cfg.capture.duration_s = 10.0
    for size_name, size in SIZES.items():
        ctx = browser.new_context(viewport=size, device_scale_factor=1)
        try:
            page = ctx.new_page()
            login(page, demo.url)
            demo.station.start_capture(
                runner_id=demo.runner_id, session={"speed_kmh": 12.0, "shoes": "Ghost 15"}
            )
            page.wait_for_selector("#countdown:not([hidden])", timeout=10000)
            page.wait_for_timeout(700)
            page.screenshot(path=str(out / f"live-countdown-{size_name}.png"))
            page.wait_for_selector("#countdown[hidden]", state="attached", timeout=15000)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(out / f"live-capturing-{size_name}.png"))
            demo.station.cancel_capture()
            demo.station.wait_for_state(("idle",), 20)
        finally:
            ctx.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "screens")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gait-screens-") as tmp:
        demo = start_station(Path(tmp) / "data", _model())
        try:
            record_two(demo)
            store = demo.station.store
            first = store.list_analyses(demo.after)[0]["id"]
            demo.station.reanalyse(demo.after, {"swap_sides": True}, "Dr Kay", "camera was mirrored")
            demo.ids["earlier_analysis"] = first
            store.create_runner("ann  lee", 168, "entered twice at the desk")  # the merge page offers it
            bad = []
            with sync_playwright() as p:
                browser = launch(p)
                try:
                    print(f"{'page':32} {'size':10} {'document':>9} {'viewport':>9} {'table overflow':>15}")
                    for name, size, w in walk(browser, demo, shots=out):
                        mark = "" if w["doc"] <= w["view"] and w["table"] <= 0 else "  ← scrolls sideways"
                        print(f"{name:32} {size:10} {w['doc']:9d} {w['view']:9d} {w['table']:15d}{mark}")
                        if mark:
                            bad.append((name, size))
                    _live_shots(browser, demo, out)
                finally:
                    browser.close()
        finally:
            demo.close()
    pngs = sorted(out.glob("*.png"))
    for png in pngs:
        _optimise(png)
    total = sum(p.stat().st_size for p in pngs)
    print(f"{len(pngs)} screenshots, {total / 1e6:.2f} MB, in {out} ({time.monotonic() - t0:.0f} s)")
    if bad:
        print(f"pages that scroll sideways: {bad}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
