"""Store: the CUPS jobs each session printed are remembered, and purged from the print queue when
the session (or its runner) is deleted; a printer that cannot be reached never fails a delete."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.store import Store
from device.store.schema import MIGRATIONS, SCHEMA_VERSION


class FakeQueue:
    """A print queue: holds jobs until purged; ``reachable`` False plays CUPS being down."""

    def __init__(self) -> None:
        self.jobs: set[str] = set()
        self.reachable = True
        self.calls: list[list[str]] = []

    def purge(self, job_ids: list[str]) -> list[str]:
        self.calls.append(list(job_ids))
        if not self.reachable:
            return []
        self.jobs -= set(job_ids)
        return list(job_ids)


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def store(tmp_path: Path, queue: FakeQueue) -> Iterator[Store]:
    s = Store(tmp_path / "station.db", print_jobs=queue)
    yield s
    s.close()


def _printed(store: Store, queue: FakeQueue, session_ids: list[int], job: str) -> None:
    queue.jobs.add(job)
    store.add_print_job(session_ids, job)


def test_deleting_a_session_or_runner_purges_its_print_jobs(store: Store, queue: FakeQueue) -> None:
    rid = store.create_runner("Zelda Quxworthy", 170)
    a, b = store.create_session(rid), store.create_session(rid)
    other = store.create_session(store.create_runner("Ada", 160))
    _printed(store, queue, [a], "q-1")  # report
    _printed(store, queue, [a], "q-2")  # summary sheet
    _printed(store, queue, [b], "q-3")
    _printed(store, queue, [other], "q-4")
    assert store.print_jobs(a) == ["q-1", "q-2"]

    store.delete_session(a)
    assert queue.jobs == {"q-3", "q-4"}
    store.delete_runner(rid)
    assert queue.jobs == {"q-4"}  # another runner's job stays queued
    assert store.pending_print_jobs() == [] and store.print_jobs(other) == ["q-4"]


def test_a_comparison_job_goes_with_either_session(store: Store, queue: FakeQueue) -> None:
    rid = store.create_runner("Ada", 160)
    a, b = store.create_session(rid), store.create_session(rid)
    _printed(store, queue, [a, b], "q-7")
    store.delete_session(b)
    assert queue.jobs == set()
    assert store.print_jobs(a) == []  # gone for the other session too: nothing to purge again
    store.delete_session(a)
    assert queue.calls == [["q-7"]]


def test_cups_down_does_not_fail_the_delete_and_the_purge_is_tried_again(
    store: Store, queue: FakeQueue
) -> None:
    sid = store.create_session(store.create_runner("Ada", 160))
    _printed(store, queue, [sid], "q-5")
    queue.reachable = False
    store.delete_session(sid)  # no error
    assert store.pending_print_jobs() == ["q-5"] and queue.jobs == {"q-5"}
    queue.reachable = True
    store.purge_print_jobs()  # at the next delete or start
    assert queue.jobs == set() and store.pending_print_jobs() == []


def test_a_session_deleted_while_it_printed_has_its_job_purged_at_once(
    store: Store, queue: FakeQueue
) -> None:
    sid = store.create_session(store.create_runner("Ada", 160))
    store.delete_session(sid)  # from another thread, while lp was sending the job
    _printed(store, queue, [sid], "q-6")
    assert queue.jobs == set() and store.pending_print_jobs() == []


def test_a_database_of_the_previous_schema_gains_the_print_jobs(tmp_path: Path, queue: FakeQueue) -> None:
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for script in MIGRATIONS[:2]:
            conn.executescript(script)
        conn.execute("PRAGMA user_version = 2")
        now = "2026-01-01T10:00:00.000+00:00"
        conn.execute("INSERT INTO runners VALUES (1, 'Old', 181, '', ?, ?)", (now, now))
        conn.execute(
            "INSERT INTO sessions (id, runner_id, status, started_at) VALUES (1, 1, 'done', ?)", (now,)
        )
    with contextlib.closing(Store(path, print_jobs=queue)) as s:
        assert s.schema_version == SCHEMA_VERSION and s.integrity_check() == "ok"
        _printed(s, queue, [1], "q-1")
        s.delete_runner(1)
        assert queue.jobs == set()
