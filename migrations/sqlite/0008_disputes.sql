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
ALTER TABLE disputes ADD COLUMN validation_end TEXT;
ALTER TABLE disputes ADD COLUMN within_validation BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE disputes ADD COLUMN due_on TEXT;
ALTER TABLE disputes ADD COLUMN duplicate_of INTEGER REFERENCES disputes(id);
ALTER TABLE disputes ADD COLUMN answer_kind TEXT
    CHECK (answer_kind IN ('verified', 'corrected', 'closed', 'duplicate'));
ALTER TABLE disputes ADD COLUMN answer_message TEXT;
ALTER TABLE disputes ADD COLUMN answered_by TEXT;
ALTER TABLE disputes ADD COLUMN answered_at TEXT;
-- The hold lifts only here: the debtor opened the answer in the portal with E-SIGN consent,
-- or the agency recorded that it mailed it.
ALTER TABLE disputes ADD COLUMN delivered_at TEXT;
ALTER TABLE disputes ADD COLUMN delivered_via TEXT CHECK (delivered_via IN ('portal', 'mail'));
ALTER TABLE disputes ADD COLUMN delivery_consent TEXT;
CREATE INDEX disputes_queue ON disputes(status, opened_at);

CREATE TABLE dispute_files (
    id            INTEGER PRIMARY KEY,
    dispute_id    INTEGER NOT NULL REFERENCES disputes(id),
    role          TEXT NOT NULL CHECK (role IN ('evidence', 'verification')),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg',
                      'image/png')),
    size_bytes    BIGINT NOT NULL,
    content       BLOB NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TEXT NOT NULL
);
CREATE INDEX dispute_files_dispute ON dispute_files(dispute_id);

ALTER TABLE agencies ADD COLUMN dispute_response_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE holds ADD COLUMN contact TEXT;

-- Message requests gain "your dispute was answered".
CREATE TABLE message_requests_new (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('payment_receipt', 'instalment_failed',
                    'plan_broken', 'instalment_due', 'dispute_answered')),
    subject     TEXT NOT NULL,
    link_path   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    handled_at  TEXT,
    not_before  TEXT,
    UNIQUE (purpose, subject)
);
INSERT INTO message_requests_new
    SELECT id, account_id, purpose, subject, link_path, created_at, handled_at, not_before
    FROM message_requests;
DROP TABLE message_requests;
ALTER TABLE message_requests_new RENAME TO message_requests;
CREATE INDEX message_requests_pending ON message_requests(handled_at, id);

-- Contact events gain the dispute response purpose.
CREATE TABLE contact_events_new (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    at          TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('sms', 'telegram', 'email', 'call')),
    direction   TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    purpose     TEXT NOT NULL CHECK (purpose IN ('reminder', 'validation_notice', 'receipt',
                    'reply', 'opt_out_confirmation', 'cease_confirmation', 'dispute_response'))
);
INSERT INTO contact_events_new SELECT id, account_id, at, channel, direction, purpose
    FROM contact_events;
DROP TABLE contact_events;
ALTER TABLE contact_events_new RENAME TO contact_events;
CREATE INDEX contact_events_account_at ON contact_events(account_id, at);
