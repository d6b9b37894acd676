"""`gait-station validate`: the gait engine against the development set, the labelled real clip
and the sample clips; one table per condition. A bench-style run (minutes), not a unit test.

Conditions: ``clean`` (exact joint centres at the mocap rate), ``realistic_60fps`` (the set's
MoveNet-like files), ``realistic_30fps`` (made with the set's ``make_realistic.py`` into the
cache), ``real video`` (MoveNet on the labelled clip). Each force-plate condition gives a table
per runner and a pooled row; fitted parts of the engine (the event-timing model) are scored
leave-one-runner-out (the model used for a runner's trials was fitted without that runner) and
in-sample, and the tables say which is which. ``--reference`` also runs the older checks
(synthetic runner at several rates, the single shared trial).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from device.cli_args import check_outputs, number, written_whole
from device.errors import InputError, UserError
from device.gait.treadmill import EventModel
from device.norms_file import load_norms
from device.validation.fitting import CONDITIONS as FITTED_CONDITIONS  # tables in-sample and LORO
from device.validation.scoring import Pooled, TrialScore, pool, score_trial

# Acceptance (issue 10), per runner on the development set.
LIMITS = {
    "realistic_60fps": {
        "ic": 8.0,
        "to": 12.0,
        "contact": 10.0,
        "detected": 99.0,
        "side": 100.0,
        "cadence": 0.5,
    },
    "realistic_30fps": {"ic": 12.0, "to": 15.0},
}
#: the development set's keypoints timed as the station times every capture and video (the pose
#: model's keypoints: no correction, nothing fitted, so no leave-one-runner-out table),
#: condition → keypoints
PHYSICS_CONDITIONS = {
    "physics_60fps": "realistic_60fps",
    "physics_30fps": "realistic_30fps",
    "physics_25fps": "realistic_25fps",
    "physics_20fps": "realistic_20fps",
}
#: the development set's keypoints with noise no fitted model has seen (the set's own recipe,
#: another seed), timed as the acceptance's tables are: in-sample and leave-one-runner-out.
#: Not acceptance lines (the acceptance is on the published files): how much of the fitted
#: timing's figures belong to the one noise draw it was fitted on. Condition → keypoints.
REDRAW_CONDITIONS = {
    "redraw_60fps": "realistic_60fps_redraw",
    "redraw_30fps": "realistic_30fps_redraw",
}
LORO_TOLERANCE = 0.20  # leave-one-runner-out figures within 20 % of the in-sample ones
REAL_CLIP_LIMITS = {"within_one_frame_pct": 95.0, "cadence_pct": 1.0}
PLAUSIBLE_GOOD_CADENCE = (120.0, 230.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from device.validation.dataset import CACHE_DIR, DEV_DIR, SAMPLES_DIR

    parser.add_argument("--dev-dir", default=str(DEV_DIR), help="development set folder")
    parser.add_argument("--samples-dir", default=str(SAMPLES_DIR), help="sample clips folder")
    parser.add_argument(
        "--cache-dir", default=str(CACHE_DIR), help="cache for made variants and video keypoints"
    )
    parser.add_argument(
        "--conditions",
        default="clean,realistic_60fps,realistic_30fps,video",
        help="comma-separated subset of clean, realistic_60fps, realistic_30fps, physics_60fps, "
        "physics_30fps, physics_25fps, physics_20fps (the realistic keypoints at that rate timed as "
        "captures and videos are), redraw_60fps, redraw_30fps (the realistic recipe with another "
        "seed: noise no fitted model has seen), video, degraded (the labelled clip made darker, noisier, blurred, "
        "washed out), samples",
    )
    parser.add_argument(
        "--runners", default="", help="only these runners (comma-separated), for a quick look"
    )
    parser.add_argument(
        "--jobs", type=number("jobs", 1, 64, integer=True), default=2, help="worker processes (default 2)"
    )
    parser.add_argument(
        "--draws",
        type=number("draws", 0, 1000, integer=True),
        default=8,
        help="noise draws of the labelled clip (±1 pixel level, as between two decoders; default 8)",
    )
    parser.add_argument("--no-loro", action="store_true", help="in-sample only (faster)")
    parser.add_argument("--reference", action="store_true", help="also the synthetic runner and shared trial")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown")


# ----------------------------------------------------------------------------- running trials
def _analyse_trial(job: tuple[str, str, str, str, Any]) -> dict[str, Any]:
    """One trial, in a worker: (name, runner, csv path, truth path, event model or None for
    the shipped one)."""
    from device.gait.analysis import analyze
    from device.gait.types import RunnerInfo
    from device.validation.dataset import read_any_csv

    name, runner, csv_path, truth_path, model = job
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    tl = read_any_csv(Path(csv_path))
    info = RunnerInfo(height_cm=truth.get("runner_height_cm"), speed_kmh=truth.get("treadmill_speed_kmh"))
    a = analyze(tl, info, norms=load_norms(), event_model=model)
    sc = score_trial(a.to_dict(), truth, name, runner)
    return sc.__dict__


def run_condition(
    trials: list,
    condition: str,
    cache_dir: Path,
    jobs: int,
    folds: dict[str, EventModel] | None,
    model: EventModel | None = None,
) -> dict[str, list[TrialScore]]:
    """Scores of every trial, in-sample and (when ``folds``) leave-one-runner-out. ``model``:
    the event model of the in-sample run (default: the shipped one)."""
    from device.validation.dataset import MADE_RATES, condition_path, ensure_realistic

    keypoints = PHYSICS_CONDITIONS.get(condition) or REDRAW_CONDITIONS.get(condition, condition)
    paths = {}
    for tr in trials:
        p = (
            ensure_realistic(tr, keypoints, cache_dir)
            if keypoints in MADE_RATES
            else condition_path(tr, keypoints)
        )
        paths[tr.name] = p
    out: dict[str, list[TrialScore]] = {}
    modes = [("in-sample", False)] + ([("leave-one-runner-out", True)] if folds else [])
    for mode, held in modes:
        work = [
            (
                tr.name,
                tr.runner,
                str(paths[tr.name]),
                str(tr.truth_path),
                folds[tr.runner] if held and folds else model,
            )
            for tr in trials
        ]
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as ex:
                res = list(ex.map(_analyse_trial, work, chunksize=2))
        else:
            res = [_analyse_trial(w) for w in work]
        out[mode] = [TrialScore(**r) for r in res]
    return out


def per_runner(scores: list[TrialScore]) -> list[Pooled]:
    runners = sorted({s.runner for s in scores})
    return [pool(r, [s for s in scores if s.runner == r]) for r in runners]


# ----------------------------------------------------------------------------- tables
def _f(x: float | None, nd: int = 1) -> str:
    return "–" if x is None else f"{x:.{nd}f}"


HEADER = (
    "| runner | trials | IC MAE ms | IC p95 | TO MAE ms | TO p95 | detected % | spurious | sides right % "
    "| cadence err max % | contact-time err ms | L/R contact diff err ms | knee@IC err ° "
    "| knee peak stance err ° | belt speed err % | not good |"
)


def _row(p: Pooled) -> str:
    return (
        f"| {p.label} | {p.trials} | {_f(p.ic_mae)} | {_f(p.ic_p95)} | {_f(p.to_mae)} | {_f(p.to_p95)} "
        f"| {_f(p.detected_pct, 2)} | {p.spurious} | {_f(p.side_pct, 1)} | {_f(p.cadence_abs_max_pct, 2)}"
        f"{' (' + str(p.cadence_missing) + ' null)' if p.cadence_missing else ''} | {_f(p.contact_mae)} "
        f"| {_f(p.contact_diff_mae)} | {_f(p.knee_mae)} | {_f(p.knee_peak_mae)} | {_f(p.speed_abs_mean_pct)} "
        f"| {p.not_good} |"
    )


def runner_failures(condition: str, rows: list[Pooled]) -> list[str]:
    lim = LIMITS.get(condition)
    if not lim:
        return []
    bad = []
    for p in rows:
        why = []
        if p.ic_mae is None or p.ic_mae > lim["ic"]:
            why.append(f"IC {_f(p.ic_mae)} > {lim['ic']}")
        if p.to_mae is None or p.to_mae > lim["to"]:
            why.append(f"TO {_f(p.to_mae)} > {lim['to']}")
        if "contact" in lim and (p.contact_mae is None or p.contact_mae > lim["contact"]):
            why.append(f"contact {_f(p.contact_mae)} > {lim['contact']}")
        if "detected" in lim and (p.detected_pct is None or p.detected_pct < lim["detected"]):
            why.append(f"detected {_f(p.detected_pct, 2)} < {lim['detected']}")
        if "detected" in lim and p.spurious:
            why.append(f"{p.spurious} spurious")
        if "side" in lim and (p.side_pct is None or p.side_pct < lim["side"]):
            why.append(f"sides {_f(p.side_pct)} %")
        if "cadence" in lim and (
            p.cadence_abs_max_pct is None or p.cadence_abs_max_pct > lim["cadence"] or p.cadence_missing
        ):
            why.append(f"cadence {_f(p.cadence_abs_max_pct, 2)} %")
        if why:
            bad.append(f"{p.label}: " + ", ".join(why))
    return bad


def condition_tables(condition: str, res: dict[str, list[TrialScore]], out: list[str]) -> bool:
    ok = True
    for mode, scores in res.items():
        rows = per_runner(scores)
        allp = pool("**all runners**", scores)
        out.append(f"\n### {condition} — {mode}\n")
        if mode == "leave-one-runner-out":
            out.append(
                "The fitted event-timing model used for each runner's trials was fitted on the other "
                "22 runners only.\n"
            )
        elif condition in PHYSICS_CONDITIONS:
            out.append(
                f"The {PHYSICS_CONDITIONS[condition]} keypoints timed as the station times every capture "
                "and video: no learned correction (toe-offs by the height rule, contacts on the ankles' "
                "forward turning points). Nothing here is fitted.\n"
            )
        elif condition in REDRAW_CONDITIONS:
            out.append(
                "The shipped event-timing model (fitted on all 23 runners' published draws) on "
                f"{REDRAW_CONDITIONS[condition]}: the same recipe with another seed, noise it was "
                "not fitted on. For the record, not an acceptance line.\n"
            )
        else:
            out.append("The shipped event-timing model (fitted on all 23 runners) is used.\n")
        out.append(HEADER)
        out.append("|" + "---|" * (HEADER.count("|") - 1))
        out.extend(_row(p) for p in rows)
        out.append(_row(allp))
        aside = sorted(
            x.trial for x in scores if x.event_timing and not x.event_timing.startswith("physics +")
        )
        if condition not in PHYSICS_CONDITIONS:
            out.append(
                f"\nLearned event-timing correction set aside (keypoints noisier or patchier than it was fitted on) on "
                f"{len(aside)} of {len(scores)} trials{': ' + ', '.join(aside) if aside else ''}."
            )
        # a redraw is held to its rate's limits for the record
        limits_of = REDRAW_CONDITIONS.get(condition, condition).removesuffix("_redraw")
        fails = runner_failures(limits_of, rows)
        if limits_of in LIMITS:
            head = "Acceptance per runner" if condition in LIMITS else f"Against {limits_of}'s limits"
            out.append(
                f"\n{head}: "
                + ("**met by every runner**" if not fails else f"**not met** by {len(fails)} runner(s):")
            )
            out.extend(f"- {f}" for f in fails)
            ok &= not fails
    if "leave-one-runner-out" in res:
        a = pool("in", res["in-sample"])
        b = pool("loro", res["leave-one-runner-out"])
        lines = []
        for name, x, y in (
            ("IC MAE", a.ic_mae, b.ic_mae),
            ("TO MAE", a.to_mae, b.to_mae),
            ("contact", a.contact_mae, b.contact_mae),
        ):
            if x and y is not None:
                rel = (y - x) / x
                good = rel <= LORO_TOLERANCE
                ok &= good
                lines.append(f"{name} {_f(x)} → {_f(y)} ms ({100 * rel:+.0f} %{'' if good else ', > 20 %'})")
        out.append("\nLeave-one-runner-out vs in-sample: " + "; ".join(lines))
    return ok


# ----------------------------------------------------------------------------- real video
def real_clip(
    samples_dir: Path, cache_dir: Path, out: list[str], draws: int = 0
) -> tuple[bool, dict[str, Any]]:
    from device.gait.analysis import analyze
    from device.validation.dataset import LABELLED_CLIP, video_keypoints

    video = samples_dir / LABELLED_CLIP
    truth = json.loads(video.with_suffix(".truth.json").read_text(encoding="utf-8"))
    tl = video_keypoints(video, cache_dir)
    a = analyze(
        tl, norms=load_norms(), event_model=EventModel.physics()
    ).to_dict()  # as the product times video
    fps = float(truth.get("fps") or 30.0)
    truth = dict(truth)
    sc = score_trial(a, truth, "labelled clip", "zzzhushi", frame_s=1.0 / fps)
    p = pool("labelled clip (MoveNet)", [sc])
    ic_det = 100.0 * sc.n_detected["initial_contact"] / max(1, sc.n_true["initial_contact"])
    ic_w = _within(a, truth, "initial_contact", 1.0 / fps)
    out.append(
        "\n### real video — labelled treadmill clip, 30 fps, MoveNet keypoints (nothing fitted on it)\n"
    )
    out.append(
        "| clip | ICs found | TOs found | within 1 frame (IC+TO) | ICs within 1 frame | IC MAE ms | TO MAE ms "
        "| spurious | sides right % | cadence err % | contact time L/R ms (label 190/190) | near side | verdict |"
    )
    out.append("|" + "---|" * 13)
    ct = a["metrics"]["contact_time_ms"]
    out.append(
        f"| {LABELLED_CLIP} | {sc.n_detected['initial_contact']}/{sc.n_true['initial_contact']} "
        f"| {sc.n_detected['toe_off']}/{sc.n_true['toe_off']} | {_f(p.within_one_frame_pct)} % | {_f(ic_w)} % "
        f"| {_f(p.ic_mae)} | {_f(p.to_mae)} | {p.spurious} | {_f(p.side_pct)} | {_f(sc.cadence_err_pct, 2)} "
        f"| {_f(ct.get('left'), 0)}/{_f(ct.get('right'), 0)} | {a['quality'].get('near_side')} "
        f"({a['quality'].get('side_method')}) | {a['quality'].get('verdict_code')} |"
    )
    ok = (
        ic_det >= 100.0
        and (p.within_one_frame_pct or 0) >= REAL_CLIP_LIMITS["within_one_frame_pct"]
        and p.side_pct == 100.0
        and sc.cadence_err_pct is not None
        and abs(sc.cadence_err_pct) <= REAL_CLIP_LIMITS["cadence_pct"]
    )
    out.append(
        "\nAcceptance (every contact found, ≥ 95 % within one frame, sides all right, cadence within 1 %): "
        + ("**met**" if ok else "**not met**")
    )
    bias = signed_by_side(a, truth, 1.0 / fps)
    phys = label_contact_ms(truth, fps)
    out.append(
        "\nTiming against the labels, per side of the runner (mean signed error in frames, engine − "
        "label, of the events matched within 60 ms; a label is the first frame on the belt (IC) / "
        "the last frame on it (TO), so a physically exact engine sits near −0.5 (IC) and +0.5 (TO)); "
        "contact time against the labels' physical estimate (TO − IC + 1 frames):\n"
    )
    out.append(
        "| side | IC bias (frames) | IC n | TO bias (frames) | TO n | contact ms: engine / label physical |"
    )
    out.append("|---|---|---|---|---|---|")
    for side in ("left", "right"):
        b = bias[side]
        out.append(
            f"| {side} | {_f(b['initial_contact'][0], 2)} | {b['initial_contact'][1]} "
            f"| {_f(b['toe_off'][0], 2)} | {b['toe_off'][1]} | {_f(ct.get(side), 0)} / {_f(phys.get(side), 0)} |"
        )
    spread = noise_draws(video, truth, fps, cache_dir, draws, out) if draws else []
    return ok, {
        "score": sc.__dict__,
        "analysis_quality": a["quality"],
        "bias_frames": bias,
        "noise_draws": spread,
    }


def noise_draws(
    video: Path, truth: dict, fps: float, cache_dir: Path, draws: int, out: list[str]
) -> list[dict[str, Any]]:
    """The clip scored over ``draws`` copies of its frames with ±1-level pixel noise: the table
    above is one draw of MoveNet's response to noise a different decoder (another machine) makes."""
    from device.validation.dataset import video_keypoints

    out.append(
        f"\nThe same clip over {draws} noise draws (every pixel level moved by −1, 0 or +1, seeded: "
        "the size of the difference between FFmpeg's decode on arm64 and on x86-64):\n"
    )
    out.append(
        "| draw | ICs found | TOs found | within 1 frame (IC+TO) | spurious | sides right % | cadence err % "
        "| contact time L/R ms |"
    )
    out.append("|" + "---|" * 8)
    rows: list[dict[str, Any]] = []
    for seed in range(1, draws + 1):
        a, sc, p = _scored_copy(video_keypoints(video, cache_dir, draw=seed), truth, fps, f"draw {seed}")
        ct = a["metrics"]["contact_time_ms"]
        row = {"draw": seed, **_copy_row(a, sc, p)}
        rows.append(row)
        out.append(
            f"| {seed} | {row['ics']}/{sc.n_true['initial_contact']} | {row['tos']}/{sc.n_true['toe_off']} "
            f"| {_f(p.within_one_frame_pct)} % | {p.spurious} | {_f(p.side_pct)} | {_f(sc.cadence_err_pct, 2)} "
            f"| {_f(ct.get('left'), 0)}/{_f(ct.get('right'), 0)} |"
        )

    def span(key: str) -> str:
        v = sorted(r[key] for r in rows if r[key] is not None)
        return f"{_f(v[0])}–{_f(float(np.median(v)))}–{_f(v[-1])}" if v else "—"

    cad = [abs(r["cadence_err_pct"]) for r in rows if r["cadence_err_pct"] is not None]
    out.append(
        f"\nOver the draws (min–median–max): ICs found {span('ics')}, TOs found {span('tos')}, within one "
        f"frame {span('within_one_frame_pct')} %, spurious {span('spurious')}, sides right "
        f"{span('sides_pct')} %, |cadence error| up to {_f(max(cad), 2) if cad else '—'} % "
        f"({sum(1 for r in rows if r['cadence_err_pct'] is None)} draws without a cadence)."
    )
    return rows


