//! Settle's Twilio adapter: [`TwilioGateway`] implements the backend's SMS port over
//! Twilio's Messages API, [`verify_signature`] checks the `X-Twilio-Signature` of Twilio's
//! webhooks, and [`parse_status_callback`] and [`parse_inbound`] read their form parameters.
//!
//! The gateway keeps to the port's rule: it retries only while Twilio has said it did not
//! take the message (429, 5xx), and reports anything where the message may have been
//! received (a timeout, a cut connection) as unknown, never sending twice.

mod callback;
mod gateway;
mod signature;

pub use callback::{
    parse_inbound, parse_status_callback, DeliveryState, DeliveryStatus, InboundSms, ParseError,
};
pub use gateway::{
    ConfigError, TwilioConfig, TwilioGateway, DEFAULT_BASE_URL, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_BACKOFF, MAX_ATTEMPTS, PROVIDER,
};
pub use signature::{public_url, verify_signature, SignatureError, SIGNATURE_HEADER};
