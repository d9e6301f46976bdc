//! Disputes and holds: a dispute holds reminders and plan charges until its answer is
//! delivered; duplicates are linked; answers correct or close the debt; a cease hold lets
//! only the confirmation through; nobody reads another account's dispute.

use accounts::disputes::{
    AnswerInput, AnswerKind, Delivery, DisputeOrigin, DisputeReason, NewDispute, UploadedFile,
};
use accounts::payments::{DemoGateway, DemoOutcome};
use accounts::{Error, HoldKind};
use chrono::Duration;
use domain::compliance::{Channel, Purpose};
use domain::payment::Frequency;
use domain::Actor;

use super::messaging::options;
use super::payments::terms;
use super::{agency, one_account, usd, Harness};

const URL: &str = "http://portal.test";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";

fn png() -> UploadedFile {
    UploadedFile::parse("receipt.png", PNG.to_vec()).unwrap()
}

fn pdf() -> UploadedFile {
    UploadedFile::parse("statement.pdf", PDF.to_vec()).unwrap()
}

fn portal(reason: DisputeReason, details: &str, evidence: Vec<UploadedFile>) -> NewDispute {
    NewDispute {
        reason,
        details: details.into(),
        wants_original_creditor: false,
        origin: DisputeOrigin::Portal,
        evidence,
    }
}

fn answer(kind: AnswerKind, documents: Vec<UploadedFile>) -> AnswerInput {
    AnswerInput {
        kind,
        message: "Please find the signed contract attached.".into(),
        documents,
        correction: None,
        original_creditor: None,
    }
}

pub async fn a_dispute_holds_reminders_and_charges_until_its_answer_is_delivered(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    acc.set_payment_terms(agency, "", &terms()).await.unwrap();
    let id = one_account(&acc, agency, "DSP-1").await;
    let agent = Actor::AgencyUser(3);
    let demo = DemoGateway::new(URL);

    // An active plan with its first instalment due today, and the validation notice read.
    let today = acc.clock().now().date_naive();
    let schedule = terms()
        .schedule(usd(91_250), Frequency::Monthly, 3, today, today)
        .unwrap();
    let (_, setup) = acc
        .create_plan(&demo, id, Frequency::Monthly, &schedule, "I authorize", URL)
        .await
        .unwrap();
    assert_eq!(
        acc.demo_complete(&setup.id, "4242424242424242")
            .await
            .unwrap(),
        DemoOutcome::Saved
    );
    let notice = acc
        .record_notice_delivery(id, domain::Language::En, "I agree")
        .await
        .unwrap();

    let dispute = acc
        .open_dispute(
            id,
            portal(
                DisputeReason::NotMyDebt,
                "Never had this card.",
                vec![png()],
            ),
        )
        .await
        .unwrap();
    let d = acc.dispute(id, dispute).await.unwrap();
    assert!(d.written && d.within_validation && d.holds_collection());
    assert_eq!(d.validation_end, Some(notice.validation_end));
    assert_eq!(d.due_on, today + Duration::days(30));
    assert_eq!(d.files.len(), 1);
    assert_eq!(
        (d.files[0].role.as_str(), d.files[0].content_type.as_str()),
        ("evidence", "image/png")
    );
    assert_eq!(acc.dispute_queue(agency).await.unwrap().len(), 1);

    // Held: no charge on the plan and no "instalment due" notice for it; a reminder to
    // another disputed account (no plan, so its cadence runs) is denied with the dispute's
    // citation.
    let loose = one_account(&acc, agency, "DSP-1B").await;
    acc.open_dispute(
        loose,
        NewDispute::from_message(DisputeReason::NotMyDebt, "not mine", DisputeOrigin::Sms),
    )
    .await
    .unwrap();
    assert!(!acc.dispute_queue(agency).await.unwrap()[1].dispute.written);
    h.clock.set(acc.clock().now() + Duration::hours(1));
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!((report.queued, report.denied), (0, 2), "{report:?}");
    let log = acc.decision_log(loose, 1).await.unwrap();
    assert_eq!(log[0].reasons, vec!["dispute_open"]);
    assert_eq!(log[0].citations, vec!["12 CFR 1006.38(d)(2)"]);
    assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (0, 0));

    // A verification needs a document; answered, the hold stays until delivery, and the
    // notice that the answer is waiting goes out (it is not collection).
    assert!(matches!(
        acc.answer_dispute(
            agency,
            dispute,
            answer(AnswerKind::Verified, vec![]),
            &agent
        )
        .await,
        Err(Error::Invalid(_))
    ));
    acc.answer_dispute(
        agency,
        dispute,
        answer(AnswerKind::Verified, vec![pdf()]),
        &agent,
    )
    .await
    .unwrap();
    assert!(matches!(
        acc.answer_dispute(
            agency,
            dispute,
            answer(AnswerKind::Verified, vec![pdf()]),
            &agent
        )
        .await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(acc.open_disputes(id).await.unwrap(), 1);
    assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (0, 0));
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!(report.queued, 1, "{report:?}");
    let sent = acc.account_outbox(id).await.unwrap();
    assert_eq!(sent.last().unwrap().kind, "dispute_answered");
    // The account speaks Spanish.
    assert!(sent.last().unwrap().body.contains("respondió a su disputa"));

    // Delivered in the portal: the hold lifts, once.
    let consent = Delivery::Portal { consent: "I agree" };
    assert!(acc
        .deliver_dispute_answer(id, dispute, consent)
        .await
        .unwrap());
    assert!(!acc
        .deliver_dispute_answer(id, dispute, consent)
        .await
        .unwrap());
    let d = acc.dispute(id, dispute).await.unwrap();
    assert!(!d.holds_collection());
    assert_eq!(d.answer.unwrap().kind, AnswerKind::Verified);
    assert_eq!(d.files.len(), 2);
    assert_eq!(acc.open_disputes(id).await.unwrap(), 0);
    assert_eq!(acc.dispute_queue(agency).await.unwrap().len(), 1);
    assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (1, 0));
    // Every step is on the account's timeline, in order.
    let steps: Vec<&str> = acc
        .timeline(id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .filter(|k| k.starts_with("dispute"))
        .collect();
    assert_eq!(
        steps,
        [
            "dispute",
            "dispute_file",
            "dispute_answer",
            "dispute_file",
            "dispute_delivery"
        ]
    );
    let reminder = acc
        .decide_contact(id, Channel::Sms, Purpose::Reminder)
        .await
        .unwrap();
    assert!(!reminder.reasons.contains(&"dispute_open".to_string()));
}

