-- The accounts backend: agencies, placed accounts, the append-only ledger, import runs, disputes.
CREATE TABLE agencies (
    id          BIGSERIAL PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE import_runs (
    id          BIGSERIAL PRIMARY KEY,
    agency_id   BIGINT NOT NULL REFERENCES agencies(id),
    source      TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    imported    BIGINT NOT NULL DEFAULT 0,
    unchanged   BIGINT NOT NULL DEFAULT 0,
    rejected    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE accounts (
    id                     BIGSERIAL PRIMARY KEY,
    agency_id              BIGINT NOT NULL REFERENCES agencies(id),
    account_ref            TEXT COLLATE "C" NOT NULL,
    creditor               TEXT NOT NULL,
    original_creditor      TEXT,
    currency               TEXT NOT NULL,
    first_name             TEXT NOT NULL,
    last_name              TEXT NOT NULL,
    date_of_birth          DATE NOT NULL,
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
    itemization_date       DATE NOT NULL,
    balance_at_itemization BIGINT NOT NULL,
    interest_since         BIGINT NOT NULL,
    fees_since             BIGINT NOT NULL,
    payments_since         BIGINT NOT NULL,
    credits_since          BIGINT NOT NULL,
    placed_amount          BIGINT NOT NULL CHECK (placed_amount > 0),
    import_run_id          BIGINT REFERENCES import_runs(id),
    source_line            BIGINT,
    placed_at              TIMESTAMPTZ NOT NULL,
    UNIQUE (agency_id, account_ref)
);

CREATE TABLE postings (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    kind            TEXT NOT NULL CHECK (kind IN ('placement', 'interest', 'fee', 'payment',
                        'refund', 'chargeback', 'adjustment', 'settlement_write_off')),
    amount          BIGINT NOT NULL CHECK (amount <> 0),
    idempotency_key TEXT COLLATE "C" NOT NULL,
    actor           TEXT NOT NULL,
    memo            TEXT NOT NULL DEFAULT '',
    posted_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (account_id, idempotency_key)
);

-- The ledger is append-only: corrections are new postings, never edits.
CREATE FUNCTION postings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'postings are append-only';
END $$;
CREATE TRIGGER postings_no_update_delete BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION postings_append_only();

CREATE TABLE disputes (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    reason      TEXT NOT NULL CHECK (reason IN ('not_my_debt', 'amount_wrong', 'other',
                    'original_creditor_request')),
    details     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    opened_at   TIMESTAMPTZ NOT NULL,
    closed_at   TIMESTAMPTZ
);
CREATE INDEX disputes_account ON disputes(account_id);
