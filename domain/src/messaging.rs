//! Reminder cadences and message templates: which message is due when, and what it says.
//!
//! Templates only know the debtor's first name, the agency's name, the agency's help
//! contact and a portal link. A text can reach the wrong phone, so nothing that reveals
//! the debt (the amount, the creditor) can be put in one; the portal shows those after the
//! identity check. The content the compliance engine requires (the opt-out notice, the
//! debt collector disclosure) is appended by [`compose`], never left to a template.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::compliance::{Purpose, RequiredContent};
use crate::Language;

/// What a message is about; each kind has a template per language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The first message: a link to the validation notice.
    ValidationLink,
    /// A later reminder with a link to the portal.
    Reminder,
    /// A plan instalment is due in a few days.
    InstalmentDue,
    /// A plan instalment could not be charged: a link to fix the card.
    InstalmentFailed,
    /// A plan ended because instalments were missed.
    PlanBroken,
    /// Thanks for a payment, with a link to the receipt.
    PaymentReceipt,
    /// The one confirmation of an opt-out.
    OptOutConfirmation,
    /// The confirmation of opting back in.
    OptInConfirmation,
    /// The answer to HELP.
    Help,
    /// The answer to PAY: a fresh link.
    PayLink,
    /// The acknowledgement of a dispute sent by text.
    DisputeReceived,
    /// The acknowledgement of any other flag (attorney, bankruptcy, wrong number...).
    FlagReceived,
    /// The agency answered a dispute: a link to read the answer in the portal.
    DisputeAnswered,
    /// An agent's own answer to a message the debtor sent (from the console's inbox).
    AgentReply,
}

