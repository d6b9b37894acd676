"""The session finisher: catch-up, analysis, evidence frames and store writes after a capture.

It works from what is on disk — the session row, the keypoints in the store and the pose
spool files — so the same code finishes a session that just ended and one a power cut
interrupted (:meth:`SessionFinisher.finish` after a restart infers only the frames the store
does not have yet).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from device.capture.catchup import CatchUp, CatchUpCancelled, ProgressCallback
from device.capture.pose_spool import PoseSpool, UnreadablePoseSpool, read_pose_spool
from device.capture.rear import merge_rear
from device.capture.spool import SpooledFrames
from device.capture.states import SessionStatus
from device.config import Config
from device.errors import UserError
from device.gait.norms import Norms
from device.gait.types import Analysis, RunnerInfo
from device.keypoints import Timeline
from device.pose.base import PoseEstimator
from device.pose.pipeline import TURN_CHECK_BELOW, TURN_SAMPLES, TURN_STEP, turn_of_pictures, upright_share
from device.store import KeypointWriter, Store
from device.store.video import video_fits
from device.store.writer import is_disk_full

log = logging.getLogger(__name__)

MAIN, REAR = "main", "rear"


class Analyzer(Protocol):
    """``device.gait.analyze`` (or a test's stand-in)."""

    def __call__(
        self,
        timeline: Timeline,
        runner: RunnerInfo,
        view: str,
        norms: Norms,
        coaching_profile: str,
        warmup_s: float,
    ) -> Analysis: ...


def default_analyzer(
    timeline: Timeline,
    runner: RunnerInfo,
    view: str,
    norms: Norms,
    coaching_profile: str,
    warmup_s: float,
    camera_side: str = "auto",
) -> Analysis:
    from device.gait import analyze
    from device.gait.treadmill import EventModel

    return analyze(
        timeline,
        runner,
        view=view,
        norms=norms,
        coaching_profile=coaching_profile,
        warmup_s=warmup_s,
        camera_side=camera_side,
        event_model=EventModel.physics(),  # the pose model's keypoints (EventModel.physics)
    )


class EstimatorPool(Protocol):
    """Lends the catch-up its estimators (one per core) and takes them back."""

    def borrow(self) -> list[PoseEstimator]: ...

    def give_back(self, estimators: list[PoseEstimator]) -> None: ...


@dataclass
class FinishJob:
    """One session to finish. ``spools``: camera → pose spool path; ``evidence``: the session's
    evidence spool (after a restart the one recovered, None if it was lost: evidence then comes
    from the pose spool); ``warnings``: what the recording itself has to say (frames either
    camera left out), added to the analysis's;
    ``ended_early``: why the capture stopped before its end (the camera failed): what was
    recorded is analysed all the same, and the analysis says so."""

    session_id: int
    spools: dict[str, Path]
    evidence: SpooledFrames | None = None
    frames_missed: int = 0
    rear_error: str | None = None
    has_rear: bool = False
    stats: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ended_early: str | None = None


class Finished(Enum):
    """How finishing a session ended."""

    ANALYSED = "analysed"  # analysed and stored
    NOBODY_SEEN = "nobody seen"  # analysed and stored, but no runner in view: nothing measured
    FAILED = "failed"  # not analysed (the session is marked failed, its keypoints kept)
    #: the station shut down before the catch-up ended: the session stays as it was, its spools
    #: kept, and the next start finishes it (CaptureController.resume)
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class FinishOutcome:
    """What :meth:`SessionFinisher.finish` did, and the one line that says so."""

    finished: Finished
    message: str


#: The engine's issue code for a capture in which no runner was seen (device.gait.evidence).
NO_RUNNER = "no_runner"


def turned_camera_message(turn: int, camera: str = MAIN) -> str:
    """The one line for a capture whose picture is turned ``turn``° (90, 180, 270 clockwise)."""
    which, key = ("the rear camera", "rear_upside_down") if camera == REAR else ("the camera", "upside_down")
    if turn == 180:
        return (
            f"{which}'s picture is upside down (the runner stands upright in it only when it is "
            f"turned 180°), so nothing was measured: set [camera] {key} = true in the station's "
            f"config (a Pi camera), or mount {which} the other way up; then film again"
        )
    return (
        f"{which}'s picture is on its side (the runner stands upright in it only when it is "
        f"turned {turn}° clockwise), so nothing was measured: mount {which} level, its long side "
        "horizontal; then film again"
    )


def in_time_order(tl: Timeline) -> Timeline:
    """``tl`` sorted by time (live and catch-up keypoints are stored in two passes)."""
    if len(tl) < 2 or bool(np.all(np.diff(tl.t) > 0)):
        return tl
    order = np.argsort(tl.t, kind="stable")
    keep = np.ones(len(order), bool)
    keep[1:] = np.diff(tl.t[order]) > 0  # a frame stored twice (restart mid-batch) counts once
    order = order[keep]
    return Timeline(tl.t[order], tl.xy[order], tl.score[order], tl.frame[order], tl.width, tl.height, tl.meta)


def with_warnings(result: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """``result`` (an ``Analysis.to_dict()``) with the capture's ``warnings`` in its quality's."""
    if not warnings:
        return result
    quality = dict(result.get("quality") or {})
    known = list(quality.get("warnings") or [])
    quality["warnings"] = known + [w for w in warnings if w not in known]
    return {**result, "quality": quality}


class SessionFinisher:
    """Finishes sessions for one station (config, store, analyzer, estimators)."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        estimators: EstimatorPool,
        *,
        analyzer: Analyzer | None = None,
        norms: Callable[[], Norms],
        summary_formatter: Callable[[dict[str, Any]], str] | None = None,
        source_name: str = "",
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.estimators = estimators
        # [camera] side_of_treadmill names the runner's side nearest the camera (issue 10)
        self.analyzer: Analyzer = analyzer or functools.partial(
            default_analyzer, camera_side=cfg.camera.side_of_treadmill
        )
        self.norms = norms
        self.summary_formatter = summary_formatter
        self.source_name = source_name
        self._shutting_down = threading.Event()
        self._lock = threading.Lock()
        self._catchups: list[CatchUp] = []

    def shut_down(self) -> None:
        """Stop any catch-up between frames (the station is stopping): what it inferred is
        stored, its session and spools are left for the next start to finish."""
        self._shutting_down.set()
        with self._lock:
            running = list(self._catchups)
        for cu in running:
            cu.cancel()

    # -- the whole job -------------------------------------------------------------------------

    def finish(self, job: FinishJob, on_progress: ProgressCallback | None = None) -> FinishOutcome:
        """Catch up, analyse and store ``job``'s session; never raises."""
        sid = job.session_id
        try:
            self.store.set_status(sid, SessionStatus.ANALYSING, **job.stats)
            spools = self._readable_spools(sid, job.spools)
            self._catch_up(sid, spools, on_progress)
            timeline = in_time_order(self.store.get_keypoints(sid, MAIN))
            if len(timeline) == 0:
                raise UserError("no frames were captured")
            stats = self._stats(timeline, spools.get(MAIN), job.frames_missed)
            self.store.set_status(sid, SessionStatus.ANALYSING, **stats)
            turn = self._picture_turn(timeline, spools.get(MAIN))
            if turn is not None:
                log.warning("session %d: the camera's picture is turned %d° (no upright runner)", sid, turn)
                raise UserError(turned_camera_message(turn))
            outcome = self._analyse(job, timeline, spools)
        except CatchUpCancelled as exc:
            # not a failure: nothing is marked or deleted, the next start resumes the session
            msg = f"station shutting down: {exc}; session {sid} is finished at the next start"
            log.warning("session %d: %s", sid, msg)
            return FinishOutcome(Finished.INTERRUPTED, msg)
        except Exception as exc:
            msg = str(exc) if isinstance(exc, UserError) else f"analysis failed: {type(exc).__name__}: {exc}"
            if is_disk_full(exc):
                msg = "disk full: the session could not be saved; free space (delete old sessions) and start again"
            elif not isinstance(exc, UserError):
                log.exception("session %d: finishing failed", sid)
            if job.evidence is not None:
                with contextlib.suppress(Exception):
                    job.evidence.delete()
            try:
                self.store.set_status(sid, SessionStatus.FAILED, error=msg)
            except Exception:
                log.exception("session %d: could not record the failure", sid)
            self.delete_spools(job)
            return FinishOutcome(Finished.FAILED, msg)
        self.delete_spools(job)
        return outcome

    @staticmethod
    def delete_spools(job: FinishJob) -> None:
        for p in job.spools.values():
            with contextlib.suppress(OSError):
                p.unlink()

    # -- steps ---------------------------------------------------------------------------------

    @staticmethod
    def _readable_spools(sid: int, paths: dict[str, Path]) -> dict[str, PoseSpool]:
        """The pose spools that can be read. One whose header a power cut left empty or torn has
        no frame that can be found: nothing to catch up from it, the session is analysed from
        the keypoints already stored (the live view's)."""
        spools: dict[str, PoseSpool] = {}
        for cam, path in paths.items():
            if not path.is_file():
                continue
            try:
                spools[cam] = read_pose_spool(path)
            except UnreadablePoseSpool as exc:
                log.warning(
                    "session %d: %s: no frames to catch up from it, the keypoints stored are analysed",
                    sid,
                    exc,
                )
        return spools

    def _catch_up(self, sid: int, spools: dict[str, PoseSpool], on_progress: ProgressCallback | None) -> None:
        """Infer every spooled frame the store has no keypoints for, camera by camera."""
        todo = {}
        for cam, spool in spools.items():
            done = {int(f) for f in self.store.get_keypoints(sid, cam).frame}
            todo[cam] = (spool, done)
        total = sum(sum(1 for e in s.entries if e.index not in d) for s, d in todo.values())
        if total == 0:
            return
        ests = self.estimators.borrow()
        finished = 0
        try:
            for cam, (spool, done) in todo.items():
                writer = KeypointWriter(self.store, sid, camera=cam)
                base = finished

                def progress(n: int, _total: int, base: int = base) -> None:
                    if on_progress is not None:
                        on_progress(base + n, total)

                cu = CatchUp(spool, done, ests, writer, self.cfg.pose.min_score, progress)
                with self._lock:
                    self._catchups.append(cu)
                if self._shutting_down.is_set():
                    cu.cancel()
                try:
                    finished += cu.run().frames_inferred
                finally:
                    with self._lock:
                        self._catchups.remove(cu)
                    writer.close()
                if writer.error and writer.disk_full:
                    raise OSError(28, f"keypoints not stored: {writer.error}")
        finally:
            self.estimators.give_back(ests)

    def _picture_turn(self, timeline: Timeline, spool: PoseSpool | None) -> int | None:
        """The turn (90, 180, 270° clockwise) of a camera's picture when most of its frames show
        no upright body and its model pictures (the pose spool's, from the middle of the capture)
        show one turned; None otherwise."""
        min_score = self.cfg.pose.min_score
        # a camera mounted upside down gives the pose model a garbled body, and the analysis then
        # read "two people in view, feet out of the frame" instead of what to fix
        if spool is None or not spool.entries or upright_share(timeline, min_score) >= TURN_CHECK_BELOW:
            return None
        span = TURN_SAMPLES * TURN_STEP
        first = max(0, (len(spool.entries) - span) // 2)
        entries = spool.entries[first : first + span : TURN_STEP]
        pictures = [image for _, image in spool.images(entries)]
        ests = self.estimators.borrow()
        try:
            return turn_of_pictures(pictures, ests[0], min_score)
        finally:
            self.estimators.give_back(ests)

    def _stats(self, tl: Timeline, spool: PoseSpool | None, missed: int) -> dict[str, Any]:
        n = len(tl)
        spooled = len(spool) if spool is not None else n
        if spool is not None and len(spool) > 1:
            idx = [e.index for e in spool.entries]
            missed = max(missed, sum(max(0, b - a - 1) for a, b in zip(idx, idx[1:], strict=False)))
        dur = tl.duration_s
        stats: dict[str, Any] = {
            "frames_captured": spooled + missed,
            "frames_inferred": n,
            "frames_dropped": missed,
            "effective_fps": round((n - 1) / dur, 2) if n > 1 and dur > 0 else None,
        }
        if tl.width:
            stats["frame_width"] = tl.width
            stats["frame_height"] = tl.height
        elif spool is not None and spool.frame_size is not None:
            stats["frame_width"], stats["frame_height"] = spool.frame_size
        return stats

    def _runner(self, session: dict[str, Any]) -> RunnerInfo:
        runner = session.get("runner") or {}
        height = session.get("height_cm")  # as captured; the runner's record may have changed since
        return RunnerInfo(
            height_cm=height if height is not None else runner.get("height_cm"),
            speed_kmh=session.get("speed_kmh"),
            incline_pct=session.get("incline_pct"),
        )

    def _analyse(self, job: FinishJob, timeline: Timeline, spools: dict[str, PoseSpool]) -> FinishOutcome:
        sid = job.session_id
        session = self.store.get_session(sid)
        session_view = str(session.get("view") or "auto")
        size = spools[MAIN].frame_size if MAIN in spools else None
        if timeline.width is None and size is not None:
            timeline.width, timeline.height = size
        timeline.meta.update({"session_id": sid, "source": self.source_name})
        runner = self._runner(session)
        t_start = time.monotonic()
        analysis = self.analyzer(
            timeline,
            runner,
            session_view,
            self.norms(),
            self.cfg.station.coaching_profile,
            self.cfg.capture.warmup_s,
        )
        log.info("session %d: analysed %d frames in %.2f s", sid, len(timeline), time.monotonic() - t_start)
        self._save_evidence(sid, job.evidence, spools.get(MAIN), timeline, analysis)
        video_path = None
        ev = job.evidence
        if ev is not None:
            if self.cfg.capture.record_video and len(ev) and video_fits(self.cfg, ev.bytes):
                video_path = str(ev.keep_as_video(self.cfg.data_dir / "videos" / f"session-{sid}.mjpeg"))
            else:
                ev.delete()
        if video_path:
            self.store.set_status(sid, SessionStatus.ANALYSING, video_path=video_path)
        result = with_warnings(analysis.to_dict(), job.warnings)
        if job.ended_early:
            secs = f"{timeline.duration_s:.1f} s" if len(timeline) > 1 else "the frames"
            result = with_warnings(
                result, [f"the capture ended early ({job.ended_early}): {secs} recorded, analysed"]
            )
        if job.has_rear:
            result = self._with_rear(sid, runner, result, job.rear_error, spools.get(REAR))
        self.store.save_analysis(sid, result)
        if self.summary_formatter is not None:
            try:
                self.store.set_summary_text(sid, self.summary_formatter(self.store.get_session(sid)))
            except Exception:
                log.exception("session %d: summary text failed", sid)
        if NO_RUNNER in (analysis.quality.get("issues") or []):
            # stored all the same (the page and receipt say why nothing was measured), but not
            # shown as a success: the run has to be filmed again
            return FinishOutcome(
                Finished.NOBODY_SEEN,
                f"nobody was seen in session {sid}, so nothing was measured: "
                "check the runner is in the camera's view and start again",
            )
        cad = analysis.cadence_spm
        return FinishOutcome(
            Finished.ANALYSED, f"session {sid} done" + (f": cadence {cad:.0f} spm" if cad else "")
        )

    def _with_rear(
        self,
        sid: int,
        runner: RunnerInfo,
        result: dict[str, Any],
        error: str | None,
        spool: PoseSpool | None,
    ) -> dict[str, Any]:
        tl = in_time_order(self.store.get_keypoints(sid, REAR))
        if len(tl) == 0:
            return merge_rear(result, None, error)
        turn = self._picture_turn(tl, spool)
        if turn is not None:  # the side view is analysed all the same
            log.warning("session %d: the rear camera's picture is turned %d°", sid, turn)
            turned = turned_camera_message(turn, REAR)
            return merge_rear(result, None, f"{error}; {turned}" if error else turned)
        try:
            tl.meta.update({"session_id": sid, "camera": "rear"})
            rear = self.analyzer(
                tl,
                runner,
                "rear",
                self.norms(),
                self.cfg.station.coaching_profile,
                self.cfg.capture.warmup_s,
            )
        except Exception as exc:
            log.exception("session %d: rear view analysis failed", sid)
            return merge_rear(result, None, f"rear view analysis failed: {exc}")
        merged = merge_rear(result, rear.to_dict(), error)
        merged["rear"]["frames"] = len(tl)
        return merged

    def _save_evidence(
        self,
        sid: int,
        evidence: SpooledFrames | None,
        pose_spool: PoseSpool | None,
        timeline: Timeline,
        analysis: Analysis,
    ) -> None:
        frames: EvidenceSource | None = evidence if evidence is not None and len(evidence) else None
        if frames is None and pose_spool is not None and len(pose_spool):
            frames = pose_spool  # no evidence spool: the model's pictures (smaller, but the moment is right)
        if frames is None:
            return
        for ev in analysis.evidence or []:
            try:
                frame = int(ev.get("frame", -1))
                if frame < 0 and ev.get("t") is not None:
                    frame = int(timeline.frame[int(np.argmin(np.abs(timeline.t - float(ev["t"]))))])
                near = frames.nearest(frame)
                if near is None:
                    continue
                got = frames.read(near)
                if got is None:
                    continue
                jpeg, scale = got
                row = min(int(np.searchsorted(timeline.frame, near)), len(timeline) - 1)
                kp = np.concatenate([timeline.xy[row] * scale, timeline.score[row][:, None]], axis=1)
                meta = {k: v for k, v in ev.items() if k not in ("side", "phase", "t", "frame")}
                meta.update({"scale": scale, "requested_frame": frame})
                self.store.add_evidence(
                    sid,
                    ev.get("side"),
                    str(ev.get("phase", "")),
                    float(timeline.t[row]),
                    near,
                    jpeg,
                    kp,
                    meta=meta,
                )
            except Exception:
                log.exception("session %d: evidence frame %r failed", sid, ev)


class EvidenceSource(Protocol):
    """Spooled JPEGs by frame number: the evidence spool, or the pose spool when it was lost."""

    def nearest(self, frame_index: int) -> int | None: ...

    def read(self, frame_index: int) -> tuple[bytes, float] | None: ...
