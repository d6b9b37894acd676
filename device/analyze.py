"""`gait-station analyze INPUT`: a video or keypoint CSV in, the analysis JSON out.

Video → pose (MoveNet) → keypoint timeline → gait engine → ``Analysis.to_dict()`` on stdout
(or ``--json FILE``). Slow-motion clips: ``--capture-fps N`` gives the real capture rate;
without it a clip whose cadence comes out implausibly low (or that a phone tagged as slow
motion) gets no metric at all (its contacts are found at the wrong time scale, so what is
measured at them is as wrong as what is timed), only a warning to give the rate.
Heavy imports (cv2, PyAV, the TFLite runtime) happen inside functions: the CLI imports this
module at startup.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from device.cli_args import check_outputs, number, written_whole
from device.errors import InputError, NoPersonError, UserError

if TYPE_CHECKING:
    from device.camera.video import VideoFileSource
    from device.gait.norms import Norms
    from device.keypoints import Timeline

log = logging.getLogger(__name__)

#: Below this a "cadence" is not running or walking: the clip plays slower than real time.
MIN_PLAUSIBLE_CADENCE_SPM = 60.0
#: A confident body (shoulder, hip, leg) in fewer than this share of frames: no runner found.
MIN_PERSON_FRACTION = 0.5
#: Videos shorter than this cannot show a stride.
MIN_VIDEO_FRAMES = 10
SLOW_MOTION_WARNING = "the clip looks like slow motion: give --capture-fps"
# Phone tags for the real capture rate of a slow-motion clip (Android; some editors copy it).
_CAPTURE_FPS_TAGS = ("com.android.capture.fps", "com.apple.quicktime.capture.fps", "capture_fps")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", help="a video file (MP4/MOV/GIF…) or a keypoint CSV")
    parser.add_argument("--height-cm", type=number("height", 50, 250), help="runner's height (for cm)")
    parser.add_argument("--speed-kmh", type=number("speed", 0.5, 40), help="treadmill belt speed")
    parser.add_argument(
        "--view",
        choices=("side", "rear", "front", "auto"),
        default="auto",
        help="camera view (default: detect from the keypoints)",
    )
    parser.add_argument(
        "--capture-fps",
        type=number("capture fps", 1, 10000),
        metavar="N",
        help="the real capture rate of a slow-motion clip (e.g. 240)",
    )
    parser.add_argument("--json", metavar="OUT", help="write the analysis JSON here instead of stdout")
    parser.add_argument("--keypoints-csv", metavar="OUT", help="also write the keypoint timeline CSV")
    parser.add_argument(
        "--model", metavar="PATH", help="MoveNet .tflite file (default: configured/installed)"
    )
    parser.add_argument(
        "--threads",
        type=number("threads", 1, 8, integer=True),
        metavar="N",
        help="inference threads (default: [pose] num_threads)",
    )
    parser.add_argument(
        "--read-once",
        action="store_true",
        help="give each video frame to the pose model once, not also mirrored: half the time, "
        "an unsteadier reading (default: read with its mirror up to 60 fps)",
    )
    parser.add_argument("--config", metavar="FILE", help="station config file (default: the usual places)")


# -- input kind -------------------------------------------------------------------------------
def detect_kind(path: Path) -> str:
    """ "csv" or "video", from the content (extension only breaks ties). Raises InputError for
    a missing, empty or unusable file."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a video or keypoint CSV")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    text = _as_text(head)
    if text is None:
        if path.suffix.lower() == ".csv":
            raise InputError(f"{path}: not a text CSV (binary content)")
        return "video"
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    cols = [c.strip() for c in first.split(",")]
    if path.suffix.lower() == ".csv" or (cols and cols[0] == "t") or "nose_x" in cols:
        return "csv"
    raise InputError(
        f"{path}: a text file, neither a video nor a keypoint CSV (header starting with 't,nose_x,…')"
    )


def _as_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a multi-byte character cut at the 4096-byte boundary
            return head[: exc.start].decode("utf-8")
        return None


