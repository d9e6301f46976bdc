//! The console's inbox pages: the list (open, mine, closed) and one message with its
//! assignment, answer and close forms.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::agency_pages::{ConsoleFlash, ConsoleNav, ConsoleSignOut, SignInLink, Unavailable};
use crate::inbox::{inbox_list, inbox_message, AnswerMessage, AssignMessage, CloseMessage};
use crate::route_id;

const VIEWS: [(&str, &str); 3] = [("open", "Open"), ("mine", "Mine"), ("closed", "Closed")];

/// `/agency/inbox?view=`: replies that need a person, newest first.
#[component]
pub fn InboxListPage() -> impl IntoView {
    let query = use_query_map();
    let view_name = move || query.read().get("view");
    let data = Resource::new(view_name, inbox_list);
    view! {
        <h1>"Inbox"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(l)) => view! {
                    <ConsoleNav me=l.me.clone()/>
                    <nav aria-label="Inbox views" class="console-nav">
                        {VIEWS.iter().map(|(v, label)| {
                            let current = l.view == *v;
                            view! {
                                <a href=format!("/agency/inbox?view={v}") aria-current=current.then_some("page")>{*label}</a>
                            }
                        }).collect_view()}
                    </nav>
                    {if l.rows.is_empty() {
                        view! { <p data-testid="inbox-empty">"No messages here."</p> }.into_any()
                    } else {
                        view! {
                            <div class="scroll">
                            <table class="wide" data-testid="inbox">
                                <caption class="sr-only">"Messages, newest first"</caption>
                                <thead><tr>
                                    <th scope="col">"Received"</th>
                                    <th scope="col">"From"</th>
                                    <th scope="col">"State"</th>
                                    <th scope="col">"Message"</th>
                                </tr></thead>
                                <tbody>
                                    {l.rows.clone().into_iter().map(|m| view! {
                                        <tr>
                                            <td>{m.received}<br/>{m.channel}</td>
                                            <td><a href=format!("/agency/inbox/{}", m.id)>{format!("Message #{} from {}", m.id, m.from)}</a></td>
                                            <td>
                                                {m.assigned.map(|a| format!("assigned to {a}")).unwrap_or_else(|| "unassigned".into())}
                                                {m.answered.map(|a| view! { <br/>{a} })}
                                            </td>
                                            <td class="prewrap">{m.body}</td>
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

/// `/agency/inbox/:id`: one message; assign, answer, close.
#[component]
pub fn InboxMessagePage() -> impl IntoView {
    let id = route_id("id");
    let assign = ServerAction::<AssignMessage>::new();
    let answer = ServerAction::<AnswerMessage>::new();
    let close = ServerAction::<CloseMessage>::new();
    let data = Resource::new(
        move || {
            (
                id(),
                assign.version().get(),
                answer.version().get(),
                close.version().get(),
            )
        },
        |(id, ..)| inbox_message(id),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(d)) => {
                    let id = d.row.id;
                    let act = d.can_act && d.open;
                    view! {
                        <ConsoleNav me=d.me.clone()/>
                        <h1>"Message #"{id}</h1>
                        <ConsoleFlash flash=d.flash.clone()/>
                        <dl class="facts" data-testid="inbox-message">
                            <dt>"From"</dt>
                            <dd>{match d.account {
                                Some(a) => view! { <a href=format!("/agency/accounts/{a}")>{d.row.from.clone()}</a> }.into_any(),
                                None => view! { <span>{d.row.from.clone()}</span> }.into_any(),
                            }}</dd>
                            <dt>"Received"</dt><dd>{d.row.received.clone()}" by "{d.row.channel.clone()}</dd>
                            <dt>"Message"</dt><dd class="prewrap">{d.row.body.clone()}</dd>
                            <dt>"Understood"</dt><dd>{d.understood.clone()}</dd>
                            <dt>"Assigned to"</dt><dd>{d.row.assigned.clone().unwrap_or_else(|| "nobody".into())}</dd>
                            <dt>"Answer"</dt><dd data-testid="inbox-answered">{d.row.answered.clone().unwrap_or_else(|| "not answered".into())}</dd>
                            <dt>"State"</dt><dd data-testid="inbox-state">{d.closed.clone().unwrap_or_else(|| "open".into())}</dd>
                        </dl>
                        {act.then(|| view! {
                            <ActionForm action=assign attr:class="card">
                                <input type="hidden" name="id" value=id/>
                                <label for="assign-to">"Assign to"</label>
                                <select id="assign-to" name="to">
                                    <option value="">"Nobody"</option>
                                    {d.users.clone().into_iter().map(|(u, name)| view! {
                                        <option value=u selected=d.assigned_id == Some(u)>{name}</option>
                                    }).collect_view()}
                                </select>
                                <button type="submit">"Assign"</button>
                            </ActionForm>
                            {d.account.is_some().then(|| view! {
                                <ActionForm action=answer attr:class="card">
                                    <input type="hidden" name="id" value=id/>
                                    <input type="hidden" name="key" value=d.answer_key.clone()/>
                                    <label for="answer-text">"Answer (the compliance engine decides whether it may go now, and adds what the law requires)"</label>
                                    <p id="answer-hint" class="muted">"At most 640 characters. Texts are read by whoever holds the phone: say nothing about the debt a stranger should not read."</p>
                                    <textarea id="answer-text" name="text" rows="3" maxlength="640" aria-describedby="answer-hint" required></textarea>
                                    <button type="submit">"Send answer"</button>
                                </ActionForm>
                            })}
                            <ActionForm action=close attr:class="card">
                                <input type="hidden" name="id" value=id/>
                                <button type="submit">"Close message"</button>
                            </ActionForm>
                        })}
                        <p><a href="/agency/inbox">"← Inbox"</a></p>
                        <ConsoleSignOut/>
                    }.into_any()
                }
                Ok(None) => view! {
                    <h1>"Message"</h1>
                    <p role="alert">"There is no such message in your agency's inbox."</p>
                    <p><a href="/agency/inbox">"← Inbox"</a></p>
                }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}
