//! The SMS port: what the sending worker asks of a provider, and what it learns back.

use std::future::Future;
use std::pin::Pin;

/// A boxed future, so the port can be used as `Arc<dyn SmsGateway>`.
pub type SmsFuture<'a> = Pin<Box<dyn Future<Output = SendOutcome> + Send + 'a>>;

/// One text message to hand to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    /// Settle's outbox row, for the provider's status callback and for logs.
    pub outbox_id: i64,
    /// The sending number (E.164) or messaging service id.
    pub from: String,
    /// The recipient (E.164).
    pub to: String,
    /// The final text.
    pub body: String,
    /// Where the provider reports delivery status, when it supports callbacks.
    pub status_callback: Option<String>,
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider took the message; `provider_id` names it in status callbacks.
    Accepted {
        /// The provider's message id (Twilio's `SM...` sid).
        provider_id: String,
        /// The provider's first status (`queued`, `accepted`, `sent`, ...).
        status: String,
    },
    /// The provider refused the message for good (invalid number, landline, blocked):
    /// it was not sent and must not be retried.
    Rejected {
        /// The provider's error code.
        code: String,
        /// Its explanation.
        message: String,
    },
    /// The provider said it did not take the message (throttled, down): safe to try later.
    NotAccepted {
        /// Why.
        detail: String,
    },
    /// The request may or may not have reached the provider (timeout, connection cut
    /// after sending): never retried automatically, marked for review.
    Unknown {
        /// What was seen.
        detail: String,
    },
}

/// A provider that sends text messages (Twilio, or the demo transport).
pub trait SmsGateway: Send + Sync {
    /// The provider's name, stored with each sent row (`twilio`, `demo`).
    fn name(&self) -> &'static str;

    /// Sends one message. Retrying inside is allowed only while the provider has said
    /// it did not take the message.
    fn send<'a>(&'a self, sms: &'a OutboundSms) -> SmsFuture<'a>;
}

/// The code a [`ChatGateway`] gives in [`SendOutcome::Rejected`] when the user blocked the
/// bot (or deleted the chat): the chat is marked and no more is queued for it.
pub const CHAT_BLOCKED: &str = "blocked";

/// One chat message to hand to a messenger (Telegram).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundChat {
    /// Settle's outbox row, for logs.
    pub outbox_id: i64,
    /// The chat.
    pub chat_id: i64,
    /// The final text.
    pub text: String,
    /// Buttons to show with it (an inline keyboard as JSON), if any.
    pub markup: Option<String>,
}

/// A messenger that delivers chat messages (Telegram, or the demo transport).
pub trait ChatGateway: Send + Sync {
    /// The provider's name, stored with each sent row (`telegram`, `demo`).
    fn name(&self) -> &'static str;

    /// Sends one message.
    fn send<'a>(&'a self, message: &'a OutboundChat) -> SmsFuture<'a>;
}
