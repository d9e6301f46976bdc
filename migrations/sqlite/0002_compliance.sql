-- What the compliance engine reads (preferences, consent per medium, holds, contact history)
-- and what it writes (the decision log), plus each agency's stricter contact policy.
CREATE TABLE contact_preferences (
    account_id          INTEGER PRIMARY KEY REFERENCES accounts(id),
    time_zone           TEXT,
    inconvenient_times  TEXT NOT NULL DEFAULT '',
    updated_at          TEXT NOT NULL
);

CREATE TABLE channel_consents (
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    channel       TEXT NOT NULL CHECK (channel IN ('sms', 'telegram', 'email', 'call')),
    consented     BOOLEAN NOT NULL DEFAULT FALSE,
    opted_out     BOOLEAN NOT NULL DEFAULT FALSE,
    opted_out_at  TEXT,
    refused       BOOLEAN NOT NULL DEFAULT FALSE,
    source        TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (account_id, channel)
);

CREATE TABLE holds (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    kind            TEXT NOT NULL CHECK (kind IN ('attorney', 'cease', 'bankruptcy', 'deceased')),
    reason          TEXT NOT NULL,
    set_by          TEXT NOT NULL,
    set_at          TEXT NOT NULL,
    cleared_by      TEXT,
    cleared_reason  TEXT,
    cleared_at      TEXT
);
CREATE UNIQUE INDEX holds_one_active ON holds(account_id, kind) WHERE cleared_at IS NULL;

CREATE TABLE contact_events (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    at          TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('sms', 'telegram', 'email', 'call')),
    direction   TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    purpose     TEXT NOT NULL CHECK (purpose IN ('reminder', 'validation_notice', 'receipt',
                    'reply', 'opt_out_confirmation', 'cease_confirmation'))
);
CREATE INDEX contact_events_account_at ON contact_events(account_id, at);

CREATE TABLE compliance_decisions (
    id                INTEGER PRIMARY KEY,
    agency_id         INTEGER NOT NULL REFERENCES agencies(id),
    account_id        INTEGER NOT NULL REFERENCES accounts(id),
    decided_at        TEXT NOT NULL,
    channel           TEXT NOT NULL,
    purpose           TEXT NOT NULL,
    decision          TEXT NOT NULL CHECK (decision IN ('allow', 'defer', 'deny')),
    reasons           TEXT NOT NULL,
    citations         TEXT NOT NULL,
    next_allowed_at   TEXT,
    required_content  TEXT NOT NULL,
    facts             TEXT NOT NULL
);
CREATE INDEX compliance_decisions_account ON compliance_decisions(account_id, decided_at);
-- Kept at least 3 years (12 CFR 1006.100): the log is append-only.
CREATE TRIGGER compliance_decisions_no_update BEFORE UPDATE ON compliance_decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER compliance_decisions_no_delete BEFORE DELETE ON compliance_decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;

CREATE TABLE compliance_policies (
    agency_id   INTEGER PRIMARY KEY REFERENCES agencies(id),
    policy      TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
