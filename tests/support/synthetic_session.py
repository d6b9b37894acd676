"""A full synthetic session for report tests and the report benchmark: the real gait engine's
analysis of H3's synthetic runner, plus camera-like evidence frames rendered from the runner's
keypoints at the evidence times (a simple mannequin on a treadmill, JPEG-encoded)."""

from __future__ import annotations

from typing import Any

import numpy as np

from device.keypoints import KP
from device.norms_file import load_norms

NAME = "Sam Synthetic"


def _frame(kp: np.ndarray, width: int, height: int) -> bytes:
    import cv2

    img = np.empty((height, width, 3), np.uint8)
    img[:] = np.linspace(215, 160, height, dtype=np.uint8)[:, None, None]  # studio wall
    belt_y = int(np.nanmax(kp[[KP["left_ankle"], KP["right_ankle"]], 1]) + 0.03 * height)
    cv2.rectangle(img, (0, belt_y), (width, height), (60, 60, 60), -1)  # treadmill belt
    limbs = [("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")]
    for side, shade in (("right", (120, 95, 80)), ("left", (150, 120, 100))):  # far side first, darker
        for a, b in limbs:
            p, q = kp[KP[f"{side}_{a}"], :2], kp[KP[f"{side}_{b}"], :2]
            if np.isfinite(p).all() and np.isfinite(q).all():
                cv2.line(
                    img,
                    tuple(int(v) for v in p),
                    tuple(int(v) for v in q),
                    shade,
                    int(0.022 * height),
                    cv2.LINE_AA,
                )
    sh = (kp[KP["left_shoulder"], :2] + kp[KP["right_shoulder"], :2]) / 2
    hp = (kp[KP["left_hip"], :2] + kp[KP["right_hip"], :2]) / 2
    cv2.line(
        img,
        tuple(int(v) for v in sh),
        tuple(int(v) for v in hp),
        (70, 90, 170),
        int(0.06 * height),
        cv2.LINE_AA,
    )
    head = kp[KP["left_ear"], :2]
    if np.isfinite(head).all():
        cv2.circle(img, tuple(int(v) for v in head), int(0.035 * height), (140, 160, 200), -1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return buf.tobytes()


def synthetic_session(
    duration_s: float = 30.0, **params: Any
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """(session dict as Store.get_session returns it, evidence [(meta, jpeg)]) from the engine."""
    from device.gait import analyze
    from device.gait.types import RunnerInfo
    from device.synthetic.runner import RunnerParams, SyntheticRunner

    defaults: dict[str, Any] = {
        "cadence_spm": 158.0,
        "overstride_cm": 16.0,
        "noise_px": 1.5,
        "height_cm": 178.0,
        "speed_kmh": 11.0,
        "duration_s": duration_s,
    }
    defaults.update(params)
    p = RunnerParams(**defaults)
    runner = SyntheticRunner(p)
    analysis = analyze(
        runner.timeline(), RunnerInfo(height_cm=p.height_cm, speed_kmh=p.speed_kmh), norms=load_norms()
    ).to_dict()
    evidence = []
    for i, e in enumerate(analysis["evidence"]):
        kp = np.asarray(runner.keypoints_at(float(e["t"])), dtype=np.float64).reshape(17, 3)
        meta = {
            "id": i + 1,
            "session_id": 3,
            "side": e["side"],
            "phase": e["phase"],
            "t": e["t"],
            "frame": e.get("frame"),
            "camera": "main",
            "keypoints": kp.tolist(),
            "meta": {},
        }
        evidence.append((meta, _frame(kp, p.width, p.height)))
    session = {
        "id": 3,
        "runner_id": 1,
        "runner": {"id": 1, "name": NAME, "height_cm": p.height_cm, "notes": ""},
        "status": "done",
        "started_at": "2026-11-21T15:04:00+00:00",
        "ended_at": "2026-11-21T15:06:00+00:00",
        "speed_kmh": p.speed_kmh,
        "incline_pct": 1.0,
        "shoes": "Test shoe 2",
        "notes": "",
        "view": "side",
        "source": "synthetic",
        "settings": {},
        "analysis": analysis,
        "error": None,
    }
    return session, evidence
