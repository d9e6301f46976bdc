//! A console user's own settings and the agency's reminder settings: two-step sign-in (a
//! right code once, a shared count of tries with the password, turned off only with a
//! code) and cadence changes made in the console (checked, audited in their transaction),
//! for the agency or one creditor, whose accounts then follow its own steps and texts.

use accounts::totp::{code_at, new_setup};
use accounts::users::{Role, SignIn, MAX_FAILURES};
use accounts::Clock;
use chrono::Duration;
use domain::messaging::{Cadence, CadenceStep, MessageKind};
use secrecy::ExposeSecret;

use super::messaging::{at, options};
use super::{agency, good_row, import, one_account, user, Harness, HEADER};

/// Six digits that are not the code of `secret` around `at` (one step either side).
fn not_a_code(secret: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let near: Vec<String> = [-30, 0, 30]
        .map(|s| code_at(secret, at + Duration::seconds(s)).unwrap())
        .to_vec();
    (0..10)
        .map(|d| format!("12345{d}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

pub async fn two_step_sign_in_takes_each_code_once_and_shares_the_lock(h: &Harness) {
    let acc = h.accounts.clone();
    let acme = agency(&acc).await;
    let tia = user(&acc, acme, "tia@acme.test", Role::Agent).await;
    let password = "a long password for tia@acme.test";
    assert!(!acc.two_step_on(&tia).await.unwrap());

    let setup = new_setup(&tia, "Settle Acme").unwrap();
    let url = setup.url.expose_secret();
    assert!(
        url.starts_with("otpauth://totp/") && url.contains("tia%40acme.test"),
        "{url}"
    );
    assert!(!format!("{setup:?}").contains(setup.secret.expose_secret()));
    let secret = setup.secret.expose_secret().to_string();
    let now = || h.clock.now();
    let code = |at| code_at(&secret, at).unwrap();

    // Turning it on takes a right code; a wrong one changes nothing.
    let wrong = if code(now()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert!(!acc
        .enable_two_step(&tia, &setup.secret, wrong)
        .await
        .unwrap());
    assert!(!acc.two_step_on(&tia).await.unwrap());
    assert!(acc
        .enable_two_step(&tia, &setup.secret, &code(now()))
        .await
        .unwrap());
    assert!(acc.two_step_on(&tia).await.unwrap());
    let log = acc.audit_log(acme, None, 10).await.unwrap();
    assert_eq!(log[0].action, "two_step_on");

    // A right password now only leads to the code.
    assert_eq!(
        acc.sign_in("tia@acme.test", password).await.unwrap(),
        SignIn::NeedsCode(tia.id)
    );
    // The code that turned it on was taken; the next step's is right once.
    assert_eq!(
        acc.sign_in_code(tia.id, &code(now())).await.unwrap(),
        SignIn::Wrong
    );
    h.clock.set(now() + Duration::seconds(30));
    let fresh = code(now());
    let (a, b) = tokio::join!(
        acc.sign_in_code(tia.id, &fresh),
        acc.sign_in_code(tia.id, &fresh)
    );
    let oks = [&a, &b]
        .iter()
        .filter(|r| matches!(r.as_ref().unwrap(), SignIn::Ok(_)))
        .count();
    assert_eq!(
        oks, 1,
        "a code sent twice at once signs in once: {a:?} {b:?}"
    );
    // The count of tries starts again at a right code.
    h.clock.set(now() + Duration::seconds(30));
    assert!(matches!(
        acc.sign_in_code(tia.id, &code(now())).await.unwrap(),
        SignIn::Ok(_)
    ));

    // Password and code tries share one count: after a right password, a code from long
    // ago and wrong codes lock sign-in; the right code is refused while locked.
    h.clock.set(now() + Duration::seconds(30));
    assert_eq!(
        acc.sign_in("tia@acme.test", password).await.unwrap(),
        SignIn::NeedsCode(tia.id)
    );
    assert_eq!(
        acc.sign_in_code(tia.id, &code(now() - Duration::minutes(5)))
            .await
            .unwrap(),
        SignIn::Wrong
    );
    for _ in 3..MAX_FAILURES {
        assert_eq!(
            acc.sign_in_code(tia.id, &not_a_code(&secret, now()))
                .await
                .unwrap(),
            SignIn::Wrong
        );
    }
    assert!(matches!(
        acc.sign_in_code(tia.id, &not_a_code(&secret, now()))
            .await
            .unwrap(),
        SignIn::Locked(_)
    ));
    h.clock.set(now() + Duration::seconds(30));
    assert!(matches!(
        acc.sign_in_code(tia.id, &code(now())).await.unwrap(),
        SignIn::Locked(_)
    ));
    h.clock.set(now() + Duration::minutes(16));
    assert_eq!(
        acc.sign_in("tia@acme.test", password).await.unwrap(),
        SignIn::NeedsCode(tia.id)
    );
    assert!(matches!(
        acc.sign_in_code(tia.id, &code(now())).await.unwrap(),
        SignIn::Ok(u) if u == tia
    ));

    // Turning it off takes a code not used before.
    assert!(!acc.disable_two_step(&tia, &code(now())).await.unwrap());
    h.clock.set(now() + Duration::seconds(30));
    assert!(acc.disable_two_step(&tia, &code(now())).await.unwrap());
    assert!(!acc.two_step_on(&tia).await.unwrap());
    assert!(matches!(
        acc.sign_in("tia@acme.test", password).await.unwrap(),
        SignIn::Ok(_)
    ));
    let log = acc.audit_log(acme, None, 10).await.unwrap();
    assert_eq!(log[0].action, "two_step_off");

    // The command line's reset, for a lost phone.
    let setup = new_setup(&tia, "Settle Acme").unwrap();
    let secret = setup.secret.expose_secret().to_string();
    let code = |at| code_at(&secret, at).unwrap();
    assert!(acc
        .enable_two_step(&tia, &setup.secret, &code(now()))
        .await
        .unwrap());
    // Guessing codes to turn it off (a stolen session) locks the user as guessing
    // passwords does.
    let wrong = not_a_code(&secret, now());
    for _ in 0..MAX_FAILURES {
        assert!(!acc.disable_two_step(&tia, &wrong).await.unwrap());
    }
    h.clock.set(now() + Duration::seconds(30));
    assert!(!acc.disable_two_step(&tia, &code(now())).await.unwrap());
    assert!(acc.two_step_on(&tia).await.unwrap());
    assert!(matches!(
        acc.sign_in("tia@acme.test", password).await.unwrap(),
        SignIn::Locked(_)
    ));
    assert!(acc.reset_two_step("TIA@acme.test").await.unwrap());
    assert!(!acc.reset_two_step("tia@acme.test").await.unwrap());
    let log = acc.audit_log(acme, None, 1).await.unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].detail.as_str()),
        ("two_step_reset", "tia@acme.test, by the command line")
    );
    h.clock.set(now() + Duration::minutes(16));
    assert!(matches!(
        acc.sign_in("tia@acme.test", password).await.unwrap(),
        SignIn::Ok(_)
    ));
}

pub async fn cadence_changes_from_the_console_are_checked_and_audited(h: &Harness) {
    let acc = h.accounts.clone();
    let acme = agency(&acc).await;
    let ada = user(&acc, acme, "ada@acme.test", Role::Admin).await;
    let mut cadence = Cadence {
        steps: vec![
            CadenceStep {
                day: 0,
                kind: MessageKind::ValidationLink,
            },
            CadenceStep {
                day: 5,
                kind: MessageKind::Reminder,
            },
        ],
        repeat_every_days: Some(20),
        ..Cadence::default()
    };
    cadence.templates.insert(
        MessageKind::Reminder,
        [("es".to_string(), "Hola {name}: {link}".to_string())].into(),
    );
    acc.save_cadence(&ada, "", cadence.clone()).await.unwrap();
    assert_eq!(acc.cadence(acme).await.unwrap(), cadence);
    let log = acc.audit_log(acme, None, 10).await.unwrap();
    assert_eq!(log[0].action, "cadence");
    assert!(
        log[0].detail.contains("day 5 reminder") && log[0].detail.contains("reminder/es"),
        "{}",
        log[0].detail
    );

    // Refused: a step that is not a reminder, a text with a variable that does not exist,
    // too long a text. Nothing is stored or audited.
    let mut bad = cadence.clone();
    bad.steps.push(CadenceStep {
        day: 9,
        kind: MessageKind::Help,
    });
    let mut unknown = cadence.clone();
    unknown.templates.insert(
        MessageKind::Reminder,
        [("en".to_string(), "You owe {amount}: {link}".to_string())].into(),
    );
    let mut long = cadence.clone();
    long.templates.insert(
        MessageKind::Help,
        [("en".to_string(), format!("{} {{link}}", "x".repeat(600)))].into(),
    );
    for refused in [bad, unknown, long] {
        assert!(matches!(
            acc.save_cadence(&ada, "", refused).await,
            Err(accounts::Error::Invalid(_))
        ));
    }
    assert_eq!(acc.cadence(acme).await.unwrap(), cadence);
    assert_eq!(acc.audit_log(acme, None, 10).await.unwrap().len(), 1);

    // Another agency's admin changes only its own agency's cadence.
    let other = acc.ensure_agency("other", "Other").await.unwrap().id;
    let olga = user(&acc, other, "olga@other.test", Role::Admin).await;
    acc.save_cadence(&olga, "", Cadence::default())
        .await
        .unwrap();
    assert_eq!(acc.cadence(acme).await.unwrap(), cadence);
}

pub async fn a_creditor_with_its_own_cadence_gets_its_own_steps_and_texts(h: &Harness) {
    let acc = h.accounts.clone();
    let acme = agency(&acc).await;
    let ada = user(&acc, acme, "ada@acme.test", Role::Admin).await;
    let acme_account = one_account(&acc, acme, "A-1").await;
    let row = good_row("N-1").replace("Acme Medical", "Northwind Wireless");
    let (report, errors) = import(&acc, acme, format!("{HEADER}\n{row}\n")).await;
    assert_eq!((report.imported, errors.len()), (1, 0), "{errors:?}");
    let northwind = acc
        .account_by_ref(acme, &domain::AccountRef::parse("N-1").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;

    // Northwind's own: a reminder on day 1 (the agency's first reminder is on day 3), its
    // own Spanish validation text and help contact.
    let mut own = Cadence {
        steps: vec![
            CadenceStep {
                day: 0,
                kind: MessageKind::ValidationLink,
            },
            CadenceStep {
                day: 1,
                kind: MessageKind::Reminder,
            },
        ],
        help_contact: "Northwind: 800-555-0100".into(),
        ..Cadence::default()
    };
    own.templates.insert(
        MessageKind::ValidationLink,
        [(
            "es".to_string(),
            "Northwind le escribe, {name}: {link}".to_string(),
        )]
        .into(),
    );
    acc.save_cadence(&ada, "Northwind Wireless", own.clone())
        .await
        .unwrap();
    assert_eq!(
        acc.cadence_for(acme, "Northwind Wireless").await.unwrap(),
        own
    );
    assert_eq!(
        acc.cadence_for(acme, "Acme Medical").await.unwrap(),
        Cadence::default()
    );
    let log = acc.audit_log(acme, None, 1).await.unwrap();
    assert!(log[0].detail.starts_with("creditor Northwind Wireless: "));

    h.clock.set(at(15));
    assert_eq!(acc.run_schedule(&options()).await.unwrap().queued, 2);
    let first = |out: Vec<accounts::messaging::OutboxMessage>| out[0].body.clone();
    assert!(first(acc.account_outbox(northwind).await.unwrap())
        .starts_with("Northwind le escribe, Ana: https://pay.test/l/"));
    assert!(first(acc.account_outbox(acme_account).await.unwrap())
        .starts_with("Hola Ana, Acme Recovery"));
    h.clock.set(at(15) + chrono::Duration::days(1));
    assert_eq!(acc.run_schedule(&options()).await.unwrap().queued, 1);
    assert_eq!(acc.account_outbox(northwind).await.unwrap().len(), 2);
    assert_eq!(acc.account_outbox(acme_account).await.unwrap().len(), 1);

    // Back to the agency's: Northwind's next step follows the agency's cadence.
    assert!(acc
        .drop_creditor_cadence(&ada, "Northwind Wireless")
        .await
        .unwrap());
    assert!(!acc
        .drop_creditor_cadence(&ada, "Northwind Wireless")
        .await
        .unwrap());
    assert_eq!(
        acc.cadence_for(acme, "Northwind Wireless").await.unwrap(),
        Cadence::default()
    );
    assert!(acc.creditor_cadences(acme).await.unwrap().is_empty());
}
