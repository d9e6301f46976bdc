-- Disputes in full: where each came from, whether it fell within the validation period,
-- the agency's response target, duplicates, the agency's answer and its delivery to the
-- debtor; files attached to them (evidence from the debtor, verification from the agency),
-- kept in the database so every server process can serve them and none lies under a web
-- root; the attorney's contact on a hold; and the notice that an answer is waiting.
ALTER TABLE disputes ADD COLUMN origin TEXT NOT NULL DEFAULT 'portal'
    CHECK (origin IN ('portal', 'sms', 'telegram', 'agency'));
ALTER TABLE disputes ADD COLUMN written BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE disputes ADD COLUMN wants_original_creditor BOOLEAN NOT NULL DEFAULT FALSE;
-- NULL when no validation notice was ever delivered: the period has not even started.
ALTER TABLE disputes ADD COLUMN validation_end DATE;
ALTER TABLE disputes ADD COLUMN within_validation BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE disputes ADD COLUMN due_on DATE;
ALTER TABLE disputes ADD COLUMN duplicate_of BIGINT REFERENCES disputes(id);
ALTER TABLE disputes ADD COLUMN answer_kind TEXT
    CHECK (answer_kind IN ('verified', 'corrected', 'closed', 'duplicate'));
ALTER TABLE disputes ADD COLUMN answer_message TEXT;
ALTER TABLE disputes ADD COLUMN answered_by TEXT;
ALTER TABLE disputes ADD COLUMN answered_at TIMESTAMPTZ;
-- The hold lifts only here: the debtor opened the answer in the portal with E-SIGN consent,
-- or the agency recorded that it mailed it.
ALTER TABLE disputes ADD COLUMN delivered_at TIMESTAMPTZ;
ALTER TABLE disputes ADD COLUMN delivered_via TEXT CHECK (delivered_via IN ('portal', 'mail'));
ALTER TABLE disputes ADD COLUMN delivery_consent TEXT;
CREATE INDEX disputes_queue ON disputes(status, opened_at);

CREATE TABLE dispute_files (
    id            BIGSERIAL PRIMARY KEY,
    dispute_id    BIGINT NOT NULL REFERENCES disputes(id),
    role          TEXT NOT NULL CHECK (role IN ('evidence', 'verification')),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg',
                      'image/png')),
    size_bytes    BIGINT NOT NULL,
    content       BYTEA NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX dispute_files_dispute ON dispute_files(dispute_id);

ALTER TABLE agencies ADD COLUMN dispute_response_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE holds ADD COLUMN contact TEXT;

ALTER TABLE message_requests DROP CONSTRAINT message_requests_purpose_check;
ALTER TABLE message_requests ADD CONSTRAINT message_requests_purpose_check
    CHECK (purpose IN ('payment_receipt', 'instalment_failed', 'plan_broken', 'instalment_due',
        'dispute_answered'));

ALTER TABLE contact_events DROP CONSTRAINT contact_events_purpose_check;
ALTER TABLE contact_events ADD CONSTRAINT contact_events_purpose_check
    CHECK (purpose IN ('reminder', 'validation_notice', 'receipt', 'reply',
        'opt_out_confirmation', 'cease_confirmation', 'dispute_response'));
