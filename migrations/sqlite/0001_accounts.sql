-- The accounts backend: agencies, placed accounts, the append-only ledger, import runs, disputes.
CREATE TABLE agencies (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE import_runs (
    id          INTEGER PRIMARY KEY,
    agency_id   INTEGER NOT NULL REFERENCES agencies(id),
    source      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    imported    INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE accounts (
    id                     INTEGER PRIMARY KEY,
    agency_id              INTEGER NOT NULL REFERENCES agencies(id),
    account_ref            TEXT NOT NULL,
    creditor               TEXT NOT NULL,
    original_creditor      TEXT,
    currency               TEXT NOT NULL,
    first_name             TEXT NOT NULL,
    last_name              TEXT NOT NULL,
    date_of_birth          TEXT NOT NULL,
    phone                  TEXT,
    email                  TEXT,
    address_line1          TEXT NOT NULL,
    address_line2          TEXT,
    city                   TEXT NOT NULL,
    state                  TEXT NOT NULL,
    postal_code            TEXT NOT NULL,
    time_zone              TEXT,
    language               TEXT NOT NULL,
    sms_consent            BOOLEAN NOT NULL,
    time_barred            BOOLEAN NOT NULL,
    itemization_date       TEXT NOT NULL,
    balance_at_itemization BIGINT NOT NULL,
    interest_since         BIGINT NOT NULL,
    fees_since             BIGINT NOT NULL,
    payments_since         BIGINT NOT NULL,
    credits_since          BIGINT NOT NULL,
    placed_amount          BIGINT NOT NULL CHECK (placed_amount > 0),
    import_run_id          INTEGER REFERENCES import_runs(id),
    source_line            INTEGER,
    placed_at              TEXT NOT NULL,
    UNIQUE (agency_id, account_ref)
);

CREATE TABLE postings (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    kind            TEXT NOT NULL CHECK (kind IN ('placement', 'interest', 'fee', 'payment',
                        'refund', 'chargeback', 'adjustment', 'settlement_write_off')),
    amount          BIGINT NOT NULL CHECK (amount <> 0),
    idempotency_key TEXT NOT NULL,
    actor           TEXT NOT NULL,
    memo            TEXT NOT NULL DEFAULT '',
    posted_at       TEXT NOT NULL,
    UNIQUE (account_id, idempotency_key)
);

-- The ledger is append-only: corrections are new postings, never edits.
CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;

CREATE TABLE disputes (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    reason      TEXT NOT NULL CHECK (reason IN ('not_my_debt', 'amount_wrong', 'other',
                    'original_creditor_request')),
    details     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    opened_at   TEXT NOT NULL,
    closed_at   TEXT
);
CREATE INDEX disputes_account ON disputes(account_id);
