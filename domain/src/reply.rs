//! What a debtor's free-text reply to an SMS or Telegram reminder asks for.
//!
//! Carriers only act on single-word keywords (Twilio: STOP, START, HELP...), but since
//! 11 April 2025 the TCPA lets a consumer revoke consent "in any reasonable manner";
//! Regulation F treats "stop texting" as a refusal of the medium (12 CFR 1006.14(h)) and
//! "not my debt" as a dispute (12 CFR 1006.38). So every reply is classified here:
//!
//! 1. It is normalized: lowercase, accents stripped (`é` → `e`, `ñ` → `n`), apostrophes
//!    dropped (`don't` → `dont`), `#` kept as a word and `&` read as `and`, other
//!    punctuation and emoji turned into spaces, whitespace collapsed.
//! 2. If the whole reply is a carrier keyword ("STOP!!!", "Alto por favor", "Yes") it gets
//!    that keyword's intent. Courtesy words around a keyword are ignored, except for the
//!    opt-in keywords, which must stand alone: consent must be unambiguous, and "yes
//!    please" is usually an answer to something else.
//! 3. Otherwise the words are scanned for the phrases in the tables below. At each word
//!    the longest phrase that starts there wins and its words are consumed, so "stop
//!    calling" is not also read as "stop", and a neutral phrase ("stop by", "attorney
//!    general") hides the signal word inside it. A phrase of a negatable intent (Pay,
//!    Help, Attorney, Bankruptcy, Deceased) right after "not", "dont", "no"... counts for
//!    nothing: "I don't want to pay", "no tengo abogado".
//! 4. Of the intents found, the one earliest in [`PRECEDENCE`] wins.
//!
//! A reply can ask for two things ("not my debt, stop texting me"); [`classify_all`]
//! returns every intent found so the caller can honour the opt-out as well as the dispute.

use std::fmt;

/// What a debtor's reply asks for, and so what the system does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyIntent {
    /// Revokes consent for the medium the reply came through: stop messaging there and
    /// send one confirmation (TCPA: revocation "in any reasonable manner", one
    /// confirmation within 5 minutes; 12 CFR 1006.6(e)).
    OptOut,
    /// Opts back in to the medium after an opt-out (START, UNSTOP, YES, alone).
    OptIn,
    /// Asks for help: reply with the help text (who we are, how to opt out).
    Help,
    /// Wants to pay: reply with a fresh portal link.
    Pay,
    /// Disputes the debt ("not my debt", "I already paid"): record a dispute and pause
    /// collection until it is answered (12 CFR 1006.38).
    NotMyDebt,
    /// The number does not belong to the debtor: stop using it on every medium, and say
    /// nothing more about the debt to whoever has it.
    WrongNumber,
    /// An attorney represents the debtor: put the account on an attorney hold, no more
    /// contact with the debtor (12 CFR 1006.6(b)(2)).
    Attorney,
    /// The debtor is in bankruptcy: put the account on a bankruptcy hold.
    Bankruptcy,
    /// Refuses telephone calls: stop calling (12 CFR 1006.14(h)); texts may continue.
    StopCalling,
    /// The debtor has died ("he passed away", "falleció"): put the account on a
    /// deceased hold for the agency to verify.
    Deceased,
    /// Anything else: goes to the agency's inbox for a person to read.
    Other,
}

impl ReplyIntent {
    /// Every intent, in a stable order.
    pub const ALL: [ReplyIntent; 11] = [
        ReplyIntent::OptOut,
        ReplyIntent::OptIn,
        ReplyIntent::Help,
        ReplyIntent::Pay,
        ReplyIntent::NotMyDebt,
        ReplyIntent::WrongNumber,
        ReplyIntent::Attorney,
        ReplyIntent::Bankruptcy,
        ReplyIntent::StopCalling,
        ReplyIntent::Deceased,
        ReplyIntent::Other,
    ];

