"""LiveCadence (incremental, per frame) and the clinic's norms file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.errors import ConfigError
from device.gait.live import LiveCadence
from device.gait.metric_ids import ALL_METRICS
from device.gait.norms import DEFAULT_PATH, load_norms
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
    lc = LiveCadence(p.width, p.height)
    _feed(lc, tl)
    assert lc.cadence_spm is not None and abs(lc.cadence_spm - cadence) / cadence < 0.02
    expected_strides = p.duration_s * cadence / 120
    assert 0.8 * expected_strides <= lc.strides <= expected_strides + 1
    assert lc.hints() == []


def test_live_cadence_memory_does_not_grow() -> None:
    p = RunnerParams(fps=30, duration_s=30, noise_px=1)
    tl = SyntheticRunner(p).timeline()
    lc = LiveCadence(p.width, p.height)
    _feed(lc, tl.window(None, 5.0))
    sizes = {k: v.nbytes for k, v in vars(lc).items() if isinstance(v, np.ndarray)}
    _feed(lc, tl.window(5.01, None))
    assert sizes == {k: v.nbytes for k, v in vars(lc).items() if isinstance(v, np.ndarray)}


def test_live_hints_runner_missing_and_feet_out_of_frame() -> None:
    p = RunnerParams(fps=30, duration_s=4)
    tl = SyntheticRunner(p).timeline()
    lc = LiveCadence(p.width, p.height)
    kp = np.concatenate([tl.xy, tl.score[..., None]], axis=2)
    kp[:, 15:17, 2] = 0.0  # ankles unseen
    for i in range(len(tl)):
        lc.update(float(tl.t[i]), kp[i])
    assert "feet leave the frame" in lc.hints()
    assert lc.cadence_spm is None
    lc2 = LiveCadence(p.width, p.height)
    for i in range(80):
        lc2.update(i / 30, np.zeros((17, 3)))
    assert lc2.hints() == ["runner not detected"]


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


def test_live_cadence_is_none_not_nan_when_step_intervals_disagree() -> None:
    import warnings

    from device.gait.live import LiveCadence

    lc = LiveCadence()
    lc._intervals[:] = 0.0
    # every other step missed: intervals alternate 0.3 s / 0.6 s, no typical value
    for k, iv in enumerate([0.3, 0.6] * 4):
        lc._intervals[k] = iv
    lc._n_steps = 9
    lc._step_t[(lc._n_steps - 1) % lc._step_t.shape[0]] = 10.0
    lc._last_t = 10.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lc.cadence_spm is None
