//! The agency API's storage: keys are shown once, kept hashed, scoped and revocable; API
//! placements are checked as file rows; payments, disputes and opt-outs become events in
//! their own transaction and fan out to the endpoints that want them, retried with
//! backoff until a 2xx.

use accounts::api::{EventKind, Scope, MAX_ATTEMPTS};
use accounts::ConsentChange;
use chrono::Duration;
use domain::compliance::Channel;
use domain::PostingKind;
use secrecy::ExposeSecret;

use super::{agency, one_account, posting, Harness};

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn placement(reference: &str) -> Vec<(String, String)> {
    fields(&[
        ("account_ref", reference),
        ("creditor", "Acme Medical"),
        ("first_name", "Ana"),
        ("last_name", "Pérez"),
        ("date_of_birth", "1984-02-29"),
        ("address_line1", "1 Main St"),
        ("city", "Boston"),
        ("state", "MA"),
        ("postal_code", "02134"),
        ("itemization_date", "2026-01-31"),
        ("balance_at_itemization", "1000.00"),
        ("interest_since", "12.50"),
        ("fees_since", "0"),
        ("payments_since", "100.00"),
        ("credits_since", "0"),
        ("current_balance", "912.50"),
    ])
}

pub async fn api_keys_are_hashed_scoped_and_revocable(h: &Harness) {
    let acc = h.accounts.clone();
    let acme = agency(&acc).await;
    let other = acc.ensure_agency("other", "Other").await.unwrap().id;
    let (key, secret) = acc
        .create_api_key(
            acme,
            "billing",
            &[Scope::AccountsRead, Scope::AccountsRead],
            None,
        )
        .await
        .unwrap();
    assert_eq!(key.scopes, vec![Scope::AccountsRead]);
    let secret = secret.expose_secret().to_string();
    assert!(secret.starts_with("stl_") && secret.len() == 36, "{secret}");
    assert!(secret.starts_with(&key.prefix));

    let found = acc.authenticate_api_key(&secret).await.unwrap().unwrap();
    assert_eq!((found.id, found.agency), (key.id, acme));
    assert!(found.allows(Scope::AccountsRead) && !found.allows(Scope::AccountsWrite));
    assert!(found.last_used_at.is_some());

    // Only a hash is kept: nothing stored contains the key.
    let listed = acc.api_keys(acme).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!format!("{listed:?}").contains(&secret));

    // A made-up key, a key one character off, and nothing at all open nothing.
    let mut forged = secret.clone();
    forged.pop();
    forged.push(if secret.ends_with('a') { 'b' } else { 'a' });
    for wrong in [forged.as_str(), "stl_", "", "Bearer", &secret[4..]] {
        assert!(
            acc.authenticate_api_key(wrong).await.unwrap().is_none(),
            "{wrong}"
        );
    }

    // Keys need a name and a scope.
    assert!(acc
        .create_api_key(acme, " ", &[Scope::Webhooks], None)
        .await
        .is_err());
    assert!(acc.create_api_key(acme, "x", &[], None).await.is_err());

    // Another agency cannot revoke it; its own agency can, at once and once.
    assert!(!acc.revoke_api_key(other, key.id, None).await.unwrap());
    assert!(acc.authenticate_api_key(&secret).await.unwrap().is_some());
    assert!(acc.revoke_api_key(acme, key.id, None).await.unwrap());
    assert!(!acc.revoke_api_key(acme, key.id, None).await.unwrap());
    assert!(acc.authenticate_api_key(&secret).await.unwrap().is_none());
    assert!(acc.api_keys(acme).await.unwrap()[0].revoked_at.is_some());

    // Made and revoked in the console: each step in the audit log, with who.
    let admin = acc
        .create_user(
            acme,
            "ada@acme.test",
            "Ada Admin",
            accounts::users::Role::Admin,
            "a long admin password",
        )
        .await
        .unwrap();
    let (console_key, _) = acc
        .create_api_key(acme, "crm", &[Scope::Webhooks], Some(&admin))
        .await
        .unwrap();
    assert_eq!(console_key.created_by, format!("user:{}", admin.id));
    assert!(acc
        .create_api_key(other, "x", &[Scope::Webhooks], Some(&admin))
        .await
        .is_err());
    assert!(!acc
        .revoke_api_key(other, console_key.id, Some(&admin))
        .await
        .unwrap());
    assert!(acc
        .revoke_api_key(acme, console_key.id, Some(&admin))
        .await
        .unwrap());
    let log = acc.audit_log(acme, None, 10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["api_key_revoked", "api_key_created"]);
    assert!(log[1].detail.contains("crm") && log[1].user.contains("Ada Admin"));
}

pub async fn api_placements_are_checked_like_file_rows(h: &Harness) {
    let acc = h.accounts.clone();
    let acme = agency(&acc).await;
    let mut missing = placement("API-2");
    missing.retain(|(k, _)| k != "current_balance");
    let mut typo = placement("API-3");
    typo.push(("phone_number".into(), "617 555 0100".into()));
    let (report, errors) = acc
        .place_accounts(
            acme,
            "api:test",
            vec![placement("API-1"), missing, typo, placement("API-1")],
        )
        .await
        .unwrap();
    assert_eq!((report.rows, report.imported, report.rejected), (4, 2, 2));
    assert_eq!(report.ignored_columns, vec!["phone_number".to_string()]);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 5], "{errors:?}");
    assert!(errors[0].reason.contains("current_balance"), "{errors:?}");

    // Sent again, nothing changes.
    let (again, _) = acc
        .place_accounts(acme, "api:test", vec![placement("API-1")])
        .await
        .unwrap();
    assert_eq!((again.imported, again.unchanged), (0, 1));
    let page = acc.account_ids(acme, 0, 10).await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(
        acc.account_ids(acme, page[0].0, 10).await.unwrap(),
        vec![page[1]]
    );
}

