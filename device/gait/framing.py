"""When the feet count as out of the frame: one rule for the live hint and the analysis.

From the side the far ankle is hidden behind the near leg for part of every stride (the
synthetic runner's far ankle: ~20 % of frames, MoveNet on the labelled clip alike). That is the
view working, not a framing fault, and "move the camera back" would not change it; so the feet
are out of the frame only when both ankles are often unseen, the better-seen one included, or
an ankle sits at the bottom edge of the picture.
"""

from __future__ import annotations

ANKLES_SEEN_MIN = 0.7  # both ankles pooled
BEST_ANKLE_SEEN_MIN = 0.85  # the better-seen ankle (the near one, in a side view)
AT_EDGE_MAX = 0.1  # frames with an ankle in the bottom 3 % of the picture
EDGE_OF_HEIGHT = 0.97


def feet_out_of_frame(ankle_seen: tuple[float, float], at_edge: float) -> bool:
    """``ankle_seen``: the fraction of frames each ankle is seen in (frames with a body);
    ``at_edge``: the fraction of frames with a seen ankle below :data:`EDGE_OF_HEIGHT` of the
    picture's height."""
    pooled = (ankle_seen[0] + ankle_seen[1]) / 2
    return (pooled < ANKLES_SEEN_MIN and max(ankle_seen) < BEST_ANKLE_SEEN_MIN) or at_edge > AT_EDGE_MAX
