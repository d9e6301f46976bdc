-- Every identity check (in the portal or a chat) and how it ended, for the account's
-- timeline: the agency sees when the debtor came in, and when someone guessed and failed.
CREATE TABLE identity_log (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    outcome     TEXT NOT NULL CHECK (outcome IN ('verified', 'wrong', 'locked')),
    at          TEXT NOT NULL
);
CREATE INDEX identity_log_account ON identity_log(account_id);
