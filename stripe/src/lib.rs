//! Settle's Stripe adapter: [`StripeGateway`] implements the backend's payment port over
//! async-stripe 1.0 (hosted Checkout to pay or to save a card, off-session charges with an
//! idempotency key, a list of recent payments for reconciliation), and [`read_webhook`]
//! verifies a webhook's signature and reads the event into a [`ProcessorEvent`].
//!
//! The account an event belongs to is read from the payment's metadata, set by Settle when
//! it created the payment. Refunds and disputes name only the payment, so its metadata is
//! fetched from Stripe: that works in any order of arrival.

use std::collections::HashMap;
use std::str::FromStr;

use accounts::payments::{
    ChargeOutcome, ChargeRequest, Checkout, CheckoutRequest, EventKind, GatewayError,
    GatewayFuture, PaymentGateway, ProcessorEvent,
};
use chrono::{DateTime, Utc};
use domain::AccountId;
use futures_util::TryStreamExt;
use stripe::{Client, ClientBuilder, StripeError};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionSetupIntentData, ProductData,
};
use stripe_client_core::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_core::customer::CreateCustomer;
use stripe_core::payment_intent::{
    CreatePaymentIntent, CreatePaymentIntentOffSession, ListPaymentIntent, RetrievePaymentIntent,
};
use stripe_core::setup_intent::RetrieveSetupIntent;
use stripe_shared::{CheckoutSessionMode, CheckoutSessionPaymentStatus, PaymentIntent};
use stripe_webhook::{Event, EventObject, Webhook};

/// The processor name stored with payments and events.
pub const PROCESSOR: &str = "stripe";

/// Stripe, through async-stripe.
#[derive(Clone)]
pub struct StripeGateway {
    client: Client,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeGateway")
    }
}

impl StripeGateway {
    /// A gateway using `secret_key` against `api_url` (`https://api.stripe.com`, or a local
    /// fake in tests).
    pub fn new(secret_key: &str, api_url: &str) -> Result<Self, GatewayError> {
        let client = ClientBuilder::new(secret_key)
            .url(api_url.trim_end_matches('/'))
            .build()
            .map_err(|e| GatewayError::Refused(e.to_string()))?;
        Ok(StripeGateway { client })
    }

    /// The account a payment belongs to, from the metadata Settle gave it.
    async fn payment_account(&self, intent: &str) -> Result<Option<AccountId>, GatewayError> {
        let pi = RetrievePaymentIntent::new(intent)
            .send(&self.client)
            .await
            .map_err(unavailable)?;
        Ok(account_of(&pi.metadata))
    }
}

fn unavailable(e: StripeError) -> GatewayError {
    match e {
        StripeError::Stripe(err, status) if (400..500).contains(&status) => {
            GatewayError::Refused(err.message.unwrap_or_else(|| status.to_string()))
        }
        other => GatewayError::Unavailable(other.to_string()),
    }
}

fn account_of(metadata: &HashMap<String, String>) -> Option<AccountId> {
    metadata.get("account_id")?.parse().ok().map(AccountId)
}

fn id_of(metadata: &HashMap<String, String>, key: &str) -> Option<i64> {
    metadata.get(key)?.parse().ok()
}

fn currency(code: &str) -> Result<stripe_types::Currency, GatewayError> {
    stripe_types::Currency::from_str(&code.to_ascii_lowercase())
        .map_err(|_| GatewayError::Refused(format!("currency {code}")))
}

