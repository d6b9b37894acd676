"""The station's SQLite store: runners, sessions, keypoints, analyses and evidence frames.

One file (``<data_dir>/station.db``) in WAL mode, foreign keys on, so deleting a runner deletes
their sessions, keypoints and evidence in one transaction. Health data, so: the file and its
WAL are readable by the station's user only (0600), ids are never reused (AUTOINCREMENT), and a
delete is really gone at once (``secure_delete`` zeroes the freed pages and the WAL is
checkpointed and truncated right after). The store is shared by the live loop's
background writer, the analysis worker and the web server's threads: each thread gets its own
connection (sqlite3 connections must not be shared across threads) and writes are serialised by
one lock so no thread ever sees ``database is locked``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from device.errors import InputError, UserError
from device.keypoints import N_KEYPOINTS, Timeline
from device.store import validate as v
from device.store.schema import MIGRATIONS, SCHEMA_VERSION, SESSION_STATUSES

log = logging.getLogger(__name__)

ACTIVE_STATUSES = ("capturing", "analysing")
_SESSION_DETAIL_FIELDS = ("speed_kmh", "incline_pct", "shoes", "notes", "view")
_DB_MODE = 0o600  # health data: only the station's user reads the database
_SESSION_STAT_FIELDS = (
    "effective_fps",
    "frames_captured",
    "frames_inferred",
    "frames_dropped",
    "frame_width",
    "frame_height",
    "video_path",
)


def utc_now() -> str:
    """Timestamps are ISO 8601 UTC text: sortable as strings and readable in the sqlite3 shell."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class NotFoundError(UserError):
    """A runner, session or evidence frame that does not exist (or was deleted)."""


class PrintJobPurger(Protocol):
    """Takes print jobs of deleted sessions out of the print queue (CUPS in the station)."""

    def purge(self, job_ids: list[str]) -> list[str]:
        """Cancel and purge these jobs; returns those that are gone. Never raises."""
        ...


class _ThreadConn(threading.local):
    """Each thread's own connection (sqlite3 connections are not shared between threads)."""

    conn: sqlite3.Connection | None = None