impl MessageKind {
    /// Every kind.
    pub const ALL: [MessageKind; 14] = [
        MessageKind::ValidationLink,
        MessageKind::Reminder,
        MessageKind::InstalmentDue,
        MessageKind::InstalmentFailed,
        MessageKind::PlanBroken,
        MessageKind::PaymentReceipt,
        MessageKind::OptOutConfirmation,
        MessageKind::OptInConfirmation,
        MessageKind::Help,
        MessageKind::PayLink,
        MessageKind::DisputeReceived,
        MessageKind::FlagReceived,
        MessageKind::DisputeAnswered,
        MessageKind::AgentReply,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::ValidationLink => "validation_link",
            MessageKind::Reminder => "reminder",
            MessageKind::InstalmentDue => "instalment_due",
            MessageKind::InstalmentFailed => "instalment_failed",
            MessageKind::PlanBroken => "plan_broken",
            MessageKind::PaymentReceipt => "payment_receipt",
            MessageKind::OptOutConfirmation => "opt_out_confirmation",
            MessageKind::OptInConfirmation => "opt_in_confirmation",
            MessageKind::Help => "help",
            MessageKind::PayLink => "pay_link",
            MessageKind::DisputeReceived => "dispute_received",
            MessageKind::FlagReceived => "flag_received",
            MessageKind::DisputeAnswered => "dispute_answered",
            MessageKind::AgentReply => "agent_reply",
        }
    }

    /// The purpose the compliance engine judges this kind of message under.
    pub fn purpose(self) -> Purpose {
        match self {
            MessageKind::ValidationLink => Purpose::ValidationNotice,
            MessageKind::Reminder
            | MessageKind::InstalmentDue
            | MessageKind::InstalmentFailed
            | MessageKind::PlanBroken => Purpose::Reminder,
            MessageKind::PaymentReceipt => Purpose::Receipt,
            MessageKind::OptOutConfirmation => Purpose::OptOutConfirmation,
            MessageKind::DisputeAnswered => Purpose::DisputeResponse,
            MessageKind::OptInConfirmation
            | MessageKind::Help
            | MessageKind::PayLink
            | MessageKind::DisputeReceived
            | MessageKind::FlagReceived => Purpose::Reply,
            // An agent's own words may ask for payment: judged as collection, so an open
            // dispute holds it and it counts toward the frequency caps.
            MessageKind::AgentReply => Purpose::Reminder,
        }
    }

    /// The built-in text, with `{name}`, `{agency}`, `{help}` and `{link}` variables.
    pub fn default_template(self, language: Language) -> &'static str {
        use MessageKind::*;
        match (language, self) {
            (Language::En, ValidationLink) => {
                "Hi {name}, {agency} has important information for you. See it securely: {link}"
            }
            (Language::En, Reminder) => "Hi {name}, a reminder from {agency}. Details and options: {link}",
            (Language::En, InstalmentDue) => {
                "Hi {name}, your next plan payment with {agency} is due soon. Details: {link}"
            }
            (Language::En, InstalmentFailed) => {
                "Hi {name}, {agency} could not take your plan payment. Update your card: {link}"
            }
            (Language::En, PlanBroken) => {
                "Hi {name}, your payment plan with {agency} has ended. See your options: {link}"
            }
            (Language::En, PaymentReceipt) => "Thank you {name}. {agency} received your payment. Receipt: {link}",
            (Language::En, OptOutConfirmation) => {
                "{agency}: you will get no more text messages. Reply START to receive them again."
            }
            (Language::En, OptInConfirmation) => {
                "{agency}: text messages are on again. Reply STOP at any time to stop them."
            }
            (Language::En, Help) => {
                "{agency}: for help call {help}. Your account: {link}{telegram}"
            }
            (Language::En, PayLink) => "{agency}: here is your secure link: {link}",
            (Language::En, DisputeReceived) => {
                "{agency}: we recorded your dispute and stopped collection until we answer. \
                 Add details or documents: {link}"
            }
            (Language::En, FlagReceived) => "{agency}: thank you, we recorded your message.",
            (Language::En, DisputeAnswered) => {
                "Hi {name}, {agency} has answered your dispute. Read the answer securely: {link}"
            }
            // An agent's answer carries the agent's own words; this is only the fallback.
            (Language::En, AgentReply) => "{agency}: we answered your message. Your account: {link}",
            (Language::Es, ValidationLink) => {
                "Hola {name}, {agency} tiene información importante para usted. Véala de forma segura: {link}"
            }
            (Language::Es, Reminder) => "Hola {name}, un recordatorio de {agency}. Detalles y opciones: {link}",
            (Language::Es, InstalmentDue) => {
                "Hola {name}, su próximo pago del plan con {agency} vence pronto. Detalles: {link}"
            }
            (Language::Es, InstalmentFailed) => {
                "Hola {name}, {agency} no pudo cobrar el pago de su plan. Actualice su tarjeta: {link}"
            }
            (Language::Es, PlanBroken) => {
                "Hola {name}, su plan de pagos con {agency} terminó. Vea sus opciones: {link}"
            }
            (Language::Es, PaymentReceipt) => "Gracias {name}. {agency} recibió su pago. Recibo: {link}",
            (Language::Es, OptOutConfirmation) => {
                "{agency}: no recibirá más mensajes de texto. Responda START para volver a recibirlos."
            }
            (Language::Es, OptInConfirmation) => {
                "{agency}: los mensajes de texto están activos de nuevo. Responda STOP para detenerlos."
            }
            (Language::Es, Help) => {
                "{agency}: para ayuda llame al {help}. Su cuenta: {link}{telegram}"
            }
            (Language::Es, PayLink) => "{agency}: este es su enlace seguro: {link}",
            (Language::Es, DisputeReceived) => {
                "{agency}: registramos su disputa y detuvimos el cobro hasta responderle. \
                 Agregue detalles o documentos: {link}"
            }
            (Language::Es, FlagReceived) => "{agency}: gracias, registramos su mensaje.",
            (Language::Es, DisputeAnswered) => {
                "Hola {name}, {agency} respondió a su disputa. Lea la respuesta de forma segura: {link}"
            }
            (Language::Es, AgentReply) => "{agency}: respondimos a su mensaje. Su cuenta: {link}",
        }
    }
}

