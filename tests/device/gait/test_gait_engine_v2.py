"""Engine v2 behaviour: sides from evidence, cadence that cannot double, treadmill-physics event
timing on force-plate trials and on the labelled real clip, honest verdicts, bounded memory.

The full figures (every runner, every condition, leave-one-runner-out) come from
``gait-station validate`` (docs/validation.md); these are fast checks of the same behaviour.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from device.gait import analyze, cadence, sides
from device.gait.treadmill import EventModel
from device.gait.types import RunnerInfo
from device.keypoints import KP, Timeline
from device.norms_file import load_norms
from device.synthetic.runner import RunnerParams, SyntheticRunner
from device.validation.scoring import score_trial


def _synthetic(**kw) -> Timeline:
    base = dict(fps=60, duration_s=24, noise_px=1.5, swaps=3, jitter=0.2, seed=5)
    base.update(kw)
    return SyntheticRunner(RunnerParams(**base)).timeline()


# ----------------------------------------------------------------------------- force plate
@pytest.fixture(scope="module")
def dev_dir(validation_dir: Path) -> Path:
    d = validation_dir / "dev"
    assert (d / "truth").is_dir(), "development set missing"
    return d


@pytest.mark.parametrize("trial", ["rbds_003_t35", "rbds_017_t45", "hamner_s08_run400"])
def test_force_plate_trial_60fps_events_sides_cadence(dev_dir: Path, trial: str) -> None:
    from device.validation.dataset import read_any_csv

    truth = json.loads((dev_dir / "truth" / f"{trial}.truth.json").read_text())
    tl = read_any_csv(dev_dir / "keypoints" / f"{trial}.realistic_60fps.csv.gz")
    a = analyze(
        tl, RunnerInfo(truth["runner_height_cm"], truth["treadmill_speed_kmh"]), norms=load_norms()
    ).to_dict()
    sc = score_trial(a, truth, trial, trial)
    ic = np.mean(np.abs(sc.errors_ms["initial_contact"]))
    to = np.mean(np.abs(sc.errors_ms["toe_off"]))
    assert ic <= 12.0 and to <= 15.0, (ic, to)
    assert sum(sc.n_detected.values()) >= sum(sc.n_true.values()) - 2  # at most the edge stances
    assert sc.spurious <= 1
    assert sc.sides_right == sc.sides_total  # the camera is on the runner's right (README)
    assert a["quality"]["near_side"] == "right"
    assert abs(sc.cadence_err_pct) <= 1.0
    # belt speed measured from the stance feet, compared with the entered speed
    assert abs(a["quality"]["belt_speed_vs_entered_pct"]) < 15.0


def test_physics_estimate_and_learned_correction_both_matter(dev_dir: Path) -> None:
    """The shipped correction improves on the raw physics estimate (what it was fitted for)."""
    from device.gait.treadmill import EventModel
    from device.validation.dataset import read_any_csv

    trial = "rbds_012_t25"
    truth = json.loads((dev_dir / "truth" / f"{trial}.truth.json").read_text())
    tl = read_any_csv(dev_dir / "keypoints" / f"{trial}.realistic_60fps.csv.gz")
    info = RunnerInfo(truth["runner_height_cm"], truth["treadmill_speed_kmh"])
    raw = score_trial(
        analyze(tl, info, event_model=EventModel.identity(), norms=load_norms()).to_dict(),
        truth,
        trial,
        trial,
    )
    fit = score_trial(analyze(tl, info, norms=load_norms()).to_dict(), truth, trial, trial)
    mae = lambda s, k: float(np.mean(np.abs(s.errors_ms[k])))  # noqa: E731
    assert mae(fit, "toe_off") < mae(raw, "toe_off") - 3.0


# ----------------------------------------------------------------------------- the real clip
@pytest.fixture(scope="module")
def labelled_clip(samples_dir: Path, model_path: Path) -> tuple[dict, dict]:
    from device.validation.dataset import LABELLED_CLIP, video_keypoints

    video = samples_dir / LABELLED_CLIP
    truth = json.loads(video.with_suffix(".truth.json").read_text())
    tl = video_keypoints(video, model=str(model_path))  # MoveNet once, cached outside the repo
    return analyze(tl, event_model=EventModel.physics(), norms=load_norms()).to_dict(), truth


def test_labelled_clip_near_side_from_perspective(labelled_clip: tuple[dict, dict]) -> None:
    a, truth = labelled_clip
    q = a["quality"]
    assert q["near_side"] == truth["near_side"] == "left"
    assert "perspective" in q["side_method"]
    assert a["view"]["facing"] == "left"


# The clip's figures are one draw of MoveNet's response to pixel noise: the frames of another
# decoder (arm64's FFmpeg differs from x86-64's by 1–2 levels) give other keypoints. Over the
# plain decode, ten ±1-level noise draws and the two arm64 decodes of tools/pi-check.sh, engine
# 2.5 (contacts on the ankles' turning points) found 29–33 of the 33 contacts (2.4: 23–29) and
# 27–31 of the 34 toe-offs, 62.7–82.1 % of all events within a frame (2.4: 47.8–61.2 %), ≤ 4
# spurious events (2.4: 4–12), sides all right, |cadence error| ≤ 0.34 % and contact times
# within 21 ms of the labels' (docs/validation.md, `gait-station validate --conditions video`).
# Read with its mirror (a video file of ≤ 40 fps, device.pose.pipeline.WITH_MIRROR_MAX_FPS), the
# plain decode and the ten draws found 32–33 contacts and 29–34 toe-offs, 74.6–85.1 % of all
# events within a frame (read once: 68.7–88.1 %, the plain decode 68.7), ≤ 4 spurious.
# These tests hold that, less one event; the acceptance (every contact, ≥ 95 % within a frame)
# is not met and is tracked there.
def test_labelled_clip_cadence_and_sides(labelled_clip: tuple[dict, dict]) -> None:
    a, truth = labelled_clip
    sc = score_trial(a, truth, "clip", "clip", frame_s=1 / 30)
    assert sc.cadence_err_pct is not None and abs(sc.cadence_err_pct) <= 1.0
    assert sc.sides_total >= 20 and sc.sides_right == sc.sides_total
    # the plain decode finds 33 / 34 at 85.1 % within one frame; over 10 noise draws (another
    # machine's decoder) every contact, 32–34 toe-offs, 77.6–92.5 % (docs/validation.md)
    assert sc.n_detected["initial_contact"] >= 32, sc.n_detected
    assert sc.n_detected["toe_off"] >= 31, sc.n_detected
    assert sc.spurious <= 3
    assert sc.within_one_frame_pct is not None and sc.within_one_frame_pct >= 76.0
    assert a["quality"]["event_timing"]["method"].endswith(
        "contacts timed on the ankles' forward turning points"
    )


def test_labelled_clip_contact_time_near_the_labels(labelled_clip: tuple[dict, dict]) -> None:
    """The labels mark the first and last frame on the belt, so the contact itself lasts about
    (TO − IC + 1) frames (~223 ms here). Engine 2.0 printed 271 ms for the near foot; 2.2 gave
    195–248 ms over the noise draws; 2.5 is within 21 ms of the labels' on 13 decodes
    (docs/validation.md), so the bound is 25 ms."""
    from device.validation.cli import label_contact_ms

    a, truth = labelled_clip
    phys = label_contact_ms(truth, 30.0)
    ct = a["metrics"]["contact_time_ms"]
    for side in ("left", "right"):
        assert ct[side] is not None and abs(ct[side] - phys[side]) < 25.0, (side, ct[side], phys[side])
    assert a["quality"]["event_timing"]["method"].startswith("physics estimate only")


def test_labelled_clip_with_camera_side_setting(labelled_clip: tuple[dict, dict], samples_dir: Path) -> None:
    from device.validation.dataset import LABELLED_CLIP, video_keypoints

    tl = video_keypoints(samples_dir / LABELLED_CLIP)
    ok = analyze(tl, camera_side="left", norms=load_norms()).to_dict()["quality"]
    assert ok["near_side"] == "left" and ok["side_method"].startswith("config")
    # a setting the facing contradicts (mirrored picture, moved camera): no sides, never guessed
    bad = analyze(tl, camera_side="right", norms=load_norms()).to_dict()
    assert bad["quality"]["near_side"] is None and "side_unknown" in bad["quality"]["issues"]
    assert {e["side"] for e in bad["events"]} == {"unknown"}
    assert bad["metrics"]["contact_time_ms"]["left"] is None
    assert bad["metrics"]["contact_time_ms"]["value"] is not None


@pytest.mark.slow
def test_the_labelled_clip_mirrored_faces_right_and_its_sides_follow(
    samples_dir: Path, model_path: Path
) -> None:
    """Every real clip so far faces left. Flipped left to right the runner faces image-right, so
    the leg nearest the camera is their right: the near side, every contact's side and the
    cadence follow the picture (scored against the labels with their sides swapped), with no
    camera side set. MoveNet runs on the flipped frames (one more pose pass, cached)."""
    from device.validation.cli import mirrored_labels
    from device.validation.dataset import LABELLED_CLIP, MIRRORED, video_keypoints

    video = samples_dir / LABELLED_CLIP
    truth = mirrored_labels(json.loads(video.with_suffix(".truth.json").read_text()))
    tl = video_keypoints(video, model=str(model_path), degradation=MIRRORED)
    a = analyze(tl, event_model=EventModel.physics(), norms=load_norms()).to_dict()
    assert a["view"]["facing"] == "right"
    assert a["quality"]["near_side"] == truth["near_side"] == "right"
    sc = score_trial(a, truth, "clip, mirrored", "clip", frame_s=1 / 30)
    assert sc.sides_total >= 28 and sc.sides_right == sc.sides_total
    assert sc.cadence_err_pct is not None and abs(sc.cadence_err_pct) <= 1.0
    assert sc.n_detected["initial_contact"] >= 28, sc.n_detected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("copy", "reason"),
    [("feet below the picture", "bottom edge"), ("15 fps", "frame rate too low to time contacts (15 fps")],
)
def test_the_labelled_clip_framed_too_tight_or_at_15_fps_prints_no_contact_time(
    samples_dir: Path, model_path: Path, copy: str, reason: str
) -> None:
    """Analysed before engine 2.15, the clip cropped so its feet in stance fall below the picture
    printed a 357 ms contact time (none of its contacts within 60 ms of the labels), and read at
    15 fps 281 ms, for the runner's 223 ms. Now what rests on the moments of contact is not
    measurable, with why; the cadence, counted over every step, still holds."""
    from device.gait.metric_ids import EVENT_INSTANT_METRICS
    from device.validation.dataset import LABELLED_CLIP, video_keypoints

    video = samples_dir / LABELLED_CLIP
    truth = json.loads(video.with_suffix(".truth.json").read_text())
    tl = video_keypoints(video, model=str(model_path), degradation=copy)
    a = analyze(tl, event_model=EventModel.physics(), norms=load_norms()).to_dict()
    for mid in EVENT_INSTANT_METRICS:
        m = a["metrics"][mid]
        assert m["value"] is None and reason in m["reason"], (mid, m)
    if copy == "feet below the picture":  # the moments it does not show are marked in the JSON
        from device.gait.analysis import UNSEEN_MOMENT_CONFIDENCE

        assert any(e["confidence"] == UNSEEN_MOMENT_CONFIDENCE for e in a["events"])
    sc = score_trial(a, truth, f"clip, {copy}", "clip", frame_s=1 / 30)
    assert sc.cadence_err_pct is not None and abs(sc.cadence_err_pct) <= 1.0


@pytest.mark.slow
def test_the_labelled_clip_cut_below_the_nose_is_a_body_not_whole_in_the_picture(
    samples_dir: Path, model_path: Path
) -> None:
    """Before engine 2.15 it read "two people in view" (the pose model's guesses at the shoulders
    it could not see made the body jump): the clinician would look for a second person."""
    from device.validation.dataset import LABELLED_CLIP, video_keypoints

    tl = video_keypoints(
        samples_dir / LABELLED_CLIP, model=str(model_path), degradation="upper body above the picture"
    )
    a = analyze(tl, event_model=EventModel.physics(), norms=load_norms()).to_dict()
    q = a["quality"]
    assert "body_out_of_frame" in q["issues"] and "two_people" not in q["issues"], q["issues"]
    assert all(m["value"] is None for m in a["metrics"].values())


# ----------------------------------------------------------------------------- sides (unit)
def test_side_cues_must_agree() -> None:
    n = 200
    xy = np.zeros((n, 17, 2))
    for s, off in (("left", 0.0), ("right", 0.0)):
        xy[:, KP[f"{s}_hip"]] = [100 + off, 100]
        xy[:, KP[f"{s}_knee"]] = [100 + off, 300]
        xy[:, KP[f"{s}_ankle"]] = [100 + off, 500]
    score = np.full((n, 17), 0.8)
    leg = 400.0
    lower_left = {"left": [-510.0, -511.0, -509.0, -510.0], "right": [-480.0, -481.0, -479.0, -480.0]}
    d = sides.decide("left", "auto", lower_left, leg, xy, score)
    assert d.decided and d.near_track == "left" and d.method == "facing+perspective" and not d.swap
    # scores strongly for the other track: a contradiction leaves sides undecided
    score2 = score.copy()
    score2[:, [KP["right_knee"], KP["right_ankle"]]] = 0.95
    score2[:, [KP["left_knee"], KP["left_ankle"]]] = 0.5
    d2 = sides.decide("left", "auto", lower_left, leg, xy, score2)
    assert not d2.decided and d2.warnings
    # no cue at all: undecided, not guessed
    same = {"left": [-500.0, -501.0, -499.0], "right": [-500.0, -501.0, -499.0]}
    assert not sides.decide("right", "auto", same, leg, xy, score).decided
    # the pose model's labels the other way round: swap
    d3 = sides.decide("right", "auto", lower_left, leg, xy, score)
    assert d3.decided and d3.swap and d3.near_side == "right" and d3.near_track == "left"


def test_synthetic_camera_side_setting_and_contradiction() -> None:
    tl = _synthetic(duration_s=12)
    a = analyze(tl, RunnerInfo(175, 10), camera_side="right", norms=load_norms()).quality
    assert a["near_side"] == "right" and a["side_method"].startswith("config")
    b = analyze(tl, RunnerInfo(175, 10), camera_side="left", norms=load_norms())
    assert b.quality["near_side"] is None and "side_unknown" in b.quality["issues"]
    assert b.quality["verdict_code"] != "good"
    with pytest.raises(ValueError):
        analyze(tl, camera_side="behind", norms=load_norms())


# ----------------------------------------------------------------------------- cadence
def test_cadence_estimates_must_agree() -> None:
    ok = cadence.decide(172.0, 171.0, None, 12.0, 178.0)
    assert ok.value == 172.0 and ok.reason is None
    doubled = cadence.decide(330.0, 166.0, 165.0, None, None)
    assert doubled.value is None and doubled.code == "cadence_disagree" and "disagree" in doubled.reason
    alone = cadence.decide(170.0, None, None, None, None)
    assert alone.value is None and alone.code == "cadence_disagree"
    # all agree but the step length is impossible for the entered speed (speed typed wrong)
    implausible = cadence.decide(170.0, 170.0, 171.0, 40.0, 170.0)
    assert implausible.value is None and implausible.code == "cadence_implausible"


def test_a_withheld_cadence_withholds_its_step_timing() -> None:
    """Step time is the cadence's reciprocal: a cadence withheld because the entered speed makes
    its steps impossible (40 km/h at 170 spm) took step time, contact time and step length out
    with it; what is measured at the contacts stays (the contacts agree with the body's rhythm)."""
    from device.gait.analysis import STEPS_NOT_CONFIRMED
    from device.gait.metric_ids import STEP_TIMING_METRICS

    tl = _synthetic(duration_s=24)
    right = analyze(tl, RunnerInfo(175, 12), norms=load_norms())
    assert right.cadence_spm is not None and right.metrics["step_time_ms"].value is not None
    typo = analyze(tl, RunnerInfo(175, 40), norms=load_norms())
    assert typo.cadence_spm is None and "cadence_implausible" in typo.quality["issues"]
    for mid_ in (*STEP_TIMING_METRICS, "symmetry_index_pct"):
        assert typo.metrics[mid_].value is None and typo.metrics[mid_].reason == STEPS_NOT_CONFIRMED, mid_
    assert typo.metrics["knee_flexion_ic_deg"].value == right.metrics["knee_flexion_ic_deg"].value
    assert typo.evidence and typo.curves


def test_contacts_that_may_be_miscounted_carry_nothing_measured_on_them() -> None:
    """The same run on a clock 2.5 times too slow (a slow-motion clip read as real time): 70
    steps/min is no runner's cadence, so the contacts are in doubt (miscounted, or the clock is
    wrong); step time, contact time, the angles at contact and every per-step figure are not
    measurable, no evidence frame or curve is drawn; the trunk's lean (a mean over the run)
    stays."""
    from device.gait.analysis import CONTACTS_NOT_CONFIRMED
    from device.gait.metric_ids import ON_THE_CONTACTS

    tl = _synthetic(duration_s=24)
    slow = Timeline(tl.t * 2.5, tl.xy, tl.score, tl.frame, tl.width, tl.height, dict(tl.meta))
    a = analyze(slow, RunnerInfo(175, None), norms=load_norms())
    assert a.cadence_spm is None and "cadence_implausible" in a.quality["issues"], a.quality["issues"]
    for mid_ in (*ON_THE_CONTACTS, "symmetry_index_pct"):
        assert a.metrics[mid_].value is None, mid_
    assert a.metrics["knee_flexion_ic_deg"].reason == CONTACTS_NOT_CONFIRMED
    assert a.metrics["trunk_lean_deg"].value is not None
    assert a.evidence == [] and a.curves == {}
    assert a.quality["verdict_code"] != "good"


def _contacts_timed_off(seed: int, sigma_frames: float, side_known: bool) -> tuple[list, list]:
    """34 steps at 168.9 spm and 30 fps, every contact and toe-off timed ``sigma_frames`` off
    (Gaussian), one contact missed and one extra: (step_times, events) as the engine gives them."""
    from device.gait.types import GaitEvent

    rng = np.random.default_rng(seed)
    step = 60.0 / 168.9
    t_ic = 0.2 + step * np.arange(34) + rng.normal(0.0, sigma_frames / 30.0, 34)
    events = []
    for i, t in enumerate(t_ic):
        side = ("left" if i % 2 == 0 else "right") if side_known else "unknown"
        if i == 17:
            continue  # a missed contact
        events.append(GaitEvent(side, "initial_contact", float(t), int(round(t * 30))))
        t_to = t + 0.21 + rng.normal(0.0, sigma_frames / 30.0)
        events.append(GaitEvent(side, "toe_off", float(t_to), int(round(t_to * 30))))
    extra = "left" if side_known else "unknown"
    events.append(GaitEvent(extra, "initial_contact", float(t_ic[8] + 0.3 * step), 0))
    events.sort(key=lambda e: e.t)
    ics = [e for e in events if e.kind == "initial_contact"]
    step_times = [(b.t, b.t - a.t, b.side) for a, b in zip(ics, ics[1:], strict=False) if a.side != b.side]
    return step_times, events


@pytest.mark.parametrize("seed", range(6))
def test_cadence_from_contacts_timed_frames_off_is_not_biased(seed: int) -> None:
    """Real video times single contacts 2–3 frames off (MoveNet's ankle under ±1-level pixel
    noise). The old 60 / mean step time dropped the short step of a mistimed pair and kept the
    long one, and the 12 s labelled clip read 3 % slow; on these inputs it was off by up to 15 %.
    The stride period fitted to all events stays within 1 %."""
    from device.gait.analysis import _cadence

    spm, n = _cadence(*_contacts_timed_off(seed, 2.0, side_known=True))
    assert spm == pytest.approx(168.9, rel=0.01)
    assert n >= 30
    # sides undecided (a front view, a contradicted camera setting): one sequence per kind with
    # both feet, a step apart — not a doubled cadence (a step is half as long, so 1 frame of noise
    # weighs as 2 do above)
    spm_u, _ = _cadence(*_contacts_timed_off(seed, 1.0, side_known=False))
    assert spm_u == pytest.approx(168.9, rel=0.01)


def _uneven_steps(drop: int | None = None, first_off_s: float = 0.0) -> tuple[list, list]:
    """12 contacts, steps of 0.34 / 0.38 s in turn (11 steps: an odd number), toe-offs 0.22 s
    after them: (step_times, events) as the engine gives them."""
    from device.gait.types import GaitEvent

    t_ic = 0.5 + np.concatenate([[0.0], np.cumsum([0.34, 0.38] * 5 + [0.34])])
    t_ic[0] += first_off_s
    events = []
    for i, t in enumerate(t_ic):
        side = "left" if i % 2 == 0 else "right"
        if i != drop:
            events.append(GaitEvent(side, "initial_contact", float(t), int(round(t * 60))))
        events.append(GaitEvent(side, "toe_off", float(t + 0.22), int(round((t + 0.22) * 60))))
    events.sort(key=lambda e: e.t)
    ics = [e for e in events if e.kind == "initial_contact"]
    step_times = [(b.t, b.t - a.t, b.side) for a, b in zip(ics, ics[1:], strict=False) if a.side != b.side]
    return step_times, events


def test_cadence_is_the_steps_over_the_span_as_the_contract_defines_it() -> None:
    """A runner with uneven steps over an odd number of steps: the contract's cadence (steps per
    minute over the analysed window, the force plate's 60 / mean step time) is 11 steps over
    3.94 s, 167.5 spm; the stride period alone says 166.7, and on the development set's 4–6 s
    Hamner trials it missed the force plate's figure by up to 0.75 %. A missed contact still
    counts as the step it was; a first contact timed 60 ms early (the swing's fallback at a
    trial's edge) is left out of the span, not stretched over it."""
    from device.gait.analysis import _cadence

    spm, n = _cadence(*_uneven_steps())
    assert n == 11 and spm == pytest.approx(60.0 * 11 / 3.94, abs=0.01)
    assert _cadence(*_uneven_steps(drop=5))[0] == pytest.approx(spm, abs=0.01)
    spm_off, n_off = _cadence(*_uneven_steps(first_off_s=-0.06))
    assert n_off == 10 and spm_off == pytest.approx(60.0 * 10 / (3.94 - 0.34), abs=0.01)


def test_cadence_signals_track_the_synthetic_truth() -> None:
    r = SyntheticRunner(RunnerParams(fps=30, duration_s=20, noise_px=2.0, seed=3, cadence_spm=176))
    a = analyze(r.timeline(), RunnerInfo(175, 11), norms=load_norms())
    est = a.quality["cadence_estimates"]
    for k in ("events", "hip_bounce", "ankle_spectrum"):
        assert est[k] == pytest.approx(176, rel=0.03), k
    assert a.cadence_spm == pytest.approx(176, rel=0.01)


def test_halved_frame_clock_is_not_a_good_cadence() -> None:
    """A clock running at half speed makes every estimate agree on half the cadence; the
    entered speed then makes the step length impossible: no cadence, not 'good'."""
    tl = _synthetic(duration_s=24)
    slow = Timeline(tl.t * 2.0, tl.xy, tl.score, tl.frame, tl.width, tl.height)
    a = analyze(slow, RunnerInfo(175, 10), norms=load_norms())
    assert a.cadence_spm is None and a.metrics["cadence_spm"].reason
    assert a.quality["verdict_code"] != "good"


# ----------------------------------------------------------------------------- quality
def test_short_or_slow_capture_is_not_good() -> None:
    a = analyze(_synthetic(duration_s=8), RunnerInfo(175, 10), norms=load_norms())
    assert "too_short" in a.quality["issues"] and a.quality["verdict_code"] == "limited"
    slow = _synthetic(fps=8, duration_s=30)
    b = analyze(slow, RunnerInfo(175, 10), norms=load_norms())
    assert "low_fps" in b.quality["issues"] and b.quality["verdict_code"] != "good"
    good = analyze(_synthetic(duration_s=24), RunnerInfo(175, 10), norms=load_norms())
    assert good.quality["verdict_code"] == "good", good.quality["issues"]
    assert good.quality["effective_fps"] == pytest.approx(60, abs=1.5)


def test_effective_fps_counts_dropped_frames() -> None:
    tl = _synthetic(duration_s=24)
    keep = np.ones(len(tl), bool)
    keep[::4] = False  # a quarter of the frames dropped at the source
    sub = Timeline(tl.t[keep], tl.xy[keep], tl.score[keep], tl.frame[keep], tl.width, tl.height)
    q = analyze(sub, RunnerInfo(175, 10), norms=load_norms()).quality
    assert q["effective_fps"] == pytest.approx(45, abs=1.5)


# ----------------------------------------------------------------------------- time gaps (issue 13)
@pytest.mark.parametrize(
    "name,warp,issue",
    [
        ("one row at t=1e7", lambda t: np.where(np.arange(t.size) == t.size - 1, 1e7, t), "time_gap"),
        (
            "two-hour clock jump",
            lambda t: t + np.where(np.arange(t.size) >= t.size // 2, 7200.0, 0.0),
            "time_gap",
        ),
        ("microsecond timestamps", lambda t: t * 1e6, "low_fps"),
    ],
)
def test_absurd_time_gaps_are_bounded_and_said(name: str, warp, issue: str) -> None:
    tl = _synthetic(duration_s=10)
    bad = Timeline(warp(tl.t.copy()), tl.xy, tl.score, tl.frame, tl.width, tl.height)
    t0 = time.perf_counter()
    a = analyze(bad, RunnerInfo(175, 10), norms=load_norms())
    assert time.perf_counter() - t0 < 5.0, name  # memory and time follow frames, not the span
    assert issue in a.quality["issues"], name
    assert a.quality["duration_s"] <= 10.0
    assert any("gap" in w or "frame times" in w for w in a.quality["warnings"]), a.quality["warnings"]


# ----------------------------------------------------------------------------- alternation, scoring
def test_strict_alternation_leaves_out_the_less_confident_same_foot_contact() -> None:
    from device.gait.events import SideEvents, strict_alternation

    def se(ic: list[float], conf: list[float]) -> SideEvents:
        a = np.array(ic)
        return SideEvents(
            a, a + 0.2, np.ones(a.size, bool), np.ones(a.size, bool), np.array(conf), np.array(conf)
        )

    # right contacts at 0.0, 0.70, 1.05 (the last is one step after 0.70: a left contact mislabelled)
    left = se([0.35, 1.40], [0.9, 0.9])
    right = se([0.0, 0.70, 1.05], [0.9, 0.9, 0.4])
    lf, rt, n = strict_alternation(left, right, stride_s=0.70)
    assert n == 1 and list(rt.ic) == [0.0, 0.70] and list(lf.ic) == [0.35, 1.40]
    # alternating contacts are all kept
    lf, rt, n = strict_alternation(se([0.35, 1.05], [0.5, 0.5]), se([0.0, 0.7], [0.5, 0.5]), 0.7)
    assert n == 0 and len(lf.ic) == len(rt.ic) == 2


def test_scoring_is_side_agnostic_and_ignores_window_edges() -> None:
    truth = {
        "valid_window_s": [0.0, 10.0],
        "events": [
            {"side": "left", "kind": "initial_contact", "t": 1.0},
            {"side": "right", "kind": "initial_contact", "t": 1.35},
            {"side": "left", "kind": "toe_off", "t": 1.25},
        ],
        "cadence_spm": 170.0,
        "contact_time_ms": {"left": 250.0, "right": 250.0},
    }
    pred = {
        "events": [
            {"side": "left", "kind": "initial_contact", "t": 1.004},
            {"side": "left", "kind": "initial_contact", "t": 1.351},  # wrong side, right time
            {"side": "left", "kind": "toe_off", "t": 1.26},
            {"side": "left", "kind": "toe_off", "t": 5.0},  # spurious
            {"side": "left", "kind": "toe_off", "t": 9.97},  # at the window edge: not counted
        ],
        "cadence_spm": 171.7,
        "metrics": {"contact_time_ms": {"left": 260.0, "right": None}},
        "quality": {"verdict_code": "good"},
    }
    s = score_trial(pred, truth, "t", "r")
    assert s.n_detected == {"initial_contact": 2, "toe_off": 1}
    assert s.spurious == 1 and s.sides_right == 1 and s.sides_total == 2
    assert sorted(s.errors_ms["initial_contact"]) == pytest.approx([1.0, 4.0], abs=0.01)
    assert s.cadence_err_pct == pytest.approx(1.0, abs=0.01)
    assert s.contact_err_ms is None  # a side the engine did not give is not a small error


# ----------------------------------------------------------------------------- real-video keypoints
def test_noisy_keypoints_keep_the_physics_estimate() -> None:
    """The learned correction was fitted on keypoints whose mid-stance ankle height scatters by
    0.1–0.7 % of leg (about a line, after the event filter); on keypoints as noisy as real MoveNet
    ones at 30 fps (~0.95 %) it is not used, and the events say so with a lower confidence."""
    tl = _synthetic(fps=30, duration_s=16, noise_px=1.0)
    calm = analyze(tl, RunnerInfo(175, 10), norms=load_norms())
    assert calm.quality["event_timing"]["method"] == "physics + learned correction"
    assert max(calm.quality["event_timing"]["ankle_scatter_pct_leg"]) < 0.8
    rng = np.random.default_rng(7)
    leg = float(calm.input["leg_length_px"])
    xy = tl.xy.copy()
    for s in ("left", "right"):
        xy[:, KP[f"{s}_ankle"], 1] += rng.normal(0.0, 0.04 * leg, len(tl))
    noisy = analyze(
        Timeline(tl.t, xy, tl.score, tl.frame, tl.width, tl.height), RunnerInfo(175, 10), norms=load_norms()
    )
    et = noisy.quality["event_timing"]
    assert et["method"].startswith("physics estimate only"), et
    assert min(et["ankle_scatter_pct_leg"]) > 0.8
    assert noisy.events and max(e.confidence for e in noisy.events) <= 0.4


def test_stance_noise_is_the_mid_stance_scatter_in_leg_lengths() -> None:
    from device.gait.treadmill import StanceModel, stance_noise

    t = np.arange(0, 15.0, 0.01)
    rng = np.random.default_rng(1)
    h = -500.0 + rng.normal(0.0, 4.0, t.size)  # 4 px scatter on a 400 px leg = 1 %
    stances = [(k * 0.7, k * 0.7 + 0.25, StanceModel(floor=-500.0, a=0.0, v=300.0)) for k in range(20)]
    assert stance_noise(t, h, stances, 400.0) == pytest.approx(0.01, rel=0.15)
    assert stance_noise(t, h, stances[:0], 400.0) is None  # nothing to measure


def test_contact_at_the_start_of_the_data_is_found() -> None:
    """Data that starts just before a contact (the hip-relative forward peak before it is not in
    the data): the descent onto the belt still times that contact."""
    r = SyntheticRunner(RunnerParams(fps=60, duration_s=12, noise_px=1.0, seed=2))
    tl = r.timeline()
    ics = [e for e in r.truth()["events"] if e["kind"] == "initial_contact"]
    target = next(e for e in ics if e["t"] > 2.0)
    cut = tl.window(target["t"] - 0.09)
    a = analyze(cut, RunnerInfo(175, 10), norms=load_norms())
    found = [e.t for e in a.events if e.kind == "initial_contact"]
    assert found and min(abs(x - target["t"]) for x in found) < 0.03, (target["t"], found[:3])


def test_a_foot_lost_for_four_frames_at_its_contact_keeps_the_contact() -> None:
    """At 30 fps a pose model loses the landing foot for four frames (the labelled clip's near
    foot, frames 274–277): 133 ms of a 250 ms stance. Left missing, each such contact was lost
    (14 of 14 here); bridged, none is."""
    r = SyntheticRunner(RunnerParams(fps=30, duration_s=16, noise_px=1.0, seed=4))
    tl = r.timeline()
    ics = [e for e in r.truth()["events"] if e["kind"] == "initial_contact" and 1.0 < e["t"] < 15.0]
    for e in ics[::3]:
        k = int(np.searchsorted(tl.t, e["t"]))
        tl.score[k : k + 4, KP[e["side"] + "_ankle"]] = 0.0
    found = [
        x.t
        for x in analyze(tl, RunnerInfo(175, 10), norms=load_norms()).events
        if x.kind == "initial_contact"
    ]
    missed = [e["t"] for e in ics if not any(abs(f - e["t"]) < 0.06 for f in found)]
    assert not missed, (len(missed), len(ics))


@pytest.mark.parametrize("stance_line", [True, False])
def test_a_longer_hole_in_a_stance_is_bridged_along_the_belt(stance_line: bool, monkeypatch) -> None:
    """At 60 fps the landing foot lost for nine frames (150 ms, past the 0.12 s rule) just after
    its contact: the hole's ends lie on one stance line (belt level, moving at belt speed), so
    the stance is bridged and every contact found; without that rule 13 of 14 were lost."""
    from device.gait import clean

    if not stance_line:
        monkeypatch.setattr(clean, "MAX_STANCE_GAP_S", 0.0)
    r = SyntheticRunner(RunnerParams(fps=60, duration_s=16, noise_px=1.0, seed=4))
    tl = r.timeline()
    ics = [e for e in r.truth()["events"] if e["kind"] == "initial_contact" and 1.0 < e["t"] < 15.0]
    for e in ics[::3]:
        k = int(np.searchsorted(tl.t, e["t"])) + 1
        tl.score[k : k + 9, KP[e["side"] + "_ankle"]] = 0.0
    a = analyze(tl, RunnerInfo(175, 10), norms=load_norms())
    found = [x.t for x in a.events if x.kind == "initial_contact"]
    missed = [e["t"] for e in ics if not any(abs(f - e["t"]) < 0.06 for f in found)]
    assert (len(missed) == 0) == stance_line, (len(missed), len(ics))
    # the quality block says how many holes were drawn along the belt
    assert a.quality["stance_gaps_bridged"] == (len(ics[::3]) if stance_line else 0)


def test_a_hole_in_the_swing_is_not_bridged() -> None:
    """A foot lost in mid-swing (off the belt, moving forward) is not drawn along the belt."""
    from device.gait.clean import bridge_stance_gaps, mask_low_scores

    r = SyntheticRunner(RunnerParams(fps=60, duration_s=16, noise_px=1.0, seed=4))
    tl = r.timeline()
    tos = [e for e in r.truth()["events"] if e["kind"] == "toe_off" and 1.0 < e["t"] < 15.0]
    xy = mask_low_scores(tl.xy, tl.score)
    for e in tos:
        k = int(np.searchsorted(tl.t, e["t"])) + 4
        xy[k : k + 9, KP[e["side"] + "_ankle"]] = np.nan
    out, filled = bridge_stance_gaps(xy, tl.t, 280.0)
    assert filled == 0
    np.testing.assert_array_equal(np.isnan(out), np.isnan(xy))


def test_a_contact_on_an_implausibly_long_stance_loses_the_alternation_tie() -> None:
    """Two contacts of different feet a few ms apart: the one whose stance lasts like the other
    stances is kept (the other track wandered), not simply the earlier one."""
    from device.gait.events import SideEvents, enforce_alternation

    def se(ic: list[float], to: list[float]) -> SideEvents:
        a, b = np.array(ic), np.array(to)
        return SideEvents(a, b, np.ones(a.size, bool), np.ones(a.size, bool))

    left = se([0.580, 1.28, 1.98], [0.780, 1.48, 2.18])
    right = se([0.575, 0.93, 1.63], [1.150, 1.13, 1.83])  # 0.575 → 1.150: a 575 ms 'stance'
    lf, rt, n = enforce_alternation(left, right, stride_s=0.70)
    assert n == 1 and 0.580 in lf.ic and 0.575 not in rt.ic


def test_odd_contact_times_are_left_out_and_counted() -> None:
    from device.gait.sagittal import Stance, _reject_odd_contacts

    st = [
        Stance("left", k * 0.7, k * 0.7 + 0.25, values={"contact_time_ms": 250.0 + (k % 3)}) for k in range(8)
    ]
    st[3].values["contact_time_ms"] = 390.0  # a contact found 140 ms early by noisy keypoints
    _reject_odd_contacts(st)
    assert [s.valid for s in st].count(False) == 1 and not st[3].valid and st[3].reject


# ----------------------------------------------------------------------------- the event model
def _one_leg(knee_seen: bool = True):
    from device.gait.treadmill import StanceModel, Track

    t = np.arange(0.0, 2.0, 1 / 60)
    u = 200.0 - 300.0 * t  # on the belt line the whole time: only the model moves the event
    h = np.full_like(t, -800.0)
    knee_u = u + 40.0 * np.sin(2 * np.pi * t)  # the shin's lean changes over the stride
    knee_h = h + 420.0
    if not knee_seen:
        knee_u = np.where(np.abs(t - 1.0) < 0.05, np.nan, knee_u)
    return t, Track(u, h, knee_u, knee_h), StanceModel(floor=-800.0, a=200.0, v=300.0)


def _model(knee_du: float, const: float):
    from device.gait.treadmill import OFFSETS_S, EventModel

    n = len(OFFSETS_S)
    w = [0.0] * (4 * n) + [const]
    w[3 * n + n // 2] = knee_du  # the knee's horizontal place relative to the ankle, at the estimate
    return EventModel(weights={"initial_contact": (tuple(w),)}, use_knee=True)


def test_event_model_reads_where_the_knee_stands_over_the_ankle() -> None:
    from device.gait.treadmill import refine_all

    t, tr, sm = _one_leg()
    leg = 900.0
    (te,), (conf,), _ = refine_all(_model(0.9, 0.0), "initial_contact", t, tr, [sm], np.array([1.0]), leg)
    # at t = 1.0 the knee is 40·sin(2π) ≈ 0 px ahead; at 1.1 s it is 40·sin(0.2π) = 23.5 px ahead
    assert te == pytest.approx(1.0, abs=1e-3) and conf > 0.9
    (te2,), _, _ = refine_all(_model(0.9, 0.0), "initial_contact", t, tr, [sm], np.array([1.1]), leg)
    assert te2 == pytest.approx(1.1 + 0.9 * 40.0 * np.sin(2 * np.pi * 1.1) / leg, abs=1e-3)


def test_event_model_keeps_the_physics_estimate_where_the_knee_is_unseen() -> None:
    from device.gait.treadmill import refine_all

    t, tr, sm = _one_leg(knee_seen=False)
    m = _model(0.0, 0.02)
    (te,), (conf,), (refused,) = refine_all(m, "initial_contact", t, tr, [sm], np.array([1.0]), 900.0)
    assert te == 1.0 and conf <= 0.3 and not refused  # not seen: not refused
    (te,), _, _ = refine_all(m, "initial_contact", t, tr, [sm], np.array([1.5]), 900.0)
    assert te == pytest.approx(1.52)  # seen there: moved


@pytest.mark.parametrize(("const", "moved"), [(0.08, True), (-0.095, True), (0.12, False)])
def test_event_model_correction_is_credible_within_the_window_it_reads(const: float, moved: bool) -> None:
    """The features span ±0.1 s around the estimate: a correction inside that window is applied
    (on 60 fps keypoints with a leg swap across a contact the estimate can be 60–80 ms off),
    one beyond it is refused and the event keeps its estimate with a low confidence."""
    from device.gait.treadmill import refine_all

    t, tr, sm = _one_leg()
    m = _model(0.0, const)
    (te,), (conf,), (refused,) = refine_all(m, "initial_contact", t, tr, [sm], np.array([1.0]), 900.0)
    assert refused != moved
    if moved:
        assert te == pytest.approx(1.0 + const)
    else:
        assert te == 1.0 and conf == pytest.approx(0.2)


@pytest.mark.parametrize("trial", ["rbds_015_t35", "rbds_022_t35"])
def test_contacts_after_a_leg_swap_are_not_left_early(dev_dir: Path, trial: str) -> None:
    """Two contacts each in these trials (60 fps, a leg swap across a foot strike) came out
    60–75 ms early and counted as spurious while the correction was capped at 60 ms."""
    from device.validation.dataset import read_any_csv

    truth = json.loads((dev_dir / "truth" / f"{trial}.truth.json").read_text())
    tl = read_any_csv(dev_dir / "keypoints" / f"{trial}.realistic_60fps.csv.gz")
    a = analyze(
        tl, RunnerInfo(truth["runner_height_cm"], truth["treadmill_speed_kmh"]), norms=load_norms()
    ).to_dict()
    sc = score_trial(a, truth, trial, trial)
    assert sc.spurious == 0
    assert sc.n_detected["initial_contact"] == sc.n_true["initial_contact"]


def test_a_toe_off_whose_correction_is_refused_takes_the_uncorrected_rule(
    validation_dir: Path, tmp_path: Path
) -> None:
    """rbds_013_t35 at 30 fps (the set's recipe): the model wants to move the toe-off near
    21.58 s by more than it may (> 0.1 s), so it is refused. The event kept the reference
    crossing the correction starts from, which sits late by design: 90 ms late, a spurious
    toe-off. It now takes the uncorrected rule, as a stance without a model does (its error
    10 ms), still at the refused correction's low confidence."""
    from device.gait.treadmill import REFUSED_CONFIDENCE
    from device.validation.dataset import dev_trials, ensure_realistic, read_any_csv

    trial = next(t for t in dev_trials(validation_dir / "dev") if t.name == "rbds_013_t35")
    truth = json.loads(trial.truth_path.read_text())
    tl = read_any_csv(ensure_realistic(trial, "realistic_30fps", tmp_path))
    a = analyze(tl, RunnerInfo(truth["runner_height_cm"], truth["treadmill_speed_kmh"]), norms=load_norms())
    true_to = np.array([e["t"] for e in truth["events"] if e["kind"] == "toe_off"])
    refused = [e for e in a.events if e.kind == "toe_off" and e.confidence == REFUSED_CONFIDENCE]
    assert [round(e.t) for e in refused] == [22]
    assert np.abs(true_to - refused[0].t).min() < 0.02
    assert score_trial(a.to_dict(), truth, trial.name, trial.runner).spurious == 0


# ----------------------------------------------------------------------------- turning points
def test_turning_points_find_each_strides_forward_peak() -> None:
    from device.gait.treadmill import turning_points

    t = np.arange(0.0, 10.0, 1 / 30)
    stride = 0.72
    peaks = np.arange(0.2, 10.0, stride)
    clean = 150.0 * np.cos(2 * np.pi * (t - 0.2) / stride)  # forward peak at 0.2 + k·stride
    inside = peaks[peaks < 9.75]

    def err(found: np.ndarray, want: np.ndarray) -> np.ndarray:
        return np.array([np.abs(found - p).min() for p in want])

    # between frames: the parabola's vertex, not the nearest frame (up to 17 ms off)
    assert err(turning_points(t, clean, 1.0), inside).max() < 0.002
    rear = turning_points(t, clean, -1.0)
    assert err(rear, inside[:-1] + stride / 2).max() < 0.002
    assert len(turning_points(t, clean, 1.0)) == len(inside)  # one per stride
    noisy = clean + np.random.default_rng(3).normal(0.0, 3.0, t.size)
    noisy[100:103] = np.nan  # unseen frames: no peak made up there, the others still found
    found = turning_points(t, noisy, 1.0)
    away = inside[(inside < 3.3) | (inside > 3.5)]
    assert np.median(err(found, away)) < 0.008 and err(found, away).max() < 0.03
    assert len(found) <= len(inside)


def test_contacts_take_the_turning_points_timing_and_the_estimates_offset() -> None:
    from device.gait.treadmill import anchor_contacts

    rng = np.random.default_rng(4)
    turns = {s: np.arange(0.3 + 0.36 * k, 12.0, 0.72) for k, s in enumerate(("left", "right"))}
    truth = {s: v + 0.07 for s, v in turns.items()}  # contact 70 ms after the forward peak
    est = {s: v + rng.normal(0.0, 0.02, v.size) for s, v in truth.items()}  # noisy estimates
    est["right"][5] += 0.4  # an estimate with no turning point of its leg near: kept
    seen = {s: np.ones(v.size, bool) for s, v in est.items()}
    out, n = anchor_contacts(est, turns, seen)
    assert n == sum(v.size for v in est.values()) - 1
    for s in ("left", "right"):
        keep = np.arange(truth[s].size) != (5 if s == "right" else -1)
        assert np.abs(out[s][keep] - truth[s][keep]).max() < 0.01  # the estimates' ±20 ms are gone
    assert out["right"][5] == est["right"][5]
    # estimates whose landing was not seen (the hip-relative fallback, placed from the forward
    # extreme itself) are anchored but do not set the offset
    fallback = {s: v.copy() for s, v in est.items()}
    for s in fallback:
        fallback[s][::3] = turns[s][::3] + 0.005
    landed = {s: np.arange(v.size) % 3 != 0 for s, v in fallback.items()}
    out2, _ = anchor_contacts(fallback, turns, landed)
    assert np.abs(out2["left"] - truth["left"]).max() < 0.01
    out3, _ = anchor_contacts(fallback, turns, seen)  # trusting them pulls every contact early
    assert np.median(out3["left"] - truth["left"]) < -0.005
    few = {"left": est["left"][:2], "right": est["right"][:0]}
    assert anchor_contacts(few, turns, {s: np.ones(v.size, bool) for s, v in few.items()})[1] == 0


@pytest.mark.parametrize(("trial", "ic_ms"), [("rbds_003_t35", 8.0), ("rbds_017_t45", 8.0)])
def test_physics_only_timing_on_force_plate_trials(dev_dir: Path, trial: str, ic_ms: float) -> None:
    """The timing real video gets (no learned correction), on force-plate trials: contacts on the
    turning points come within 6–7 ms (engine 2.4's height-based contacts: 10.4 ms pooled)."""
    from device.gait.treadmill import EventModel
    from device.validation.dataset import read_any_csv

    truth = json.loads((dev_dir / "truth" / f"{trial}.truth.json").read_text())
    tl = read_any_csv(dev_dir / "keypoints" / f"{trial}.realistic_60fps.csv.gz")
    info = RunnerInfo(truth["runner_height_cm"], truth["treadmill_speed_kmh"])
    a = analyze(tl, info, event_model=EventModel.physics(), norms=load_norms()).to_dict()
    assert a["quality"]["event_timing"]["method"].endswith("forward turning points")
    sc = score_trial(a, truth, trial, trial)
    assert float(np.mean(np.abs(sc.errors_ms["initial_contact"]))) <= ic_ms
    assert sc.spurious == 0


def test_contacts_no_stance_of_which_matches_the_belt_are_not_timed() -> None:
    """A dark video (docs/capture.md) lost the feet so often that not one stance fitted the belt's
    motion; the contacts kept their first estimate, 70–140 ms early, and a contact time of 362 ms
    (labels ≈ 223) was printed. Here the ankles never leave the belt's height: no stance to fit."""
    from device.gait.metric_ids import EVENT_INSTANT_METRICS
    from device.synthetic.runner import RunnerParams, SyntheticRunner

    p = RunnerParams(fps=30, duration_s=30, noise_px=1, seed=2)
    plain = analyze(
        SyntheticRunner(p).timeline(), event_model=EventModel.physics(), norms=load_norms()
    ).to_dict()
    assert "events_unverified" not in plain["quality"]["issues"]
    assert plain["metrics"]["contact_time_ms"]["value"] is not None
    tl = SyntheticRunner(p).timeline()
    for side in ("left", "right"):
        k = KP[f"{side}_ankle"]
        tl.xy[:, k, 1] = np.nanmedian(tl.xy[:, k, 1])
    a = analyze(tl, event_model=EventModel.physics(), norms=load_norms()).to_dict()
    assert "events_unverified" in a["quality"]["issues"] and a["quality"]["verdict_code"] != "good"
    for mid in EVENT_INSTANT_METRICS:
        m = a["metrics"][mid]
        assert m["value"] is None and "belt" in m["reason"], (mid, m)
    assert a["metrics"]["cadence_spm"]["value"] is not None  # the rhythm needs no contact instant
    # no "landing" frame or contact-to-contact curve drawn from moments that are not known
    assert plain["evidence"] and plain["curves"]
    assert a["evidence"] == [] and a["curves"] == {}
    # the analysis JSON keeps the contacts (the steps they mark), below every timed event's
    # confidence (they read 0.5 before, above the plain run's own)
    from device.gait.analysis import UNSEEN_MOMENT_CONFIDENCE

    assert a["events"] and max(e["confidence"] for e in a["events"]) == UNSEEN_MOMENT_CONFIDENCE
    assert min(e["confidence"] for e in plain["events"]) > UNSEEN_MOMENT_CONFIDENCE


# ----------------------------------------------------------------------------- the data's ends
def test_a_peak_next_to_the_start_of_the_data_is_measured_on_its_inner_side() -> None:
    """The first backward peak of a trial whose data begins in a stance (the foot already on its
    way back): 0.22 leg of descent on the cut side, 0.5 on the other, prominence 0.25. SciPy
    measures the cut side and drops it (that stance's toe-off was lost); here it is found. The
    first sample, the top of a slope begun before the data, is never a peak."""
    from scipy.signal import find_peaks

    from device.gait.events import _peaks_to_the_ends

    t = np.arange(0.0, 2.0, 0.01)
    back = np.cos(2 * np.pi * (t - 0.2) / 0.7) * 0.25 + 0.25  # peaks 0.5 at 0.2, 0.9, 1.6 s
    back[:20] = 0.28 + 0.22 * t[:20] / 0.2  # the cut side: from 0.28 at the start up to 0.5
    assert 20 not in find_peaks(back, prominence=0.25, distance=24)[0]
    found = _peaks_to_the_ends(back, 0.25, 24)
    assert found.tolist() == [20, 90, 160]
    falling = np.linspace(1.0, 0.0, 50)  # a slope whose top came before the data
    assert _peaks_to_the_ends(falling, 0.25, 24).size == 0


def test_peaks_to_the_ends_keep_every_peak_scipy_finds() -> None:
    """Only the ends' peaks can be added: every peak find_peaks keeps is kept (random walks)."""
    from scipy.signal import find_peaks

    from device.gait.events import _peaks_to_the_ends

    rng = np.random.default_rng(7)
    for _ in range(200):
        x = np.convolve(np.cumsum(rng.normal(size=int(rng.integers(50, 600)))), np.ones(5) / 5, "same")
        prom, dist = float(rng.uniform(0.5, 5.0)), int(rng.integers(1, 30))
        want = set(find_peaks(x, prominence=prom, distance=dist)[0].tolist())
        got = _peaks_to_the_ends(x, prom, dist)
        assert want <= set(got.tolist())
        assert not {0, x.size - 1} & set(got.tolist())


def test_a_stance_cut_by_the_start_is_timed_from_the_foots_own_floor() -> None:
    """The data begins after the heel has left the belt: the lowest point in the data is not
    the foot flat on the belt, so a toe-off measured from it came late (development set, the
    stances cut by the start: toe-off MAE 11.5 → 6.7 ms at 60 fps, 13.7 → 8.0 at 30 fps).
    Measured from the foot's floor in its whole stances it is where the ankle passes the
    toe-off height; from the lowest point in the data, 45 ms late here."""
    from device.gait.events import TO_HEIGHT_FRAC_UNCORRECTED, stance_floor, uncorrected_toe_off

    leg, fs = 400.0, 100.0
    t = np.arange(0.0, 3.0, 1 / fs)
    rise = np.clip((t % 0.7) - 0.3, 0.0, None) * 1.2 * leg  # on the belt 0–0.3 s of each 0.7 s
    height = 100.0 + rise
    ic = np.array([np.nan, 0.7, 1.4])
    to = np.array([0.45, 1.15, 1.85])  # the reference crossings the estimate searches before
    floor = stance_floor(t, height, ic, to)
    assert floor == pytest.approx(100.0)
    cut = t >= 0.34  # the data starts 40 ms after the heel left the belt
    truth = 0.3 + TO_HEIGHT_FRAC_UNCORRECTED / 1.2
    with_floor = uncorrected_toe_off(t[cut], height[cut], np.nan, 0.45, leg, floor)
    without = uncorrected_toe_off(t[cut], height[cut], np.nan, 0.45, leg)
    assert with_floor == pytest.approx(truth, abs=0.011)
    assert without > truth + 0.02


def test_a_toe_off_is_timed_from_its_foots_level_on_the_belt_around_it() -> None:
    """The pose model puts one stance's ankle 2 % of leg too low for a few frames (MoveNet on
    real video scatters so from stance to stance). Measured from that stance's own lowest
    points the toe-off came early (its level too low); from the foot's level over its neighbouring stances (the belt
    does not move up or down) it is where the ankle passes the toe-off height."""
    from device.gait.events import (
        TO_HEIGHT_FRAC_UNCORRECTED,
        local_floors,
        stance_floors,
        uncorrected_toe_off,
    )

    leg, fs, period = 400.0, 30.0, 0.7
    t = np.arange(0.0, 5.0, 1 / fs)
    rise = np.clip((t % period) - 0.3, 0.0, None) * 1.2 * leg  # on the belt 0–0.3 s of each stride
    height = 100.0 + rise
    dip = (t > 2.15) & (t < 2.25)  # the fourth stance (2.1–2.4 s): three frames 8 px too low
    height[dip] -= 0.02 * leg
    ic = np.arange(7) * period
    to = ic + 0.45  # the reference crossings the estimate searches before
    own = stance_floors(t, height, ic, to)
    assert own[3] == pytest.approx(100.0 - 0.02 * leg)
    local = local_floors(own)
    assert np.allclose(local, 100.0)
    truth = 2.1 + 0.3 + TO_HEIGHT_FRAC_UNCORRECTED / 1.2
    from_own = uncorrected_toe_off(t, height, ic[3], to[3], leg)
    from_local = uncorrected_toe_off(t, height, ic[3], to[3], leg, local[3])
    assert from_local == pytest.approx(truth, abs=0.002)
    assert from_own < truth - 0.012  # early by more than a third of a frame


def test_the_foots_level_follows_a_runner_drifting_toward_the_camera() -> None:
    """The belt's level in the picture moves slowly when the runner drifts in depth: each
    stance's level is its neighbours', not the whole capture's; stances without a floor of
    their own (cut by the data's ends) take their neighbours'."""
    from device.gait.events import FLOOR_NEIGHBOURS, local_floors

    floors = np.linspace(100.0, 110.0, 21)  # 0.5 px a stance
    floors[[0, 10]] = np.nan
    local = local_floors(floors)
    assert np.all(np.isfinite(local))
    inner = slice(FLOOR_NEIGHBOURS, 21 - FLOOR_NEIGHBOURS)
    assert np.allclose(
        local[inner][[0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14]],
        floors[inner][[0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14]],
        atol=0.3,
    )
    assert abs(local[10] - 105.0) <= 0.3  # its own is unknown: the neighbours' median
    assert local[-1] < 110.0 and local[-1] > 108.0  # at the end: the last stances', not 105
    assert np.all(np.isnan(local_floors(np.full(5, np.nan))))


def test_a_foot_unseen_in_the_first_frames_is_cut_by_the_start_where_it_is_first_seen() -> None:
    """The far foot leaves the belt as the data begins, and the pose model first sees it a frame
    later, already rising. Its lowest seen point is not the foot flat on the belt: measured from
    it the toe-off came late (by 100 ms on a second noise draw of the development set's
    rbds_015_t35: a spurious toe-off). It is a stance cut by the start, measured from the
    foot's own floor: its toe-off lands where every whole stance's does."""
    from device.gait.events import detect_side_events

    leg, fs, period, stance = 400.0, 100.0, 0.7, 0.25
    t = np.arange(0.0, 3.0, 1 / fs)
    phase = (t + stance) % period  # toe-offs at 0.0, 0.7, …
    swing = np.clip(phase - stance, 0.0, None)
    height = 100.0 + np.where(phase < stance, 0.0, 0.35 * leg * np.sin(np.pi * swing / (period - stance)))
    # ankle ahead of the hip (+) at contact, furthest back 0.12 s after toe-off, then forward
    rel = np.interp(phase, [0.0, stance, stance + 0.12, period], [0.3, -0.3, -0.35, 0.3]) * leg
    true_to = np.arange(0.0, 3.0, period)
    height[:1] = rel[:1] = np.nan  # unseen in the first frame

    ev = detect_side_events(t, rel, height, leg, fs)
    tos = ev.to[np.isfinite(ev.to)]
    whole = [to - true_to[np.argmin(np.abs(true_to - to))] for to in tos if to > 0.3]
    first = tos[tos < 0.3]
    assert whole and first.size == 1
    # the cut stance's crossing sits where the whole stances' do (it was 18 ms further on)
    assert first[0] - true_to[0] == pytest.approx(float(np.median(whole)), abs=0.005)


@pytest.mark.slow
@pytest.mark.parametrize("draw", [3, 6])
def test_no_contact_is_timed_where_the_data_cannot_show_its_stance(
    samples_dir: Path, model_path: Path, draw: int
) -> None:
    """On two noise draws of the labelled clip a contact moved onto its turning point landed in
    the clip's last frame (359.1), with no stance after it to confirm it (the labels stop at the
    toe-off of frame 354): no contact is timed within 30 ms of the data's ends."""
    from device.validation.dataset import LABELLED_CLIP, video_keypoints

    tl = video_keypoints(samples_dir / LABELLED_CLIP, model=str(model_path), draw=draw)
    a = analyze(tl, norms=load_norms())
    ics = [e.t for e in a.events if e.kind == "initial_contact"]
    assert ics and min(ics) >= tl.t[0] + 0.03 and max(ics) <= tl.t[-1] - 0.03
