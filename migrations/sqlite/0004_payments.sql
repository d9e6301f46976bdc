-- Payments: each creditor's terms, checkouts and their outcome, settlements, payment plans
-- with their instalments, and the processor events already applied (by id, so a repeated
-- webhook delivery is a no-op). Money moves only through ledger postings.
CREATE TABLE payment_terms (
    agency_id   INTEGER NOT NULL REFERENCES agencies(id),
    creditor    TEXT NOT NULL,  -- '' holds the agency's default
    terms       TEXT NOT NULL,  -- domain::payment::PaymentTerms as JSON
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (agency_id, creditor)
);

CREATE TABLE settlements (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    balance_then    BIGINT NOT NULL CHECK (balance_then >= amount),
    valid_until     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('accepted', 'paid')),
    accepted_at     TEXT NOT NULL,
    paid_at         TEXT
);
CREATE INDEX settlements_account ON settlements(account_id);

CREATE TABLE plans (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    frequency       TEXT NOT NULL CHECK (frequency IN ('weekly', 'biweekly', 'monthly')),
    status          TEXT NOT NULL CHECK (status IN ('awaiting_method', 'active', 'completed',
                        'broken', 'cancelled')),
    authorization_text TEXT NOT NULL,
    authorized_at   TEXT NOT NULL,
    processor       TEXT NOT NULL,
    setup_ref       TEXT UNIQUE,
    customer_ref    TEXT,
    method_ref      TEXT,
    misses          BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX plans_account ON plans(account_id);

CREATE TABLE plan_instalments (
    id              INTEGER PRIMARY KEY,
    plan_id         INTEGER NOT NULL REFERENCES plans(id),
    seq             BIGINT NOT NULL,
    due_on          TEXT NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount > 0),
    status          TEXT NOT NULL CHECK (status IN ('scheduled', 'processing', 'paid', 'failed',
                        'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    intent_ref      TEXT,
    UNIQUE (plan_id, seq)
);
CREATE INDEX plan_instalments_due ON plan_instalments(status, next_attempt_at);

CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    purpose         TEXT NOT NULL CHECK (purpose IN ('one_time', 'settlement', 'instalment')),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    processor       TEXT NOT NULL,
    checkout_ref    TEXT UNIQUE,
    intent_ref      TEXT UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    settlement_id   INTEGER REFERENCES settlements(id),
    instalment_id   INTEGER REFERENCES plan_instalments(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX payments_account ON payments(account_id);

CREATE TABLE processor_events (
    processor       TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    PRIMARY KEY (processor, event_id)
);