    /// The stable code stored and sent on the wire (`opt_out`, `not_my_debt`...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyIntent::OptOut => "opt_out",
            ReplyIntent::OptIn => "opt_in",
            ReplyIntent::Help => "help",
            ReplyIntent::Pay => "pay",
            ReplyIntent::NotMyDebt => "not_my_debt",
            ReplyIntent::WrongNumber => "wrong_number",
            ReplyIntent::Attorney => "attorney",
            ReplyIntent::Bankruptcy => "bankruptcy",
            ReplyIntent::StopCalling => "stop_calling",
            ReplyIntent::Deceased => "deceased",
            ReplyIntent::Other => "other",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for ReplyIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which intent wins when a free-text reply matches several, first wins:
///
/// - Deceased, Bankruptcy and Attorney first: each is a hold that stops every contact
///   (so it covers an opt-out in the same reply), and the agency must learn of it.
///   Deceased before Bankruptcy before Attorney: "my bankruptcy attorney" is a
///   bankruptcy, and the broader hold wins.
/// - WrongNumber: the number is not the debtor's, so it must not be used at all, which
///   covers an opt-out; and a stranger's "not my debt" is not the debtor's dispute.
/// - NotMyDebt before OptOut: a dispute pauses collection on every medium and needs a
///   person, while an opt-out is handled automatically ([`classify_all`] keeps both).
/// - OptOut before StopCalling: the reply came through a text medium, each further text
///   risks TCPA damages, and the confirmation must go out within minutes.
/// - Help and Pay last: an explicit opt-out beats them ("stop, I will pay later").
/// - OptIn only ever comes alone, from a keyword, so its place does not matter.
pub const PRECEDENCE: [ReplyIntent; 10] = [
    ReplyIntent::Deceased,
    ReplyIntent::Bankruptcy,
    ReplyIntent::Attorney,
    ReplyIntent::WrongNumber,
    ReplyIntent::NotMyDebt,
    ReplyIntent::OptOut,
    ReplyIntent::StopCalling,
    ReplyIntent::Help,
    ReplyIntent::Pay,
    ReplyIntent::OptIn,
];

/// Replies that are only a keyword (after normalization). Twilio's and CTIA's keywords,
/// the rest of the TCPA's examples, and their Spanish counterparts.
const KEYWORDS: &[(&str, ReplyIntent)] = &[
    ("stop", ReplyIntent::OptOut),
    ("stopall", ReplyIntent::OptOut),
    ("stop all", ReplyIntent::OptOut),
    ("unsubscribe", ReplyIntent::OptOut),
    ("cancel", ReplyIntent::OptOut),
    ("end", ReplyIntent::OptOut),
    ("quit", ReplyIntent::OptOut),
    ("revoke", ReplyIntent::OptOut),
    ("optout", ReplyIntent::OptOut),
    ("opt out", ReplyIntent::OptOut),
    ("alto", ReplyIntent::OptOut),
    ("parar", ReplyIntent::OptOut),
    ("cancelar", ReplyIntent::OptOut),
    ("baja", ReplyIntent::OptOut),
    ("no mas", ReplyIntent::OptOut),
    ("start", ReplyIntent::OptIn),
    ("unstop", ReplyIntent::OptIn),
    ("yes", ReplyIntent::OptIn),
    ("opt in", ReplyIntent::OptIn),
    ("optin", ReplyIntent::OptIn),
    ("help", ReplyIntent::Help),
    ("info", ReplyIntent::Help),
    ("ayuda", ReplyIntent::Help),
    ("pay", ReplyIntent::Pay),
    ("pagar", ReplyIntent::Pay),
    ("pago", ReplyIntent::Pay),
];

/// Words that may surround a keyword without changing it ("Alto por favor", "cancel pls").
const COURTESY: &[&str] = &[
    "please",
    "pls",
    "plz",
    "thanks",
    "thank you",
    "thx",
    "now",
    "ok",
    "okay",
    "por favor",
    "porfavor",
    "porfa",
    "gracias",
    "ya",
];

/// Words that cancel a negatable phrase right after them.
const NEGATORS: &[&str] = &[
    "not", "no", "dont", "didnt", "doesnt", "wont", "cant", "cannot", "never", "havent", "hasnt",
    "nunca",
];

/// The phrases that signal one intent in free text.
struct Rule {
    intent: ReplyIntent,
    /// Whether a negator right before a phrase cancels it.
    negatable: bool,
    phrases: &'static [&'static str],
}

