"""Cadence that cannot silently double or halve.

Three independent estimates of the step rate:

- ``events``: from the detected contacts (60 / mean step time, or the stride period fitted to
  all events of a short clip) — the precise one, reported when the others agree;
- ``hip_bounce``: the hips rise and fall once per step (two bounces per stride): the dominant
  period of the hip height;
- ``ankle_spectrum``: each ankle swings forward and back once per stride: the spectral peak of
  the ankles' fore-aft motion, ×2.

The two signal-based estimates use the autocorrelation / spectrum of the whole clip, so a
missed or spurious contact cannot move them. The events estimate must agree with at least one
of them (within :data:`AGREE_FRAC`), and the result must be plausible for the entered belt
speed (step length = speed / step rate within human bounds for the entered height): else the
cadence is null with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

AGREE_FRAC = 0.06
#: Step length ÷ standing height on a treadmill: walking 0.3–0.5, a slow jog ~0.35, fast
#: running ~0.9 (the development set: 0.38–0.91 from 2 to 5 m/s); beyond these bounds the
#: cadence or the entered speed is wrong.
STEP_LENGTH_HEIGHT = (0.22, 1.05)
#: Running cadences outside this band are not a runner's (a halved or doubled step count).
RUNNING_SPM = (120.0, 230.0)


@dataclass
class CadenceResult:
    value: float | None
    reason: str | None
    estimates: dict[str, float | None] = field(default_factory=dict)
    code: str | None = None  # issue code when null: cadence_disagree / cadence_implausible
    #: the contacts themselves may be miscounted (the estimates disagree, or the count is no
    #: runner's), not only the cadence: what is measured at them is in doubt too
    steps_in_doubt: bool = False


def _period_autocorr(x: np.ndarray, fs: float, lo_s: float, hi_s: float) -> float | None:
    """The first strong autocorrelation peak's lag (s) between lo_s and hi_s."""
    x = x - x.mean()
    n = x.size
    if n < 10 or not np.any(x):
        return None
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac = ac / ac[0]
    lo, hi = max(1, int(lo_s * fs)), min(n - 2, int(hi_s * fs))
    if hi <= lo + 2:
        return None
    seg = ac[lo : hi + 1]
    pk = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    if pk.size == 0:
        return None
    best = float(seg[pk].max())
    if best < 0.25:
        return None
    first = int(pk[seg[pk] >= 0.7 * best][0])
    # parabolic interpolation of the peak
    y0, y1, y2 = seg[first - 1], seg[first], seg[first + 1]
    den = y0 - 2 * y1 + y2
    off = 0.5 * (y0 - y2) / den if den != 0 else 0.0
    return (lo + first + off) / fs


def _filled(t: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    ok = np.isfinite(y)
    if ok.mean() < 0.6 or ok.sum() < 10:
        return None
    return np.interp(t, t[ok], y[ok])


def hip_bounce_spm(t: np.ndarray, hip_height: np.ndarray, fs: float) -> float | None:
    """Steps per minute from the hips' vertical bounce (one bounce per step). A slow drift (a
    runner coming toward a front camera, drifting on the belt) is taken out first: it would
    dominate the autocorrelation."""
    y = _filled(t, hip_height)
    if y is None:
        return None
    y = y - np.polyval(np.polyfit(t - t[0], y, 2), t - t[0])
    p = _period_autocorr(y, fs, 60.0 / 260.0, 60.0 / 60.0)
    return None if p is None else 60.0 / p


def ankle_spectrum_spm(t: np.ndarray, ankle_rel: list[np.ndarray], fs: float) -> float | None:
    """Steps per minute from the ankles' fore-aft swing (one swing per stride), the spectral
    peak of each ankle's hip-relative position pooled over both."""
    power = None
    freqs = None
    for a in ankle_rel:
        y = _filled(t, a)
        if y is None:
            continue
        y = (y - y.mean()) * np.hanning(y.size)
        n = 1 << int(np.ceil(np.log2(y.size * 8)))
        p = np.abs(np.fft.rfft(y, n)) ** 2
        f = np.fft.rfftfreq(n, 1.0 / fs)
        power = p if power is None else power + p
        freqs = f
    if power is None or freqs is None:
        return None
    band = (freqs >= 30.0 / 60.0) & (freqs <= 130.0 / 60.0)  # strides per second
    if not band.any():
        return None
    i = int(np.argmax(np.where(band, power, 0.0)))
    # the peak must stand out of the band (periodic motion, not noise)
    if power[i] < 4.0 * float(np.median(power[band])):
        return None
    return 120.0 * float(freqs[i])


def decide(
    events_spm: float | None,
    hip_spm: float | None,
    ankle_spm: float | None,
    speed_kmh: float | None,
    height_cm: float | None,
    running: bool = True,
) -> CadenceResult:
    est = {"events": events_spm, "hip_bounce": hip_spm, "ankle_spectrum": ankle_spm}
    r = CadenceResult(None, None, {k: (None if v is None else round(float(v), 1)) for k, v in est.items()})
    if events_spm is None:
        r.reason = "too few consecutive steps detected"
        return r
    others = [v for v in (hip_spm, ankle_spm) if v is not None]
    agree = [v for v in others if abs(v - events_spm) <= AGREE_FRAC * events_spm]
    if not others:
        r.reason = "the step rate could not be confirmed from the body's motion (no second estimate)"
        r.code = "cadence_disagree"
        r.steps_in_doubt = True
        return r
    if not agree:
        shown = ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in est.items() if v is not None)
        r.reason = f"the cadence estimates disagree ({shown} spm): stride segmentation not reliable"
        r.code = "cadence_disagree"
        r.steps_in_doubt = True
        return r
    if running and not RUNNING_SPM[0] <= events_spm <= RUNNING_SPM[1]:
        r.reason = (
            f"{events_spm:.0f} steps/min is outside any running cadence ({RUNNING_SPM[0]:.0f}–"
            f"{RUNNING_SPM[1]:.0f}): steps miscounted, or the video's clock is not real time"
        )
        r.code = "cadence_implausible"
        r.steps_in_doubt = True
        return r
    if speed_kmh and height_cm and speed_kmh > 0 and height_cm > 0:
        step_m = (speed_kmh / 3.6) * 60.0 / events_spm
        rel = step_m / (height_cm / 100.0)
        lo, hi = STEP_LENGTH_HEIGHT
        if not lo <= rel <= hi:
            r.reason = (
                f"{events_spm:.0f} steps/min at {speed_kmh:g} km/h means steps of {100 * step_m:.0f} cm "
                f"({rel:.2f} × height): not plausible — check the entered speed or the recording"
            )
            r.code = "cadence_implausible"
            return r
    r.value = float(events_spm)
    return r