/// The text a required content code adds to a message, in the debtor's language.
pub fn required_text(content: RequiredContent, language: Language) -> &'static str {
    match (language, content) {
        (Language::En, RequiredContent::OptOutNotice) => "Reply STOP to opt out.",
        (Language::En, RequiredContent::MiniMirandaInitial) => {
            "This is a communication from a debt collector attempting to collect a debt; \
             any information obtained will be used for that purpose."
        }
        (Language::En, RequiredContent::MiniMirandaSubsequent) => {
            "This is a communication from a debt collector."
        }
        (Language::Es, RequiredContent::OptOutNotice) => "Responda STOP para no recibir más.",
        (Language::Es, RequiredContent::MiniMirandaInitial) => {
            "Esta es una comunicación de un cobrador de deudas que intenta cobrar una deuda; \
             cualquier información obtenida se usará con ese fin."
        }
        (Language::Es, RequiredContent::MiniMirandaSubsequent) => {
            "Esta es una comunicación de un cobrador de deudas."
        }
    }
}

/// The variables a template may use: nothing a wrong-number recipient should not read.
pub const TEMPLATE_VARIABLES: [&str; 4] = ["name", "agency", "help", "link"];

/// Why an agency's template or cadence was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessagingError {
    /// A template uses a variable that does not exist or is not allowed in a text.
    #[error("template {kind}/{language}: `{{{variable}}}` is not allowed (use name, agency, help, link)")]
    UnknownVariable {
        /// The template's kind.
        kind: &'static str,
        /// The template's language.
        language: &'static str,
        /// The variable.
        variable: String,
    },
    /// A template has an unclosed `{`.
    #[error("template {kind}/{language}: unclosed `{{`")]
    Unclosed {
        /// The template's kind.
        kind: &'static str,
        /// The template's language.
        language: &'static str,
    },
    /// A template that must carry a link has none.
    #[error("template {kind}/{language}: must contain {{link}}")]
    MissingLink {
        /// The template's kind.
        kind: &'static str,
        /// The template's language.
        language: &'static str,
    },
    /// A template is longer than [`MAX_TEMPLATE_CHARS`].
    #[error("template {kind}/{language}: longer than {max} characters", max = MAX_TEMPLATE_CHARS)]
    TooLong {
        /// The template's kind.
        kind: &'static str,
        /// The template's language.
        language: &'static str,
    },
    /// The cadence makes no sense.
    #[error("cadence: {0}")]
    Cadence(String),
}

/// The values a template is filled with.
#[derive(Debug, Clone, Copy)]
pub struct TemplateVars<'a> {
    /// The debtor's first name.
    pub name: &'a str,
    /// The agency's name.
    pub agency: &'a str,
    /// How to reach the agency (phone or address).
    pub help: &'a str,
    /// The portal link (may be empty for kinds that have none).
    pub link: &'a str,
    /// An offer to continue on Telegram with its binding link, led by a space; empty when
    /// no bot is configured.
    pub telegram: &'a str,
}

/// The words before the binding link in `{telegram}`.
pub fn telegram_offer(language: Language) -> &'static str {
    match language {
        Language::En => "Chat with us on Telegram:",
        Language::Es => "Escríbanos por Telegram:",
    }
}

/// Fills `{variable}`s; refuses unknown ones so a typo never reaches a debtor.
pub fn render(template: &str, vars: &TemplateVars<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 48);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| "unclosed `{`".to_string())?;
        let value = match &after[..close] {
            "name" => vars.name,
            "agency" => vars.agency,
            "help" => vars.help,
            "link" => vars.link,
            "telegram" => vars.telegram,
            other => return Err(other.to_string()),
        };
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A message ready to send: the filled template, then the required content.
pub fn compose(
    template: &str,
    vars: &TemplateVars<'_>,
    required: &[RequiredContent],
    language: Language,
) -> Result<String, String> {
    Ok(with_required(render(template, vars)?, required, language))
}

/// Appends the texts the compliance engine requires to a message already written.
pub fn with_required(mut text: String, required: &[RequiredContent], language: Language) -> String {
    for content in required {
        text.push(' ');
        text.push_str(required_text(*content, language));
    }
    text
}

/// One step of a reminder cadence: a message kind, so many days after placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CadenceStep {
    /// Days after the account was placed.
    pub day: u32,
    /// What to send.
    pub kind: MessageKind,
}

