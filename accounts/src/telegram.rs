//! Telegram chats: the single-use links that bind a chat to an account, the chats with
//! their stored dialogue state, the updates already handled, and chat answers queued
//! through the compliance engine like every other message.
//!
//! A bot cannot write first, so a chat exists only after the debtor opened a
//! `t.me/<bot>?start=<token>` link from the portal or a message. The token is 32 random
//! bytes written as 43 URL-safe characters (Telegram allows 64 of `A-Za-z0-9_-`), stored
//! hashed, used once and short-lived. A bound chat is still not proof of identity: the
//! chat passes the identity check (with the portal's lockout) before any debt detail.

use std::collections::HashMap;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use domain::compliance::{Channel, ContactEvent, Direction, Purpose};
use domain::messaging::MessageKind;
use domain::reply::ReplyIntent;
use domain::{AccountId, Language};
use rand::RngCore;

use crate::compliance::ConsentChange;
use crate::db::with_db;
use crate::messaging::{apply_writes, draft, LinkSettings, Message, Write};
use crate::portal::hash_hex;
use crate::{Accounts, Error, Result};

/// How long a binding link works.
pub const TELEGRAM_LINK_TTL_HOURS: i64 = 24;

/// A binding token as the debtor receives it. Secret: no `Serialize`, redacted `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct TelegramToken(String);

impl TelegramToken {
    fn generate() -> TelegramToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        TelegramToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A fresh token and the hash stored for it.
    pub(crate) fn generate_hashed() -> (TelegramToken, String) {
        let token = TelegramToken::generate();
        let hash = hash_hex(token.expose());
        (token, hash)
    }

    /// Reads a token from a `/start` payload; anything not shaped like one is refused
    /// before touching the database.
    pub fn parse(text: &str) -> Option<TelegramToken> {
        let ok = text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| TelegramToken(text.to_string()))
    }

    /// The token text, for building the `t.me` link.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TelegramToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TelegramToken(***)")
    }
}

/// `https://t.me/<bot>?start=<token>`: opens the bot, which receives `/start <token>`.
pub fn deep_link(username: &str, token: &TelegramToken) -> String {
    format!(
        "https://t.me/{}?start={}",
        username.trim_start_matches('@'),
        token.expose()
    )
}

/// What a `/start <token>` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindOutcome {
    /// The chat is now bound to this account.
    Bound(AccountId),
    /// The link was already used.
    Used,
    /// The link is past its expiry.
    Expired,
    /// No such link (mistyped, forged).
    Unknown,
}

/// A chat as the bot sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramChat {
    /// Telegram's chat id.
    pub chat_id: i64,
    /// The account a binding link tied it to.
    pub account: Option<AccountId>,
    /// The chat passed the identity check since it was bound.
    pub verified: bool,
    /// Telegram said the user blocked the bot.
    pub blocked: bool,
    /// The stored dialogue state (what the bot asked last).
    pub state: String,
    /// The account's language (English for an unbound chat).
    pub language: Language,
    /// The debtor opted out of Telegram.
    pub opted_out: bool,
}

/// One chat answer to queue: what kind of message it is, its text, its buttons.
#[derive(Debug, Clone)]
pub struct ChatAnswer {
    /// What the compliance engine judges it as (a reply, a confirmation...).
    pub kind: MessageKind,
    /// The text; `None` uses the kind's template (with a fresh portal link if it has one).
    pub text: Option<String>,
    /// An inline keyboard as JSON.
    pub markup: Option<String>,
}

/// A binding link: id, account, expiry, when used.
type LinkRow = (i64, i64, DateTime<Utc>, Option<DateTime<Utc>>);

type ChatRow = (
    i64,
    Option<i64>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    String,
    Option<String>,
    Option<bool>,
);

