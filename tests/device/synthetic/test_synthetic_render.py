"""The rendered runner: right size, quick, and the real MoveNet finds the joints where the
model put them."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from device.keypoints import KP
from device.synthetic.render import RunnerRenderer
from device.synthetic.runner import RunnerParams, SyntheticRunner
from tests.support.timing import scaled

LEGS = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def _movenet(model_path: Path):
    """A bare MoveNet call on a square crop around the runner (independent of device.pose)."""
    import cv2
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model_path), num_threads=1)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    size = int(inp["shape"][1])

    def run(img: np.ndarray, around: np.ndarray) -> np.ndarray:
        cx, cy = around[[KP["left_hip"], KP["right_hip"]], :2].mean(axis=0)
        half = 1.25 * max(np.abs(around[:, 0] - cx).max(), np.abs(around[:, 1] - cy).max())
        x0, y0, side = cx - half, cy - half, 2 * half
        m = np.array([[size / side, 0, -x0 * size / side], [0, size / side, -y0 * size / side]])
        crop = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_AREA)
        it.set_tensor(inp["index"], cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)[None].astype(inp["dtype"]))
        it.invoke()
        yxs = it.get_tensor(out["index"]).reshape(17, 3)
        return np.stack([x0 + yxs[:, 1] * side, y0 + yxs[:, 0] * side, yxs[:, 2]], axis=1)

    return run


@pytest.mark.parametrize("view", ["side", "rear"])
def test_render_size_and_speed(view: str) -> None:
    r = SyntheticRunner(RunnerParams(view=view, width=640, height=360))
    rr = RunnerRenderer(r)
    img = rr.render(0.3)
    assert img.shape == (360, 640, 3) and img.dtype == np.uint8
    # the runner is drawn: plenty of non-background pixels around the hips, none far away
    diff = np.any(img != rr.background, axis=2)
    assert diff.sum() > 0.02 * diff.size
    canvas = np.empty_like(img)
    t0 = time.perf_counter()
    for t in np.linspace(0, 1, 20):
        assert rr.render(t, out=canvas) is canvas
    per_frame = (time.perf_counter() - t0) / 20
    assert per_frame < scaled(0.05)  # generous on a shared box; bench/bench_synthetic.py reports it
    # frames change with time (the runner moves)
    assert np.any(rr.render(0.0) != rr.render(0.15))


@pytest.mark.parametrize("facing", ["right", "left"])
def test_movenet_finds_the_legs_in_side_view(model_path: Path, facing: str) -> None:
    run = _movenet(model_path)
    r = SyntheticRunner(RunnerParams(facing=facing, width=960, height=540))
    rr = RunnerRenderer(r)
    ts = r.p.first_contact_s + np.linspace(0, r.T, 8, endpoint=False)
    errs = {k: [] for k in LEGS}
    scores = {k: [] for k in LEGS}
    for t in ts:
        truth = r.keypoints_at(t)
        kp = run(rr.render(t), truth)
        for name in LEGS:
            i = KP[name]
            other = KP[name.replace("left", "x").replace("right", "left").replace("x", "right")]
            # pose models swap the legs in side views; count the nearer label
            e = min(np.hypot(*(kp[i, :2] - truth[i, :2])), np.hypot(*(kp[other, :2] - truth[i, :2])))
            errs[name].append(e)
            scores[name].append(kp[i, 2])
    cm = r.scale  # px per cm
    for name in LEGS:
        assert np.median(errs[name]) < 6 * cm, (name, np.median(errs[name]) / cm)
        assert np.median(scores[name]) > 0.3, (name, np.median(scores[name]))


def test_movenet_finds_hips_in_rear_view(model_path: Path) -> None:
    run = _movenet(model_path)
    r = SyntheticRunner(RunnerParams(view="rear", width=960, height=540))
    rr = RunnerRenderer(r)
    errs = []
    for t in r.p.first_contact_s + np.linspace(0, r.T, 6, endpoint=False):
        truth = r.keypoints_at(t)
        kp = run(rr.render(t), truth)
        for name in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"):
            i = KP[name]
            errs.append(np.hypot(*(kp[i, :2] - truth[i, :2])))
            assert kp[i, 2] > 0.5
            # left stays left from behind (image left = runner's left)
        assert kp[KP["left_hip"], 0] < kp[KP["right_hip"], 0]
    assert np.median(errs) < 5 * r.scale