def _scored_copy(tl: Any, truth: dict, fps: float, label: str) -> tuple[dict[str, Any], TrialScore, Pooled]:
    """One copy of the labelled clip (a noise draw, a degraded copy) analysed as the product
    times video and scored against the labels."""
    from device.gait.analysis import analyze

    a = analyze(tl, norms=load_norms(), event_model=EventModel.physics()).to_dict()
    sc = score_trial(a, truth, f"labelled clip, {label}", "zzzhushi", frame_s=1.0 / fps)
    return a, sc, pool(label, [sc])


def _copy_row(a: dict[str, Any], sc: TrialScore, p: Pooled) -> dict[str, Any]:
    ct = a["metrics"]["contact_time_ms"]
    return {
        "ics": sc.n_detected["initial_contact"],
        "tos": sc.n_detected["toe_off"],
        "within_one_frame_pct": p.within_one_frame_pct,
        "spurious": p.spurious,
        "sides_pct": p.side_pct,
        "cadence_err_pct": sc.cadence_err_pct,
        "contact_ms": [ct.get("left"), ct.get("right")],
    }


def mirrored_labels(truth: dict[str, Any]) -> dict[str, Any]:
    """The labels of the clip flipped left to right: the same frames, each event's side (and
    the near side) swapped."""
    swap = {"left": "right", "right": "left"}
    out = dict(truth)
    out["events"] = [dict(e, side=swap.get(e["side"], e["side"])) for e in truth["events"]]
    if "near_side" in truth:
        out["near_side"] = swap.get(truth["near_side"], truth["near_side"])
    return out


