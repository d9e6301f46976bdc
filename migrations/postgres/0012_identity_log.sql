-- Every identity check (in the portal or a chat) and how it ended, for the account's
-- timeline: the agency sees when the debtor came in, and when someone guessed and failed.
CREATE TABLE identity_log (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    outcome     TEXT NOT NULL CHECK (outcome IN ('verified', 'wrong', 'locked')),
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX identity_log_account ON identity_log(account_id);
