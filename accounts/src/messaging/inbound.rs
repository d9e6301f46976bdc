//! Messages debtors send: understood by the reply classifier, acted on (opt-out, opt-in,
//! a dispute, a hold, a refused medium), answered through the compliance engine, and kept
//! in the account's history; anything not understood goes to the agency's inbox.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::compliance::{Channel, ContactEvent, Direction, Purpose};
use domain::messaging::MessageKind;
use domain::reply::{classify, classify_all, ReplyIntent};
use domain::{AccountId, Actor};
use serde::Serialize;

use super::{apply_writes, draft, LinkSettings, Message, Write};
use crate::compliance::{ConsentChange, HoldKind};
use crate::db::with_db;
use crate::disputes::{DisputeOrigin, DisputeReason, NewDispute};
use crate::portal::LinkToken;
use crate::{Accounts, Error, Result};

/// A text message received from a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The provider's id for it (Twilio's `MessageSid`): a repeat is recognised.
    pub provider_id: Option<String>,
    /// The sender's number (E.164).
    pub from: String,
    /// The body as received.
    pub body: String,
}

/// What was made of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundOutcome {
    /// The stored row (the earlier one when this was a repeat).
    pub id: i64,
    /// What the classifier understood.
    pub intent: &'static str,
    /// What was done, in words the agency reads.
    pub action: String,
    /// The accounts the sender's number belongs to.
    pub accounts: Vec<i64>,
    /// Answers written to the outbox.
    pub replies_queued: u64,
    /// The provider delivered this message before: nothing was done again.
    pub repeat: bool,
}

/// An inbound message as the agency's inbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxMessage {
    /// Row id.
    pub id: i64,
    /// The medium.
    pub channel: String,
    /// Who sent it.
    pub sender: String,
    /// The account it was matched to.
    pub account_id: Option<i64>,
    /// The text.
    pub body: String,
    /// What the classifier understood.
    pub intent: String,
    /// What was done.
    pub action: String,
    /// `open` while the agency must read it, `closed` after, `none` when handled alone.
    pub inbox: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// What the system does for an intent: the effect's description, the answer, and
/// whether the agency must see the message.
pub fn reply_plan(intent: ReplyIntent) -> (&'static str, Option<MessageKind>, bool) {
    use ReplyIntent::*;
    match intent {
        OptOut => (
            "opted out of text messages",
            Some(MessageKind::OptOutConfirmation),
            false,
        ),
        OptIn => (
            "opted back in to text messages",
            Some(MessageKind::OptInConfirmation),
            false,
        ),
        Help => ("sent the help text", Some(MessageKind::Help), false),
        Pay => (
            "sent a fresh portal link",
            Some(MessageKind::PayLink),
            false,
        ),
        NotMyDebt => (
            "opened a dispute: not my debt",
            Some(MessageKind::DisputeReceived),
            true,
        ),
        // The sender is not the debtor: nothing more goes to this number, not even an answer.
        WrongNumber => ("stopped texting this number: wrong number", None, true),
        // A hold forbids any answer (12 CFR 1006.6(b)(2), 11 U.S.C. 362): the agency
        // writes to counsel or the trustee.
        Attorney => ("set an attorney hold", None, true),
        Bankruptcy => ("set a bankruptcy hold", None, true),
        Deceased => ("set a deceased hold", None, true),
        StopCalling => (
            "stopped calls (medium refused)",
            Some(MessageKind::FlagReceived),
            true,
        ),
        Other => ("sent to the agency inbox", None, true),
    }
}

