//! The console's account work: an upload keeps its bad rows for the error report, search
//! finds accounts by reference, phone and name within one agency only, notes and manual
//! adjustments land in the timeline and the ledger once, and every change is audited.

use accounts::console::write_error_report;
use accounts::users::Role;
use accounts::{Error, PostResult};
use domain::ledger::LedgerError;
use domain::{AccountId, Currency, Money};

use super::{agency, good_row, one_account, Harness, HEADER};

fn usd(text: &str) -> Money {
    Money::parse(text, Currency::USD).unwrap()
}

pub async fn the_console_imports_finds_notes_adjusts_and_audits(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let admin = acc
        .create_user(
            agency,
            "ada@acme.test",
            "Ada Admin",
            Role::Admin,
            "a long admin password",
        )
        .await
        .unwrap();
    let garcia = |r: &str| good_row(r).replace(",Ana,Pérez,", ",María,Garcia,");
    let csv = [
        HEADER.to_string(),
        good_row("C-1"),                                             // line 2
        garcia("C-2").replace("(617) 555-0142", "(617) 555-0199"),   // line 3
        good_row("C-3").replace("1000.00", "lots"),                  // line 4: amount
        garcia("C-4"),                                               // line 5
        good_row("C-1"),                                             // line 6: duplicate of line 2
        good_row("C-5").replace(",Ana,Pérez,", ",Rosa,de la Cruz,"), // line 7
    ]
    .join("\n");
    let report = acc
        .import_upload(&admin, "march.csv", csv.into_bytes())
        .await
        .unwrap();
    assert_eq!((report.rows, report.imported, report.rejected), (6, 4, 2));

    // The run keeps its bad rows in line order for the report, and who started it.
    let (run, errors) = acc
        .import_run(agency, report.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.source, "march.csv");
    assert_eq!(run.started_by.as_deref(), Some(&*admin.actor().to_string()));
    assert_eq!((run.rows_read, run.imported, run.rejected), (6, 4, 2));
    assert_eq!(
        errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        vec![4, 6]
    );
    assert!(errors[0].reason.contains("balance_at_itemization"));
    let mut out = Vec::new();
    write_error_report(&mut out, &errors).unwrap();
    let out = String::from_utf8(out).unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("line,account_ref,reason"));
    assert!(lines.next().unwrap().starts_with("4,C-3,"), "{out}");
    assert!(lines.next().unwrap().starts_with("6,C-1,"), "{out}");
    // A cell copied from the file cannot run as a spreadsheet formula.
    assert_eq!(
        accounts::console::inert_cell("=HYPERLINK(1)"),
        "'=HYPERLINK(1)"
    );
    assert_eq!(accounts::console::inert_cell("C-1"), "C-1");
    assert_eq!(
        acc.import_runs(agency, 10).await.unwrap()[0].id,
        report.run_id
    );

    // Another agency sees neither the run nor the accounts.
    let other = acc.ensure_agency("other", "Other Agency").await.unwrap().id;
    assert!(acc
        .import_run(other, report.run_id)
        .await
        .unwrap()
        .is_none());
    assert!(acc.search_accounts(other, "C-1").await.unwrap().is_empty());

    // Search: the reference exactly, any form of the phone, the last name or both names.
    let refs = |hits: Vec<accounts::console::AccountHit>| {
        hits.into_iter().map(|h| h.account_ref).collect::<Vec<_>>()
    };
    assert_eq!(
        refs(acc.search_accounts(agency, " C-1 ").await.unwrap()),
        ["C-1"]
    );
    assert_eq!(
        refs(acc.search_accounts(agency, "617-555-0199").await.unwrap()),
        ["C-2"]
    );
    assert_eq!(
        refs(
            acc.search_accounts(agency, "+1 617 555 0142")
                .await
                .unwrap()
        ),
        ["C-5", "C-4", "C-1"], // by last name: de la Cruz, Garcia, Pérez
    );
    assert_eq!(
        refs(acc.search_accounts(agency, "GARCIA").await.unwrap()),
        ["C-2", "C-4"]
    );
    assert_eq!(
        refs(acc.search_accounts(agency, "maría garcia").await.unwrap()),
        ["C-2", "C-4"]
    );
    assert!(acc
        .search_accounts(agency, "ana garcia")
        .await
        .unwrap()
        .is_empty());
    assert!(acc.search_accounts(agency, "  ").await.unwrap().is_empty());
    for compound in ["de la cruz", "Rosa De La Cruz"] {
        assert_eq!(
            refs(acc.search_accounts(agency, compound).await.unwrap()),
            ["C-5"]
        );
    }
    let c1 = AccountId(acc.search_accounts(agency, "C-1").await.unwrap()[0].id);

    // An account of another agency cannot be opened, noted or adjusted.
    let stranger = acc
        .create_user(
            other,
            "sam@other.test",
            "Sam",
            Role::Admin,
            "a long other password",
        )
        .await
        .unwrap();
    assert!(matches!(
        acc.agency_account(other, c1).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        acc.add_note(&stranger, c1, "hello").await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        acc.adjust_balance(&stranger, c1, usd("-1.00"), "why", "k0")
            .await,
        Err(Error::NotFound(_))
    ));

    // A note needs words; it shows in the timeline with its author.
    assert!(matches!(
        acc.add_note(&admin, c1, "   ").await,
        Err(Error::Invalid(_))
    ));
    acc.add_note(&admin, c1, "Called back: will pay Friday.")
        .await
        .unwrap();
    let timeline = acc.timeline(c1).await.unwrap();
    let note = timeline.iter().find(|e| e.kind == "note").unwrap();
    assert_eq!(note.summary, "Called back: will pay Friday.");
    assert_eq!(note.actor, Some(admin.actor().to_string()));

    // An adjustment posts once per form key, needs a reason and a non-zero amount.
    let before = acc.balance(c1).await.unwrap();
    let first = acc
        .adjust_balance(&admin, c1, usd("-25.00"), "Late fee waived", "k1")
        .await
        .unwrap();
    assert!(matches!(first, PostResult::Posted(_)));
    assert!(matches!(
        acc.adjust_balance(&admin, c1, usd("-25.00"), "Late fee waived", "k1")
            .await
            .unwrap(),
        PostResult::Duplicate(_)
    ));
    assert!(matches!(
        acc.adjust_balance(&admin, c1, usd("0"), "nothing", "k2")
            .await,
        Err(Error::Ledger(LedgerError::WrongSign { .. }))
    ));
    assert!(matches!(
        acc.adjust_balance(&admin, c1, usd("5.00"), "", "k3").await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        acc.balance(c1).await.unwrap().minor(),
        before.minor() - 2500
    );
    let postings = acc.postings(c1).await.unwrap();
    let last = postings.last().unwrap();
    assert_eq!(last.posting.memo(), "Late fee waived");
    assert_eq!(last.posting.actor(), &admin.actor());

    // The audit log holds every change once, newest first, and pages by id.
    let log = acc.audit_log(agency, None, 100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["adjustment", "note", "import"]);
    assert!(log.iter().all(|e| e.user == "Ada Admin <ada@acme.test>"));
    assert_eq!(log[0].account, Some((c1, "C-1".to_string())));
    assert!(
        log[0].detail.contains("Late fee waived"),
        "{}",
        log[0].detail
    );
    assert!(log[2].detail.contains("march.csv"), "{}", log[2].detail);
    let older = acc.audit_log(agency, Some(log[0].id), 1).await.unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].action, "note");
    assert!(acc.audit_log(other, None, 100).await.unwrap().is_empty());
}

