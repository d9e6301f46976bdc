//! Twilio's messaging webhooks read from their form parameters: delivery status callbacks
//! and inbound messages.

/// A webhook missing a parameter Settle needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The named parameter is absent or empty.
    #[error("missing required field {0}")]
    Missing(&'static str),
}

/// Where a message is on its way, per Twilio's `MessageStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting at Twilio to be sent.
    Queued,
    /// Handed to the carrier.
    Sent,
    /// The carrier confirmed delivery.
    Delivered,
    /// The carrier could not deliver it.
    Undelivered,
    /// Twilio could not send it.
    Failed,
    /// Any other status (`accepted`, `sending`, `read`, `canceled`, ...), as Twilio wrote it.
    Other(String),
}

impl DeliveryState {
    /// Reads Twilio's status name.
    pub fn from_twilio(status: &str) -> Self {
        match status {
            "queued" => DeliveryState::Queued,
            "sent" => DeliveryState::Sent,
            "delivered" => DeliveryState::Delivered,
            "undelivered" => DeliveryState::Undelivered,
            "failed" => DeliveryState::Failed,
            other => DeliveryState::Other(other.to_string()),
        }
    }
}

/// A delivery status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// Twilio's message sid, as returned when the message was accepted.
    pub provider_id: String,
    /// The new status.
    pub status: DeliveryState,
    /// Twilio's error code when the message failed (`30003` unreachable, ...).
    pub error_code: Option<String>,
    /// The recipient, when Twilio sent it.
    pub to: Option<String>,
}

/// A text message a debtor sent to one of Settle's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// Twilio's message sid.
    pub provider_id: String,
    /// The sender (E.164).
    pub from: String,
    /// Settle's number it was sent to.
    pub to: String,
    /// The text, possibly empty (a picture-only message).
    pub body: String,
}

/// The first value of `name`, when present.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The first non-empty value of `name`.
fn required(params: &[(String, String)], name: &'static str) -> Result<String, ParseError> {
    param(params, name)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
        .ok_or(ParseError::Missing(name))
}

fn optional(params: &[(String, String)], name: &str) -> Option<String> {
    param(params, name)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

/// Reads a status callback (`MessageSid`, `MessageStatus`, optional `ErrorCode` and `To`).
pub fn parse_status_callback(params: &[(String, String)]) -> Result<DeliveryStatus, ParseError> {
    Ok(DeliveryStatus {
        provider_id: required(params, "MessageSid")?,
        status: DeliveryState::from_twilio(&required(params, "MessageStatus")?),
        error_code: optional(params, "ErrorCode"),
        to: optional(params, "To"),
    })
}

/// Reads an inbound message (`MessageSid`, `From`, `To`, `Body`; `Body` may be empty).
pub fn parse_inbound(params: &[(String, String)]) -> Result<InboundSms, ParseError> {
    Ok(InboundSms {
        provider_id: required(params, "MessageSid")?,
        from: required(params, "From")?,
        to: required(params, "To")?,
        body: param(params, "Body")
            .ok_or(ParseError::Missing("Body"))?
            .to_string(),
    })
}
