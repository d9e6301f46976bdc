//! The agency console's pages (English; for agency staff): sign-in, the dispute queue, and
//! one dispute with its evidence, the answer form, the account's holds and timeline.

use leptos::prelude::*;

use crate::agency::{
    console_dispute, dispute_queue, AgencySignIn, AgencySignOut, ClearHold, MarkMailed, SetHold,
};

const HOLD_KINDS: [(&str, &str); 4] = [
    ("cease", "Cease communication"),
    ("attorney", "Attorney represents the debtor"),
    ("bankruptcy", "Bankruptcy"),
    ("deceased", "Deceased"),
];

fn flash_text(flash: &str) -> &'static str {
    match flash {
        "wrong" => "That email and password do not match.",
        "locked" => "Too many wrong passwords: sign-in is locked for 15 minutes.",
        "busy" => "Too many attempts from this connection. Wait a few minutes.",
        "answered" => "The answer is recorded. The debtor is told it is waiting in the portal; the hold lifts once they read it (or once you record that you mailed it).",
        "mailed" => "Recorded as mailed: the answer is delivered and the hold is lifted.",
        "not_answered" => "There is no answer waiting for delivery.",
        "read_only" => "Your role is read-only: nothing was changed.",
        "hold_set" => "The hold is set.",
        "hold_cleared" => "The hold is lifted.",
        "hold_invalid" => "Nothing changed: give a reason, and set only a hold that is not already active (or lift only an active one).",
        "not_found" => "There is no such dispute in your agency.",
        "answer_invalid" => "Nothing was recorded: every answer needs a message; a verification needs a document; a correction needs a negative amount (and only a correction takes one); a duplicate answer needs a linked earlier dispute; a request for the original creditor needs its name and address.",
        "file_too_large" => "Nothing was recorded: a document is larger than 5 MB.",
        "file_type" => "Nothing was recorded: only PDF, JPEG and PNG documents are accepted.",
        "amount" => "Nothing was recorded: the correction is not an amount (e.g. -125.00).",
        "note_added" => "The note is added to the timeline.",
        "note_invalid" => "Nothing was added: a note needs text (at most 4,000 characters).",
        "account_missing" => "There is no such account in your agency.",
        "adjusted" => "The adjustment is posted to the ledger.",
        "adjusted_before" => "That adjustment was already posted: nothing changed.",
        "adjust_invalid" => "Nothing was posted: an adjustment needs a reason and an amount other than zero.",
        "adjust_amount" => "Nothing was posted: the amount is not an amount (e.g. -25.00 or 10).",
        "imported" => "The file is imported. Bad rows, if any, are listed below with their line numbers.",
        "import_empty" => "Nothing was imported: choose a CSV file.",
        "inbox_missing" => "There is no such message in your agency's inbox.",
        "inbox_assigned" => "The assignment is saved.",
        "inbox_answered" => "The answer is allowed and queued to be sent.",
        "inbox_repeat" => "That answer was already sent: nothing new was queued.",
        "inbox_closed" => "The message is closed.",
        "terms_saved" => "The payment terms are saved; they apply to the next offer a debtor sees.",
        "policy_saved" => "The contact policy is saved; the compliance engine applies it from the next decision.",
        "admin_only" => "Only an admin changes rules: nothing was changed.",
        "keys_admin_only" => "Only an admin manages API keys: nothing was changed.",
        "key_made" => "The key is made. Copy it now: it is shown only this once.",
        "key_revoked" => "The key is revoked: requests with it are refused from now on.",
        "key_missing" => "There is no such active key in your agency: nothing was changed.",
        "cadence_saved" => "The cadence is saved; each account's next reminder follows it.",
        "template_saved" => "The texts are saved; the next message of that kind uses them.",
        "cadence_dropped" => "This creditor follows the agency's reminders again.",
        "cadence_not_own" => "This creditor already follows the agency's reminders: nothing was changed.",
        "code_wrong" => "That code is not right. Enter the code your app shows now.",
        "code_expired" => "The sign-in took too long. Enter your email and password again.",
        "code_no_setup" => "Start the setup again: nothing was changed.",
        "two_step_on" => "Two-step sign-in is on. From now on, signing in asks for a code from your app.",
        "two_step_off" => "Two-step sign-in is off: your password alone signs you in.",
        _ => "",
    }
}

