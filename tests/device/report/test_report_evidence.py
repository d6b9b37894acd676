"""Evidence frames: skeleton, angle arcs and the overstride line drawn where the keypoints are."""

import cv2
import numpy as np
import pytest

from device.keypoints import KP
from device.report.evidence import OVERSTRIDE_BGR, SIDE_BGR, crop_box, draw_evidence


def _frame(w: int = 640, h: int = 480) -> bytes:
    img = np.full((h, w, 3), 90, np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def _pose() -> np.ndarray:
    """A runner facing right at landing: left leg forward (ankle ahead of the hip)."""
    kp = np.full((17, 3), np.nan)
    pts = {
        "nose": (330, 60),
        "left_eye": (335, 55),
        "right_eye": (335, 55),
        "left_ear": (320, 58),
        "right_ear": (320, 58),
        "left_shoulder": (310, 110),
        "right_shoulder": (305, 112),
        "left_elbow": (290, 160),
        "right_elbow": (330, 160),
        "left_wrist": (310, 200),
        "right_wrist": (350, 190),
        "left_hip": (300, 230),
        "right_hip": (296, 232),
        "left_knee": (350, 320),
        "right_knee": (270, 320),
        "left_ankle": (380, 410),
        "right_ankle": (220, 380),
    }
    for name, (x, y) in pts.items():
        kp[KP[name]] = (x, y, 0.9)
    return kp


def _decode(jpeg: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def _near(img: np.ndarray, x: float, y: float, bgr: tuple[int, int, int], r: int = 3, tol: int = 60) -> bool:
    patch = img[int(y) - r : int(y) + r + 1, int(x) - r : int(x) + r + 1].reshape(-1, 3).astype(int)
    return bool((np.abs(patch - np.array(bgr)).max(axis=1) < tol).any())


def test_draws_the_measured_leg_in_its_side_colour() -> None:
    kp = _pose()
    img = _decode(draw_evidence(_frame(), kp, {"knee_flexion_deg": 21.0}, "left"))
    assert img.shape == (480, 640, 3)
    hip, knee = kp[KP["left_hip"], :2], kp[KP["left_knee"], :2]
    mid = (hip + knee) / 2
    assert _near(img, *mid, SIDE_BGR["left"])
    # the other leg is drawn, but not in the measured side's colour
    other = (kp[KP["right_hip"], :2] + kp[KP["right_knee"], :2]) / 2
    assert not _near(img, *other, SIDE_BGR["left"], r=1)


def test_overstride_line_at_landing_runs_from_below_the_hip_to_the_ankle() -> None:
    kp = _pose()
    img = _decode(draw_evidence(_frame(), kp, {"overstride_cm": 12.5}, "left", phase="initial_contact"))
    hip_x = kp[KP["left_hip"], 0]
    ankle = kp[KP["left_ankle"], :2]
    assert _near(img, (hip_x + ankle[0]) / 2, ankle[1], OVERSTRIDE_BGR)
    plain = _decode(draw_evidence(_frame(), kp, {}, "left", phase="midstance"))
    assert not _near(plain, (hip_x + ankle[0]) / 2, ankle[1], OVERSTRIDE_BGR, r=1, tol=40)


def test_crop_follows_the_runner_and_scales() -> None:
    kp = _pose()
    x0, y0, x1, y1 = crop_box(kp, 640, 480)
    assert x0 <= 220 and x1 >= 380 and y0 <= 55 and y1 >= 410
    img = _decode(draw_evidence(_frame(), kp, {}, "right", crop=True, out_height=400))
    assert img.shape[0] == 400
    assert img.shape[1] < 640 * 400 / 480  # narrower than the uncropped frame at that scale


def test_unseen_keypoints_are_not_drawn_and_bad_jpeg_is_refused() -> None:
    kp = _pose()
    kp[KP["left_knee"]] = (np.nan, np.nan, 0.0)
    out = _decode(draw_evidence(_frame(), kp.tolist(), {"knee_flexion_deg": 30}, "left"))
    assert not _near(out, *kp[KP["left_hip"], :2] + (0, 45), SIDE_BGR["left"], r=1, tol=40)
    with pytest.raises(ValueError):
        draw_evidence(b"not a jpeg", kp, {}, "left")


def test_angles_are_named_as_the_metric_catalog_names_them(monkeypatch) -> None:
    """At push-off the thigh is behind the trunk line: the engine's hip flexion is negative. The
    drawing says "Hip extension 14" (positive, as "Hip extension at push-off" in the table), the
    same name and sign the caption under the frame gives (catalog.angle_reading)."""
    from device.report import catalog
    from device.report import evidence as ev

    drawn: list[str] = []
    monkeypatch.setattr(ev, "_label", lambda img, text, *a, **k: drawn.append(text))
    draw_evidence(_frame(), _pose(), {"knee_flexion": 22.5, "hip_flexion": -14.3}, "left", phase="toe_off")
    assert drawn == ["Knee bend 22", "Hip extension 14"]
    assert catalog.angle_reading("hip_flexion", -14.3) == ("Hip extension", 14.3)
    assert catalog.angle_reading("hip_flexion", 22.0) == ("Hip flexion", 22.0)
    assert catalog.angle_reading("knee_flexion", -3.0) == ("Knee bend", -3.0)  # hyperextension keeps its sign
    drawn.clear()
    draw_evidence(_frame(), _pose(), {"knee_flexion": -3.0, "hip_flexion": 22.0}, "left")
    assert drawn == ["Knee bend -3", "Hip flexion 22"]
