//! Settle's Telegram bot. A chat is bound to an account by a single-use `/start <token>`
//! link; after an identity check in the chat the debtor can read the balance and the
//! itemization, get a portal link to pay, check a plan, change the language, dispute the
//! debt, set preferences, or stop Telegram messages.
//!
//! The bot keeps no state in memory: the dialogue state is a column of the chat's row and
//! every handled update is recorded, so a restart (or a second instance behind a load
//! balancer, in webhook mode) loses and repeats nothing. Every answer to a bound chat is a
//! compliance decision and an outbox row, like any reminder; only the generic answers to a
//! chat bound to nothing (how to get a link) are sent directly, as they say nothing about a
//! debt.

mod gateway;
mod texts;
mod webhook;

use accounts::disputes::{DisputeOrigin, DisputeReason, NewDispute};
use accounts::messaging::{LinkSettings, SenderOptions};
pub use accounts::telegram::deep_link;
use accounts::telegram::{BindOutcome, ChatAnswer, TelegramChat, TelegramToken};
use accounts::Accounts;
use chrono::NaiveDate;
use domain::messaging::MessageKind;
use domain::reply::{classify_all, ReplyIntent};
use domain::{AccountId, Language};
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::Requester;
use teloxide::types::{
    CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, UpdateKind,
};
use teloxide::utils::command::BotCommands;
use teloxide::Bot;

pub use gateway::TelegramGateway;
pub use webhook::{webhook_router, SECRET_HEADER};

use texts::*;

/// The bot's commands; the doc comments are the help text Telegram shows.
#[derive(BotCommands, Debug, Clone, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// Connect this chat with the link from the portal.
    Start(String),
    /// Your balance and its itemization.
    Balance,
    /// A secure link to pay or set up a plan.
    Pay,
    /// Your payment plan and next instalment.
    Plan,
    /// Change the language (English, Español).
    Language,
    /// Dispute the debt.
    Dispute,
    /// Your contact preferences.
    Preferences,
    /// Stop messages on Telegram.
    Stop,
    /// What this bot can do, and how to reach the agency.
    Help,
}

/// What the bot needs: the backend, where portal links point, and how to send.
#[derive(Clone)]
pub struct SettleBot {
    bot: Bot,
    accounts: Accounts,
    links: LinkSettings,
    sender: SenderOptions,
    username: String,
}

/// The dialogue states stored with a chat.
const IDLE: &str = "idle";
const VERIFY: &str = "verify";
const VERIFY_THEN_PLAN: &str = "verify:plan";
const DISPUTE_DETAILS_STATE: &str = "dispute_other";

/// What a chat asked to see once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    Balance,
    Plan,
}

impl SettleBot {
    /// A bot on `bot` (a teloxide client, pointed at Telegram or a test server) named
    /// `username` (for `/command@username` in groups).
    pub fn new(
        bot: Bot,
        accounts: Accounts,
        links: LinkSettings,
        sender: SenderOptions,
        username: &str,
    ) -> Self {
        SettleBot {
            bot,
            accounts,
            links,
            sender,
            username: username.trim_start_matches('@').to_string(),
        }
    }

    /// The teloxide client.
    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// The `t.me` link that binds a chat to `account` (for the portal and messages).
    pub async fn binding_link(&self, account: AccountId) -> accounts::Result<String> {
        let token = self.accounts.create_telegram_link(account).await?;
        Ok(deep_link(&self.username, &token))
    }

    /// Handles one update unless it was handled before, then sends what it queued. Errors
    /// are the backend's or Telegram's: the update is not recorded, so it is tried again.
    pub async fn handle(&self, update: Update) -> anyhow::Result<()> {
        let update_id = i64::from(update.id.0);
        if self.accounts.update_handled(update_id).await? {
            return Ok(());
        }
        match update.kind {
            UpdateKind::Message(m) => self.on_message(update_id, &m).await?,
            UpdateKind::CallbackQuery(q) => self.on_callback(update_id, &q).await?,
            UpdateKind::MyChatMember(change) if change.new_chat_member.is_banned() => {
                self.accounts.mark_chat_blocked(change.chat.id.0).await?;
            }
            _ => {}
        }
        // Recorded after the effects, so a crash repeats the update; its effects are
        // idempotent (single-use links, one inbound row and one answer set per update).
        self.accounts.first_update(update_id).await?;
        self.flush().await
    }

