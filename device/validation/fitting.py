"""Fitting the event-timing model (:mod:`device.gait.treadmill`) on the development set.

Every trial of the set is analysed with no correction (the physics estimate); each estimated
contact / toe-off is paired with the force-plate event of that kind nearest to it (within
80 ms, side-agnostic: the target is timing, sides are judged apart), and a ridge regression
predicts the correction from the features around the estimate (the same
:func:`device.gait.treadmill.feature_rows` the engine uses: ankle height and belt-line distance,
knee relative to the ankle). Two passes: the second is
fitted on the features at the first pass's result. Clean, 60 fps and 30 fps keypoints are
pooled so one model serves every frame rate.

``python -m device.validation.fitting --write`` fits on all 23 runners and writes
``device/gait/event_weights.py``; :func:`fold_models` gives the leave-one-runner-out models
``gait-station validate`` scores with.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.gait.treadmill import MAX_CORRECTION_S, OFFSETS_S, EventModel, StanceModel, feature_rows
from device.norms_file import load_norms

CONDITIONS = ("clean", "realistic_60fps", "realistic_30fps")
KINDS = ("initial_contact", "toe_off")
PASSES = 2
#: × number of samples; features are ÷ leg length, O(0.01–1). Chosen by the leave-one-runner-out
#: error, pooled (`gait-station validate`, 2026-12-03): realistic 60 / 30 fps IC MAE 6.5 / 7.7 ms
#: with 1e-5 against 7.1 / 8.4 with 1e-3 (ankle features only); with the knee features 1e-5
#: gives 5.8 / 6.6 and 1e-4 6.0 / 6.8.
RIDGE = 1e-5
PAIR_TOL_S = 0.08
WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "gait" / "event_weights.py"


@dataclass
class Sample:
    runner: str
    side: str  # the track (pose-model label) the stance was found on
    kind: str
    t0: float
    truth: float
    series: int  # index into the series list
    sm: StanceModel


def _collect_one(
    job: tuple[str, str, str, str],
) -> tuple[str, dict, list[tuple[str, float, float, StanceModel | None]], dict]:
    from device.gait.analysis import analyze
    from device.gait.types import RunnerInfo
    from device.validation.dataset import read_any_csv

    name, runner, csv_path, truth_path = job
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    tl = read_any_csv(Path(csv_path))
    info = RunnerInfo(height_cm=truth.get("runner_height_cm"), speed_kmh=truth.get("treadmill_speed_kmh"))
    a = analyze(tl, info, norms=load_norms(), event_model=EventModel.identity())
    ser = a.diagnostics.get("event_series") or {}
    if not ser:
        return runner, {}, [], {}
    arrays = {"t": ser["t"], "tracks": ser["tracks"], "leg_px": ser["leg_px"]}
    tev = {k: np.array([e["t"] for e in truth["events"] if e["kind"] == k]) for k in KINDS}
    return runner, arrays, ser["stances"], tev


def collect(trials: list, cache_dir: Path, jobs: int = 2) -> tuple[list[Sample], list[dict]]:
    """Analyse every trial in every condition without correction; pair estimates with truth."""
    from device.validation.dataset import MADE_RATES, condition_path, ensure_realistic

    work = []
    for c in CONDITIONS:
        for tr in trials:
            p = ensure_realistic(tr, c, cache_dir) if c in MADE_RATES else condition_path(tr, c)
            work.append((tr.name, tr.runner, str(p), str(tr.truth_path)))
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            res = list(ex.map(_collect_one, work, chunksize=2))
    else:
        res = [_collect_one(w) for w in work]
    samples: list[Sample] = []
    series: list[dict] = []
    for runner, arrays, stances, tev in res:
        if not arrays:
            continue
        idx = len(series)
        series.append(arrays)
        for side, ic, to, sm in stances:
            if sm is None:
                continue
            for kind, t0 in (("initial_contact", ic), ("toe_off", to)):
                if not np.isfinite(t0) or tev[kind].size == 0:
                    continue
                j = int(np.argmin(np.abs(tev[kind] - t0)))
                if abs(tev[kind][j] - t0) <= PAIR_TOL_S:
                    samples.append(Sample(runner, side, kind, float(t0), float(tev[kind][j]), idx, sm))
    return samples, series


def _features_batch(
    samples: list[Sample], series: list[dict], times: np.ndarray, model: EventModel
) -> tuple[np.ndarray, np.ndarray]:
    """Features of every sample at ``times``, exactly as the engine computes them
    (:func:`device.gait.treadmill.feature_rows`, one call per series and side): (X, ok)."""
    groups: dict[tuple[int, str], list[int]] = {}
    for i, s in enumerate(samples):
        groups.setdefault((s.series, s.side), []).append(i)
    X = np.full((len(samples), model.n_features), np.nan)
    ok = np.zeros(len(samples), bool)
    for (k, side), idx in groups.items():
        a = series[k]
        ii = np.asarray(idx)
        x, seen = feature_rows(
            model, a["t"], a["tracks"][side], [samples[i].sm for i in idx], times[ii], a["leg_px"]
        )
        X[ii], ok[ii] = x, seen
    return X, ok


def fit(
    samples: list[Sample],
    series: list[dict],
    exclude_runner: str | None = None,
    offsets: tuple[float, ...] = OFFSETS_S,
    ridge: float = RIDGE,
    use_u: bool = True,
    use_knee: bool = True,
) -> EventModel:
    """Ridge fit per kind and pass; each runner weighs the same (the 10 short Hamner trials
    must count as much as the 30 s RBDS ones: their ankle centres are defined differently)."""
    weights: dict[str, tuple[tuple[float, ...], ...]] = {}
    shape = EventModel(weights={}, offsets_s=tuple(offsets), use_u=use_u, use_knee=use_knee)
    for kind in KINDS:
        sel = [s for s in samples if s.kind == kind and s.runner != exclude_runner]
        cur = np.array([s.t0 for s in sel])
        truth = np.array([s.truth for s in sel])
        runners = np.array([s.runner for s in sel])
        passes = []
        for _p in range(PASSES):
            X, ok = _features_batch(sel, series, cur, shape)
            X, y, r = X[ok], (truth - cur)[ok], runners[ok]
            _u, inv, cnt = np.unique(r, return_inverse=True, return_counts=True)
            sw = (len(y) / len(cnt)) / cnt[inv]
            reg = ridge * len(y) * np.eye(X.shape[1])
            reg[-1, -1] = 0.0  # the constant is not shrunk
            Xw = X * sw[:, None]
            w = np.linalg.solve(X.T @ Xw + reg, Xw.T @ y)
            passes.append(tuple(float(v) for v in w))
            d = X @ w
            move = np.abs(d) <= MAX_CORRECTION_S
            keep = np.flatnonzero(ok)
            cur[keep[move]] += d[move]
        weights[kind] = tuple(passes)
    src = (
        "development set, 23 runners"
        if exclude_runner is None
        else f"development set without {exclude_runner}"
    )
    return EventModel(weights=weights, source=src, offsets_s=tuple(offsets), use_u=use_u, use_knee=use_knee)


def fold_models(trials: list, cache_dir: Path, jobs: int = 2) -> dict[str, EventModel]:
    samples, series = collect(trials, cache_dir, jobs)
    return {r: fit(samples, series, exclude_runner=r) for r in sorted({t.runner for t in trials})}


def write_weights(model: EventModel, path: Path = WEIGHTS_FILE) -> None:
    lines = [
        '"""The shipped event-timing model (see :mod:`device.gait.treadmill`). Generated by',
        "``python -m device.validation.fitting --write`` from the development set (clean, 60 fps and",
        '30 fps keypoints of 23 runners, force-plate truth); do not edit by hand."""',
        "",
        "from device.gait.treadmill import EventModel",
        "",
        "EVENT_MODEL = EventModel(",
        "    weights={",
    ]
    for kind, passes in model.weights.items():
        lines.append(f'        "{kind}": (')
        for w in passes:
            lines.append("            (" + ", ".join(f"{v:.6g}" for v in w) + ",),")
        lines.append("        ),")
    offs = ", ".join(f"{float(x):.3f}" for x in model.offsets_s)
    lines += [
        "    },",
        f"    source={model.source!r},",
        f"    offsets_s=({offs},),",
        f"    use_u={model.use_u},",
        f"    use_knee={model.use_knee},",
        ")",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from device.validation.dataset import CACHE_DIR, DEV_DIR, dev_trials

    ap = argparse.ArgumentParser(description="fit the event-timing model on the development set")
    ap.add_argument("--dev-dir", default=str(DEV_DIR))
    ap.add_argument("--cache-dir", default=str(CACHE_DIR))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--write", action="store_true", help=f"write {WEIGHTS_FILE.name}")
    a = ap.parse_args(argv)
    trials = dev_trials(Path(a.dev_dir))
    if not trials:
        # one line, not a ZeroDivisionError from the per-runner weights of no samples
        print(f"fitting: no development set in {a.dev_dir} (give --dev-dir)", file=sys.stderr)
        return 2
    samples, series = collect(trials, Path(a.cache_dir), a.jobs)
    print(f"{len(samples)} paired events from {len(series)} analyses")
    model = fit(samples, series)
    if a.write:
        write_weights(model)
        print(f"wrote {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
