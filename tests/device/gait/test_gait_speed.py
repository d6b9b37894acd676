"""The gait core's fast paths give exactly what the plain numpy calls they replace give.

Analysing two minutes must stay under 0.3 s (bench/bench_gait.py), so per-stance numpy calls were
batched or replaced by the same arithmetic with less overhead; these tests hold each one to the
straightforward version bit for bit (the figures a clinician sees must not move).
"""

from __future__ import annotations

import numpy as np
import pytest

from device.gait.clean import _nanmedian3, hampel, resample
from device.gait.events import _nanargmin, _nanpercentile
from device.gait.geometry import at, at_many
from device.gait.sagittal import _fractions, _mean, _nanmax_rows, _nanmean, _rows
from device.gait.treadmill import belt_speed, stance_model, stance_models
from device.keypoints import N_KEYPOINTS

RNG = np.random.default_rng(7)


def _random_rows(n: int = 400) -> list[np.ndarray]:
    """Short arrays of mixed scale, with ties and NaN gaps, as the per-stance windows are."""
    out = []
    for _ in range(n):
        x = RNG.normal(size=int(RNG.integers(1, 150))) * 10 ** RNG.uniform(-2, 3)
        if RNG.random() < 0.3:
            x = np.round(x, 1)
        if RNG.random() < 0.5:
            x[RNG.random(x.size) < 0.25] = np.nan
        out.append(x)
    return out


def test_percentile_and_argmin_are_numpys() -> None:
    for x in _random_rows():
        if np.isnan(x).all():
            assert np.isnan(_nanpercentile(x, 5))
            continue
        for q in (0.0, 5.0, 12.5, 50.0, 95.0, 100.0):
            assert _nanpercentile(x, q) == float(np.nanpercentile(x, q))
        assert _nanargmin(x) == int(np.nanargmin(x))


