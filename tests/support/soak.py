"""The soak loop shared by bench/bench_soak.py (prints the figures) and tests/device/test_soak.py
(asserts their bounds): many back-to-back sessions through the real Station (rendered synthetic
runner, real MoveNet, live loop, keypoint writer, spool, gait engine, evidence frames, store,
dummy receipt printer, GPIO on gpiozero's MockFactory), measuring RSS, open file descriptors and
threads after a warm-up."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def os_threads() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settle(baseline_threads: int | None, timeout: float = 15.0) -> None:
    """Let finished sessions' worker threads (finalize, writer, printing) exit: returns as soon as
    they have, so the bound only matters on a loaded machine (CI beside a qemu run: 3 s left the
    last session's worker running) or for a thread that never exits, which the growth shows."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if baseline_threads is not None and threading.active_count() <= baseline_threads:
            return
        time.sleep(0.02)


def run_soak(
    data_dir: str | Path,
    model_path: str | Path,
    sessions: int = 100,
    capture_s: float = 1.5,
    warmup: int = 10,
    size: tuple[int, int] = (640, 360),
    fps: float = 30.0,
    threads: int = 2,
    progress: Any = None,
) -> dict[str, Any]:
    """Run ``sessions`` captures back to back; returns the figures (see the module docstring)."""
    from gpiozero.pins.mock import MockFactory

    from device.camera.synthetic import SyntheticSource
    from device.config import Config
    from device.pose import MoveNetEstimator
    from device.station import Station
    from device.synthetic.runner import RunnerParams

    cfg = Config()
    cfg.storage.data_dir = str(data_dir)
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = capture_s
    cfg.capture.countdown_s = 0
    cfg.capture.warmup_s = 0.0
    cfg.capture.stall_timeout_s = 10.0
    cfg.printing.receipt_printer = "dummy"
    cfg.printing.auto_print_summary = True
    cfg.gpio.enabled = True
    params = RunnerParams(
        cadence_spm=172, speed_kmh=11, height_cm=178, width=size[0], height=size[1], fps=fps
    )
    src = SyntheticSource(params, realtime=False)
    st = Station(
        cfg,
        "synthetic",
        MockFactory(),
        estimator=MoveNetEstimator(model_path, threads, quiet=True),
        source_factory=lambda: src,
        notifier=False,
    )
    st.start()
    base: dict[str, float] = {}
    peak = {"rss_mb": 0.0, "fds": 0, "os_threads": 0, "py_threads": 0}
    statuses: dict[str, int] = {}
    t_start = time.monotonic()
    t_warm = t_start
    db_warm = 0
    try:
        runner_id = st.store.create_runner("Soak Runner", 178)
        for i in range(sessions):
            if i == warmup:
                _settle(None, 0.3)
                st.store.checkpoint()
                base = {
                    "rss_mb": rss_mb(),
                    "fds": open_fds(),
                    "os_threads": os_threads(),
                    "py_threads": threading.active_count(),
                }
                db_warm = st.store.size_bytes()
                t_warm = time.monotonic()
            if i % 2:
                sid = st.start_capture(runner_id=runner_id, session={"speed_kmh": 11, "view": "side"})
            else:  # a new runner each other time: the form's path
                sid = st.start_capture(
                    runner={"name": f"Runner {i}", "height_cm": 170 + i % 20},
                    session={"speed_kmh": 10 + i % 5},
                )
            if sid is None:
                raise RuntimeError(f"session {i}: start ignored in state {st.status()['state']}")
            state = st.wait_for_state(("done", "failed"), 60)
            # the state can read done from the previous run for an instant: wait for this one
            end = time.monotonic() + 60
            while (
                st.store.get_session(sid)["status"] in ("capturing", "analysing") and time.monotonic() < end
            ):
                time.sleep(0.01)
            state = st.store.get_session(sid)["status"]
            statuses[state] = statuses.get(state, 0) + 1
            peak["rss_mb"] = max(peak["rss_mb"], rss_mb())
            peak["fds"] = max(peak["fds"], open_fds())
            peak["os_threads"] = max(peak["os_threads"], os_threads())
            peak["py_threads"] = max(peak["py_threads"], threading.active_count())
            if progress is not None:
                progress(i, state)
        _settle(int(base.get("py_threads", 0)) or None)
        # the last session's evidence frames are stored after it reads "done": give them the
        # same bound (a fresh-clone CI run measured before they were in: 0 evidence)
        end = time.monotonic() + 15.0
        while not st.store.list_evidence(sid) and time.monotonic() < end:
            time.sleep(0.05)
        st.store.checkpoint()
        end_fig = {
            "rss_mb": rss_mb(),
            "fds": open_fds(),
            "os_threads": os_threads(),
            "py_threads": threading.active_count(),
        }
        db_end = st.store.size_bytes()
        sample = st.store.get_session(sid)
        n_after = max(1, sessions - warmup)
        return {
            "sessions": sessions,
            "warmup": warmup,
            "capture_s": capture_s,
            "statuses": statuses,
            "frames_last_session": sample.get("frames_inferred"),
            "wall_s": time.monotonic() - t_start,
            "wall_per_session_s": (time.monotonic() - t_warm) / n_after,
            "baseline": base,
            "end": end_fig,
            "peak": peak,
            "growth": {k: end_fig[k] - base[k] for k in base},
            "threads_at_end": sorted(t.name for t in threading.enumerate()),
            "db_bytes_end": db_end,
            "db_bytes_per_session": (db_end - db_warm) / n_after,
            "evidence_last_session": len(st.store.list_evidence(sid)),
        }
    finally:
        st.close()
