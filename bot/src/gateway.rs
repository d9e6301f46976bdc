//! The Telegram port's adapter: sends outbox rows with teloxide and says what happened in
//! the port's terms (a blocked bot is [`CHAT_BLOCKED`]).

use accounts::messaging::{ChatGateway, OutboundChat, SendOutcome, SmsFuture, CHAT_BLOCKED};
use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, InlineKeyboardMarkup};
use teloxide::{ApiError, Bot, RequestError};

/// Sends chat messages through the Bot API (Telegram's, or a test server's).
#[derive(Clone)]
pub struct TelegramGateway {
    bot: Bot,
}

impl TelegramGateway {
    /// An adapter on a teloxide client.
    pub fn new(bot: Bot) -> Self {
        TelegramGateway { bot }
    }
}

/// What a failed `sendMessage` means for the outbox row.
fn outcome_of(error: RequestError) -> SendOutcome {
    match error {
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated
            | ApiError::BotKicked,
        ) => SendOutcome::Rejected {
            code: CHAT_BLOCKED.into(),
            message: error.to_string(),
        },
        RequestError::Api(e) => SendOutcome::Rejected {
            code: "api".into(),
            message: e.to_string(),
        },
        RequestError::MigrateToChatId(_) => SendOutcome::Rejected {
            code: "migrated".into(),
            message: error.to_string(),
        },
        RequestError::RetryAfter(_) => SendOutcome::NotAccepted {
            detail: error.to_string(),
        },
        // Not connected: the request never left. Anything later may have been sent.
        RequestError::Network(ref e) if e.is_connect() => SendOutcome::NotAccepted {
            detail: error.to_string(),
        },
        RequestError::Io(_) => SendOutcome::NotAccepted {
            detail: error.to_string(),
        },
        RequestError::Network(_) | RequestError::InvalidJson { .. } => SendOutcome::Unknown {
            detail: error.to_string(),
        },
    }
}

impl ChatGateway for TelegramGateway {
    fn name(&self) -> &'static str {
        "telegram"
    }

    fn send<'a>(&'a self, message: &'a OutboundChat) -> SmsFuture<'a> {
        Box::pin(async move {
            let mut request = self
                .bot
                .send_message(ChatId(message.chat_id), message.text.clone());
            if let Some(markup) = &message.markup {
                match serde_json::from_str::<InlineKeyboardMarkup>(markup) {
                    Ok(keyboard) => request = request.reply_markup(keyboard),
                    Err(e) => tracing::error!(outbox = message.outbox_id, "bad keyboard: {e}"),
                }
            }
            match request.await {
                Ok(sent) => SendOutcome::Accepted {
                    provider_id: format!("{}:{}", message.chat_id, sent.id.0),
                    status: "sent".into(),
                },
                Err(e) => outcome_of(e),
            }
        })
    }
}
