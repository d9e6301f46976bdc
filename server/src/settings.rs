//! Settle's one settings struct: defaults < optional TOML file < `SETTLE_*` environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The database URL embedded installs use: a file next to where Settle runs.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:data/settle.db";

/// A database URL; it may hold a password, so Debug and logs show it redacted.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    /// The URL with its password, for connecting only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<&str> for DatabaseUrl {
    fn from(value: &str) -> Self {
        DatabaseUrl(SecretString::from(value.to_string()))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&accounts::redact_url(self.expose()))
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything Settle can be configured with. Each field is also `SETTLE_<FIELD>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite:PATH` (embedded default) or `postgres://user:pass@host/db`.
    pub database_url: DatabaseUrl,
    /// Address the web server listens on.
    pub listen: SocketAddr,
    /// Where `settle worker` answers `/metrics`, `/healthz` and `/readyz` (none when unset;
    /// `serve` answers them on `listen`).
    pub metrics_listen: Option<SocketAddr>,
    /// Folder holding the built site (`pkg/` with the WebAssembly, JavaScript and CSS).
    pub site_root: PathBuf,
    /// Seed the demo agency and accounts into an empty database. Unset: only when the
    /// database URL is the embedded default.
    pub demo_data: Option<bool>,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `settle=debug,sqlx=warn`.
    pub log_level: String,
    /// The address debtors reach the portal at; links are built on it, and an `https://`
    /// address makes the session cookie `Secure`.
    pub public_url: String,
    /// Identity checks allowed per client address per minute (bursts up to 3 times that).
    pub verify_per_minute: u32,
    /// Stripe secret key (`sk_...`). Unset: the demo processor takes test cards offline.
    pub stripe_secret_key: Option<SecretString>,
    /// Stripe webhook signing secret (`whsec_...`), for `POST /webhooks/stripe`.
    pub stripe_webhook_secret: Option<SecretString>,
    /// Stripe's API address (tests point it at a local fake).
    pub stripe_api_url: String,
    /// Seconds between passes of the worker that charges due plan instalments.
    pub worker_interval_secs: u64,
    /// Seconds between webhook sending passes; 0 sends none (a test server fed made-up
    /// endpoint addresses).
    pub webhook_interval_secs: u64,
    /// Lets webhook endpoints be loopback or private addresses (tests, or an agency system
    /// on the same private network). Off: only public addresses receive deliveries.
    pub webhook_private_addresses: bool,
    /// Seconds between messaging passes (a scheduling run, then sending the outbox).
    pub messaging_interval_secs: u64,
    /// Accounts decided per transaction in a scheduling run.
    pub run_batch: i64,
    /// Twilio account sid (`AC...`). Unset: the demo transport keeps texts on this machine
    /// and shows them at `/demo/phone`.
    pub twilio_account_sid: Option<String>,
    /// Twilio auth token: authenticates API calls and checks webhook signatures.
    pub twilio_auth_token: Option<SecretString>,
    /// The sending number (E.164) or messaging service sid.
    #[serde(deserialize_with = "number_or_text")]
    pub sms_from: String,
    /// Twilio's API address (tests point it at a local fake).
    pub twilio_api_url: String,
    /// Messages per second from one sender (Twilio long codes: 1); 0 lifts the limit.
    pub sms_per_second: u32,
    /// Seconds after which a message claimed but never recorded as sent is marked for
    /// review (a worker crashed mid-send).
    pub outbox_lease_secs: u64,
    /// Demos and end-to-end tests only: the instant (RFC 3339) the clock starts at; it runs
    /// forward from there.
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// The Telegram bot's token from BotFather. Unset: no bot; Telegram rows (none can be
    /// made without a bound chat) would go to the demo transport.
    pub telegram_bot_token: Option<SecretString>,
    /// The bot's username (`settle_example_bot`), for `t.me` links.
    pub telegram_bot_username: Option<String>,
    /// The Bot API's address (tests point it at a local fake).
    pub telegram_api_url: String,
    /// Set: webhook mode. Telegram must be given the same secret (`setWebhook`
    /// `secret_token`) and `<public_url>/webhooks/telegram` as the address. Unset: long
    /// polling, for one machine.
    pub telegram_webhook_secret: Option<SecretString>,
    /// The reverse proxies in front of the servers (addresses or ranges, `10.0.0.0/8`):
    /// from one of them, the client's address is read from `X-Forwarded-For`, so limits
    /// per client keep working behind the proxy. Empty: the connection's own address.
    #[serde(deserialize_with = "address_ranges")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Whether `serve` also runs the background work (plan charges, the messaging worker,
    /// agency webhook deliveries). Turn it off where `settle worker` processes do that work.
    pub serve_runs_workers: bool,
}

/// Environment values are parsed as TOML, so `+15005550006` arrives as a number: read it
/// back as the E.164 text it was.
fn number_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(t) => t,
        Raw::Number(n) => format!("+{n}"),
    })
}