pub async fn events_fan_out_to_webhooks_and_retry_until_delivered(h: &Harness) {
    let acc = h.accounts.clone();
    let acme = agency(&acc).await;
    let other = acc.ensure_agency("other", "Other").await.unwrap().id;
    let id = one_account(&acc, acme, "WH-1").await;
    assert!(acc
        .add_webhook(acme, "ftp://x.test/", &[EventKind::OptedOut])
        .await
        .is_err());
    assert!(acc.add_webhook(acme, "https://x.test/", &[]).await.is_err());
    let (hook, secret) = acc
        .add_webhook(
            acme,
            "https://agency.test/hooks",
            &[EventKind::PaymentReceived, EventKind::OptedOut],
        )
        .await
        .unwrap();
    assert!(secret.expose_secret().starts_with("whsec_"));
    let (elsewhere, _) = acc
        .add_webhook(other, "https://other.test/", &EventKind::ALL)
        .await
        .unwrap();

    // A payment and an opt-out are wanted; a dispute and an opt-in are not.
    acc.post(id, &posting(PostingKind::Payment, -2_500, "stripe:pi_1"))
        .await
        .unwrap();
    acc.open_dispute(
        id,
        accounts::disputes::NewDispute::from_message(
            accounts::disputes::DisputeReason::NotMyDebt,
            "not mine",
            accounts::disputes::DisputeOrigin::Sms,
        ),
    )
    .await
    .unwrap();
    acc.change_consent(id, Channel::Sms, ConsentChange::OptOut, "sms:STOP")
        .await
        .unwrap();
    acc.change_consent(id, Channel::Sms, ConsentChange::OptOut, "sms:STOP")
        .await
        .unwrap();
    acc.change_consent(id, Channel::Sms, ConsentChange::Consent, "sms:START")
        .await
        .unwrap();

    let due = acc
        .claim_webhook_deliveries(10, Duration::seconds(60))
        .await
        .unwrap();
    let kinds: Vec<&str> = due.iter().map(|d| d.event.kind.as_str()).collect();
    assert_eq!(kinds, vec!["payment.received", "consent.opted_out"]);
    let pay = &due[0];
    assert_eq!(pay.attempt, 1);
    assert_eq!(pay.url, "https://agency.test/hooks");
    assert_eq!(pay.secret.expose_secret(), secret.expose_secret());
    assert_eq!(pay.event.account_ref, "WH-1");
    assert_eq!(
        (pay.event.amount, pay.event.currency.as_str()),
        (Some(2_500), "USD")
    );
    assert_eq!(due[1].event.detail, "sms");
    assert!(acc
        .webhook_deliveries(other, elsewhere.id, 10)
        .await
        .unwrap()
        .is_empty());

    // Claimed deliveries are not handed out again while leased.
    assert!(acc
        .claim_webhook_deliveries(10, Duration::seconds(60))
        .await
        .unwrap()
        .is_empty());
    acc.finish_webhook_attempt(pay.id, 1, Some(200), None)
        .await
        .unwrap();
    acc.finish_webhook_attempt(due[1].id, 1, Some(503), Some("answered 503"))
        .await
        .unwrap();

    // The failed one comes back after its backoff, as attempt 2; the delivered one never.
    h.clock.set(acc.clock().now() + Duration::seconds(59));
    assert!(acc
        .claim_webhook_deliveries(10, Duration::seconds(60))
        .await
        .unwrap()
        .is_empty());
    h.clock.set(acc.clock().now() + Duration::seconds(2));
    let retry = acc
        .claim_webhook_deliveries(10, Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!((retry[0].id, retry[0].attempt), (due[1].id, 2));

    // A late answer to attempt 1 (its lease ran out, attempt 2 is under way) is not
    // recorded: it cannot mark the delivery done under the newer attempt.
    acc.finish_webhook_attempt(retry[0].id, 1, Some(200), None)
        .await
        .unwrap();
    assert!(acc.webhook_deliveries(acme, hook.id, 10).await.unwrap()[0]
        .delivered_at
        .is_none());

    // After the last attempt it is given up.
    let mut attempt = retry[0].attempt;
    loop {
        acc.finish_webhook_attempt(retry[0].id, attempt, None, Some("timed out"))
            .await
            .unwrap();
        if attempt == MAX_ATTEMPTS {
            break;
        }
        h.clock.set(acc.clock().now() + Duration::hours(7));
        let again = acc
            .claim_webhook_deliveries(10, Duration::seconds(60))
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        attempt = again[0].attempt;
    }
    h.clock.set(acc.clock().now() + Duration::days(1));
    assert!(acc
        .claim_webhook_deliveries(10, Duration::seconds(60))
        .await
        .unwrap()
        .is_empty());
    let states = acc.webhook_deliveries(acme, hook.id, 10).await.unwrap();
    assert_eq!(states.len(), 2);
    assert!(states[0].failed_at.is_some() && states[0].delivered_at.is_none());
    assert_eq!(states[0].attempts, MAX_ATTEMPTS);
    assert_eq!(states[1].last_status, Some(200));
    assert!(states[1].delivered_at.is_some());

    // A removed endpoint gets nothing more.
    assert!(acc.remove_webhook(acme, hook.id).await.unwrap());
    assert!(!acc.remove_webhook(other, hook.id).await.unwrap());
    acc.post(id, &posting(PostingKind::Payment, -100, "stripe:pi_2"))
        .await
        .unwrap();
    assert!(acc
        .claim_webhook_deliveries(10, Duration::seconds(60))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        acc.webhook_deliveries(acme, hook.id, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}