/// The one-time message of the last form; `error:` carries its own words (why an import
/// file cannot be read, why the compliance engine held an answer back).
#[component]
pub(crate) fn ConsoleFlash(flash: Option<String>) -> impl IntoView {
    flash.map(|f| {
        let text = match f.strip_prefix("error:") {
            Some(words) => words.to_string(),
            None => flash_text(&f).to_string(),
        };
        view! { <p role="status" class="alert" data-testid="flash">{text}</p> }
    })
}

/// What a console page shows when the backend cannot answer.
#[component]
pub(crate) fn Unavailable() -> impl IntoView {
    view! { <p role="alert">"The console is unavailable. Try again shortly."</p> }
}

/// What a console page shows to a visitor who is not signed in.
#[component]
pub(crate) fn SignInLink() -> impl IntoView {
    view! { <p><a href="/agency/sign-in">"Sign in"</a></p> }
}

/// The console's navigation and who is signed in.
#[component]
pub(crate) fn ConsoleNav(me: crate::agency::Me) -> impl IntoView {
    view! {
        <nav aria-label="Console" class="console-nav">
            <a href="/agency/disputes">"Disputes"</a>
            <a href="/agency/accounts">"Accounts"</a>
            <a href="/agency/inbox">"Inbox"</a>
            <a href="/agency/import">"Import"</a>
            <a href="/agency/reports">"Reports"</a>
            <a href="/agency/rules">"Rules"</a>
            <a href="/agency/reminders">"Reminders"</a>
            <a href="/agency/security">"Security"</a>
            {(me.role == "admin").then(|| view! {
                <a href="/agency/audit">"Audit log"</a>
                <a href="/agency/api-keys">"API access"</a>
            })}
        </nav>
        <p class="collector">{me.agency.clone()}" · "{me.name.clone()}" ("{me.role.replace('_', "-")}")"</p>
    }
}

fn reason_text(reason: &str) -> &'static str {
    match reason {
        "not_my_debt" => "Not my debt",
        "amount_wrong" => "Amount is wrong",
        "other" => "Other",
        _ => "Original creditor requested",
    }
}

/// `/agency/sign-in`.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<AgencySignIn>::new();
    let flash = Resource::new(
        move || action.version().get(),
        |_| crate::agency::agency_sign_in_state(),
    );
    view! {
        <h1>"Agency sign-in"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || flash.get().map(|f| view! { <ConsoleFlash flash=f.ok().flatten()/> })}
        </Suspense>
        <ActionForm action=action attr:class="card">
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="username" required/>
            <label for="password">"Password"</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required/>
            <button type="submit">"Sign in"</button>
        </ActionForm>
    }
}

/// The sign-out button.
#[component]
pub(crate) fn ConsoleSignOut() -> impl IntoView {
    let action = ServerAction::<AgencySignOut>::new();
    view! {
        <ActionForm action=action attr:class="signout">
            <button type="submit">"Sign out"</button>
        </ActionForm>
    }
}

/// `/agency/disputes`: open disputes, oldest first, with age and due date.
#[component]
pub fn QueuePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| dispute_queue());
    view! {
        <h1>"Dispute queue"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some((me, rows))) => view! {
                    <ConsoleNav me=me/>
                    <p>"Collection is held on every dispute below until its answer is delivered."</p>
                    {if rows.is_empty() {
                        view! { <p data-testid="queue-empty">"No open disputes."</p> }.into_any()
                    } else {
                        view! {
                            <div class="scroll">
                            <table data-testid="queue">
                                <caption class="sr-only">"Open disputes"</caption>
                                <thead><tr>
                                    <th scope="col">"Dispute"</th>
                                    <th scope="col">"Account"</th>
                                    <th scope="col">"Reason"</th>
                                    <th scope="col">"Age"</th>
                                    <th scope="col">"Due"</th>
                                    <th scope="col">"State"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| view! {
                                        <tr class:overdue=r.overdue>
                                            <td><a href=format!("/agency/disputes/{}", r.id)>"#"{r.id}</a></td>
                                            <td>{r.account_ref.clone()}" · "{r.debtor.clone()}</td>
                                            <td>
                                                {reason_text(&r.reason)}
                                                {r.duplicate_of.map(|d| view! { <br/>"Repeats #"{d} })}
                                                {(r.evidence > 0).then(|| view! { <br/>{r.evidence}" file(s)" })}
                                            </td>
                                            <td>{r.age_days}" d"</td>
                                            <td>{r.due.clone()}{r.overdue.then_some(" (overdue)")}</td>
                                            <td>
                                                {if r.answered { "Answered, awaiting delivery" } else { "Open" }}
                                                {r.within_validation.then_some(" · within validation period")}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        }.into_any()
                    }}
                    <ConsoleSignOut/>
                }.into_any(),
                Ok(None) => view! { <SignInLink/> }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}

