-- The debtor portal: short links (only their hashes), identity-check failures and lockouts,
-- and the record of notices delivered electronically with the consumer's E-SIGN consent.
CREATE TABLE portal_links (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX portal_links_account ON portal_links(account_id);

CREATE TABLE identity_checks (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id),
    failures      INTEGER NOT NULL,
    locked_until  TEXT,
    updated_at    TEXT NOT NULL
);

CREATE TABLE notice_deliveries (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    notice         TEXT NOT NULL CHECK (notice IN ('validation')),
    language       TEXT NOT NULL,
    esign_consent  TEXT NOT NULL,
    delivered_at   TEXT NOT NULL,
    validation_end TEXT NOT NULL
);
CREATE INDEX notice_deliveries_account ON notice_deliveries(account_id);
