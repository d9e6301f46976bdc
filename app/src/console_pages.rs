//! The console's account pages (English; for agency staff): search, one account with its
//! ledger, plan, holds, preferences and timeline (with a note and an adjustment form),
//! imports with their bad rows, and the audit log.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::agency_pages::{
    ConsoleFlash, ConsoleNav, ConsoleSignOut, SignInLink, Timeline, Unavailable,
};
use crate::console::{
    audit_entries, console_account, find_accounts, import_list, import_result, AddNote,
    AdjustBalance, ImportRunRow, AUDIT_PAGE,
};
use crate::route_id;

/// `/agency/accounts?q=`: find an account by reference, phone or name.
#[component]
pub fn AccountsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let data = Resource::new(q, find_accounts);
    view! {
        <h1>"Accounts"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some((me, hits))) => {
                    let q = q();
                    view! {
                        <ConsoleNav me=me/>
                        <form method="get" action="/agency/accounts" class="card" role="search">
                            <label for="q">"Account reference, phone, or name (last, or first and last)"</label>
                            <input id="q" name="q" type="search" value=q.clone() required/>
                            <button type="submit">"Find"</button>
                        </form>
                        {if q.trim().is_empty() {
                            view! { <p>"Search for an account to open it."</p> }.into_any()
                        } else if hits.is_empty() {
                            view! { <p data-testid="no-hits">"No account matches “"{q}"”."</p> }.into_any()
                        } else {
                            view! {
                                <div class="scroll">
                                <table class="wide" data-testid="hits">
                                    <caption class="sr-only">"Accounts found"</caption>
                                    <thead><tr>
                                        <th scope="col">"Reference"</th>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Phone"</th>
                                        <th scope="col">"Creditor"</th>
                                    </tr></thead>
                                    <tbody>
                                        {hits.into_iter().map(|h| view! {
                                            <tr>
                                                <td><a href=format!("/agency/accounts/{}", h.id)>{h.account_ref}</a></td>
                                                <td>{h.name}</td>
                                                <td>{h.phone}</td>
                                                <td>{h.creditor}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                            }.into_any()
                        }}
                        <ConsoleSignOut/>
                    }.into_any()
                }
                Ok(None) => view! { <SignInLink/> }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Facts(rows: Vec<(String, String)>, testid: &'static str) -> impl IntoView {
    view! {
        <dl class="facts" data-testid=testid>
            {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
        </dl>
    }
}

/// `/agency/accounts/:id`: everything about one account, a note and an adjustment.
#[component]
pub fn ConsoleAccountPage() -> impl IntoView {
    let id = route_id("id");
    let note = ServerAction::<AddNote>::new();
    let adjust = ServerAction::<AdjustBalance>::new();
    let data = Resource::new(
        move || (id(), note.version().get(), adjust.version().get()),
        |(id, ..)| console_account(id),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(a)) => {
                    let id = a.id;
                    view! {
                        <ConsoleNav me=a.me.clone()/>
                        <h1>{a.account_ref.clone()}" · "{a.name.clone()}</h1>
                        <ConsoleFlash flash=a.flash.clone()/>
                        <p class="balance" data-testid="console-balance">"Balance: "<strong>{a.balance.clone()}</strong></p>
                        <Facts rows=a.facts.clone() testid="console-facts"/>
                        <h2>"Itemization"</h2>
                        <Facts rows=a.itemization.clone() testid="console-itemization"/>
                        <h2>"Ledger"</h2>
                        <div class="scroll">
                        <table data-testid="console-ledger">
                            <caption class="sr-only">"Postings, oldest first"</caption>
                            <thead><tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"Kind"</th>
                                <th scope="col">"Memo"</th>
                                <th scope="col">"By"</th>
                                <th scope="col">"Amount"</th>
                            </tr></thead>
                            <tbody>
                                {a.postings.clone().into_iter().map(|p| view! {
                                    <tr><td>{p.at}</td><td>{p.kind}</td><td>{p.memo}</td><td>{p.by}</td><td>{p.amount}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                        <h2>"Plan"</h2>
                        <p data-testid="console-plan">{a.plan.clone().unwrap_or_else(|| "No plan.".into())}</p>
                        <h2>"Disputes"</h2>
                        {if a.disputes.is_empty() {
                            view! { <p>"No disputes."</p> }.into_any()
                        } else {
                            view! {
                                <ul>
                                    {a.disputes.clone().into_iter().map(|(d, reason, state)| view! {
                                        <li><a href=format!("/agency/disputes/{d}")>"Dispute #"{d}</a>" · "{reason}" · "{state}</li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <h2>"Holds"</h2>
                        {if a.holds.is_empty() {
                            view! { <p>"No holds."</p> }.into_any()
                        } else {
                            view! {
                                <ul data-testid="console-holds">
                                    {a.holds.clone().into_iter().map(|h| view! {
                                        <li>
                                            <strong>{h.kind}</strong>": "{h.set}<br/>
                                            {h.cleared.map(|c| format!("Lifted: {c}")).unwrap_or_else(|| "Active".into())}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <h2>"Contact preferences and consent"</h2>
                        <Facts rows=a.preferences.clone() testid="console-preferences"/>
                        {a.can_act.then(|| view! {
                            <h2>"Work the account"</h2>
                            <ActionForm action=note attr:class="card">
                                <input type="hidden" name="id" value=id/>
                                <label for="note-body">"Add a note"</label>
                                <textarea id="note-body" name="body" rows="3" maxlength="4000" required></textarea>
                                <button type="submit">"Add note"</button>
                            </ActionForm>
                            <ActionForm action=adjust attr:class="card">
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="key" value=a.adjust_key.clone()/>
                                <label for="adjust-amount">"Adjust the balance by (e.g. -25.00 to reduce it)"</label>
                                <input id="adjust-amount" name="amount" required/>
                                <label for="adjust-reason">"Reason"</label>
                                <input id="adjust-reason" name="reason" maxlength="4000" required/>
                                <button type="submit">"Post adjustment"</button>
                            </ActionForm>
                        })}
                        <h2>"Timeline"</h2>
                        <Timeline rows=a.timeline.clone()/>
                        <ConsoleSignOut/>
                    }.into_any()
                }
                Ok(None) => view! {
                    <h1>"Account"</h1>
                    <p role="alert" data-testid="console-missing">"There is no such account in your agency."</p>
                    <p><a href="/agency/accounts">"← Accounts"</a></p>
                }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn RunCounts(run: ImportRunRow) -> impl IntoView {
    view! {
        <dl class="facts" data-testid="import-counts">
            <dt>"File"</dt><dd>{run.source}</dd>
            <dt>"Started"</dt><dd>{run.started}" by "{run.by}</dd>
            <dt>"Rows read"</dt><dd>{run.rows}</dd>
            <dt>"Imported"</dt><dd data-testid="imported">{run.imported}</dd>
            <dt>"Already placed (unchanged)"</dt><dd>{run.unchanged}</dd>
            <dt>"Rejected"</dt><dd data-testid="rejected">{run.rejected}</dd>
            {run.unfinished.then(|| view! { <dt>"State"</dt><dd>"Did not finish"</dd> })}
        </dl>
    }
}

/// `/agency/import`: upload a placement file; recent imports.
#[component]
pub fn ImportPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| import_list());
    view! {
        <h1>"Import placements"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(l)) => view! {
                    <ConsoleNav me=l.me.clone()/>
                    <ConsoleFlash flash=l.flash.clone()/>
                    {if l.can_act {
                        view! {
                            <form method="post" action="/agency/import/upload" enctype="multipart/form-data" class="card" data-testid="import-form">
                                <label for="file">"Placement file (CSV, UTF-8, header row first)"</label>
                                <input id="file" type="file" name="file" accept=".csv,text/csv" required/>
                                <button type="submit">"Import"</button>
                            </form>
                        }.into_any()
                    } else {
                        view! { <p>"Your role is read-only: you can read imports but not start one."</p> }.into_any()
                    }}
                    <details>
                        <summary>"What the file must hold"</summary>
                        <p>"Required columns: "<code>{l.required.join(", ")}</code></p>
                        <p>"Optional columns: "<code>{l.optional.join(", ")}</code></p>
                        <p>"Good rows are imported even when others are bad; each bad row is listed with its line number and why. An account reference already placed is left unchanged."</p>
                    </details>
                    <h2>"Recent imports"</h2>
                    {if l.runs.is_empty() {
                        view! { <p>"No imports yet."</p> }.into_any()
                    } else {
                        view! {
                            <div class="scroll">
                            <table data-testid="imports">
                                <caption class="sr-only">"Recent imports, newest first"</caption>
                                <thead><tr>
                                    <th scope="col">"Import"</th>
                                    <th scope="col">"File"</th>
                                    <th scope="col">"Started"</th>
                                    <th scope="col">"Imported"</th>
                                    <th scope="col">"Rejected"</th>
                                </tr></thead>
                                <tbody>
                                    {l.runs.clone().into_iter().map(|r| view! {
                                        <tr>
                                            <td><a href=format!("/agency/imports/{}", r.id)>"#"{r.id}</a></td>
                                            <td>{r.source}</td>
                                            <td>{r.started}" · "{r.by}</td>
                                            <td>{r.imported}</td>
                                            <td>{r.rejected}</td>
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

/// `/agency/imports/:run`: one import's counts and bad rows, with the error report.
#[component]
pub fn ImportResultPage() -> impl IntoView {
    let run = route_id("run");
    let data = Resource::new(run, import_result);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(d)) => {
                    let id = d.run.id;
                    let shown = d.errors.len();
                    view! {
                        <ConsoleNav me=d.me.clone()/>
                        <h1>"Import #"{id}</h1>
                        <ConsoleFlash flash=d.flash.clone()/>
                        <RunCounts run=d.run.clone()/>
                        {if d.errors.is_empty() {
                            view! { <p data-testid="no-bad-rows">"No bad rows."</p> }.into_any()
                        } else {
                            view! {
                                <h2>"Bad rows"</h2>
                                <p>
                                    <a href=format!("/agency/imports/{id}/errors.csv") download="" data-testid="error-report">"Download the error report (CSV)"</a>
                                    {(shown < d.kept_errors).then(|| format!(" — the first {shown} of {} are shown here.", d.kept_errors))}
                                </p>
                                <div class="scroll">
                                <table class="wide" data-testid="bad-rows">
                                    <caption class="sr-only">"Rows not imported"</caption>
                                    <thead><tr>
                                        <th scope="col">"Line"</th>
                                        <th scope="col">"Reference"</th>
                                        <th scope="col">"Why"</th>
                                    </tr></thead>
                                    <tbody>
                                        {d.errors.clone().into_iter().map(|(line, r, why)| view! {
                                            <tr><td>{line}</td><td>{r}</td><td class="prewrap">{why}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                            }.into_any()
                        }}
                        <p><a href="/agency/import">"← Imports"</a></p>
                    }.into_any()
                }
                Ok(None) => view! {
                    <h1>"Import"</h1>
                    <p role="alert">"There is no such import in your agency."</p>
                    <p><a href="/agency/import">"← Imports"</a></p>
                }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}

/// `/agency/audit?before=`: who changed what, newest first (admins only).
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let data = Resource::new(before, audit_entries);
    view! {
        <h1>"Audit log"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some((me, Some(rows)))) => {
                    let next = (rows.len() as i64 == AUDIT_PAGE)
                        .then(|| rows.last().map(|r| r.id))
                        .flatten();
                    view! {
                        <ConsoleNav me=me/>
                        {if rows.is_empty() {
                            view! { <p>"Nothing recorded yet."</p> }.into_any()
                        } else {
                            view! {
                                <div class="scroll">
                                <table class="wide" data-testid="audit">
                                    <caption class="sr-only">"Changes by agency users, newest first"</caption>
                                    <thead><tr>
                                        <th scope="col">"When"</th>
                                        <th scope="col">"Who"</th>
                                        <th scope="col">"What"</th>
                                        <th scope="col">"Account"</th>
                                        <th scope="col">"Details"</th>
                                    </tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|e| view! {
                                            <tr>
                                                <td>{e.at}</td>
                                                <td>{e.user}</td>
                                                <td>{e.action}</td>
                                                <td>{e.account.map(|(a, r)| view! { <a href=format!("/agency/accounts/{a}")>{r}</a> })}</td>
                                                <td class="prewrap">{e.detail}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                            }.into_any()
                        }}
                        {next.map(|n| view! { <p><a href=format!("/agency/audit?before={n}")>"Older entries →"</a></p> })}
                        <ConsoleSignOut/>
                    }.into_any()
                }
                Ok(Some((me, None))) => view! {
                    <ConsoleNav me=me/>
                    <p role="alert">"Only an admin can read the audit log."</p>
                }.into_any(),
                Ok(None) => view! { <SignInLink/> }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}
