"""When the feet count as out of the frame, or in it but unseen: one rule for the live hint and
the analysis.

From the side the far ankle is hidden behind the near leg for part of every stride (the
synthetic runner's far ankle: ~20 % of frames, MoveNet on the labelled clip alike). That is the
view working, not a framing fault, and "move the camera back" would not change it; so the feet
are a problem only when both ankles are often unseen, the better-seen one included, or an ankle
sits at the bottom edge of the picture.

Then, which problem: an ankle the pose model does not see may be below the picture, or in it
and not made out (a dark or noisy picture, motion blur, dark shoes on a dark belt). The knee
tells: seen, one shank length below it puts the foot inside or outside the picture. The
labelled clip made dark, noisy or blurred lost 19–39 % of its ankles with the knee seen in
57–97 % of those frames, every one of them putting the foot inside the picture; moving the
camera would not have helped.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

ANKLES_SEEN_MIN = 0.7  # both ankles pooled
BEST_ANKLE_SEEN_MIN = 0.85  # the better-seen ankle (the near one, in a side view)
AT_EDGE_MAX = 0.1  # frames with an ankle in the bottom 3 % of the picture
EDGE_OF_HEIGHT = 0.97
#: The top 3 % of the picture: a shoulder there is one the pose model could not see (the
#: labelled clip cut just below the nose put a shoulder in it in 21–38 % of the frames that
#: showed one; upright and whole, it never did)
TOP_EDGE_OF_HEIGHT = 1.0 - EDGE_OF_HEIGHT
KNEE_SEEN_MIN = 0.5  # of the frames without an ankle: the knee must be seen in this many ...
INSIDE_MIN = 0.9  # ... and put the foot inside the picture in this many of those


class FeetProblem(StrEnum):
    """What is wrong with the feet in the picture (the engine's issue codes, the live hints')."""

    OUT_OF_FRAME = "feet_out_of_frame"
    UNSEEN = "feet_unseen"


def feet_out_of_frame(ankle_seen: tuple[float, float], at_edge: float) -> bool:
    """``ankle_seen``: the fraction of frames each ankle is seen in (frames with a body);
    ``at_edge``: the fraction of frames with a seen ankle below :data:`EDGE_OF_HEIGHT` of the
    picture's height."""
    pooled = (ankle_seen[0] + ankle_seen[1]) / 2
    return (pooled < ANKLES_SEEN_MIN and max(ankle_seen) < BEST_ANKLE_SEEN_MIN) or at_edge > AT_EDGE_MAX


def upper_body_out_of_frame(shoulders_at_top: float) -> bool:
    """``shoulders_at_top``: the fraction of frames with a seen shoulder that have one in the
    picture's top 3 % (:data:`TOP_EDGE_OF_HEIGHT`): as often as for the feet's bottom edge, the
    runner is not whole in the picture, and the pose model's guesses at what it cannot see made
    the detected body jump (read before as "two people in view")."""
    return shoulders_at_top > AT_EDGE_MAX


def unseen_feet_inside(ankle: np.ndarray, knee: np.ndarray, height: float) -> tuple[float, float]:
    """Of the frames without an ankle (``ankle``, ``knee``: (frames, 2 legs, xy) image pixels,
    NaN where unseen): the share with the knee seen, and the share of those whose knee puts the
    foot inside the picture: one shank length below it (the median knee–ankle distance of the
    frames with both; the whole length, as if the shank were upright, so a foot that might be
    below the picture counts as below it). (0, 0) when that cannot be told."""
    ankle_y, knee_y = ankle[..., 1], knee[..., 1]
    both = np.isfinite(ankle_y) & np.isfinite(knee_y)
    lost = ~np.isfinite(ankle_y)
    if not lost.any() or both.sum() < 10:
        return 0.0, 0.0
    length = np.linalg.norm(ankle - knee, axis=-1)
    shank_px = np.array([np.median(length[both[:, i], i]) if both[:, i].any() else np.nan for i in range(2)])
    with_knee = lost & np.isfinite(knee_y)
    if not with_knee.any():
        return 0.0, 0.0
    with np.errstate(invalid="ignore"):
        inside = (knee_y + shank_px) < EDGE_OF_HEIGHT * height
    return float(with_knee.sum() / lost.sum()), float(inside[with_knee].mean())


def feet_problem(
    ankle_seen: tuple[float, float], at_edge: float, unseen_inside: tuple[float, float]
) -> FeetProblem | None:
    """The one verdict on the feet: out of the frame, unseen in it, or fine (None).
    ``unseen_inside``: :func:`unseen_feet_inside`."""
    if not feet_out_of_frame(ankle_seen, at_edge):
        return None
    knee_seen, inside = unseen_inside
    if at_edge <= AT_EDGE_MAX and knee_seen >= KNEE_SEEN_MIN and inside >= INSIDE_MIN:
        return FeetProblem.UNSEEN
    return FeetProblem.OUT_OF_FRAME