# -- the pipeline -----------------------------------------------------------------------------
def _load_config(path: str | None):
    from device.config import load_config

    return load_config(path)


def pose_timeline(
    path: Path,
    cfg: Any,
    model: str | None,
    threads: int | None,
    show_progress: bool,
    source: VideoFileSource | None = None,
    read_once: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Run pose over the video at ``path`` (or ``source``, a reader of it such as the
    validation's noise draws): (Timeline, facts for the ``input`` block). ``read_once``: never
    read a frame with its mirror (:func:`device.pose.pipeline.with_mirror_for`)."""
    from device.camera.video import VideoFileSource
    from device.pose.model import resolve_model_path
    from device.pose.movenet import MoveNetEstimator
    from device.pose.pipeline import (
        TURN_CHECK_BELOW,
        picture_for_file,
        picture_turn,
        run_pose,
        upright_share,
        with_mirror_for,
    )

    source = source or VideoFileSource(path)
    source.open()  # file problems are reported before the model loads
    try:
        model_path = Path(model).expanduser() if model else resolve_model_path(cfg)
        mirrored = not read_once and with_mirror_for(source.nominal_fps)
        estimator = MoveNetEstimator(
            model_path, threads or cfg.pose.num_threads, quiet=True, with_mirror=mirrored
        )
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(
                total=source.frame_count or None, unit="frame", desc=path.name, file=sys.stderr, leave=False
            )
        try:
            # the runner's size in the capture's picture decides how the file is read
            oversample, runner_px = picture_for_file(VideoFileSource(path), estimator, cfg.pose.min_score)
            tl = run_pose(
                source,
                estimator,
                cfg.pose.min_score,
                progress=(lambda n: bar.update(1)) if bar is not None else None,
                oversample=oversample,
            )
            if upright_share(tl, cfg.pose.min_score) < TURN_CHECK_BELOW:
                # few frames with an upright body: is the picture turned? (check_person says so)
                tl.meta["picture_turn_deg"] = picture_turn(
                    VideoFileSource(path), estimator, cfg.pose.min_score
                )
        finally:
            if bar is not None:
                bar.close()
            estimator.close()
    finally:
        source.close()
    if source.cut_short and not tl.meta.get("damaged"):
        tl.meta["damaged"] = source.cut_short  # warned like a corrupt tail: "analysed the N frames…"
    if source.retimed:
        tl.meta["retimed"] = source.retimed
    if source.damaged:
        tl.meta["damage_skipped"] = source.damaged
        tl.meta["frames_damaged"] = source.frames_damaged
    width, height = source.size
    facts = {
        "container_fps": round(source.nominal_fps, 3) if source.nominal_fps else None,
        "width": width,
        "height": height,
        "model": model_path.name,
        "runtime": estimator.runtime,
        "tagged_capture_fps": _tagged_capture_fps(source.metadata),
        # how the pose model saw the runner: the capture's picture, or the frame (a small runner)
        "model_picture": "capture picture" if oversample is not None else "full frame",
        "runner_picture_px": None if runner_px is None else round(runner_px, 1),
        # each frame read as it is and mirrored, the readings averaged where they agree
        # (WITH_MIRROR_MAX_FPS, device.pose.movenet.fuse_mirrored)
        "pose_reading": "frame and mirror fused" if mirrored else "frame",
    }
    return tl, facts


def _tagged_capture_fps(meta: dict[str, str]) -> float | None:
    for key, value in meta.items():
        if key.lower() in _CAPTURE_FPS_TAGS:
            try:
                v = float(str(value).strip())
            except ValueError:
                continue
            if math.isfinite(v) and v > 0:
                return v
    return None


def _video_clock_warnings(tl: Any) -> list[str]:
    """What the video's own clock and damage cost: frames re-timed at the nominal rate, frames
    left out because their time went back or they could not be decoded (a frame never dropped
    without a word)."""
    out = [tl.meta["retimed"]] if tl.meta.get("retimed") else []
    if tl.meta.get("damage_skipped"):
        out.append(f"{tl.meta['damage_skipped']}: the analysis covers the rest")
    skipped = int(tl.meta.get("frames_skipped") or 0)
    if skipped:
        read = int(tl.meta.get("frames_read") or len(tl) + skipped)
        out.append(
            f"left out {skipped} of {read} frame(s) whose timestamp did not move forward "
            "(a damaged video): the analysis covers the rest"
        )
    return out


def check_person(timeline: Any, min_score: float, path: Path) -> float:
    """Share of frames with a confident body; NoPersonError when most frames have none, or when
    the picture is turned (``meta['picture_turn_deg']``, found by :func:`pose_timeline`)."""
    from device.pose.pipeline import body_visible

    n = len(timeline)
    seen = int(body_visible(timeline.score, min_score).sum()) if n else 0
    frac = seen / n if n else 0.0
    turn = timeline.meta.get("picture_turn_deg")
    if turn:
        raise NoPersonError(
            f"{path}: no upright runner in the picture: the video is turned, and the runner stands "
            f"upright when it is rotated {turn}° clockwise: rotate it and analyse it again"
        )
    if frac < MIN_PERSON_FRACTION:
        damage = _damage_said(timeline.meta)
        if damage:
            # garbled pictures hide a runner who was there: the copy is the first thing to fix
            raise NoPersonError(
                f"{path}: no runner found in what could be read of this damaged video (a confident "
                f"body in only {seen} of {n} frames; {damage}): copy it again from the original; "
                "if the original is whole, film the whole body from the side, well lit"
            )
        raise NoPersonError(
            f"{path}: no runner found (a confident body in only {seen} of {n} frames): "
            "film the whole body from the side, well lit"
        )
    return frac


def _damage_said(meta: dict[str, Any]) -> str:
    """What the decoder lost of a video, in a few words ("" when nothing)."""
    parts = []
    lost = int(meta.get("frames_damaged") or 0)
    if lost:
        parts.append(f"{lost} frame{'s' if lost != 1 else ''} could not be read")
    if meta.get("damaged"):
        parts.append("its end could not be decoded")
    return ", and ".join(parts)


def motion_step_rate_spm(timeline: Any) -> float | None:
    """The dominant rate of the feet passing each other, in steps per minute of the timeline's
    clock, or None when the motion is not clearly periodic.

    A plausibility check on the clock (is this clip slow motion?), not a gait measurement: the
    ankle separation |Δx| + |Δy| peaks once per step whichever leg the model calls left, so its
    autocorrelation peaks at the step period even through left/right swaps.
    """
    import numpy as np

    from device.keypoints import KP

    t = timeline.t
    if len(t) < 20 or timeline.duration_s <= 0:
        return None
    la, ra = timeline.xy[:, KP["left_ankle"]], timeline.xy[:, KP["right_ankle"]]
    sep = np.abs(la[:, 0] - ra[:, 0]) + np.abs(la[:, 1] - ra[:, 1])
    ok = np.isfinite(sep)
    if ok.mean() < 0.6:
        return None
    fs = 1.0 / max(1e-9, float(np.median(np.diff(t))))  # frames per second of the clock
    grid = np.arange(t[0], t[-1], 1.0 / fs)
    x = np.interp(grid, t[ok], sep[ok])
    x = x - x.mean()
    n = x.size
    if n < 20 or not np.any(x):
        return None
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac = ac / ac[0]
    # Lags from 0.1 s (600 spm) up to a third of the clip (at least 3 periods seen).
    lo, hi = max(1, int(0.1 * fs)), int(n / 3)
    if hi <= lo + 2:
        return None
    seg = ac[lo:hi]
    peaks = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    if peaks.size == 0:
        return None
    best = float(seg[peaks].max())
    if best < 0.3:  # not periodic enough to say anything
        return None
    first = peaks[seg[peaks] >= 0.8 * best][0]  # the step, not its multiples (the stride)
    period_s = (first + lo) / fs
    return 60.0 / period_s


def repeated_frames(timeline: Any) -> tuple[Any, int, int]:
    """Frames identical to the one before (a video exported with each frame stored several
    times: cheap slow motion, or a frame-rate conversion) are not new observations; they are
    dropped. Returns (timeline of distinct frames, repeat factor, frames dropped): the factor is
    the typical number of copies of a frame (≥ 2: slow motion by repetition, the distinct
    frames are the real capture and the clip plays that many times slower than real time)."""
    import numpy as np

    n = len(timeline)
    if n < 3:
        return timeline, 1, 0
    x = np.nan_to_num(timeline.xy.reshape(n, -1), nan=-1.0)
    same = np.concatenate([[False], np.all(np.abs(np.diff(x, axis=0)) < 1e-3, axis=1)])
    # a frame with no keypoints at all is not a repeat of another empty frame worth noting
    same &= np.isfinite(timeline.xy.reshape(n, -1)).any(axis=1)
    dropped = int(same.sum())
    if dropped == 0:
        return timeline, 1, 0
    keep = ~same
    starts = np.flatnonzero(keep)
    runs = np.diff(np.append(starts, n))
    factor = int(np.median(runs))
    out = type(timeline)(
        timeline.t[keep],
        timeline.xy[keep],
        timeline.score[keep],
        timeline.frame[keep],
        timeline.width,
        timeline.height,
        dict(timeline.meta),
    )
    return out, factor, dropped


def slow_motion_reason(
    cadence: float | None, motion_spm: float | None, tagged_fps: float | None, video_fps: float | None
) -> str | None:
    """Why the clip looks like slow motion (None when it does not).

    The engine's cadence below 60 spm, or — when the engine found no cadence — feet passing
    each other less than 60 times a minute of video time. A plausible engine cadence is only
    overruled by motion under 30/min (even mistaking strides for steps cannot explain that).
    """
    if tagged_fps and video_fps and tagged_fps > 1.5 * video_fps:
        return f"the file is tagged as captured at {tagged_fps:g} fps"
    if cadence is not None and cadence < MIN_PLAUSIBLE_CADENCE_SPM:
        return f"{cadence:.0f} steps/min in video time is too slow for running or walking"
    limit = MIN_PLAUSIBLE_CADENCE_SPM if cadence is None else MIN_PLAUSIBLE_CADENCE_SPM / 2
    if motion_spm is not None and motion_spm < limit:
        return (
            f"the feet pass each other only about {motion_spm:.0f} times a minute of video time, "
            "too slow for running or walking"
        )
    return None


def apply_slow_motion_guard(result: dict[str, Any], reason: str) -> None:
    """Every metric of an analysis dict not measurable with ``reason``, and no cadence series,
    gait-cycle curves or evidence frames: the event rules ran at the wrong time scale, so the
    contacts and toe-offs are found at the wrong moments, and what is measured at them (the
    angles at landing, overstride, the stance and swing peaks, ...) is as wrong as what is timed."""
    from device.gait.metric_ids import ALL_METRICS
    from device.gait.types import Metric

    result["cadence_spm"] = None
    metrics = result.setdefault("metrics", {})
    for mid, (unit, _sided) in ALL_METRICS.items():
        normal = (metrics.get(mid) or {}).get("normal")
        metrics[mid] = Metric.unmeasurable(unit, reason).to_dict() | {"normal": normal}
    result["cadence_series"] = []
    result["curves"] = {}
    result["evidence"] = []
    quality = result.setdefault("quality", {})
    warnings = quality.setdefault("warnings", [])
    if SLOW_MOTION_WARNING not in warnings:
        warnings.append(SLOW_MOTION_WARNING)
    quality["slow_motion_suspected"] = True
    issues = quality.setdefault("issues", [])
    if "slow_motion" not in issues:
        issues.append("slow_motion")
    if quality.get("verdict_code") == "good":
        quality["verdict_code"] = "limited"


def analyze_file(
    path: Path,
    *,
    height_cm: float | None = None,
    speed_kmh: float | None = None,
    view: str = "auto",
    capture_fps: float | None = None,
    model: str | None = None,
    threads: int | None = None,
    cfg: Any = None,
    show_progress: bool = False,
    keep_timeline: Callable[[Timeline], None] | None = None,
    read_once: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """The analysis JSON dict for a video or CSV, and warnings for the person at the terminal.
    ``keep_timeline`` is given the keypoint timeline as soon as it exists: before the gait
    analysis, which may still refuse the input after minutes of pose on a video."""
    from device.keypoints_csv import read_csv
    from device.report.review import clinic_norms

    cfg = cfg if cfg is not None else _load_config(None)
    kind = detect_kind(path)
    warnings: list[str] = []
    if kind == "csv":
        tl = read_csv(path)
        facts: dict[str, Any] = {
            "container_fps": None,
            "width": tl.width,
            "height": tl.height,
            "model": None,
            "tagged_capture_fps": None,
        }
        if tl.meta.get("dropped_rows"):
            lines = tl.meta["dropped_lines"]
            shown = ", ".join(str(n) for n in lines[:5]) + (" …" if len(lines) > 5 else "")
            warnings.append(
                f"{path.name}: dropped {tl.meta['dropped_rows']} row(s) with a missing or non-increasing "
                f"time (line{'s' if len(lines) > 1 else ''} {shown})"
            )
        if tl.meta.get("infinite_points"):
            warnings.append(
                f"{path.name}: {tl.meta['infinite_points']} keypoint position(s) written as infinite "
                f"(the first on line {tl.meta['first_infinite_line']}) were read as unseen"
            )
        if tl.meta.get("reordered_rows"):
            warnings.append(
                f"{path.name}: the rows were not in time order: analysed all {len(tl)} rows sorted by t"
            )
    else:
        tl, facts = pose_timeline(path, cfg, model, threads, show_progress, read_once=read_once)
        warnings.extend(_video_clock_warnings(tl))
        if tl.meta.get("damaged"):
            warnings.append(f"{tl.meta['damaged']}: analysed the {len(tl)} frames before the damage")
        if len(tl) < MIN_VIDEO_FRAMES:
            raise InputError(f"{path}: only {len(tl)} frame(s): not a video of a runner (need a few seconds)")
    if keep_timeline is not None:
        keep_timeline(tl)
    result, warnings = analyze_timeline(
        tl,
        path=path,
        kind=kind,
        facts=facts,
        height_cm=height_cm,
        speed_kmh=speed_kmh,
        view=view,
        capture_fps=capture_fps,
        min_score=cfg.pose.min_score,
        camera_side=cfg.camera.side_of_treadmill,
        norms=clinic_norms(cfg),  # the flags the JSON carries are the ones the report shows
        warnings=warnings,
    )
    return result, warnings


def analyze_timeline(
    tl: Any,
    *,
    path: Path,
    kind: str,
    facts: dict[str, Any],
    height_cm: float | None = None,
    speed_kmh: float | None = None,
    view: str = "auto",
    capture_fps: float | None = None,
    min_score: float = 0.2,
    camera_side: str = "auto",
    norms: Norms | None = None,
    warnings: list[str] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The analysis dict of a keypoint timeline (from a video or CSV at ``path``), with the
    checks that need the file's facts (slow motion); ``warnings`` are added to. ``norms``: the
    clinic's (default: the packaged file)."""
    warnings = [] if warnings is None else warnings
    if len(tl) < 2:
        raise InputError(f"{path}: fewer than 2 frames to analyse")
    from device.gait.analysis import longest_continuous

    # absurd time gaps (a row at t = 1e7, a clock jump) must not size anything below by time
    tl, gap_note = longest_continuous(tl)
    if gap_note is not None and len(tl) < 2:
        raise InputError(f"{path}: {gap_note}")
    if gap_note is not None:
        warnings.append(gap_note)
    check_person(tl, min_score, path)

    # The rate the frames actually play at (GIF durations, VFR): what slow motion is relative to.
    video_fps = round((len(tl) - 1) / tl.duration_s, 3) if tl.duration_s > 0 else facts["container_fps"]
    time_scale = 1.0
    tl, repeat, n_repeated = repeated_frames(tl)
    if repeat >= 2:
        # each frame stored `repeat` times: the distinct frames are the real capture, one video
        # frame interval apart in real time (the clip plays `repeat` times slower)
        if not capture_fps:
            time_scale = 1.0 / repeat
            tl = tl.scaled_time(time_scale)
        warnings.append(
            f"each frame is stored {repeat} times (slow-motion export): analysed the {len(tl)} distinct "
            + ("frames at the given capture rate" if capture_fps else f"frames as real time ÷ {repeat}")
        )
    elif n_repeated:
        warnings.append(f"{n_repeated} repeated frame(s) (frame-rate conversion) left out")
    if capture_fps:
        if not video_fps:
            raise InputError(f"{path}: --capture-fps needs a known frame rate, and this input has none")
        time_scale = (video_fps / repeat if repeat >= 2 else video_fps) / capture_fps
        tl = tl.scaled_time(time_scale)

    from device.gait import analyze as gait_analyze
    from device.gait.treadmill import EventModel
    from device.gait.types import RunnerInfo
    from device.norms_file import load_norms

    norms = norms if norms is not None else load_norms()
    analysis = gait_analyze(
        tl,
        RunnerInfo(height_cm=height_cm, speed_kmh=speed_kmh),
        view=view,
        camera_side=camera_side,
        norms=norms,
        # a video's keypoints are the pose model's (EventModel.physics); a CSV's origin is unknown
        event_model=None if kind == "csv" else EventModel.physics(),
    )
    result = analysis.to_dict()

    tagged = facts.get("tagged_capture_fps")
    if not capture_fps:
        # the keypoints of two people in view may be either's: how often "the feet" pass each
        # other says nothing of the video's time scale (a file's tag still does)
        two = "two_people" in (result.get("quality") or {}).get("issues", [])
        motion = None if two else motion_step_rate_spm(tl)
        why = slow_motion_reason(result.get("cadence_spm"), motion, tagged, video_fps)
        if why:
            from device.gait.evidence import review

            apply_slow_motion_guard(
                result,
                f"{why}: slow-motion video; enter the capture frame rate (--capture-fps) to measure it",
            )
            result = review(result, norms)  # the findings (flags, cues) of what is left
            warnings.append(f"{SLOW_MOTION_WARNING} ({why})")

    if warnings:  # what the terminal was told belongs in the saved analysis too
        q_warn = result.setdefault("quality", {}).setdefault("warnings", [])
        q_warn.extend(w for w in warnings if w not in q_warn and not w.startswith(SLOW_MOTION_WARNING))
    inp = result.setdefault("input", {})
    inp.update(
        {
            "source": str(path),
            "kind": kind,
            "frames": len(tl),
            "duration_s": round(tl.duration_s, 3),
            "video_fps": video_fps,
            "container_fps": facts["container_fps"],
            "capture_fps": capture_fps,
            "time_scale": round(time_scale, 6),
            "height_cm": height_cm,
            "speed_kmh": speed_kmh,
            "width": facts["width"],
            "height": facts["height"],
            "model": facts["model"],
        }
    )
    if facts.get("model_picture"):  # a video (a CSV has no picture)
        inp["model_picture"] = facts["model_picture"]
        inp["runner_picture_px"] = facts["runner_picture_px"]
        inp["pose_reading"] = facts["pose_reading"]
    if tagged:
        inp["tagged_capture_fps"] = tagged
    if gap_note is not None:
        q = result.setdefault("quality", {})
        q["time_gap"] = True
        q.setdefault("issues", []).append("time_gap")
        if q.get("verdict_code") == "good":
            q["verdict_code"] = "limited"
    if repeat >= 2 or n_repeated:
        result.setdefault("quality", {})["repeated_frames"] = {"factor": repeat, "dropped": n_repeated}
    if repeat >= 2:
        q = result.setdefault("quality", {})
        issues = q.setdefault("issues", [])
        if "repeated_frames" not in issues:
            issues.append("repeated_frames")
        if q.get("verdict_code") == "good":
            q["verdict_code"] = "limited"
    return result, warnings


def _json_safe(v: Any) -> Any:
    """JSON has no NaN/Infinity: any non-finite float left in the result becomes null."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    return v


def capture_verdict_lines(result: dict[str, Any], cfg: Any) -> list[str]:
    """The capture verdict as the report words it (the evidence gate with the clinic's norms),
    and why no finding is made: the JSON alone is not where a person looks."""
    from device.report.render import quality_note
    from device.report.review import reviewed

    note = quality_note(reviewed(result, cfg).get("quality") or {})
    lines = [note["verdict"]] if note["verdict"] else []
    withheld = note["withheld"]
    if withheld:
        n = len(withheld) - 1
        more = f" (+{n} more reason{'s' if n > 1 else ''} in the report)" if n else ""
        lines.append(f"no clinical findings from this capture: {withheld[0]}{more}")
    return lines


def main(args: argparse.Namespace) -> int:
    path = Path(args.input).expanduser()
    out_json = Path(args.json).expanduser() if args.json else None
    out_csv = Path(args.keypoints_csv).expanduser() if args.keypoints_csv else None
    # before any work: a bad output path found after minutes of pose on a Pi costs the minutes
    check_outputs({"--json": out_json, "--keypoints-csv": out_csv}, inputs=[path])
    cfg = _load_config(args.config)
    kept: list[str] = []  # outputs written, named in the line that reports a failed one
    failed: list[str] = []

    def save_keypoints(tl: Timeline) -> None:
        from device.keypoints_csv import write_csv

        if out_csv is None:
            return
        try:
            with written_whole(out_csv) as tmp:
                write_csv(tl, tmp)
        except OSError as exc:  # a full disk: the analysis goes on, the line says so at the end
            failed.append(f"cannot write {out_csv} (--keypoints-csv): {exc.strerror or exc}")
        else:
            kept.append(f"the keypoint CSV in {out_csv}")

    try:
        result, warnings = analyze_file(
            path,
            height_cm=args.height_cm,
            speed_kmh=args.speed_kmh,
            view=args.view,
            capture_fps=args.capture_fps,
            model=args.model,
            threads=args.threads,
            cfg=cfg,
            show_progress=sys.stderr.isatty(),
            keep_timeline=save_keypoints,
            read_once=args.read_once,
        )
    except UserError as exc:
        if kept:  # refused after the pose: its keypoints were saved, and the line says where
            exc.args = (f"{exc} (kept {kept[0]})",)
        raise
    for w in warnings:
        print(f"gait-station analyze: warning: {w}", file=sys.stderr)
    text = json.dumps(_json_safe(result), indent=2, allow_nan=False) + "\n"
    if out_json is not None:
        try:
            with written_whole(out_json) as tmp:
                tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            # the analysis took minutes: standard output still has room when the disk has none
            sys.stdout.write(text)
            failed.insert(
                0,
                f"cannot write {out_json} (--json): {exc.strerror or exc}; "
                "the analysis JSON went to standard output instead",
            )
        else:
            kept.insert(0, f"the analysis JSON in {out_json}")
            view = result.get("view") or {}
            cad = result.get("cadence_spm")
            print(
                f"gait-station analyze: {result['input']['frames']} frames, "
                f"{result['input']['duration_s']:.1f} s; "
                f"view {view.get('kind')}{' facing ' + view['facing'] if view.get('facing') else ''}; "
                f"cadence {'n/a' if cad is None else f'{cad:.0f} spm'} → {out_json}",
                file=sys.stderr,
            )
    else:
        sys.stdout.write(text)
    for line in capture_verdict_lines(result, cfg):
        print(f"gait-station analyze: {line}", file=sys.stderr)
    if failed:
        raise UserError("; ".join(failed) + (f"; kept {' and '.join(kept)}" if kept else ""))
    return 0
