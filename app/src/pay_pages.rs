//! The payment pages: `/pay` (in full, in part, settlement), `/plan` (choose, authorize,
//! change the date, cancel) and `/receipt/<number>`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::i18n::{t, use_lang, Msg};
use crate::pages::Flash;
use crate::pay::{
    pay_view, plan_view, receipt_view, CancelPlan, ChangeAmount, InstalmentLine, MoveInstalment,
    Pay, ReplaceCard, Settle, StartPlan,
};

/// A plan or payment status in the debtor's language.
pub(crate) fn plan_status_text(lang: crate::i18n::Lang, status: &str) -> &'static str {
    status_text(lang, status)
}

fn status_text(lang: crate::i18n::Lang, status: &str) -> &'static str {
    t(
        lang,
        match status {
            "awaiting_method" => Msg::PlanAwaitingMethod,
            "active" => Msg::PlanActive,
            "completed" => Msg::PlanCompleted,
            "broken" => Msg::PlanBroken,
            "cancelled" => Msg::PlanCancelledStatus,
            "paid" | "succeeded" => Msg::StatusPaid,
            "failed" => Msg::StatusFailed,
            "processing" | "pending" => Msg::StatusProcessing,
            _ => Msg::StatusScheduled,
        },
    )
}

#[component]
fn Schedule(
    lines: Vec<InstalmentLine>,
    #[prop(default = false)] with_status: bool,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <table class="history" data-testid="schedule">
            <thead><tr>
                <th scope="col">"#"</th>
                <th scope="col">{t(lang, Msg::Date)}</th>
                <th scope="col">{t(lang, Msg::Amount)}</th>
                {with_status.then(|| view! { <th scope="col">{t(lang, Msg::Status)}</th> })}
            </tr></thead>
            <tbody>
                {lines.into_iter().map(|(n, date, amount, status)| view! {
                    <tr>
                        <td>{n}</td><td>{date}</td><td>{amount}</td>
                        {with_status.then(|| view! { <td>{status_text(lang, &status)}</td> })}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// `/pay`: pay in full, pay part, or accept the settlement offer.
#[component]
pub fn PayPage() -> impl IntoView {
    let lang = use_lang();
    let pay = ServerAction::<Pay>::new();
    let settle = ServerAction::<Settle>::new();
    let data = Resource::new(
        move || (pay.version().get(), settle.version().get()),
        |_| pay_view(),
    );
    let query = use_query_map();
    let cancelled = move || query.read().get("cancelled").is_some();
    view! {
        <h1>{t(lang, Msg::PayTitle)}</h1>
        {move || cancelled().then(|| view! {
            <p role="status" class="alert" data-testid="flash">{t(lang, Msg::PaymentCancelled)}</p>
        })}
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(d)) => view! {
                    <Flash flash=d.flash.clone()/>
                    <p class="collector">{d.collector.clone()}</p>
                    <dl class="facts">
                        <dt>{t(lang, Msg::CurrentBalance)}</dt>
                        <dd class="balance" data-testid="balance">{d.balance.clone()}</dd>
                    </dl>
                    {if d.owes { view! {
                        <section class="card" aria-labelledby="pay-full">
                            <h2 id="pay-full">{t(lang, Msg::PayInFull)}</h2>
                            <ActionForm action=pay>
                                <input type="hidden" name="amount" value=d.balance_plain.clone()/>
                                <button type="submit">{t(lang, Msg::PayButton)}" "{d.balance.clone()}</button>
                            </ActionForm>
                        </section>
                        <section class="card" aria-labelledby="pay-part">
                            <h2 id="pay-part">{t(lang, Msg::PayPart)}</h2>
                            <ActionForm action=pay>
                                <label for="amount">{t(lang, Msg::AmountLabel)}" "{d.min_payment.clone()}")"</label>
                                <input id="amount" name="amount" required inputmode="decimal" autocomplete="off"/>
                                <button type="submit">{t(lang, Msg::ContinueToPayment)}</button>
                            </ActionForm>
                        </section>
                        {d.settlement.clone().map(|(amount, until)| view! {
                            <section class="card" aria-labelledby="settle" data-testid="settlement">
                                <h2 id="settle">{t(lang, Msg::SettleTitle)}</h2>
                                <p>{t(lang, Msg::SettleOffer)}" "<strong>{amount.clone()}</strong>" "{t(lang, Msg::SettleBy)}" "<strong>{until}</strong>". "{t(lang, Msg::SettleRest)}</p>
                                <ActionForm action=settle>
                                    <div class="check">
                                        <input id="agree" name="agree" type="checkbox" value="yes"/>
                                        <label for="agree">{t(lang, Msg::SettleAgree)}</label>
                                    </div>
                                    <button type="submit">{t(lang, Msg::SettleButton)}" "{amount}</button>
                                </ActionForm>
                            </section>
                        })}
                        {d.plans.then(|| view! {
                            <p><a href="/plan">{t(lang, Msg::PlanLink)}</a></p>
                        })}
                        <p class="note">{t(lang, Msg::NoFee)}</p>
                    }.into_any() } else {
                        view! { <p data-testid="nothing-owed">{t(lang, Msg::NothingOwed)}</p> }.into_any()
                    }}
                    <p><a href="/account">{t(lang, Msg::Back)}</a></p>
                }.into_any(),
                Ok(None) => view! { <p><a href="/verify">{t(lang, Msg::VerifyTitle)}</a></p> }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// `/receipt/<number>`: what was paid and the balance now.
#[component]
pub fn ReceiptPage() -> impl IntoView {
    let lang = use_lang();
    let number = crate::route_id("number");
    let data = Resource::new(number, receipt_view);
    view! {
        <h1>{t(lang, Msg::ReceiptTitle)}</h1>
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(d)) => view! {
                    <p role="status" data-testid="receipt-status">{status_text(lang, &d.status)}</p>
                    <dl class="facts" data-testid="receipt">
                        <dt>{t(lang, Msg::ReceiptNumber)}</dt><dd>{d.number}</dd>
                        <dt>{t(lang, Msg::PaidTo)}</dt><dd>{d.collector.clone()}</dd>
                        <dt>{t(lang, Msg::Creditor)}</dt><dd>{d.creditor.clone()}</dd>
                        <dt>{t(lang, Msg::AccountReference)}</dt><dd>{d.account_ref.clone()}</dd>
                        <dt>{t(lang, Msg::Amount)}</dt><dd data-testid="receipt-amount">{d.amount.clone()}</dd>
                        <dt>{t(lang, Msg::Date)}</dt><dd>{d.date.clone()}</dd>
                        <dt>{t(lang, Msg::NewBalance)}</dt><dd data-testid="balance">{d.balance.clone()}</dd>
                    </dl>
                    <p class="note no-print">{t(lang, Msg::ReceiptKeep)}</p>
                    <p class="no-print"><a href="/account">{t(lang, Msg::Back)}</a></p>
                }.into_any(),
                Ok(None) => view! {
                    <p role="alert">{t(lang, Msg::ReceiptNotFound)}</p>
                    <p><a href="/account">{t(lang, Msg::Back)}</a></p>
                }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}

/// `/plan`: the current plan, or choose one within the creditor's rules, see every date and
/// amount, authorize the debits, and save a payment method.
#[component]
pub fn PlanPage() -> impl IntoView {
    let lang = use_lang();
    let start = ServerAction::<StartPlan>::new();
    let moved = ServerAction::<MoveInstalment>::new();
    let cancel = ServerAction::<CancelPlan>::new();
    let amount = ServerAction::<ChangeAmount>::new();
    let card = ServerAction::<ReplaceCard>::new();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("frequency"),
                q.get("count"),
                q.get("first"),
                start.version().get()
                    + moved.version().get()
                    + cancel.version().get()
                    + amount.version().get(),
            )
        },
        |(f, c, d, _)| plan_view(f, c, d),
    );
    let saved = move || query.read().get("saved").is_some();
    view! {
        <h1>{t(lang, Msg::PlanTitle)}</h1>
        {move || saved().then(|| view! {
            <p role="status" class="alert" data-testid="flash">{t(lang, Msg::MethodSaved)}</p>
        })}
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(d)) => {
                    let live = matches!(d.status.as_deref(), Some("active" | "awaiting_method"));
                    view! {
                        <Flash flash=d.flash.clone()/>
                        {d.status.clone().filter(|s| s != "cancelled" || !d.offered).map(|s| view! {
                            <p data-testid="plan-status">{t(lang, Msg::Status)}": "<strong>{status_text(lang, &s)}</strong></p>
                            <Schedule lines=d.instalments.clone() with_status=true/>
                            <details class="authorization">
                                <summary>{t(lang, Msg::YourAuthorization)}</summary>
                                <p data-testid="authorization">{d.authorization.clone()}</p>
                            </details>
                        })}
                        {d.move_range.clone().map(|(lo, hi)| view! {
                            <ActionForm action=moved attr:class="card">
                                <label for="date">{t(lang, Msg::MoveLabel)}" ("{lo.clone()}" – "{hi.clone()}")"</label>
                                <input id="date" name="date" type="date" required min=lo max=hi/>
                                <button type="submit">{t(lang, Msg::MoveButton)}</button>
                            </ActionForm>
                        })}
                        {(d.status.as_deref() == Some("active")).then(|| view! {
                            <ActionForm action=card attr:class="card">
                                <p>{t(lang, Msg::ReplaceCardIntro)}</p>
                                <button type="submit" data-testid="replace-card">{t(lang, Msg::ReplaceCardButton)}</button>
                            </ActionForm>
                        })}
                        {(d.status.as_deref() == Some("active")).then(|| {
                            let min = d.min_instalment.clone();
                            view! {
                            <ActionForm action=amount attr:class="card">
                                <label for="new-amount">{t(lang, Msg::NewAmountLabel)}" "{min}")"</label>
                                <input id="new-amount" name="amount" required inputmode="decimal" autocomplete="off"/>
                                <div class="check">
                                    <input id="authorize-amount" name="authorize" type="checkbox" value="yes"/>
                                    <label for="authorize-amount">{t(lang, Msg::AuthorizeAmount)}</label>
                                </div>
                                <button type="submit">{t(lang, Msg::ChangeAmountButton)}</button>
                            </ActionForm>
                            }
                        })}
                        {live.then(|| view! {
                            <ActionForm action=cancel attr:class="card">
                                <div class="check">
                                    <input id="confirm" name="confirm" type="checkbox" value="yes"/>
                                    <label for="confirm">{t(lang, Msg::CancelConfirm)}</label>
                                </div>
                                <button type="submit" class="secondary">{t(lang, Msg::CancelPlan)}</button>
                            </ActionForm>
                        })}
                        {(!live && d.offered).then(|| {
                            let (freq, count, first) = d.chosen.clone();
                            let (min_day, max_day) = d.first_range.clone();
                            view! {
                                <p>{t(lang, Msg::PlanIntro)}" "{d.min_instalment.clone()}"."</p>
                                <form method="get" action="/plan" class="card">
                                    <label for="frequency">{t(lang, Msg::FrequencyLabel)}</label>
                                    <select id="frequency" name="frequency">
                                        {d.frequencies.iter().map(|f| {
                                            let label = t(lang, match f.as_str() {
                                                "weekly" => Msg::Weekly,
                                                "biweekly" => Msg::Biweekly,
                                                _ => Msg::Monthly,
                                            });
                                            view! { <option value=f.clone() selected=*f == freq>{label}</option> }
                                        }).collect_view()}
                                    </select>
                                    <label for="count">{t(lang, Msg::CountLabel)}" (2–"{d.max_instalments}")"</label>
                                    <input id="count" name="count" type="number" min="2" max=d.max_instalments required value=count.clone() inputmode="numeric"/>
                                    <label for="first">{t(lang, Msg::FirstLabel)}</label>
                                    <input id="first" name="first" type="date" required min=min_day max=max_day value=first.clone()/>
                                    <button type="submit">{t(lang, Msg::ShowSchedule)}</button>
                                </form>
                                {d.preview_error.clone().map(|e| view! {
                                    <p role="alert" class="alert" data-testid="preview-error">{t(lang, Msg::PlanInvalid)}" ("{e}")"</p>
                                })}
                                {d.preview.clone().map(|(lines, text)| view! {
                                    <h2>{t(lang, Msg::YourSchedule)}</h2>
                                    <Schedule lines=lines/>
                                    <ActionForm action=start attr:class="card">
                                        <input type="hidden" name="frequency" value=freq.clone()/>
                                        <input type="hidden" name="count" value=count.clone()/>
                                        <input type="hidden" name="first" value=first.clone()/>
                                        <p data-testid="authorization-text">{text}</p>
                                        <div class="check">
                                            <input id="authorize" name="authorize" type="checkbox" value="yes"/>
                                            <label for="authorize">{t(lang, Msg::AuthorizeLabel)}</label>
                                        </div>
                                        <button type="submit">{t(lang, Msg::AuthorizeButton)}</button>
                                    </ActionForm>
                                })}
                            }
                        })}
                        {(!live && !d.offered && d.status.is_none()).then(|| view! {
                            <p>{t(lang, Msg::PlansNotOffered)}</p>
                        })}
                        <p><a href="/account">{t(lang, Msg::Back)}</a></p>
                    }.into_any()
                }
                Ok(None) => view! { <p><a href="/verify">{t(lang, Msg::VerifyTitle)}</a></p> }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
    }
}
