-- Messages the payment flow asks to send (a receipt, a failed instalment with a link to fix
-- the card, a broken plan). The messaging worker turns each into a compliance decision and,
-- when allowed, an outbox message; until then they wait here. One per purpose and subject.
CREATE TABLE message_requests (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('payment_receipt', 'instalment_failed',
                    'plan_broken')),
    subject     TEXT NOT NULL,
    link_path   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    handled_at  TIMESTAMPTZ,
    UNIQUE (purpose, subject)
);
CREATE INDEX message_requests_pending ON message_requests(handled_at, id);
