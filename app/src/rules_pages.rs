//! `/agency/rules`: payment terms per creditor and the agency's contact policy; admins
//! change them, others read them.

use leptos::prelude::*;

use crate::agency_pages::{ConsoleFlash, ConsoleNav, ConsoleSignOut, SignInLink, Unavailable};
use crate::rules::{rules_view, PolicyForm, SavePolicy, SaveTerms, TermsForm};

const FREQUENCIES: [(&str, &str); 3] = [
    ("weekly", "Weekly"),
    ("biweekly", "Every two weeks"),
    ("monthly", "Monthly"),
];

#[component]
fn TermsSection(
    i: usize,
    t: TermsForm,
    currency: String,
    can_edit: bool,
    action: ServerAction<SaveTerms>,
) -> impl IntoView {
    let id = move |name: &str| format!("{name}-{i}");
    let title = if t.creditor.is_empty() {
        "Agency default (every creditor without its own terms)".to_string()
    } else {
        t.creditor.clone()
    };
    let plan = t.plan.clone();
    let (share, days) = t.settlement.unwrap_or((60, 14));
    let plan_values = plan.clone().unwrap_or(crate::rules::PlanForm {
        min_instalment: "25.00".into(),
        max_instalments: 12,
        max_months: 12,
        frequencies: vec!["monthly".into()],
        first_within_days: 30,
    });
    view! {
        <section aria-labelledby={id("terms")} data-testid=format!("terms-{i}")>
            <h3 id={id("terms")}>{title}</h3>
            {(!t.stored && !t.creditor.is_empty()).then(|| view! {
                <p class="muted">"No terms of its own: the agency default applies (shown below)."</p>
            })}
            {if can_edit {
                view! {
                    <ActionForm action=action attr:class="card">
                        <input type="hidden" name="creditor" value=t.creditor.clone()/>
                        <label for={id("min-payment")}>{format!("Smallest one-time payment ({currency})")}</label>
                        <input id={id("min-payment")} name="min_payment" value=t.min_payment.clone() required/>
                        <fieldset>
                            <legend>"Payment plans"</legend>
                            <div class="check">
                                <input id={id("plan")} type="checkbox" name="plan" value="on" checked=plan.is_some()/>
                                <label for={id("plan")}>"Offer payment plans"</label>
                            </div>
                            <label for={id("min-instalment")}>{format!("Smallest instalment ({currency})")}</label>
                            <input id={id("min-instalment")} name="min_instalment" value=plan_values.min_instalment.clone()/>
                            <label for={id("max-instalments")}>"Most instalments"</label>
                            <input id={id("max-instalments")} name="max_instalments" inputmode="numeric" value=plan_values.max_instalments/>
                            <label for={id("max-months")}>"Longest plan (months)"</label>
                            <input id={id("max-months")} name="max_months" inputmode="numeric" value=plan_values.max_months/>
                            <label for={id("first-within")}>"First instalment within (days)"</label>
                            <input id={id("first-within")} name="first_within_days" inputmode="numeric" value=plan_values.first_within_days/>
                            <fieldset>
                            <legend>"Frequencies a debtor may choose"</legend>
                            {FREQUENCIES.iter().map(|(f, label)| {
                                let on = plan_values.frequencies.iter().any(|x| x == f);
                                view! {
                                    <div class="check">
                                        <input id={id(f)} type="checkbox" name=*f value="on" checked=on/>
                                        <label for={id(f)}>{*label}</label>
                                    </div>
                                }
                            }).collect_view()}
                            </fieldset>
                        </fieldset>
                        <fieldset>
                            <legend>"Settlements"</legend>
                            <div class="check">
                                <input id={id("settle")} type="checkbox" name="settlement" value="on" checked=t.settlement.is_some()/>
                                <label for={id("settle")}>"Offer settlements"</label>
                            </div>
                            <label for={id("share")}>"Smallest share of the balance accepted (%)"</label>
                            <input id={id("share")} name="min_share_percent" inputmode="numeric" value=share/>
                            <label for={id("valid")}>"An offer stays open (days)"</label>
                            <input id={id("valid")} name="valid_days" inputmode="numeric" value=days/>
                        </fieldset>
                        <button type="submit" aria-describedby={id("terms")}>"Save terms"</button>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <dl class="facts">
                        <dt>"Smallest payment"</dt><dd>{format!("{} {currency}", t.min_payment)}</dd>
                        <dt>"Plans"</dt>
                        <dd>{match &plan {
                            Some(p) => format!(
                                "up to {} instalments of at least {} {currency} ({}), within {} months",
                                p.max_instalments,
                                p.min_instalment,
                                FREQUENCIES
                                    .iter()
                                    .filter(|(f, _)| p.frequencies.iter().any(|x| x == f))
                                    .map(|(_, label)| label.to_lowercase())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                p.max_months
                            ),
                            None => "not offered".into(),
                        }}</dd>
                        <dt>"Settlements"</dt>
                        <dd>{match t.settlement {
                            Some((share, days)) => format!("at least {share}% of the balance, open {days} days"),
                            None => "not offered".into(),
                        }}</dd>
                    </dl>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn PolicySection(
    policy: PolicyForm,
    law: PolicyForm,
    can_edit: bool,
    action: ServerAction<SavePolicy>,
) -> impl IntoView {
    view! {
        <section aria-labelledby="policy" data-testid="policy">
            <h2 id="policy">"Contact policy"</h2>
            <p>
                {format!(
                    "The law allows contact from {} to {} local time and the engine allows {} texts and {} calls in 7 days. You may only make these stricter.",
                    law.day_start, law.day_end, law.texts_per_7_days, law.calls_per_7_days
                )}
            </p>
            {if can_edit {
                view! {
                    <ActionForm action=action attr:class="card">
                        <label for="day-start">"Earliest contact (HH:MM, local time)"</label>
                        <input id="day-start" name="day_start" value=policy.day_start.clone() required/>
                        <label for="day-end">"No contact from (HH:MM, local time)"</label>
                        <input id="day-end" name="day_end" value=policy.day_end.clone() required/>
                        <label for="texts">"Texts per 7 days"</label>
                        <input id="texts" name="texts_per_7_days" inputmode="numeric" value=policy.texts_per_7_days required/>
                        <label for="calls">"Calls per 7 days"</label>
                        <input id="calls" name="calls_per_7_days" inputmode="numeric" value=policy.calls_per_7_days required/>
                        <label for="reply-window">"Minutes an answer may follow the debtor's message outside those hours"</label>
                        <input id="reply-window" name="reply_window_minutes" inputmode="numeric" value=policy.reply_window_minutes required/>
                        <button type="submit">"Save policy"</button>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <dl class="facts">
                        <dt>"Contact hours"</dt><dd>{format!("{} to {}", policy.day_start, policy.day_end)}</dd>
                        <dt>"Texts per 7 days"</dt><dd>{policy.texts_per_7_days}</dd>
                        <dt>"Calls per 7 days"</dt><dd>{policy.calls_per_7_days}</dd>
                        <dt>"Reply window"</dt><dd>{format!("{} minutes", policy.reply_window_minutes)}</dd>
                    </dl>
                }.into_any()
            }}
        </section>
    }
}

/// `/agency/rules`.
#[component]
pub fn RulesPage() -> impl IntoView {
    let terms = ServerAction::<SaveTerms>::new();
    let policy = ServerAction::<SavePolicy>::new();
    let data = Resource::new(
        move || (terms.version().get(), policy.version().get()),
        |_| rules_view(),
    );
    view! {
        <h1>"Rules"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(v)) => view! {
                    <ConsoleNav me=v.me.clone()/>
                    <ConsoleFlash flash=v.flash.clone()/>
                    {(!v.can_edit).then(|| view! { <p>"Only an admin changes rules."</p> })}
                    <PolicySection policy=v.policy.clone() law=v.law.clone() can_edit=v.can_edit action=policy/>
                    <h2>"Payment terms by creditor"</h2>
                    {v.creditors.clone().into_iter().enumerate().map(|(i, t)| view! {
                        <TermsSection i=i t=t currency=v.currency.clone() can_edit=v.can_edit action=terms/>
                    }).collect_view()}
                    <ConsoleSignOut/>
                }.into_any(),
                Ok(None) => view! { <SignInLink/> }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}
