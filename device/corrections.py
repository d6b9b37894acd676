"""Corrections a clinician makes to a finished session, and the re-analysis they trigger.

A clinician who sees that the camera was mirrored (left and right swapped), that the near leg
was taken for the far one, that the height, belt speed or declared view was wrong, or that one
stride was a stumble, corrects the inputs and the gait engine runs again on the stored
keypoints. Each re-analysis is kept with who made it and when; the capture's own analysis is
never overwritten (``Store.save_analysis`` keeps the history).

A left/right swap is applied to the keypoints, exactly: the picture is mirrored (x → W − x) and
the left/right keypoints exchanged. The runner then faces the other way with the other leg
nearest the camera — the same run seen from the other side — so the engine's own near-leg check
agrees with the swapped labels instead of undoing them, and every sagittal angle is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from device.errors import InputError
from device.keypoints import LEFT_RIGHT_PAIRS, Timeline
from device.store import validate as v

SIDES = ("left", "right")
MAX_EXCLUDED = 50


@dataclass(frozen=True)
class Stride:
    """One stride of the analysis: from a foot's initial contact to its next (session clock)."""

    side: str
    number: int  # 1-based, per side
    t_start: float
    t_end: float


@dataclass(frozen=True)
class Corrections:
    """The inputs of a re-analysis. None means "as captured"."""

    swap_sides: bool = False
    near_leg: str | None = None
    height_cm: float | None = None
    speed_kmh: float | None = None
    incline_pct: float | None = None
    view: str | None = None
    excluded: tuple[tuple[float, float], ...] = field(default_factory=tuple)  # (t_start, t_end)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Corrections:
        """Checked corrections from a form or JSON (InputError naming the field when wrong)."""
        unknown = set(d) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise InputError(f"unknown correction(s): {', '.join(sorted(unknown))}")
        near = d.get("near_leg") or None
        if near is not None and near not in SIDES:
            raise InputError("near_leg: must be left or right")
        view = d.get("view") or None
        if view is not None:
            view = v.view(view)
        swap = d.get("swap_sides", False)
        if not isinstance(swap, bool):
            raise InputError("swap_sides: must be true or false")
        excluded = []
        for span in d.get("excluded") or ():
            try:
                a, b = (float(x) for x in span)
            except (TypeError, ValueError):
                raise InputError("excluded: each stride is [start, end] in seconds") from None
            if not (math.isfinite(a) and math.isfinite(b) and a < b):
                raise InputError("excluded: each stride needs a start before its end")
            excluded.append((a, b))
        if len(excluded) > MAX_EXCLUDED:
            raise InputError(f"excluded: at most {MAX_EXCLUDED} strides")
        return cls(
            swap_sides=swap,
            near_leg=near,
            height_cm=v.height_cm(d.get("height_cm")),
            speed_kmh=v.speed_kmh(d.get("speed_kmh")),
            incline_pct=v.incline_pct(d.get("incline_pct")),
            view=view,
            excluded=tuple(sorted(set(excluded))),
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["excluded"] = [list(x) for x in self.excluded]
        return d

    def describe(self, units: Any = None) -> list[str]:
        """What was corrected, in the clinic's words (for the history list)."""
        out = []
        if self.swap_sides:
            out.append("left and right swapped")
        if self.near_leg:
            out.append(f"near leg set to {self.near_leg}")
        if self.height_cm is not None:
            out.append("height " + (units.height(self.height_cm) if units else f"{self.height_cm:g} cm"))
        if self.speed_kmh is not None:
            out.append("speed " + (units.speed(self.speed_kmh) if units else f"{self.speed_kmh:g} km/h"))
        if self.incline_pct is not None:
            out.append(f"incline {self.incline_pct:g} %")
        if self.view:
            out.append(f"view {self.view}")
        for a, b in self.excluded:
            out.append(f"stride {a:.2f}–{b:.2f} s excluded")
        return out


def strides(analysis: dict[str, Any] | None) -> list[Stride]:
    """The strides of an analysis, from its initial contacts (the ones a clinician can exclude)."""
    out: list[Stride] = []
    events = (analysis or {}).get("events") or []
    for side in SIDES:
        ts = sorted(
            float(e["t"]) for e in events if e.get("side") == side and e.get("kind") == "initial_contact"
        )
        out += [Stride(side, i + 1, a, b) for i, (a, b) in enumerate(zip(ts, ts[1:], strict=False))]
    return sorted(out, key=lambda s: (s.t_start, s.side))


def swap_sides(tl: Timeline, *, mirror: bool = True) -> Timeline:
    """Left and right keypoints exchanged; ``mirror`` also mirrors x (see the module doc).
    Without ``mirror`` the keypoints stay on the picture (for drawing on recorded frames)."""
    xy = tl.xy.copy()
    score = tl.score.copy()
    for a, b in LEFT_RIGHT_PAIRS:
        xy[:, [a, b]] = xy[:, [b, a]]
        score[:, [a, b]] = score[:, [b, a]]
    if mirror:
        width = float(tl.width) if tl.width else float(np.nanmax(tl.xy[..., 0], initial=0.0)) + 1.0
        xy[..., 0] = width - xy[..., 0]
    return Timeline(tl.t.copy(), xy, score, tl.frame.copy(), tl.width, tl.height, dict(tl.meta))


def exclude(tl: Timeline, spans: tuple[tuple[float, float], ...]) -> Timeline:
    """The keypoints with the excluded strides' frames blanked (unseen), as if never filmed:
    no event and no stride can come from them."""
    if not spans:
        return tl
    drop = np.zeros(len(tl), bool)
    for a, b in spans:
        drop |= (tl.t >= a) & (tl.t < b)
    xy = np.where(drop[:, None, None], np.nan, tl.xy).astype(np.float32)
    score = np.where(drop[:, None], 0.0, tl.score).astype(np.float32)
    return Timeline(tl.t.copy(), xy, score, tl.frame.copy(), tl.width, tl.height, dict(tl.meta))


def near_leg_of(analysis: dict[str, Any]) -> str | None:
    """The leg an analysis took as the one nearest the camera (side view), None if unknown."""
    recorded = (analysis.get("input") or {}).get("near_leg")
    if recorded in SIDES:  # a re-analysis says it (its view is of the mirrored picture after a swap)
        return recorded
    view = analysis.get("view") or {}
    quality = analysis.get("quality") or {}
    if view.get("kind") == "side" and view.get("facing") in ("left", "right"):
        # the camera sees the side the runner faces (engine convention: facing right → right near)
        return "right" if view["facing"] == "right" else "left"
    near = quality.get("near_leg")
    return near if near in SIDES else None


def corrected_timeline(tl: Timeline, c: Corrections, *, swap: bool) -> Timeline:
    """What the engine analyses for corrections ``c`` (``swap``: the resolved left/right swap)."""
    out = exclude(tl, c.excluded)
    return swap_sides(out) if swap else out


def reanalyse(
    store: Any,
    session_id: int,
    corrections: Corrections,
    created_by: str,
    analyze_fn: Any,
    note: str = "",
) -> int:
    """Run the gait engine again on a session's stored keypoints with ``corrections`` and keep
    the result as the session's current analysis (the earlier ones stay in its history).
    ``analyze_fn(timeline, runner, view)`` returns a :class:`device.gait.types.Analysis`.
    Returns the new analysis id."""
    from device.errors import UserError
    from device.gait.types import RunnerInfo

    s = store.get_session(session_id)
    if s["status"] in ("capturing", "analysing"):
        raise UserError(f"session {session_id} is {s['status']}: correct it once it is done")
    tl = store.get_keypoints(session_id)
    if len(tl) == 0:
        raise UserError(f"session {session_id} has no stored keypoints to analyse again")
    c = corrections
    runner = RunnerInfo(
        height_cm=c.height_cm if c.height_cm is not None else s.get("height_cm"),
        speed_kmh=c.speed_kmh if c.speed_kmh is not None else s.get("speed_kmh"),
        incline_pct=c.incline_pct if c.incline_pct is not None else s.get("incline_pct"),
    )
    view = c.view or s.get("view") or "auto"
    swap = c.swap_sides
    result = None
    if c.near_leg is not None:
        probe = analyze_fn(corrected_timeline(tl, c, swap=False), runner, view).to_dict()
        near = near_leg_of(probe)
        if near is None:
            raise UserError(
                "the near leg cannot be set: the analysis could not tell the legs apart (no side view)"
            )
        swap = near != c.near_leg
        result = None if swap else probe
    if result is None:
        result = analyze_fn(corrected_timeline(tl, c, swap=swap), runner, view).to_dict()
    result.setdefault("input", {})
    result["input"]["corrections"] = c.to_dict()
    result["input"]["sides_swapped"] = swap
    result["input"]["near_leg"] = near_leg_of(result)
    view_out = result.get("view") or {}
    if swap and view_out.get("facing") in ("left", "right"):
        # the engine saw the mirrored picture: the runner in the video faces the other way
        view_out["facing"] = "left" if view_out["facing"] == "right" else "right"
    previous = s.get("analysis") or {}
    if "rear" in previous:  # the rear camera's own analysis: not what these corrections are about
        result["rear"] = previous["rear"]
    aid = store.save_analysis(session_id, result, created_by=created_by, corrections=c.to_dict(), note=note)
    drawn = swap_sides(tl, mirror=False) if swap else tl
    _save_evidence(store, s, drawn, result, aid)
    return aid


def _save_evidence(
    store: Any, session: dict[str, Any], tl: Timeline, analysis: dict[str, Any], aid: int
) -> None:
    """The new analysis's evidence frames, from the recorded video when there is one, else from
    the frames already stored for this session; keypoints drawn as corrected."""
    import logging

    from device.store.video import VideoUnavailableError, open_video

    log = logging.getLogger(__name__)
    try:
        video = open_video(session)
    except VideoUnavailableError:
        video = None
    video_scale = None
    for ev in analysis.get("evidence") or []:
        try:
            frame = int(ev.get("frame", -1))
            if frame < 0 and ev.get("t") is not None:
                frame = int(tl.frame[int(np.argmin(np.abs(tl.t - float(ev["t"]))))])
            pos = video.index_of(frame) if video is not None else None
            if video is not None and pos is not None:
                jpeg, near = video.jpeg(pos), video.frames[pos]
                if video_scale is None:
                    video_scale = _jpeg_scale(jpeg, session.get("frame_width"))
                scale = video_scale
            else:
                got = store.evidence_image_at(session["id"], frame)
                if got is None:
                    continue
                jpeg, scale, near = got
            row = min(int(np.searchsorted(tl.frame, near)), len(tl) - 1)
            kp = np.concatenate([tl.xy[row] * scale, tl.score[row][:, None]], axis=1)
            meta = {k: val for k, val in ev.items() if k not in ("side", "phase", "t", "frame")}
            meta.update({"scale": scale, "requested_frame": frame})
            store.add_evidence(
                session["id"],
                ev.get("side"),
                str(ev.get("phase", "")),
                float(tl.t[row]),
                near,
                jpeg,
                kp,
                meta=meta,
                analysis_id=aid,
            )
        except Exception:
            log.exception("session %s: evidence frame %r of the re-analysis failed", session["id"], ev)


def _jpeg_scale(jpeg: bytes, frame_width: int | None) -> float:
    """Full-frame pixels → recorded JPEG pixels (the spool downsizes wide frames)."""
    import cv2

    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None or not frame_width:
        return 1.0
    return img.shape[1] / float(frame_width)
