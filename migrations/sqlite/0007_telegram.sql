-- Telegram: the links that bind a chat to an account, the bound chats with their dialogue
-- state, and the updates already handled (so a restart or a webhook retry repeats nothing).
CREATE TABLE telegram_links (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    used_by_chat  BIGINT
);
CREATE INDEX telegram_links_account ON telegram_links(account_id);

-- One row per chat that ever wrote to the bot. `account_id` is set by a binding link;
-- `verified_at` by a passed identity check in the chat (a chat id alone never shows the
-- debt); `blocked_at` when Telegram said the user blocked the bot.
CREATE TABLE telegram_chats (
    chat_id      BIGINT PRIMARY KEY,
    account_id   INTEGER REFERENCES accounts(id),
    bound_at     TEXT,
    verified_at  TEXT,
    blocked_at   TEXT,
    state        TEXT NOT NULL DEFAULT 'idle',
    updated_at   TEXT NOT NULL
);
CREATE INDEX telegram_chats_account ON telegram_chats(account_id);

CREATE TABLE telegram_updates (
    update_id    BIGINT PRIMARY KEY,
    received_at  TEXT NOT NULL
);

-- Buttons sent with a message (Telegram inline keyboards, as JSON).
ALTER TABLE outbox ADD COLUMN markup TEXT;
