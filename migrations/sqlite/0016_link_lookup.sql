-- Links are found by the first 8 bytes of their token's SHA-256, read as a big-endian
-- signed integer, and then matched on the whole digest. The unique index on the 64-character
-- digest took keys in random order, so every scheduling batch (thousands of new links in
-- one commit) rewrote most of its pages; an 8-byte key keeps the index about five times
-- smaller. SQLite cannot drop a column's UNIQUE, hence the new table.
CREATE TABLE portal_links_new (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    token_lookup  INTEGER NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    next_path     TEXT
);
INSERT INTO portal_links_new
    SELECT id, account_id,
        ((instr('0123456789abcdef', substr(token_hash, 1, 1)) - 1) << 60) |
        ((instr('0123456789abcdef', substr(token_hash, 2, 1)) - 1) << 56) |
        ((instr('0123456789abcdef', substr(token_hash, 3, 1)) - 1) << 52) |
        ((instr('0123456789abcdef', substr(token_hash, 4, 1)) - 1) << 48) |
        ((instr('0123456789abcdef', substr(token_hash, 5, 1)) - 1) << 44) |
        ((instr('0123456789abcdef', substr(token_hash, 6, 1)) - 1) << 40) |
        ((instr('0123456789abcdef', substr(token_hash, 7, 1)) - 1) << 36) |
        ((instr('0123456789abcdef', substr(token_hash, 8, 1)) - 1) << 32) |
        ((instr('0123456789abcdef', substr(token_hash, 9, 1)) - 1) << 28) |
        ((instr('0123456789abcdef', substr(token_hash, 10, 1)) - 1) << 24) |
        ((instr('0123456789abcdef', substr(token_hash, 11, 1)) - 1) << 20) |
        ((instr('0123456789abcdef', substr(token_hash, 12, 1)) - 1) << 16) |
        ((instr('0123456789abcdef', substr(token_hash, 13, 1)) - 1) << 12) |
        ((instr('0123456789abcdef', substr(token_hash, 14, 1)) - 1) << 8) |
        ((instr('0123456789abcdef', substr(token_hash, 15, 1)) - 1) << 4) |
        ((instr('0123456789abcdef', substr(token_hash, 16, 1)) - 1) << 0),
        token_hash, created_at, expires_at, revoked_at, next_path
    FROM portal_links;
DROP TABLE portal_links;
ALTER TABLE portal_links_new RENAME TO portal_links;
CREATE INDEX portal_links_account ON portal_links(account_id);
CREATE INDEX portal_links_lookup ON portal_links(token_lookup);