impl Accounts {
    /// Receives one text message: classifies it, acts on every account of the sender's
    /// number, records it (once per provider id) and queues the answer through the
    /// compliance engine.
    pub async fn receive_sms(
        &self,
        sms: &InboundSms,
        links: &LinkSettings,
    ) -> Result<InboundOutcome> {
        if let Some(pid) = &sms.provider_id {
            let earlier: Option<(i64, String, String)> = with_db!(&self.db, pool => {
                sqlx::query_as("SELECT id, intent, action FROM inbound_messages WHERE provider_id = $1")
                    .bind(pid)
                    .fetch_optional(pool)
                    .await?
            });
            if let Some((id, intent, action)) = earlier {
                return Ok(InboundOutcome {
                    id,
                    intent: classify(&sms.body).as_str(),
                    action: format!("repeat of message {id} ({intent}: {action})"),
                    accounts: Vec::new(),
                    replies_queued: 0,
                    repeat: true,
                });
            }
        }
        let accounts: Vec<i64> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM accounts WHERE phone = $1 ORDER BY id")
                .bind(&sms.from)
                .fetch_all(pool)
                .await?
        });
        // Every intent is acted on ("not my debt, stop texting me" is a dispute and an
        // opt-out); the effects are idempotent, so a retried delivery repeats them safely.
        let intents = classify_all(&sms.body);
        let intent = intents.first().copied().unwrap_or(ReplyIntent::Other);
        for account in &accounts {
            for i in &intents {
                self.act_on(AccountId(*account), Channel::Sms, *i, &sms.body)
                    .await?;
            }
        }
        let to_agency = accounts.is_empty() || intents.iter().any(|i| reply_plan(*i).2);
        let action = if accounts.is_empty() {
            "no account has this number; sent to the agency inbox".to_string()
        } else {
            intents
                .iter()
                .map(|i| reply_plan(*i).0)
                .collect::<Vec<_>>()
                .join("; ")
        };
        // An opt-out's confirmation is the one text still allowed, so it is the answer
        // whenever the message opts out, whatever else it says.
        let answer = if intents.contains(&ReplyIntent::OptOut) {
            Some(MessageKind::OptOutConfirmation)
        } else {
            reply_plan(intent).1
        };
        let now = self.clock.now();
        let inbound_event = ContactEvent {
            at: now,
            channel: Channel::Sms,
            direction: Direction::Inbound,
            purpose: Purpose::Reply,
        };
        // One answer per message, on the first account: the sender has one phone.
        let mut reply = Vec::new();
        let mut replies_queued = 0;
        if let (Some(kind), Some(account)) = (answer, accounts.first()) {
            let mut facts = self.load_facts(&[*account], now).await?;
            let f = facts.get_mut(account).ok_or(Error::NotFound("account"))?;
            f.history.push(inbound_event);
            let mut agencies = HashMap::new();
            let agency = self.agency_context(f.agency, &mut agencies).await?;
            let key = match &sms.provider_id {
                Some(pid) => format!("reply:sms:{pid}"),
                None => format!("reply:sms:{}", LinkToken::generate().expose()),
            };
            let message = Message {
                account: *account,
                channel: Channel::Sms,
                kind,
                dedupe_key: key,
                next_path: None,
                text: None,
                markup: None,
            };
            let drafted = draft(message, f, agency, links, now)?;
            if drafted.decision.allowed() {
                replies_queued = 1;
            }
            reply = drafted.writes;
        }
        let inbox = if to_agency { "open" } else { "none" };
        // The message, its history entries and the answer are written together; a
        // delivery already recorded (a retry racing the first) writes nothing.
        let id: Option<i64> = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO inbound_messages (channel, sender, account_id, body, intent, action,
                    inbox, provider_id, received_at)
                 VALUES ('sms', $1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (provider_id) DO NOTHING RETURNING id",
            )
            .bind(&sms.from)
            .bind(accounts.first())
            .bind(&sms.body)
            .bind(intent.as_str())
            .bind(&action)
            .bind(inbox)
            .bind(sms.provider_id.as_deref())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if id.is_some() {
                let events = accounts.iter().map(|a| Write::Contact {
                    account: *a,
                    channel: Channel::Sms,
                    direction: Direction::Inbound,
                    purpose: "reply",
                });
                apply_writes!(tx, events.chain(reply), now);
                tx.commit().await?;
            }
            id
        });
        let Some(id) = id else {
            return Ok(InboundOutcome {
                id: 0,
                intent: intent.as_str(),
                action: "repeat of a message already recorded".into(),
                accounts: Vec::new(),
                replies_queued: 0,
                repeat: true,
            });
        };
        tracing::info!(
            message = id,
            intent = intent.as_str(),
            accounts = accounts.len(),
            "inbound sms"
        );
        Ok(InboundOutcome {
            id,
            intent: intent.as_str(),
            action,
            accounts,
            replies_queued,
            repeat: false,
        })
    }

    /// Acts on one understood intent of a message received on `channel`.
    pub(crate) async fn act_on(
        &self,
        account: AccountId,
        channel: Channel,
        intent: ReplyIntent,
        body: &str,
    ) -> Result<()> {
        let source = format!("{channel} reply");
        let by = Actor::System(format!("{channel}-reply"));
        let hold = |kind| async move {
            match self.set_hold(account, kind, body, None, &by).await {
                // Already held: the new message changes nothing.
                Ok(_) | Err(Error::Invalid(_)) => Ok(()),
                Err(e) => Err(e),
            }
        };
        match intent {
            ReplyIntent::OptOut => {
                self.change_consent(account, channel, ConsentChange::OptOut, &source)
                    .await
            }
            ReplyIntent::OptIn => {
                self.change_consent(account, channel, ConsentChange::Consent, &source)
                    .await
            }
            ReplyIntent::WrongNumber => {
                self.change_consent(account, channel, ConsentChange::Refuse, "wrong number")
                    .await
            }
            ReplyIntent::StopCalling => {
                self.change_consent(account, Channel::Call, ConsentChange::Refuse, &source)
                    .await
            }
            ReplyIntent::NotMyDebt => {
                let origin = match channel {
                    Channel::Telegram => DisputeOrigin::Telegram,
                    _ => DisputeOrigin::Sms,
                };
                let dispute = NewDispute::from_message(DisputeReason::NotMyDebt, body, origin);
                self.dispute_unless_waiting(account, dispute).await?;
                Ok(())
            }
            ReplyIntent::Attorney => hold(HoldKind::Attorney).await,
            ReplyIntent::Bankruptcy => hold(HoldKind::Bankruptcy).await,
            ReplyIntent::Deceased => hold(HoldKind::Deceased).await,
            ReplyIntent::Help | ReplyIntent::Pay | ReplyIntent::Other => Ok(()),
        }
    }

    /// Inbound messages, newest first: the agency's open inbox, or everything.
    pub async fn inbox(&self, open_only: bool, limit: i64) -> Result<Vec<InboxMessage>> {
        type Row = (
            i64,
            String,
            String,
            Option<i64>,
            String,
            String,
            String,
            String,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, channel, sender, account_id, body, intent, action, inbox, received_at
                 FROM inbound_messages WHERE (NOT $1 OR inbox = 'open')
                 ORDER BY id DESC LIMIT $2",
            )
            .bind(open_only)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, channel, sender, account_id, body, intent, action, inbox, received_at)| {
                    InboxMessage {
                        id,
                        channel,
                        sender,
                        account_id,
                        body,
                        intent,
                        action,
                        inbox,
                        received_at,
                    }
                },
            )
            .collect())
    }
}