pub async fn reports_count_the_range_and_credit_self_service(h: &Harness) {
    use accounts::disputes::{DisputeOrigin, DisputeReason, NewDispute};
    use accounts::payments::{DemoGateway, NewPayment, Purpose};
    use accounts::reports::{write_table, Range};
    use accounts::ConsentChange;
    use chrono::Duration;
    use domain::compliance::Channel;

    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let agent = acc
        .create_user(
            agency,
            "al@acme.test",
            "Al Agent",
            Role::Agent,
            "a long agent password",
        )
        .await
        .unwrap();
    let payer = one_account(&acc, agency, "R-1").await;
    let disputer = one_account(&acc, agency, "R-2").await;
    let helped = one_account(&acc, agency, "R-3").await;
    let today = acc.clock().now().date_naive();

    // R-1 pays 100.00 by itself; R-2 disputes by itself and opts out of texts.
    let demo = DemoGateway::new("http://portal.test");
    let (_, checkout) = acc
        .start_checkout(
            &demo,
            &NewPayment {
                account: payer,
                purpose: Purpose::OneTime,
                amount: usd("100.00"),
                settlement_id: None,
                description: "Acme".into(),
            },
            "http://portal.test",
        )
        .await
        .unwrap();
    acc.demo_complete(&checkout.id, "4242 4242 4242 4242")
        .await
        .unwrap();
    acc.open_dispute(
        disputer,
        NewDispute {
            reason: DisputeReason::NotMyDebt,
            details: String::new(),
            wants_original_creditor: false,
            origin: DisputeOrigin::Portal,
            evidence: Vec::new(),
        },
    )
    .await
    .unwrap();
    acc.change_consent(disputer, Channel::Sms, ConsentChange::OptOut, "sms:STOP")
        .await
        .unwrap();
    // R-3 pays only after an agent worked the account: not self-service.
    acc.add_note(&agent, helped, "Called the debtor.")
        .await
        .unwrap();
    h.clock.set(acc.clock().now() + Duration::hours(1));
    let (_, checkout) = acc
        .start_checkout(
            &demo,
            &NewPayment {
                account: helped,
                purpose: Purpose::OneTime,
                amount: usd("20.00"),
                settlement_id: None,
                description: "Acme".into(),
            },
            "http://portal.test",
        )
        .await
        .unwrap();
    acc.demo_complete(&checkout.id, "4242 4242 4242 4242")
        .await
        .unwrap();

    let range = Range::new(today - Duration::days(6), today).unwrap();
    let report = acc.report(agency, range).await.unwrap();
    assert_eq!(report.collected_by_day.len(), 7);
    assert_eq!(report.collected_by_day.last().unwrap(), &(today, 12_000));
    assert_eq!(
        report.collected_by_day.iter().map(|(_, m)| m).sum::<i64>(),
        12_000
    );
    let one_time = &report.payments_by_kind["one_time"];
    assert_eq!((one_time.count, one_time.minor), (2, 12_000));
    assert_eq!((report.disputes_opened, report.disputes_answered), (1, 0));
    assert_eq!(report.opt_outs.get("sms"), Some(&1));
    assert_eq!(
        (report.resolved_accounts, report.resolved_without_agent),
        (3, 2)
    );
    assert_eq!(report.deflection_percent(), Some(67));

    let tables = report.tables();
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    assert_eq!(names, accounts::reports::TABLES);
    let collected = tables.iter().find(|t| t.name == "collected").unwrap();
    assert_eq!(collected.columns, ["day", "amount"]);
    assert_eq!(
        collected.rows.last().unwrap(),
        &[today.to_string(), "120.00".to_string()]
    );
    let mut out = Vec::new();
    write_table(&mut out, &tables[0]).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "accounts resolved,without agent action,share (%)\n3,2,67\n"
    );

    // A range before any of it is empty; one that ends before it starts is refused; a long
    // one counts money per week.
    let last_year = Range::new(today - Duration::days(400), today - Duration::days(300)).unwrap();
    let empty = acc.report(agency, last_year).await.unwrap();
    assert_eq!(empty.resolved_accounts, 0);
    assert_eq!(empty.deflection_percent(), None);
    assert!(empty.collected_by_day.iter().all(|(_, m)| *m == 0));
    assert_eq!(empty.tables()[1].columns, ["week", "amount"]);
    assert!(matches!(
        Range::new(today, today - Duration::days(1)),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        Range::new(today - Duration::days(400), today),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        Range::new(chrono::NaiveDate::MAX, chrono::NaiveDate::MAX),
        Err(Error::Invalid(_))
    ));
    // Another agency's report holds none of it.
    let other = acc.ensure_agency("other", "Other Agency").await.unwrap().id;
    assert_eq!(acc.report(other, range).await.unwrap().resolved_accounts, 0);
}

