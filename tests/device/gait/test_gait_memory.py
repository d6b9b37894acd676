"""A long capture's analysis is computed a block at a time (docs/validation.md, engine 2.11:
a 30-minute capture's peak 596 → 454 MB); the blocks give the numbers the whole arrays gave."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from device.gait import analysis
from device.gait.clean import lowpass


def test_the_phase_coherence_summed_in_blocks_finds_the_period_the_whole_matrix_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four jittered sequences of 700 events (more than two blocks each, not a whole number of
    them): the blocked sum and one (events × candidates) matrix pick the same period."""
    rng = np.random.default_rng(3)
    period = 0.731
    seqs = [
        (1.0, np.sort(phase + period * np.arange(700) + rng.normal(0, 0.01, 700)))
        for phase in (0.0, 0.25, 0.36, 0.61)
    ]
    blocked = analysis._coherent_period(seqs, 0.7)
    monkeypatch.setattr(analysis, "_COHERENCE_BLOCK", 10**9)  # the whole matrix at once
    assert analysis._coherent_period(seqs, 0.7) == blocked
    assert blocked == pytest.approx(period, rel=1e-3)


def test_the_low_pass_filters_each_column_as_on_its_own() -> None:
    """34 columns (17 keypoints × x, y) with gaps in different places, filtered a few columns
    at a time: each column equals its own stretch-by-stretch filtering, bit for bit."""
    rng = np.random.default_rng(5)
    n, fs, fc = 3000, 120.0, 12.0
    a = np.cumsum(rng.normal(size=(n, 17, 2)), axis=0)
    a[100:130, 3] = np.nan  # a gap in one keypoint
    a[2000:2005, 15:] = np.nan  # one in the ankles
    a[:40, 11, 0] = np.nan  # and one in a single coordinate
    out = lowpass(a, fs, fc)
    sos = butter(2, fc / (fs / 2.0), output="sos")
    for k in range(17):
        for c in range(2):
            col = a[:, k, c]
            want = np.full(n, np.nan)
            fin = np.isfinite(col)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], fin.astype(int), [0]])))
            for s, e in zip(edges[::2], edges[1::2], strict=True):
                want[s:e] = sosfiltfilt(sos, col[s:e], padlen=min(3 * (2 * len(sos) + 1) * 4, e - s - 1))
            assert np.array_equal(out[:, k, c], want, equal_nan=True), (k, c)
