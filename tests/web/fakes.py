"""A stand-in for device.station.Station in fast web tests: a real Store, recorded commands.

It implements :class:`device.station_api.StationAPI` (what the web app may ask of a station),
with the real return types; tests/web/test_station_contract.py runs the same checks on it and on
the real Station. Flows against the real Station on the synthetic source are in
test_web_station_flow.py.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from device.config import Config
from device.errors import UserError
from device.norms_file import load_norms
from device.store import Store


class FakeSubscription:
    def __init__(self, owner: FakeStation) -> None:
        self.owner = owner
        self.q: queue.Queue[dict[str, Any] | None] = queue.Queue(16)

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        return self.q.get(timeout=timeout)

    def get_nowait(self) -> dict[str, Any] | None:
        return self.q.get_nowait()

    def close(self) -> None:
        with self.owner.lock:
            if self in self.owner.subs:
                self.owner.subs.remove(self)


class FakeStation:
    def __init__(self, store: Store, config: Config | None = None) -> None:
        self.store = store
        self.config = config or Config()
        self.lock = threading.Lock()
        self.subs: list[FakeSubscription] = []
        self.calls: list[tuple[str, Any]] = []
        self.state = "idle"
        self.session_id: int | None = None
        self.preview: tuple[int, bytes] | None = None
        self.rear_preview: tuple[int, bytes] | None = None
        self.rear_camera = False
        self.frame_t: float | None = None
        self.print_error: Exception | None = None
        self.start_error: Exception | None = None
        self.armed: tuple[int | None, dict[str, Any] | None] | None = None
        self.prepared_runner: int | None = None
        self.countdown_s: float | None = None
        self.buzzer = True
        self.metronome_spm = 0.0
        self.synthetic_runner = False  # the camera is the drawn demo runner
        self.reanalysed: list[tuple[int, dict[str, Any], str]] = []

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "session_id": self.session_id,
            "elapsed_s": 1.5 if self.state == "capturing" else None,
            "remaining_s": 8.5 if self.state == "capturing" else None,
            "cadence_spm": 172.0 if self.state == "capturing" else None,
            "strides": 3 if self.state == "capturing" else None,
            "quality_hints": ["feet <b>leave</b> the frame"] if self.state == "capturing" else [],
            "message": "",
            "inference_fps": 25.0,
            "frame_t": self.frame_t,
            "armed": self.armed is not None,
            "synthetic_runner": self.synthetic_runner,
            "countdown_s": self.countdown_s,
            "controls": {"buzzer": self.buzzer, "metronome_spm": self.metronome_spm},
        }

    def clock(self) -> float:
        return time.monotonic()  # the clock of frame_t (set from it in start_capture)

    def publish(self) -> None:
        st = self.status()
        with self.lock:
            subs = list(self.subs)
        for s in subs:
            s.q.put(st)

    def subscribe(self) -> FakeSubscription:
        sub = FakeSubscription(self)
        with self.lock:
            self.subs.append(sub)
        return sub

    def latest_preview(self) -> tuple[int, bytes] | None:
        return self.preview

    def latest_rear_preview(self) -> tuple[int, bytes] | None:
        return self.rear_preview

    def has_rear_camera(self) -> bool:
        return self.rear_camera

    def prepared_runner_id(self) -> int | None:
        return self.armed[0] if self.armed is not None else None

    def prepare(
        self,
        runner_id: int | None = None,
        runner: dict[str, Any] | None = None,
        session: dict[str, Any] | None = None,
        height_cm: float | None = None,
    ) -> dict[str, Any]:
        self.calls.append(("prepare", {"runner_id": runner_id, "session": session, "height_cm": height_cm}))
        if runner is not None:  # like the Station: created now, removed if the run never starts
            runner_id = self.prepared_runner = self.store.create_runner(
                runner["name"], runner.get("height_cm")
            )
        elif runner_id is not None and height_cm is not None:
            self.store.update_runner(runner_id, height_cm=height_cm)
        self.armed = (runner_id, session)
        self.state = "ready"
        self.publish()
        s = session or {}
        return {
            "runner_id": runner_id,
            "speed_kmh": s.get("speed_kmh"),
            "incline_pct": s.get("incline_pct"),
            "shoes": s.get("shoes", ""),
            "notes": s.get("notes", ""),
            "view": s.get("view", "auto"),
        }

    def unprepare(self) -> None:
        self.calls.append(("unprepare", None))
        self.armed = None
        self.state = "idle"
        if self.prepared_runner is not None:
            self.store.delete_runner_if_unused(self.prepared_runner)
            self.prepared_runner = None

    def start_capture(
        self,
        runner_id: int | None = None,
        runner: dict[str, Any] | None = None,
        session: dict[str, Any] | None = None,
        height_cm: float | None = None,
    ) -> int | None:
        self.calls.append(("start", {"runner_id": runner_id, "runner": runner, "session": session}))
        if runner_id is None and runner is None and session is None and self.armed is not None:
            runner_id, session = self.armed
            self.armed = None
        if self.start_error is not None:
            raise self.start_error
        if self.state in ("capturing", "analysing"):
            return None  # like the real controller: a start while busy is ignored
        if runner_id is None and runner is not None:
            runner_id = self.store.create_runner(runner["name"], runner.get("height_cm"))
        elif runner_id is not None and height_cm is not None:
            self.store.update_runner(runner_id, height_cm=height_cm)
        self.prepared_runner = None
        s = session or {}
        self.session_id = self.store.create_session(
            runner_id,
            s.get("speed_kmh"),
            s.get("incline_pct"),
            s.get("shoes", ""),
            s.get("notes", ""),
            s.get("view", "auto"),
            "fake",
            {},
        )
        self.state = "capturing"
        self.frame_t = time.monotonic()
        self.publish()
        return self.session_id

    def stop_capture(self) -> int | None:
        self.calls.append(("stop", None))
        if self.state != "capturing":
            return None
        self.state = "analysing"
        self.publish()
        return self.session_id

    def cancel_capture(self) -> int | None:
        self.calls.append(("cancel", None))
        if self.state != "capturing" or self.session_id is None:
            return None
        sid = self.session_id
        self.store.delete_session(sid)  # like the real station: a cancelled run leaves nothing
        self.session_id = None
        self.state = "idle"
        self.publish()
        return sid

    def _done_session(self, session_id: int, what: str) -> dict[str, Any]:
        session = self.store.get_session(session_id)
        if session["status"] != "done" or session["analysis"] is None:
            raise UserError(f"session {session_id} has no analysis {what} ({session['status']})")
        return session

    def print_summary(self, session_id: int) -> None:
        self.calls.append(("print_summary", session_id))
        self._done_session(session_id, "to print")
        if self.print_error is not None:
            raise self.print_error

    def print_report(self, session_id: int) -> str:
        self.calls.append(("print_report", session_id))
        self._done_session(session_id, "to print")
        if self.print_error is not None:
            raise self.print_error
        return f"fake-cups-{len(self.calls)}"

    def report_pdf(self, session_id: int) -> bytes:
        """The real report renderer on the stored session (no evidence frames)."""
        from device.report.render import render_report_pdf

        self.calls.append(("report_pdf", session_id))
        session = self._done_session(session_id, "yet")
        return render_report_pdf(session, self.config, [])

    def set_metronome(self, spm: float | None) -> float:
        self.calls.append(("metronome", spm))
        self.metronome_spm = float(spm or 0.0)
        return self.metronome_spm

    def comparison_pdf(self, session_a: int, session_b: int) -> bytes:
        return b"%PDF-1.4 fake comparison"

    def print_comparison(self, session_a: int, session_b: int) -> str:
        self.calls.append(("print_comparison", (session_a, session_b)))
        if self.print_error is not None:
            raise self.print_error
        return "7"

    def reanalyse(self, session_id: int, corrections: dict[str, Any], created_by: str, note: str = "") -> int:
        """Like the Station, with the gait engine when the session has keypoints; otherwise
        the current analysis is kept again with the corrections recorded (page tests)."""
        from device.corrections import Corrections, reanalyse
        from device.gait import analyze

        self.calls.append(("reanalyse", (session_id, corrections, created_by)))
        c = Corrections.from_dict(corrections)
        if self.store.count_keypoints(session_id):
            return reanalyse(
                self.store,
                session_id,
                c,
                created_by,
                lambda tl, r, v: analyze(tl, r, view=v, norms=load_norms()),
                note,
            )
        current = dict(self.store.get_session(session_id)["analysis"] or {})
        current["input"] = {**(current.get("input") or {}), "corrections": c.to_dict()}
        return self.store.save_analysis(
            session_id, current, created_by=created_by, corrections=c.to_dict(), note=note
        )
