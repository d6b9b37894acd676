"""Corrections and re-analysis (issue 12 item 6) on a synthetic runner through the real engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.corrections import Corrections, reanalyse, strides, swap_sides
from device.errors import InputError, UserError
from device.gait import analyze
from device.gait.types import RunnerInfo
from device.norms_file import load_norms
from device.store import Store
from device.synthetic.runner import RunnerParams, SyntheticRunner


def _analyze(tl, runner, view):
    return analyze(tl, runner, view=view, norms=load_norms())


@pytest.fixture(scope="module")
def run():
    """A runner whose right contact is 40 ms longer than the left (exact by construction)."""
    p = RunnerParams(
        cadence_spm=170, duration_s=20, height_cm=178, speed_kmh=11, right={"contact_time_ms": 290}
    )
    return SyntheticRunner(p).clean_timeline()


@pytest.fixture
def stored(tmp_path: Path, run):
    store = Store(tmp_path / "station.db")
    rid = store.create_runner("Ria", 178)
    sid = store.create_session(rid, 11.0, 0.0, "Shoe A", "", "side")
    store.append_keypoints(sid, run.t, np.concatenate([run.xy, run.score[..., None]], axis=2), run.frame)
    store.set_status(sid, "analysing", frame_width=run.width, frame_height=run.height)
    first = analyze(
        store.get_keypoints(sid), RunnerInfo(height_cm=178, speed_kmh=11.0), view="side", norms=load_norms()
    )
    store.save_analysis(sid, first.to_dict())
    jpeg = b"\xff\xd8fake-jpeg\xff\xd9"
    for ev in first.evidence:
        store.add_evidence(sid, ev["side"], ev["phase"], ev["t"], ev["frame"], jpeg, np.zeros((17, 3)))
    yield store, sid
    store.close()


def _contact(analysis, side):
    return analysis["metrics"]["contact_time_ms"][side]


def test_swap_sides_reanalyses_exactly_and_keeps_the_original(stored):
    store, sid = stored
    original = store.get_session(sid)["analysis"]
    assert _contact(original, "right") - _contact(original, "left") > 25
    aid = reanalyse(store, sid, Corrections(swap_sides=True), "Dr Kay", _analyze, note="camera was mirrored")
    s = store.get_session(sid)
    now = s["analysis"]
    assert s["analysis_id"] == aid
    assert _contact(now, "left") == pytest.approx(_contact(original, "right"), abs=1.0)
    assert _contact(now, "right") == pytest.approx(_contact(original, "left"), abs=1.0)
    assert now["cadence_spm"] == pytest.approx(original["cadence_spm"], abs=0.5)
    knee = "knee_flexion_ic_deg"
    assert now["metrics"][knee]["value"] == pytest.approx(original["metrics"][knee]["value"], abs=0.5)
    assert now["input"]["corrections"]["swap_sides"] is True
    hist = store.list_analyses(sid)
    assert [h["created_by"] for h in hist] == ["station", "Dr Kay"]
    assert hist[1]["note"] == "camera was mirrored" and hist[1]["current"]
    assert store.get_analysis(hist[0]["id"])["analysis"] == original
    # the new analysis's evidence frames carry the corrected sides, reusing the stored pictures
    ev_new = store.list_evidence(sid)
    assert ev_new and all(e["analysis_id"] == aid for e in ev_new)
    assert len(store.list_evidence(sid, hist[0]["id"])) == len(original["evidence"])


def test_near_leg_correction_swaps_only_when_it_differs(stored):
    store, sid = stored
    original = store.get_session(sid)["analysis"]
    reanalyse(store, sid, Corrections(near_leg="right"), "Dr Kay", _analyze)  # already the near leg
    same = store.get_session(sid)["analysis"]
    assert same["input"]["sides_swapped"] is False
    assert _contact(same, "right") == pytest.approx(_contact(original, "right"), abs=1.0)
    reanalyse(store, sid, Corrections(near_leg="left"), "Dr Kay", _analyze)
    swapped = store.get_session(sid)["analysis"]
    assert swapped["input"]["sides_swapped"] is True
    assert _contact(swapped, "left") == pytest.approx(_contact(original, "right"), abs=1.0)
    assert len(store.list_analyses(sid)) == 3


def test_height_speed_and_excluded_stride(stored):
    store, sid = stored
    original = store.get_session(sid)["analysis"]
    all_strides = strides(original)
    assert len(all_strides) > 20
    cut = all_strides[5]
    reanalyse(
        store,
        sid,
        Corrections(height_cm=150, speed_kmh=9.0, view="side", excluded=((cut.t_start, cut.t_end),)),
        "Dr Kay",
        _analyze,
    )
    now = store.get_session(sid)["analysis"]
    # lengths scale with the height typed (cm per pixel), timing does not
    assert now["metrics"]["overstride_cm"]["value"] < original["metrics"]["overstride_cm"]["value"]
    assert now["cadence_spm"] == pytest.approx(original["cadence_spm"], abs=1.0)
    ics = [e["t"] for e in now["events"] if e["kind"] == "initial_contact"]
    assert not any(cut.t_start < t < cut.t_end for t in ics)  # nothing from the excluded stride
    assert now["metrics"]["contact_time_ms"]["n"] < original["metrics"]["contact_time_ms"]["n"]
    # the session's own record is unchanged: the correction is an input of this analysis only
    s = store.get_session(sid)
    assert s["height_cm"] == 178 and s["speed_kmh"] == 11.0


def test_bad_corrections_refused_with_one_line():
    with pytest.raises(InputError, match="near_leg"):
        Corrections.from_dict({"near_leg": "middle"})
    with pytest.raises(InputError, match="height"):
        Corrections.from_dict({"height_cm": 900})
    with pytest.raises(InputError, match="unknown"):
        Corrections.from_dict({"colour": "red"})
    with pytest.raises(InputError, match="excluded"):
        Corrections.from_dict({"excluded": [[3, 1]]})
    assert Corrections.from_dict({"excluded": [["1.5", "2"]], "swap_sides": True}).excluded == ((1.5, 2.0),)


def test_session_being_captured_is_not_reanalysed(tmp_path: Path):
    store = Store(tmp_path / "s.db")
    sid = store.create_session(None, 10.0)
    with pytest.raises(UserError, match="capturing"):
        reanalyse(store, sid, Corrections(), "x", _analyze)
    store.close()


def test_swap_sides_keeps_keypoints_on_the_picture_for_drawing(run):
    drawn = swap_sides(run, mirror=False)
    assert np.allclose(drawn.xy[:, 11], run.xy[:, 12], equal_nan=True)  # left hip ← right hip
    mirrored = swap_sides(run)
    assert np.allclose(mirrored.xy[:, 11, 0], run.width - run.xy[:, 12, 0], equal_nan=True)