/// An agency's reminder sequence and message texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cadence {
    /// The steps, in day order; the first one normally links the validation notice.
    pub steps: Vec<CadenceStep>,
    /// After the last step, a reminder every so many days (none when absent).
    pub repeat_every_days: Option<u32>,
    /// How many days before a plan instalment the "due soon" message goes out (none at 0).
    pub instalment_notice_days: u32,
    /// How the debtor reaches the agency (said in the HELP answer).
    pub help_contact: String,
    /// Texts replacing the built-in ones: kind → language tag → template.
    pub templates: BTreeMap<MessageKind, BTreeMap<String, String>>,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            steps: vec![
                CadenceStep {
                    day: 0,
                    kind: MessageKind::ValidationLink,
                },
                CadenceStep {
                    day: 3,
                    kind: MessageKind::Reminder,
                },
                CadenceStep {
                    day: 10,
                    kind: MessageKind::Reminder,
                },
            ],
            repeat_every_days: Some(14),
            instalment_notice_days: 3,
            help_contact: "the number on your letter".into(),
            templates: BTreeMap::new(),
        }
    }
}

/// The longest template accepted: three SMS segments of Unicode text, leaving room for
/// the required notices the engine appends.
pub const MAX_TEMPLATE_CHARS: usize = 320;
/// The most steps a cadence may list (later reminders repeat without being listed).
pub const MAX_STEPS: usize = 20;
/// The latest day a step may fall on.
pub const MAX_STEP_DAY: u32 = 3650;
/// The longest gap between later reminders.
pub const MAX_REPEAT_DAYS: u32 = 365;
/// The earliest an instalment may be announced, in days before it is due.
pub const MAX_NOTICE_DAYS: u32 = 60;

/// True for the kinds a cadence step may send: the others answer an event or a reply.
pub fn schedulable(kind: MessageKind) -> bool {
    matches!(kind, MessageKind::ValidationLink | MessageKind::Reminder)
}

/// Kinds whose message is useless without a link.
pub fn needs_link(kind: MessageKind) -> bool {
    !matches!(
        kind,
        MessageKind::OptOutConfirmation
            | MessageKind::OptInConfirmation
            | MessageKind::FlagReceived
    )
}

impl Cadence {
    /// Checks the steps and every template; returns the cadence when usable.
    pub fn validate(self) -> Result<Cadence, MessagingError> {
        if self.steps.len() > MAX_STEPS {
            return Err(MessagingError::Cadence(format!(
                "at most {MAX_STEPS} steps (later reminders repeat on their own)"
            )));
        }
        if let Some(step) = self.steps.iter().find(|s| !schedulable(s.kind)) {
            return Err(MessagingError::Cadence(format!(
                "a step may send the validation link or a reminder, not {}",
                step.kind.as_str()
            )));
        }
        if self.steps.iter().any(|s| s.day > MAX_STEP_DAY) {
            return Err(MessagingError::Cadence(format!(
                "a step's day must be at most {MAX_STEP_DAY}"
            )));
        }
        if self.help_contact.trim().is_empty() || self.help_contact.chars().count() > 100 {
            return Err(MessagingError::Cadence(
                "the help contact must be 1 to 100 characters".into(),
            ));
        }
        if self.steps.windows(2).any(|w| w[0].day >= w[1].day) {
            return Err(MessagingError::Cadence(
                "steps must be in strictly increasing day order".into(),
            ));
        }
        if self
            .repeat_every_days
            .is_some_and(|d| d == 0 || d > MAX_REPEAT_DAYS)
        {
            return Err(MessagingError::Cadence(format!(
                "repeat_every_days must be 1 to {MAX_REPEAT_DAYS}"
            )));
        }
        if self.instalment_notice_days > MAX_NOTICE_DAYS {
            return Err(MessagingError::Cadence(format!(
                "instalment_notice_days must be at most {MAX_NOTICE_DAYS}"
            )));
        }
        for (kind, by_language) in &self.templates {
            for (tag, text) in by_language {
                let language: Language = tag
                    .parse()
                    .map_err(|_| MessagingError::Cadence(format!("unknown language `{tag}`")))?;
                let probe = TemplateVars {
                    name: "",
                    agency: "",
                    help: "",
                    link: "\u{1}",
                    telegram: "",
                };
                let kind_name = kind.as_str();
                if text.chars().count() > MAX_TEMPLATE_CHARS {
                    return Err(MessagingError::TooLong {
                        kind: kind_name,
                        language: language.tag(),
                    });
                }
                let rendered = render(text, &probe).map_err(|variable| {
                    if variable == "unclosed `{`" {
                        MessagingError::Unclosed {
                            kind: kind_name,
                            language: language.tag(),
                        }
                    } else {
                        MessagingError::UnknownVariable {
                            kind: kind_name,
                            language: language.tag(),
                            variable,
                        }
                    }
                })?;
                if needs_link(*kind) && !rendered.contains('\u{1}') {
                    return Err(MessagingError::MissingLink {
                        kind: kind_name,
                        language: language.tag(),
                    });
                }
            }
        }
        Ok(self)
    }