pub async fn the_inbox_assigns_answers_through_the_engine_and_closes(h: &Harness) {
    use accounts::messaging::{InboundSms, InboxAnswer, InboxView};
    use accounts::HoldKind;
    use domain::Actor;

    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let agent = acc
        .create_user(
            agency,
            "al@acme.test",
            "Al Agent",
            Role::Agent,
            "a long agent password",
        )
        .await
        .unwrap();
    let account = one_account(&acc, agency, "I-1").await;
    let links = super::messaging::options().links;
    let sms = |from: &str, body: &str, sid: &str| InboundSms {
        provider_id: Some(sid.into()),
        from: from.into(),
        body: body.into(),
    };
    acc.receive_sms(
        &sms(
            "+16175550142",
            "Could we split it, half now and half next month?",
            "SM1",
        ),
        &links,
    )
    .await
    .unwrap();
    acc.receive_sms(&sms("+16175550100", "who is this?", "SM2"), &links)
        .await
        .unwrap();

    // With one agency, a message that matched no account is its own too.
    let open = acc.agency_inbox(agency, InboxView::Open, 50).await.unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0].body, "who is this?");
    assert!(open[0].account.is_none());
    let question = open[1].id;
    assert_eq!(open[1].account.as_ref().unwrap().1, "I-1");
    assert!(matches!(
        acc.answer_inbox(&agent, open[0].id, "Hello", "k0", &links)
            .await,
        Err(Error::Invalid(_))
    ));

    // Assign: only to a user of the agency.
    acc.assign_inbox(&agent, question, Some(agent.id))
        .await
        .unwrap();
    let mine = acc
        .agency_inbox(agency, InboxView::Mine(agent.id), 50)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0].assigned_to,
        Some((agent.id, "Al Agent".to_string()))
    );

    // An answer goes through the engine: allowed now, queued once per form, with the
    // content the law requires.
    let answer = "Yes: you can set up a plan in the portal.";
    let queued = acc
        .answer_inbox(&agent, question, answer, "k1", &links)
        .await
        .unwrap();
    let InboxAnswer::Queued(outbox) = queued else {
        panic!("{queued:?}");
    };
    assert_eq!(
        acc.answer_inbox(&agent, question, answer, "k1", &links)
            .await
            .unwrap(),
        InboxAnswer::Repeat
    );
    let sent = acc.account_outbox(account).await.unwrap();
    let row = sent.iter().find(|m| m.id == outbox).unwrap();
    assert_eq!(row.kind, "agent_reply");
    assert_eq!(row.recipient, "+16175550142");
    assert!(row.body.starts_with(answer), "{}", row.body);
    assert!(
        row.body.len() > answer.len(),
        "required content added: {}",
        row.body
    );
    let item = acc.inbox_item(agency, question).await.unwrap().unwrap();
    assert_eq!(item.answered.unwrap().0, agent.actor().to_string());

    // The agent's own words are judged as collection: an open dispute holds them.
    acc.open_dispute(
        account,
        accounts::disputes::NewDispute {
            reason: accounts::disputes::DisputeReason::AmountWrong,
            details: "I paid part of it".into(),
            wants_original_creditor: false,
            origin: accounts::disputes::DisputeOrigin::Sms,
            evidence: Vec::new(),
        },
    )
    .await
    .unwrap();
    let held = acc
        .answer_inbox(&agent, question, "Please pay now", "k-d", &links)
        .await
        .unwrap();
    assert!(
        matches!(&held, InboxAnswer::Refused { reasons, .. } if reasons.iter().any(|r| r.contains("dispute"))),
        "{held:?}"
    );

    // A cease hold: the engine refuses, says why, logs it, and nothing is queued.
    acc.set_hold(
        account,
        HoldKind::Cease,
        "asked in writing",
        None,
        &Actor::AgencyUser(agent.id),
    )
    .await
    .unwrap();
    let refused = acc
        .answer_inbox(&agent, question, "One more thing", "k2", &links)
        .await
        .unwrap();
    let InboxAnswer::Refused { verdict, reasons } = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(verdict, "deny");
    assert!(!reasons.is_empty());
    let replies = |all: Vec<accounts::messaging::OutboxMessage>| {
        all.iter().filter(|m| m.kind == "agent_reply").count()
    };
    assert_eq!(replies(acc.account_outbox(account).await.unwrap()), 1);

    // Closed: nothing more can be done to it.
    acc.close_inbox(&agent, question).await.unwrap();
    assert!(matches!(
        acc.close_inbox(&agent, question).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        acc.answer_inbox(&agent, question, "late", "k3", &links)
            .await,
        Err(Error::Invalid(_))
    ));
    let closed = acc
        .agency_inbox(agency, InboxView::Closed, 50)
        .await
        .unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(
        closed[0].closed.as_ref().unwrap().0,
        agent.actor().to_string()
    );

    // With a second agency, nobody can tell whose the unmatched message is: nobody sees
    // it; and the other agency sees none of the first one's messages.
    let other = acc.ensure_agency("other", "Other Agency").await.unwrap().id;
    assert!(acc
        .agency_inbox(agency, InboxView::Open, 50)
        .await
        .unwrap()
        .is_empty());
    assert!(acc
        .agency_inbox(other, InboxView::Closed, 50)
        .await
        .unwrap()
        .is_empty());
    assert!(acc.inbox_item(other, question).await.unwrap().is_none());

    let actions: Vec<String> = acc
        .audit_log(agency, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "inbox_close",
            "inbox_answer_refused",
            "inbox_answer_refused",
            "inbox_answer",
            "inbox_assign"
        ]
    );
}