/// Address ranges as a list or as one comma-separated text (the environment's form); a
/// bare address is a range of one.
fn address_ranges<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        List(Vec<String>),
    }
    let items = match Raw::deserialize(d)? {
        Raw::Text(t) => t.split(',').map(str::to_string).collect(),
        Raw::List(l) => l,
    };
    items
        .iter()
        .map(|i| i.trim())
        .filter(|i| !i.is_empty())
        .map(|i| {
            i.parse::<ipnet::IpNet>()
                .or_else(|_| i.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "`{i}` is not an IP address or range (like 10.0.0.0/8)"
                    ))
                })
        })
        .collect()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DatabaseUrl::from(DEFAULT_DATABASE_URL),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            metrics_listen: None,
            site_root: PathBuf::from("target/site"),
            demo_data: None,
            log_format: LogFormat::Text,
            log_level: "info,sqlx=warn".to_string(),
            public_url: "http://127.0.0.1:3000".to_string(),
            verify_per_minute: 10,
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_api_url: "https://api.stripe.com".to_string(),
            worker_interval_secs: 60,
            webhook_interval_secs: 5,
            webhook_private_addresses: false,
            messaging_interval_secs: 60,
            run_batch: 5000,
            twilio_account_sid: None,
            twilio_auth_token: None,
            sms_from: "+15005550006".to_string(),
            twilio_api_url: "https://api.twilio.com".to_string(),
            sms_per_second: 1,
            outbox_lease_secs: 120,
            clock_start: None,
            telegram_bot_token: None,
            telegram_bot_username: None,
            telegram_api_url: "https://api.telegram.org".to_string(),
            telegram_webhook_secret: None,
            trusted_proxies: Vec::new(),
            serve_runs_workers: true,
        }
    }
}

/// Environment variables that start with `SETTLE_` but are not settings (test harness,
/// the config file's own location, the password `settle users add` reads).
const NOT_SETTINGS: [&str; 4] = [
    "config",
    "test_database_url",
    "require_postgres",
    "user_password",
];

impl Settings {
    /// Loads settings: defaults, then the TOML file if given (or `settle.toml` if present),
    /// then `SETTLE_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut fig = Figment::new();
        let default_file = Path::new("settle.toml");
        match file {
            Some(path) => fig = fig.merge(Toml::file_exact(path)),
            None if default_file.exists() => fig = fig.merge(Toml::file_exact(default_file)),
            None => {}
        }
        fig.merge(Env::prefixed("SETTLE_").ignore(&NOT_SETTINGS))
            .extract()
            .map_err(Box::new)
    }

    /// Whether to seed demo data into an empty database.
    pub fn seed_demo(&self) -> bool {
        self.demo_data
            .unwrap_or_else(|| self.database_url.expose() == DEFAULT_DATABASE_URL)
    }
}

#[cfg(test)]
// figment's Jail fixes the closures' error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn layers_defaults_file_then_environment() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.listen.port(), 3000);
            assert!(s.seed_demo());
            jail.create_file("custom.toml", "listen = \"127.0.0.1:4000\"\nlog_format = \"json\"\ndatabase_url = \"postgres://u:pw@db/settle\"")?;
            let s = Settings::load(Some(Path::new("custom.toml"))).map_err(|e| *e)?;
            assert_eq!(s.listen.port(), 4000);
            assert_eq!(s.log_format, LogFormat::Json);
            assert!(!s.seed_demo());
            jail.set_env("SETTLE_LISTEN", "127.0.0.1:5000");
            jail.set_env("SETTLE_TEST_DATABASE_URL", "ignored");
            let s = Settings::load(Some(Path::new("custom.toml"))).map_err(|e| *e)?;
            assert_eq!(s.listen.port(), 5000);
            // A phone number in the environment stays a phone number.
            jail.set_env("SETTLE_SMS_FROM", "+15005550006");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.sms_from, "+15005550006");
            jail.set_env("SETTLE_SMS_FROM", "MG0123456789abcdef0123456789abcdef");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.sms_from, "MG0123456789abcdef0123456789abcdef");
            jail.set_env("SETTLE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1");
            let s = Settings::load(None).map_err(|e| *e)?;
            let ranges: Vec<String> = s.trusted_proxies.iter().map(|r| r.to_string()).collect();
            assert_eq!(ranges, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
            jail.set_env("SETTLE_TRUSTED_PROXIES", "10.0.0.0/33");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("not an IP address or range"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn database_password_is_redacted_in_debug() {
        let s = Settings {
            database_url: DatabaseUrl::from("postgres://settle:hunter2@db/settle"),
            ..Settings::default()
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://settle:***@db/settle"), "{shown}");
    }

    #[test]
    fn unknown_settings_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("typo.toml", "databse_url = \"sqlite:x.db\"")?;
            assert!(Settings::load(Some(Path::new("typo.toml"))).is_err());
            Ok(())
        });
    }
}
