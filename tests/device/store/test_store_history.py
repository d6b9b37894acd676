"""Store: ids never reused, deleting deletes (DB and WAL), private file, the session keeps the
runner details it was captured with, runner merge, analysis history (issues 12 and 13)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from device.store import NotFoundError, Store
from device.store.schema import MIGRATIONS, SCHEMA_VERSION

MARK = "ZQXJ-private-marker-7731"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "station.db")
    yield s
    s.close()


def _session_with_evidence(store: Store, name: str, mark: str = "") -> tuple[int, int, int]:
    rid = store.create_runner(name, 170.0, notes=f"notes {mark}")
    sid = store.create_session(rid, 10.0, 0.0, f"shoes {mark}", f"notes {mark}", "side")
    t = np.arange(30) / 30.0
    kp = np.full((30, 17, 3), 0.5, np.float32)
    store.append_keypoints(sid, t, kp, np.arange(30))
    store.save_analysis(sid, {"cadence_spm": 170.0, "note": mark})
    eid = store.add_evidence(sid, "left", "initial_contact", 0.5, 15, b"\xff\xd8" + mark.encode() * 50, kp[0])
    return rid, sid, eid


def test_deleting_the_newest_runner_never_gives_its_ids_to_the_next(store: Store) -> None:
    _session_with_evidence(store, "First")
    rid, sid, eid = _session_with_evidence(store, "Newest")
    aid = store.get_session(sid)["analysis_id"]
    store.delete_runner(rid)
    rid2, sid2, eid2 = _session_with_evidence(store, "Next customer")
    assert rid2 > rid and sid2 > sid and eid2 > eid
    assert store.get_session(sid2)["analysis_id"] > aid
    with pytest.raises(NotFoundError):
        store.get_session(sid)
    # a cancelled capture's session id is not handed out again either
    store.delete_session(sid2)
    sid3 = store.create_session(rid2, 10.0)
    assert sid3 > sid2


def test_deleted_data_is_gone_from_the_database_and_wal_at_once(store: Store) -> None:
    _session_with_evidence(store, "Keep")
    rid, _sid, _eid = _session_with_evidence(store, f"Name {MARK}", MARK)
    store.delete_runner(rid)
    db = Path(str(store.path)).read_bytes()
    wal_path = Path(str(store.path) + "-wal")
    wal = wal_path.read_bytes() if wal_path.exists() else b""
    assert MARK.encode() not in db
    assert MARK.encode() not in wal
    # the remaining runner's data is intact
    assert [r["name"] for r in store.list_runners()] == ["Keep"]
    assert store.integrity_check() == "ok"


def test_deleting_a_session_also_purges_it(store: Store) -> None:
    rid = store.create_runner("Kept runner", 170)
    sid = store.create_session(rid, 10.0, 0.0, "", f"session note {MARK}", "side")
    store.delete_session(sid)
    assert MARK.encode() not in store.path.read_bytes()
    wal = Path(str(store.path) + "-wal")
    assert not wal.exists() or MARK.encode() not in wal.read_bytes()


def test_database_files_are_private_even_with_a_shell_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        s = Store(tmp_path / "d" / "station.db")
        s.create_runner("Ada", 170)
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(s.path) + suffix)
            if p.exists():
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, (suffix, oct(p.stat().st_mode))
        s.close()
        # a database an earlier version left 0644 is tightened when opened
        os.chmod(tmp_path / "d" / "station.db", 0o644)
        Store(tmp_path / "d" / "station.db").close()
        assert stat.S_IMODE((tmp_path / "d" / "station.db").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_migration_of_an_existing_database_keeps_data_and_stops_id_reuse(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(MIGRATIONS[0])  # the first schema, as a station of that version made it
    conn.execute("PRAGMA user_version = 1")
    now = "2026-01-01T10:00:00.000+00:00"
    conn.execute("INSERT INTO runners VALUES (1, 'Old', 181, '', ?, ?)", (now, now))
    conn.execute("INSERT INTO runners VALUES (2, 'Newest', 160, '', ?, ?)", (now, now))
    conn.execute(
        "INSERT INTO sessions (id, runner_id, status, started_at, ended_at, speed_kmh, analysis) "
        "VALUES (1, 1, 'done', ?, ?, 11.0, '{\"cadence_spm\": 171.0}')",
        (now, now),
    )
    conn.execute(
        "INSERT INTO sessions (id, runner_id, status, started_at) VALUES (2, 2, 'failed', ?)", (now,)
    )
    conn.execute(
        "INSERT INTO evidence (id, session_id, side, phase, t, frame, jpeg, keypoints) "
        "VALUES (1, 1, 'left', 'initial_contact', 1.0, 30, x'ffd8', '[]')"
    )
    conn.close()

    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION
    assert s.integrity_check() == "ok"
    sess = s.get_session(1)
    assert sess["runner"]["name"] == "Old" and sess["runner"]["height_cm"] == 181
    assert sess["analysis"] == {"cadence_spm": 171.0}
    hist = s.list_analyses(1)
    assert len(hist) == 1 and hist[0]["current"] and hist[0]["created_by"] == "station"
    assert [e["id"] for e in s.list_evidence(1)] == [1]
    # the newest runner deleted: the next one does not get id 2, nor its session id
    s.delete_runner(2)
    rid = s.create_runner("Next", 170)
    sid = s.create_session(rid, 10.0)
    assert rid == 3 and sid == 3
    s.close()


def test_session_keeps_the_height_it_was_captured_with(store: Store) -> None:
    rid = store.create_runner("Sam", 170)
    old = store.create_session(rid, 10.0, 0.0, "Shoe A")
    store.update_runner(rid, height_cm=180)
    new = store.create_session(rid, 12.0, 0.0, "Shoe B")
    assert store.get_session(old)["runner"]["height_cm"] == 170
    assert store.get_session(old)["runner"]["height_cm_now"] == 180
    assert store.get_session(new)["runner"]["height_cm"] == 180
    assert store.get_session(old)["shoes"] == "Shoe A" and store.get_session(old)["speed_kmh"] == 10.0
    explicit = store.create_session(rid, 12.0, height_cm=175)
    assert store.get_session(explicit)["height_cm"] == 175
    assert store.get_runner(rid)["height_cm"] == 180


def test_find_and_merge_runners(store: Store) -> None:
    a = store.create_runner("Ann Lee", 168, "knee")
    b = store.create_runner("  ann   LEE ", None, "ankle")
    store.create_runner("Annabel", 170)
    assert {r["id"] for r in store.find_runners("ANN lee")} == {a, b}
    assert store.find_runners("") == []
    sa = store.create_session(a, 10.0)
    sb = store.create_session(b, 11.0)
    merged = store.merge_runners(a, b)
    assert merged["session_count"] == 2 and merged["height_cm"] == 168
    assert "knee" in merged["notes"] and "ankle" in merged["notes"]
    assert store.get_session(sb)["runner_id"] == a and store.get_session(sa)["runner_id"] == a
    assert store.get_session(sb)["height_cm"] is None  # captured without a height: stays so
    with pytest.raises(NotFoundError):
        store.get_runner(b)
    with pytest.raises(Exception, match="two different"):
        store.merge_runners(a, a)


def test_delete_runner_if_unused(store: Store) -> None:
    a = store.create_runner("Used", 170)
    store.create_session(a, 10.0)
    b = store.create_runner("Never ran", 170)
    assert not store.delete_runner_if_unused(a)
    assert store.delete_runner_if_unused(b)
    assert [r["id"] for r in store.list_runners()] == [a]


def test_analysis_history_keeps_the_original(store: Store) -> None:
    rid = store.create_runner("Kim", 170)
    sid = store.create_session(rid, 10.0)
    first = store.save_analysis(sid, {"cadence_spm": 170.0})
    e1 = store.add_evidence(sid, "left", "initial_contact", 1.0, 30, b"\xff\xd8", np.zeros((17, 3)))
    second = store.save_analysis(
        sid,
        {"cadence_spm": 171.0},
        created_by="Dr K",
        corrections={"swap_sides": True},
        note="mirrored camera",
    )
    e2 = store.add_evidence(
        sid, "right", "initial_contact", 1.0, 30, b"\xff\xd8", np.zeros((17, 3)), analysis_id=second
    )
    s = store.get_session(sid)
    assert s["analysis"] == {"cadence_spm": 171.0} and s["analysis_id"] == second
    hist = store.list_analyses(sid)
    assert [h["id"] for h in hist] == [first, second]
    assert [h["current"] for h in hist] == [False, True]
    assert hist[1]["created_by"] == "Dr K" and hist[1]["corrections"] == {"swap_sides": True}
    assert hist[0]["cadence_spm"] == 170.0
    assert store.get_analysis(first)["analysis"] == {"cadence_spm": 170.0}
    assert [e["id"] for e in store.list_evidence(sid)] == [e2]
    assert [e["id"] for e in store.list_evidence(sid, first)] == [e1]
    store.delete_session(sid)
    with pytest.raises(NotFoundError):
        store.get_analysis(first)