class Store:
    """The station database. Thread-safe; use one instance per process and :meth:`close` it.

    ``print_jobs`` purges the print jobs of a deleted session from the printer queue (without
    it their ids are kept until a store that has one deletes or starts)."""

    def __init__(self, db_path: str | Path, *, print_jobs: PrintJobPurger | None = None) -> None:
        self.path = Path(db_path)
        self._print_jobs = print_jobs
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the data folder {self.path.parent}: {exc.strerror}") from None
        _private_files(self.path)
        self._local = _ThreadConn()
        self._write_lock = threading.RLock()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        self._migrate()

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("store is closed")
        conn = self._local.conn
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            except sqlite3.Error as exc:
                raise UserError(f"cannot open the database {self.path}: {exc}") from None
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            # a deleted runner's rows are overwritten with zeros, not left in free pages
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            # FULL: each ~1 s keypoint batch is on disk when its commit returns (power cuts).
            conn.execute("PRAGMA synchronous = FULL")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def release_thread(self) -> None:
        """Close the calling thread's connection (short-lived worker threads call this on exit)."""
        conn = self._local.conn
        if conn is None:
            return
        self._local.conn = None
        with self._conns_lock, contextlib.suppress(ValueError):
            self._conns.remove(conn)
        with contextlib.suppress(sqlite3.Error):
            conn.close()

    @contextlib.contextmanager
    def thread_scope(self) -> Iterator[None]:
        """Wrap a worker thread's whole body: the connection it opened (if any) is closed when
        the body ends, including any the last callbacks opened."""
        try:
            yield
        finally:
            self.release_thread()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (serialised across threads)."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                # SQLite already rolled back after some errors (SQLITE_FULL, I/O): a second
                # ROLLBACK would raise and hide the real error ("database or disk is full").
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def _migrate(self) -> None:
        conn = self._conn()
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("database %s: WAL mode unavailable (journal_mode=%s)", self.path, mode)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserError(
                f"database {self.path} is from a newer gait-station (schema {version} > {SCHEMA_VERSION}); "
                "update the software"
            )
        if version == SCHEMA_VERSION:
            return
        # Rebuilding a table (DROP + RENAME) with foreign keys on would cascade-delete every
        # session; they are off while migrating (a no-op inside a transaction, so set before)
        # and checked before each migration commits.
        conn.execute("PRAGMA foreign_keys = OFF")
        try:
            for i in range(version, SCHEMA_VERSION):
                with self._write_lock:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        for stmt in _split_sql(MIGRATIONS[i]):
                            conn.execute(stmt)
                        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise UserError(
                                f"database {self.path}: migration {i + 1} left {len(broken)} dangling rows; "
                                "nothing was changed"
                            )
                        conn.execute(f"PRAGMA user_version = {i + 1}")
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                log.info("database %s: migrated to schema %d", self.path, i + 1)
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
        _private_files(self.path)

    @property
    def schema_version(self) -> int:
        return int(self._conn().execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close every thread's connection (call once, at shutdown)."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
        self._closed = True
        for c in conns:
            with contextlib.suppress(sqlite3.Error):
                c.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runners -----------------------------------------------------------------------------

    def create_runner(self, name: str, height_cm: float | None = None, notes: str = "") -> int:
        name = v.runner_name(name)
        h = v.height_cm(height_cm)
        notes = v.text("notes", notes, v.NOTES_MAX)
        now = utc_now()
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO runners (name, height_cm, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (name, h, notes, now, now),
            )
            return _inserted_id(cur)

    def get_runner(self, runner_id: int) -> dict[str, Any]:
        row = (
            self._conn()
            .execute(
                "SELECT r.*, (SELECT COUNT(*) FROM sessions s WHERE s.runner_id = r.id) AS session_count, "
                "(SELECT MAX(started_at) FROM sessions s WHERE s.runner_id = r.id) AS last_session_at "
                "FROM runners r WHERE r.id = ?",
                (runner_id,),
            )
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"runner {runner_id} not found")
        return dict(row)

    def list_runners(self, search: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT r.*, (SELECT COUNT(*) FROM sessions s WHERE s.runner_id = r.id) AS session_count, "
            "(SELECT MAX(started_at) FROM sessions s WHERE s.runner_id = r.id) AS last_session_at "
            "FROM runners r"
        )
        params: tuple[Any, ...] = ()
        if search:
            sql += " WHERE r.name LIKE ? ESCAPE '\\'"
            esc = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params = (f"%{esc}%",)
        sql += " ORDER BY r.name COLLATE NOCASE, r.id"
        return [dict(r) for r in self._conn().execute(sql, params)]

    def update_runner(
        self, runner_id: int, *, name: str | None = None, height_cm: Any = ..., notes: str | None = None
    ) -> dict[str, Any]:
        """Change some fields (``height_cm=None`` clears the height; leave it out to keep it)."""
        sets: dict[str, Any] = {}
        if name is not None:
            sets["name"] = v.runner_name(name)
        if height_cm is not ...:
            sets["height_cm"] = v.height_cm(height_cm)
        if notes is not None:
            sets["notes"] = v.text("notes", notes, v.NOTES_MAX)
        sets["updated_at"] = utc_now()
        cols = ", ".join(f"{k} = ?" for k in sets)
        with self._tx() as c:
            cur = c.execute(f"UPDATE runners SET {cols} WHERE id = ?", (*sets.values(), runner_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"runner {runner_id} not found")
        return self.get_runner(runner_id)

    def find_runners(self, name: str) -> list[dict[str, Any]]:
        """Runners whose name is ``name`` (case and spacing ignored): typing a name that exists
        offers that runner instead of creating a second one."""
        key = _name_key(name)
        if not key:
            return []
        return [r for r in self.list_runners() if _name_key(r["name"]) == key]

    def merge_runners(self, keep_id: int, other_id: int) -> dict[str, Any]:
        """Move every session of ``other_id`` to ``keep_id`` and delete ``other_id`` (a duplicate
        entered twice). Sessions keep the height they were captured with; notes are joined."""
        if keep_id == other_id:
            raise InputError("choose two different runners to merge")
        with self._tx() as c:
            rows = {
                r["id"]: r for r in c.execute("SELECT * FROM runners WHERE id IN (?, ?)", (keep_id, other_id))
            }
            for rid in (keep_id, other_id):
                if rid not in rows:
                    raise NotFoundError(f"runner {rid} not found")
            keep, other = rows[keep_id], rows[other_id]
            notes = keep["notes"]
            if other["notes"] and other["notes"] not in notes:
                notes = (notes + "\n" + other["notes"]).strip()[: v.NOTES_MAX]
            height = keep["height_cm"] if keep["height_cm"] is not None else other["height_cm"]
            c.execute("UPDATE sessions SET runner_id = ? WHERE runner_id = ?", (keep_id, other_id))
            c.execute(
                "UPDATE runners SET notes = ?, height_cm = ?, updated_at = ? WHERE id = ?",
                (notes, height, utc_now(), keep_id),
            )
            c.execute("DELETE FROM runners WHERE id = ?", (other_id,))
        self._purge()
        return self.get_runner(keep_id)

    def delete_runner(self, runner_id: int) -> None:
        """Delete a runner with every session, keypoint, evidence frame, video and spool of theirs."""
        conn = self._conn()
        rows = conn.execute(
            "SELECT id, video_path FROM sessions WHERE runner_id = ?", (runner_id,)
        ).fetchall()
        with self._tx() as c:
            cur = c.execute("DELETE FROM runners WHERE id = ?", (runner_id,))
            if cur.rowcount == 0:
                raise NotFoundError(f"runner {runner_id} not found")
        _unlink_all([r[1] for r in rows if r[1]])
        self._unlink_spools([int(r[0]) for r in rows])
        self._purge()
        self.purge_print_jobs()

    def delete_runner_if_unused(self, runner_id: int) -> bool:
        """Delete a runner that has no session (one entered for a run that never started)."""
        with self._tx() as c:
            cur = c.execute(
                "DELETE FROM runners WHERE id = ? AND NOT EXISTS (SELECT 1 FROM sessions WHERE runner_id = ?)",
                (runner_id, runner_id),
            )
            gone = cur.rowcount > 0
        if gone:
            self._purge()
        return gone

    # -- sessions ----------------------------------------------------------------------------

    def create_session(
        self,
        runner_id: int | None,
        speed_kmh: float | None = None,
        incline_pct: float | None = None,
        shoes: str = "",
        notes: str = "",
        view: str = "auto",
        source: str = "",
        settings: dict[str, Any] | None = None,
        *,
        height_cm: Any = ...,
    ) -> int:
        """A new session in status ``capturing`` (``runner_id`` None = an unnamed quick capture).

        The session keeps the runner's height as it is now (or ``height_cm`` when given): editing
        the runner later changes new sessions only, never a report already made."""
        height = ... if height_cm is ... else v.height_cm(height_cm)
        row = (
            v.speed_kmh(speed_kmh),
            v.incline_pct(incline_pct),
            v.text("shoes", shoes, v.SHOES_MAX),
            v.text("notes", notes, v.NOTES_MAX),
            v.view(view),
            v.text("source", source, v.SOURCE_MAX),
            json.dumps(settings or {}, default=str),
        )
        with self._tx() as c:
            if (
                runner_id is not None
                and c.execute("SELECT 1 FROM runners WHERE id = ?", (runner_id,)).fetchone() is None
            ):
                raise NotFoundError(f"runner {runner_id} not found")
            if height is ...:
                r = c.execute("SELECT height_cm FROM runners WHERE id = ?", (runner_id,)).fetchone()
                height = r[0] if r is not None else None
            cur = c.execute(
                "INSERT INTO sessions (runner_id, status, started_at, height_cm, speed_kmh, incline_pct, shoes, "
                "notes, view, source, settings) VALUES (?, 'capturing', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (runner_id, utc_now(), height, *row),
            )
            return _inserted_id(cur)

    def update_session(self, session_id: int, **fields: Any) -> None:
        """Edit the clinician's details of a session (speed_kmh, incline_pct, shoes, notes, view)."""
        checks = {
            "speed_kmh": v.speed_kmh,
            "incline_pct": v.incline_pct,
            "shoes": lambda x: v.text("shoes", x, v.SHOES_MAX),
            "notes": lambda x: v.text("notes", x, v.NOTES_MAX),
            "view": v.view,
        }
        unknown = set(fields) - set(checks)
        if unknown:
            raise InputError(f"cannot change {', '.join(sorted(unknown))} of a session")
        if not fields:
            return
        sets = {k: checks[k](val) for k, val in fields.items()}
        self._update(session_id, sets)

    def _update(self, session_id: int, sets: dict[str, Any]) -> None:
        cols = ", ".join(f"{k} = ?" for k in sets)
        with self._tx() as c:
            cur = c.execute(f"UPDATE sessions SET {cols} WHERE id = ?", (*sets.values(), session_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"session {session_id} not found")

    def get_session(self, session_id: int) -> dict[str, Any]:
        row = self._conn().execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"session {session_id} not found")
        return self._session_dict(row, full=True)

    def list_sessions(
        self, runner_id: int | None = None, *, limit: int | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Sessions newest first, without the analysis body (``cadence_spm`` lifted out for lists)."""
        where: list[str] = []
        params: list[Any] = []
        if runner_id is not None:
            where.append("s.runner_id = ?")
            params.append(runner_id)
        if status is not None:
            where.append("s.status = ?")
            params.append(status)
        sql = (
            "SELECT s.*, json_extract(s.analysis, '$.cadence_spm') AS cadence_spm FROM sessions s"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY s.started_at DESC, s.id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._session_dict(r, full=False) for r in self._conn().execute(sql, params)]

    def _session_dict(self, row: sqlite3.Row, *, full: bool) -> dict[str, Any]:
        d = dict(row)
        d["settings"] = json.loads(d["settings"] or "{}")
        analysis = d.pop("analysis", None)
        if full:
            d["analysis"] = json.loads(analysis) if analysis else None
        d["runner"] = None
        if d["runner_id"] is not None:
            r = self._conn().execute("SELECT * FROM runners WHERE id = ?", (d["runner_id"],)).fetchone()
            if r is not None:
                # what the session was captured with; the runner's height today is height_cm_now
                d["runner"] = {**dict(r), "height_cm": d["height_cm"], "height_cm_now": r["height_cm"]}
        return d

    def set_status(self, session_id: int, status: str, error: str | None = None, **stats: Any) -> None:
        """Move a session to ``status``; terminal statuses stamp ``ended_at``. ``stats``: any of
        effective_fps, frames_captured/inferred/dropped, frame_width/height, video_path."""
        if status not in SESSION_STATUSES:
            raise ValueError(f"unknown session status {status!r}")
        bad = set(stats) - set(_SESSION_STAT_FIELDS)
        if bad:
            raise ValueError(f"unknown session fields {sorted(bad)}")
        sets: dict[str, Any] = {"status": status, **stats}
        if error is not None:
            sets["error"] = error[:2000]
        cols = ", ".join(f"{k} = ?" for k in sets)
        # ended_at = when the capture ended: stamped once, by the first status after capturing.
        if status != "capturing":
            cols += ", ended_at = COALESCE(ended_at, ?)"
            sets["_ended"] = utc_now()
        with self._tx() as c:
            cur = c.execute(f"UPDATE sessions SET {cols} WHERE id = ?", (*sets.values(), session_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"session {session_id} not found")

    def save_analysis(
        self,
        session_id: int,
        analysis: dict[str, Any],
        summary_text: str | None = None,
        *,
        created_by: str = "station",
        corrections: dict[str, Any] | None = None,
        note: str = "",
    ) -> int:
        """Store an analysis (``Analysis.to_dict()``) as the session's current one and mark the
        session done. Earlier analyses stay in the history (:meth:`list_analyses`): a
        re-analysis after a correction never overwrites the original. Returns the analysis id."""
        body = json.dumps(analysis, allow_nan=False)
        by = v.text("who", created_by, v.NAME_MAX, required=True)
        note = v.text("note", note, v.NOTES_MAX)
        with self._tx() as c:
            if c.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                raise NotFoundError(f"session {session_id} not found")
            cur = c.execute(
                "INSERT INTO analyses (session_id, created_at, created_by, corrections, note, analysis) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, utc_now(), by, json.dumps(corrections or {}, default=str), note, body),
            )
            aid = _inserted_id(cur)
            sets: dict[str, Any] = {"analysis": body, "analysis_id": aid, "status": "done", "error": None}
            if summary_text is not None:
                sets["summary_text"] = summary_text
            cols = ", ".join(f"{k} = ?" for k in sets)
            c.execute(f"UPDATE sessions SET {cols} WHERE id = ?", (*sets.values(), session_id))
        return aid

    def list_analyses(self, session_id: int) -> list[dict[str, Any]]:
        """Every analysis of a session, oldest (the capture's) first, without the bodies;
        ``current`` marks the one the session shows."""
        rows = (
            self._conn()
            .execute(
                "SELECT a.id, a.session_id, a.created_at, a.created_by, a.corrections, a.note, "
                "json_extract(a.analysis, '$.cadence_spm') AS cadence_spm, "
                "(a.id = s.analysis_id) AS current FROM analyses a JOIN sessions s ON s.id = a.session_id "
                "WHERE a.session_id = ? ORDER BY a.id",
                (session_id,),
            )
            .fetchall()
        )
        out = []
        for r in rows:
            d = dict(r)
            d["corrections"] = json.loads(d["corrections"] or "{}")
            d["current"] = bool(d["current"])
            out.append(d)
        return out

    def get_analysis(self, analysis_id: int) -> dict[str, Any]:
        """One analysis of the history with its body (``analysis``)."""
        row = self._conn().execute("SELECT * FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"analysis {analysis_id} not found")
        d = dict(row)
        d["corrections"] = json.loads(d["corrections"] or "{}")
        d["analysis"] = json.loads(d["analysis"])
        return d

    def set_summary_text(self, session_id: int, summary_text: str) -> None:
        self._update(session_id, {"summary_text": summary_text})

    def mark_printed(self, session_id: int, what: str) -> None:
        """Stamp when the ``"summary"`` (receipt) or the ``"report"`` (full PDF) was printed."""
        if what not in ("summary", "report"):
            raise ValueError("what must be 'summary' or 'report'")
        self._update(session_id, {f"printed_{what}_at": utc_now()})

    # -- print jobs --------------------------------------------------------------------------

    def add_print_job(self, session_ids: Iterable[int], job_id: str) -> None:
        """Remember the CUPS job that printed these sessions (a comparison prints two), so that
        deleting any of them purges it from the queue. A session deleted while it was printing
        leaves the job to purge at once."""
        now = utc_now()
        with self._tx() as c:
            c.executemany(
                "INSERT INTO print_jobs (session_id, job_id, created_at) "
                "VALUES ((SELECT id FROM sessions WHERE id = ?), ?, ?)",
                [(sid, job_id, now) for sid in session_ids],
            )
            orphaned = c.execute(
                "SELECT 1 FROM print_jobs WHERE job_id = ? AND session_id IS NULL", (job_id,)
            ).fetchone()
        if orphaned:
            self.purge_print_jobs()

    def print_jobs(self, session_id: int) -> list[str]:
        """The CUPS job ids that printed this session, oldest first."""
        rows = self._conn().execute(
            "SELECT job_id FROM print_jobs WHERE session_id = ? ORDER BY id", (session_id,)
        )
        return [str(r[0]) for r in rows]

    def pending_print_jobs(self) -> list[str]:
        """Jobs of deleted sessions not yet purged from the queue (CUPS was unreachable)."""
        rows = self._conn().execute(
            "SELECT DISTINCT job_id FROM print_jobs WHERE session_id IS NULL ORDER BY job_id"
        )
        return [str(r[0]) for r in rows]

    def purge_print_jobs(self) -> None:
        """Purge the jobs of deleted sessions from the print queue and forget those that are gone
        (with every session they printed: the job is gone for them too). Never fails a delete."""
        if self._print_jobs is None:
            return
        pending = self.pending_print_jobs()
        if not pending:
            return
        gone = self._print_jobs.purge(pending)  # never raises: CUPS down must not fail a delete
        if gone:
            with self._tx() as c:
                c.executemany("DELETE FROM print_jobs WHERE job_id = ?", [(j,) for j in gone])

    def video_paths(self) -> set[str]:
        """Every recorded video a session names (``video_path``)."""
        rows = self._conn().execute("SELECT video_path FROM sessions WHERE video_path IS NOT NULL").fetchall()
        return {str(r[0]) for r in rows}

    @property
    def spool_dir(self) -> Path:
        """Where captures spool their frames (``<data_dir>/spool``): a session's spools stay there
        until it is analysed, or, interrupted and not finished, until it is deleted."""
        return self.path.parent / "spool"

    def delete_session(self, session_id: int) -> None:
        """Delete a session with everything of it: keypoints, analyses, evidence, its video and
        any spool it left (the recording of an interrupted session not finished)."""
        row = self._conn().execute("SELECT video_path FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"session {session_id} not found")
        with self._tx() as c:
            c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        _unlink_all([row[0]] if row[0] else [])
        self._unlink_spools([session_id])
        self._purge()
        self.purge_print_jobs()

    def _unlink_spools(self, session_ids: list[int]) -> None:
        for sid in session_ids:
            for p in spool_files(self.spool_dir, sid):
                try:
                    p.unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("could not delete %s: %s", p, exc)

    def recover_interrupted(self) -> list[int]:
        """At start-up: sessions a crash or power cut left capturing/analysing become
        ``interrupted`` (their keypoints stay, so they can be re-analysed). Returns their ids."""
        with self._tx() as c:
            ids = [
                r[0] for r in c.execute("SELECT id FROM sessions WHERE status IN ('capturing', 'analysing')")
            ]
            for sid in ids:
                n = c.execute(
                    "SELECT COALESCE(SUM(n), 0) FROM keypoint_batches WHERE session_id = ? AND camera = 'main'",
                    (sid,),
                ).fetchone()[0]
                c.execute(
                    "UPDATE sessions SET status = 'interrupted', ended_at = COALESCE(ended_at, ?), "
                    "error = ?, frames_inferred = MAX(frames_inferred, ?) WHERE id = ?",
                    (
                        utc_now(),
                        "the station stopped during this session (power cut or crash); "
                        f"{n} frames of keypoints were kept",
                        n,
                        sid,
                    ),
                )
        if ids:
            log.warning("marked %d interrupted session(s): %s", len(ids), ids)
        return ids

    def _finished_before(self, retention_days: int) -> list[tuple[int, str | None]]:
        """(id, video_path) of the sessions started more than ``retention_days`` ago and not being
        captured or analysed (none when ``retention_days`` <= 0: keep everything)."""
        if retention_days <= 0:
            return []
        cutoff = (datetime.now(UTC) - timedelta(days=retention_days)).isoformat(timespec="milliseconds")
        rows = (
            self._conn()
            .execute(
                "SELECT id, video_path FROM sessions WHERE started_at < ? AND status NOT IN ('capturing', 'analysing')",
                (cutoff,),
            )
            .fetchall()
        )
        return [(int(r[0]), r[1]) for r in rows]

    def prune(self, retention_days: int) -> int:
        """Delete finished sessions older than ``retention_days`` (0 = keep all). Returns how many."""
        rows = self._finished_before(retention_days)
        if not rows:
            return 0
        with self._tx() as c:
            c.executemany("DELETE FROM sessions WHERE id = ?", [(r[0],) for r in rows])
        _unlink_all([r[1] for r in rows if r[1]])
        self._unlink_spools([r[0] for r in rows])
        self._purge()
        self.purge_print_jobs()
        log.info("pruned %d session(s) older than %d days", len(rows), retention_days)
        return len(rows)

    def prune_videos(self, retention_days: int) -> int:
        """Delete the recorded videos of sessions older than ``retention_days`` (0 = keep them as
        long as the session); the sessions, analyses and evidence frames stay. Returns how many."""
        rows = [r for r in self._finished_before(retention_days) if r[1]]
        if not rows:
            return 0
        with self._tx() as c:
            c.executemany("UPDATE sessions SET video_path = NULL WHERE id = ?", [(r[0],) for r in rows])
        _unlink_all([r[1] for r in rows if r[1]])
        log.info("deleted %d video(s) older than %d days", len(rows), retention_days)
        return len(rows)

    # -- keypoints ---------------------------------------------------------------------------

    def append_keypoints(
        self,
        session_id: int,
        t: np.ndarray,
        keypoints: np.ndarray,
        frame: np.ndarray,
        camera: str = "main",
    ) -> None:
        """Append a batch of frames: ``t`` (n,), ``keypoints`` (n,17,3) x/y/score, ``frame`` (n,)."""
        t = np.ascontiguousarray(t, dtype="<f8")
        kp = np.asarray(keypoints, dtype=np.float32)
        n = t.shape[0]
        if n == 0:
            return
        if kp.shape != (n, N_KEYPOINTS, 3):
            raise ValueError(f"keypoints must have shape ({n}, {N_KEYPOINTS}, 3), got {kp.shape}")
        xy = np.ascontiguousarray(kp[:, :, :2], dtype="<f4")
        score = np.ascontiguousarray(kp[:, :, 2], dtype="<f4")
        fr = np.ascontiguousarray(frame, dtype="<i8")
        with self._tx() as c:
            c.execute(
                "INSERT INTO keypoint_batches (session_id, camera, n, t, xy, score, frame) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, camera, n, t.tobytes(), xy.tobytes(), score.tobytes(), fr.tobytes()),
            )

    def count_keypoints(self, session_id: int, camera: str = "main") -> int:
        return int(
            self._conn()
            .execute(
                "SELECT COALESCE(SUM(n), 0) FROM keypoint_batches WHERE session_id = ? AND camera = ?",
                (session_id, camera),
            )
            .fetchone()[0]
        )

    def first_keypoint_t(self, session_id: int, camera: str = "main") -> float | None:
        """The time of the session's first recorded frame (station clock), None if none."""
        row = (
            self._conn()
            .execute(
                "SELECT t FROM keypoint_batches WHERE session_id = ? AND camera = ? ORDER BY id LIMIT 1",
                (session_id, camera),
            )
            .fetchone()
        )
        return (
            float(np.frombuffer(row[0], "<f8", count=1)[0]) if row is not None and len(row[0]) >= 8 else None
        )

    def get_keypoints(self, session_id: int, camera: str = "main") -> Timeline:
        """The session's keypoint timeline (empty Timeline if nothing was recorded)."""
        conn = self._conn()
        srow = conn.execute(
            "SELECT frame_width, frame_height FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if srow is None:
            raise NotFoundError(f"session {session_id} not found")
        rows = conn.execute(
            "SELECT n, t, xy, score, frame FROM keypoint_batches WHERE session_id = ? AND camera = ? ORDER BY id",
            (session_id, camera),
        ).fetchall()
        if rows:
            t = np.concatenate([np.frombuffer(r["t"], "<f8") for r in rows]).astype(np.float64)
            xy = np.concatenate([np.frombuffer(r["xy"], "<f4").reshape(r["n"], N_KEYPOINTS, 2) for r in rows])
            score = np.concatenate(
                [np.frombuffer(r["score"], "<f4").reshape(r["n"], N_KEYPOINTS) for r in rows]
            )
            frame = np.concatenate([np.frombuffer(r["frame"], "<i8") for r in rows]).astype(np.int64)
            if t.size > 1 and not bool(np.all(np.diff(t) > 0)):
                # Live and catch-up keypoints are stored in two passes: hand them out in time order.
                order = np.argsort(t, kind="stable")
                t, xy, score, frame = t[order], xy[order], score[order], frame[order]
        else:
            t = np.empty(0)
            xy = np.empty((0, N_KEYPOINTS, 2), np.float32)
            score = np.empty((0, N_KEYPOINTS), np.float32)
            frame = np.empty(0, np.int64)
        return Timeline(
            t,
            xy.astype(np.float32),
            score.astype(np.float32),
            frame,
            srow["frame_width"],
            srow["frame_height"],
            {"session_id": session_id, "camera": camera},
        )

    # -- evidence ----------------------------------------------------------------------------

    def add_evidence(
        self,
        session_id: int,
        side: str | None,
        phase: str,
        t: float,
        frame: int,
        jpeg: bytes,
        keypoints: Any,
        *,
        camera: str = "main",
        meta: dict[str, Any] | None = None,
        analysis_id: int | None = None,
    ) -> int:
        """Store one evidence frame (JPEG bytes) with its keypoints ((17,3) array or list).
        ``analysis_id``: the re-analysis that chose it (None: the capture's own analysis)."""
        kp = np.asarray(keypoints, dtype=np.float64)
        kp_list = [
            [None if not np.isfinite(x) else round(float(x), 2) for x in row] for row in kp.reshape(-1, 3)
        ]
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO evidence (session_id, side, phase, t, frame, camera, jpeg, keypoints, meta, "
                "analysis_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    side,
                    phase,
                    float(t),
                    int(frame),
                    camera,
                    sqlite3.Binary(jpeg),
                    json.dumps(kp_list),
                    json.dumps(meta or {}, default=str),
                    analysis_id,
                ),
            )
            return _inserted_id(cur)

    def list_evidence(self, session_id: int, analysis_id: int | None = None) -> list[dict[str, Any]]:
        """Evidence frames of one analysis of a session (default: the current one), metadata and
        keypoints without the JPEG bytes. The capture's own analysis owns the frames stored with
        no analysis id."""
        conn = self._conn()
        if analysis_id is None:
            row = conn.execute("SELECT analysis_id FROM sessions WHERE id = ?", (session_id,)).fetchone()
            analysis_id = row[0] if row is not None else None
        first = conn.execute("SELECT MIN(id) FROM analyses WHERE session_id = ?", (session_id,)).fetchone()[0]
        cols = "id, session_id, analysis_id, side, phase, t, frame, camera, keypoints, meta, length(jpeg) AS jpeg_bytes"
        if analysis_id is None or analysis_id == first:
            sql = f"SELECT {cols} FROM evidence WHERE session_id = ? AND (analysis_id IS NULL OR analysis_id = ?)"
        else:
            sql = f"SELECT {cols} FROM evidence WHERE session_id = ? AND analysis_id = ?"
        rows = conn.execute(sql + " ORDER BY t, id", (session_id, analysis_id)).fetchall()
        return [_evidence_dict(r) for r in rows]

    def evidence_image_at(self, session_id: int, frame: int) -> tuple[bytes, float, int] | None:
        """(JPEG, scale, frame) of a stored evidence frame of this session at or nearest to
        ``frame`` within 2 frames (any analysis): a re-analysis without video reuses them."""
        row = (
            self._conn()
            .execute(
                "SELECT jpeg, meta, frame FROM evidence WHERE session_id = ? AND camera = 'main' "
                "AND ABS(frame - ?) <= 2 ORDER BY ABS(frame - ?), id LIMIT 1",
                (session_id, frame, frame),
            )
            .fetchone()
        )
        if row is None:
            return None
        scale = json.loads(row["meta"] or "{}").get("scale", 1.0)
        return bytes(row["jpeg"]), float(scale), int(row["frame"])

    def get_evidence(self, evidence_id: int) -> dict[str, Any]:
        """One evidence frame with its ``jpeg`` bytes."""
        row = self._conn().execute("SELECT * FROM evidence WHERE id = ?", (evidence_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"evidence frame {evidence_id} not found")
        d = _evidence_dict(row)
        d["jpeg"] = bytes(row["jpeg"])
        return d

    # -- maintenance -------------------------------------------------------------------------

    def integrity_check(self) -> str:
        """``"ok"`` or SQLite's description of what is damaged (PRAGMA integrity_check)."""
        rows = self._conn().execute("PRAGMA integrity_check").fetchall()
        msgs = [r[0] for r in rows]
        fk = self._conn().execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            msgs = [m for m in msgs if m != "ok"] + [f"{len(fk)} rows with a dangling reference"]
        return "; ".join(msgs) or "ok"

    def size_bytes(self) -> int:
        """Database file plus its WAL."""
        total = 0
        for suffix in ("", "-wal"):
            p = Path(str(self.path) + suffix)
            with contextlib.suppress(OSError):
                total += p.stat().st_size
        return total

    def checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it; False if a reader kept it busy."""
        with self._write_lock:
            busy = self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        return not busy

    def _purge(self) -> None:
        """After a delete: the zeroed pages go into the database file and the WAL, which still
        holds the deleted rows' earlier versions, is truncated — deleted means gone from disk."""
        if not self.checkpoint():
            log.warning(
                "database %s: WAL still in use by a reader; deleted data leaves it at the next checkpoint",
                self.path,
            )


def _name_key(name: Any) -> str:
    return " ".join(str(name or "").split()).casefold()


def _private_files(db_path: Path) -> None:
    """Create the database 0600 before SQLite does (its WAL and shm copy the database's mode)
    and tighten files an earlier version or a shell's umask left readable."""
    try:
        os.close(os.open(db_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _DB_MODE))
    except FileExistsError:
        pass
    except OSError as exc:
        raise UserError(f"cannot create the database {db_path}: {exc.strerror}") from None
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(str(db_path) + suffix)
        with contextlib.suppress(OSError):
            if p.stat().st_mode & 0o777 != _DB_MODE:
                p.chmod(_DB_MODE)


def _evidence_dict(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d.pop("jpeg", None)
    d["keypoints"] = json.loads(d["keypoints"])
    d["meta"] = json.loads(d["meta"] or "{}")
    return d


def spool_files(spool_dir: Path, session_id: int) -> list[Path]:
    """Every file session ``session_id`` has in ``spool_dir``: ``session-N.*`` (the evidence
    spool, its sidecar, the resume marker) and ``session-N-*`` (the pose spools by camera)."""
    if not spool_dir.is_dir():
        return []
    return sorted([*spool_dir.glob(f"session-{session_id}.*"), *spool_dir.glob(f"session-{session_id}-*")])


def _unlink_all(paths: list[str]) -> None:
    for p in paths:
        try:
            Path(p).unlink(missing_ok=True)
            idx = Path(str(p) + ".idx")
            idx.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete %s: %s", p, exc)


def _split_sql(script: str) -> list[str]:
    """Statements of a migration script (ours contain no ';' inside literals)."""
    out = []
    for part in script.split(";"):
        lines = [ln for ln in part.splitlines() if not ln.strip().startswith("--")]
        stmt = "\n".join(lines).strip()
        if stmt:
            out.append(stmt)
    return out


def _inserted_id(cur: sqlite3.Cursor) -> int:
    """The row id an INSERT just made (sqlite3 types it Optional: None only without an INSERT)."""
    rowid = cur.lastrowid
    if rowid is None:
        raise RuntimeError("INSERT made no row")
    return rowid
