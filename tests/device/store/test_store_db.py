"""Store: runners, sessions, keypoints, evidence, validation, cascade, prune, recovery."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from device.errors import InputError
from device.store import NotFoundError, Store
from device.store.schema import SCHEMA_VERSION


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "station.db")
    yield s
    s.close()


def _kp(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0, 500, (n, 17, 3)).astype(np.float32)
    kp[:, :, 2] = rng.uniform(0, 1, (n, 17))
    kp[0, 3, :2] = np.nan  # unseen keypoints survive the round trip as NaN
    return np.arange(n) / 30.0 + 1000.0, kp, np.arange(n) * 2


def test_schema_wal_and_foreign_keys(store: Store) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    # foreign keys are enforced on the store's connections: a deleted runner takes their sessions
    rid = store.create_runner("Ada", 170)
    sid = store.create_session(rid)
    store.delete_runner(rid)
    with pytest.raises(NotFoundError):
        store.get_session(sid)
    assert store.integrity_check() == "ok"


def test_reopen_keeps_data_and_refuses_newer_schema(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.db")
    rid = s.create_runner("Ada", 170)
    s.close()
    s = Store(tmp_path / "a.db")
    assert s.get_runner(rid)["name"] == "Ada"
    s.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "a.db")) as conn:  # a newer station wrote it
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.commit()
    with pytest.raises(Exception, match="newer gait-station"):
        Store(tmp_path / "a.db")


def test_runner_crud_and_validation(store: Store) -> None:
    rid = store.create_runner("  Grace Hopper ", 165.5, "left knee op 2019")
    r = store.get_runner(rid)
    assert r["name"] == "Grace Hopper" and r["height_cm"] == 165.5 and r["session_count"] == 0
    store.update_runner(rid, height_cm=166)
    assert store.get_runner(rid)["height_cm"] == 166
    assert store.get_runner(rid)["notes"] == "left knee op 2019"
    assert [x["id"] for x in store.list_runners("hop")] == [rid]
    assert store.list_runners("zzz") == []
    for kwargs, msg in [
        ({"name": ""}, "name: required"),
        ({"name": "x" * 101}, "at most 100"),
        ({"name": "A", "height_cm": 40}, "height: must be between 50 and 250 cm"),
        ({"name": "A", "height_cm": "tall"}, "expected a number"),
        ({"name": "A", "height_cm": float("nan")}, "between"),
        ({"name": "A", "notes": "n" * 2001}, "notes: at most"),
    ]:
        with pytest.raises(InputError, match=msg):
            store.create_runner(**kwargs)
    with pytest.raises(NotFoundError):
        store.get_runner(9999)


def test_session_validation(store: Store) -> None:
    rid = store.create_runner("A", 170)
    for kwargs, msg in [
        ({"speed_kmh": 31}, "speed: must be between 0 and 30 km/h"),
        ({"speed_kmh": -1}, "speed"),
        ({"incline_pct": 26}, "incline: must be between -5 and 25 %"),
        ({"incline_pct": -6}, "incline"),
        ({"view": "top"}, "view: must be one of"),
        ({"shoes": "s" * 101}, "shoes: at most 100"),
    ]:
        with pytest.raises(InputError, match=msg):
            store.create_session(rid, **kwargs)
    with pytest.raises(NotFoundError):
        store.create_session(12345)
    assert store.list_sessions() == []  # nothing half-created


def test_session_lifecycle(store: Store) -> None:
    rid = store.create_runner("A", 170)
    sid = store.create_session(
        rid, 12.0, 1.0, "Pegasus 40", "first visit", "side", "synthetic", {"capture": {"x": 1}}
    )
    s = store.get_session(sid)
    assert (
        s["status"] == "capturing" and s["runner"]["name"] == "A" and s["settings"] == {"capture": {"x": 1}}
    )
    assert s["analysis"] is None and s["ended_at"] is None
    store.set_status(sid, "analysing", frames_inferred=10, frames_dropped=2, effective_fps=29.5)
    s = store.get_session(sid)
    assert s["status"] == "analysing" and s["ended_at"] and s["frames_dropped"] == 2
    ended = s["ended_at"]
    store.save_analysis(sid, {"schema_version": 1, "cadence_spm": 172.0}, summary_text="Cadence 172")
    s = store.get_session(sid)
    assert s["status"] == "done" and s["analysis"]["cadence_spm"] == 172.0 and s["ended_at"] == ended
    assert s["summary_text"] == "Cadence 172" and s["printed_summary_at"] is None
    store.mark_printed(sid, "summary")
    assert store.get_session(sid)["printed_summary_at"]
    listed = store.list_sessions(runner_id=rid)
    assert (
        [x["id"] for x in listed] == [sid]
        and listed[0]["cadence_spm"] == 172.0
        and "analysis" not in listed[0]
    )
    anon = store.create_session(None)
    assert store.get_session(anon)["runner"] is None
    assert [x["id"] for x in store.list_sessions()] == [anon, sid]
    with pytest.raises(ValueError):
        store.set_status(sid, "weird")


def test_keypoints_round_trip_in_batches(store: Store) -> None:
    sid = store.create_session(None)
    t, kp, fr = _kp(95)
    store.append_keypoints(sid, t[:40], kp[:40], fr[:40])
    store.append_keypoints(sid, t[40:], kp[40:], fr[40:])
    store.append_keypoints(sid, t[:5], kp[:5], fr[:5], camera="rear")
    tl = store.get_keypoints(sid)
    assert len(tl) == 95 and store.count_keypoints(sid) == 95
    np.testing.assert_array_equal(tl.t, t)
    np.testing.assert_array_equal(tl.xy, kp[:, :, :2])
    np.testing.assert_array_equal(tl.score, kp[:, :, 2])
    np.testing.assert_array_equal(tl.frame, fr)
    assert np.isnan(tl.xy[0, 3]).all()
    assert len(store.get_keypoints(sid, camera="rear")) == 5
    assert len(store.get_keypoints(store.create_session(None))) == 0


def test_evidence(store: Store) -> None:
    sid = store.create_session(None)
    kp = np.zeros((17, 3))
    kp[2] = np.nan
    eid = store.add_evidence(
        sid, "left", "initial_contact", 3.25, 97, b"\xff\xd8jpeg\xff\xd9", kp, meta={"angles": {"knee": 12}}
    )
    (e,) = store.list_evidence(sid)
    assert e["id"] == eid and e["phase"] == "initial_contact" and e["frame"] == 97 and "jpeg" not in e
    assert e["keypoints"][2] == [None, None, None] and e["meta"]["angles"]["knee"] == 12
    assert store.get_evidence(eid)["jpeg"] == b"\xff\xd8jpeg\xff\xd9"


def test_delete_runner_cascades_everything_including_files(store: Store, tmp_path: Path) -> None:
    rid = store.create_runner("A", 170)
    other = store.create_runner("B", 180)
    sid = store.create_session(rid)
    keep = store.create_session(other)
    t, kp, fr = _kp(10)
    store.append_keypoints(sid, t, kp, fr)
    store.add_evidence(sid, "left", "toe_off", 1.0, 1, b"x", np.zeros((17, 3)))
    video = tmp_path / "s.mjpeg"
    video.write_bytes(b"v")
    store.set_status(sid, "done", video_path=str(video))
    store.delete_runner(rid)
    conn = sqlite3.connect(store.path)
    for table in ("sessions", "keypoint_batches", "evidence"):
        assert (
            conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE session_id = ?"
                if table != "sessions"
                else "SELECT COUNT(*) FROM sessions WHERE id = ?",
                (sid,),
            ).fetchone()[0]
            == 0
        )
    conn.close()
    assert not video.exists()
    assert store.get_session(keep)["runner_id"] == other
    with pytest.raises(NotFoundError):
        store.delete_runner(rid)


def test_prune_keeps_recent_and_active(store: Store) -> None:
    old = store.create_session(None)
    active_old = store.create_session(None)
    new = store.create_session(None)
    store.set_status(old, "done")
    store.set_status(new, "done")
    with contextlib.closing(sqlite3.connect(store.path)) as conn:  # recorded years ago
        conn.execute(
            "UPDATE sessions SET started_at = '2020-01-01T00:00:00.000+00:00' WHERE id IN (?, ?)",
            (old, active_old),
        )
        conn.commit()
    assert store.prune(0) == 0
    assert store.prune(30) == 1
    assert {s["id"] for s in store.list_sessions()} == {active_old, new}


def test_deleting_a_session_deletes_the_spools_it_left(store: Store, tmp_path: Path) -> None:
    """An interrupted session that was never finished keeps its recording in the spool folder:
    deleting it (or its runner, or pruning it) deletes that too, and no other session's."""
    rid = store.create_runner("A", 170)
    gone, by_runner, pruned, other = (store.create_session(r) for r in (None, rid, None, None))
    for _ in range(6):  # session 10 exists, so "session-1*" names another session's files
        store.create_session(None)
    spool = tmp_path / "spool"  # beside the database, as the station keeps it
    spool.mkdir()
    names = (".mjpeg", ".mjpeg.spans", ".resuming", "-main.pose", "-rear.pose")
    for sid in (gone, by_runner, pruned, other, 10):
        for name in names:
            (spool / f"session-{sid}{name}").write_bytes(b"frames")
    store.set_status(pruned, "interrupted")
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        conn.execute(
            "UPDATE sessions SET started_at = '2020-01-01T00:00:00.000+00:00' WHERE id = ?", (pruned,)
        )
        conn.commit()
    store.delete_session(gone)
    store.delete_runner(rid)
    assert store.prune(30) == 1
    left = sorted(p.name for p in spool.iterdir())
    assert left == sorted(f"session-{sid}{name}" for sid in (other, 10) for name in names)


def test_recover_interrupted_keeps_keypoints(store: Store) -> None:
    a = store.create_session(None)
    b = store.create_session(None)
    done = store.create_session(None)
    store.set_status(b, "analysing")
    store.save_analysis(done, {"cadence_spm": None})
    t, kp, fr = _kp(30)
    store.append_keypoints(a, t, kp, fr)
    assert sorted(store.recover_interrupted()) == [a, b]
    sa = store.get_session(a)
    assert sa["status"] == "interrupted" and "30 frames" in sa["error"] and sa["frames_inferred"] == 30
    assert len(store.get_keypoints(a)) == 30
    assert store.get_session(done)["status"] == "done"
    assert store.recover_interrupted() == []


def test_threads_share_a_store(store: Store) -> None:
    sid = store.create_session(None)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(20):
                t, kp, fr = _kp(3, seed=i)
                store.append_keypoints(sid, t + k * 100 + i, kp, fr)
                store.list_sessions()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert store.count_keypoints(sid) == 4 * 20 * 3
