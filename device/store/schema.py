"""The station database schema as an ordered list of migrations.

``PRAGMA user_version`` records how many migrations a database has had; opening a database
applies the missing ones in order, each in its own transaction. To change the schema, append a
migration — never edit one that has shipped.
"""

from __future__ import annotations

SESSION_STATUSES = ("capturing", "analysing", "done", "failed", "interrupted")

MIGRATIONS: tuple[str, ...] = (
    # 1: runners, sessions, keypoint batches, evidence frames
    f"""
    CREATE TABLE runners (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        height_cm   REAL,
        notes       TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id                  INTEGER PRIMARY KEY,
        runner_id           INTEGER REFERENCES runners(id) ON DELETE CASCADE,
        status              TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in SESSION_STATUSES)})),
        started_at          TEXT NOT NULL,
        ended_at            TEXT,
        speed_kmh           REAL,
        incline_pct         REAL,
        shoes               TEXT NOT NULL DEFAULT '',
        notes               TEXT NOT NULL DEFAULT '',
        view                TEXT NOT NULL DEFAULT 'auto',
        source              TEXT NOT NULL DEFAULT '',
        settings            TEXT NOT NULL DEFAULT '{{}}',
        analysis            TEXT,
        error               TEXT,
        summary_text        TEXT,
        printed_summary_at  TEXT,
        printed_report_at   TEXT,
        effective_fps       REAL,
        frames_captured     INTEGER NOT NULL DEFAULT 0,
        frames_inferred     INTEGER NOT NULL DEFAULT 0,
        frames_dropped      INTEGER NOT NULL DEFAULT 0,
        frame_width         INTEGER,
        frame_height        INTEGER,
        video_path          TEXT
    );
    CREATE INDEX sessions_runner ON sessions(runner_id, started_at);
    CREATE INDEX sessions_started ON sessions(started_at);
    -- keypoints are stored compactly: one row per batch (~1 s) of frames, arrays as raw
    -- little-endian bytes: t float64, xy float32 (n,17,2), score float32 (n,17), frame int64.
    CREATE TABLE keypoint_batches (
        id          INTEGER PRIMARY KEY,
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        camera      TEXT NOT NULL DEFAULT 'main',
        n           INTEGER NOT NULL,
        t           BLOB NOT NULL,
        xy          BLOB NOT NULL,
        score       BLOB NOT NULL,
        frame       BLOB NOT NULL
    );
    CREATE INDEX keypoint_batches_session ON keypoint_batches(session_id, camera, id);
    CREATE TABLE evidence (
        id          INTEGER PRIMARY KEY,
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        side        TEXT,
        phase       TEXT NOT NULL,
        t           REAL NOT NULL,
        frame       INTEGER NOT NULL,
        camera      TEXT NOT NULL DEFAULT 'main',
        jpeg        BLOB NOT NULL,
        keypoints   TEXT NOT NULL,
        meta        TEXT NOT NULL DEFAULT '{{}}'
    );
    CREATE INDEX evidence_session ON evidence(session_id, t);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
