-- The agency console: its users (a password is stored only as an Argon2id PHC string;
-- five wrong tries lock sign-in for 15 minutes), and the original creditor's name and
-- address given in answer to a dispute that asked for them (12 CFR 1006.38(c)).
CREATE TABLE agency_users (
    id             BIGSERIAL PRIMARY KEY,
    agency_id      BIGINT NOT NULL REFERENCES agencies(id),
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'read_only')),
    password_hash  TEXT NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    disabled_at    TIMESTAMPTZ
);
CREATE INDEX agency_users_agency ON agency_users(agency_id);

ALTER TABLE disputes ADD COLUMN original_creditor TEXT;