/// `/agency/disputes/:id`: the dispute, its files, the answer form, holds and timeline.
#[component]
pub fn ConsoleDisputePage() -> impl IntoView {
    let id = crate::route_id("id");
    let mailed = ServerAction::<MarkMailed>::new();
    let set = ServerAction::<SetHold>::new();
    let clear = ServerAction::<ClearHold>::new();
    let data = Resource::new(
        move || {
            (
                id(),
                mailed.version().get(),
                set.version().get(),
                clear.version().get(),
            )
        },
        |(id, ..)| console_dispute(id),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(d)) => {
                    let id = d.row.id;
                    view! {
                        <p><a href="/agency/disputes">"← Dispute queue"</a></p>
                        <h1>"Dispute #"{id}</h1>
                        <ConsoleFlash flash=d.flash.clone()/>
                        <dl class="facts" data-testid="console-dispute">
                            <dt>"Account"</dt><dd>{d.row.account_ref.clone()}" · "{d.row.debtor.clone()}</dd>
                            <dt>"Reason"</dt><dd>{reason_text(&d.row.reason)}</dd>
                            <dt>"Debtor's words"</dt><dd class="prewrap">{d.details.clone()}</dd>
                            <dt>"Original creditor"</dt><dd>{if d.wants_original_creditor { "Requested" } else { "Not requested" }}</dd>
                            <dt>"Received"</dt><dd>{d.row.opened.clone()}" by "{d.origin.clone()}{if d.written { " (written)" } else { "" }}</dd>
                            <dt>"Validation period"</dt>
                            <dd>{match d.validation_end.clone() {
                                Some(end) => format!("ends {end}; {}", if d.row.within_validation { "disputed within it" } else { "disputed after it" }),
                                None => "no validation notice delivered yet".to_string(),
                            }}</dd>
                            <dt>"Respond by"</dt><dd>{d.row.due.clone()}{d.row.overdue.then_some(" (overdue)")}</dd>
                            {d.row.duplicate_of.map(|o| view! {
                                <dt>"Repeats"</dt><dd><a href=format!("/agency/disputes/{o}")>"Dispute #"{o}</a>" (same reason, nothing new)"</dd>
                            })}
                        </dl>
                        <h2>"Files"</h2>
                        {if d.files.is_empty() {
                            view! { <p>"No files."</p> }.into_any()
                        } else {
                            view! {
                                <ul data-testid="console-files">
                                    {d.files.clone().into_iter().map(|f| view! {
                                        <li><a href=f.href download="">{f.name}</a>" ("{f.role}")"</li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <h2>"Answer"</h2>
                        {match (d.answer.clone(), d.delivered.clone()) {
                            (Some((kind, message, by, at)), delivered) => view! {
                                <p data-testid="console-answer">"Answered ("{kind}") by "{by}" on "{at}": "</p>
                                <p class="prewrap">{message}</p>
                                {d.original_creditor.clone().map(|c| view! {
                                    <p class="prewrap">"Original creditor: "{c}</p>
                                })}
                                {match delivered {
                                    Some((at, via)) => view! { <p data-testid="console-delivered">"Delivered by "{via}" on "{at}". The hold is lifted."</p> }.into_any(),
                                    None => view! {
                                        <p>"Not delivered yet: collection stays held."</p>
                                        {d.can_act.then(|| view! {
                                            <ActionForm action=mailed attr:class="card">
                                                <input type="hidden" name="id" value=id/>
                                                <p>"If you mailed the answer, record it: that counts as delivery and lifts the hold."</p>
                                                <button type="submit">"Record as mailed"</button>
                                            </ActionForm>
                                        })}
                                    }.into_any(),
                                }}
                            }.into_any(),
                            (None, _) if d.can_act => view! { <AnswerForm id=id/> }.into_any(),
                            (None, _) => view! { <p>"Not answered yet."</p> }.into_any(),
                        }}
                        <h2>"Holds on this account"</h2>
                        {if d.holds.is_empty() {
                            view! { <p>"No holds."</p> }.into_any()
                        } else {
                            view! {
                                <ul data-testid="console-holds">
                                    {d.holds.clone().into_iter().map(|h| view! {
                                        <li>
                                            <strong>{h.kind.clone()}</strong>": "{h.set.clone()}
                                            {match h.cleared.clone() {
                                                Some(c) => view! { <br/>"Lifted: "{c} }.into_any(),
                                                None => view! { <br/>"Active" }.into_any(),
                                            }}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {d.can_act.then(|| view! {
                            <ActionForm action=set attr:class="card">
                                <input type="hidden" name="id" value=id/>
                                <label for="hold-kind">"Set a hold"</label>
                                <select id="hold-kind" name="kind">
                                    {HOLD_KINDS.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                                </select>
                                <label for="hold-reason">"Why"</label>
                                <input id="hold-reason" name="reason" required/>
                                <label for="hold-contact">"Attorney's name and contact (attorney holds)"</label>
                                <input id="hold-contact" name="contact"/>
                                <button type="submit">"Set hold"</button>
                            </ActionForm>
                            <ActionForm action=clear attr:class="card">
                                <input type="hidden" name="id" value=id/>
                                <label for="clear-kind">"Lift a hold"</label>
                                <select id="clear-kind" name="kind">
                                    {HOLD_KINDS.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                                </select>
                                <label for="clear-reason">"Why"</label>
                                <input id="clear-reason" name="reason" required/>
                                <button type="submit">"Lift hold"</button>
                            </ActionForm>
                        })}
                        <h2>"Account timeline"</h2>
                        <Timeline rows=d.timeline.clone()/>
                        <ConsoleSignOut/>
                    }.into_any()
                }
                Ok(None) => view! {
                    <p role="alert" data-testid="console-missing">"There is no such dispute in your agency."</p>
                    <p><a href="/agency/disputes">"← Dispute queue"</a></p>
                }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}

/// The answer form: a plain multipart form (documents) to the server's answer route.
#[component]
fn AnswerForm(id: i64) -> impl IntoView {
    view! {
        <form method="post" action=format!("/agency/disputes/{id}/answer") enctype="multipart/form-data" class="card" data-testid="answer-form">
            <fieldset>
                <legend>"How do you answer?"</legend>
                <div class="check">
                    <input id="k-verified" type="radio" name="kind" value="verified" checked/>
                    <label for="k-verified">"Verified: documents attached"</label>
                </div>
                <div class="check">
                    <input id="k-corrected" type="radio" name="kind" value="corrected"/>
                    <label for="k-corrected">"Debt corrected: post an adjustment"</label>
                </div>
                <div class="check">
                    <input id="k-closed" type="radio" name="kind" value="closed"/>
                    <label for="k-closed">"Account closed: write off the balance"</label>
                </div>
                <div class="check">
                    <input id="k-duplicate" type="radio" name="kind" value="duplicate"/>
                    <label for="k-duplicate">"Duplicate of an earlier dispute"</label>
                </div>
            </fieldset>
            <label for="message">"Message to the debtor"</label>
            <textarea id="message" name="message" rows="4" maxlength="4000" required></textarea>
            <label for="documents">"Verification documents (PDF, JPEG, PNG; 5 MB each)"</label>
            <input id="documents" type="file" name="documents" multiple accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"/>
            <label for="original-creditor">"Original creditor's name and address (required when the debtor asked for them)"</label>
            <textarea id="original-creditor" name="original_creditor" rows="2" maxlength="4000"></textarea>
            <label for="correction">"Correction to the balance, for a corrected debt (e.g. -125.00)"</label>
            <input id="correction" name="correction"/>
            <button type="submit">"Send the answer"</button>
        </form>
    }
}

/// An account's timeline, newest first.
#[component]
pub(crate) fn Timeline(rows: Vec<crate::agency::TimelineRow>) -> impl IntoView {
    view! {
        <ol class="timeline" data-testid="console-timeline">
            {rows.into_iter().map(|r| view! {
                <li>
                    <span class="muted">{r.at}" · "{r.kind}{r.by.map(|b| format!(" · {b}"))}</span>
                    <br/>{r.summary}
                </li>
            }).collect_view()}
        </ol>
    }
}
