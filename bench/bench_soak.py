"""Soak: many back-to-back sessions through the real Station, watching for leaks.

Each session is a short capture (``--capture-s`` of camera time) of the rendered synthetic runner
(non-realtime source, so the run is as fast as inference allows) through the real MoveNet model,
live loop, keypoint writer, spool, gait engine, evidence frames, store and receipt printing (the
dummy printer), with the GPIO controls on gpiozero's MockFactory. After ``--warmup`` sessions the
process's RSS, open file descriptors (/proc/self/fd) and threads (OS threads, TFLite's included)
are taken as the baseline; the script prints their growth by the end, the peaks, the time per
session and the database size per session.

    .venv/bin/python bench/bench_soak.py [--sessions 100] [--capture-s 1.5] [--warmup 10]

The loop (``run_soak``) lives in tests/support/soak.py; tests/device/test_soak.py runs it too and
asserts the bounds.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.soak import open_fds, os_threads, rss_mb, run_soak  # noqa: E402 - after the path setup

DEFAULT_MODEL = REPO.parent / "shared" / "models" / "movenet_singlepose_lightning_int8_4.tflite"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--capture-s", type=float, default=1.5, help="camera time per session (s)")
    ap.add_argument("--warmup", type=int, default=10, help="sessions before the baseline is taken")
    ap.add_argument("--threads", type=int, default=2, help="MoveNet threads")
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--data-dir", help="keep the database here (default: a temporary folder)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data_dir or tmp)

        def progress(i: int, state: str) -> None:
            if (i + 1) % 10 == 0:
                print(
                    f"  {i + 1:4d} sessions  rss {rss_mb():6.1f} MB  fds {open_fds():3d}  "
                    f"threads {os_threads():3d}  last {state}",
                    flush=True,
                )

        r = run_soak(
            data,
            args.model,
            args.sessions,
            args.capture_s,
            args.warmup,
            threads=args.threads,
            progress=progress,
        )
    b, e, g, p = r["baseline"], r["end"], r["growth"], r["peak"]
    print(
        f"sessions: {r['sessions']} x {r['capture_s']:g} s of camera time "
        f"({r['frames_last_session']} frames each); outcome {r['statuses']}"
    )
    print(f"wall time: {r['wall_s']:.1f} s total, {r['wall_per_session_s']:.2f} s per session after warm-up")
    print(
        f"RSS: {b['rss_mb']:.1f} MB after {r['warmup']} sessions -> {e['rss_mb']:.1f} MB at the end "
        f"(growth {g['rss_mb']:+.1f} MB, peak {p['rss_mb']:.1f} MB)"
    )
    print(f"open fds: {b['fds']} -> {e['fds']} (growth {g['fds']:+d}, peak {p['fds']})")
    print(
        f"threads: OS {b['os_threads']} -> {e['os_threads']} (peak {p['os_threads']}), "
        f"Python {b['py_threads']} -> {e['py_threads']} (peak {p['py_threads']})"
    )
    print(
        f"database: {r['db_bytes_end'] / 1e6:.2f} MB, {r['db_bytes_per_session'] / 1e3:.1f} kB per session "
        f"({r['evidence_last_session']} evidence frames per session)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
