"""Which leg is which in a side view, without trusting the pose model's left/right labels.

The two legs are followed as two *tracks* (the pose model's labels after the swap repair of
:mod:`.clean`, which follows each leg by continuity; contacts must then alternate between the
tracks, :func:`device.gait.events.enforce_alternation`). Which track is the leg *near* the
camera is decided from evidence that holds in real video:

- perspective: the camera stands above belt level, so the near foot's contact line (the ankle's
  height when flat on the belt) is lower in the image; and the near leg, closer to the lens,
  is longer in the picture;
- scores: the near leg is seen better (far-leg keypoints are occluded, low-scored).

A cue is *strong* (the near foot's contact line ≥ 6 % of leg length lower, the near leg ≥ 10 %
longer, or its knee/ankle scores ≥ 0.08 higher) or *weak* (1.5 % lower, 4 % longer): anatomy
alone (one ankle centre a little higher, one leg a little longer) gives weak differences, a
camera above the belt strong ones. Strong cues must agree (weak ones then only support); with no
strong cue, at least two weak ones must agree; anything else leaves the near track undecided. Which of
the runner's sides faces the camera comes from the station's setting (``[camera]
side_of_treadmill``: the side of the treadmill the camera stands on, as the runner on it sees
it) or, with "auto", from the detected facing (facing image-right shows the right side, unless
the picture is mirrored). A setting that contradicts the facing leaves the side undecided: a
side is reported as unknown, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from device.gait.clean import LEG_POINTS
from device.keypoints import KP

#: The near foot's contact line lower by this much (÷ leg length; and by 3 standard errors):
#: weak, strong.
FLOOR_DIFF_FRAC = (0.015, 0.06)
LENGTH_RATIO = (1.04, 1.10)  # near leg longer in the picture: weak, strong
MIN_SCORE_DIFF = 0.08  # median per-frame knee+ankle score difference (strong)


@dataclass
class SideDecision:
    near_side: str | None  # the runner's side facing the camera
    near_track: str | None  # which pose-model label ("left"/"right") is the near leg
    method: str  # short: "config+perspective", "facing+scores", …
    cues: dict[str, str | None] = field(default_factory=dict)  # cue → near track it points to
    warnings: list[str] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        return self.near_side is not None and self.near_track is not None

    @property
    def swap(self) -> bool:
        """The pose model's labels are the other way round from the runner's sides."""
        return self.decided and self.near_track != self.near_side


Cue = tuple[str, bool] | None  # (near track, strong)


def floor_cue(floors: dict[str, list[float]], leg_px: float) -> Cue:
    """The track whose stance floors (ankle height, up +) are lower, or None."""
    a, b = np.asarray(floors.get("left", []), float), np.asarray(floors.get("right", []), float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 3 or b.size < 3:
        return None
    d = float(np.median(a) - np.median(b))  # < 0: left lower in the image
    se = float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
    if abs(d) < max(3.0 * se, FLOOR_DIFF_FRAC[0] * leg_px):
        return None
    return ("left" if d < 0 else "right"), abs(d) >= FLOOR_DIFF_FRAC[1] * leg_px


def length_cue(xy: np.ndarray) -> Cue:
    """The track whose leg (hip→knee + knee→ankle, median) is longer, or None."""
    lens = {}
    for side, (h, k, a) in LEG_POINTS.items():
        seg = np.linalg.norm(xy[:, h] - xy[:, k], axis=1) + np.linalg.norm(xy[:, k] - xy[:, a], axis=1)
        seg = seg[np.isfinite(seg)]
        if seg.size < 10:
            return None
        lens[side] = float(np.median(seg))
    r = lens["left"] / lens["right"]
    big = max(r, 1.0 / r)
    if big < LENGTH_RATIO[0]:
        return None
    return ("left" if r > 1.0 else "right"), big >= LENGTH_RATIO[1]


def score_cue(score: np.ndarray) -> Cue:
    d = score[:, [KP["right_knee"], KP["right_ankle"]]].mean(1) - score[
        :, [KP["left_knee"], KP["left_ankle"]]
    ].mean(1)
    med = float(np.median(d)) if d.size else 0.0
    if abs(med) < MIN_SCORE_DIFF:
        return None
    return ("right" if med > 0 else "left"), True


def decide(
    facing: str | None,
    camera_side: str,
    floors: dict[str, list[float]],
    leg_px: float,
    xy: np.ndarray,
    score: np.ndarray,
) -> SideDecision:
    """``camera_side``: "left" | "right" | "auto" (the setting); ``floors``: per track, the
    stance floors; ``xy``/``score``: the cleaned input rows (for leg lengths and scores)."""
    warnings: list[str] = []
    from_facing = facing  # facing image-right shows the right side (unmirrored)
    near_side: str | None
    if camera_side in ("left", "right"):
        near_side = camera_side
        how = "config"
        if from_facing is not None and from_facing != camera_side:
            warnings.append(
                f"the camera is set to stand on the runner's {camera_side} but the runner faces image-"
                f"{facing} (that shows the {from_facing} side): the picture is mirrored or the "
                "setting is wrong — left/right not reported"
            )
            near_side = None
    else:
        near_side = from_facing
        how = "facing"
    raw = {"perspective": floor_cue(floors, leg_px), "length": length_cue(xy), "scores": score_cue(score)}
    cues = {k: (None if v is None else v[0] + (" (strong)" if v[1] else " (weak)")) for k, v in raw.items()}
    strong = {k: v[0] for k, v in raw.items() if v is not None and v[1]}
    weak = {k: v[0] for k, v in raw.items() if v is not None and not v[1]}
    near_track = None
    method = how
    if strong and len(set(strong.values())) == 1:
        near_track = next(iter(strong.values()))
        used = [k for k in ("perspective", "length", "scores") if k in strong or weak.get(k) == near_track]
    elif not strong and len(weak) >= 2 and len(set(weak.values())) == 1:
        near_track = next(iter(weak.values()))
        used = list(weak)
    if near_track is not None:
        method = how + "+" + "+".join(used)
    else:
        shown = ", ".join(f"{k} says {v}" for k, v in cues.items() if v is not None) or "no cue"
        warnings.append(f"which leg is near the camera could not be told ({shown}): left/right not reported")
    if near_side is None:
        near_track = None
    return SideDecision(
        near_side, near_track, method if near_side and near_track else "undecided", cues, warnings
    )