def degraded_copies(samples_dir: Path, cache_dir: Path, out: list[str]) -> list[dict[str, Any]]:
    """The labelled clip made worse the ways a clinic's video may be (dataset.DEGRADATIONS) and
    scored against its labels. Not an acceptance line: what must hold is that a worse picture
    costs contacts, never a wrong side, a wrong cadence or an unflagged wrong contact time."""
    from device.validation.dataset import DEGRADATIONS, LABELLED_CLIP, MIRRORED, video_keypoints

    video = samples_dir / LABELLED_CLIP
    truth = json.loads(video.with_suffix(".truth.json").read_text(encoding="utf-8"))
    fps = float(truth.get("fps") or 30.0)
    phys = label_contact_ms(truth, fps)
    out.append("\n### real video — the labelled clip made worse (nothing fitted on it)\n")
    out.append(
        "Each copy is the plain decode transformed while it is read (seeded): dark = gamma 1.5, gain "
        "0.7; noisy = Gaussian noise σ 8 levels (6 on the dark copy); blurred = Gaussian σ 2.5 px; "
        "washed out = contrast 0.45 + 110; mirrored = flipped left to right (the runner faces "
        "image-right: scored against the labels with their sides swapped); half resolution = "
        "640×360 (INTER_AREA); JPEG quality 30 = each frame re-encoded; feet below the picture = "
        "the middle 80 % each way (a camera too close: the feet in stance fall below its edge); "
        "15 fps = every 2nd frame; every 6th frame dropped = 5 of 6 kept (25 fps, frames 33 or 67 ms "
        "apart); upper body above the picture = its top 55 % cut away (the "
        "picture starts just below the nose). Contact time by the "
        f"labels (physical): "
        f"{_f(phys.get('left'), 0)}/{_f(phys.get('right'), 0)} ms.\n"
    )
    out.append(
        "| copy | ICs found | TOs found | within 1 frame (IC+TO) | spurious | sides right % | cadence err % "
        "| contact time L/R ms | issues |"
    )
    out.append("|" + "---|" * 9)
    rows: list[dict[str, Any]] = []
    for name in DEGRADATIONS:
        labels = mirrored_labels(truth) if name == MIRRORED else truth
        a, sc, p = _scored_copy(video_keypoints(video, cache_dir, degradation=name), labels, fps, name)
        ct = a["metrics"]["contact_time_ms"]
        row = {"copy": name, **_copy_row(a, sc, p), "issues": a["quality"]["issues"]}
        rows.append(row)
        out.append(
            f"| {name} | {row['ics']}/{sc.n_true['initial_contact']} | {row['tos']}/{sc.n_true['toe_off']} "
            f"| {_f(p.within_one_frame_pct)} % | {p.spurious} | {_f(p.side_pct)} | {_f(sc.cadence_err_pct, 2)} "
            f"| {_f(ct.get('left'), 0)}/{_f(ct.get('right'), 0)} | {', '.join(row['issues']) or '—'} |"
        )
    return rows


