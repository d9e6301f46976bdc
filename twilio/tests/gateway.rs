//! The Twilio gateway against a local fake of Twilio's Messages API.

#[path = "support/fake_twilio.rs"]
mod fake_twilio;

use std::time::{Duration, Instant};

use accounts::messaging::{OutboundSms, SendOutcome, SmsGateway};
use fake_twilio::{FakeTwilio, Step, SID, TOKEN};
use secrecy::SecretString;
use settle_twilio::{ConfigError, TwilioConfig, TwilioGateway};

const FROM: &str = "+15005550006";

fn config(base_url: &str) -> TwilioConfig {
    let mut config = TwilioConfig::new(SID, SecretString::from(TOKEN), FROM);
    config.base_url = base_url.to_string();
    config.retry_backoff = Duration::from_millis(10);
    config.request_timeout = Duration::from_secs(5);
    config
}

fn gateway(fake: &FakeTwilio) -> TwilioGateway {
    TwilioGateway::new(config(&fake.url)).expect("gateway")
}

fn sms() -> OutboundSms {
    OutboundSms {
        outbox_id: 42,
        from: String::new(),
        to: "+15558675310".to_string(),
        body: "Your balance is $120.00 & due soon. Reply STOP to opt out.".to_string(),
        status_callback: Some("https://portal.test/hooks/twilio/status?outbox=42".to_string()),
    }
}

#[tokio::test]
async fn a_send_is_accepted_and_created_once_with_the_right_fields() {
    let fake = FakeTwilio::start().await;
    let gateway = gateway(&fake);
    assert_eq!(gateway.name(), "twilio");

    let outcome = gateway.send(&sms()).await;

    let created = fake.created();
    assert_eq!(created.len(), 1);
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_id: created[0].sid.clone(),
            status: "queued".to_string(),
        }
    );
    let message = &created[0];
    assert!(message.sid.starts_with("SM"));
    assert_eq!(message.to.as_deref(), Some("+15558675310"));
    assert_eq!(message.from.as_deref(), Some(FROM));
    assert_eq!(message.messaging_service_sid, None);
    assert_eq!(message.body, Some(sms().body));
    assert_eq!(message.status_callback, sms().status_callback);
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn the_message_sender_wins_and_a_messaging_service_is_sent_as_such() {
    let fake = FakeTwilio::start().await;
    let gateway = gateway(&fake);
    let service = "MG0123456789abcdef0123456789abcdef";
    let outcome = gateway
        .send(&OutboundSms {
            from: service.to_string(),
            status_callback: None,
            ..sms()
        })
        .await;
    assert!(
        matches!(outcome, SendOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    let created = fake.created();
    assert_eq!(created[0].from, None);
    assert_eq!(created[0].messaging_service_sid.as_deref(), Some(service));
    assert_eq!(created[0].status_callback, None);
}

#[tokio::test]
async fn throttled_then_accepted_creates_one_message_after_retry_after() {
    let fake = FakeTwilio::start().await;
    fake.script(
        Step::TooMany {
            retry_after_secs: 1,
        },
        1,
    );
    let started = Instant::now();

    let outcome = gateway(&fake).send(&sms()).await;

    assert!(
        matches!(outcome, SendOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    assert_eq!(fake.created().len(), 1);
    assert_eq!(fake.requests(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
}

#[tokio::test]
async fn service_unavailable_then_accepted_creates_one_message() {
    let fake = FakeTwilio::start().await;
    fake.script(Step::ServerError(503), 1);

    let outcome = gateway(&fake).send(&sms()).await;

    assert!(
        matches!(outcome, SendOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    assert_eq!(fake.created().len(), 1);
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn an_internal_error_is_not_retried_because_the_message_may_exist() {
    let fake = FakeTwilio::start().await;
    fake.script(Step::ServerError(500), 1);

    let outcome = gateway(&fake).send(&sms()).await;

    assert!(
        matches!(outcome, SendOutcome::Unknown { .. }),
        "{outcome:?}"
    );
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn a_provider_that_stays_down_is_not_accepted_after_three_attempts() {
    let fake = FakeTwilio::start().await;
    fake.script(Step::ServerError(503), 10);

    let outcome = gateway(&fake).send(&sms()).await;

    match outcome {
        SendOutcome::NotAccepted { detail } => assert!(detail.contains("503"), "{detail}"),
        other => panic!("expected NotAccepted, got {other:?}"),
    }
    assert!(fake.created().is_empty());
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn an_invalid_number_is_rejected_without_retry() {
    let fake = FakeTwilio::start().await;
    fake.script(
        Step::Invalid {
            code: 21211,
            message: "The 'To' number +15005550001 is not a valid phone number.",
        },
        1,
    );

    let outcome = gateway(&fake).send(&sms()).await;

    assert_eq!(
        outcome,
        SendOutcome::Rejected {
            code: "21211".to_string(),
            message: "The 'To' number +15005550001 is not a valid phone number.".to_string(),
        }
    );
    assert!(fake.created().is_empty());
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn no_answer_within_the_timeout_is_unknown_and_not_retried() {
    let fake = FakeTwilio::start().await;
    fake.script(Step::Hang, 1);
    let mut config = config(&fake.url);
    config.request_timeout = Duration::from_millis(300);
    let gateway = TwilioGateway::new(config).expect("gateway");

    let outcome = gateway.send(&sms()).await;

    assert!(
        matches!(outcome, SendOutcome::Unknown { .. }),
        "{outcome:?}"
    );
    // The fake did create it: a retry would have sent the text twice.
    assert_eq!(fake.created().len(), 1);
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn wrong_credentials_are_reported_and_nothing_is_sent() {
    let fake = FakeTwilio::start().await;
    let mut config = config(&fake.url);
    config.auth_token = SecretString::from("not-the-token");

    let outcome = TwilioGateway::new(config)
        .expect("gateway")
        .send(&sms())
        .await;

    match outcome {
        SendOutcome::NotAccepted { detail } => {
            assert!(detail.contains("credentials"), "{detail}");
            assert!(detail.contains("20003"), "{detail}");
            assert!(!detail.contains("not-the-token"), "{detail}");
        }
        other => panic!("expected NotAccepted, got {other:?}"),
    }
    assert!(fake.created().is_empty());
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_not_accepted() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);

    let outcome = TwilioGateway::new(config(&url))
        .expect("gateway")
        .send(&sms())
        .await;

    match outcome {
        SendOutcome::NotAccepted { detail } => assert!(detail.contains("not reached"), "{detail}"),
        other => panic!("expected NotAccepted, got {other:?}"),
    }
}

#[test]
fn the_auth_token_is_never_shown() {
    let config = config("https://api.twilio.com");
    let gateway = TwilioGateway::new(config.clone()).expect("gateway");
    for shown in [format!("{config:?}"), format!("{gateway:?}")] {
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}

#[test]
fn bad_configurations_are_refused() {
    let mut bad_sid = config("https://api.twilio.com");
    bad_sid.account_sid = "AC../../x".to_string();
    assert!(matches!(
        TwilioGateway::new(bad_sid),
        Err(ConfigError::AccountSid)
    ));
    for url in ["not a url", "ftp://api.twilio.com"] {
        assert!(matches!(
            TwilioGateway::new(config(url)),
            Err(ConfigError::BaseUrl { .. })
        ));
    }
}