pub async fn duplicates_corrections_closures_and_cease(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let agent = Actor::AgencyUser(3);
    let id = one_account(&acc, agency, "DSP-2").await;

    // A dispute repeats an earlier one only when that one was written, within the
    // validation period and answered (delivered); then same reason, no new words, no files.
    acc.record_notice_delivery(id, domain::Language::En, "I agree")
        .await
        .unwrap();
    let first = acc
        .open_dispute(
            id,
            portal(DisputeReason::AmountWrong, "Paid $100 in May.", vec![]),
        )
        .await
        .unwrap();
    assert!(acc.dispute(id, first).await.unwrap().within_validation);
    let early = acc
        .open_dispute(id, portal(DisputeReason::AmountWrong, "", vec![]))
        .await
        .unwrap();
    assert_eq!(acc.dispute(id, early).await.unwrap().duplicate_of, None);

    // "Debt corrected" posts the adjustment; it must lower the debt.
    let before = acc.balance(id).await.unwrap().minor();
    let mut corrected = answer(AnswerKind::Corrected, vec![]);
    assert!(matches!(
        acc.answer_dispute(agency, first, corrected.clone(), &agent)
            .await,
        Err(Error::Invalid(_))
    ));
    corrected.correction = Some(usd(10_000));
    assert!(matches!(
        acc.answer_dispute(agency, first, corrected.clone(), &agent)
            .await,
        Err(Error::Invalid(_))
    ));
    corrected.correction = Some(usd(-10_000));
    acc.answer_dispute(agency, first, corrected, &agent)
        .await
        .unwrap();
    assert_eq!(acc.balance(id).await.unwrap().minor(), before - 10_000);
    assert!(acc
        .deliver_dispute_answer(id, first, Delivery::Portal { consent: "I agree" })
        .await
        .unwrap());

    let again = acc
        .open_dispute(id, portal(DisputeReason::AmountWrong, "", vec![]))
        .await
        .unwrap();
    let fresh = acc
        .open_dispute(
            id,
            NewDispute {
                wants_original_creditor: true,
                ..portal(DisputeReason::AmountWrong, "Also paid in June.", vec![])
            },
        )
        .await
        .unwrap();
    assert_eq!(
        acc.dispute(id, again).await.unwrap().duplicate_of,
        Some(first)
    );
    assert_eq!(acc.dispute(id, fresh).await.unwrap().duplicate_of, None);
    assert!(matches!(
        acc.open_dispute(id, portal(DisputeReason::Other, " ", vec![]))
            .await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        acc.answer_dispute(agency, early, answer(AnswerKind::Duplicate, vec![]), &agent)
            .await,
        Err(Error::Invalid(_))
    ));
    acc.answer_dispute(agency, again, answer(AnswerKind::Duplicate, vec![]), &agent)
        .await
        .unwrap();
    // New evidence is new information: no longer a duplicate.
    acc.add_evidence(id, early, &png()).await.unwrap();
    assert_eq!(acc.dispute(id, early).await.unwrap().duplicate_of, None);
    // The original creditor was asked for: a verification must name it (1006.38(c)).
    let mut verified = answer(AnswerKind::Verified, vec![pdf()]);
    assert!(matches!(
        acc.answer_dispute(agency, fresh, verified.clone(), &agent)
            .await,
        Err(Error::Invalid(_))
    ));
    verified.original_creditor = Some("First Bank, 1 Main St, Wilmington DE".into());
    acc.answer_dispute(agency, fresh, verified, &agent)
        .await
        .unwrap();
    assert_eq!(
        acc.dispute(id, fresh)
            .await
            .unwrap()
            .answer
            .unwrap()
            .original_creditor
            .as_deref(),
        Some("First Bank, 1 Main St, Wilmington DE")
    );

    // "Account closed" writes the rest off; mailed by the agency, it is delivered and the
    // dispute is closed.
    acc.answer_dispute(agency, early, answer(AnswerKind::Closed, vec![]), &agent)
        .await
        .unwrap();
    assert_eq!(acc.balance(id).await.unwrap().minor(), 0);
    assert!(acc
        .deliver_dispute_answer(id, early, Delivery::Mail)
        .await
        .unwrap());
    let closed = acc.dispute(id, early).await.unwrap();
    assert_eq!(closed.delivered.unwrap().1, "mail");
    // No more files after an answer, and at most five before.
    assert!(matches!(
        acc.add_evidence(id, early, &png()).await,
        Err(Error::Invalid(_))
    ));

    // A cease hold: only the confirmation goes, not even the dispute answer's notice.
    let quiet = one_account(&acc, agency, "DSP-3").await;
    acc.set_hold(quiet, HoldKind::Cease, "letter of 2026-11-20", None, &agent)
        .await
        .unwrap();
    for (purpose, allowed) in [
        (Purpose::Reminder, false),
        (Purpose::DisputeResponse, false),
        (Purpose::Receipt, false),
        (Purpose::CeaseConfirmation, true),
    ] {
        let d = acc
            .decide_contact(quiet, Channel::Sms, purpose)
            .await
            .unwrap();
        assert_eq!(d.decision == "allow", allowed, "{purpose}: {d:?}");
    }
    // Holds keep who and why; lifting needs a reason.
    acc.set_hold(
        quiet,
        HoldKind::Attorney,
        "counsel wrote",
        Some("J. Roe, (617) 555-0100"),
        &agent,
    )
    .await
    .unwrap();
    assert!(acc
        .clear_hold(quiet, HoldKind::Cease, "", &agent)
        .await
        .is_err());
    acc.clear_hold(quiet, HoldKind::Cease, "sent in error", &agent)
        .await
        .unwrap();
    let holds = acc.holds(quiet).await.unwrap();
    assert_eq!(holds.len(), 2);
    let attorney = holds.iter().find(|h| h.kind == HoldKind::Attorney).unwrap();
    assert_eq!(attorney.contact.as_deref(), Some("J. Roe, (617) 555-0100"));
    assert_eq!(attorney.set_by, "user:3");
    let cease = holds.iter().find(|h| h.kind == HoldKind::Cease).unwrap();
    assert_eq!(cease.cleared.as_ref().unwrap().2, "sent in error");
}