def signed_by_side(a: dict, truth: dict, frame_s: float) -> dict[str, dict[str, tuple[float | None, int]]]:
    """Mean signed error (frames) of the matched events, grouped by the labelled event's side."""
    from device.validation.scoring import TOL_S, _match

    out: dict[str, dict[str, tuple[float | None, int]]] = {"left": {}, "right": {}}
    for kind in ("initial_contact", "toe_off"):
        P = [e["t"] for e in a["events"] if e["kind"] == kind]
        T = [e for e in truth["events"] if e["kind"] == kind]
        m = _match(P, [e["t"] for e in T], TOL_S)
        for side in ("left", "right"):
            d = [err / frame_s for _i, j, err in m if T[j]["side"] == side]
            out[side][kind] = (float(sum(d) / len(d)) if d else None, len(d))
    return out


def label_contact_ms(truth: dict, fps: float) -> dict[str, float]:
    """Per side, the mean of (TO − IC + 1) frames over the labelled stances, in ms: a label marks
    the first / last frame on the belt, so the contact itself spans about one frame more."""
    out = {}
    for side in ("left", "right"):
        ics = sorted(
            e["frame"] for e in truth["events"] if e["side"] == side and e["kind"] == "initial_contact"
        )
        tos = sorted(e["frame"] for e in truth["events"] if e["side"] == side and e["kind"] == "toe_off")
        d = []
        for f in ics:
            nxt = [x for x in tos if x > f]
            if nxt:
                d.append(nxt[0] - f + 1)
        if d:
            out[side] = 1000.0 * sum(d) / len(d) / fps
    return out