impl PaymentGateway for StripeGateway {
    fn name(&self) -> &'static str {
        PROCESSOR
    }

    fn checkout<'a>(&'a self, req: &'a CheckoutRequest) -> GatewayFuture<'a, Checkout> {
        Box::pin(async move {
            let session = match req {
                CheckoutRequest::Payment {
                    account,
                    payment_id,
                    amount,
                    description,
                    success_url,
                    cancel_url,
                } => {
                    let metadata = HashMap::from([
                        ("account_id".to_string(), account.0.to_string()),
                        ("payment_id".to_string(), payment_id.to_string()),
                    ]);
                    let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency(
                        amount.currency().code(),
                    )?);
                    price.unit_amount = Some(amount.minor());
                    price.product_data = Some(ProductData::new(description.clone()));
                    let mut item = CreateCheckoutSessionLineItems::new();
                    item.price_data = Some(price);
                    item.quantity = Some(1);
                    let mut intent = CreateCheckoutSessionPaymentIntentData::new();
                    intent.metadata = Some(metadata.clone());
                    CreateCheckoutSession::new()
                        .mode(CheckoutSessionMode::Payment)
                        .line_items(vec![item])
                        .payment_intent_data(intent)
                        .metadata(metadata)
                        .client_reference_id(account.0.to_string())
                        .success_url(success_url.clone())
                        .cancel_url(cancel_url.clone())
                        .send(&self.client)
                        .await
                        .map_err(unavailable)?
                }
                CheckoutRequest::Setup {
                    account,
                    plan_id,
                    currency: code,
                    success_url,
                    cancel_url,
                } => {
                    let metadata = HashMap::from([
                        ("account_id".to_string(), account.0.to_string()),
                        ("plan_id".to_string(), plan_id.to_string()),
                    ]);
                    // Off-session charges need the card attached to a customer.
                    let customer = CreateCustomer::new()
                        .metadata(metadata.clone())
                        .send(&self.client)
                        .await
                        .map_err(unavailable)?;
                    let mut setup = CreateCheckoutSessionSetupIntentData::new();
                    setup.metadata = Some(metadata.clone());
                    CreateCheckoutSession::new()
                        .mode(CheckoutSessionMode::Setup)
                        .currency(currency(code.code())?)
                        .customer(customer.id.as_str())
                        .setup_intent_data(setup)
                        .metadata(metadata)
                        .client_reference_id(account.0.to_string())
                        .success_url(success_url.clone())
                        .cancel_url(cancel_url.clone())
                        .send(&self.client)
                        .await
                        .map_err(unavailable)?
                }
            };
            let url = session
                .url
                .clone()
                .ok_or_else(|| GatewayError::Refused("checkout session without a url".into()))?;
            Ok(Checkout {
                id: session.id.as_str().to_string(),
                url,
            })
        })
    }

    fn charge<'a>(&'a self, req: &'a ChargeRequest) -> GatewayFuture<'a, ChargeOutcome> {
        Box::pin(async move {
            let key = IdempotencyKey::new(&req.idempotency_key)
                .map_err(|e| GatewayError::Refused(e.to_string()))?;
            let metadata = HashMap::from([
                ("account_id".to_string(), req.account.0.to_string()),
                ("instalment_id".to_string(), req.instalment_id.to_string()),
            ]);
            let result = CreatePaymentIntent::new(
                req.amount.minor(),
                currency(req.amount.currency().code())?,
            )
            .customer(req.customer.as_str())
            .payment_method(req.method.as_str())
            .off_session(CreatePaymentIntentOffSession::Bool(true))
            .confirm(true)
            .metadata(metadata)
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await;
            match result {
                Ok(pi) if pi.status == stripe_shared::PaymentIntentStatus::Succeeded => {
                    Ok(ChargeOutcome::Succeeded(pi.id.as_str().to_string()))
                }
                Ok(pi) => Ok(ChargeOutcome::Failed {
                    intent: Some(pi.id.as_str().to_string()),
                    reason: pi.status.as_str().to_string(),
                }),
                // A decline or a bank asking for authentication is the debtor's to fix.
                Err(StripeError::Stripe(err, 402)) => Ok(ChargeOutcome::Failed {
                    intent: err
                        .payment_intent
                        .as_ref()
                        .map(|p| p.id.as_str().to_string()),
                    reason: err
                        .decline_code
                        .clone()
                        .or_else(|| err.code.as_ref().map(|c| c.as_str().to_string()))
                        .unwrap_or_else(|| "card_error".into()),
                }),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn recent_events<'a>(&'a self, since: DateTime<Utc>) -> GatewayFuture<'a, Vec<ProcessorEvent>> {
        Box::pin(async move {
            let intents: Vec<PaymentIntent> = ListPaymentIntent::new()
                .created(stripe_types::RangeQueryTs::gte(since.timestamp()))
                .limit(100)
                .paginate()
                .stream(&self.client)
                .try_collect()
                .await
                .map_err(unavailable)?;
            Ok(intents
                .iter()
                .filter(|pi| pi.status == stripe_shared::PaymentIntentStatus::Succeeded)
                .filter_map(succeeded)
                .map(|kind| ProcessorEvent {
                    processor: PROCESSOR.into(),
                    event_id: match &kind {
                        EventKind::PaymentSucceeded { intent, .. } => format!("reconcile:{intent}"),
                        _ => String::new(),
                    },
                    kind,
                })
                .collect())
        })
    }
}

fn succeeded(pi: &PaymentIntent) -> Option<EventKind> {
    Some(EventKind::PaymentSucceeded {
        intent: pi.id.as_str().to_string(),
        account: account_of(&pi.metadata)?,
        amount_minor: pi.amount_received,
        payment_id: id_of(&pi.metadata, "payment_id"),
        instalment_id: id_of(&pi.metadata, "instalment_id"),
    })
}

/// Why a webhook delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Missing or wrong signature, a timestamp more than 5 minutes away, or a payload that
    /// is not a Stripe event: 400.
    #[error("bad signature: {0}")]
    Signature(String),
    /// Stripe could not be asked about the payment the event names: 503, Stripe retries.
    #[error("stripe unavailable: {0}")]
    Unavailable(String),
}

