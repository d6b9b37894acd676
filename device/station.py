"""The station: store + camera/pose live loop + capture controller + buttons + printers, composed.

``gait-station run`` builds one :class:`Station`, starts it and hands it to the web app. The
station is what the dashboard, the API and the GPIO buttons talk to; each part does one job:

- :class:`device.store.Store` keeps runners, sessions, keypoints, analyses, evidence frames;
- :class:`device.capture.controller.CaptureController` runs the live loop and the states;
- :class:`device.controls.StationControls` turns button presses into start/stop/cancel/print
  and shows the state on the LED;
- :mod:`device.printing` prints the receipt summary and, via CUPS, the full report.

A printer that is absent or fails never loses a session: the summary text is stored with the
session and can be reprinted from the dashboard. systemd gets ``READY=1`` once the live loop runs
and ``WATCHDOG=1`` pings only while the loop keeps turning, so a hung camera driver gets the
service restarted.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import EllipsisType
from typing import Any

from device.camera import resolve_spec
from device.camera.base import FrameSource
from device.capture.controller import CaptureController, Resume
from device.capture.finisher import Analyzer, default_analyzer
from device.capture.rear import RearCamera
from device.capture.request import CaptureRequest
from device.capture.states import CAN_START, SessionStatus, StationState
from device.capture.status import Status, Subscription
from device.config import Config
from device.errors import InputError, UserError
from device.gait.norms import Norms
from device.pose.base import EstimatorFactory, PoseEstimator
from device.printing.purge import CupsJobPurger
from device.store import Store, spool_files
from device.store.video import SessionVideo, VideoUnavailableError

SourceFactory = Callable[[], FrameSource]

log = logging.getLogger(__name__)


class Station:
    """One gait station. ``source_spec`` overrides ``[camera] source``; ``pin_factory`` is
    gpiozero's (a MockFactory in tests). ``estimator``/``source_factory``/``analyzer`` replace
    the MoveNet model, the camera and the gait engine (tests, benchmarks); ``estimator_factory``
    makes the catch-up's extra estimators (default: more MoveNet interpreters when the live
    estimator is the station's own MoveNet, none for a given ``estimator``)."""

    def __init__(
        self,
        config: Config,
        source_spec: str | None = None,
        pin_factory: Any = None,
        *,
        estimator: PoseEstimator | None = None,
        estimator_factory: EstimatorFactory | None = None,
        source_factory: SourceFactory | None = None,
        rear_estimator: PoseEstimator | None = None,
        rear_source_factory: SourceFactory | None = None,
        analyzer: Analyzer | None = None,
        norms: Norms | None | EllipsisType = ...,
        notifier: Any = None,
    ) -> None:
        self.cfg = self.config = config
        # decided once: the camera failing later must never turn into the synthetic runner
        self.source_spec = resolve_spec(source_spec or config.camera.source)
        self.pin_factory = pin_factory
        self.data_dir = config.data_dir
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the data folder {self.data_dir}: {exc.strerror}") from None
        self.store = Store(self.data_dir / "station.db", print_jobs=CupsJobPurger())
        self._estimator = estimator
        self._estimator_factory = estimator_factory
        self._source_factory = source_factory
        self._rear_estimator = rear_estimator
        self._rear_source_factory = rear_source_factory
        self._analyzer = analyzer
        self._norms = norms
        self._notifier = notifier
        self.controller: CaptureController | None = None
        self.controls: Any = None
        self.recovered_sessions: list[int] = []
        self._resumable: list[int] = []
        self.last_print_error: str | None = None
        self._print_lock = threading.Lock()
        self._reanalyse_lock = threading.Lock()
        # what prepare() changed for a run not yet started: undone if it never starts
        self._prepared_runner: int | None = None  # a runner created for it
        self._prepared_height: tuple[int, float | None] | None = None  # (runner, height before)
        self._new_runner: tuple[int, int] | None = None  # (session, runner created for it)
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Recover interrupted sessions, prune old ones, start the camera loop, buttons, watchdog."""
        if self._started:
            return
        self.recovered_sessions = self.store.recover_interrupted()
        self.store.purge_print_jobs()  # of sessions deleted while CUPS was down
        with contextlib.suppress(Exception):
            self.store.prune(self.cfg.storage.retention_days)
        with contextlib.suppress(Exception):
            self.store.prune_videos(self.cfg.capture.video_retention_days)
        factory = self._estimator_factory
        if self._estimator is None:
            self._estimator = self._make_estimator()
            factory = factory or self._make_catchup_estimator
        estimator = self._estimator
        source_factory = self._source_factory or self._make_source_factory(estimator)
        rear = self._make_rear()
        self.controller = CaptureController(
            self.cfg,
            self.store,
            source_factory,
            estimator,
            estimator_factory=factory,
            analyzer=self._analyzer,
            summary_formatter=self.format_summary,
            on_state=self._on_state,
            on_session_done=self._on_session_done,
            spool_dir=self.store.spool_dir,
            source_name=self.source_spec,
            norms=self._norms,
            rear=rear,
        )
        self._clear_spool()
        self._clear_orphan_videos()
        self.controller.start()
        self._resume_recovered()
        self.controls = self._make_controls()
        self._started = True
        self._notify("READY=1")
        self._watchdog = threading.Thread(target=self._watch, name="station-watchdog", daemon=True)
        self._watchdog.start()
        log.info("station started: camera %s, data in %s", self.source_spec, self.data_dir)

    def close(self) -> None:
        """Stop everything; a capture in progress is stopped and analysed, nothing is lost."""
        self._stop.set()
        self._notify("STOPPING=1")
        if self.controls is not None:
            with contextlib.suppress(Exception):
                self.controls.close()
        if self.controller is not None:
            self.controller.close()
        if self._watchdog is not None:
            self._watchdog.join(5)
        if self._estimator is not None:
            with contextlib.suppress(Exception):
                self._estimator.close()
        self.store.close()
        self._started = False

    def __enter__(self) -> Station:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _make_estimator(self) -> PoseEstimator:
        from device.pose import MoveNetEstimator, resolve_model_path

        return MoveNetEstimator(resolve_model_path(self.cfg), self.cfg.pose.num_threads, quiet=True)

    def _make_catchup_estimator(self) -> PoseEstimator:
        """One more MoveNet for the catch-up: one thread each, one estimator per core."""
        from device.pose import MoveNetEstimator, resolve_model_path

        return MoveNetEstimator(resolve_model_path(self.cfg), 1, quiet=True)

    def _make_rear(self) -> RearCamera | None:
        """The rear camera, when ``[camera] rear_source`` (or a test's factory) is given."""
        spec = self.cfg.camera.rear_source
        if not spec and self._rear_source_factory is None:
            return None
        spec = resolve_spec(spec)
        est = self._rear_estimator if self._rear_estimator is not None else self._make_estimator()
        if self._rear_source_factory is not None:
            factory = self._rear_source_factory
        else:
            from device.camera import open_source

            side = max(est.input_size) or 192
            cfg = self.cfg

            def factory() -> FrameSource:
                return open_source(spec, cfg, model_input=side, upside_down=cfg.camera.rear_upside_down)

        return RearCamera(
            self.store, factory, est, self.cfg.pose.min_score, min(5.0, self.cfg.capture.live_preview_fps)
        )

    def latest_rear_preview(self) -> tuple[int, bytes] | None:
        """The rear camera's preview (skeleton drawn), None without a rear camera."""
        rear = self.controller.rear if self.controller is not None else None
        return rear.latest_preview() if rear is not None else None

    def has_rear_camera(self) -> bool:
        """A rear camera is configured (``[camera] rear_source``) or running on this station."""
        return bool(self.cfg.camera.rear_source) or (
            self.controller is not None and self.controller.rear is not None
        )

    def prepared_runner_id(self) -> int | None:
        """The runner of the prepared next run (``prepare()``), None when none is prepared."""
        armed = self.controller.armed if self.controller is not None else None
        return armed.runner_id if armed is not None else None

    def _make_source_factory(self, estimator: PoseEstimator) -> SourceFactory:
        from device.camera import open_source

        side = max(estimator.input_size) or 192
        spec, cfg = self.source_spec, self.cfg
        return lambda: open_source(spec, cfg, model_input=side, upside_down=cfg.camera.upside_down)

    def _make_controls(self) -> Any:
        if not self.cfg.gpio.enabled:
            return None
        try:
            from device.controls import StationControls
        except ImportError as exc:
            log.warning("controls not available: %s", exc)
            return None
        try:
            controls = StationControls(
                self.cfg.gpio,
                self.pin_factory,
                on_start=self._button_start,
                on_stop=self._button_stop,
                on_cancel=self._button_cancel,
                on_print=self._button_print,
            )
        except UserError as exc:  # a wiring mistake in the config: say so, run without buttons
            log.error("buttons/LED disabled: %s", exc)
            return None
        with contextlib.suppress(Exception):
            controls.set_state(self.controller.state if self.controller else StationState.IDLE)
        return controls

    def _clear_spool(self) -> None:
        """Before anything records: the spools (pose and evidence, with its sidecar) of every
        session left ``interrupted`` are kept — a customer's recorded run, finished by
        :meth:`_resume_recovered` or, if never finished, deleted with the session — and any
        other file in the spool folder is deleted (a session already finished or deleted)."""
        spool = self.store.spool_dir
        interrupted = sorted(s["id"] for s in self.store.list_sessions(status=SessionStatus.INTERRUPTED))
        # One attempt per session: a session whose finishing was itself cut short (a crash in
        # the analysis would otherwise crash every start) stays interrupted, its recording kept.
        tried = {sid for sid in interrupted if self._resume_marker(sid).exists()}
        just_cut = sorted(tried & set(self.recovered_sessions))
        if just_cut:
            log.warning(
                "session(s) %s: finishing after a restart was cut short; left interrupted, recording kept",
                just_cut,
            )
        self._resumable = [sid for sid in interrupted if sid not in tried]
        keep = {p.name for sid in interrupted for p in spool_files(spool, sid)}
        for p in spool.glob("session-*") if spool.is_dir() else []:
            if p.name not in keep:
                with contextlib.suppress(OSError):
                    p.unlink()

    def _resume_marker(self, session_id: int) -> Path:
        """Present while an interrupted session is being finished: still there at the next start,
        the finishing was cut short (one attempt per session)."""
        return self.store.spool_dir / f"session-{session_id}.resuming"

    def _clear_orphan_videos(self) -> None:
        """Before anything records: a video no session names (a crash between keeping it and
        storing its path) is a customer's run nobody can see or delete from the dashboard. When
        its session is there (left interrupted by that crash) the video is given back to it;
        otherwise it is deleted."""
        videos = self.data_dir / "videos"
        if not videos.is_dir():
            return
        for s in self.store.list_sessions(status=SessionStatus.INTERRUPTED):
            if not s["video_path"]:
                self._give_back_video(s["id"], videos / f"session-{s['id']}.mjpeg")
        named = {Path(p).name for p in self.store.video_paths()}
        named |= {f"{n}.idx" for n in named}
        orphans = [p for p in videos.glob("session-*") if p.name not in named]
        for p in orphans:
            with contextlib.suppress(OSError):
                p.unlink()
        if orphans:
            log.warning(
                "deleted %d video file(s) no session names: %s", len(orphans), sorted(p.name for p in orphans)
            )

    def _give_back_video(self, session_id: int, path: Path) -> None:
        """Name ``path`` as the interrupted session's video if it is a whole one (its index beside
        it; a crash between the two renames of ``keep_as_video`` left the index as ``.idx.tmp``,
        written and synced before either)."""
        if not path.is_file():
            return
        idx, tmp = Path(f"{path}.idx"), Path(f"{path}.idx.tmp")
        if not idx.exists() and tmp.is_file():
            with contextlib.suppress(OSError):
                tmp.replace(idx)
        try:
            SessionVideo(path)
        except VideoUnavailableError as exc:
            log.warning("session %d: video %s not kept: %s", session_id, path.name, exc)
            return
        self.store.set_status(session_id, SessionStatus.INTERRUPTED, video_path=str(path))
        log.warning("session %d: its video, kept before the station stopped, is named again", session_id)

    def _resume_recovered(self) -> None:
        """Finish the interrupted sessions, one after the other, from their pose spools and
        stored keypoints (the station shows ``analysing`` meanwhile). A resume refused because a
        capture started in the same instant is tried again once the station is free; a session
        not finished when the station stops is tried at the next start (its spools are kept). A
        session with no pose spool stays ``interrupted`` with its keypoints."""
        todo = list(self._resumable)
        if not todo:
            return
        ctl = self._ctl()

        def run() -> None:
            for sid in todo:
                while True:
                    while not self._stop.is_set() and ctl.state not in CAN_START:
                        self._stop.wait(0.2)
                    if self._stop.is_set():
                        return
                    marker = self._resume_marker(sid)
                    with contextlib.suppress(OSError):
                        marker.touch()
                    outcome = ctl.resume(sid)
                    if outcome is Resume.STARTED:
                        log.info("session %d: finishing after the restart", sid)
                        ctl.wait_for_state((StationState.DONE, StationState.FAILED), timeout=24 * 3600)
                    with contextlib.suppress(OSError):
                        marker.unlink()
                    if outcome is not Resume.BUSY:
                        break
                    log.info("session %d: the station is busy; finishing it once it is free", sid)

        threading.Thread(target=run, name="resume-sessions", daemon=True).start()

    # -- systemd -----------------------------------------------------------------------------

    def _notify(self, msg: str) -> None:
        if self._notifier is None:
            try:
                import sdnotify

                self._notifier = sdnotify.SystemdNotifier()
            except ImportError:
                self._notifier = False
        if self._notifier:
            with contextlib.suppress(Exception):
                self._notifier.notify(msg)

    def healthy(self) -> bool:
        """The live loop is turning (what the systemd watchdog checks)."""
        return self.controller is not None and self.controller.healthy(max_stall_s=self._stall_limit())

    def _stall_limit(self) -> float:
        return max(2.0, self.cfg.capture.stall_timeout_s * 2)

    def _watch(self) -> None:
        usec = os.environ.get("WATCHDOG_USEC")
        period = max(0.05, int(usec) / 2e6) if usec and usec.isdigit() else 5.0
        was_ok = True
        last_prune = time.monotonic()
        while not self._stop.wait(period):
            if time.monotonic() - last_prune > 6 * 3600:
                last_prune = time.monotonic()  # the station runs for weeks: prune as it goes
                try:
                    self.store.prune(self.cfg.storage.retention_days)
                    self.store.prune_videos(self.cfg.capture.video_retention_days)
                except Exception:
                    log.exception("pruning old sessions failed")
            ok = self.healthy()
            if ok:
                self._notify("WATCHDOG=1")
            elif was_ok:
                log.error("live loop stalled: no longer pinging the systemd watchdog")
                self._notify("STATUS=live loop stalled")
            was_ok = ok

    # -- what the dashboard shows -------------------------------------------------------------

    def clock(self) -> float:
        """Now, on the clock of ``status()['frame_t']`` for a camera: the kernel's monotonic clock,
        which the Pi camera's ``SensorTimestamp`` uses (a video file's times are its own)."""
        return time.monotonic()

    def status(self) -> Status:
        st = (
            self.controller.status()
            if self.controller is not None
            else {
                "state": StationState.IDLE,
                "session_id": None,
                "elapsed_s": None,
                "remaining_s": None,
                "cadence_spm": None,
                "strides": None,
                "quality_hints": [],
                "message": "station not started",
                "inference_fps": 0.0,
                "frame_t": None,
            }
        )
        st["printer_error"] = self.last_print_error
        st["controls"] = self.controls.status() if self.controls is not None else None
        return st

    def subscribe(self) -> Subscription:
        """A bounded queue of status updates (the newest win for slow viewers); ``.close()`` it."""
        return self._ctl().subscribe()

    def unsubscribe(self, sub: Subscription) -> None:
        self._ctl().unsubscribe(sub)

    def latest_preview(self) -> tuple[int, bytes] | None:
        return self.controller.latest_preview() if self.controller is not None else None

    def _ctl(self) -> CaptureController:
        if self.controller is None:
            raise UserError("the station is not running")
        return self.controller

    # -- capture commands ---------------------------------------------------------------------

    def _request(
        self, runner_id: int | None, runner: dict[str, Any] | None, session: dict[str, Any] | None
    ) -> CaptureRequest:
        from device.store import validate as v

        # CaptureRequest validates itself: everything is checked before anything is created,
        # so a bad form value leaves no trace.
        req = CaptureRequest.from_dict(runner_id, session)
        if runner is not None:
            if req.runner_id is not None:
                raise InputError("give either an existing runner or a new one, not both")
            unknown = set(runner) - {"name", "height_cm", "notes"}
            if unknown:
                raise InputError(f"unknown runner field(s): {', '.join(sorted(unknown))}")
            name = v.runner_name(runner.get("name"))
            height = v.height_cm(runner.get("height_cm"))
            req = req.for_runner(self.store.create_runner(name, height, runner.get("notes") or ""))
        elif req.runner_id is not None:
            self.store.get_runner(req.runner_id)  # NotFoundError with a clear message
        return req

    def prepare(
        self,
        runner_id: int | None = None,
        runner: dict[str, Any] | None = None,
        session: dict[str, Any] | None = None,
        height_cm: float | None = None,
    ) -> dict[str, Any]:
        """Enter the next run's runner and details; the start button (or ``start_capture()``)
        then uses them. State becomes ``ready``. ``height_cm`` updates an existing runner's
        height for this run. Cancelled before it starts, nothing of it stays: a runner created
        for it is deleted and a changed height restored."""
        self._undo_prepared()
        req = self._request(runner_id, runner, session)
        self._prepared_runner = req.runner_id if runner is not None else None
        if runner is None:
            self._prepared_height = self._set_height(req.runner_id, height_cm)
        ctl = self._ctl()
        ctl.arm(req)
        if ctl.armed is not req:  # refused: a capture or analysis is running
            self._undo_prepared()
            raise UserError(f"the station is {ctl.state}: get the next run ready once it has finished")
        return {
            "runner_id": req.runner_id,
            "speed_kmh": req.speed_kmh,
            "incline_pct": req.incline_pct,
            "shoes": req.shoes,
            "notes": req.notes,
            "view": req.view,
        }

    def unprepare(self) -> None:
        self._ctl().disarm()
        self._undo_prepared()

    def _set_height(self, runner_id: int | None, height_cm: float | None) -> tuple[int, float | None] | None:
        """Give an existing runner a new height (they grew, or a typo fixed); returns what to
        restore if the run never starts. Sessions already captured keep theirs."""
        if runner_id is None or height_cm is None:
            return None
        before = self.store.get_runner(runner_id)["height_cm"]
        if before is not None and abs(float(before) - float(height_cm)) <= 1e-6:
            return None
        self.store.update_runner(runner_id, height_cm=height_cm)
        return (runner_id, before)

    def _undo_prepared(self) -> None:
        runner_id, self._prepared_runner = self._prepared_runner, None
        height, self._prepared_height = self._prepared_height, None
        if runner_id is not None:
            with contextlib.suppress(Exception):
                self.store.delete_runner_if_unused(runner_id)
        self._restore_height(height)

    def _restore_height(self, height: tuple[int, float | None] | None) -> None:
        if height is not None:
            with contextlib.suppress(Exception):
                self.store.update_runner(height[0], height_cm=height[1])

    def _settle_prepared(self, armed: CaptureRequest | None, sid: int | None) -> None:
        """After a start: what was prepared is kept if the prepared run started, else undone."""
        if sid is not None and armed is not None and self._ctl().armed is None:
            if self._prepared_runner is not None:
                self._new_runner = (sid, self._prepared_runner)
            self._prepared_runner = self._prepared_height = None
        elif self._ctl().armed is None:
            self._undo_prepared()

    def start_capture(
        self,
        runner_id: int | None = None,
        runner: dict[str, Any] | None = None,
        session: dict[str, Any] | None = None,
        height_cm: float | None = None,
    ) -> int | None:
        """Start capturing. With no arguments the prepared details are used (or an unnamed run).
        ``height_cm`` updates an existing runner's height from this run on.
        Returns the session id, or None when ignored (a capture or analysis is already running)."""
        ctl = self._ctl()
        req = (
            None
            if runner_id is None and runner is None and session is None
            else self._request(runner_id, runner, session)
        )
        created = req.runner_id if runner is not None and req is not None else None
        armed = ctl.armed if req is None else None
        restore = self._set_height(req.runner_id, height_cm) if req is not None and runner is None else None
        try:
            sid = ctl.start_capture(req)
        except Exception:
            self._forget_runner(created)
            self._restore_height(restore)
            raise
        if sid is None:
            self._forget_runner(created)
            self._restore_height(restore)
        else:
            self._new_runner = (sid, created) if created is not None else None
        self._settle_prepared(armed, sid)
        if sid is not None and self.controls is not None and self.cfg.capture.countdown_s:
            with contextlib.suppress(Exception):
                self.controls.countdown(self.cfg.capture.countdown_s)
        return sid

    def _forget_runner(self, runner_id: int | None) -> None:
        """A runner created for a start that was refused (disk full, camera down) or ignored
        (already capturing): delete it, so no half-entered runner is left behind."""
        if runner_id is not None:
            with contextlib.suppress(Exception):
                self.store.delete_runner(runner_id)

    def stop_capture(self) -> int | None:
        """End the capture and analyse it. Returns its session id, or None when nothing was
        being captured (a second press: ignored and logged)."""
        ctl = self._ctl()
        sid = ctl.current_session_id
        return sid if ctl.stop_capture() else None

    def cancel_capture(self) -> int | None:
        """Abandon the capture (its session is deleted). Returns the id it had, or None."""
        ctl = self._ctl()
        sid = ctl.current_session_id
        if not ctl.cancel_capture():
            return None
        new, self._new_runner = self._new_runner, None
        runner_id = new[1] if new is not None and new[0] == sid else None
        if runner_id is not None:
            # a runner entered for this run only: the cancelled run leaves no runner behind once
            # the controller has deleted its session (its finalize thread does that)
            end = time.monotonic() + 10.0
            while time.monotonic() < end and self.store.list_sessions(runner_id, limit=1):
                time.sleep(0.02)
            with contextlib.suppress(Exception):
                self.store.delete_runner_if_unused(runner_id)
        return sid

    def wait_for_state(self, states: tuple[str, ...] | str, timeout: float = 30.0) -> str:
        return self._ctl().wait_for_state(states, timeout)

    def set_metronome(self, spm: float | None) -> float:
        """Start the buzzer metronome at ``spm`` steps/min (None or 0: stop) from the dashboard.
        Returns the rate now running (0 = off). It stops by itself when the run is over."""
        metronome = self.controls.metronome if self.controls is not None else None
        if metronome is None:
            raise UserError("no metronome: the station has no buzzer (set [gpio] buzzer_pin)")
        if not spm:
            metronome.stop()
        else:
            metronome.start(float(spm))  # InputError outside the metronome's range
        return metronome.spm

    # -- corrections ---------------------------------------------------------------------------

    def reanalyse(self, session_id: int, corrections: dict[str, Any], created_by: str, note: str = "") -> int:
        """Analyse a finished session again with a clinician's corrections (device.corrections:
        swap sides, near leg, height/speed/view, excluded strides). The result becomes the
        session's current analysis; the earlier ones stay in its history. Refused while a
        capture or analysis runs, so a correction never takes the Pi from a capture.
        Returns the new analysis id."""
        from device.corrections import Corrections, reanalyse

        c = Corrections.from_dict(corrections)
        state = str(self.status().get("state") or "idle")
        if state in ("countdown", "starting", "capturing", "analysing"):
            raise UserError(f"the station is {state}: correct sessions once it has finished")
        if not self._reanalyse_lock.acquire(blocking=False):
            raise UserError("another re-analysis is running: try again in a moment")
        try:
            session = self.store.get_session(session_id)
            aid = reanalyse(self.store, session_id, c, created_by, self._analyze_fn(session), note)
        finally:
            self._reanalyse_lock.release()
        try:
            self.store.set_summary_text(session_id, self.format_summary(self.store.get_session(session_id)))
        except Exception:
            log.exception("session %d: summary text of the re-analysis failed", session_id)
        return aid

    def _analyze_fn(self, session: dict[str, Any]) -> Callable[[Any, Any, str], Any]:
        """The gait engine as the capture ran it: same norms, coaching profile and warm-up."""
        from device.norms_file import norms_for

        norms = norms_for(self._norms, self.cfg.station.norms_file)
        captured = (session.get("settings") or {}).get("capture") or {}
        warmup = float(captured.get("warmup_s", self.cfg.capture.warmup_s))
        profile = self.cfg.station.coaching_profile
        # the capture's own analyzer, camera side included (a re-analysis must not decide the
        # runner's sides differently from the capture it replaces)
        analyzer = self._analyzer or functools.partial(
            default_analyzer, camera_side=self.cfg.camera.side_of_treadmill
        )
        return lambda tl, runner, view: analyzer(tl, runner, view, norms, profile, warmup)

    # -- button handlers (GPIO callback thread: never raise) -----------------------------------

    def _button_start(self) -> None:
        try:
            self.start_capture()
        except UserError as exc:
            log.warning("start button: %s", exc)
            self._say(str(exc))
            if self.controls is not None:
                with contextlib.suppress(Exception):
                    # shown like a failed session's result, then the LED is back to the state
                    self.controls.show_refusal(self.cfg.capture.result_hold_s)

    def _button_stop(self) -> None:
        self.stop_capture()

    def _button_cancel(self) -> None:
        self.cancel_capture()

    def _button_print(self) -> None:
        sid = self.controller.last_session_id if self.controller else None
        if sid is None:
            rows = self.store.list_sessions(limit=1, status="done")
            sid = rows[0]["id"] if rows else None
        if sid is None:
            log.info("print button: no session to print")
            return
        # The summary was printed when the run ended; the button is for the full report (CUPS).
        # Without a working CUPS queue, a configured receipt printer reprints the summary instead.
        try:
            self.print_report(sid)
            return
        except UserError as exc:
            log.warning("print button: report not printed: %s", exc)
            if not self.cfg.printing.receipt_printer:
                self._say(f"report of session {sid} not printed: {exc}")
                return
        try:
            self.print_summary(sid)
        except UserError as exc:
            log.warning("print button: %s", exc)

    def _say(self, message: str) -> None:
        if self.controller is not None:
            self.controller.say(message)

    def _on_state(self, state: str) -> None:
        if self.controls is not None:
            self.controls.set_state(state)

    def _on_session_done(self, session_id: int, ok: bool) -> None:
        pc = self.cfg.printing
        if not ok or not pc.auto_print_summary or not (pc.receipt_printer or pc.cups_queue):
            return
        try:
            self.print_summary(session_id)
        except UserError as exc:
            log.warning("session %d: summary not printed: %s", session_id, exc)

    # -- printing -----------------------------------------------------------------------------

    def format_summary(self, session: dict[str, Any]) -> str:
        """The receipt text of a session (stored as ``summary_text``)."""
        from device.printing.summary import format_summary

        lines = format_summary(
            session,
            self.cfg.printing.receipt_width_chars,
            self.cfg.station.units,
            clinic_name=self.cfg.station.clinic_name,
            config=self.cfg,  # the clinic's norms and profile: the same evidence gate as the report
        )
        return "\n".join(lines)

    def print_summary(self, session_id: int) -> None:
        """Print the session's summary on the receipt printer (or, without one, on the CUPS
        queue as a page). Raises PrintError; the summary text stays stored for a reprint.

        The text is made afresh for every print: a receipt says what the page and the report say
        now (the clinic's current norms, the runner's current name), not what they said when
        the analysis finished."""
        session = self.store.get_session(session_id)
        if session["status"] != "done":
            raise UserError(f"session {session_id} has no analysis to print ({session['status']})")
        text = self.format_summary(session)
        if text != session.get("summary_text"):
            self.store.set_summary_text(session_id, text)
        try:
            with self._print_lock:
                job = self._print_summary_text(text)
            if job is not None:
                self.store.add_print_job([session_id], job)
        except UserError as exc:
            self.last_print_error = (
                f"summary of session {session_id} not printed: {exc}; reprint from the session page"
            )
            self._say(self.last_print_error)
            raise
        self.last_print_error = None
        self.store.mark_printed(session_id, "summary")

    def _print_summary_text(self, text: str) -> str | None:
        """Print the summary; the CUPS job id when it went through CUPS."""
        from device import printing

        pc = self.cfg.printing
        lines = text.splitlines()
        if pc.receipt_printer:
            printing.ReceiptPrinter(pc.receipt_printer).print_summary(lines)
            return None
        # no receipt printer: the summary goes on a sheet through CUPS
        return printing.CupsPrinter(pc.cups_queue or None).print_summary(lines, paper=pc.paper)

    def evidence_for_report(self, session_id: int) -> list[tuple[dict[str, Any], bytes]]:
        """``[(meta, jpeg)]`` as the report wants them (meta: side, phase, t, keypoints, angles)."""
        out = []
        for e in self.store.list_evidence(session_id):
            full = self.store.get_evidence(e["id"])
            meta = {**full.get("meta", {}), **{k: v for k, v in full.items() if k not in ("jpeg", "meta")}}
            out.append((meta, full["jpeg"]))
        return out

    def report_pdf(self, session_id: int) -> bytes:
        """The full report of a session as PDF bytes."""
        from device.report.render import render_report_pdf

        session = self.store.get_session(session_id)
        if session["analysis"] is None:
            raise UserError(f"session {session_id} has no analysis yet ({session['status']})")
        return render_report_pdf(session, self.cfg, self.evidence_for_report(session_id))

    def comparison_pdf(self, session_a: int, session_b: int) -> bytes:
        """The before (``session_a``) / after (``session_b``) comparison as PDF bytes."""
        from device.report.render import render_comparison_pdf

        a, b = self.store.get_session(session_a), self.store.get_session(session_b)
        for s in (a, b):
            if s["analysis"] is None:
                raise UserError(f"session {s['id']} has no analysis yet ({s['status']})")
        return render_comparison_pdf(a, b, self.cfg)

    def print_comparison(self, session_a: int, session_b: int) -> str:
        """Print the comparison of two sessions on the CUPS queue. Returns the CUPS job id."""
        from device import printing

        printer = printing.CupsPrinter(self.cfg.printing.cups_queue or None)
        try:
            printer.check()  # a printer that is down says so at once, before the PDF is rendered
            pdf = self.comparison_pdf(session_a, session_b)
            with self._print_lock:
                job = printer.print_pdf(pdf, f"Gait comparison sessions {session_a} and {session_b}")
            self.store.add_print_job([session_a, session_b], job)
        except UserError as exc:
            self.last_print_error = f"comparison of sessions {session_a} and {session_b} not printed: {exc}"
            raise
        self.last_print_error = None
        return str(job)

    def print_report(self, session_id: int) -> str:
        """Render the full report and send it to the CUPS queue. Returns the CUPS job id."""
        from device import printing

        pdf = self.report_pdf(session_id)
        try:
            with self._print_lock:
                # no name in the title: CUPS shows it to anyone who lists the queue, and keeps it
                job = printing.CupsPrinter(self.cfg.printing.cups_queue or None).print_pdf(
                    pdf, f"Gait report, session {session_id}"
                )
            self.store.add_print_job([session_id], job)
        except UserError as exc:
            self.last_print_error = f"report of session {session_id} not printed: {exc}"
            raise
        self.last_print_error = None
        self.store.mark_printed(session_id, "report")
        return str(job)