/// The free-text phrases, already normalized. A phrase may appear under two intents
/// ("dont call or text" would be both); the order of the rules does not matter.
const RULES: &[Rule] = &[
    Rule {
        intent: ReplyIntent::Deceased,
        negatable: true,
        phrases: &[
            "passed away",
            "has passed",
            "have passed",
            "he passed",
            "she passed",
            "mom passed",
            "mother passed",
            "dad passed",
            "father passed",
            "husband passed",
            "wife passed",
            "died",
            "is dead",
            "hes dead",
            "shes dead",
            "deceased",
            "death certificate",
            "fallecio",
            "fallecido",
            "fallecida",
            "murio",
            "esta muerto",
            "esta muerta",
            "difunto",
            "difunta",
            "en paz descanse",
        ],
    },
    Rule {
        intent: ReplyIntent::Bankruptcy,
        negatable: true,
        phrases: &[
            "bankruptcy",
            "bankrupcy",
            "bankruptsy",
            "bankrupt",
            "filed bankruptcy",
            "filed for bankruptcy",
            "file bankruptcy",
            "file for bankruptcy",
            "filed bk",
            "chapter 7",
            "chapter 11",
            "chapter 13",
            "chap 7",
            "chap 13",
            "ch 7",
            "ch 13",
            "ch7",
            "ch13",
            "bancarrota",
            "en quiebra",
            "me declare en bancarrota",
            "me declare en quiebra",
            "capitulo 7",
            "capitulo 13",
        ],
    },
    Rule {
        intent: ReplyIntent::Attorney,
        negatable: true,
        phrases: &[
            "lawyer",
            "lawyers",
            "lawer",
            "laywer",
            "attorney",
            "attorneys",
            "attorny",
            "atty",
            "legal counsel",
            "my counsel",
            "represented by",
            "have a lawyer",
            "have an attorney",
            "have a attorney",
            "got a lawyer",
            "got an attorney",
            "need a lawyer",
            "need an attorney",
            "abogado",
            "abogada",
            "abogados",
            "tengo abogado",
            "tengo abogada",
            "tengo un abogado",
            "tengo una abogada",
        ],
    },
    Rule {
        intent: ReplyIntent::WrongNumber,
        negatable: false,
        phrases: &[
            "wrong number",
            "wrong numbr",
            "wrong num",
            "wrong no",
            "wrong #",
            "wrong phone",
            "wrong person",
            "wrong guy",
            "wrong girl",
            "wrong lady",
            "wrong man",
            "wrong people",
            "not me",
            "not my number",
            "not my phone",
            "no one by that name",
            "nobody by that name",
            "no one here by",
            "nobody here by",
            "no one named",
            "nobody named",
            "doesnt live here",
            "does not live here",
            "dont know who",
            "do not know who",
            "dont know this person",
            "dont know him",
            "dont know her",
            "dont know them",
            "dont know anyone",
            "got this number",
            "who is this im not",
            "who is this i am not",
            "numero equivocado",
            "numero incorrecto",
            "persona equivocada",
            "equivoco de numero",
            "equivocaron de numero",
            "se equivoco",
            "se equivocaron",
            "no soy",
            "no conozco a",
            "no vive aqui",
            "no es mi numero",
        ],
    },
    Rule {
        intent: ReplyIntent::NotMyDebt,
        negatable: false,
        phrases: &[
            "not my debt",
            "not my account",
            "not my bill",
            "not my loan",
            "not mine",
            "isnt mine",
            "is not mine",
            "dont owe",
            "do not owe",
            "didnt owe",
            "owe nothing",
            "owe you nothing",
            "never had an account",
            "never had a account",
            "never had a card",
            "never had a loan",
            "never opened",
            "never signed",
            "identity theft",
            "identity was stolen",
            "stolen identity",
            "id theft",
            "dont recognize",
            "do not recognize",
            "never heard of this",
            "dispute",
            "i dispute",
            "disputing",
            "wrong amount",
            "amount is wrong",
            "already paid",
            "i paid this",
            "i paid it",
            "paid this off",
            "paid it off",
            "no es mi deuda",
            "no es mia",
            "no es mio",
            "no debo",
            "no le debo",
            "no les debo",
            "robo de identidad",
            "no reconozco",
            "nunca tuve",
            "ya pague",
            "ya la pague",
            "ya lo pague",
            "no soy responsable",
        ],
    },
    Rule {
        intent: ReplyIntent::OptOut,
        negatable: false,
        phrases: &[
            "stop",
            "stopp",
            "stopall",
            "unsubscribe",
            "unsub",
            "optout",
            "opt out",
            "revoke",
            "remove me",
            "remove my number",
            "take me off",
            "take my number off",
            "leave me alone",
            "no more messages",
            "no more texts",
            "no more text",
            "no more msgs",
            "no more txts",
            "no more sms",
            "quit texting",
            "quit messaging",
            "quit sending",
            "quit contacting",
            "quit bothering",
            "quit harassing",
            "dont text",
            "do not text",
            "dont txt",
            "dont message",
            "do not message",
            "dont msg",
            "dont send",
            "do not send",
            "dont contact",
            "do not contact",
            "dont email",
            "do not email",
            "cancel texts",
            "cancel messages",
            "cancel the texts",
            "cancel the messages",
            "and texting",
            "or texting",
            "and messaging",
            "or messaging",
            "or text",
            "or message",
            "stop payment reminder",
            "stop payment reminders",
            "stop payment texts",
            "stop payment messages",
            "deja de mandarme",
            "deja de enviarme",
            "deja de escribirme",
            "dejen de mandarme",
            "dejen de enviarme",
            "dejen de escribirme",
            "deja de mandar",
            "dejen de mandar",
            "no me escriban",
            "no me escribas",
            "no me manden",
            "no me mandes",
            "no me envien",
            "no me envies",
            "no me contacten",
            "no me molesten",
            "no mas mensajes",
            "ya no mas",
            "alto ya",
            "ni me escriban",
            "ni me manden",
            "de baja",
            "parar los mensajes",
            "parar mensajes",
            "cancelar los mensajes",
            "cancelar mensajes",
            "no quiero mensajes",
            "no quiero mas mensajes",
            "no quiero recibir",
        ],
    },
    Rule {
        intent: ReplyIntent::StopCalling,
        negatable: false,
        phrases: &[
            "stop calling",
            "quit calling",
            "dont call",
            "do not call",
            "no calls",
            "no more calls",
            "no phone calls",
            "stop phone calls",
            "stop the calls",
            "and calling",
            "or calling",
            "no me llamen",
            "no me llames",
            "no me llame",
            "deja de llamarme",
            "dejen de llamarme",
            "deja de llamar",
            "dejen de llamar",
            "no mas llamadas",
            "ni me llamen",
            "ni llamen",
        ],
    },
    Rule {
        intent: ReplyIntent::Help,
        negatable: true,
        phrases: &[
            "help",
            "info",
            "more information",
            "ayuda",
            "ayudame",
            "ayudeme",
            "mas informacion",
        ],
    },
    Rule {
        intent: ReplyIntent::Pay,
        negatable: true,
        phrases: &[
            "want to pay",
            "wanna pay",
            "like to pay",
            "ready to pay",
            "how can i pay",
            "how do i pay",
            "how to pay",
            "can i pay",
            "where do i pay",
            "where can i pay",
            "pay online",
            "pay now",
            "payment link",
            "pay link",
            "link to pay",
            "send link",
            "send the link",
            "send me the link",
            "send me a link",
            "make a payment",
            "make payment",
            "make payments",
            "payment plan",
            "quiero pagar",
            "como pago",
            "como puedo pagar",
            "puedo pagar",
            "donde pago",
            "donde puedo pagar",
            "link de pago",
            "link para pagar",
            "enlace de pago",
            "enlace para pagar",
            "hacer un pago",
            "plan de pagos",
            "plan de pago",
        ],
    },
    // Neutral phrases: they contain a signal word but mean something else, and consume it.
    Rule {
        intent: ReplyIntent::Other,
        negatable: false,
        phrases: &[
            "stop by",
            "stop paying",
            "stop payment",
            "stop my payment",
            "stop my payments",
            "stop the payment",
            "stop the payments",
            "stop autopay",
            "stop my autopay",
            "stop the autopay",
            "stop auto pay",
            "attorney general",
            "power of attorney",
            "phone died",
            "phone is dead",
            "battery died",
            "battery is dead",
            "call or text",
        ],
    },
];

