//! The demo processor: used when no Stripe key is configured, so the embedded default shows
//! the whole payment flow offline. Its checkout page (served by the server, clearly marked
//! as a test) accepts Stripe's usual test card numbers and produces the same events Stripe
//! would, applied through the same [`Accounts::apply_event`].

use chrono::{DateTime, Utc};
use domain::AccountId;
use rand::Rng;

use super::{
    ChargeOutcome, ChargeRequest, Checkout, CheckoutRequest, EventKind, GatewayFuture,
    PaymentGateway, ProcessorEvent,
};
use crate::db::with_db;
use crate::{Accounts, Error, Result};

/// Test cards the demo page accepts, with what each does (Stripe's documented numbers).
pub const DEMO_CARDS: [(&str, &str); 4] = [
    ("4242424242424242", "succeeds"),
    ("4000000000000002", "is declined"),
    (
        "4000002500003155",
        "needs authentication: saved for a plan, its off-session charges fail",
    ),
    (
        "4000000000000341",
        "can be saved for a plan, but its charges are declined",
    ),
];

/// The demo processor.
#[derive(Debug, Clone)]
pub struct DemoGateway {
    public_url: String,
}

impl DemoGateway {
    /// A demo processor whose checkout pages live under `public_url`.
    pub fn new(public_url: &str) -> Self {
        DemoGateway {
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }
}

fn token(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}_{n:016x}")
}

impl PaymentGateway for DemoGateway {
    fn name(&self) -> &'static str {
        "demo"
    }

    fn checkout<'a>(&'a self, _req: &'a CheckoutRequest) -> GatewayFuture<'a, Checkout> {
        Box::pin(async move {
            let id = token("demo_cs");
            Ok(Checkout {
                url: format!("{}/demo-checkout/{id}", self.public_url),
                id,
            })
        })
    }

    fn charge<'a>(&'a self, req: &'a ChargeRequest) -> GatewayFuture<'a, ChargeOutcome> {
        Box::pin(async move {
            let intent = format!("demo_pi_{}", req.idempotency_key);
            Ok(match req.method.rsplit('_').next() {
                Some("3155") => ChargeOutcome::Failed {
                    intent: Some(intent),
                    reason: "authentication_required".into(),
                },
                Some("0341") | Some("0002") => ChargeOutcome::Failed {
                    intent: Some(intent),
                    reason: "card_declined".into(),
                },
                _ => ChargeOutcome::Succeeded(intent),
            })
        })
    }

    fn recent_events<'a>(
        &'a self,
        _since: DateTime<Utc>,
    ) -> GatewayFuture<'a, Vec<ProcessorEvent>> {
        // Demo payments are applied when the page is submitted: nothing can be missed.
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// What submitting the demo checkout page did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoOutcome {
    /// A payment was taken: its row, for the receipt.
    Paid(i64),
    /// The card was declined: the row, marked failed.
    Declined(i64),
    /// A payment method was saved for the account's plan.
    Saved,
    /// The card number is not one of the test cards.
    UnknownCard,
}

/// What a demo checkout page is for, read back from the row that started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoCheckout {
    /// A payment of this many minor units.
    Payment {
        /// Settle's payment row.
        payment_id: i64,
        /// The account.
        account: AccountId,
        /// Amount, minor units.
        amount_minor: i64,
        /// Its status.
        status: String,
    },
    /// Saving a method for this plan.
    Setup {
        /// Settle's plan row.
        plan_id: i64,
        /// The account.
        account: AccountId,
    },
}

impl Accounts {
    /// Reads what a demo checkout page is for.
    pub async fn demo_checkout(&self, checkout_id: &str) -> Result<Option<DemoCheckout>> {
        let payment: Option<(i64, i64, i64, String)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, account_id, amount, status FROM payments
                 WHERE checkout_ref = $1 AND processor = 'demo'",
            )
            .bind(checkout_id)
            .fetch_optional(pool)
            .await?
        });
        if let Some((payment_id, account, amount_minor, status)) = payment {
            return Ok(Some(DemoCheckout::Payment {
                payment_id,
                account: AccountId(account),
                amount_minor,
                status,
            }));
        }
        let plan: Option<(i64, i64)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, account_id FROM plans WHERE setup_ref = $1 AND processor = 'demo'",
            )
            .bind(checkout_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(plan.map(|(plan_id, account)| DemoCheckout::Setup {
            plan_id,
            account: AccountId(account),
        }))
    }

    /// Submits the demo checkout page with a test card, producing the events Stripe would.
    pub async fn demo_complete(&self, checkout_id: &str, card: &str) -> Result<DemoOutcome> {
        let card: String = card.chars().filter(char::is_ascii_digit).collect();
        if !DEMO_CARDS.iter().any(|(n, _)| *n == card) {
            return Ok(DemoOutcome::UnknownCard);
        }
        let last4 = &card[card.len() - 4..];
        let checkout = self
            .demo_checkout(checkout_id)
            .await?
            .ok_or(Error::NotFound("demo checkout"))?;
        let event_id = format!("demo_evt_{checkout_id}");
        match checkout {
            DemoCheckout::Payment {
                payment_id,
                account,
                amount_minor,
                ..
            } => {
                let intent = format!("demo_pi_{checkout_id}");
                let declined = last4 == "0002";
                let kind = if declined {
                    EventKind::PaymentFailed {
                        intent,
                        payment_id: Some(payment_id),
                        reason: "card_declined".into(),
                    }
                } else {
                    EventKind::PaymentSucceeded {
                        intent,
                        account,
                        amount_minor,
                        payment_id: Some(payment_id),
                        instalment_id: None,
                    }
                };
                self.apply_event(&ProcessorEvent {
                    processor: "demo".into(),
                    event_id,
                    kind,
                })
                .await?;
                Ok(if declined {
                    DemoOutcome::Declined(payment_id)
                } else {
                    DemoOutcome::Paid(payment_id)
                })
            }
            DemoCheckout::Setup { plan_id, .. } => {
                if last4 == "0002" {
                    return Ok(DemoOutcome::UnknownCard);
                }
                self.apply_event(&ProcessorEvent {
                    processor: "demo".into(),
                    event_id,
                    kind: EventKind::SetupCompleted {
                        plan_id,
                        customer: format!("demo_cus_{plan_id}"),
                        method: format!("demo_pm_{last4}"),
                    },
                })
                .await?;
                Ok(DemoOutcome::Saved)
            }
        }
    }
}