def _within(a: dict, truth: dict, kind: str, frame_s: float) -> float | None:
    sc = score_trial({**a, "events": [e for e in a["events"] if e["kind"] == kind]}, truth, "", "", frame_s)
    n = sc.n_true[kind]
    if not n:
        return None
    k = sum(1 for e in sc.errors_ms[kind] if abs(e) <= 1000 * frame_s + 1)
    return 100.0 * k / n


# ----------------------------------------------------------------------------- sample clips
SAMPLE_EXPECT = {
    "walking_side_30fps.mp4": "activity walking",
    "two_people_walking_30fps.mp4": "two people warned",
    "front_view_road_run_30fps.mp4": "frontal metrics only",
    "treadmill_side_slowmo.mp4": "slow motion recognised",
}


def samples(samples_dir: Path, cache_dir: Path, out: list[str]) -> tuple[bool, list[dict]]:
    from device.analyze import analyze_timeline
    from device.validation.dataset import video_keypoints

    out.append("\n### sample clips (MoveNet keypoints): behaviour\n")
    out.append("| clip | view | activity | cadence spm | verdict | issues | expected | ok |")
    out.append("|" + "---|" * 8)
    ok = True
    rows = []
    for video in sorted([*samples_dir.glob("*.mp4"), *samples_dir.glob("*.gif")]):
        tl = video_keypoints(video, cache_dir)
        res, _w = analyze_timeline(tl, path=video, kind="video", facts=_facts(tl))
        q = res["quality"]
        cad = res.get("cadence_spm")
        good = q.get("verdict_code") == "good"
        fine = not (
            good and cad is not None and not PLAUSIBLE_GOOD_CADENCE[0] <= cad <= PLAUSIBLE_GOOD_CADENCE[1]
        )
        exp = SAMPLE_EXPECT.get(video.name, "no implausible 'good'")
        if video.name.startswith("walking"):
            fine &= res["activity"] == "walking"
        elif video.name.startswith("two_people"):
            fine &= "two_people" in q.get("issues", [])
        elif video.name.startswith("front_view"):
            fine &= res["view"]["kind"] == "front" and res["metrics"]["contact_time_ms"]["value"] is None
        elif "slowmo" in video.name:
            fine &= bool(q.get("slow_motion_suspected"))
        ok &= fine
        rows.append({"clip": video.name, "view": res["view"], "cadence": cad, "quality": q})
        out.append(
            f"| {video.name} | {res['view']['kind']} {res['view'].get('facing') or ''} | {res['activity']} "
            f"| {_f(cad)} | {q.get('verdict_code')} | {', '.join(q.get('issues', []))} | {exp} | {'yes' if fine else 'NO'} |"
        )
    return ok, rows