impl Accounts {
    /// Makes a single-use link that binds a Telegram chat to `account`.
    pub async fn create_telegram_link(&self, account: AccountId) -> Result<TelegramToken> {
        let now = self.clock.now();
        let token = TelegramToken::generate();
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO telegram_links (account_id, token_hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(account.0)
            .bind(hash_hex(token.expose()))
            .bind(now)
            .bind(now + Duration::hours(TELEGRAM_LINK_TTL_HOURS))
            .execute(pool)
            .await?;
        });
        Ok(token)
    }

    /// Binds `chat_id` to the account of `token`, once: the link is used up, the chat
    /// must pass the identity check again, and consent to Telegram messages is recorded
    /// (the debtor opened the chat to receive them).
    pub async fn bind_telegram(&self, chat_id: i64, token: &TelegramToken) -> Result<BindOutcome> {
        let now = self.clock.now();
        let hash = hash_hex(token.expose());
        let outcome = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let link: Option<LinkRow> = sqlx::query_as(
                "SELECT id, account_id, expires_at, used_at FROM telegram_links WHERE token_hash = $1",
            )
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?;
            let outcome = match link {
                None => BindOutcome::Unknown,
                Some((_, _, _, Some(_))) => BindOutcome::Used,
                Some((_, _, expires, None)) if expires <= now => BindOutcome::Expired,
                Some((id, account, _, None)) => {
                    // The guard on `used_at` makes two racing uses bind one chat.
                    let took = sqlx::query(
                        "UPDATE telegram_links SET used_at = $2, used_by_chat = $3
                         WHERE id = $1 AND used_at IS NULL",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(chat_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if took == 1 {
                        sqlx::query(
                            "INSERT INTO telegram_chats (chat_id, account_id, bound_at, state,
                                updated_at)
                             VALUES ($1, $2, $3, 'idle', $3)
                             ON CONFLICT (chat_id) DO UPDATE SET account_id = excluded.account_id,
                                bound_at = excluded.bound_at, verified_at = NULL,
                                blocked_at = NULL, state = 'idle', updated_at = excluded.updated_at",
                        )
                        .bind(chat_id)
                        .bind(account)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        BindOutcome::Bound(AccountId(account))
                    } else {
                        BindOutcome::Used
                    }
                }
            };
            tx.commit().await?;
            outcome
        });
        if let BindOutcome::Bound(account) = outcome {
            self.change_consent(
                account,
                Channel::Telegram,
                ConsentChange::Consent,
                "telegram /start link",
            )
            .await?;
            tracing::info!(account = account.0, chat = chat_id, "telegram chat bound");
        }
        Ok(outcome)
    }

    /// The chat, if it ever wrote to the bot.
    pub async fn telegram_chat(&self, chat_id: i64) -> Result<Option<TelegramChat>> {
        let row: Option<ChatRow> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT c.chat_id, c.account_id, c.verified_at, c.blocked_at, c.state, a.language,
                        k.opted_out
                 FROM telegram_chats c
                 LEFT JOIN accounts a ON a.id = c.account_id
                 LEFT JOIN channel_consents k ON k.account_id = c.account_id
                    AND k.channel = 'telegram'
                 WHERE c.chat_id = $1",
            )
            .bind(chat_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(
            |(chat_id, account, verified, blocked, state, language, opted_out)| {
                Ok(TelegramChat {
                    chat_id,
                    account: account.map(AccountId),
                    verified: verified.is_some(),
                    blocked: blocked.is_some(),
                    state,
                    language: match language {
                        Some(l) => l
                            .parse::<Language>()
                            .map_err(|e| Error::Corrupt(e.to_string()))?,
                        None => Language::En,
                    },
                    opted_out: opted_out.unwrap_or(false),
                })
            },
        )
        .transpose()
    }

    /// The chats bound to an account (for the agency and the portal).
    pub async fn account_chats(&self, account: AccountId) -> Result<Vec<TelegramChat>> {
        let ids: Vec<i64> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT chat_id FROM telegram_chats WHERE account_id = $1 ORDER BY bound_at")
                .bind(account.0)
                .fetch_all(pool)
                .await?
        });
        let mut chats = Vec::with_capacity(ids.len());
        for id in ids {
            chats.extend(self.telegram_chat(id).await?);
        }
        Ok(chats)
    }

    /// Stores what the bot asked last in this chat (a restart resumes the dialogue). Called
    /// as the user writes, so it also lifts a block: the user unblocked the bot.
    pub async fn set_chat_state(&self, chat_id: i64, state: &str) -> Result<()> {
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO telegram_chats (chat_id, state, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state,
                    blocked_at = NULL, updated_at = excluded.updated_at",
            )
            .bind(chat_id)
            .bind(state)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records that the chat passed the identity check.
    pub async fn mark_chat_verified(&self, chat_id: i64) -> Result<()> {
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            sqlx::query("UPDATE telegram_chats SET verified_at = $2, state = 'idle', updated_at = $2 WHERE chat_id = $1")
                .bind(chat_id)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Telegram said the user blocked the bot: the chat is marked, its waiting messages
    /// are cancelled, and reminders go back to the phone (if any) from the next run.
    pub async fn mark_chat_blocked(&self, chat_id: i64) -> Result<()> {
        let now = self.clock.now();
        let account: Option<Option<i64>> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "UPDATE telegram_chats SET blocked_at = $2, updated_at = $2
                 WHERE chat_id = $1 RETURNING account_id",
            )
            .bind(chat_id)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        if let Some(Some(account)) = account {
            let reason = "the user blocked the bot";
            with_db!(&self.db, pool => {
                sqlx::query(
                    "UPDATE outbox SET status = 'cancelled', error = $3, updated_at = $2
                     WHERE recipient = $1 AND channel = 'telegram' AND status = 'pending'",
                )
                .bind(chat_id.to_string())
                .bind(now)
                .bind(reason)
                .execute(pool)
                .await?;
            });
            tracing::info!(account, chat = chat_id, "telegram chat blocked the bot");
        }
        Ok(())
    }

    /// Records an update id; false when it was handled before (a webhook retry, or a
    /// restart that polls the same update again).
    pub async fn first_update(&self, update_id: i64) -> Result<bool> {
        let now = self.clock.now();
        Ok(with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO telegram_updates (update_id, received_at) VALUES ($1, $2)
                 ON CONFLICT (update_id) DO NOTHING",
            )
            .bind(update_id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        }) == 1)
    }

    /// True when the update was handled before.
    pub async fn update_handled(&self, update_id: i64) -> Result<bool> {
        let seen: Option<i64> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT update_id FROM telegram_updates WHERE update_id = $1")
                .bind(update_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(seen.is_some())
    }

    /// The highest update id handled, where long polling resumes.
    pub async fn last_update_id(&self) -> Result<Option<i64>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT MAX(update_id) FROM telegram_updates")
                .fetch_one(pool)
                .await?
        }))
    }

    /// Records a message a bound chat sent (in the inbox and the contact history) and acts
    /// on what the classifier understood in free text (`intents`: empty for commands).
    /// `to_agency` opens it in the agency's inbox.
    pub async fn receive_chat(
        &self,
        chat: &TelegramChat,
        update_id: i64,
        body: &str,
        intents: &[ReplyIntent],
        action: &str,
        to_agency: bool,
    ) -> Result<()> {
        let now = self.clock.now();
        if let Some(account) = chat.account {
            for intent in intents {
                self.act_on(account, Channel::Telegram, *intent, body)
                    .await?;
            }
        }
        let intent = intents.first().map_or("command", |i| i.as_str());
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO inbound_messages (channel, sender, account_id, body, intent, action,
                    inbox, provider_id, received_at)
                 VALUES ('telegram', $1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (provider_id) DO NOTHING RETURNING id",
            )
            .bind(chat.chat_id.to_string())
            .bind(chat.account.map(|a| a.0))
            .bind(body)
            .bind(intent)
            .bind(action)
            .bind(if to_agency { "open" } else { "none" })
            .bind(format!("tg:{update_id}"))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let (Some(_), Some(account)) = (id, chat.account) {
                let events = [Write::Contact {
                    account: account.0,
                    channel: Channel::Telegram,
                    direction: Direction::Inbound,
                    purpose: "reply",
                }];
                apply_writes!(tx, events, now);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Queues answers to a bound chat through the compliance engine, in order: each is a
    /// logged decision and, when allowed, an outbox row the sender delivers. Returns how
    /// many were allowed. `key` makes a repeat of the same update queue nothing twice.
    pub async fn queue_chat_answers(
        &self,
        chat: &TelegramChat,
        key: &str,
        answers: Vec<ChatAnswer>,
        links: &LinkSettings,
    ) -> Result<u64> {
        let Some(account) = chat.account else {
            return Err(Error::Invalid("the chat is not bound to an account".into()));
        };
        let now = self.clock.now();
        let mut facts = self.load_facts(&[account.0], now).await?;
        let f = facts
            .get_mut(&account.0)
            .ok_or(Error::NotFound("account"))?;
        // The answer goes to this chat, and it is an answer: the debtor just wrote.
        f.telegram_chat = Some(chat.chat_id);
        f.history.push(ContactEvent {
            at: now,
            channel: Channel::Telegram,
            direction: Direction::Inbound,
            purpose: Purpose::Reply,
        });
        let mut agencies = HashMap::new();
        let agency = self.agency_context(f.agency, &mut agencies).await?.clone();
        let mut writes = Vec::new();
        let mut allowed = 0;
        for (n, answer) in answers.into_iter().enumerate() {
            let message = Message {
                account: account.0,
                channel: Channel::Telegram,
                kind: answer.kind,
                dedupe_key: format!("chat:{key}:{n}"),
                next_path: None,
                text: answer.text,
                markup: answer.markup,
            };
            let drafted = draft(message, f, &agency, links, now)?;
            if drafted.decision.allowed() {
                allowed += 1;
                f.history.push(ContactEvent {
                    at: now,
                    channel: Channel::Telegram,
                    direction: Direction::Outbound,
                    purpose: answer.kind.purpose(),
                });
            }
            writes.extend(drafted.writes);
        }
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let repeat: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM outbox WHERE dedupe_key = $1",
            )
            .bind(format!("chat:{key}:0"))
            .fetch_optional(&mut *tx)
            .await?;
            if repeat.is_some() {
                return Ok(0);
            }
            apply_writes!(tx, writes, now);
            tx.commit().await?;
        });
        Ok(allowed)
    }
}
