//! The portal's pages after the start page: identity check, account, validation notice,
//! contact preferences, "is this really us?". Each form is an `ActionForm` over a server
//! function: a plain POST and redirect without JavaScript, the same without reload with it.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::i18n::{t, use_lang, Lang, Msg};
use crate::portal::{
    account_view, notice_flash, preferences_view, verify_state, ConsentToNotice, SavePreferences,
    SignOut, StartWithReference, Verify,
};

/// The language switch and sign-out, on every page.
#[component]
pub fn TopBar() -> impl IntoView {
    let lang = use_lang();
    let other = lang.other();
    let location = use_location();
    let href = move || format!("/lang/{}?next={}", other.tag(), location.pathname.get());
    view! {
        <nav class="topbar" aria-label="Language">
            <a href=href hreflang=other.tag() lang=other.tag() rel="external" data-testid="lang-switch">
                {other.name()}
            </a>
        </nav>
    }
}

fn flash_text(lang: Lang, flash: &str) -> Option<&'static str> {
    Some(match flash {
        "wrong" => t(lang, Msg::VerifyWrong),
        "locked" => t(lang, Msg::VerifyLocked),
        "busy" => t(lang, Msg::VerifyBusy),
        "link" => t(lang, Msg::LinkInvalid),
        "consent_required" => t(lang, Msg::EsignRequired),
        "saved" => t(lang, Msg::Saved),
        "invalid" => t(lang, Msg::TimeRangeInvalid),
        "phone_invalid" => t(lang, Msg::PhoneInvalid),
        "email_invalid" => t(lang, Msg::EmailInvalid),
        "amount" => t(lang, Msg::AmountInvalid),
        "unavailable" => t(lang, Msg::ProcessorUnavailable),
        "settle_agree" => t(lang, Msg::SettleAgreeRequired),
        "plan_invalid" => t(lang, Msg::PlanInvalid),
        "authorize" => t(lang, Msg::AuthorizeRequired),
        "moved" => t(lang, Msg::InstalmentMoved),
        "move_invalid" => t(lang, Msg::MoveInvalid),
        "cancel_confirm" => t(lang, Msg::CancelConfirmRequired),
        "plan_cancelled" => t(lang, Msg::PlanCancelled),
        "amount_changed" => t(lang, Msg::AmountChanged),
        "amount_change_invalid" => t(lang, Msg::AmountChangeInvalid),
        "reason_missing" => t(lang, Msg::ReasonMissing),
        "details_missing" => t(lang, Msg::DetailsMissing),
        "details_too_long" => t(lang, Msg::DetailsTooLong),
        "file_too_large" => t(lang, Msg::FileTooLarge),
        "file_type" => t(lang, Msg::FileType),
        "file_empty" => t(lang, Msg::FileEmpty),
        "evidence_added" => t(lang, Msg::EvidenceAdded),
        "already_answered" => t(lang, Msg::AlreadyAnswered),
        _ => return None,
    })
}

/// A one-time message from the last form, if it has a text.
#[component]
pub(crate) fn Flash(
    flash: Option<String>,
    #[prop(default = "alert")] role: &'static str,
) -> impl IntoView {
    let lang = use_lang();
    flash.as_deref().and_then(|f| flash_text(lang, f)).map(|m| {
        view! { <p role=role class="alert" data-testid="flash">{m}</p> }
    })
}