def test_median_of_three_is_the_sorted_median() -> None:
    a, b, c = RNG.normal(size=(3, 4000, 17, 2))
    for arr in (a, b, c):
        arr[RNG.random(arr.shape) < 0.3] = np.nan
    s = np.sort(np.stack([a, b, c]), axis=0)  # NaN last
    n = np.isfinite(np.stack([a, b, c])).sum(axis=0)
    lo = np.take_along_axis(s, np.clip((n - 1) // 2, 0, 2)[None], axis=0)[0]
    hi = np.take_along_axis(s, np.clip(n // 2, 0, 2)[None], axis=0)[0]
    expected = np.where(n > 0, (lo + hi) / 2, np.nan)
    assert np.array_equal(_nanmedian3(a, b, c), expected, equal_nan=True)


def test_hampel_and_resample_handle_a_lone_missing_coordinate() -> None:
    """A point with x seen and y missing is missing (both filters look at whole points)."""
    t = np.cumsum(RNG.uniform(0.008, 0.009, 600))
    xy = np.cumsum(RNG.normal(size=(600, N_KEYPOINTS, 2)), axis=0) + 300.0
    xy[100, 3, 1] = np.nan
    xy[400:420, 15] = np.nan  # 0.17 s: longer than MAX_GAP_S, not bridged
    out, n_bad = hampel(xy, t, 300.0)
    assert n_bad >= 0 and np.isnan(out[100, 3, 1]) and np.isfinite(out[100, 3, 0])
    grid = t[0] + np.arange(int((t[-1] - t[0]) * 120)) / 120
    g, seen = resample(out, t, grid)
    assert np.isfinite(g[seen]).all() and np.isnan(g[~seen]).all()
    assert not seen[(grid > t[400]) & (grid < t[419]), 15].any()


def test_at_many_is_at_everywhere() -> None:
    t = np.arange(0.0, 5.0, 0.01)
    y = np.sin(t * 7.0)
    y[[0, 50, 51, 300]] = np.nan
    ts = np.concatenate([RNG.uniform(-0.5, 5.5, 2000), t[:60], [t[0], t[-1], np.nan, np.inf]])
    got = at_many(t, y, ts)
    want = np.array([at(t, y, float(x)) for x in ts])
    assert np.array_equal(got, want, equal_nan=True)


def test_window_reductions_are_the_per_window_ones() -> None:
    series = RNG.normal(size=3000)
    series[RNG.random(3000) < 0.1] = np.nan
    mask = RNG.random(3000) < 0.8
    a = RNG.integers(0, 3000, 500)
    b = a + RNG.integers(-3, 200, 500)
    b = np.clip(b, 0, 3000)
    rows = _rows(series, a, b)
    fr = _fractions(mask, a, b)
    for k in range(a.size):
        w = series[a[k] : b[k]]
        mx = _nanmax_rows(rows[k : k + 1])[0]
        if w.size and np.isfinite(w).any():
            assert mx == np.nanmax(w)
            assert _nanmean(w) == np.nanmean(w)
            fin = w[np.isfinite(w)]
            assert _mean(fin) == fin.mean()
        else:
            assert np.isnan(mx) and np.isnan(_nanmean(w))
        m = mask[a[k] : b[k]]
        assert fr[k] == m.mean() if m.size else np.isnan(fr[k])


def _track(n_stances: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An ankle on a belt moving back at ~400 px/s with noise and gaps, and its stances."""
    t = np.arange(0.0, 0.7 * n_stances + 1.0, 0.01)
    u = 200.0 - 400.0 * ((t % 0.7) - 0.2) + RNG.normal(0.0, 2.0, t.size)
    h = -600.0 + 30.0 * np.maximum(0.0, (t % 0.7) - 0.3) + RNG.normal(0.0, 2.0, t.size)
    u[RNG.random(t.size) < 0.05] = np.nan
    h[RNG.random(t.size) < 0.05] = np.nan
    ic = 0.7 * np.arange(n_stances) + 0.05 + RNG.normal(0.0, 0.01, n_stances)
    to = ic + 0.25 + RNG.normal(0.0, 0.01, n_stances)
    ic[[k for k in (3, 17) if k < n_stances]] = np.nan  # a toe-off without its contact
    if n_stances > 5:
        to[5] = ic[5] - 0.1  # not a stance
    return t, u, h, ic, to


def test_stance_models_are_stance_model_each() -> None:
    t, u, h, ic, to = _track()
    h[int(0.7 * 9 / 0.01) : int(0.7 * 10 / 0.01)] = np.nan  # a stance without a floor
    got = stance_models(t, u, h, ic, to, 401.5)
    want = [stance_model(t, u, h, a, b, 401.5) for a, b in zip(ic, to, strict=True)]
    assert got == want
    assert got[9] is None and got[3] is None and got[5] is None and got[0] is not None


@pytest.mark.parametrize("n_stances", [3, 5, 6, 25, 60])
def test_belt_speed_is_the_median_polyfit_slope(n_stances: int) -> None:
    t, u, _h, ic, to = _track(n_stances)
    stances = [("left", float(a), float(b)) for a, b in zip(ic, to, strict=True)]
    slopes = []
    for _side, a, b in stances:  # the straightforward version: one polyfit per stance
        if not (np.isfinite(a) and np.isfinite(b)) or b - a < 0.08:
            continue
        c = b - a
        i, j = int(np.searchsorted(t, a + 0.25 * c)), int(np.searchsorted(t, b - 0.25 * c, side="right"))
        ok = np.isfinite(u[i:j])
        if ok.sum() >= 4:
            slopes.append(-np.polyfit(t[i:j][ok], u[i:j][ok], 1)[0])
    want = float(np.median(slopes)) if len(slopes) >= 3 else None
    assert belt_speed(t, {"left": u}, stances) == want


def test_rolling_cadence_is_the_mean_of_each_window() -> None:
    from device.gait.analysis import _cadence_series

    for n in (0, 3, 7, 8, 9, 60):
        steps = RNG.uniform(0.3, 0.4, n)
        st = [(float(k), float(s), "left") for k, s in enumerate(steps)]
        want = []
        for i in range(n):  # the straightforward version: one np.mean per contact
            w = steps[max(0, i - 7) : i + 1].tolist()
            if len(w) >= min(4, n):
                want.append([round(float(i), 3), round(60.0 / float(np.mean(w)), 1)])
        assert _cadence_series(st) == want


@pytest.mark.parametrize(
    ("fps", "missing", "bridged"),
    [
        (60, 7, True),
        (60, 8, False),
        (30, 4, True),
        (30, 5, False),
        (25, 3, True),
        (25, 4, False),
        (20, 2, True),
        (20, 3, False),
    ],
)
def test_resample_bridges_a_few_missing_frames_up_to_a_limit(fps: int, missing: int, bridged: bool) -> None:
    """Gaps of up to 0.12 s without data are bridged (a pose model loses an ankle for a few
    frames at contact: at 25 fps three of them, at 30 fps four, left a stance out), and no
    longer ones (three frames at 20 fps, 150 ms, made spurious contacts). The frames either side of
    the gap are 1 ms off their slots, the other way (timestamp jitter)."""
    n = 4 * fps
    t = np.arange(n) / fps
    gap = slice(2 * fps, 2 * fps + missing)
    t[gap.start - 1] -= 0.001
    t[gap.stop] += 0.001
    xy = np.cumsum(RNG.normal(size=(n, N_KEYPOINTS, 2)), axis=0) + 300.0
    xy[gap, 15] = np.nan
    grid = t[0] + np.arange(int((t[-1] - t[0]) * 100)) / 100
    _g, seen = resample(xy, t, grid)
    inside = (grid > t[gap.start - 1]) & (grid < t[gap.stop])
    assert seen[inside, 15].all() == bridged and seen[inside, 14].all()
