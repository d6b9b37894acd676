"""LiveCadence (incremental, per frame) and the clinic's norms file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from device.errors import ConfigError
from device.gait.live import HINT_WORDS, Hint, LiveCadence, merge_hints
from device.gait.metric_ids import ALL_METRICS
from device.keypoints import KP
from device.norms_file import DEFAULT_PATH, load_norms
from device.synthetic.runner import RunnerParams, SyntheticRunner


def _feed(lc: LiveCadence, tl) -> None:
    kp = np.concatenate([tl.xy, tl.score[..., None]], axis=2)
    for i in range(len(tl)):
        lc.update(float(tl.t[i]), kp[i])


@pytest.mark.parametrize(
    ("fps", "view", "cadence"), [(30, "side", 170), (15, "side", 180), (60, "rear", 165), (120, "side", 150)]
)
def test_live_cadence_tracks_the_runner(fps: int, view: str, cadence: float) -> None:
    p = RunnerParams(
        fps=fps,
        view=view,
        cadence_spm=cadence,
        contact_time_ms=250 if cadence > 160 else 300,
        duration_s=20,
        noise_px=2,
        swaps=5,
        dropout_prob=0.01,
        seed=1,
    )
    tl = SyntheticRunner(p).timeline()
    lc = LiveCadence()
    _feed(lc, tl)
    assert lc.cadence_spm is not None and abs(lc.cadence_spm - cadence) / cadence < 0.02
    expected_strides = p.duration_s * cadence / 120
    assert 0.8 * expected_strides <= lc.strides <= expected_strides + 1
    assert lc.hints() == []


def test_live_cadence_memory_does_not_grow() -> None:
    p = RunnerParams(fps=30, duration_s=30, noise_px=1)
    tl = SyntheticRunner(p).timeline()
    lc = LiveCadence()
    _feed(lc, tl.window(None, 5.0))
    sizes = {k: v.nbytes for k, v in vars(lc).items() if isinstance(v, np.ndarray)}
    _feed(lc, tl.window(5.01, None))
    assert sizes == {k: v.nbytes for k, v in vars(lc).items() if isinstance(v, np.ndarray)}


def test_live_hints_runner_missing_and_no_steady_steps() -> None:
    p = RunnerParams(fps=30, duration_s=8)
    tl = SyntheticRunner(p).timeline()
    lc = LiveCadence()
    kp = np.concatenate([tl.xy, tl.score[..., None]], axis=2)
    kp[:, 15:17, 2] = 0.0  # ankles unseen: no steps to count
    for i in range(len(tl)):
        lc.update(float(tl.t[i]), kp[i])
    # how the runner is framed is the live view's to say (tests/device/capture/test_capture_live_hints.py)
    assert lc.hints() == [Hint.NO_STEADY_STEPS]
    assert lc.cadence_spm is None
    lc2 = LiveCadence()
    for i in range(80):
        lc2.update(i / 30, np.zeros((17, 3)))
    assert lc2.hints() == [Hint.NO_RUNNER]


def test_merged_hints_name_each_problem_once_and_no_runner_alone() -> None:
    # the live view and the live cadence both see the runner missing: one hint, not two
    assert merge_hints([Hint.NO_RUNNER], [Hint.NO_RUNNER]) == [Hint.NO_RUNNER]
    assert merge_hints([Hint.NO_RUNNER, Hint.HEAD_OUT_OF_FRAME], [Hint.FEET_OUT_OF_FRAME]) == [Hint.NO_RUNNER]
    both = merge_hints(
        [Hint.RUNNER_SMALL, Hint.FEET_OUT_OF_FRAME], [Hint.FEET_OUT_OF_FRAME, Hint.RUNNER_SMALL]
    )
    assert both == [Hint.FEET_OUT_OF_FRAME, Hint.RUNNER_SMALL]  # the table's order: feet first
    # a turned camera garbles the body the other hints would describe (the live cadence's own
    # "no steady steps" included)
    assert merge_hints([Hint.CAMERA_TURNED], [Hint.NO_STEADY_STEPS]) == [Hint.CAMERA_TURNED]
    assert merge_hints([Hint.CAMERA_TURNED], [Hint.NO_RUNNER]) == [Hint.NO_RUNNER]
    assert merge_hints([], []) == []
    assert set(HINT_WORDS) == set(Hint)  # every code has its words


def test_live_cadence_ignores_repeated_timestamps() -> None:
    lc = LiveCadence()
    kp = np.zeros((17, 3))
    lc.update(1.0, kp)
    lc.update(1.0, kp)
    lc.update(0.5, kp)
    assert lc.steps == 0 and lc.cadence_spm is None


def test_default_norms_load_and_cover_the_key_metrics() -> None:
    n = load_norms()
    assert n.path == str(DEFAULT_PATH)
    for mid in (
        "cadence_spm",
        "overstride_cm",
        "knee_flexion_ic_deg",
        "vertical_oscillation_cm",
        "pelvic_drop_deg",
        "contact_time_ms",
    ):
        r = n.get(mid)
        assert r is not None and r.source, mid
    assert n.get("cadence_spm").flag(150) == "low"
    assert n.get("cadence_spm").flag(175) is None
    assert set(n.ranges) <= set(ALL_METRICS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[metrics.cadence_spm]\nlow = 'fast'\nsource = 'x'\n", "must be a number"),
        ("[metrics.cadence_spm]\nlow = 180\nhigh = 160\nsource = 'x'\n", "must be below"),
        ("[metrics.cadense_spm]\nlow = 160\nsource = 'x'\n", "unknown metric id"),
        ("[metrics.cadence_spm]\nlow = 160\n", "say where the range comes from"),
        ("[metrics.cadence_spm]\nlow = 160\nsource = 'x'\ncolour = 'red'\n", "unknown key"),
        ("metrics = 3\n", "needs a [metrics"),
        ("[metrics.cadence_spm\n", "not valid TOML"),
    ],
)
def test_bad_norms_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "norms.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_norms(f)


def test_missing_norms_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_norms(tmp_path / "nope.toml")


def test_clinic_norms_change_flags(tmp_path: Path) -> None:
    from device.gait import analyze
    from device.gait.types import RunnerInfo

    f = tmp_path / "norms.toml"
    f.write_text(
        "[metrics.cadence_spm]\nlow = 175\nsource = 'our clinic'\nflag_low = 'below our 175 target'\n",
        encoding="utf-8",
    )
    tl = SyntheticRunner(RunnerParams(fps=30, duration_s=25)).timeline()  # findings need 20 s
    a = analyze(tl, RunnerInfo(175, 10), norms=load_norms(f))
    m = a.metrics["cadence_spm"]
    assert m.flag == "low" and m.normal == (175.0, None)
    assert any("below our 175 target" in c["cue"] for c in a.cues)
    assert a.metrics["overstride_cm"].normal is None  # not in this clinic's file


def _ankle_frames(step_times: list[float], fps: float = 60.0) -> list[tuple[float, np.ndarray]]:
    """Frames (t, keypoints) of a runner seen whole whose ankles swing fore and aft in turn, the
    distance between them peaking once at each of ``step_times`` (what LiveCadence counts as a
    step; the swing's phase moves half a cycle a step), from 1 s before the first to 1 s after
    the last."""
    steps = np.asarray(step_times, float)
    frames = []
    for i in range(int((step_times[-1] + 1.0) * fps)):
        t = i / fps
        # half a swing cycle per step, carried on at the first and last steps' pace outside them
        k = float(np.interp(t, steps, np.arange(steps.size)))
        if t < steps[0]:
            k = (t - steps[0]) / (steps[1] - steps[0])
        elif t > steps[-1]:
            k = steps.size - 1 + (t - steps[-1]) / (steps[-1] - steps[-2])
        x = 100.0 * math.cos(math.pi * k)  # ± ahead of the hips: the legs a step apart at each step
        kp = np.zeros((17, 3))
        for name in ("left_hip", "right_hip"):
            kp[KP[name]] = (300, 250, 0.9)
        for name in ("left_shoulder", "right_shoulder"):
            kp[KP[name]] = (300, 150, 0.9)
        kp[KP["left_ankle"]] = (300 + x, 400, 0.9)
        kp[KP["right_ankle"]] = (300 - x, 400, 0.9)
        frames.append((t, kp))
    return frames


def _steps_at(intervals: list[float]) -> list[float]:
    return [1.0 + sum(intervals[:k]) for k in range(len(intervals) + 1)]


def test_live_cadence_counts_steps_fed_one_frame_at_a_time() -> None:
    lc = LiveCadence()
    for t, kp in _ankle_frames(_steps_at([0.4] * 12)):
        lc.update(t, kp)
    # the 13 steps, and the 2 + 2 of the second before and after them at the same pace
    assert lc.steps == 17 and lc.strides == 8
    assert lc.cadence_spm == pytest.approx(150.0, abs=0.5)


def test_live_cadence_when_step_intervals_disagree_is_the_swings_not_nan() -> None:
    """Step intervals alternating 0.3 s / 0.6 s give the step peaks no typical interval (a mean
    of none would warn and give NaN); the stride is regular (0.9 s), so the ankles' swing gives
    the mean step rate, and that is what is shown."""
    import warnings

    lc = LiveCadence()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t, kp in _ankle_frames(_steps_at([0.3, 0.6] * 6)):
            lc.update(t, kp)
        steps = lc._steps_cadence()
        assert steps is None or abs(steps - 120 / 0.9) > 0.06 * 120 / 0.9  # the steps' own is off
        assert lc.cadence_spm == pytest.approx(120 / 0.9, rel=0.03)


def test_live_cadence_survives_a_head_point_with_a_score_but_no_position() -> None:
    """A model can give a confident keypoint whose coordinates are NaN (a bad frame): the
    size hint skips it instead of taking min() of nothing."""
    lc = LiveCadence()
    kp = np.zeros((17, 3))
    kp[KP["left_hip"]] = (300, 250, 0.9)
    kp[KP["nose"]] = (np.nan, np.nan, 0.9)
    kp[KP["left_ankle"]] = (300, 400, 0.9)
    kp[KP["right_ankle"]] = (350, 400, 0.9)
    for i in range(20):
        lc.update(i / 30, kp)
    assert lc.steps == 0 and lc.hints() == []


def test_live_cadence_has_one_name_for_feeding_a_frame() -> None:
    assert "add" not in vars(LiveCadence) and "push" not in vars(LiveCadence)


@pytest.mark.parametrize("every", [2, 3])
def test_live_cadence_at_a_pis_inference_rate_does_not_halve(model_path, samples_dir, every: int) -> None:
    """A Pi 4 infers about 10 frames a second for the live view. The labelled clip (168.9
    steps/min) through the real MoveNet, inferring only every 2nd or 3rd frame: the step peaks
    merged in pairs and the dashboard read as low as 90 steps/min at 10 fps (154 at 15), and
    counted too few strides. Now every reading shown is within 6 % of the labels', and the
    count is the run's."""
    from device.camera.video import VideoFileSource
    from device.keypoints import N_KEYPOINTS
    from device.pose.movenet import MoveNetEstimator
    from device.pose.pipeline import CAPTURE_OVERSAMPLE, estimate_frame

    est = MoveNetEstimator(str(model_path), 2, quiet=True)
    buf = np.zeros((N_KEYPOINTS, 3), np.float32)
    lc = LiveCadence(min_score=0.3)
    shown = []
    with VideoFileSource(samples_dir / "treadmill_side_30fps_labelled.mp4") as src:
        for i, frame in enumerate(src):
            if i % every == every - 1:  # the frames a slower pose model would have inferred
                lc.update(frame.t, estimate_frame(est, frame, buf, 0.3, CAPTURE_OVERSAMPLE))
                if lc.cadence_spm is not None:
                    shown.append(lc.cadence_spm)
    assert len(shown) >= 40
    assert all(abs(c / 168.9 - 1) <= 0.06 for c in shown), (min(shown), max(shown))
    # the strides on the dashboard: the clip holds ~33.7 steps (12 s at 168.9); the peaks alone
    # counted 16-22 at 10 fps
    assert 31 <= lc.steps <= 36, lc.steps


def test_live_cadence_is_read_by_another_thread_while_frames_are_fed() -> None:
    """The dashboard's thread reads the cadence, strides and hints while the pose thread feeds
    frames (and the rings wrap): the reads see whole values, never an error or NaN."""
    import sys
    import threading

    lc = LiveCadence()
    frames = _ankle_frames(_steps_at([0.35] * 300), fps=30.0)  # 107 s: the rings wrap
    errors: list[BaseException] = []
    seen: list[float] = []
    stop = threading.Event()

    def writer() -> None:
        for t, kp in frames:
            if stop.is_set():
                break
            lc.update(t, kp)
        stop.set()

    def reader() -> None:
        try:
            while not stop.is_set():
                c = lc.cadence_spm
                if c is not None:
                    assert math.isfinite(c)
                    seen.append(c)
                lc.hints()
                assert lc.strides >= 0
        except (AssertionError, IndexError, ValueError, TypeError) as exc:  # the failure under test
            errors.append(exc)
            stop.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
    finally:
        stop.set()
        sys.setswitchinterval(old)
    assert not errors, errors[0]
    assert lc.cadence_spm == pytest.approx(60 / 0.35, rel=0.03)
    assert seen and all(abs(c - 60 / 0.35) < 0.06 * 60 / 0.35 for c in seen)
