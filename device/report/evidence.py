"""Evidence frames: the camera frame at initial contact / midstance / toe-off with the skeleton
and what was measured drawn on it (used by the report and the dashboard).

What is drawn is what the clinician needs to trust a number: the skeleton (measured side bold,
the other side faint), the knee and hip angle as an arc with its value, and at landing the
overstride — a plumb line down from the hip and the horizontal gap to the ankle.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from device.keypoints import KEYPOINT_NAMES, KP, SKELETON_EDGES
from device.report.catalog import angle_reading
from device.report.charts import LEFT_COLOR, RIGHT_COLOR
from device.report.units import CM_PER_INCH, Units, is_number

MIN_SCORE = 0.2


def _bgr(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return (b, g, r)


SIDE_BGR = {"left": _bgr(LEFT_COLOR), "right": _bgr(RIGHT_COLOR)}
OTHER_BGR = (200, 200, 200)
OVERSTRIDE_BGR = (40, 40, 220)


def _pick(angles: dict[str, Any], prefixes: tuple[str, ...]) -> tuple[str, float] | None:
    """First numeric entry whose key starts with one of ``prefixes`` (engine key names vary by phase:
    ``knee_flexion_deg``, ``knee_flexion_ic_deg`` …)."""
    for prefix in prefixes:
        for k, v in angles.items():
            if k.startswith(prefix) and is_number(v):
                return k, float(v)
    return None


def _seen(kp: np.ndarray, i: int) -> bool:
    return bool(np.isfinite(kp[i, :2]).all() and (kp.shape[1] < 3 or kp[i, 2] >= MIN_SCORE))


def crop_box(
    kp: np.ndarray, width: int, height: int, aspect: float = 0.75, margin: float = 0.18
) -> tuple[int, int, int, int]:
    """A box (x0, y0, x1, y1) around the seen keypoints with ``margin`` of the body height on
    each side and the given width/height ``aspect``, clamped to the frame."""
    pts = np.array([kp[i, :2] for i in range(kp.shape[0]) if _seen(kp, i)], dtype=np.float64)
    if len(pts) < 3:
        return 0, 0, width, height
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    body_h = max(y1 - y0, 1.0)
    y0 -= body_h * margin
    y1 += body_h * margin * 0.8
    cx = (x0 + x1) / 2
    h = y1 - y0
    w = max(h * aspect, (x1 - x0) + 2 * body_h * margin)
    h = max(h, w / aspect)
    cy = (y0 + y1) / 2
    w, h = min(w, width), min(h, height)
    bx0 = int(round(min(max(cx - w / 2, 0), width - w)))
    by0 = int(round(min(max(cy - h / 2, 0), height - h)))
    return bx0, by0, int(round(bx0 + w)), int(round(by0 + h))


def _label(
    img: np.ndarray, text: str, org: tuple[int, int], color: tuple[int, int, int], scale: float
) -> None:
    import cv2

    font = cv2.FONT_HERSHEY_SIMPLEX
    th = max(1, int(round(scale * 2)))
    (tw, tht), base = cv2.getTextSize(text, font, scale, th)
    x = int(min(max(org[0], 2), img.shape[1] - tw - 14))
    y = int(min(max(org[1], tht + 4), img.shape[0] - base - 4))
    pad = max(2, int(3 * scale))
    cv2.rectangle(
        img, (x - pad, y - tht - pad), (x + tw + pad + int(8 * scale), y + base), (255, 255, 255), -1
    )
    cv2.rectangle(img, (x - pad, y - tht - pad), (x + tw + pad + int(8 * scale), y + base), color, 1)
    cv2.putText(img, text, (x, y), font, scale, color, th, cv2.LINE_AA)
    if text and text[-1].isdigit():  # Hershey fonts have no "°": draw it
        r = max(2, int(3 * scale))
        cv2.circle(img, (x + tw + r + 2, y - tht + r), r, color, max(1, th - 1), cv2.LINE_AA)


def _arc(
    img: np.ndarray,
    center: np.ndarray,
    d_from: np.ndarray,
    d_to: np.ndarray,
    radius: int,
    color: tuple[int, int, int],
    thickness: int,
) -> np.ndarray:
    """Draw the (shorter) arc from direction ``d_from`` to ``d_to`` around ``center``, with a
    translucent wedge; returns the unit bisector (where the label goes)."""
    import cv2

    a1 = math.degrees(math.atan2(d_from[1], d_from[0]))
    a2 = math.degrees(math.atan2(d_to[1], d_to[0]))
    diff = (a2 - a1 + 540.0) % 360.0 - 180.0
    start, end = (a1, a1 + diff) if diff >= 0 else (a1 + diff, a1)
    c = (int(round(center[0])), int(round(center[1])))
    overlay = img.copy()
    cv2.ellipse(overlay, c, (radius, radius), 0, start, end, color, -1, cv2.LINE_AA)
    cv2.addWeighted(overlay, 0.3, img, 0.7, 0, dst=img)
    cv2.ellipse(img, c, (radius, radius), 0, start, end, color, thickness, cv2.LINE_AA)
    mid = math.radians(a1 + diff / 2)
    return np.array([math.cos(mid), math.sin(mid)])


def _dashed(
    img: np.ndarray, p: np.ndarray, q: np.ndarray, color: tuple[int, int, int], thickness: int, dash: int
) -> None:
    import cv2

    length = float(np.hypot(*(q - p)))
    if length < 1:
        return
    n = max(1, int(length // (2 * dash)))
    for i in range(n + 1):
        a = p + (q - p) * min(1.0, (2 * i * dash) / length)
        b = p + (q - p) * min(1.0, (2 * i * dash + dash) / length)
        cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), color, thickness, cv2.LINE_AA)


def draw_evidence(
    jpeg: bytes,
    keypoints: np.ndarray | list,
    angles: dict[str, Any] | None,
    side: str,
    *,
    phase: str | None = None,
    crop: bool = False,
    out_height: int | None = None,
    units: str = "metric",
    quality: int = 88,
) -> bytes:
    """The evidence JPEG with skeleton and measured angles drawn.

    ``keypoints``: (17, 3) x, y, score in the JPEG's pixels; ``angles``: the analysis evidence
    entry's values (knee/hip angle in degrees, ``overstride_cm``); ``side``: the measured leg.
    ``phase``: initial_contact | midstance | toe_off (the overstride line is drawn at landing);
    ``crop``: cut the frame to the runner (3:4) and scale it to ``out_height`` pixels, so the
    drawing stays legible when printed small. Raises ValueError if the JPEG cannot be decoded."""
    import cv2

    img = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("evidence frame is not a readable JPEG")
    kp = np.array(keypoints, dtype=np.float64).reshape(17, -1)
    if kp.shape[1] == 2:
        kp = np.concatenate([kp, np.ones((17, 1))], axis=1)
    angles = angles or {}
    if crop:
        x0, y0, x1, y1 = crop_box(kp, img.shape[1], img.shape[0])
        img = img[y0:y1, x0:x1]
        kp[:, 0] -= x0
        kp[:, 1] -= y0
    if out_height and img.shape[0] != out_height:
        f = out_height / img.shape[0]
        img = cv2.resize(
            img,
            (max(1, int(round(img.shape[1] * f))), out_height),
            interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC,
        )
        kp[:, :2] *= f
    img = np.ascontiguousarray(img)
    s = max(img.shape[0], 240) / 480.0  # drawing scale: line widths and text follow the picture size
    t_main = max(2, int(round(3.5 * s)))
    t_thin = max(1, int(round(1.5 * s)))
    color = SIDE_BGR.get(side, (0, 200, 0))

    def pt(i: int) -> tuple[int, int]:
        return int(round(kp[i, 0])), int(round(kp[i, 1]))

    other = "right" if side == "left" else "left"
    for a, b in SKELETON_EDGES:
        if not (_seen(kp, a) and _seen(kp, b)):
            continue
        names = (KEYPOINT_NAMES[a], KEYPOINT_NAMES[b])
        on_side = all(n.startswith(side) for n in names)
        on_other = any(n.startswith(other) for n in names) and not any(n.startswith(side) for n in names)
        c = color if on_side else OTHER_BGR if on_other else (235, 235, 235)
        cv2.line(img, pt(a), pt(b), (0, 0, 0), (t_main if on_side else t_thin) + 2, cv2.LINE_AA)
        cv2.line(img, pt(a), pt(b), c, t_main if on_side else t_thin, cv2.LINE_AA)
    for i in range(17):
        if _seen(kp, i):
            on_side = KEYPOINT_NAMES[i].startswith(side)
            cv2.circle(
                img,
                pt(i),
                max(2, int(round((4 if on_side else 2.5) * s))),
                color if on_side else OTHER_BGR,
                -1,
                cv2.LINE_AA,
            )

    hip, knee, ankle, sho = (KP.get(f"{side}_{j}", -1) for j in ("hip", "knee", "ankle", "shoulder"))
    if min(hip, knee, ankle, sho) < 0:
        return _encode(img, quality)
    P = {
        j: kp[i, :2]
        for j, i in (("hip", hip), ("knee", knee), ("ankle", ankle), ("shoulder", sho))
        if _seen(kp, i)
    }
    radius = max(14, int(round(30 * s)))
    fscale = 0.9 * s  # evidence frames print about 3 cm wide: labels must stay readable there

    if "hip" in P and "knee" in P and "ankle" in P:
        thigh = P["knee"] - P["hip"]
        shank = P["ankle"] - P["knee"]
        if np.linalg.norm(thigh) > 1 and np.linalg.norm(shank) > 1:
            got = _pick(angles, ("knee_flexion", "knee"))
            name, value = (
                angle_reading(got[0], got[1]) if got else ("Knee bend", _angle_between(thigh, shank))
            )
            bis = _arc(img, P["knee"], thigh, shank, radius, color, t_thin)
            lab = P["knee"] + bis * (radius + 10 * s) + np.array([4 * s, 8 * s])
            _label(img, _angle_text(name, value), (int(lab[0]), int(lab[1])), color, fscale)
    if "shoulder" in P and "hip" in P and "knee" in P:
        trunk_down = P["hip"] - P["shoulder"]
        thigh = P["knee"] - P["hip"]
        if np.linalg.norm(trunk_down) > 1 and np.linalg.norm(thigh) > 1:
            _dashed(
                img,
                P["hip"],
                P["hip"] + trunk_down / np.linalg.norm(trunk_down) * radius * 1.6,
                (255, 255, 255),
                t_thin,
                max(3, int(4 * s)),
            )
            got = _pick(angles, ("hip_flexion", "hip_extension", "hip"))
            # named as the caption names it (a negative hip flexion is hip extension); without a
            # measured angle the trunk-thigh angle has no sign to tell flexion from extension
            name, value = angle_reading(got[0], got[1]) if got else ("Hip", _angle_between(trunk_down, thigh))
            bis = _arc(img, P["hip"], trunk_down, thigh, int(radius * 1.2), color, t_thin)
            lab = P["hip"] - bis * (radius * 1.2 + 10 * s) - np.array([110 * s, 0])
            _label(img, _angle_text(name, value), (int(lab[0]), int(lab[1])), color, fscale)
    over = _pick(angles, ("overstride_cm",))
    if "hip" in P and "ankle" in P and (over is not None or phase == "initial_contact"):
        hip_xy, ankle_xy = P["hip"], P["ankle"]
        foot_level = np.array([hip_xy[0], ankle_xy[1]])
        _dashed(img, hip_xy, foot_level, OVERSTRIDE_BGR, t_thin, max(3, int(5 * s)))
        cv2.line(
            img,
            tuple(int(v) for v in foot_level),
            tuple(int(v) for v in ankle_xy),
            OVERSTRIDE_BGR,
            t_main,
            cv2.LINE_AA,
        )
        if over is not None:
            v = over[1] / CM_PER_INCH if units == "imperial" else over[1]
            text = f"{v:+.1f} {'in' if units == 'imperial' else 'cm'}"
            mid = (foot_level + ankle_xy) / 2
            _label(img, text, (int(mid[0] - 30 * s), int(mid[1] + 26 * s)), OVERSTRIDE_BGR, fscale)
    return _encode(img, quality)


def _angle_text(name: str, degrees: float) -> str:
    """ "Hip extension 14": the caption's name and number (the degree sign is drawn by
    :func:`_label`; Hershey fonts have no "−")."""
    return f"{name} {Units().number(degrees, 'deg').replace('−', '-')}"


def _angle_between(d1: np.ndarray, d2: np.ndarray) -> float:
    c = float(np.dot(d1, d2) / (np.linalg.norm(d1) * np.linalg.norm(d2)))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def _encode(img: np.ndarray, quality: int) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 encodes any uint8 BGR image
        raise ValueError("could not encode the evidence frame")
    return buf.tobytes()
