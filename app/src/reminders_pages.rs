//! `/agency/reminders`: the reminder cadence and the texts of the messages, the agency's
//! and any creditor's own; admins change them, others read them.

use leptos::prelude::*;

use crate::agency_pages::{ConsoleFlash, ConsoleNav, ConsoleSignOut, SignInLink, Unavailable};
use crate::reminders::{
    reminders_view, RemindersData, SaveCadence, SaveTemplate, TemplateForm, UseAgencyCadence,
    SPARE_STEPS, STEP_KINDS,
};

fn step_label(kind: &str) -> &'static str {
    STEP_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("Message", |(_, label)| *label)
}

#[component]
fn CadenceSection(v: RemindersData, action: ServerAction<SaveCadence>) -> impl IntoView {
    let repeat = v
        .repeat_every_days
        .map(|d| d.to_string())
        .unwrap_or_default();
    if !v.can_edit {
        return view! {
            <section aria-labelledby="cadence" data-testid="cadence">
                <h2 id="cadence">"Cadence"</h2>
                <ol>
                    {v.steps.iter().map(|(day, kind)| view! {
                        <li>{format!("Day {day}: {}", step_label(kind))}</li>
                    }).collect_view()}
                </ol>
                <dl class="facts">
                    <dt>"Later reminders"</dt>
                    <dd>{match v.repeat_every_days {
                        Some(d) => format!("every {d} days"),
                        None => "none".into(),
                    }}</dd>
                    <dt>"Instalment announced"</dt>
                    <dd>{format!("{} days before", v.instalment_notice_days)}</dd>
                    <dt>"Help contact"</dt><dd>{v.help_contact.clone()}</dd>
                </dl>
            </section>
        }
        .into_any();
    }
    let rows: Vec<(usize, Option<(u32, String)>)> = v
        .steps
        .iter()
        .cloned()
        .map(Some)
        .chain(std::iter::repeat_n(None, SPARE_STEPS))
        .enumerate()
        .collect();
    view! {
        <section aria-labelledby="cadence" data-testid="cadence">
            <h2 id="cadence">"Cadence"</h2>
            <p id="cadence-help">
                "Each step sends one message so many days after the account is placed, when the compliance engine allows it. Clear a step's day to remove it; fill a blank row to add one. Changes apply to each account's next step."
            </p>
            <ActionForm action=action attr:class="card">
                <input type="hidden" name="creditor" value=v.creditor.clone()/>
                <table class="steps">
                    <caption class="sr-only">"Steps"</caption>
                    <thead><tr><th scope="col">"Step"</th><th scope="col">"Day after placement"</th><th scope="col">"Sends"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|(i, step)| {
                            let (day, kind) = match &step {
                                Some((d, k)) => (d.to_string(), k.clone()),
                                None => (String::new(), "reminder".to_string()),
                            };
                            let n = i + 1;
                            view! {
                                <tr>
                                    <th scope="row">{n}</th>
                                    <td>
                                        <label class="sr-only" for={format!("day-{i}")}>{format!("Step {n}: day after placement")}</label>
                                        <input id={format!("day-{i}")} name={format!("day[{i}]")} inputmode="numeric" value=day size="4"/>
                                    </td>
                                    <td>
                                        <label class="sr-only" for={format!("step-kind-{i}")}>{format!("Step {n}: sends")}</label>
                                        <select id={format!("step-kind-{i}")} name={format!("step_kind[{i}]")}>
                                            {STEP_KINDS.iter().map(|(k, label)| view! {
                                                <option value=*k selected={kind == *k}>{*label}</option>
                                            }).collect_view()}
                                        </select>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <label for="repeat">"After the last step, a reminder every (days; blank for none)"</label>
                <input id="repeat" name="repeat_every_days" inputmode="numeric" value=repeat/>
                <label for="notice-days">"Announce a plan instalment this many days before (0: never)"</label>
                <input id="notice-days" name="instalment_notice_days" inputmode="numeric" value=v.instalment_notice_days required/>
                <label for="help-contact">"How a debtor reaches you (said in the answer to HELP)"</label>
                <input id="help-contact" name="help_contact" value=v.help_contact.clone() required/>
                <button type="submit" aria-describedby="cadence-help">"Save cadence"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn TemplateSection(
    t: TemplateForm,
    creditor: String,
    can_edit: bool,
    action: ServerAction<SaveTemplate>,
) -> impl IntoView {
    let kind = t.kind.clone();
    let id = move |name: &str| format!("{name}-{kind}");
    let heading = id("t");
    let (en_id, es_id) = (id("en"), id("es"));
    let state = if t.custom {
        "Your own text"
    } else {
        "Built-in text"
    };
    let form = if can_edit {
        let (kind, en, es, described) =
            (t.kind.clone(), t.en.clone(), t.es.clone(), heading.clone());
        view! {
            <ActionForm action=action attr:class="card">
                <input type="hidden" name="creditor" value=creditor/>
                <input type="hidden" name="kind" value=kind/>
                <label for=en_id.clone()>"English"</label>
                <textarea id=en_id name="en" rows="3">{en}</textarea>
                <label for=es_id.clone()>"Spanish"</label>
                <textarea id=es_id name="es" rows="3" lang="es">{es}</textarea>
                <button type="submit" aria-describedby=described>"Save texts"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <dl class="facts">
                <dt>"English"</dt><dd>{t.en.clone()}</dd>
                <dt>"Spanish"</dt><dd lang="es">{t.es.clone()}</dd>
            </dl>
        }
        .into_any()
    };
    let labelled_by = heading.clone();
    view! {
        <section aria-labelledby=labelled_by data-testid=format!("template-{}", t.kind)>
            <h3 id=heading>{t.label.clone()}</h3>
            <p class="muted">{state}{t.needs_link.then_some(" · must contain {link}")}</p>
            {form}
        </section>
    }
}

/// Whose settings the page shows, and the way to another creditor's (a plain GET form,
/// so it works without JavaScript).
#[component]
fn Whose(v: RemindersData, action: ServerAction<UseAgencyCadence>) -> impl IntoView {
    let whose = if v.creditor.is_empty() {
        "The agency's reminders: every creditor without its own follows them.".to_string()
    } else if v.own {
        format!("{}'s own reminders.", v.creditor)
    } else {
        format!(
            "{} follows the agency's reminders (shown below). Saving a change here gives it its own.",
            v.creditor
        )
    };
    view! {
        <form method="get" action="/agency/reminders" class="card">
            <label for="whose">"Whose reminders"</label>
            <select id="whose" name="creditor">
                <option value="" selected=v.creditor.is_empty()>"The agency (default)"</option>
                {v.creditors.iter().map(|(c, own)| view! {
                    <option value=c.clone() selected={*c == v.creditor}>
                        {format!("{c}{}", if *own { " (own)" } else { "" })}
                    </option>
                }).collect_view()}
            </select>
            <button type="submit">"Show"</button>
        </form>
        <p data-testid="whose">{whose}</p>
        {(v.can_edit && v.own && !v.creditor.is_empty()).then(|| view! {
            <ActionForm action=action attr:class="card">
                <input type="hidden" name="creditor" value=v.creditor.clone()/>
                <button type="submit">{format!("Make {} follow the agency's reminders", v.creditor)}</button>
            </ActionForm>
        })}
    }
}

/// `/agency/reminders?creditor=`.
#[component]
pub fn RemindersPage() -> impl IntoView {
    let cadence = ServerAction::<SaveCadence>::new();
    let template = ServerAction::<SaveTemplate>::new();
    let agency = ServerAction::<UseAgencyCadence>::new();
    let query = leptos_router::hooks::use_query_map();
    let data = Resource::new(
        move || {
            (
                cadence.version().get(),
                template.version().get(),
                agency.version().get(),
                query.read().get("creditor").unwrap_or_default(),
            )
        },
        |(_, _, _, creditor)| reminders_view(creditor),
    );
    view! {
        <h1>"Reminders"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(v)) => view! {
                    <ConsoleNav me=v.me.clone()/>
                    <ConsoleFlash flash=v.flash.clone()/>
                    {(!v.can_edit).then(|| view! { <p>"Only an admin changes reminders."</p> })}
                    <Whose v=v.clone() action=agency/>
                    <CadenceSection v=v.clone() action=cadence/>
                    <h2>"Message texts"</h2>
                    <p>
                        "A text may use {name} (the debtor's first name), {agency}, {help} and {link}. It never names the creditor or the amount: a text can reach the wrong phone. The notices the law requires (the debt collector disclosure, how to opt out) are added after your text when they are due. Empty a box to go back to the built-in text."
                    </p>
                    {v.templates.clone().into_iter().map(|t| view! {
                        <TemplateSection t=t creditor=v.creditor.clone() can_edit=v.can_edit action=template/>
                    }).collect_view()}
                    <ConsoleSignOut/>
                }.into_any(),
                Ok(None) => view! { <SignInLink/> }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}