/// Classifies a debtor's reply; see the module documentation and [`PRECEDENCE`].
pub fn classify(text: &str) -> ReplyIntent {
    let found = intents(&normalize(text));
    PRECEDENCE
        .into_iter()
        .find(|i| found & i.bit() != 0)
        .unwrap_or(ReplyIntent::Other)
}

/// Every intent the reply signals, the winner first (in [`PRECEDENCE`] order); `[Other]`
/// when it signals none. The first element is always [`classify`]'s answer.
pub fn classify_all(text: &str) -> Vec<ReplyIntent> {
    let found = intents(&normalize(text));
    let all: Vec<ReplyIntent> = PRECEDENCE
        .into_iter()
        .filter(|i| found & i.bit() != 0)
        .collect();
    if all.is_empty() {
        vec![ReplyIntent::Other]
    } else {
        all
    }
}

/// The intents found in a normalized reply, as a bit set.
fn intents(norm: &str) -> u16 {
    match keyword(norm) {
        Some(intent) => intent.bit(),
        None => scan(norm),
    }
}

/// The intent of a reply that is only a keyword, perhaps with courtesy words around it.
fn keyword(norm: &str) -> Option<ReplyIntent> {
    let lookup = |text: &str| KEYWORDS.iter().find(|(k, _)| *k == text).map(|&(_, i)| i);
    match lookup(norm) {
        Some(intent) => Some(intent),
        None => lookup(strip_courtesy(norm)).filter(|&i| i != ReplyIntent::OptIn),
    }
}

