"""Leg tracks on real-video failure modes: the two feet are followed by continuity even where the
pose model loses them for a frame, and one foot carrying both labels is not taken for two feet.

Synthetic keypoint arrays reproduce what MoveNet does on a real treadmill clip (docs/validation.md).
"""

from __future__ import annotations

import numpy as np

from device.gait.clean import repair_leg_swaps
from device.keypoints import KP, N_KEYPOINTS

LEG = 300.0  # px, hip → ankle


def _legs(n: int = 90, fps: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """A side view at ``fps``: hips still, the two legs swinging in antiphase (ankles ±0.45 leg
    fore-aft, knees half that), the left foot 20 px lower in the picture (nearer the camera)."""
    t = np.arange(n) / fps
    xy = np.full((n, N_KEYPOINTS, 2), np.nan)
    ph = 2 * np.pi * 1.4 * t
    for side, sgn, dy in (("left", 1.0, 20.0), ("right", -1.0, 0.0)):
        xy[:, KP[f"{side}_hip"]] = np.stack([np.full(n, 360.0), np.full(n, 700.0 + dy / 4)], 1)
        xy[:, KP[f"{side}_knee"]] = np.stack(
            [360.0 + sgn * 0.22 * LEG * np.sin(ph), np.full(n, 850.0 + dy / 2)], 1
        )
        ank_y = 1000.0 + dy - 0.1 * LEG * np.maximum(0.0, sgn * np.cos(ph))  # each foot lifts half the time
        xy[:, KP[f"{side}_ankle"]] = np.stack([360.0 + sgn * 0.45 * LEG * np.sin(ph), ank_y], 1)
    return xy, t


def _swap_ankles(xy: np.ndarray, rows: list[int]) -> None:
    la, ra = KP["left_ankle"], KP["right_ankle"]
    tmp = xy[rows, la].copy()
    xy[rows, la] = xy[rows, ra]
    xy[rows, ra] = tmp


def test_a_swap_right_after_a_frame_without_feet_is_repaired() -> None:
    """MoveNet loses both ankles for a frame at a foot strike and hands them back swapped: leg
    continuity must hold across that one frame (it used to be compared frame to frame only,
    so the swap was free and the near foot's track took the far foot)."""
    truth, t = _legs()
    # the ankles far apart (mid-stance / mid-swing), both lost at row 40, swapped at 41–42
    k = 40
    assert abs(truth[k, KP["left_ankle"], 0] - truth[k, KP["right_ankle"], 0]) > 0.3 * LEG
    xy = truth.copy()
    xy[k, [KP["left_ankle"], KP["right_ankle"]]] = np.nan
    _swap_ankles(xy, [k + 1, k + 2])
    fixed, runs, _frames = repair_leg_swaps(xy, t, LEG)
    la, ra = KP["left_ankle"], KP["right_ankle"]
    np.testing.assert_allclose(fixed[k + 1 : k + 3, la], truth[k + 1 : k + 3, la])
    np.testing.assert_allclose(fixed[k + 1 : k + 3, ra], truth[k + 1 : k + 3, ra])
    assert runs == 1


def test_a_longer_loss_of_the_feet_is_not_bridged() -> None:
    """Across more than one lost frame a swinging foot moves further than the feet are apart:
    continuity says nothing there, and the model's labels stand."""
    truth, t = _legs()
    xy = truth.copy()
    k = 40
    xy[k : k + 4, [KP["left_ankle"], KP["right_ankle"]]] = np.nan
    fixed, runs, _frames = repair_leg_swaps(xy, t, LEG)
    assert runs == 0
    np.testing.assert_array_equal(np.isnan(fixed), np.isnan(xy))
