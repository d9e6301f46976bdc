//! `/dispute` (the Model Form B-1 reasons, online, with an optional document) and
//! `/disputes/:id` (status, documents, the answer once delivered). The forms that carry a
//! file are plain multipart forms to the server's routes; they work the same with or
//! without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::disputes::{dispute_form, dispute_view, ReceiveAnswer};
use crate::i18n::{t, use_lang, Lang, Msg};
use crate::pages::Flash;

/// The text of a dispute status.
pub fn status_text(lang: Lang, status: &str) -> &'static str {
    match status {
        "answer_waiting" => t(lang, Msg::StatusAnswerWaiting),
        "answered" => t(lang, Msg::StatusAnswered),
        "closed" => t(lang, Msg::StatusClosed),
        _ => t(lang, Msg::StatusOpen),
    }
}

fn reason_text(lang: Lang, reason: &str) -> &'static str {
    match reason {
        "not_my_debt" => t(lang, Msg::NotMyDebt),
        "amount_wrong" => t(lang, Msg::AmountWrong),
        "other" => t(lang, Msg::OtherDescribe),
        _ => t(lang, Msg::WantOriginal),
    }
}

fn answer_text(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "corrected" => t(lang, Msg::AnswerCorrected),
        "closed" => t(lang, Msg::AnswerClosed),
        "duplicate" => t(lang, Msg::AnswerDuplicate),
        _ => t(lang, Msg::AnswerVerified),
    }
}

/// `/dispute`: the reasons of Model Form B-1, the original-creditor request, a description
/// and one optional document.
#[component]
pub fn DisputeFormPage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(|| (), |_| dispute_form());
    view! {
        <h1>{t(lang, Msg::DisputeTitle)}</h1>
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(d)) => view! {
                    <Flash flash=d.flash.clone()/>
                    <p>{t(lang, Msg::DisputeIntro)}</p>
                    <form method="post" action="/dispute" enctype="multipart/form-data" class="card" data-testid="dispute-form">
                        <fieldset>
                            <legend>{t(lang, Msg::DisputeBecause)}</legend>
                            <div class="check">
                                <input id="r-not-mine" type="radio" name="reason" value="not_my_debt"/>
                                <label for="r-not-mine">{t(lang, Msg::NotMyDebt)}</label>
                            </div>
                            <div class="check">
                                <input id="r-amount" type="radio" name="reason" value="amount_wrong"/>
                                <label for="r-amount">{t(lang, Msg::AmountWrong)}</label>
                            </div>
                            <div class="check">
                                <input id="r-other" type="radio" name="reason" value="other"/>
                                <label for="r-other">{t(lang, Msg::OtherDescribe)}</label>
                            </div>
                        </fieldset>
                        <label for="details">{t(lang, Msg::DetailsLabel)}</label>
                        <textarea id="details" name="details" rows="4" maxlength="4000"></textarea>
                        <div class="check">
                            <input id="original" type="checkbox" name="original_creditor" value="yes"/>
                            <label for="original">{t(lang, Msg::WantOriginal)}</label>
                        </div>
                        <label for="evidence">{t(lang, Msg::EvidenceLabel)}</label>
                        <input id="evidence" type="file" name="evidence" accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"/>
                        <button type="submit">{t(lang, Msg::SendDispute)}</button>
                    </form>
                    <p><a href="/account">{t(lang, Msg::Back)}</a></p>
                }.into_any(),
                Ok(None) => view! { <p><a href="/verify">{t(lang, Msg::VerifyTitle)}</a></p> }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// `/disputes/:id`: the debtor's own dispute. Anyone else's id shows "no such dispute".
