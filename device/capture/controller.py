"""The capture controller: the station's state machine and the live loop that runs all day.

States (each change is logged and pushed to subscribers)::

    idle ──arm──▶ ready ──start──▶ capturing ──stop / timer / end of video──▶ analysing ──▶ done
      ▲                                │  ╲ cancel (session discarded) ──▶ idle/ready      ╲──▶ failed
      └────────── start again from idle, ready, done or failed ◀── camera failure ──▶ failed

Buttons (GPIO), the dashboard and the API call :meth:`start_capture`, :meth:`stop_capture` and
:meth:`cancel_capture` from any thread; a start while capturing or a second stop is ignored and
logged, never an error that crashes a caller.

The live loop (one thread) reads the newest frame, runs the pose estimator, and while idle only
updates the preview and hints; while capturing it also appends the keypoints to a timeline, hands
them to the background DB writer (never the DB on this path), spools a small JPEG for evidence
frames and feeds the live cadence. Time is the source's clock (``Frame.t``), so the auto-stop
after ``duration_s`` is exact even for sources faster than real time.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from device.camera.base import Frame, FrameSource
from device.config import Config, as_dict
from device.errors import DiskFullError, UserError
from device.keypoints import TimelineBuilder
from device.store import KeypointWriter, Store
from device.store.video import video_fits
from device.store.writer import is_disk_full

log = logging.getLogger(__name__)

IDLE, READY, CAPTURING, ANALYSING, DONE, FAILED = "idle", "ready", "capturing", "analysing", "done", "failed"
STATES = (IDLE, READY, CAPTURING, ANALYSING, DONE, FAILED)
_CAN_START = (IDLE, READY, DONE, FAILED)
STATUS_RATE_HZ = 4.0  # status pushes while frames flow (plus one on every state change)
SOURCE_RETRY_S = 2.0


class Subscription:
    """A bounded queue of status dicts for one viewer; the oldest update is dropped when full.
    ``None`` is put when the controller closes."""

    def __init__(self, owner: CaptureController, maxsize: int = 16) -> None:
        self._owner = owner
        self._q: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize)

    def put(self, item: dict[str, Any] | None) -> None:
        while True:
            try:
                self._q.put_nowait(item)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._q.get_nowait()

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        return self._q.get(timeout=timeout)

    def get_nowait(self) -> dict[str, Any] | None:
        return self._q.get_nowait()

    def close(self) -> None:
        self._owner.unsubscribe(self)


@dataclass
class SessionRequest:
    """What a capture is for: the runner and the session details entered by the clinician."""

    runner_id: int | None = None
    speed_kmh: float | None = None
    incline_pct: float | None = None
    shoes: str = ""
    notes: str = ""
    view: str = "auto"

    @classmethod
    def from_dict(cls, runner_id: int | None, d: dict[str, Any] | None) -> SessionRequest:
        d = dict(d or {})
        allowed = {"speed_kmh", "incline_pct", "shoes", "notes", "view"}
        unknown = set(d) - allowed - {"runner_id"}
        if unknown:
            from device.errors import InputError

            raise InputError(f"unknown session field(s): {', '.join(sorted(unknown))}")
        rid = runner_id if runner_id is not None else d.get("runner_id")
        return cls(runner_id=rid, **{k: d[k] for k in allowed if k in d and d[k] is not None})


@dataclass
class _Capture:
    """One capture in progress (owned by the live loop until finished)."""

    session_id: int
    request: SessionRequest
    height_cm: float | None
    writer: KeypointWriter
    spool: Any
    builder: TimelineBuilder | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False
    restart_source: bool = False
    t_press: float | None = None  # source time of the first frame after start (countdown start)
    t0: float | None = None  # source time of the first recorded frame
    t_last: float | None = None
    first_index: int | None = None
    last_index: int | None = None
    frames_seen: int = 0
    live_cadence: Any = None
    rear_timeline: Any = None
    wall_start: float = field(default_factory=time.monotonic)


def default_analyzer(
    timeline: Any, runner: Any, view: str, norms: Any, coaching_profile: str, warmup_s: float
) -> Any:
    """``device.gait.analyze`` with the warm-up excluded (passed through if it takes ``warmup_s``)."""
    from device.gait import analyze

    kwargs: dict[str, Any] = {"view": view, "norms": norms, "coaching_profile": coaching_profile}
    params = inspect.signature(analyze).parameters
    if "warmup_s" in params:
        kwargs["warmup_s"] = warmup_s
    elif warmup_s > 0 and len(timeline):
        timeline = timeline.window(float(timeline.t[0]) + warmup_s, None)
    return analyze(timeline, runner, **kwargs)


def _new_live_cadence(width: int, height: int) -> Any:
    try:
        from device.gait.live import LiveCadence
    except ImportError:
        return None
    try:
        try:
            return LiveCadence(width=width, height=height)
        except TypeError:
            return LiveCadence()
    except Exception:
        log.exception("LiveCadence could not be created")
        return None


def _live_update(lc: Any, t: float, kp: np.ndarray) -> None:
    for name in ("update", "add", "push"):
        fn = getattr(lc, name, None)
        if fn is not None:
            fn(t, kp)
            return


def _live_figures(lc: Any) -> tuple[float | None, int | None]:
    if lc is None:
        return None, None
    spm = getattr(lc, "cadence_spm", None)
    strides = getattr(lc, "strides", None)
    spm = spm() if callable(spm) else spm
    strides = strides() if callable(strides) else strides
    spm = float(spm) if isinstance(spm, int | float) and np.isfinite(spm) else None
    strides = int(strides) if isinstance(strides, int | float) else None
    return spm, strides


class CaptureController:
    """Owns the live loop, the capture state machine and the hand-off to analysis and storage.

    ``source_factory()`` returns a new (unopened) :class:`FrameSource`; it is called again after
    a camera failure. ``estimator`` is one pose estimator (``estimate(image, out=...)``), used only
    by the live loop thread. ``analyzer(timeline, RunnerInfo, view, norms, profile, warmup_s)``
    returns an ``Analysis``. ``summary_formatter(session_dict) -> str`` makes the receipt text.
    ``on_state(state)`` and ``on_session_done(session_id, ok)`` are called from worker threads.
    """

    def __init__(
        self,
        cfg: Config,
        store: Store,
        source_factory: Callable[[], FrameSource],
        estimator: Any,
        *,
        analyzer: Callable[..., Any] | None = None,
        summary_formatter: Callable[[dict[str, Any]], str] | None = None,
        on_state: Callable[[str], None] | None = None,
        on_session_done: Callable[[int, bool], None] | None = None,
        spool_dir: str | Path | None = None,
        source_name: str = "",
        norms: Any = ...,
        rear: Any = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self._source_factory = source_factory
        self._estimator = estimator
        self._analyzer = analyzer or default_analyzer
        self._norms_value = norms  # ... = load cfg.station.norms_file (or the built-in) when needed
        self.rear = rear  # optional device.capture.rear.RearCamera
        self._summary_formatter = summary_formatter
        self._on_state = on_state
        self._on_session_done = on_session_done
        self.spool_dir = Path(spool_dir) if spool_dir else cfg.data_dir / "spool"
        self.source_name = source_name or cfg.camera.source
        self._lock = threading.RLock()
        self._state = IDLE
        self._armed: SessionRequest | None = None
        self._capture: _Capture | None = None
        self._source: FrameSource | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._monitor: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self._subs: list[Subscription] = []
        self._preview: tuple[int, bytes] | None = None
        self._preview_seq = 0
        self._message = "starting camera"
        self.last_result: dict[str, Any] | None = None  # {"session_id", "ok", "message"} of the last run
        self._ended_at: float | None = None
        self._camera_error: str | None = None
        self._open_failed = False  # the last attempt to open the camera failed (it is down)
        self.last_session_id: int | None = None
        self._last_frame_wall: float | None = None
        self._loop_beat = time.monotonic()
        self._frame_t: float | None = None
        self._frame_size: tuple[int, int] | None = None
        self._kp_buf = np.zeros((17, 3), np.float32)
        self._last_kp: np.ndarray | None = None
        self._infer_times: list[float] = []
        self._inference_fps = 0.0
        from device.capture.live import QualityMonitor

        self._quality = QualityMonitor(cfg.pose.min_score)
        self._hints: list[str] = []
        self._countdown_left: float | None = None
        self.frames_inferred_total = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the live loop and the stall monitor."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="live-loop", daemon=True)
        self._thread.start()
        self._monitor = threading.Thread(target=self._watch, name="capture-monitor", daemon=True)
        self._monitor.start()
        if self.rear is not None:
            self.rear.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the loop; a capture in progress is stopped and analysed first (nothing lost)."""
        with self._lock:
            cap = self._capture
        if cap is not None:
            self._finish(cap, "stop", "station shutting down")
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for w in list(self._workers):
            w.join(timeout)
        if self._monitor is not None:
            self._monitor.join(timeout)
        self._close_source()
        if self.rear is not None:
            self.rear.close()
        with self._lock:
            subs, self._subs = self._subs, []
        for s in subs:
            s.put(None)
        self._thread = None

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    def _set_state(self, state: str, message: str | None = None) -> None:
        with self._lock:
            old = self._state
            self._state = state
            if message is not None:
                self._message = message
        if old != state:
            log.info("capture state %s -> %s%s", old, state, f" ({message})" if message else "")
        self._notify_state(state)

    def _notify_state(self, state: str) -> None:
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("state listener failed")
        self._publish()

    def arm(self, request: SessionRequest | None = None) -> None:
        """Remember the next session's details (from the dashboard) so the start button can use them."""
        with self._lock:
            if self._state in (CAPTURING, ANALYSING):
                log.info("arm ignored: %s", self._state)
                return
            self._armed = request or SessionRequest()
        self._set_state(READY, "ready: press start")

    def disarm(self) -> None:
        with self._lock:
            self._armed = None
            if self._state != READY:
                return
        self._set_state(IDLE, "")

    @property
    def current_session_id(self) -> int | None:
        """The session being captured (None when not capturing)."""
        cap = self._capture
        return cap.session_id if cap is not None else None

    @property
    def armed(self) -> SessionRequest | None:
        return self._armed

    def wait_for_state(self, states: tuple[str, ...] | str, timeout: float = 30.0) -> str:
        """Block until the state is one of ``states`` (tests, CLI); returns the state reached."""
        if isinstance(states, str):
            states = (states,)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._state in states:
                return self._state
            time.sleep(0.01)
        return self._state

    # -- commands ----------------------------------------------------------------------------

    def start_capture(self, request: SessionRequest | None = None) -> int | None:
        """Start a capture for ``request`` (else the armed request, else an unnamed runner).

        Returns the new session id, or None when ignored (already capturing / analysing).
        Raises :class:`UserError` when the station cannot capture (disk full, camera down,
        invalid details)."""
        with self._lock:
            if self._state not in _CAN_START:
                log.info("start ignored: %s", self._state)
                return None
            if self._open_failed and self._source is None:
                raise UserError(f"camera not available: {self._camera_error}")
            self._check_disk()
            req = request or self._armed or SessionRequest()
            height = None
            if req.runner_id is not None:
                height = self.store.get_runner(req.runner_id)["height_cm"]
            settings = as_dict(self.cfg)
            sid = self.store.create_session(
                req.runner_id,
                req.speed_kmh,
                req.incline_pct,
                req.shoes,
                req.notes,
                req.view,
                self.source_name,
                settings,
            )
            from device.capture.spool import FrameSpool

            try:
                spool = FrameSpool(
                    self.spool_dir / f"session-{sid}.mjpeg", self.cfg.capture.evidence_jpeg_quality
                )
            except OSError as exc:
                self.store.delete_session(sid)
                raise UserError(f"cannot write to {self.spool_dir}: {exc.strerror}") from None
            cap = _Capture(
                session_id=sid,
                request=req,
                height_cm=height,
                writer=KeypointWriter(self.store, sid),
                spool=spool,
                restart_source=self._source is not None and not self._source.is_live,
            )
            self._capture = cap
            self._armed = None
            self.last_session_id = sid
            self._countdown_left = float(self.cfg.capture.countdown_s) or None
        if self._countdown_left:
            # controls show "countdown" (LED, beeps); the controller's state is already capturing
            self._set_state(CAPTURING, f"session {sid}: starting in {self.cfg.capture.countdown_s} s")
            self._notify_state("countdown")
        else:
            self._set_state(CAPTURING, f"capturing session {sid}")
        return sid

    def _check_disk(self) -> None:
        need = self.cfg.storage.min_free_mb
        if need <= 0:
            return
        path = self.store.path.parent
        try:
            free_mb = shutil.disk_usage(path).free / 1e6
        except OSError as exc:
            raise UserError(f"cannot check free space on {path}: {exc.strerror}") from None
        if free_mb < need:
            raise DiskFullError(
                f"disk nearly full: {free_mb:.0f} MB free, need {need} MB to capture; "
                "delete old sessions or set a retention period"
            )

    def stop_capture(self, reason: str = "stop pressed") -> bool:
        """End the capture and analyse it. False (logged) when nothing is being captured."""
        with self._lock:
            cap = self._capture
        if cap is None:
            log.info("stop ignored (%s): %s", reason, self._state)
            return False
        return self._finish(cap, "stop", reason)

    def cancel_capture(self) -> bool:
        """Abandon the capture: the session and its keypoints are deleted (a false start)."""
        with self._lock:
            cap = self._capture
        if cap is None:
            log.info("cancel ignored: %s", self._state)
            return False
        return self._finish(cap, "cancel", "capture cancelled")

    def fail_capture(self, message: str) -> bool:
        with self._lock:
            cap = self._capture
        if cap is None:
            return False
        return self._finish(cap, "fail", message)

    def _finish(self, cap: _Capture, outcome: str, message: str) -> bool:
        with self._lock:
            if self._capture is not cap:
                return False  # someone else (timer, second press) finished it first
            self._capture = None
            self._countdown_left = None
            if self.rear is not None:
                self.rear.stop()
            with cap.lock:
                cap.closed = True
                if outcome == "stop" and cap.builder is None:
                    outcome, message = "cancel", "stopped during the countdown: nothing recorded"
            if outcome == "stop":
                # set at once, under the lock, so a start in the same instant is refused; a cancel
                # or failure changes state once its data is settled (session deleted / marked)
                self._state = ANALYSING
                self._message = f"analysing session {cap.session_id}"
        log.info(
            "session %d: %s (%s)",
            cap.session_id,
            {"stop": "stopping", "cancel": "cancelling", "fail": "failing"}[outcome],
            message,
        )
        if outcome == "stop":
            log.info("capture state %s -> %s", CAPTURING, ANALYSING)
            self._notify_state(ANALYSING)
        w = threading.Thread(
            target=self._finalize,
            args=(cap, outcome, message),
            name=f"finalize-{cap.session_id}",
            daemon=True,
        )
        self._workers = [t for t in self._workers if t.is_alive()] + [w]
        w.start()
        return True

    # -- after a capture (worker thread) -----------------------------------------------------

    def _stats(self, cap: _Capture) -> dict[str, Any]:
        n = len(cap.builder) if cap.builder is not None else 0
        dropped = 0
        if cap.first_index is not None and cap.last_index is not None:
            dropped = max(0, (cap.last_index - cap.first_index + 1) - n)
        dur = (cap.t_last - cap.t0) if cap.t0 is not None and cap.t_last is not None else 0.0
        stats: dict[str, Any] = {
            "frames_captured": n + dropped,
            "frames_inferred": n,
            "frames_dropped": dropped,
            "effective_fps": round((n - 1) / dur, 2) if n > 1 and dur > 0 else None,
        }
        if cap.builder is not None and cap.builder.width:
            stats["frame_width"] = cap.builder.width
            stats["frame_height"] = cap.builder.height
        return stats

    def _finalize(self, cap: _Capture, outcome: str, message: str) -> None:
        try:
            self._finalize_session(cap, outcome, message)
        finally:
            self.store.release_thread()

    def _finalize_session(self, cap: _Capture, outcome: str, message: str) -> None:
        sid = cap.session_id
        try:
            written = cap.writer.close()
            cap.rear_timeline = self.rear.end() if self.rear is not None else None
            if outcome == "cancel":
                cap.spool.delete()
                self.store.delete_session(sid)
                with self._lock:
                    settle = self._capture is None and self._state == CAPTURING
                if settle:
                    self._set_state(IDLE, message)
                return
            stats = self._stats(cap)
            if written != stats["frames_inferred"]:
                log.error(
                    "session %d: %d keypoint frames inferred but %d written (%s)",
                    sid,
                    stats["frames_inferred"],
                    written,
                    cap.writer.error,
                )
            if outcome == "fail":
                cap.spool.delete()
                self.store.set_status(sid, "failed", error=message, **stats)
                self._end(FAILED, message, sid, ok=False)
                return
            self.store.set_status(sid, "analysing", **stats)
            cap.spool.finish()
            self._analyse(cap, stats)
        except Exception as exc:
            msg = str(exc) if isinstance(exc, UserError) else f"analysis failed: {type(exc).__name__}: {exc}"
            if is_disk_full(exc):
                msg = "disk full: the session could not be saved; free space (delete old sessions) and start again"
            elif not isinstance(exc, UserError):
                log.exception("session %d: finishing failed", sid)
            with contextlib.suppress(Exception):
                cap.spool.delete()
            try:
                self.store.set_status(sid, "failed", error=msg)
            except Exception:
                log.exception("session %d: could not record the failure", sid)
            self._end(FAILED, msg, sid, ok=False)

    def _analyse(self, cap: _Capture, stats: dict[str, Any]) -> None:
        from device.gait.types import RunnerInfo

        sid = cap.session_id
        req = cap.request
        timeline = cap.builder.build() if cap.builder is not None else None
        if timeline is None or len(timeline) == 0:
            raise UserError("no frames were captured")
        timeline.meta.update({"session_id": sid, "source": self.source_name})
        runner = RunnerInfo(height_cm=cap.height_cm, speed_kmh=req.speed_kmh, incline_pct=req.incline_pct)
        t_start = time.monotonic()
        analysis = self._analyzer(
            timeline,
            runner,
            req.view,
            self._norms(),
            self.cfg.station.coaching_profile,
            self.cfg.capture.warmup_s,
        )
        log.info("session %d: analysed %d frames in %.2f s", sid, len(timeline), time.monotonic() - t_start)
        self._save_evidence(cap, timeline, analysis)
        video_path = None
        if self.cfg.capture.record_video and len(cap.spool) and video_fits(self.cfg, cap.spool.bytes):
            video_path = str(cap.spool.keep_as_video(self.cfg.data_dir / "videos" / f"session-{sid}.mjpeg"))
        else:
            cap.spool.delete()
        if video_path:
            self.store.set_status(sid, "analysing", video_path=video_path)
        result = analysis.to_dict()
        if self.rear is not None:
            result = self._with_rear(cap, runner, result)
        self.store.save_analysis(sid, result)
        if self._summary_formatter is not None:
            try:
                self.store.set_summary_text(sid, self._summary_formatter(self.store.get_session(sid)))
            except Exception:
                log.exception("session %d: summary text failed", sid)
        cad = analysis.cadence_spm
        self._end(DONE, f"session {sid} done" + (f": cadence {cad:.0f} spm" if cad else ""), sid, ok=True)

    def _with_rear(self, cap: _Capture, runner: Any, result: dict[str, Any]) -> dict[str, Any]:
        from device.capture.rear import merge_rear

        tl = cap.rear_timeline
        if tl is None or len(tl) == 0:
            return merge_rear(result, None, self.rear.session_error)
        try:
            tl.meta.update({"session_id": cap.session_id, "camera": "rear"})
            rear = self._analyzer(
                tl,
                runner,
                "rear",
                self._norms(),
                self.cfg.station.coaching_profile,
                self.cfg.capture.warmup_s,
            )
        except Exception as exc:
            log.exception("session %d: rear view analysis failed", cap.session_id)
            return merge_rear(result, None, f"rear view analysis failed: {exc}")
        merged = merge_rear(result, rear.to_dict(), self.rear.session_error)
        merged["rear"]["frames"] = len(tl)
        return merged

    def _save_evidence(self, cap: _Capture, timeline: Any, analysis: Any) -> None:
        for ev in analysis.evidence or []:
            try:
                frame = int(ev.get("frame", -1))
                if frame < 0 and ev.get("t") is not None:
                    frame = int(timeline.frame[int(np.argmin(np.abs(timeline.t - float(ev["t"]))))])
                near = cap.spool.nearest(frame)
                if near is None:
                    continue
                got = cap.spool.read(near)
                if got is None:
                    continue
                jpeg, scale = got
                row = int(np.searchsorted(timeline.frame, near))
                row = min(row, len(timeline) - 1)
                kp = np.concatenate([timeline.xy[row] * scale, timeline.score[row][:, None]], axis=1)
                meta = {k: v for k, v in ev.items() if k not in ("side", "phase", "t", "frame")}
                meta.update({"scale": scale, "requested_frame": frame})
                self.store.add_evidence(
                    cap.session_id,
                    ev.get("side"),
                    str(ev.get("phase", "")),
                    float(timeline.t[row]),
                    near,
                    jpeg,
                    kp,
                    meta=meta,
                )
            except Exception:
                log.exception("session %d: evidence frame %r failed", cap.session_id, ev)

    def _norms(self) -> Any:
        if self._norms_value is not ...:
            return self._norms_value
        try:
            from device.gait.norms import load_norms
        except ImportError:
            return None
        return load_norms(self.cfg.station.norms_file or None)

    def _end(self, state: str, message: str, sid: int, ok: bool) -> None:
        with self._lock:
            superseded = self._capture is not None  # a new capture already started
            self.last_result = {"session_id": sid, "ok": ok, "message": message}
            self._ended_at = time.monotonic()
        if not superseded:
            self._set_state(state, message)
        if self._on_session_done is not None:
            try:
                self._on_session_done(sid, ok)
            except Exception:
                log.exception("session %d: done-callback failed", sid)

    # -- the live loop -----------------------------------------------------------------------

    def _open_source(self) -> bool:
        try:
            src = self._source_factory()
            src.open()
        except Exception as exc:
            msg = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            if msg != self._camera_error:
                log.error("camera: %s", msg)
            self._camera_error = msg
            self._open_failed = True
            self._message = f"camera not available: {msg}"
            self._publish()
            return False
        self._source = src
        self._camera_error = None
        self._open_failed = False
        if self._state in (IDLE, READY) and self._message.startswith(("camera", "starting")):
            self._message = ""
        self._estimator_reset()
        self._publish()
        return True

    def _estimator_reset(self) -> None:
        reset = getattr(self._estimator, "reset", None)
        if reset:
            reset()

    def _close_source(self) -> None:
        src, self._source = self._source, None
        if src is not None:
            with contextlib.suppress(Exception):
                src.close()

    def _loop(self) -> None:
        last_status = 0.0
        last_preview = 0.0
        preview_period = 1.0 / self.cfg.capture.live_preview_fps
        while not self._stop.is_set():
            self._loop_beat = time.monotonic()
            cap = self._capture
            if cap is not None and cap.restart_source and cap.builder is None:
                # A file/synthetic source: the capture covers it from its beginning.
                cap.restart_source = False
                self._close_source()
            if self._source is None and not self._open_source():
                self._stop.wait(SOURCE_RETRY_S)
                continue
            src = self._source
            try:
                frame = src.read()
            except Exception as exc:
                msg = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
                self._source_failed(f"camera failed: {msg}")
                continue
            if frame is None:
                self._source_ended()
                continue
            now = time.monotonic()
            self._last_frame_wall = now
            cap = self._capture
            recording = cap is not None
            if not recording and not src.is_live:
                # Not capturing from a file/synthetic source: play it at its own rate, not flat out.
                self._stop.wait(1.0 / max(1.0, src.nominal_fps))
            try:
                lores = getattr(frame, "lores", None)
                if lores is not None:  # Pi camera: the ISP already made a model-sized image
                    kp = self._estimator.estimate(lores, out=self._kp_buf, scale=frame.lores_scale)
                else:
                    kp = self._estimator.estimate(frame.image, out=self._kp_buf)
            except Exception as exc:
                log.exception("pose estimation failed")
                self._source_failed(f"pose estimation failed: {exc}")
                continue
            self.frames_inferred_total += 1
            self._frame_t = frame.t
            h, w = frame.image.shape[:2]
            self._frame_size = (w, h)
            self._track_rate(now)
            self._quality.add(kp, (w, h))
            self._last_kp = kp
            if cap is not None:
                self._record(cap, frame, kp)
            if now - last_preview >= preview_period:
                last_preview = now
                self._make_preview(frame, kp)
            if now - last_status >= 1.0 / STATUS_RATE_HZ:
                last_status = now
                self._hints = self._merged_hints(cap)
                self._publish()

    def _merged_hints(self, cap: _Capture | None) -> list[str]:
        hints = self._quality.hints(self._inference_fps)
        lc = cap.live_cadence if cap is not None else None
        if lc is not None and callable(getattr(lc, "hints", None)):
            try:
                hints += [h for h in lc.hints() if not any(x.startswith(h.split(":")[0]) for x in hints)]
            except Exception:
                log.debug("live hints failed", exc_info=True)
        return hints

    def _track_rate(self, now: float) -> None:
        ts = self._infer_times
        ts.append(now)
        if len(ts) > 30:
            del ts[0]
        if len(ts) >= 2 and ts[-1] > ts[0]:
            self._inference_fps = (len(ts) - 1) / (ts[-1] - ts[0])

    def _record(self, cap: _Capture, frame: Frame, kp: np.ndarray) -> None:
        with cap.lock:
            if cap.closed:
                return
            if cap.t_press is None:
                cap.t_press = frame.t
            countdown = self.cfg.capture.countdown_s
            if countdown and frame.t - cap.t_press < countdown:
                self._countdown_left = countdown - (frame.t - cap.t_press)
                return
            self._countdown_left = None
            began = cap.builder is None
            if began:
                h, w = frame.image.shape[:2]
                cap.builder = TimelineBuilder(
                    capacity=int(self.cfg.camera.fps * (self.cfg.capture.duration_s + 5)), width=w, height=h
                )
                cap.t0 = frame.t
                cap.first_index = frame.index
                cap.live_cadence = _new_live_cadence(w, h)
                if self.rear is not None:
                    self.rear.begin(cap.session_id)
                self._quality.reset()
            if cap.t_last is not None and frame.t <= cap.t_last:
                log.debug("frame %d: time %.4f not after %.4f; skipped", frame.index, frame.t, cap.t_last)
                return
            row = kp.copy()  # the estimator reuses its buffer
            cap.builder.append(frame.t, row, frame.index)
            cap.writer.append(frame.t, row, frame.index)
            cap.spool.put(frame.index, frame.image)
            if cap.live_cadence is not None:
                try:
                    _live_update(cap.live_cadence, frame.t, row)
                except Exception:
                    log.exception("live cadence failed; disabled for this capture")
                    cap.live_cadence = None
            cap.t_last = frame.t
            cap.last_index = frame.index
            cap.frames_seen += 1
            done = frame.t - cap.t0 >= self.cfg.capture.duration_s
        if began and self.cfg.capture.countdown_s:
            self._notify_state(CAPTURING)  # the countdown is over: recording
        if done:
            self._finish(cap, "stop", f"{self.cfg.capture.duration_s:g} s captured")

    def _source_failed(self, message: str) -> None:
        log.error(message)
        self._close_source()
        self._camera_error = message
        self._estimator_reset()
        if not self.fail_capture(message):
            self._message = message
            self._publish()
        self._stop.wait(0.2)

    def _source_ended(self) -> None:
        """A finite source (video file) reached its end: a capture ends there and is analysed."""
        self._close_source()
        with self._lock:
            cap = self._capture
        if cap is not None and not cap.restart_source:
            if cap.builder is None:
                self.fail_capture("the video ended before the capture began")
            else:
                self._finish(cap, "stop", "end of video")
        else:
            self._stop.wait(0.5)  # idle: start the clip again for the preview, not in a tight loop

    def _make_preview(self, frame: Frame, kp: np.ndarray) -> None:
        from device.capture.live import render_preview

        try:
            jpeg = render_preview(frame.image, kp, self.cfg.pose.min_score)
        except Exception:
            log.exception("preview failed")
            return
        if jpeg:
            with self._lock:
                self._preview_seq += 1
                self._preview = (self._preview_seq, jpeg)

    def _watch(self) -> None:
        """Fail a capture whose camera stopped delivering (read() blocked or the driver hung)."""
        timeout = self.cfg.capture.stall_timeout_s
        while not self._stop.wait(0.25):
            cap = self._capture
            if cap is None:
                self._settle_result()
                continue
            last = max(self._last_frame_wall or 0.0, cap.wall_start)
            if time.monotonic() - last > timeout:
                self.fail_capture(f"camera stopped delivering frames for {timeout:g} s")
            elif cap.writer.disk_full:
                # Stop now rather than run on with keypoints that can no longer be stored.
                self.fail_capture(
                    f"disk full while recording: the {cap.writer.written} frames of keypoints "
                    "stored before are kept; free space (delete old sessions) and start again"
                )

    def say(self, message: str) -> None:
        """Show ``message`` on the dashboard (e.g. a printer problem) without changing state."""
        with self._lock:
            self._message = message
        self._publish()

    def _settle_result(self) -> None:
        """After done/failed has been shown for ``result_hold_s`` the station is idle again (LED
        too); the outcome stays readable in ``status()['last_result']`` and the message."""
        with self._lock:
            if self._state not in (DONE, FAILED) or self._ended_at is None:
                return
            if time.monotonic() - self._ended_at < self.cfg.capture.result_hold_s:
                return
            last = self.last_result or {}
            word = "done" if last.get("ok") else "failed"
            message = f"last session {last.get('session_id')} {word}: {last.get('message', '')}".rstrip(": ")
        self._set_state(IDLE, message)

    def healthy(self, max_stall_s: float = 10.0) -> bool:
        """True while the live loop turns (a frame, a retry or a wait within ``max_stall_s``)."""
        if self._thread is None or not self._thread.is_alive():
            return False
        return time.monotonic() - self._loop_beat < max_stall_s

    # -- what viewers see --------------------------------------------------------------------

    def latest_preview(self) -> tuple[int, bytes] | None:
        return self._preview

    def status(self) -> dict[str, Any]:
        with self._lock:
            cap = self._capture
            state = self._state
            message = self._message
            countdown = self._countdown_left
        elapsed = remaining = cadence = strides = None
        sid = cap.session_id if cap is not None else self.last_session_id
        if cap is not None:
            with cap.lock:
                if cap.t0 is not None and cap.t_last is not None:
                    elapsed = round(cap.t_last - cap.t0, 2)
                    remaining = round(max(0.0, self.cfg.capture.duration_s - elapsed), 2)
                cadence, strides = _live_figures(cap.live_cadence)
        hints = list(self._hints)
        if self._camera_error:
            hints.insert(0, self._camera_error)
        return {
            "state": state,
            "session_id": sid,
            "elapsed_s": elapsed,
            "remaining_s": remaining,
            "duration_s": self.cfg.capture.duration_s,
            "countdown_s": round(countdown, 1) if countdown is not None else None,
            "cadence_spm": round(cadence, 1) if cadence is not None else None,
            "strides": strides,
            "quality_hints": hints,
            "message": message,
            "inference_fps": round(self._inference_fps, 1),
            "frame_t": self._frame_t,
            "camera_ok": self._source is not None and self._camera_error is None,
            "armed": self._armed is not None,
            "frames_recorded": len(cap.builder) if cap is not None and cap.builder is not None else None,
            "last_result": dict(self.last_result) if self.last_result else None,
            **(self.rear.status() if self.rear is not None else {}),
        }

    def subscribe(self, maxsize: int = 16) -> Subscription:
        sub = Subscription(self, maxsize)
        with self._lock:
            self._subs.append(sub)
        sub.put(self.status())
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subs.remove(sub)

    def _publish(self) -> None:
        with self._lock:
            subs = list(self._subs)
        if not subs:
            return
        st = self.status()
        for s in subs:
            s.put(st)
