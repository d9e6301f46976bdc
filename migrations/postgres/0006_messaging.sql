-- Messaging: each agency's cadence and texts, each account's place in its cadence, the
-- outbox the sending worker works, and the messages debtors send back.
CREATE TABLE messaging_settings (
    agency_id   BIGINT PRIMARY KEY REFERENCES agencies(id),
    cadence     TEXT NOT NULL,  -- domain::messaging::Cadence as JSON
    updated_by  TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- The next cadence step of each account and when it is due. The scheduling run claims due
-- rows (FOR UPDATE SKIP LOCKED), asks the compliance engine, and moves each row on in the
-- same transaction.
CREATE TABLE reminder_schedule (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts(id),
    step        BIGINT NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('sms', 'telegram', 'email'))
);
CREATE INDEX reminder_schedule_due ON reminder_schedule(due_at);
INSERT INTO reminder_schedule (account_id, step, due_at, channel)
    SELECT id, 0, placed_at, 'sms' FROM accounts;

-- Every outbound message: written with its compliance decision, then claimed and sent once.
-- A `sending` row whose claim is older than the lease was cut off by a crash: if it was
-- handed to the provider (`handed_at`) it goes to `review`, never back to `pending`,
-- because the provider may have sent it; if not, it is simply pending again.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    decision_id     BIGINT NOT NULL REFERENCES compliance_decisions(id),
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'telegram', 'email')),
    kind            TEXT NOT NULL,
    purpose         TEXT NOT NULL,  -- what the compliance engine judged it as
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'delivered',
                        'failed', 'review', 'cancelled')),
    -- 0: answers and confirmations (due within minutes), 1: receipts, 2: reminders.
    priority        SMALLINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    not_before      TIMESTAMPTZ NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    claimed_at      TIMESTAMPTZ,
    claimed_by      TEXT,
    handed_at       TIMESTAMPTZ,  -- set (committed) right before the provider call
    sent_at         TIMESTAMPTZ,
    provider        TEXT,
    provider_id     TEXT,
    error           TEXT,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_ready ON outbox(status, priority, not_before, id);
CREATE INDEX outbox_provider ON outbox(provider_id);
CREATE INDEX outbox_account ON outbox(account_id, created_at);

-- Every message a debtor sends, with what the classifier understood and what was done.
-- `inbox` is open for messages the agency must read.
CREATE TABLE inbound_messages (
    id           BIGSERIAL PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('sms', 'telegram', 'email')),
    sender       TEXT NOT NULL,
    account_id   BIGINT REFERENCES accounts(id),
    body         TEXT NOT NULL,
    intent       TEXT NOT NULL,
    action       TEXT NOT NULL,
    inbox        TEXT NOT NULL CHECK (inbox IN ('none', 'open', 'closed')),
    provider_id  TEXT UNIQUE,
    received_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX inbound_messages_account ON inbound_messages(account_id, received_at);
CREATE INDEX inbound_messages_inbox ON inbound_messages(inbox, received_at);

-- Message requests gain "instalment due soon" and a time before which they wait (a defer).
ALTER TABLE message_requests DROP CONSTRAINT message_requests_purpose_check;
ALTER TABLE message_requests ADD CONSTRAINT message_requests_purpose_check
    CHECK (purpose IN ('payment_receipt', 'instalment_failed', 'plan_broken', 'instalment_due'));
ALTER TABLE message_requests ADD COLUMN not_before TIMESTAMPTZ;

CREATE INDEX accounts_phone ON accounts(phone);

-- Where a link in a message leads after the identity check (a receipt, the plan page);
-- NULL: the account page.
ALTER TABLE portal_links ADD COLUMN next_path TEXT;
