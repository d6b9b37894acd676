"""Soak: 100 back-to-back sessions through the real Station (real MoveNet on the rendered synthetic
runner, gait engine, store, evidence, receipt printing, GPIO mock) without growth in memory, file
descriptors or threads after a warm-up. Figures: bench/bench_soak.py prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.soak import run_soak

SESSIONS, WARMUP = 100, 10
RSS_GROWTH_MAX_MB = 15.0  # measured +0.5 MB over 90 sessions; the bound leaves room for allocator noise
DB_PER_SESSION_MAX_KB = 400.0  # measured ~100 kB for 1.5-2 s captures with 6 evidence frames


@pytest.mark.slow
def test_100_sessions_back_to_back_without_leaks(tmp_path: Path, model_path: Path) -> None:
    r = run_soak(tmp_path / "data", model_path, sessions=SESSIONS, capture_s=1.5, warmup=WARMUP)
    assert r["statuses"] == {"done": SESSIONS}, r["statuses"]
    assert r["frames_last_session"] >= 45
    g = r["growth"]
    assert g["rss_mb"] <= RSS_GROWTH_MAX_MB, r
    assert g["fds"] <= 1, r  # no file, socket or database handle left behind per session
    assert g["os_threads"] <= 1 and g["py_threads"] <= 0, r  # no worker thread left behind
    assert r["peak"]["py_threads"] - r["baseline"]["py_threads"] <= 3, r
    assert r["db_bytes_per_session"] <= DB_PER_SESSION_MAX_KB * 1e3, r
    assert r["evidence_last_session"] > 0