    /// Sends the chat answers and reminders waiting in the outbox.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let gateway = TelegramGateway::new(self.bot.clone());
        self.accounts.send_chats(&gateway, &self.sender).await?;
        Ok(())
    }

    /// Long polling, for one machine: asks Telegram for updates from where the last
    /// handled one left off, until the process ends.
    pub async fn run_polling(&self) {
        loop {
            if let Err(e) = self.poll_once(25).await {
                tracing::warn!("telegram polling: {e:#}");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    }

    /// One `getUpdates` call (waiting up to `timeout` seconds) and its updates handled;
    /// returns how many arrived. An update that fails twice is logged and skipped.
    pub async fn poll_once(&self, timeout: u32) -> anyhow::Result<usize> {
        let offset = self.accounts.last_update_id().await?.map_or(0, |id| id + 1);
        let updates = self
            .bot
            .get_updates()
            .offset(i32::try_from(offset).unwrap_or(i32::MAX))
            .timeout(timeout)
            .await?;
        let n = updates.len();
        for update in updates {
            let id = i64::from(update.id.0);
            if let Err(first) = self.handle(update.clone()).await {
                tracing::warn!(
                    update = id,
                    "telegram update failed, trying once more: {first:#}"
                );
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                if let Err(e) = self.handle(update).await {
                    // Skipped, not retried forever: one update that always fails would
                    // otherwise stop the bot for everyone.
                    tracing::error!(
                        update = id,
                        "telegram update skipped after two failures: {e:#}"
                    );
                    self.accounts.first_update(id).await?;
                }
            }
        }
        Ok(n)
    }

    async fn on_message(&self, update_id: i64, m: &Message) -> anyhow::Result<()> {
        if !m.chat.is_private() {
            return Ok(());
        }
        let chat_id = m.chat.id.0;
        let Some(text) = m.text() else {
            return Ok(());
        };
        let command = Command::parse(text, &self.username).ok().or_else(|| {
            // `/start` with nothing after it.
            let bare = text.split('@').next().unwrap_or_default().trim();
            (bare == "/start").then(|| Command::Start(String::new()))
        });
        let chat = self.accounts.telegram_chat(chat_id).await?;
        if let Some(Command::Start(payload)) = &command {
            return self.start(update_id, chat_id, chat, payload.trim()).await;
        }
        let Some(chat) = chat.filter(|c| c.account.is_some()) else {
            // Nothing is bound: the only thing to say is how to bind.
            let lang = user_language(m);
            let text = match command {
                Some(Command::Stop) => NOTHING_TO_STOP.get(lang),
                _ => START_WITHOUT_LINK.get(lang),
            };
            self.say_directly(m.chat.id, text).await;
            return Ok(());
        };
        let chat = if chat.blocked {
            // Writing again lifts a block: the user unblocked the bot.
            self.accounts.set_chat_state(chat_id, &chat.state).await?;
            self.reload(chat_id).await?
        } else {
            chat
        };
        match command {
            Some(command) => {
                self.record(&chat, update_id, text, "command").await?;
                self.command(update_id, &chat, command).await
            }
            None => self.free_text(update_id, &chat, text).await,
        }
    }

    async fn start(
        &self,
        update_id: i64,
        chat_id: i64,
        chat: Option<TelegramChat>,
        payload: &str,
    ) -> anyhow::Result<()> {
        let lang = chat.as_ref().map_or(Language::En, |c| c.language);
        if payload.is_empty() {
            return match chat.filter(|c| c.account.is_some()) {
                Some(chat) if chat.opted_out => {
                    // `/start` after `/stop`: the debtor asks for messages again.
                    let account = chat.account.expect("filtered on a bound chat");
                    self.accounts
                        .change_consent(
                            account,
                            domain::compliance::Channel::Telegram,
                            accounts::ConsentChange::Consent,
                            "telegram /start",
                        )
                        .await?;
                    self.record(&chat, update_id, "/start", "opted back in to Telegram")
                        .await?;
                    let chat = self.reload(chat_id).await?;
                    self.answer(
                        update_id,
                        &chat,
                        vec![text_answer(
                            MessageKind::OptInConfirmation,
                            RESTARTED.get(lang),
                            Some(menu(lang)),
                        )],
                    )
                    .await
                }
                Some(chat) => {
                    self.record(&chat, update_id, "/start", "command").await?;
                    self.answer(update_id, &chat, vec![menu_answer(lang)]).await
                }
                None => {
                    self.say_directly(
                        teloxide::types::ChatId(chat_id),
                        START_WITHOUT_LINK.get(lang),
                    )
                    .await;
                    Ok(())
                }
            };
        }
        let outcome = match TelegramToken::parse(payload) {
            Some(token) => self.accounts.bind_telegram(chat_id, &token).await?,
            None => BindOutcome::Unknown,
        };
        let refusal = match outcome {
            BindOutcome::Bound(_) => None,
            BindOutcome::Used => Some(LINK_USED),
            BindOutcome::Expired => Some(LINK_EXPIRED),
            BindOutcome::Unknown => Some(LINK_UNKNOWN),
        };
        if let Some(text) = refusal {
            tracing::info!(chat = chat_id, ?outcome, "telegram binding refused");
            self.say_directly(teloxide::types::ChatId(chat_id), text.get(lang))
                .await;
            return Ok(());
        }
        let chat = self.reload(chat_id).await?;
        let lang = chat.language;
        self.record(&chat, update_id, "/start (link)", "bound the chat")
            .await?;
        self.answer(
            update_id,
            &chat,
            vec![text_answer(
                MessageKind::Help,
                BOUND.get(lang),
                Some(menu(lang)),
            )],
        )
        .await
    }

    async fn command(
        &self,
        update_id: i64,
        chat: &TelegramChat,
        command: Command,
    ) -> anyhow::Result<()> {
        let lang = chat.language;
        let account = chat.account.expect("commands reach bound chats only");
        let answers = match command {
            Command::Start(_) => unreachable!("handled before"),
            Command::Balance => return self.detail(update_id, chat, Detail::Balance).await,
            Command::Plan => return self.detail(update_id, chat, Detail::Plan).await,
            Command::Pay => vec![self.portal_answer(account, lang, PAY, "/pay").await?],
            Command::Preferences => {
                vec![
                    self.portal_answer(account, lang, PREFERENCES, "/preferences")
                        .await?,
                ]
            }
            Command::Language => vec![text_answer(
                MessageKind::Help,
                CHOOSE_LANGUAGE.get(lang),
                Some(keyboard(vec![vec![
                    InlineKeyboardButton::callback("English", "lang:en"),
                    InlineKeyboardButton::callback("Español", "lang:es"),
                ]])),
            )],
            Command::Dispute => vec![dispute_answer(lang)],
            Command::Stop => return self.stop(update_id, chat).await,
            Command::Help => vec![self.help_answer(chat).await?],
        };
        self.answer(update_id, chat, answers).await
    }

    async fn free_text(
        &self,
        update_id: i64,
        chat: &TelegramChat,
        text: &str,
    ) -> anyhow::Result<()> {
        let lang = chat.language;
        match chat.state.as_str() {
            VERIFY | VERIFY_THEN_PLAN => {
                // Never stored: the answer holds the date of birth.
                self.record(chat, update_id, "[identity check answer]", "identity check")
                    .await?;
                let detail = if chat.state == VERIFY_THEN_PLAN {
                    Detail::Plan
                } else {
                    Detail::Balance
                };
                return self.check_identity(update_id, chat, text, detail).await;
            }
            DISPUTE_DETAILS_STATE => {
                let account = chat.account.expect("bound chat");
                self.record(chat, update_id, text, "opened a dispute: other")
                    .await?;
                // The debtor's own words are new information: always a dispute of its own.
                let dispute =
                    NewDispute::from_message(DisputeReason::Other, text, DisputeOrigin::Telegram);
                let path = format!(
                    "/disputes/{}",
                    self.accounts.open_dispute(account, dispute).await?
                );
                self.accounts.set_chat_state(chat.chat_id, IDLE).await?;
                let answer = self
                    .portal_answer(account, lang, DISPUTE_RECORDED, &path)
                    .await?;
                return self.answer(update_id, chat, vec![answer]).await;
            }
            _ => {}
        }
        let intents = classify_all(text);
        let intent = intents.first().copied().unwrap_or(ReplyIntent::Other);
        let (action, _, to_agency) = accounts::messaging::reply_plan(intent);
        let action = action.replace("text messages", "Telegram messages");
        self.accounts
            .receive_chat(chat, update_id, text, &intents, &action, to_agency)
            .await?;
        let account = chat.account.expect("bound chat");
        let chat = self.reload(chat.chat_id).await?;
        let answers = if intents.contains(&ReplyIntent::OptOut) {
            vec![text_answer(
                MessageKind::OptOutConfirmation,
                STOPPED.get(lang),
                None,
            )]
        } else {
            match intent {
                ReplyIntent::OptIn => vec![text_answer(
                    MessageKind::OptInConfirmation,
                    RESTARTED.get(lang),
                    None,
                )],
                ReplyIntent::Help => vec![self.help_answer(&chat).await?],
                ReplyIntent::Pay => vec![self.portal_answer(account, lang, PAY, "/pay").await?],
                ReplyIntent::NotMyDebt => vec![
                    self.portal_answer(account, lang, DISPUTE_RECORDED, "/account")
                        .await?,
                ],
                // A hold or a refused medium: nothing more goes to this chat.
                ReplyIntent::Attorney
                | ReplyIntent::Bankruptcy
                | ReplyIntent::Deceased
                | ReplyIntent::WrongNumber => Vec::new(),
                ReplyIntent::StopCalling | ReplyIntent::Other => vec![text_answer(
                    MessageKind::FlagReceived,
                    PASSED_ON.get(lang),
                    Some(menu(lang)),
                )],
                ReplyIntent::OptOut => unreachable!("handled above"),
            }
        };
        self.answer(update_id, &chat, answers).await
    }

    async fn on_callback(&self, update_id: i64, q: &CallbackQuery) -> anyhow::Result<()> {
        // Stops the button's spinner whatever happens next. A failure (the query is too old)
        // must not stop the update: it would be retried, and polling would stall on it.
        if let Err(e) = self.bot.answer_callback_query(q.id.clone()).await {
            tracing::warn!("telegram callback not answered: {e}");
        }
        let chat_id = q
            .message
            .as_ref()
            .map_or(q.from.id.0 as i64, |m| m.chat().id.0);
        let Some(chat) = self
            .accounts
            .telegram_chat(chat_id)
            .await?
            .filter(|c| c.account.is_some())
        else {
            let lang = user_lang(q.from.language_code.as_deref());
            self.say_directly(teloxide::types::ChatId(chat_id), NOT_BOUND.get(lang))
                .await;
            return Ok(());
        };
        let data = q.data.as_deref().unwrap_or_default();
        self.record(&chat, update_id, &format!("[button] {data}"), "button")
            .await?;
        let account = chat.account.expect("bound chat");
        let (what, arg) = data.split_once(':').unwrap_or((data, ""));
        match (what, arg) {
            ("menu", "balance") => self.command(update_id, &chat, Command::Balance).await,
            ("menu", "plan") => self.command(update_id, &chat, Command::Plan).await,
            ("menu", "pay") => self.command(update_id, &chat, Command::Pay).await,
            ("menu", "dispute") => self.command(update_id, &chat, Command::Dispute).await,
            ("menu", "language") => self.command(update_id, &chat, Command::Language).await,
            ("menu", "preferences") => self.command(update_id, &chat, Command::Preferences).await,
            ("lang", tag) => {
                let Ok(lang) = tag.parse::<Language>() else {
                    return Ok(());
                };
                self.accounts.set_language(account, lang).await?;
                let chat = self.reload(chat_id).await?;
                self.answer(
                    update_id,
                    &chat,
                    vec![text_answer(
                        MessageKind::Help,
                        LANGUAGE_SET.get(lang),
                        Some(menu(lang)),
                    )],
                )
                .await
            }
            ("dispute", "other") => {
                self.accounts
                    .set_chat_state(chat_id, DISPUTE_DETAILS_STATE)
                    .await?;
                self.answer(
                    update_id,
                    &chat,
                    vec![text_answer(
                        MessageKind::Help,
                        DISPUTE_DETAILS.get(chat.language),
                        None,
                    )],
                )
                .await
            }
            (
                "dispute",
                reason @ ("not_my_debt" | "amount_wrong" | "original_creditor_request"),
            ) => {
                let parsed: DisputeReason = reason.parse()?;
                let dispute = NewDispute::from_message(parsed, "", DisputeOrigin::Telegram);
                let path = format!(
                    "/disputes/{}",
                    self.accounts
                        .dispute_unless_waiting(account, dispute)
                        .await?
                );
                let text = if reason == "original_creditor_request" {
                    CREDITOR_REQUEST_RECORDED
                } else {
                    DISPUTE_RECORDED
                };
                let answer = self
                    .portal_answer(account, chat.language, text, &path)
                    .await?;
                self.answer(update_id, &chat, vec![answer]).await
            }
            _ => Ok(()),
        }
    }

    /// The balance or the plan: shown to a verified chat, else the identity check starts.
    async fn detail(
        &self,
        update_id: i64,
        chat: &TelegramChat,
        detail: Detail,
    ) -> anyhow::Result<()> {
        if !chat.verified {
            let state = match detail {
                Detail::Balance => VERIFY,
                Detail::Plan => VERIFY_THEN_PLAN,
            };
            self.accounts.set_chat_state(chat.chat_id, state).await?;
            return self
                .answer(
                    update_id,
                    chat,
                    vec![text_answer(
                        MessageKind::Help,
                        ASK_IDENTITY.get(chat.language),
                        None,
                    )],
                )
                .await;
        }
        let answer = self.detail_answer(chat, detail).await?;
        self.answer(update_id, chat, vec![answer]).await
    }

    async fn check_identity(
        &self,
        update_id: i64,
        chat: &TelegramChat,
        text: &str,
        detail: Detail,
    ) -> anyhow::Result<()> {
        let lang = chat.language;
        let account = chat.account.expect("bound chat");
        let Some((dob, zip)) = parse_identity(text) else {
            return self
                .answer(
                    update_id,
                    chat,
                    vec![text_answer(
                        MessageKind::Help,
                        IDENTITY_FORMAT.get(lang),
                        None,
                    )],
                )
                .await;
        };
        let reply = match self.accounts.verify_identity(account, dob, &zip).await? {
            accounts::portal::Verification::Verified => {
                self.accounts.mark_chat_verified(chat.chat_id).await?;
                let chat = self.reload(chat.chat_id).await?;
                let shown = self.detail_answer(&chat, detail).await?;
                return self
                    .answer(
                        update_id,
                        &chat,
                        vec![
                            text_answer(MessageKind::Help, IDENTITY_OK.get(lang), None),
                            shown,
                        ],
                    )
                    .await;
            }
            accounts::portal::Verification::Wrong { remaining } => {
                format!("{} {remaining}", IDENTITY_WRONG.get(lang))
            }
            accounts::portal::Verification::Locked { .. } => {
                self.accounts.set_chat_state(chat.chat_id, IDLE).await?;
                IDENTITY_LOCKED.get(lang).to_string()
            }
        };
        self.answer(
            update_id,
            chat,
            vec![text_answer(MessageKind::Help, &reply, None)],
        )
        .await
    }

    async fn detail_answer(
        &self,
        chat: &TelegramChat,
        detail: Detail,
    ) -> anyhow::Result<ChatAnswer> {
        let lang = chat.language;
        let account = chat.account.expect("bound chat");
        let o = self.accounts.account_overview(account).await?;
        let text = match detail {
            Detail::Balance => {
                let i = &o.record.itemization;
                format!(
                    "{collector} {head}\n{creditor_l}: {creditor}\n{account_l}: {reference}\n\
                     {balance_l}: {balance}\n\n{item_l} {date}:\n\
                     • {owed_l}: {owed}\n• {interest_l}: +{interest}\n• {fees_l}: +{fees}\n\
                     • {payments_l}: -{payments}\n• {credits_l}: -{credits}\n• {now_l}: {now}",
                    collector = o.collector,
                    head = BALANCE_HEAD.get(lang),
                    creditor_l = CREDITOR.get(lang),
                    creditor = o.record.creditor,
                    account_l = ACCOUNT.get(lang),
                    reference = o.record.account_ref.as_str(),
                    balance_l = BALANCE.get(lang),
                    balance = o.balance.for_people(),
                    item_l = ITEMIZATION.get(lang),
                    date = i.date(),
                    owed_l = OWED_THEN.get(lang),
                    owed = i.balance_at_itemization().for_people(),
                    interest_l = INTEREST.get(lang),
                    interest = i.interest_since().for_people(),
                    fees_l = FEES.get(lang),
                    fees = i.fees_since().for_people(),
                    payments_l = PAYMENTS.get(lang),
                    payments = i.payments_since().for_people(),
                    credits_l = CREDITS.get(lang),
                    credits = i.credits_since().for_people(),
                    now_l = BALANCE.get(lang),
                    now = i.current().for_people(),
                )
            }
            Detail::Plan => match o.plan_status.as_deref() {
                None => NO_PLAN.get(lang).to_string(),
                Some(status) => {
                    let status_text = match status {
                        "active" => PLAN_ACTIVE.get(lang),
                        "awaiting_method" => PLAN_AWAITING.get(lang),
                        "completed" => PLAN_COMPLETED.get(lang),
                        _ => PLAN_BROKEN.get(lang),
                    };
                    let mut text = format!("{}: {status_text}", PLAN_STATUS.get(lang));
                    if let Some((due, amount)) = o.plan_next {
                        text.push_str(&format!(
                            "\n{}: {} — {due}",
                            NEXT_INSTALMENT.get(lang),
                            amount.for_people()
                        ));
                    }
                    text
                }
            },
        };
        Ok(text_answer(MessageKind::Help, &text, Some(menu(lang))))
    }

    async fn stop(&self, update_id: i64, chat: &TelegramChat) -> anyhow::Result<()> {
        let account = chat.account.expect("bound chat");
        self.accounts
            .change_consent(
                account,
                domain::compliance::Channel::Telegram,
                accounts::ConsentChange::OptOut,
                "telegram /stop",
            )
            .await?;
        let chat = self.reload(chat.chat_id).await?;
        self.answer(
            update_id,
            &chat,
            vec![text_answer(
                MessageKind::OptOutConfirmation,
                STOPPED.get(chat.language),
                None,
            )],
        )
        .await
    }

    async fn help_answer(&self, chat: &TelegramChat) -> anyhow::Result<ChatAnswer> {
        let lang = chat.language;
        let account = chat.account.expect("bound chat");
        let record = self.accounts.account(account).await?;
        let cadence = self
            .accounts
            .cadence_for(record.agency_id, &record.creditor)
            .await?;
        let text = format!(
            "{}\n\n{} {}",
            Command::descriptions(),
            HELP_CONTACT.get(lang),
            cadence.help_contact
        );
        Ok(text_answer(MessageKind::Help, &text, Some(menu(lang))))
    }

    /// A text with a button (and the address written out) to a portal page, through a
    /// fresh link that still asks for the identity check.
    async fn portal_answer(
        &self,
        account: AccountId,
        lang: Language,
        text: Text,
        path: &str,
    ) -> anyhow::Result<ChatAnswer> {
        let link = self
            .accounts
            .create_link_to(account, self.links.ttl, Some(path))
            .await?;
        let url = format!("{}/l/{}", self.links.public_url, link.token.expose());
        let markup = match url.parse() {
            Ok(parsed) => Some(keyboard(vec![vec![InlineKeyboardButton::url(
                OPEN_PORTAL.get(lang),
                parsed,
            )]])),
            Err(_) => None,
        };
        Ok(text_answer(
            MessageKind::PayLink,
            &format!("{} {url}", text.get(lang)),
            markup,
        ))
    }

    /// Records a chat message in the inbox and history (commands and buttons close
    /// themselves; free text is recorded by `receive_chat` with its intents).
    async fn record(
        &self,
        chat: &TelegramChat,
        update_id: i64,
        body: &str,
        action: &str,
    ) -> anyhow::Result<()> {
        self.accounts
            .receive_chat(chat, update_id, body, &[], action, false)
            .await?;
        Ok(())
    }

    async fn answer(
        &self,
        update_id: i64,
        chat: &TelegramChat,
        answers: Vec<ChatAnswer>,
    ) -> anyhow::Result<()> {
        if answers.is_empty() {
            return Ok(());
        }
        let queued = self
            .accounts
            .queue_chat_answers(chat, &update_id.to_string(), answers, &self.links)
            .await?;
        tracing::debug!(chat = chat.chat_id, queued, "telegram answers queued");
        Ok(())
    }

    /// Sends a text that names no debt to a chat bound to nothing. A refusal (the user
    /// blocked the bot) is logged, not returned: the update is then done, never retried,
    /// so one unreachable chat cannot stall polling.
    async fn say_directly(&self, chat: teloxide::types::ChatId, text: &str) {
        if let Err(e) = self.bot.send_message(chat, text).await {
            tracing::warn!(
                chat = chat.0,
                "telegram message to an unbound chat not sent: {e}"
            );
        }
    }

    async fn reload(&self, chat_id: i64) -> anyhow::Result<TelegramChat> {
        self.accounts
            .telegram_chat(chat_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("chat {chat_id} vanished"))
    }
}

/// Reads "1980-04-12 90210" (or "04/12/1980, 90210"): a date of birth and a ZIP code.
fn parse_identity(text: &str) -> Option<(NaiveDate, String)> {
    let parts: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|p| !p.is_empty())
        .collect();
    let [date, zip] = parts.as_slice() else {
        return None;
    };
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(date, "%m/%d/%Y"))
        .ok()?;
    let zip = zip
        .get(..5)
        .filter(|z| z.bytes().all(|b| b.is_ascii_digit()))?;
    Some((date, zip.to_string()))
}