/// Verifies `signature` (the `Stripe-Signature` header) over the raw `body` with the
/// endpoint's `secret`, tolerating 5 minutes of clock difference, and reads the event.
/// Events that name no Settle account, or that Settle does not act on, become
/// [`EventKind::Ignored`] so they are recorded once and answered 200.
pub async fn read_webhook(
    gateway: &StripeGateway,
    body: &str,
    signature: &str,
    secret: &str,
) -> Result<ProcessorEvent, WebhookError> {
    let event = verify_event(body, signature, secret)?;
    let kind_name = event.type_.as_str().to_string();
    let ignored = || EventKind::Ignored(kind_name.clone());
    let lookup = |intent: String| async move {
        gateway
            .payment_account(&intent)
            .await
            .map_err(|e| WebhookError::Unavailable(e.to_string()))
    };
    let kind = match event.data.object {
        EventObject::PaymentIntentSucceeded(pi) => succeeded(&pi).unwrap_or_else(ignored),
        EventObject::PaymentIntentPaymentFailed(pi) => EventKind::PaymentFailed {
            intent: pi.id.as_str().to_string(),
            payment_id: id_of(&pi.metadata, "payment_id"),
            reason: pi
                .last_payment_error
                .as_ref()
                .and_then(|e| e.code.as_ref().map(|c| c.as_str().to_string()))
                .unwrap_or_else(|| "failed".into()),
        },
        EventObject::CheckoutSessionCompleted(cs) => {
            let metadata = cs.metadata.clone().unwrap_or_default();
            match (&cs.mode, &cs.payment_status) {
                (CheckoutSessionMode::Payment, CheckoutSessionPaymentStatus::Paid) => {
                    match (&cs.payment_intent, account_of(&metadata)) {
                        (Some(pi), Some(account)) => EventKind::PaymentSucceeded {
                            intent: pi.id().as_str().to_string(),
                            account,
                            amount_minor: cs.amount_total.unwrap_or(0),
                            payment_id: id_of(&metadata, "payment_id"),
                            instalment_id: None,
                        },
                        _ => ignored(),
                    }
                }
                (CheckoutSessionMode::Setup, _) => {
                    let plan = id_of(&metadata, "plan_id");
                    let customer = cs.customer.as_ref().map(|c| c.id().as_str().to_string());
                    match (plan, customer, &cs.setup_intent) {
                        (Some(plan_id), Some(customer), Some(si)) => {
                            let si = RetrieveSetupIntent::new(si.id().as_str())
                                .send(&gateway.client)
                                .await
                                .map_err(|e| WebhookError::Unavailable(e.to_string()))?;
                            match si.payment_method {
                                Some(pm) => EventKind::SetupCompleted {
                                    plan_id,
                                    customer,
                                    method: pm.id().as_str().to_string(),
                                },
                                None => ignored(),
                            }
                        }
                        _ => ignored(),
                    }
                }
                _ => ignored(),
            }
        }
        EventObject::RefundCreated(r) | EventObject::RefundUpdated(r)
            if r.status.as_deref() == Some("succeeded") =>
        {
            match &r.payment_intent {
                Some(pi) => match lookup(pi.id().as_str().to_string()).await? {
                    Some(account) => EventKind::Refunded {
                        refund: r.id.as_str().to_string(),
                        account,
                        amount_minor: r.amount,
                    },
                    None => ignored(),
                },
                None => ignored(),
            }
        }
        EventObject::ChargeDisputeClosed(d) if d.status == stripe_shared::DisputeStatus::Lost => {
            match &d.payment_intent {
                Some(pi) => match lookup(pi.id().as_str().to_string()).await? {
                    Some(account) => EventKind::ChargebackLost {
                        dispute: d.id.as_str().to_string(),
                        account,
                        amount_minor: d.amount,
                    },
                    None => ignored(),
                },
                None => ignored(),
            }
        }
        _ => ignored(),
    };
    Ok(ProcessorEvent {
        processor: PROCESSOR.into(),
        event_id: event.id.as_str().to_string(),
        kind,
    })
}

/// Verifies `signature` (the `Stripe-Signature` header) over the raw `body` with `secret`,
/// tolerating 5 minutes of clock difference, and parses the event; the first half of
/// [`read_webhook`], which needs no network.
pub fn verify_event(body: &str, signature: &str, secret: &str) -> Result<Event, WebhookError> {
    Webhook::construct_event(body, signature, secret)
        .map_err(|e| WebhookError::Signature(e.to_string()))
}

/// A `Stripe-Signature` header for `payload` signed with `secret` at unix time `t`, as
/// Stripe makes it (for benchmarks and tests that play Stripe's part).
pub fn sign(payload: &str, secret: &str, t: i64) -> String {
    Webhook::generate_test_header(payload, secret, Some(t))
}
