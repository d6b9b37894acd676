"""Report generation time: HTML + PDF for a full synthetic session with six evidence frames.

A two-minute synthetic run (H3's runner, 30 fps) analysed by the real gait engine, six evidence
frames rendered at 1280×720; the timed part is exactly what `gait-station report` and the
station's print button do: render_report_html (evidence drawing, charts, template) and
WeasyPrint to PDF. Prints the median of several runs; target < 3 s on the dev machine.

    .venv/bin/python bench/bench_report.py [--runs 5] [--duration 120]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from device.config import Config
from device.report import render
from tests.support.synthetic_session import synthetic_session

TARGET_S = 3.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=120.0, help="synthetic run length in seconds")
    args = ap.parse_args()

    t0 = time.perf_counter()
    session, evidence = synthetic_session(duration_s=args.duration)
    setup = time.perf_counter() - t0
    cfg = Config()
    render.html_to_pdf(render.render_report_html(session, cfg, evidence))  # warm-up: fonts, imports, caches

    html_s, pdf_s, total_s = [], [], []
    pdf = b""
    for _ in range(args.runs):
        a = time.perf_counter()
        html = render.render_report_html(session, cfg, evidence)
        b = time.perf_counter()
        pdf = render.html_to_pdf(html)
        c = time.perf_counter()
        html_s.append(b - a)
        pdf_s.append(c - b)
        total_s.append(c - a)
    med = statistics.median(total_s)
    print(
        f"session: {args.duration:.0f} s synthetic run, {len(evidence)} evidence frames "
        f"(engine + frames {setup:.2f} s, not timed)"
    )
    print(f"html  median {statistics.median(html_s) * 1000:.0f} ms")
    print(f"pdf   median {statistics.median(pdf_s) * 1000:.0f} ms")
    print(
        f"total median {med:.2f} s over {args.runs} runs (min {min(total_s):.2f}, max {max(total_s):.2f}); "
        f"PDF {len(pdf) / 1024:.0f} KiB; target < {TARGET_S:.0f} s: {'OK' if med < TARGET_S else 'MISSED'}"
    )
    return 0 if med < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