    /// The template for `kind` in `language`: the agency's own, else the built-in one.
    pub fn template(&self, kind: MessageKind, language: Language) -> &str {
        self.templates
            .get(&kind)
            .and_then(|m| m.get(language.tag()))
            .map(String::as_str)
            .unwrap_or_else(|| kind.default_template(language))
    }

    /// Step `step` of the sequence: its day and kind. Past the listed steps, reminders
    /// repeat every `repeat_every_days`; `None` when the sequence is over.
    pub fn step(&self, step: u32) -> Option<CadenceStep> {
        let listed = self.steps.len() as u32;
        if step < listed {
            return Some(self.steps[step as usize]);
        }
        let every = self.repeat_every_days?;
        let last = self.steps.last().map_or(0, |s| s.day);
        // Saturating: a cadence saved before its numbers were bounded must not overflow.
        Some(CadenceStep {
            day: last.saturating_add(every.saturating_mul(step - listed + 1)),
            kind: MessageKind::Reminder,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: TemplateVars<'static> = TemplateVars {
        name: "Ana",
        agency: "Acme Recovery",
        help: "+1 555 0100",
        link: "https://s.example/l/abc",
        telegram: " Telegram: https://t.me/settle_bot?start=abc",
    };

    #[test]
    fn every_built_in_template_renders_in_both_languages_and_links_where_needed() {
        for kind in MessageKind::ALL {
            for language in [Language::En, Language::Es] {
                let text = render(kind.default_template(language), &VARS).unwrap();
                assert!(!text.contains('{'), "{kind:?} {language:?}: {text}");
                assert_eq!(
                    text.contains(VARS.link),
                    needs_link(kind),
                    "{kind:?} {language:?}"
                );
            }
        }
    }

    #[test]
    fn composed_text_ends_with_the_required_content_in_the_debtor_language() {
        let text = compose(
            MessageKind::Reminder.default_template(Language::Es),
            &VARS,
            &[
                RequiredContent::OptOutNotice,
                RequiredContent::MiniMirandaSubsequent,
            ],
            Language::Es,
        )
        .unwrap();
        assert!(text.starts_with("Hola Ana, un recordatorio de Acme Recovery."));
        assert!(text.ends_with(
            "Responda STOP para no recibir más. Esta es una comunicación de un cobrador de deudas."
        ));
    }

    #[test]
    fn templates_cannot_carry_the_amount_or_the_creditor() {
        let mut cadence = Cadence::default();
        cadence.templates.insert(
            MessageKind::Reminder,
            [(
                "en".to_string(),
                "You owe {amount} to {creditor}: {link}".to_string(),
            )]
            .into(),
        );
        assert!(matches!(
            cadence.validate(),
            Err(MessagingError::UnknownVariable { variable, .. }) if variable == "amount"
        ));
    }

    #[test]
    fn a_reminder_template_without_a_link_or_with_an_open_brace_is_refused() {
        for (text, want_link_error) in [("Please call us", true), ("Hi {name", false)] {
            let mut cadence = Cadence::default();
            cadence.templates.insert(
                MessageKind::Reminder,
                [("en".to_string(), text.to_string())].into(),
            );
            let err = cadence.validate().unwrap_err();
            assert_eq!(
                matches!(err, MessagingError::MissingLink { .. }),
                want_link_error,
                "{err}"
            );
        }
    }

    #[test]
    fn steps_send_only_reminders_and_texts_stay_short() {
        let with_step = |kind, day| Cadence {
            steps: vec![CadenceStep { day, kind }],
            ..Cadence::default()
        };
        assert!(with_step(MessageKind::Reminder, 5).validate().is_ok());
        assert!(with_step(MessageKind::Help, 5).validate().is_err());
        assert!(with_step(MessageKind::PaymentReceipt, 5)
            .validate()
            .is_err());
        assert!(with_step(MessageKind::Reminder, MAX_STEP_DAY + 1)
            .validate()
            .is_err());
        let many = Cadence {
            steps: (0..=MAX_STEPS as u32)
                .map(|day| CadenceStep {
                    day,
                    kind: MessageKind::Reminder,
                })
                .collect(),
            ..Cadence::default()
        };
        assert!(many.validate().is_err());
        for (repeat, notice) in [
            (Some(MAX_REPEAT_DAYS + 1), 3),
            (Some(14), MAX_NOTICE_DAYS + 1),
        ] {
            let c = Cadence {
                repeat_every_days: repeat,
                instalment_notice_days: notice,
                ..Cadence::default()
            };
            assert!(c.validate().is_err(), "{repeat:?} {notice}");
        }
        let huge = Cadence {
            repeat_every_days: Some(u32::MAX),
            ..Cadence::default()
        };
        assert_eq!(huge.step(1_000).map(|s| s.day), Some(u32::MAX));
        let no_help = Cadence {
            help_contact: " ".into(),
            ..Cadence::default()
        };
        assert!(no_help.validate().is_err());
        for (len, ok) in [(MAX_TEMPLATE_CHARS, true), (MAX_TEMPLATE_CHARS + 1, false)] {
            let mut c = Cadence::default();
            let text = format!("{}{{link}}", "é".repeat(len - 6));
            c.templates
                .insert(MessageKind::Reminder, [("es".to_string(), text)].into());
            assert_eq!(c.validate().is_ok(), ok, "{len}");
        }
        for kind in MessageKind::ALL {
            for language in [Language::En, Language::Es] {
                assert!(kind.default_template(language).chars().count() <= MAX_TEMPLATE_CHARS);
            }
        }
    }

    #[test]
    fn an_agency_template_replaces_the_built_in_one_for_its_language_only() {
        let mut cadence = Cadence::default();
        cadence.templates.insert(
            MessageKind::Reminder,
            [("en".to_string(), "{agency}: {link}".to_string())].into(),
        );
        let cadence = cadence.validate().unwrap();
        assert_eq!(
            cadence.template(MessageKind::Reminder, Language::En),
            "{agency}: {link}"
        );
        assert_eq!(
            cadence.template(MessageKind::Reminder, Language::Es),
            MessageKind::Reminder.default_template(Language::Es)
        );
    }

    #[test]
    fn the_default_cadence_is_day_0_3_10_then_every_14_days() {
        let c = Cadence::default();
        let days: Vec<(u32, MessageKind)> = (0..6)
            .map(|i| c.step(i).map(|s| (s.day, s.kind)).unwrap())
            .collect();
        assert_eq!(
            days,
            vec![
                (0, MessageKind::ValidationLink),
                (3, MessageKind::Reminder),
                (10, MessageKind::Reminder),
                (24, MessageKind::Reminder),
                (38, MessageKind::Reminder),
                (52, MessageKind::Reminder),
            ]
        );
        let finite = Cadence {
            repeat_every_days: None,
            ..Cadence::default()
        };
        assert_eq!(finite.step(3), None);
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        let c = Cadence {
            steps: vec![
                CadenceStep {
                    day: 3,
                    kind: MessageKind::Reminder,
                },
                CadenceStep {
                    day: 3,
                    kind: MessageKind::Reminder,
                },
            ],
            ..Cadence::default()
        };
        assert!(c.validate().is_err());
    }
}
