"""The station database schema as an ordered list of migrations.

``PRAGMA user_version`` records how many migrations a database has had; opening a database
applies the missing ones in order, each in its own transaction (foreign keys off while it runs,
checked before it commits, so rebuilding a table never cascades a delete). To change the schema,
append a migration — never edit one that has shipped.
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
    # 2: ids are never reused (AUTOINCREMENT: a printout's session id can never point to the next
    # customer); a session keeps the height it was captured with; every analysis of a session is
    # kept (re-analyses after a clinician's corrections, with who and when); evidence frames
    # belong to the analysis that chose them.
    f"""
    CREATE TABLE runners_v2 (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL,
        height_cm   REAL,
        notes       TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    INSERT INTO runners_v2 (id, name, height_cm, notes, created_at, updated_at)
        SELECT id, name, height_cm, notes, created_at, updated_at FROM runners;
    CREATE TABLE sessions_v2 (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        runner_id           INTEGER REFERENCES runners(id) ON DELETE CASCADE,
        status              TEXT NOT NULL CHECK (status IN ({", ".join(repr(s) for s in SESSION_STATUSES)})),
        started_at          TEXT NOT NULL,
        ended_at            TEXT,
        height_cm           REAL,
        speed_kmh           REAL,
        incline_pct         REAL,
        shoes               TEXT NOT NULL DEFAULT '',
        notes               TEXT NOT NULL DEFAULT '',
        view                TEXT NOT NULL DEFAULT 'auto',
        source              TEXT NOT NULL DEFAULT '',
        settings            TEXT NOT NULL DEFAULT '{{}}',
        analysis            TEXT,
        analysis_id         INTEGER,
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
    -- the runner's height today is the best record of the height these sessions were captured with
    INSERT INTO sessions_v2 (id, runner_id, status, started_at, ended_at, height_cm, speed_kmh, incline_pct,
        shoes, notes, view, source, settings, analysis, error, summary_text, printed_summary_at,
        printed_report_at, effective_fps, frames_captured, frames_inferred, frames_dropped, frame_width,
        frame_height, video_path)
        SELECT s.id, s.runner_id, s.status, s.started_at, s.ended_at,
            (SELECT r.height_cm FROM runners r WHERE r.id = s.runner_id), s.speed_kmh, s.incline_pct,
            s.shoes, s.notes, s.view, s.source, s.settings, s.analysis, s.error, s.summary_text,
            s.printed_summary_at, s.printed_report_at, s.effective_fps, s.frames_captured, s.frames_inferred,
            s.frames_dropped, s.frame_width, s.frame_height, s.video_path
        FROM sessions s;
    CREATE TABLE keypoint_batches_v2 (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        camera      TEXT NOT NULL DEFAULT 'main',
        n           INTEGER NOT NULL,
        t           BLOB NOT NULL,
        xy          BLOB NOT NULL,
        score       BLOB NOT NULL,
        frame       BLOB NOT NULL
    );
    INSERT INTO keypoint_batches_v2 (id, session_id, camera, n, t, xy, score, frame)
        SELECT id, session_id, camera, n, t, xy, score, frame FROM keypoint_batches;
    CREATE TABLE analyses (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        created_at  TEXT NOT NULL,
        created_by  TEXT NOT NULL,
        corrections TEXT NOT NULL DEFAULT '{{}}',
        note        TEXT NOT NULL DEFAULT '',
        analysis    TEXT NOT NULL
    );
    INSERT INTO analyses (session_id, created_at, created_by, analysis)
        SELECT id, COALESCE(ended_at, started_at), 'station', analysis FROM sessions_v2
        WHERE analysis IS NOT NULL ORDER BY id;
    UPDATE sessions_v2 SET analysis_id = (SELECT a.id FROM analyses a WHERE a.session_id = sessions_v2.id)
        WHERE analysis IS NOT NULL;
    CREATE TABLE evidence_v2 (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        analysis_id INTEGER REFERENCES analyses(id) ON DELETE CASCADE,
        side        TEXT,
        phase       TEXT NOT NULL,
        t           REAL NOT NULL,
        frame       INTEGER NOT NULL,
        camera      TEXT NOT NULL DEFAULT 'main',
        jpeg        BLOB NOT NULL,
        keypoints   TEXT NOT NULL,
        meta        TEXT NOT NULL DEFAULT '{{}}'
    );
    INSERT INTO evidence_v2 (id, session_id, side, phase, t, frame, camera, jpeg, keypoints, meta)
        SELECT id, session_id, side, phase, t, frame, camera, jpeg, keypoints, meta FROM evidence;
    DROP TABLE evidence;
    DROP TABLE keypoint_batches;
    DROP TABLE sessions;
    DROP TABLE runners;
    ALTER TABLE runners_v2 RENAME TO runners;
    ALTER TABLE sessions_v2 RENAME TO sessions;
    ALTER TABLE keypoint_batches_v2 RENAME TO keypoint_batches;
    ALTER TABLE evidence_v2 RENAME TO evidence;
    CREATE INDEX sessions_runner ON sessions(runner_id, started_at);
    CREATE INDEX sessions_started ON sessions(started_at);
    CREATE INDEX keypoint_batches_session ON keypoint_batches(session_id, camera, id);
    CREATE INDEX evidence_session ON evidence(session_id, t);
    CREATE INDEX analyses_session ON analyses(session_id, id);
    """,
    # 3: the CUPS jobs printed for each session, so that deleting the session (or its runner)
    # purges them from the print queue: a report waiting in a paused queue holds the runner's
    # name and prints when the printer returns. A deleted session leaves its rows with no
    # session: jobs still to purge (CUPS was down), tried again at the next delete and at start.
    """
    CREATE TABLE print_jobs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id  INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        job_id      TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX print_jobs_session ON print_jobs(session_id);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