def _facts(tl: Any) -> dict[str, Any]:
    return {
        "container_fps": None,
        "width": tl.width,
        "height": tl.height,
        "model": "movenet (cached)",
        "tagged_capture_fps": None,
    }


def _write_outputs(args: argparse.Namespace, text: str, ok: bool, results: dict[str, Any]) -> None:
    """--markdown and --json, each written whole; one that fails (a full disk) does not stop the
    other, and the one line that reports it names what was kept."""
    kept: list[str] = []
    failed: list[str] = []
    for option, path, body in (
        ("--markdown", args.markdown, lambda: text + f"\n\nOverall: {'PASS' if ok else 'FAIL'}\n"),
        ("--json", args.json, lambda: json.dumps(results, indent=1, default=float) + "\n"),
    ):
        if not path:
            continue
        out_path = Path(path).expanduser()
        try:
            with written_whole(out_path) as tmp:
                tmp.write_text(body(), encoding="utf-8")
        except OSError as exc:  # a full disk: the other file is still written
            failed.append(f"cannot write {out_path} ({option}): {exc.strerror or exc}")
        else:
            kept.append(str(out_path))
    if failed:
        raise UserError(
            "; ".join(failed)
            + "; the tables are on standard output"
            + (f"; kept {' and '.join(kept)}" if kept else "")
        )