pub async fn rules_per_creditor_are_checked_applied_and_audited(h: &Harness) {
    use domain::compliance::Policy;

    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let admin = acc
        .create_user(
            agency,
            "ada@acme.test",
            "Ada Admin",
            Role::Admin,
            "a long admin password",
        )
        .await
        .unwrap();
    let account = one_account(&acc, agency, "T-1").await;

    // The default first, then the creditors the accounts name; nothing stored yet.
    let listed = acc.creditor_terms(agency).await.unwrap();
    assert_eq!(
        listed,
        vec![(String::new(), None), ("Acme Medical".to_string(), None)]
    );

    // Terms a debtor could not use are refused with every problem, and nothing is stored.
    let mut bad = super::payments::terms();
    bad.settlement.as_mut().unwrap().min_share_bp = 12_000;
    bad.plan.as_mut().unwrap().frequencies.clear();
    let Err(Error::Invalid(why)) = acc.set_creditor_terms(&admin, "Acme Medical", &bad).await
    else {
        panic!("accepted unusable terms");
    };
    assert!(
        why.contains("between 1% and 100%") && why.contains("frequency"),
        "{why}"
    );
    assert_eq!(acc.creditor_terms(agency).await.unwrap()[1].1, None);

    // Good terms for the creditor apply to its accounts.
    let good = super::payments::terms();
    acc.set_creditor_terms(&admin, " Acme Medical ", &good)
        .await
        .unwrap();
    assert_eq!(acc.payment_terms(account).await.unwrap(), good);
    assert_eq!(acc.creditor_terms(agency).await.unwrap()[1].1, Some(good));

    // The policy only gets stricter than the law.
    let looser = Policy {
        texts_per_7_days: 10,
        ..Policy::default()
    };
    assert!(matches!(
        acc.set_policy(&admin, looser).await,
        Err(Error::Invalid(_))
    ));
    let stricter = Policy {
        texts_per_7_days: 2,
        ..Policy::default()
    };
    assert_eq!(acc.set_policy(&admin, stricter).await.unwrap(), stricter);
    assert_eq!(acc.agency_policy(agency).await.unwrap(), stricter);

    let log = acc.audit_log(agency, None, 10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["contact_policy", "payment_terms"]);
    assert!(
        log[1].detail.starts_with("Acme Medical: {"),
        "{}",
        log[1].detail
    );
    assert_eq!(
        acc.agency_currency(agency).await.unwrap(),
        domain::Currency::USD
    );
}
