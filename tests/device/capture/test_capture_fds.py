"""Capture sessions leave no file descriptor behind: the soak's fd bound, in a second.

The finish worker's done-callback (the station prints the receipt from it) reads the store
from the worker thread; a connection opened there must close with the thread (it once leaked
the database and its WAL, 2 fds a session)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from pathlib import Path

from device.capture.controller import CaptureController
from device.config import Config
from device.store import Store
from tests.support.eventually import eventually

from .capture_fakes import PoseFromTime, ScriptedSource, fake_analyzer


def _fd_targets() -> Counter[str]:
    targets: Counter[str] = Counter()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own fd, closed by now
            targets[os.readlink(f"/proc/self/fd/{fd}")] += 1
    return targets


def _workers_gone() -> bool:
    return not any(t.name.startswith(("finalize-", "finish-")) for t in threading.enumerate())


def test_sessions_leave_no_fd_behind(tmp_path: Path) -> None:
    cfg = Config()
    cfg.storage.data_dir = str(tmp_path)
    cfg.storage.min_free_mb = 0
    cfg.capture.duration_s = 1.0
    cfg.capture.countdown_s = 0
    cfg.capture.stall_timeout_s = 1.0
    cfg.camera.source = "scripted"
    store = Store(tmp_path / "station.db")
    src = ScriptedSource()
    printed: list[int] = []

    def on_session_done(sid: int, ok: bool) -> None:  # as the station's receipt printing does
        store.mark_printed(sid, "summary")
        printed.append(store.get_session(sid)["id"])

    ctl = CaptureController(
        cfg,
        store,
        lambda: src,
        PoseFromTime(),
        analyzer=fake_analyzer([]),
        norms=None,
        summary_formatter=lambda s: "summary",
        on_session_done=on_session_done,
    )
    ctl.start()
    try:

        def session() -> None:
            sid = ctl.start_capture()
            assert ctl.wait_for_state(("done", "failed"), 20) == "done"
            assert eventually(lambda: sid in printed and _workers_gone(), 10)

        session()  # warm-up: the camera, the live view and this thread's connection are open
        before = _fd_targets()
        for _ in range(2):
            session()
        after = _fd_targets()
        assert after == before, f"left open: {dict(after - before)}; closed: {dict(before - after)}"
    finally:
        ctl.close()
        store.close()