fn user_language(m: &Message) -> Language {
    user_lang(m.from.as_ref().and_then(|u| u.language_code.as_deref()))
}

fn user_lang(code: Option<&str>) -> Language {
    match code {
        Some(c) if c.starts_with("es") => Language::Es,
        _ => Language::En,
    }
}

fn keyboard(rows: Vec<Vec<InlineKeyboardButton>>) -> String {
    serde_json::to_string(&InlineKeyboardMarkup::new(rows)).unwrap_or_default()
}

fn menu(lang: Language) -> String {
    let b = |text: Text, data: &str| InlineKeyboardButton::callback(text.get(lang), data);
    keyboard(vec![
        vec![b(BUTTON_BALANCE, "menu:balance"), b(BUTTON_PAY, "menu:pay")],
        vec![
            b(BUTTON_PLAN, "menu:plan"),
            b(BUTTON_DISPUTE, "menu:dispute"),
        ],
        vec![
            b(BUTTON_LANGUAGE, "menu:language"),
            b(BUTTON_PREFERENCES, "menu:preferences"),
        ],
    ])
}

fn menu_answer(lang: Language) -> ChatAnswer {
    text_answer(MessageKind::Help, MENU.get(lang), Some(menu(lang)))
}

fn dispute_answer(lang: Language) -> ChatAnswer {
    let b = |text: Text, data: &str| vec![InlineKeyboardButton::callback(text.get(lang), data)];
    text_answer(
        MessageKind::Help,
        DISPUTE_ASK.get(lang),
        Some(keyboard(vec![
            b(DISPUTE_NOT_MINE, "dispute:not_my_debt"),
            b(DISPUTE_AMOUNT, "dispute:amount_wrong"),
            b(DISPUTE_OTHER, "dispute:other"),
            b(DISPUTE_CREDITOR, "dispute:original_creditor_request"),
        ])),
    )
}

fn text_answer(kind: MessageKind, text: &str, markup: Option<String>) -> ChatAnswer {
    ChatAnswer {
        kind,
        text: Some(text.to_string()),
        markup,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_answers_are_read_in_the_usual_forms() {
        let d = NaiveDate::from_ymd_opt(1980, 4, 12).unwrap();
        assert_eq!(
            parse_identity("1980-04-12 90210"),
            Some((d, "90210".into()))
        );
        assert_eq!(
            parse_identity(" 04/12/1980, 90210-1234 "),
            Some((d, "90210".into()))
        );
        assert_eq!(parse_identity("1980-04-12"), None);
        assert_eq!(parse_identity("1980-13-12 90210"), None);
        assert_eq!(parse_identity("1980-04-12 9021x"), None);
    }

    #[test]
    fn commands_parse_with_and_without_the_bot_name() {
        assert_eq!(
            Command::parse("/start abc", "settle_bot").unwrap(),
            Command::Start("abc".into())
        );
        assert_eq!(
            Command::parse("/stop@settle_bot", "settle_bot").unwrap(),
            Command::Stop
        );
        let help = Command::descriptions().to_string();
        assert!(help.contains("/balance") && help.contains("Your balance and its itemization"));
    }
}
