"""Synthetic runner figures: how fast the timeline, truth and frames are made, and how well the
real MoveNet (the station's pose stage) finds the joints on rendered frames.

Prints (medians of repeats):
  - timeline()/truth() time for 2 min at 120 fps (14,400 frames),
  - render ms/frame at 1280×720 and 640×480,
  - per keypoint: median / p90 pixel error (and in cm) and median score of MoveNet on a
    rendered side-view and rear-view clip, using ``device.pose.movenet.MoveNetEstimator``
    (smart crop, as live), with left/right leg swaps counted and forgiven.

    .venv/bin/python bench/bench_synthetic.py [--seconds 3] [--no-pose]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from device.keypoints import KP  # noqa: E402
from device.synthetic.render import RunnerRenderer  # noqa: E402
from device.synthetic.runner import RunnerParams, SyntheticRunner  # noqa: E402

MODEL = REPO.parent / "shared" / "models" / "movenet_singlepose_lightning_int8_4.tflite"
NAMES = (
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_shoulder",
    "right_shoulder",
    "nose",
    "left_wrist",
    "right_wrist",
)


def _timed(fn, repeats: int = 5) -> float:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def bench_generation() -> None:
    r = SyntheticRunner(RunnerParams(fps=120, duration_s=120, noise_px=2, dropout_prob=0.02, swaps=5))
    print(f"timeline() 14,400 frames: {_timed(r.timeline) * 1000:.1f} ms")
    print(f"clean_timeline():         {_timed(r.clean_timeline) * 1000:.1f} ms")
    print(f"truth():                  {_timed(r.truth) * 1000:.1f} ms")
    for w, h in ((1280, 720), (640, 480)):
        for view in ("side", "rear"):
            rr = RunnerRenderer(SyntheticRunner(RunnerParams(width=w, height=h, view=view)))
            canvas = np.empty((h, w, 3), np.uint8)
            ts = np.linspace(0, 2, 60)

            def run(rr=rr, canvas=canvas, ts=ts) -> None:
                for t in ts:
                    rr.render(t, out=canvas)

            print(f"render {w}x{h} {view}: {_timed(run, 3) / len(ts) * 1000:.2f} ms/frame")


def _other(name: str) -> str:
    return name.replace("left", "x").replace("right", "left").replace("x", "right")


def bench_pose(seconds: float, view: str, facing: str = "right", size=(1280, 720), fps: float = 30) -> None:
    from device.pose.movenet import MoveNetEstimator

    est = MoveNetEstimator(MODEL, num_threads=2, quiet=True)
    r = SyntheticRunner(RunnerParams(view=view, facing=facing, width=size[0], height=size[1]))
    rr = RunnerRenderer(r)
    ts = np.arange(0, seconds, 1 / fps)
    errs = {n: [] for n in NAMES}
    scores = {n: [] for n in NAMES}
    swapped = 0
    for t in ts:
        truth = r.keypoints_at(t)
        kp = est.estimate(rr.render(t))
        legs = [f"{s}_{j}" for s in ("left", "right") for j in ("knee", "ankle")]

        def leg_err(swap: bool, kp=kp, truth=truth, legs=legs) -> float:
            return sum(
                float(np.hypot(*(kp[KP[_other(n) if swap else n], :2] - truth[KP[n], :2]))) for n in legs
            )

        sw = view == "side" and leg_err(True) < leg_err(False)
        swapped += int(sw)
        for n in NAMES:
            j = KP[_other(n)] if sw and ("knee" in n or "ankle" in n) else KP[n]
            errs[n].append(float(np.hypot(*(kp[j, :2] - truth[KP[n], :2]))))
            scores[n].append(float(kp[j, 2]))
    print(
        f"\nMoveNet on rendered {view} view ({facing if view == 'side' else 'from behind'}, {size[0]}x{size[1]}, "
        f"{len(ts)} frames, {r.scale:.2f} px/cm): leg swaps {swapped}/{len(ts)}"
    )
    for n in NAMES:
        e = np.array(errs[n])
        print(
            f"  {n:15s} median {np.median(e):5.1f} px ({np.median(e) / r.scale:4.1f} cm)  "
            f"p90 {np.percentile(e, 90):5.1f} px  median score {np.median(scores[n]):.2f}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--no-pose", action="store_true")
    args = ap.parse_args()
    bench_generation()
    if not args.no_pose:
        if not MODEL.exists():
            print(f"model not found: {MODEL}")
            return 1
        bench_pose(args.seconds, "side", "right")
        bench_pose(args.seconds, "side", "left", size=(640, 480))
        bench_pose(args.seconds, "rear")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