/// The Regulation F itemization: date, amount then, interest, fees, payments, credits, now.
#[component]
fn ItemizationTable(date: String, amounts: [String; 6]) -> impl IntoView {
    let lang = use_lang();
    let rows = [
        Msg::AmountThen,
        Msg::InterestSince,
        Msg::FeesSince,
        Msg::PaymentsSince,
        Msg::CreditsSince,
        Msg::AmountNow,
    ];
    view! {
        <table class="itemization" data-testid="itemization">
            <tbody>
                <tr><th scope="row">{t(lang, Msg::ItemizationDate)}</th><td>{date}</td></tr>
                {rows.into_iter().zip(amounts).map(|(m, v)| view! {
                    <tr><th scope="row">{t(lang, m)}</th><td>{v}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The reference form of the start page.
#[component]
pub fn ReferenceForm() -> impl IntoView {
    let lang = use_lang();
    let action = ServerAction::<StartWithReference>::new();
    view! {
        <ActionForm action=action attr:class="card">
            <label for="reference">{t(lang, Msg::ReferenceLabel)}</label>
            <input id="reference" name="reference" required autocomplete="off" spellcheck="false"/>
            <button type="submit">{t(lang, Msg::Continue)}</button>
        </ActionForm>
    }
}

/// `/verify`: date of birth and ZIP code.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let lang = use_lang();
    let action = ServerAction::<Verify>::new();
    let state = Resource::new(move || action.version().get(), |_| verify_state());
    view! {
        <h1>{t(lang, Msg::VerifyTitle)}</h1>
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || state.get().map(|s| match s {
                Ok(s) if !s.chosen => view! {
                    <Flash flash=s.flash.clone()/>
                    <p>{t(lang, Msg::NoAccountChosen)}</p>
                    <ReferenceForm/>
                }.into_any(),
                Ok(s) => view! {
                    <Flash flash=s.flash.clone()/>
                    <p>{t(lang, Msg::VerifyIntro)}</p>
                    <ActionForm action=action attr:class="card">
                        <label for="dob">{t(lang, Msg::DobLabel)}</label>
                        <input id="dob" name="dob" type="date" required autocomplete="bday"/>
                        <label for="zip">{t(lang, Msg::ZipLabel)}</label>
                        <input id="zip" name="zip" required inputmode="numeric"
                            autocomplete="postal-code" pattern="[0-9]{5}" maxlength="5"/>
                        <button type="submit">{t(lang, Msg::VerifyButton)}</button>
                    </ActionForm>
                }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn SignOutForm() -> impl IntoView {
    let lang = use_lang();
    let action = ServerAction::<SignOut>::new();
    view! {
        <ActionForm action=action attr:class="signout">
            <button type="submit" class="link-button">{t(lang, Msg::SignOut)}</button>
        </ActionForm>
    }
}

/// `/account`: balance, itemization, history, plan.
#[component]
pub fn AccountPage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(|| (), |_| account_view());
    view! {
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(a)) => {
                    view! {
                        <p class="collector">{a.collector.clone()}</p>
                        <h1>{t(lang, Msg::AccountTitle)}</h1>
                        <dl class="facts">
                            <dt>{t(lang, Msg::Creditor)}</dt><dd data-testid="creditor">{a.creditor.clone()}</dd>
                            {a.original_creditor.clone().map(|o| view! {
                                <dt>{t(lang, Msg::OriginalCreditor)}</dt><dd>{o}</dd>
                            })}
                            <dt>{t(lang, Msg::AccountReference)}</dt><dd>{a.account_ref.clone()}</dd>
                            <dt>{t(lang, Msg::CurrentBalance)}</dt><dd class="balance" data-testid="balance">{a.balance.clone()}</dd>
                        </dl>
                        <h2>{t(lang, Msg::ItemizationTitle)}</h2>
                        <ItemizationTable date=a.itemization_date.clone() amounts=a.itemization.clone()/>
                        <h2>{t(lang, Msg::HistoryTitle)}</h2>
                        <table class="history">
                            <thead><tr>
                                <th scope="col">{t(lang, Msg::Date)}</th>
                                <th scope="col">{t(lang, Msg::Entry)}</th>
                                <th scope="col">{t(lang, Msg::Amount)}</th>
                            </tr></thead>
                            <tbody>
                                {a.history.clone().into_iter().map(|(d, k, v)| view! {
                                    <tr><td>{d}</td><td>{k}</td><td>{v}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <h2>{t(lang, Msg::PlanTitle)}</h2>
                        {match a.plan_status.clone() {
                            Some(status) => view! {
                                <p data-testid="plan-summary">
                                    <a href="/plan">{crate::pay_pages::plan_status_text(lang, &status)}</a>
                                    {a.plan_next.clone().map(|(d, m)| view! {
                                        ". "{t(lang, Msg::NextPayment)}": "{d}", "{m}
                                    })}
                                </p>
                            }.into_any(),
                            None => view! { <p>{t(lang, Msg::NoPlan)}</p> }.into_any(),
                        }}
                        <ul class="actions">
                            {a.owes.then(|| view! {
                                <li><a href="/pay" data-testid="pay-link">{t(lang, Msg::PayLink)}</a></li>
                            })}
                            <li><a href="/notice">{t(lang, Msg::NoticeLink)}</a></li>
                            <li><a href="/dispute" data-testid="dispute-link">{t(lang, Msg::DisputeLink)}</a></li>
                            <li><a href="/preferences">{t(lang, Msg::PreferencesLink)}</a></li>
                        </ul>
                        {(!a.disputes.is_empty()).then(|| view! {
                            <h2>{t(lang, Msg::DisputesTitle)}</h2>
                            <ul class="disputes" data-testid="disputes">
                                {a.disputes.clone().into_iter().map(|d| view! {
                                    <li>
                                        <a href=format!("/disputes/{}", d.id)>{t(lang, Msg::DisputeOf)}" "{d.opened.clone()}</a>
                                        ": "{crate::dispute_pages::status_text(lang, &d.status)}
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                        {a.telegram.then(|| view! {
                            <form method="post" action="/telegram/connect" class="telegram">
                                <p>{t(lang, Msg::TelegramOffer)}</p>
                                <button type="submit" data-testid="telegram-connect">{t(lang, Msg::TelegramConnect)}</button>
                            </form>
                        })}
                        <SignOutForm/>
                    }.into_any()
                }
                Ok(None) => view! { <p><a href="/verify">{t(lang, Msg::VerifyTitle)}</a></p> }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// `/notice`: E-SIGN consent, then the validation notice (Model Form B-1 content).
#[component]
pub fn NoticePage() -> impl IntoView {
    let lang = use_lang();
    let action = ServerAction::<ConsentToNotice>::new();
    let data = Resource::new(move || action.version().get(), |_| account_view());
    let flash = Resource::new(move || action.version().get(), |_| notice_flash());
    view! {
        <h1>{t(lang, Msg::NoticeTitle)}</h1>
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || flash.get().and_then(Result::ok).map(|f| view! { <Flash flash=f/> })}
            {move || data.get().map(|r| match r {
                Ok(Some(a)) if a.validation_end.is_none() => view! {
                    <p>{t(lang, Msg::EsignIntro)}</p>
                    <ActionForm action=action attr:class="card">
                        <div class="check">
                            <input id="agree" name="agree" type="checkbox" value="yes"/>
                            <label for="agree">{t(lang, Msg::EsignConsent)}</label>
                        </div>
                        <button type="submit">{t(lang, Msg::EsignButton)}</button>
                    </ActionForm>
                }.into_any(),
                Ok(Some(a)) => {
                    let end = a.validation_end.clone().unwrap_or_default();
                    view! {
                        <article class="notice" data-testid="notice">
                            <p><strong>{a.collector.clone()}</strong>" "{t(lang, Msg::NoticeFrom)}" "<strong>{a.creditor.clone()}</strong>". "{t(lang, Msg::NoticeUse)}</p>
                            <h2>{t(lang, Msg::NoticeOurInfo)}</h2>
                            <dl class="facts">
                                <dt>{t(lang, Msg::Creditor)}</dt><dd>{a.creditor.clone()}</dd>
                                <dt>{t(lang, Msg::AccountReference)}</dt><dd>{a.account_ref.clone()}</dd>
                            </dl>
                            <ItemizationTable date=a.itemization_date.clone() amounts=a.itemization.clone()/>
                            <h2>{t(lang, Msg::HowCanYouDispute)}</h2>
                            <p>{t(lang, Msg::DisputeBy)}" "<strong data-testid="validation-end">{end}</strong>" "{t(lang, Msg::DisputeBy2)}</p>
                            <p>{t(lang, Msg::DisputeWritten)}</p>
                            <p>{t(lang, Msg::OriginalCreditorAsk)}</p>
                            <h2>{t(lang, Msg::WhatElse)}</h2>
                            <p>{t(lang, Msg::WhatElseText)}</p>
                            <h2>{t(lang, Msg::DisputeFormTitle)}</h2>
                            <p>{t(lang, Msg::DisputeBecause)}</p>
                            <ul class="b1">
                                <li>{t(lang, Msg::NotMyDebt)}</li>
                                <li>{t(lang, Msg::AmountWrong)}</li>
                                <li>{t(lang, Msg::Other)}</li>
                            </ul>
                            <p>{t(lang, Msg::WantOriginal)}</p>
                            <p class="no-print">{t(lang, Msg::DisputeOnline)}" "<a href="/dispute" data-testid="dispute-link">{t(lang, Msg::DisputeLink)}</a></p>
                            <p class="note no-print">{t(lang, Msg::Print)}</p>
                            <PrintButton label=t(lang, Msg::PrintButton).to_string()/>
                        </article>
                        <p class="no-print"><a href="/account">{t(lang, Msg::Back)}</a></p>
                    }.into_any()
                }
                Ok(None) => view! { <p><a href="/verify">{t(lang, Msg::VerifyTitle)}</a></p> }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// A button that opens the browser's print dialog. An island: the only part of the notice
/// page that ships WebAssembly. It appears once hydrated, so no one sees a dead button
/// without JavaScript (the note above it says how to print then).
#[island]
fn PrintButton(label: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    move || {
        hydrated.get().then(|| {
            let label = label.clone();
            view! {
                <p class="no-print">
                    <button type="button" data-testid="print" on:click=move |_| {
                        #[cfg(feature = "hydrate")]
                        let _ = window().print();
                    }>{label}</button>
                </p>
            }
        })
    }
}

/// `/preferences`: when and how not to be contacted, language, opt-out.
#[component]
pub fn PreferencesPage() -> impl IntoView {
    let lang = use_lang();
    let action = ServerAction::<SavePreferences>::new();
    let data = Resource::new(move || action.version().get(), |_| preferences_view());
    view! {
        <h1>{t(lang, Msg::PrefsTitle)}</h1>
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(p)) => {
                    let is_refused = |c: &str| p.refused.iter().any(|r| r == c);
                    let (r_sms, r_email, r_call, r_telegram) = (
                        is_refused("sms"), is_refused("email"), is_refused("call"), is_refused("telegram"),
                    );
                    let (en, es) = (p.language == "en", p.language == "es");
                    view! {
                        <Flash flash=p.flash.clone() role="status"/>
                        <p>{t(lang, Msg::PrefsIntro)}</p>
                        <ActionForm action=action attr:class="card">
                            <fieldset>
                                <legend>{t(lang, Msg::InconvenientLegend)}</legend>
                                <label for="from">{t(lang, Msg::From)}</label>
                                <input id="from" name="from" type="time" value=p.from.clone()/>
                                <label for="to">{t(lang, Msg::To)}</label>
                                <input id="to" name="to" type="time" value=p.to.clone()/>
                            </fieldset>
                            <fieldset>
                                <legend>{t(lang, Msg::ChannelsLegend)}</legend>
                                <div class="check"><input id="refuse_sms" name="refuse_sms" type="checkbox" value="on" checked=r_sms/><label for="refuse_sms">{t(lang, Msg::Sms)}</label></div>
                                <div class="check"><input id="refuse_email" name="refuse_email" type="checkbox" value="on" checked=r_email/><label for="refuse_email">{t(lang, Msg::Email)}</label></div>
                                <div class="check"><input id="refuse_call" name="refuse_call" type="checkbox" value="on" checked=r_call/><label for="refuse_call">{t(lang, Msg::Call)}</label></div>
                                <div class="check"><input id="refuse_telegram" name="refuse_telegram" type="checkbox" value="on" checked=r_telegram/><label for="refuse_telegram">{t(lang, Msg::Telegram)}</label></div>
                            </fieldset>
                            <fieldset>
                                <legend>{t(lang, Msg::ReachMeLegend)}</legend>
                                <label for="phone">{t(lang, Msg::PhoneLabel)}</label>
                                <input id="phone" name="phone" type="tel" autocomplete="tel" value=p.phone.clone() prop:value=p.phone.clone()/>
                                <label for="email">{t(lang, Msg::EmailLabel)}</label>
                                <input id="email" name="email" type="email" autocomplete="email" value=p.email.clone() prop:value=p.email.clone()/>
                            </fieldset>
                            {if p.sms_stopped {
                                view! {
                                    <p data-testid="sms-stopped">{t(lang, Msg::SmsStopped)}</p>
                                    <div class="check"><input id="start_sms" name="start_sms" type="checkbox" value="on"/><label for="start_sms">{t(lang, Msg::StartSms)}</label></div>
                                }.into_any()
                            } else {
                                view! {
                                    <div class="check"><input id="stop_sms" name="stop_sms" type="checkbox" value="on"/><label for="stop_sms">{t(lang, Msg::StopSms)}</label></div>
                                }.into_any()
                            }}
                            <label for="language">{t(lang, Msg::LanguageLabel)}</label>
                            <select id="language" name="language">
                                <option value="en" selected=en>"English"</option>
                                <option value="es" selected=es>"Español"</option>
                            </select>
                            <button type="submit">{t(lang, Msg::Save)}</button>
                        </ActionForm>
                        <p><a href="/account">{t(lang, Msg::Back)}</a></p>
                    }.into_any()
                }
                Ok(None) => view! { <p><a href="/verify">{t(lang, Msg::VerifyTitle)}</a></p> }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// `/genuine`: how to check that a message is really from the agency.
#[component]
pub fn GenuinePage() -> impl IntoView {
    let lang = use_lang();
    view! {
        <h1>{t(lang, Msg::Genuine)}</h1>
        <ol>
            <li>{t(lang, Msg::GenuineWho)}</li>
            <li>{t(lang, Msg::GenuineCompare)}</li>
            <li>{t(lang, Msg::GenuineCall)}</li>
            <li>{t(lang, Msg::GenuineAddress)}</li>
        </ol>
        <p><a href="/">{t(lang, Msg::GoHome)}</a></p>
    }
}