pub async fn nobody_reads_another_accounts_dispute(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let other_agency = acc
        .ensure_agency("other", "Other Recovery")
        .await
        .unwrap()
        .id;
    let mine = one_account(&acc, agency, "DSP-4").await;
    let theirs = one_account(&acc, agency, "DSP-5").await;
    let dispute = acc
        .open_dispute(mine, portal(DisputeReason::NotMyDebt, "", vec![png()]))
        .await
        .unwrap();
    let file = acc.dispute(mine, dispute).await.unwrap().files[0].id;
    let (_, bytes) = acc.dispute_file(mine, dispute, file).await.unwrap();
    assert_eq!(bytes, PNG);
    assert!(matches!(
        acc.dispute(theirs, dispute).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        acc.dispute_file(theirs, dispute, file).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        acc.add_evidence(theirs, dispute, &png()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        acc.deliver_dispute_answer(theirs, dispute, Delivery::Mail)
            .await,
        Ok(false)
    ));
    assert!(matches!(
        acc.answer_dispute(
            other_agency,
            dispute,
            answer(AnswerKind::Verified, vec![pdf()]),
            &Actor::AgencyUser(9)
        )
        .await,
        Err(Error::NotFound(_))
    ));
    assert!(acc.dispute_queue(other_agency).await.unwrap().is_empty());
}

pub async fn agency_users_sign_in_lock_and_never_leak_a_hash(h: &Harness) {
    use accounts::users::{Role, SignIn};
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let password = "a long agent password";
    let ann = acc
        .create_user(agency, "Ann@Acme.test", "Ann Agent", Role::Agent, password)
        .await
        .unwrap();
    assert_eq!(ann.email, "ann@acme.test");
    assert!(matches!(
        acc.create_user(agency, "ann@acme.test", "Ann Again", Role::Admin, password)
            .await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        acc.create_user(agency, "bob@acme.test", "Bob", Role::Agent, "short")
            .await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        acc.sign_in(" ANN@acme.test ", password).await.unwrap(),
        SignIn::Ok(ann.clone())
    );
    assert_eq!(
        acc.sign_in("nobody@acme.test", password).await.unwrap(),
        SignIn::Wrong
    );
    // Five wrong passwords lock sign-in, even for the right one, for 15 minutes.
    for _ in 0..4 {
        assert_eq!(
            acc.sign_in("ann@acme.test", "wrong").await.unwrap(),
            SignIn::Wrong
        );
    }
    assert!(matches!(
        acc.sign_in("ann@acme.test", "wrong").await.unwrap(),
        SignIn::Locked(_)
    ));
    assert!(matches!(
        acc.sign_in("ann@acme.test", password).await.unwrap(),
        SignIn::Locked(_)
    ));
    h.clock.set(acc.clock().now() + Duration::minutes(16));
    assert_eq!(
        acc.sign_in("ann@acme.test", password).await.unwrap(),
        SignIn::Ok(ann.clone())
    );
    assert_eq!(acc.agency_user(ann.id).await.unwrap(), Some(ann.clone()));
    assert_eq!(ann.actor().to_string(), format!("user:{}", ann.id));
    // Guesses sent at once share no count: eight in parallel lock the user all the same.
    let cat = acc
        .create_user(agency, "cat@acme.test", "Cat", Role::Agent, password)
        .await
        .unwrap();
    let guesses: Vec<_> = (0..8)
        .map(|_| {
            let acc = acc.clone();
            tokio::spawn(async move { acc.sign_in("cat@acme.test", "wrong").await.unwrap() })
        })
        .collect();
    for g in guesses {
        assert_ne!(g.await.unwrap(), SignIn::Ok(cat.clone()));
    }
    assert!(matches!(
        acc.sign_in("cat@acme.test", password).await.unwrap(),
        SignIn::Locked(_)
    ));
    // The stored hash is Argon2id, never the password.
    let stored = format!("{:?}", acc.agency_user(ann.id).await.unwrap());
    assert!(!stored.contains(password) && !stored.contains("argon2"));
}