#[component]
pub fn DisputePage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let id = crate::route_id("id");
    let receive = ServerAction::<ReceiveAnswer>::new();
    let data = Resource::new(
        move || (id(), receive.version().get()),
        |(id, _)| dispute_view(id),
    );
    let is_new = move || query.read().get("new").is_some();
    view! {
        <h1>{t(lang, Msg::DisputePageTitle)}</h1>
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(d)) => {
                    let files = d.files.clone();
                    view! {
                        <Flash flash=d.flash.clone() role="status"/>
                        {(is_new() || d.written).then(|| view! {
                            <div class="card" role=if is_new() { "status" } else { "note" } data-testid="dispute-confirmation">
                                <p>{t(lang, Msg::DisputeReceivedOn)}" "<strong>{d.opened.clone()}</strong>"."</p>
                                {d.written.then(|| view! { <p data-testid="written-dispute">{t(lang, Msg::DisputeWrittenNote)}</p> })}
                            </div>
                        })}
                        <dl class="facts">
                            <dt>{t(lang, Msg::DisputeStatus)}</dt>
                            <dd data-testid="dispute-status">{status_text(lang, &d.status)}</dd>
                            <dt>{t(lang, Msg::YourReason)}</dt>
                            <dd>{reason_text(lang, &d.reason)}</dd>
                            {(!d.details.is_empty()).then(|| view! {
                                <dt>{t(lang, Msg::YourWords)}</dt><dd class="prewrap">{d.details.clone()}</dd>
                            })}
                        </dl>
                        {d.wants_original_creditor.then(|| view! { <p>{t(lang, Msg::OriginalCreditorAsked)}</p> })}
                        {d.validation.clone().map(|(end, within)| view! {
                            <p data-testid="validation-period">
                                {t(lang, if within { Msg::DisputeWithinPeriod } else { Msg::DisputeAfterPeriod })}" "{end}"."
                            </p>
                        })}
                        {d.answer.clone().map(|(kind, message)| view! {
                            <section class="card" data-testid="dispute-answer">
                                <h2>{t(lang, Msg::AnswerTitle)}</h2>
                                <p>{answer_text(lang, &kind)}</p>
                                <p class="prewrap">{message}</p>
                                {d.original_creditor.clone().map(|c| view! {
                                    <h3>{t(lang, Msg::OriginalCreditorAnswer)}</h3>
                                    <p class="prewrap" data-testid="original-creditor">{c}</p>
                                })}
                            </section>
                        })}
                        {(d.status == "answer_waiting").then(|| view! {
                            <ActionForm action=receive attr:class="card" attr:data-testid="receive-answer">
                                <input type="hidden" name="id" value=d.id/>
                                {d.needs_consent.then(|| view! {
                                    <div class="check">
                                        <input id="agree" name="agree" type="checkbox" value="yes"/>
                                        <label for="agree">{t(lang, Msg::AnswerConsent)}</label>
                                    </div>
                                })}
                                <button type="submit">{t(lang, Msg::ShowAnswer)}</button>
                            </ActionForm>
                        })}
                        {(!files.is_empty()).then(|| view! {
                            <h2>{t(lang, Msg::DocumentsTitle)}</h2>
                            <ul data-testid="dispute-files">
                                {files.into_iter().map(|f| view! {
                                    <li>
                                        <a href=f.href.clone() download="">{f.name.clone()}</a>
                                        " ("{t(lang, if f.from_agency { Msg::FromUs } else { Msg::FromYou })}")"
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                        {d.can_add.then(|| view! {
                            <form method="post" action=format!("/disputes/{}/evidence", d.id) enctype="multipart/form-data" class="card">
                                <label for="evidence">{t(lang, Msg::EvidenceLabel)}</label>
                                <input id="evidence" type="file" name="evidence" accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"/>
                                <button type="submit">{t(lang, Msg::AddDocument)}</button>
                            </form>
                        })}
                        <p><a href="/account">{t(lang, Msg::Back)}</a></p>
                    }.into_any()
                }
                Ok(None) => view! {
                    <p role="alert" data-testid="dispute-missing">{t(lang, Msg::DisputeNotFound)}</p>
                    <p><a href="/account">{t(lang, Msg::Back)}</a></p>
                }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}
