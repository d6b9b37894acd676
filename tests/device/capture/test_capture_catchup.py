"""The catch-up's progress: what the dashboard shows while every spooled frame is inferred."""

from __future__ import annotations

import threading
from pathlib import Path

from device.capture.catchup import CatchUp
from device.capture.pose_spool import read_pose_spool
from device.store import KeypointWriter, Store
from tests.device.capture.capture_fakes import PoseFromTime
from tests.support.spools import write_recording


def test_every_count_of_a_parallel_catch_up_is_reported_once_and_it_ends_at_the_total(tmp_path: Path) -> None:
    write_recording(tmp_path / "s.pose", tmp_path / "s.mjpeg", 90)
    spool = read_pose_spool(tmp_path / "s.pose")
    store = Store(tmp_path / "station.db")
    sid = store.create_session(None)
    reports: list[tuple[int, int]] = []
    lock = threading.Lock()

    def progress(done: int, total: int) -> None:
        with lock:
            reports.append((done, total))

    writer = KeypointWriter(store, sid)
    done_live = {0, 1, 2, 40, 41}  # inferred by the live view: not redone, not counted
    ests = [PoseFromTime(delay_s=0.001) for _ in range(4)]
    result = CatchUp(spool, done_live, ests, writer, 0.2, progress).run()
    writer.close()
    assert result.frames_inferred == 85 and result.workers == 4
    # four workers report from their own threads: each count once, none stale, the last the total
    assert sorted(d for d, _ in reports) == list(range(86))
    assert {t for _, t in reports} == {85}
    assert max(reports)[0] == 85 == len(store.get_keypoints(sid))
