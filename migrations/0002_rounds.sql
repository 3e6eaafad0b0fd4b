-- Weekly rounds: each cohort's prompt bank, the rounds posted from it, term breaks,
-- and notices waiting for a facilitator.

ALTER TABLE cohorts ADD COLUMN every_weeks INTEGER NOT NULL DEFAULT 1 CHECK (every_weeks BETWEEN 1 AND 8);
ALTER TABLE cohorts ADD COLUMN prompt_cycle INTEGER NOT NULL DEFAULT 1;  -- times through the bank, from 1

CREATE TABLE prompts (
    id         INTEGER PRIMARY KEY,
    cohort_id  INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,          -- 1-based order in the bank; kept dense by the storage layer
    title      TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    structure  TEXT    NOT NULL,          -- JSON array of the reflection's headings
    created_at TEXT    NOT NULL
);
CREATE INDEX prompts_by_cohort ON prompts (cohort_id, position);

-- A round is one prompt for one cohort. The row is written (claimed) before anything is
-- posted, and the prompt is copied in, so a retry posts exactly what was claimed.
CREATE TABLE rounds (
    id              INTEGER PRIMARY KEY,
    cohort_id       INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,     -- 1, 2, 3… within the cohort
    slot_at         TEXT    NOT NULL,     -- the scheduled opening (UTC); a manual round uses its start
    manual          INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1)),
    state           TEXT    NOT NULL CHECK (state IN ('claimed', 'posted', 'failed', 'missed', 'closed')),
    prompt_id       INTEGER REFERENCES prompts(id) ON DELETE SET NULL,
    prompt_cycle    INTEGER,
    title           TEXT,
    text            TEXT,
    structure       TEXT,
    reflect_due     TEXT    NOT NULL,
    feedback_due    TEXT    NOT NULL,
    channel_id      INTEGER NOT NULL,
    message_id      INTEGER,              -- set as soon as the prompt message exists
    thread_id       INTEGER,              -- set once the thread exists; then state = 'posted'
    posted_at       TEXT,
    late            INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    failure         TEXT,                 -- why the last attempt failed, for facilitators
    closed_at       TEXT,
    created_at      TEXT    NOT NULL,
    UNIQUE (cohort_id, slot_at),
    UNIQUE (cohort_id, number)
);
CREATE INDEX rounds_pending ON rounds (state, next_attempt_at);
CREATE UNIQUE INDEX rounds_by_thread ON rounds (thread_id) WHERE thread_id IS NOT NULL;

-- Term breaks: the round that would open on this cohort-local date is not posted.
CREATE TABLE skips (
    cohort_id  INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    local_date TEXT    NOT NULL,          -- YYYY-MM-DD in the cohort's timezone
    created_at TEXT    NOT NULL,
    PRIMARY KEY (cohort_id, local_date)
);

-- Things facilitators must hear about (a missed or failed round, a bank starting over),
-- shown privately with their next command and in /cohort show.
CREATE TABLE notices (
    id           INTEGER PRIMARY KEY,
    cohort_id    INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    text         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    delivered_at TEXT
);
CREATE INDEX notices_pending ON notices (cohort_id) WHERE delivered_at IS NULL;