fn strip_courtesy(mut norm: &str) -> &str {
    loop {
        let before = norm.len();
        for word in COURTESY {
            if let Some(rest) = norm.strip_prefix(word) {
                if rest.is_empty() || rest.starts_with(' ') {
                    norm = rest.trim_start();
                }
            }
            if let Some(rest) = norm.strip_suffix(word) {
                if rest.is_empty() || rest.ends_with(' ') {
                    norm = rest.trim_end();
                }
            }
        }
        if norm.len() == before {
            return norm;
        }
    }
}

/// Scans the words of a normalized reply for phrases, longest match first at each word.
fn scan(norm: &str) -> u16 {
    let mut found = 0;
    let mut at = 0;
    while at < norm.len() {
        let rest = &norm[at..];
        let negated = norm[..at]
            .split_whitespace()
            .next_back()
            .is_some_and(|w| NEGATORS.contains(&w));
        let (mut len, mut bits) = (0, 0);
        for rule in RULES {
            for phrase in rule.phrases {
                if !starts_with_words(rest, phrase) || phrase.len() < len {
                    continue;
                }
                let bit = if rule.negatable && negated {
                    0
                } else {
                    rule.intent.bit()
                };
                if phrase.len() > len {
                    (len, bits) = (phrase.len(), bit);
                } else {
                    bits |= bit;
                }
            }
        }
        found |= bits;
        let word_len = rest.find(' ').unwrap_or(rest.len());
        at += len.max(word_len) + 1;
    }
    found
}

