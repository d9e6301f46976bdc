-- The debtor portal: short links (only their hashes), identity-check failures and lockouts,
-- and the record of notices delivered electronically with the consumer's E-SIGN consent.
CREATE TABLE portal_links (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX portal_links_account ON portal_links(account_id);

CREATE TABLE identity_checks (
    account_id    BIGINT PRIMARY KEY REFERENCES accounts(id),
    failures      BIGINT NOT NULL,
    locked_until  TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE notice_deliveries (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts(id),
    notice         TEXT NOT NULL CHECK (notice IN ('validation')),
    language       TEXT NOT NULL,
    esign_consent  TEXT NOT NULL,
    delivered_at   TIMESTAMPTZ NOT NULL,
    validation_end DATE NOT NULL
);
CREATE INDEX notice_deliveries_account ON notice_deliveries(account_id);
