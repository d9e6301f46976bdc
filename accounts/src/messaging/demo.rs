//! The demo transport: takes every message without sending it anywhere. The outbox row
//! keeps the text, which the demo phone page (and later the agency console) shows.

use super::port::{ChatGateway, OutboundChat, OutboundSms, SendOutcome, SmsFuture, SmsGateway};

/// An SMS "provider" for the embedded default: nothing leaves the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoSms;

impl SmsGateway for DemoSms {
    fn name(&self) -> &'static str {
        "demo"
    }

    fn send<'a>(&'a self, sms: &'a OutboundSms) -> SmsFuture<'a> {
        Box::pin(async move {
            SendOutcome::Accepted {
                provider_id: format!("demo-{}", sms.outbox_id),
                status: "delivered".into(),
            }
        })
    }
}

/// A Telegram "messenger" for the embedded default: the outbox row keeps the text.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoChat;

impl ChatGateway for DemoChat {
    fn name(&self) -> &'static str {
        "demo"
    }

    fn send<'a>(&'a self, message: &'a OutboundChat) -> SmsFuture<'a> {
        Box::pin(async move {
            SendOutcome::Accepted {
                provider_id: format!("demo-{}", message.outbox_id),
                status: "delivered".into(),
            }
        })
    }
}
