-- The console's daily work: an audit log of every change an agency user makes (who, what,
-- on which account, when), notes on accounts, the bad rows of each import kept for the
-- downloadable error report, who started an import, and an index for finding an account
-- by the consumer's last name.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    agency_id   INTEGER NOT NULL REFERENCES agencies(id),
    user_id     INTEGER NOT NULL REFERENCES agency_users(id),
    action      TEXT NOT NULL,
    account_id  INTEGER REFERENCES accounts(id),
    detail      TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX audit_log_agency ON audit_log(agency_id, id);
CREATE INDEX audit_log_account ON audit_log(account_id);

CREATE TABLE account_notes (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    body        TEXT NOT NULL CHECK (length(body) > 0),
    written_by  TEXT NOT NULL,
    written_at  TEXT NOT NULL
);
CREATE INDEX account_notes_account ON account_notes(account_id);

CREATE TABLE import_errors (
    run_id       INTEGER NOT NULL REFERENCES import_runs(id),
    line         INTEGER NOT NULL,
    account_ref  TEXT,
    reason       TEXT NOT NULL,
    PRIMARY KEY (run_id, line)
);
ALTER TABLE import_runs ADD COLUMN started_by TEXT;
ALTER TABLE import_runs ADD COLUMN rows_read INTEGER NOT NULL DEFAULT 0;

CREATE INDEX accounts_last_name ON accounts(agency_id, lower(last_name));