# ----------------------------------------------------------------------------- main
def main(args: argparse.Namespace) -> int:
    from device.validation.dataset import dev_trials

    # the run takes minutes: a bad output path is said before it, not after
    check_outputs(
        {
            "--markdown": Path(args.markdown).expanduser() if args.markdown else None,
            "--json": Path(args.json).expanduser() if args.json else None,
        }
    )
    dev = Path(args.dev_dir).expanduser()
    cache = Path(args.cache_dir).expanduser()
    conds = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = set(conds) - {
        *FITTED_CONDITIONS,
        *PHYSICS_CONDITIONS,
        *REDRAW_CONDITIONS,
        "video",
        "degraded",
        "samples",
    }
    if unknown:
        raise InputError(f"--conditions: unknown {', '.join(sorted(unknown))}")
    on_dev = any(c in FITTED_CONDITIONS or c in PHYSICS_CONDITIONS or c in REDRAW_CONDITIONS for c in conds)
    trials = dev_trials(dev) if on_dev else []
    if on_dev and not trials:
        raise InputError(f"no development set in {dev} (give --dev-dir)")
    if args.runners:
        want = {r.strip() for r in args.runners.split(",") if r.strip()}
        unknown_runners = want - {t.runner for t in trials}
        if on_dev and unknown_runners:  # a typo would score no trial and print empty tables
            known = sorted({t.runner for t in trials})
            raise InputError(
                f"--runners: no trials of {', '.join(sorted(unknown_runners))} in {dev} "
                f"(runners: {', '.join(known[:3])} … {known[-1]})"
            )
        trials = [t for t in trials if t.runner in want]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"## gait-station validate — {now}",
        f"\nCommand: `gait-station validate {' '.join(sys.argv[2:])}`".rstrip(),
        f"\nDevelopment set: {len(trials)} trials, {len({t.runner for t in trials})} runners. Errors are "
        "analysis − force plate; IC/TO matched within 60 ms, side-agnostic; sides judged on matched ICs.",
    ]
    ok = True
    results: dict[str, Any] = {}
    jobs = max(1, min(args.jobs, os.cpu_count() or 1))
    folds = None
    if not args.no_loro and any(c in FITTED_CONDITIONS or c in REDRAW_CONDITIONS for c in conds):
        from device.validation.fitting import fold_models

        print("fitting the leave-one-runner-out event models …", file=sys.stderr, flush=True)
        folds = fold_models(dev_trials(dev), cache, jobs)
    for c in conds:
        if c in FITTED_CONDITIONS:
            res = run_condition(trials, c, cache, jobs, folds)
            ok &= condition_tables(c, res, out)
            results[c] = {m: [s.__dict__ for s in v] for m, v in res.items()}
        elif c in REDRAW_CONDITIONS:
            res = run_condition(trials, c, cache, jobs, folds)
            condition_tables(c, res, out)  # for the record: the acceptance is on the published files
            results[c] = {m: [s.__dict__ for s in v] for m, v in res.items()}
        elif c in PHYSICS_CONDITIONS:
            res = run_condition(trials, c, cache, jobs, None, EventModel.physics())
            condition_tables(c, res, out)  # for the record: the acceptance is the fitted timing's
            results[c] = {m: [s.__dict__ for s in v] for m, v in res.items()}
        elif c == "video":
            good, r = real_clip(Path(args.samples_dir), cache, out, args.draws)
            ok &= good
            results["video"] = r
        elif c == "degraded":
            results["degraded"] = degraded_copies(Path(args.samples_dir), cache, out)
        elif c == "samples":
            good, found = samples(Path(args.samples_dir), cache, out)
            ok &= good
            results["samples"] = found
        print("\n".join(out), flush=True)
        out_all = out
        out = []
        results.setdefault("_text", []).extend(out_all)
    if args.reference:
        from device.validation import reference

        ref = argparse.Namespace(
            fps="30,60,120",
            duration=60.0,
            seed=1,
            no_synthetic=False,
            no_real=False,
            validation_dir=str(dev.parent),
            json=None,
        )
        ok &= reference.main(ref) == 0
    print(f"\n== overall: {'PASS' if ok else 'FAIL'}")
    text = "\n".join(results.pop("_text", []))
    _write_outputs(args, text, ok, results)
    return 0 if ok else 1
