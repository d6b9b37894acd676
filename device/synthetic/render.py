"""Draws the synthetic runner as camera frames: a filled humanoid on a treadmill.

What it is for: feeding the real pose model and the live pipeline without a camera. The
figure is drawn with OpenCV primitives (limb capsules as thick anti-aliased lines, a torso
polygon, a head with hair, shoes) in plausible skin and clothing colours on a plain wall with
a treadmill belt — enough for MoveNet to find the joints near where the model put them. The
background is drawn once; each frame starts from a copy of it (no per-pixel Python).
"""

from __future__ import annotations

import cv2
import numpy as np

from device.synthetic.runner import SyntheticRunner

# BGR colours
WALL = (198, 202, 206)
BELT = (48, 48, 52)
DECK = (95, 98, 104)
SKIN = (110, 150, 205)
SHIRT = (165, 90, 35)
SHORTS = (45, 40, 40)
SHOE = (230, 232, 235)
SOLE = (70, 70, 75)
HAIR = (30, 38, 55)
SOCK = (240, 240, 240)
WAISTBAND = (205, 205, 210)

_SHIFT = 4  # sub-pixel drawing: coordinates in 1/16 px
_ONE = 1 << _SHIFT


def _shade(c: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return (int(c[0] * f), int(c[1] * f), int(c[2] * f))


def _p(pt: np.ndarray) -> tuple[int, int]:
    return int(round(pt[0] * _ONE)), int(round(pt[1] * _ONE))


class RunnerRenderer:
    """Renders :class:`SyntheticRunner` frames at the runner's configured image size.

    ``render(t)`` returns a new BGR frame; ``render(t, out=canvas)`` draws into a preallocated
    canvas (the live source reuses one)."""

    def __init__(self, runner: SyntheticRunner) -> None:
        self.runner = runner
        p = runner.p
        self.size = (int(p.width), int(p.height))
        self.H = p.height_cm * runner.scale  # standing height in px
        self.background = self._background()

    def _px(self, frac: float) -> int:
        """A thickness in px for a fraction of standing height (at least 1)."""
        return max(1, int(round(frac * self.H)))

    def _background(self) -> np.ndarray:
        w, h = self.size
        r = self.runner
        img = np.empty((h, w, 3), np.uint8)
        img[:] = WALL
        g = int(round(r.ground_y_px))
        # the belt and the treadmill deck below it
        x0 = int(max(0, r.hip_x_px - 0.9 * self.H))
        x1 = int(min(w, r.hip_x_px + 0.9 * self.H))
        belt = max(2, int(0.025 * self.H))
        img[g : min(h, g + belt), x0:x1] = BELT
        img[min(h, g + belt) : min(h, g + belt + int(0.05 * self.H)), x0:x1] = DECK
        if r.p.view == "rear":
            # the belt seen from behind: a trapezoid going away from the camera
            pts = np.array(
                [
                    [r.hip_x_px - 0.22 * self.H, g + belt],
                    [r.hip_x_px + 0.22 * self.H, g + belt],
                    [r.hip_x_px + 0.16 * self.H, g - 0.05 * self.H],
                    [r.hip_x_px - 0.16 * self.H, g - 0.05 * self.H],
                ]
            )
            img[g : min(h, g + belt + int(0.05 * self.H))] = WALL
            cv2.fillPoly(img, [np.round(pts).astype(np.int32)], BELT, cv2.LINE_AA)
        return img

    # ------------------------------------------------------------------ drawing
    def _limb(self, img: np.ndarray, a: np.ndarray, b: np.ndarray, color, frac: float) -> None:
        cv2.line(img, _p(a), _p(b), color, self._px(frac), cv2.LINE_AA, _SHIFT)

    def _disc(self, img: np.ndarray, c: np.ndarray, frac: float, color) -> None:
        cv2.circle(img, _p(c), int(round(frac * self.H * _ONE)), color, -1, cv2.LINE_AA, _SHIFT)

    def _poly(self, img: np.ndarray, pts: np.ndarray, color) -> None:
        cv2.fillPoly(img, [np.round(pts * _ONE).astype(np.int32)], color, cv2.LINE_AA, _SHIFT)

    def render(self, t: float, out: np.ndarray | None = None) -> np.ndarray:
        """The frame at model time t (BGR uint8, height × width × 3)."""
        if out is None:
            out = self.background.copy()
        else:
            np.copyto(out, self.background)
        b = self.runner.body_px(t)
        if self.runner.p.view == "side":
            self._draw_side(out, b)
        else:
            self._draw_rear(out, b)
        return out

    def _leg_side(self, img: np.ndarray, b: dict, i: int, f: float) -> None:
        hip, knee, ank, toe, heel = b["hip"][i], b["knee"][i], b["ank"][i], b["toe"][i], b["heel"][i]
        self._limb(img, knee, ank, _shade(SKIN, f), 0.058)
        self._limb(img, hip, knee, _shade(SKIN, f), 0.08)
        # shorts over the upper thigh
        self._limb(img, hip, hip + 0.55 * (knee - hip), _shade(SHORTS, f), 0.09)
        self._disc(img, knee, 0.034, _shade(SKIN, f))
        # sock and shoe: a capsule from heel to toe, a sole line under it
        self._limb(img, ank + 0.35 * (knee - ank) * 0.3, ank, _shade(SOCK, f), 0.05)
        self._limb(img, heel, toe, _shade(SHOE, f), 0.045)
        self._limb(img, ank, 0.5 * (heel + toe), _shade(SHOE, f), 0.045)
        d = toe - heel
        n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6)
        if float(n @ (0.5 * (heel + toe) - ank)) < 0:  # the sole is on the side away from the ankle
            n = -n
        off = n * 0.018 * self.H
        self._limb(img, heel + off, toe + off, _shade(SOLE, f), 0.012)

    def _arm_side(self, img: np.ndarray, b: dict, i: int, f: float) -> None:
        sh, elb, wri = b["sh"][i], b["elb"][i], b["wri"][i]
        self._limb(img, sh, elb, _shade(SKIN, f), 0.048)
        self._limb(img, elb, wri, _shade(SKIN, f), 0.04)
        self._limb(img, sh, sh + 0.45 * (elb - sh), _shade(SHIRT, f), 0.058)  # sleeve
        self._disc(img, wri + 0.3 * (wri - elb), 0.026, _shade(SKIN, f))  # fist

    def _draw_side(self, img: np.ndarray, b: dict) -> None:
        r = self.runner
        near = 1 if r.p.facing == "right" else 0  # facing right: the right side is nearest
        far = 1 - near
        fwd = np.array([r.sign, 0.0])
        self._arm_side(img, b, far, 0.72)
        self._leg_side(img, b, far, 0.72)
        hip, sh = b["hip"][near], b["sh"][near]
        u = (sh - hip) / max(float(np.hypot(*(sh - hip))), 1e-6)  # up the trunk
        n = np.array([-u[1], u[0]]) if r.sign > 0 else np.array([u[1], -u[0]])  # forward
        if float(n @ fwd) < 0:
            n = -n
        H = self.H
        torso = np.array(
            [
                hip + n * 0.055 * H - u * 0.03 * H,
                sh + n * 0.06 * H - u * 0.03 * H,
                sh + n * 0.035 * H + u * 0.03 * H,
                sh - n * 0.04 * H + u * 0.03 * H,
                sh - n * 0.06 * H - u * 0.04 * H,
                hip - n * 0.075 * H,
                hip - n * 0.055 * H - u * 0.06 * H,
                hip + n * 0.03 * H - u * 0.06 * H,
            ]
        )
        self._poly(img, torso, SHIRT)
        pelvis = np.array(
            [
                hip + n * 0.058 * H + u * 0.05 * H,
                hip - n * 0.078 * H + u * 0.05 * H,
                hip - n * 0.075 * H,
                hip - n * 0.055 * H - u * 0.065 * H,
                hip + n * 0.035 * H - u * 0.065 * H,
                hip + n * 0.06 * H - u * 0.01 * H,
            ]
        )
        self._poly(img, pelvis, SHORTS)
        # neck and head
        head = b["head"]
        self._limb(img, sh + u * 0.02 * H, head - u * 0.03 * H, SKIN, 0.05)
        self._disc(img, head, 0.062, SKIN)
        # hair over the back and top of the skull
        hc = head - fwd * 0.012 * H + np.array([0, -0.01 * H])
        ang = 180.0 if r.sign > 0 else 0.0
        cv2.ellipse(
            img, _p(hc), (int(0.06 * H * _ONE), int(0.058 * H * _ONE)), ang, -30 if r.sign > 0 else 30,
            150 if r.sign > 0 else -150, HAIR, -1, cv2.LINE_AA, _SHIFT,
        )  # fmt: skip
        self._disc(img, b["nose"], 0.012, _shade(SKIN, 0.92))
        self._disc(img, b["eye"][near], 0.006, (40, 40, 40))
        self._disc(img, b["ear"][near], 0.012, _shade(SKIN, 0.85))
        self._leg_side(img, b, near, 1.0)
        self._arm_side(img, b, near, 1.0)

    def _draw_rear(self, img: np.ndarray, b: dict) -> None:
        H = self.H
        hip, knee, ank = b["hip"], b["knee"], b["ank"]
        sh, elb, wri = b["sh"], b["elb"], b["wri"]
        for i in (0, 1):
            self._limb(img, sh[i], elb[i], SKIN, 0.048)
            self._limb(img, elb[i], wri[i], SKIN, 0.04)
            self._limb(img, sh[i], sh[i] + 0.45 * (elb[i] - sh[i]), SHIRT, 0.058)
            self._disc(img, wri[i] + 0.25 * (wri[i] - elb[i]), 0.026, SKIN)
        for i in (0, 1):
            out = -1.0 if i == 0 else 1.0
            self._limb(img, knee[i], ank[i], SKIN, 0.058)
            self._limb(img, hip[i] + np.array([out * 0.012 * H, 0]), knee[i], SKIN, 0.08)
            self._limb(img, hip[i], hip[i] + 0.5 * (knee[i] - hip[i]), SHORTS, 0.095)
            self._disc(img, knee[i], 0.034, SKIN)
            # shoe from behind: the heel counter and sole below the ankle
            sole = ank[i] + np.array([0.0, 0.036 * H])
            self._limb(img, ank[i] - np.array([0, 0.01 * H]), ank[i], SOCK, 0.05)
            self._limb(img, ank[i] + np.array([0, 0.01 * H]), sole, SHOE, 0.05)
            self._limb(img, sole + np.array([-0.02 * H, 0]), sole + np.array([0.02 * H, 0]), SOLE, 0.012)
        mid_h = hip.mean(axis=0)
        mid_s = sh.mean(axis=0)
        torso = np.array(
            [
                sh[0] + np.array([-0.025 * H, 0.01 * H]),
                sh[0] + np.array([0.0, -0.025 * H]),
                sh[1] + np.array([0.0, -0.025 * H]),
                sh[1] + np.array([0.025 * H, 0.01 * H]),
                mid_h + (hip[1] - mid_h) * 1.75 + np.array([0, -0.06 * H]),
                mid_h + (hip[1] - mid_h) * 1.75 + np.array([0, 0.0]),
                mid_h + (hip[0] - mid_h) * 1.75 + np.array([0, 0.0]),
                mid_h + (hip[0] - mid_h) * 1.75 + np.array([0, -0.06 * H]),
            ]
        )
        self._poly(img, torso, SHIRT)
        # pelvis from behind, in the hip line's own frame so that its tilt (pelvic drop) shows
        # in the waistband, the buttocks and the hems: e runs left→right hip, n points down
        e = (hip[1] - hip[0]) / max(float(np.hypot(*(hip[1] - hip[0]))), 1e-6)
        n = np.array([-e[1], e[0]])
        half = 0.5 * float(np.hypot(*(hip[1] - hip[0])))
        w = half + 0.05 * H
        shorts = np.array(
            [
                mid_h - e * w - n * 0.06 * H,
                mid_h + e * w - n * 0.06 * H,
                mid_h + e * (w + 0.005 * H) + n * 0.05 * H,
                mid_h + n * 0.085 * H,
                mid_h - e * (w + 0.005 * H) + n * 0.05 * H,
            ]
        )
        self._poly(img, shorts, SHORTS)
        ang = float(np.degrees(np.arctan2(e[1], e[0])))
        for i, side in ((0, -1.0), (1, 1.0)):
            c = hip[i] + n * 0.03 * H - e * side * 0.012 * H
            axes = (int(0.062 * H * _ONE), int(0.058 * H * _ONE))
            cv2.ellipse(img, _p(c), axes, ang, 0, 360, _shade(SHORTS, 1.35), -1, cv2.LINE_AA, _SHIFT)
            cv2.ellipse(
                img, _p(c), axes, ang, 0, 360, _shade(SHORTS, 0.6), self._px(0.004), cv2.LINE_AA, _SHIFT
            )
        self._limb(img, mid_h - e * w - n * 0.055 * H, mid_h + e * w - n * 0.055 * H, WAISTBAND, 0.014)
        head = b["ear"].mean(axis=0)
        self._limb(img, mid_s - np.array([0, 0.01 * H]), head + np.array([0, 0.04 * H]), SKIN, 0.05)
        self._disc(img, b["ear"][0], 0.014, _shade(SKIN, 0.9))
        self._disc(img, b["ear"][1], 0.014, _shade(SKIN, 0.9))
        self._disc(img, head, 0.058, HAIR)
