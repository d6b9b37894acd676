"""The recorder against a camera clock that goes wrong: a frame with an impossible time is left
out and told, never recorded; a clock that stays wrong ends the recording, what came before kept."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest

from device.camera.base import Frame
from device.capture.camera_clock import BROKEN_AFTER, CameraClock
from device.capture.pose_spool import read_pose_spool
from device.capture.recorder import FrameOutcome, Recorder
from device.pose.pipeline import ModelImage
from device.store import KeypointWriter, Store

FPS = 30.0
IMAGE = np.full((240, 320, 3), 90, np.uint8)
PICTURE = ModelImage(np.full((144, 192, 3), 90, np.uint8), (320 / 192, 240 / 144))


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "station.db")
    yield s
    s.close()


@pytest.fixture
def make_recorder(tmp_path: Path, store: Store):
    made: list[Recorder] = []

    def build(**kwargs) -> Recorder:
        sid = store.create_session(None)
        rec = Recorder(tmp_path / f"session-{sid}-main.pose", KeypointWriter(store, sid), **kwargs)
        made.append(rec)
        return rec

    yield build
    for rec in made:
        rec.close()
        rec.writer.close()


def _frame(i: int, t: float | None = None) -> Frame:
    return Frame(IMAGE, 100.0 + i / FPS if t is None else t, i)


def _feed(rec: Recorder, frames: list[Frame]) -> list[FrameOutcome]:
    return [rec.on_frame(f, PICTURE) for f in frames]


def _spooled_times(rec: Recorder) -> list[float]:
    rec.close()
    return [e.t for e in read_pose_spool(rec.spool_path).entries]


def test_one_frame_back_in_time_is_left_out_counted_and_told(make_recorder) -> None:
    rec = make_recorder()
    frames = [_frame(i) for i in range(10)] + [_frame(10, 100.0)] + [_frame(i) for i in range(11, 20)]
    outcomes = _feed(rec, frames)
    assert outcomes[10] is FrameOutcome.IGNORED and outcomes[11] is FrameOutcome.RECORDED
    f = rec.figures()
    assert f.frames_spooled == 19 and f.frames_missed == 1  # counted with the dropped frames
    assert rec.warnings() == [
        "1 frame(s) left out for an impossible camera time "
        "(the first at 0.3 s: timed 0.3 s before the last good frame)"
    ]
    assert rec.clock_fault is None and rec.error is None


def test_a_clock_that_stays_behind_ends_the_recording_keeping_what_came_before(make_recorder) -> None:
    rec = make_recorder()
    good = [_frame(i) for i in range(30)]
    behind = [_frame(i, 100.0 - 1000 + i / FPS) for i in range(30, 30 + BROKEN_AFTER + 5)]
    outcomes = _feed(rec, good + behind)
    assert outcomes[30 : 30 + BROKEN_AFTER - 1] == [FrameOutcome.IGNORED] * (BROKEN_AFTER - 1)
    assert outcomes[30 + BROKEN_AFTER - 1] is FrameOutcome.CLOCK_FAULT  # noticed once, after a short run
    assert set(outcomes[30 + BROKEN_AFTER :]) == {FrameOutcome.IGNORED}
    assert rec.clock_fault == rec.error
    assert rec.clock_fault == (
        "camera clock went backwards at 1.0 s: a frame timed 1000 s before the last good frame "
        f"and the {BROKEN_AFTER - 1} after it; recording stopped there"
    )
    assert _feed(rec, [_frame(60)]) == [FrameOutcome.IGNORED]  # the clock is not trusted again
    assert _spooled_times(rec) == [f.t for f in good]  # what was recorded is kept, nothing after


def test_a_pose_spool_that_cannot_be_created_stops_the_recording_with_one_line(make_recorder, caplog) -> None:
    """The disk is full when the recording begins: no exception per frame, one reason said."""
    rec = make_recorder()
    rec.spool_path.symlink_to("/dev/full")  # every write there fails with ENOSPC
    with caplog.at_level(logging.ERROR):
        outcomes = _feed(rec, [_frame(i) for i in range(5)])
    assert outcomes == [FrameOutcome.SPOOL_FAILED] + [FrameOutcome.IGNORED] * 4  # tried once
    assert rec.disk_full and not rec.began and rec.figures().frames_spooled == 0
    assert rec.error == f"pose spool {rec.spool_path.name} not created: No space left on device"
    assert [r.getMessage() for r in caplog.records] == [f"camera main: {rec.error}"]


@pytest.mark.parametrize("bad", [1e6, math.inf, math.nan])
def test_a_frame_timed_far_ahead_or_not_at_all_neither_ends_nor_enters_the_recording(
    make_recorder, bad: float
) -> None:
    rec = make_recorder(duration_s=3.0)
    frames = [_frame(i, 100.0 + i / FPS + bad if i in (40, 41, 42) else None) for i in range(91)]
    outcomes = _feed(rec, frames)
    assert FrameOutcome.DONE not in outcomes[:90]  # the 3 s are the camera's real 3 s
    assert outcomes[90] is FrameOutcome.DONE
    f = rec.figures()
    assert f.elapsed_s == pytest.approx(3.0) and f.frames_missed == 3
    times = _spooled_times(rec)
    assert all(math.isfinite(t) for t in times) and len(times) == 88
    (note,) = rec.warnings()
    assert note.startswith("3 frame(s) left out for an impossible camera time (the first at 1.3 s: timed")


def test_a_leap_is_left_out_but_a_real_pause_of_the_camera_is_recorded(make_recorder) -> None:
    wall = Wall()
    rec = make_recorder(clock=CameraClock(wall))
    _feed(rec, [_frame(i) for i in range(30)])
    assert _feed(rec, [_frame(30, 101.0 + 5.0)]) == [FrameOutcome.IGNORED]  # 5 s ahead at once
    wall.now += 5.0  # the camera really delivered nothing for 5 s (a hiccup, within the stall timeout)
    assert _feed(rec, [_frame(180), _frame(181)]) == [FrameOutcome.RECORDED] * 2
    assert rec.figures().frames_missed == 150 and rec.clock_fault is None


def test_live_keypoints_of_a_mistimed_frame_are_not_kept(make_recorder, store: Store) -> None:
    rec = make_recorder()
    frames = [_frame(i) for i in range(6)] + [_frame(6, math.inf)] + [_frame(i) for i in range(7, 10)]
    _feed(rec, frames)
    keypoints = np.full((17, 3), 0.5, np.float32)
    for f in frames[5:8]:  # the live view inferred frames 5, 6 (timed inf) and 7
        rec.on_keypoints(f, keypoints)
    rec.close()
    rec.writer.close()
    tl = store.get_keypoints(rec.writer.session_id)
    assert list(tl.frame) == [5, 7] and np.isfinite(tl.t).all()


def test_a_camera_that_glitches_all_day_keeps_a_count_not_a_list(make_recorder, store: Store) -> None:
    """A camera that mistimes every other frame never fails ten in a row: over a day its left-out
    frames are counted and the first and last few named, never each one remembered."""
    from device.capture.camera_clock import NAMED_LEFT_OUT, RECENT_LEFT_OUT

    rec = make_recorder()
    n = 4 * RECENT_LEFT_OUT
    frames = []
    for i in range(2 * n):
        frames.append(_frame(i, 100.0 if i % 2 else None))  # every odd frame timed at the start
    outcomes = _feed(rec, frames)
    assert FrameOutcome.CLOCK_FAULT not in outcomes and rec.clock_fault is None
    left = rec.left_out
    assert left.count == n
    assert left.remembered <= RECENT_LEFT_OUT + 2 * NAMED_LEFT_OUT  # bounded, whatever the count
    assert left.numbers() == "1, 3, 5, 7, 9 … " + ", ".join(str(i) for i in range(2 * n - 9, 2 * n, 2))
    (note,) = rec.warnings()
    assert note.startswith(f"{n} frame(s) left out for an impossible camera time (the first at 0.0 s: timed ")
    assert note.endswith(f"; the last at {(2 * n - 2) / FPS:.1f} s)")
    # the latest left-out frame's live keypoints are still refused, a believed one's kept
    keypoints = np.full((17, 3), 0.5, np.float32)
    rec.on_keypoints(frames[-1], keypoints)
    rec.on_keypoints(frames[-2], keypoints)
    rec.close()
    rec.writer.close()
    assert list(store.get_keypoints(rec.writer.session_id).frame) == [2 * n - 2]