/// Whether `text` starts with the whole words of `phrase`.
fn starts_with_words(text: &str, phrase: &str) -> bool {
    text.starts_with(phrase) && text.as_bytes().get(phrase.len()).is_none_or(|&b| b == b' ')
}

/// Lowercase, accents stripped, apostrophes dropped, `#` and `&` kept as the words `#` and
/// `and`, everything else that is not a letter or digit a single space, no outer spaces.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        match fold(c) {
            Piece::Letter(c) => {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(c);
            }
            Piece::Word(word) => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(word);
                gap = true;
            }
            Piece::Join => {}
            Piece::Gap => gap = true,
        }
    }
    out
}

/// What one lowercase character becomes.
enum Piece {
    Letter(char),
    Word(&'static str),
    /// Dropped without a space: apostrophes (`don't` → `dont`) and combining accents.
    Join,
    Gap,
}

fn fold(c: char) -> Piece {
    Piece::Letter(match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'ý' | 'ÿ' => 'y',
        '\'' | '`' | '\u{b4}' | '\u{2018}' | '\u{2019}' | '\u{300}'..='\u{36f}' => {
            return Piece::Join
        }
        '#' => return Piece::Word("#"),
        '&' => return Piece::Word("and"),
        c if c.is_alphanumeric() => c,
        _ => return Piece::Gap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReplyIntent::*;

    /// Real-world-style replies and what they must be classified as.
    const CASES: &[(&str, ReplyIntent)] = &[
        // Carrier keywords, with noise around them.
        ("STOP", OptOut),
        ("STOP!!!", OptOut),
        ("Stop.", OptOut),
        ("stop 🙏", OptOut),
        ("  Stop  ", OptOut),
        ("STOPALL", OptOut),
        ("Stop all", OptOut),
        ("unsubscribe", OptOut),
        ("Cancel", OptOut),
        ("cancel please", OptOut),
        ("END", OptOut),
        ("Quit", OptOut),
        ("REVOKE", OptOut),
        ("opt-out", OptOut),
        ("Opt out", OptOut),
        ("OPTOUT", OptOut),
        ("STOP STOP STOP", OptOut),
        ("ALTO", OptOut),
        ("Alto por favor", OptOut),
        ("parar", OptOut),
        ("cancelar", OptOut),
        ("Cancelar por favor", OptOut),
        ("Baja", OptOut),
        ("No más", OptOut),
        ("STOP🛑", OptOut),
        ("ALTO!!! ya no más", OptOut),
        // Opt-out in free text.
        ("pls stop texting", OptOut),
        ("Please stop texting me", OptOut),
        ("Stop sending me messages!!", OptOut),
        ("Unsubscribe me please", OptOut),
        ("no more messages please", OptOut),
        ("don't text me", OptOut),
        ("Dont text this number again", OptOut),
        ("do not contact me", OptOut),
        ("leave me alone", OptOut),
        ("LEAVE ME ALONE!!! 😡", OptOut),
        ("remove me from your list", OptOut),
        ("take me off your list", OptOut),
        ("stop, I will pay later", OptOut),
        ("I want to pay but stop texting me", OptOut),
        ("stop harassing me", OptOut),
        ("quit texting me", OptOut),
        ("Stop payment reminders", OptOut),
        ("ok stop", OptOut),
        ("Yes, stop", OptOut),
        ("HELP STOP", OptOut),
        ("deja de mandarme mensajes", OptOut),
        ("no me escriban más", OptOut),
        ("ya no me manden mensajes", OptOut),
        ("Por favor denme de baja", OptOut),
        ("no quiero recibir mensajes", OptOut),
        ("stop calling and texting me", OptOut),
        // Opt-in: the keyword alone.
        ("Yes", OptIn),
        ("YES", OptIn),
        ("yes!", OptIn),
        ("start", OptIn),
        ("START.", OptIn),
        ("unstop", OptIn),
        ("opt in", OptIn),
        ("Opt-in", OptIn),
        ("yes please", Other),
        ("yes I'll pay friday", Other),
        ("start over", Other),
        // Help.
        ("HELP", Help),
        ("help!", Help),
        ("Info", Help),
        ("ayuda", Help),
        ("help me please", Help),
        ("I need help", Help),
        // Pay.
        ("PAY", Pay),
        ("pay", Pay),
        ("Pagar", Pay),
        ("pago", Pay),
        ("can i pay $50 a month", Pay),
        ("How do I pay?", Pay),
        ("send me the link to pay", Pay),
        ("I want to pay this off", Pay),
        ("I'd like to make a payment", Pay),
        ("quiero pagar", Pay),
        ("¿Cómo puedo pagar?", Pay),
        ("i dont want to pay", Other),
        ("I will not pay", Other),
        ("no puedo pagar", Other),
        ("no quiero pagar nada", Other),
        // Not my debt.
        ("Not my debt", NotMyDebt),
        ("This is NOT my debt!!!", NotMyDebt),
        ("this isn't mine", NotMyDebt),
        ("this isn’t mine", NotMyDebt),
        ("I don't owe this", NotMyDebt),
        ("I dont owe u anything", NotMyDebt),
        ("I never had an account with them", NotMyDebt),
        ("identity theft", NotMyDebt),
        ("this is identity theft, I never opened this", NotMyDebt),
        ("I dispute this debt", NotMyDebt),
        ("I already paid this", NotMyDebt),
        ("no es mi deuda", NotMyDebt),
        ("no es mía esta deuda", NotMyDebt),
        ("esa deuda no es mía", NotMyDebt),
        ("No debo nada", NotMyDebt),
        ("not my debt stop texting me", NotMyDebt),
        ("I never filed bankruptcy, this isn't mine", NotMyDebt),
        // Wrong number.
        ("wrong number", WrongNumber),
        ("Wrong #", WrongNumber),
        ("wrong #!!", WrongNumber),
        ("WRONG NUMBER STOP TEXTING ME", WrongNumber),
        ("you have the wrong person", WrongNumber),
        ("Who is this? I'm not Maria", WrongNumber),
        ("not me", WrongNumber),
        ("this is not my number", WrongNumber),
        ("no one by that name lives here", WrongNumber),
        ("I don't know who that is", WrongNumber),
        ("I just got this number", WrongNumber),
        ("wrong number, not my debt", WrongNumber),
        ("número equivocado", WrongNumber),
        ("Se equivocó de número", WrongNumber),
        ("no soy Maria", WrongNumber),
        // Stop calling.
        ("stop calling me", StopCalling),
        ("Stop calling!!", StopCalling),
        ("don't call me", StopCalling),
        ("Do not call this number", StopCalling),
        ("stop calling me I'll pay friday", StopCalling),
        ("no me llamen", StopCalling),
        ("dejen de llamarme", StopCalling),
        // Attorney.
        ("I got a lawyer", Attorney),
        ("I have a lawyer", Attorney),
        ("talk to my attorney John Smith 555-1234", Attorney),
        ("my lawyer will contact you", Attorney),
        ("I have a lawyer, stop texting me", Attorney),
        ("Contact my atty", Attorney),
        ("No. Talk to my attorney", Attorney),
        ("tengo abogado", Attorney),
        ("hable con mi abogado", Attorney),
        ("i dont have a lawyer", Other),
        ("no tengo abogado", Other),
        ("I'll report you to the attorney general", Other),
        // Bankruptcy.
        ("I filed bankruptcy", Bankruptcy),
        ("filed ch 7 last month", Bankruptcy),
        ("chapter 13", Bankruptcy),
        ("I'm in Chapter 7, stop texting", Bankruptcy),
        ("my bankruptcy attorney is handling it", Bankruptcy),
        ("me declaré en bancarrota", Bankruptcy),
        ("estoy en quiebra", Bankruptcy),
        ("i never filed bankruptcy", Other),
        // Deceased.
        ("my husband passed away", Deceased),
        ("he passed away last year", Deceased),
        ("She died in March", Deceased),
        ("the account holder is deceased", Deceased),
        ("my mom passed, please stop", Deceased),
        ("He passed away. Wrong number now", Deceased),
        ("falleció", Deceased),
        ("mi esposo murió", Deceased),
        // Everything else goes to the inbox.
        ("how much do I owe", Other),
        ("is this a scam?", Other),
        ("who is this", Other),
        ("Who dis?", Other),
        ("nonstop", Other),
        ("I stopped by the office yesterday to pay", Other),
        ("I'll stop by your office tomorrow", Other),
        ("stop my autopay", Other),
        ("I can pay at the end of the month", Other),
        ("el pago es muy alto", Other),
        ("¿Cuánto debo?", Other),
        ("I'm not paying this", Other),
        ("my phone died, what did you need", Other),
        ("you can call or text me anytime", Other),
        ("ok", Other),
        ("thanks", Other),
        ("👍", Other),
        ("", Other),
        ("   ", Other),
    ];

    #[test]
    fn classifies_the_reply_table() {
        assert!(CASES.len() >= 100, "only {} cases", CASES.len());
        let failures: Vec<String> = CASES
            .iter()
            .filter_map(|&(text, expected)| {
                let got = classify(text);
                (got != expected).then(|| {
                    format!(
                        "{text:?}: expected {expected}, got {got} (normalized {:?})",
                        normalize(text)
                    )
                })
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{} of {} replies misclassified:\n  {}",
            failures.len(),
            CASES.len(),
            failures.join("\n  ")
        );
    }

    #[test]
    fn classify_all_keeps_every_intent_in_precedence_order() {
        assert_eq!(
            classify_all("not my debt, stop texting me"),
            [NotMyDebt, OptOut]
        );
        assert_eq!(
            classify_all("stop calling and texting me"),
            [OptOut, StopCalling]
        );
        assert_eq!(classify_all("don't call or text me"), [OptOut, StopCalling]);
        assert_eq!(
            classify_all("I have a lawyer, stop texting me"),
            [Attorney, OptOut]
        );
        assert_eq!(classify_all("stop calling me"), [StopCalling]);
        assert_eq!(classify_all("Yes"), [OptIn]);
        assert_eq!(classify_all("is this a scam?"), [Other]);
        for &(text, _) in CASES {
            assert_eq!(classify_all(text)[0], classify(text), "{text:?}");
        }
    }

    #[test]
    fn normalizes_case_accents_punctuation_and_spaces() {
        assert_eq!(normalize("  ¡NO   más!! 🙏 "), "no mas");
        assert_eq!(normalize("Don’t  TEXT me."), "dont text me");
        assert_eq!(normalize("wrong#"), "wrong #");
        assert_eq!(normalize("calling&texting"), "calling and texting");
        assert_eq!(normalize("Mari\u{301}a Nin\u{303}o"), "maria nino");
        assert_eq!(normalize("ÉSTA ES MÍA, AÑO"), "esta es mia ano");
        assert_eq!(normalize("$50/month"), "50 month");
        assert_eq!(normalize("🙏🙏"), "");
    }

    #[test]
    fn tables_are_normalized_and_codes_are_unique() {
        let rule_phrases = RULES.iter().flat_map(|r| r.phrases.iter().copied());
        let keywords = KEYWORDS.iter().map(|&(k, _)| k);
        for phrase in rule_phrases
            .chain(keywords)
            .chain(COURTESY.iter().copied())
            .chain(NEGATORS.iter().copied())
        {
            assert_eq!(normalize(phrase), phrase, "table entry not normalized");
        }
        let mut codes: Vec<&str> = ReplyIntent::ALL.iter().map(|i| i.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ReplyIntent::ALL.len());
        assert!(codes
            .iter()
            .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        for intent in ReplyIntent::ALL {
            assert_eq!(
                PRECEDENCE.contains(&intent),
                intent != Other,
                "{intent} precedence"
            );
        }
    }
}
