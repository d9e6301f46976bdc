//! `/agency/api-keys`: the agency API's keys (made, shown once, revoked) and webhook
//! endpoints; admins only.

use leptos::prelude::*;

use crate::agency_pages::{ConsoleFlash, ConsoleNav, ConsoleSignOut, SignInLink, Unavailable};
use crate::api_keys::{api_access_view, KeyRow, MakeApiKey, RevokeKey};

#[component]
fn KeysTable(keys: Vec<KeyRow>, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    view! {
        <div class="scroll">
        <table class="wide" data-testid="api-keys">
            <caption class="sr-only">"API keys, newest first"</caption>
            <thead><tr>
                <th scope="col">"Name"</th>
                <th scope="col">"Key"</th>
                <th scope="col">"Scopes"</th>
                <th scope="col">"Made"</th>
                <th scope="col">"Last used"</th>
                <th scope="col">"State"</th>
            </tr></thead>
            <tbody>
                {keys.into_iter().map(|k| {
                    let label = format!("Revoke the key {}", k.name);
                    view! {
                        <tr>
                            <td>{k.name.clone()}</td>
                            <td><code>{format!("{}…", k.prefix)}</code></td>
                            <td>{k.scopes}</td>
                            <td>{k.created}</td>
                            <td>{k.last_used}</td>
                            <td>{match k.revoked {
                                Some(at) => view! { <span>{format!("Revoked {at}")}</span> }.into_any(),
                                None => view! {
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="id" value=k.id/>
                                        <button type="submit" aria-label=label>"Revoke"</button>
                                    </ActionForm>
                                }.into_any(),
                            }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

/// `/agency/api-keys`.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let make = ServerAction::<MakeApiKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let data = Resource::new(
        move || (make.version().get(), revoke.version().get()),
        |_| api_access_view(),
    );
    view! {
        <h1>"API access"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(v)) if !v.is_admin => view! {
                    <ConsoleNav me=v.me.clone()/>
                    <ConsoleFlash flash=v.flash.clone()/>
                    <p>"Only an admin manages API keys."</p>
                    <ConsoleSignOut/>
                }.into_any(),
                Ok(Some(v)) => view! {
                    <ConsoleNav me=v.me.clone()/>
                    <ConsoleFlash flash=v.flash.clone()/>
                    {v.new_key.clone().map(|key| view! {
                        <section class="card" aria-labelledby="new-key" data-testid="new-key">
                            <h2 id="new-key">"Your new key"</h2>
                            <p>"Copy it now: it is not kept and will not be shown again. Send it as "<code>"Authorization: Bearer …"</code>"."</p>
                            <p><code class="secret">{key}</code></p>
                        </section>
                    })}
                    <p>
                        "Agency systems reach Settle's API at "<code>"/api/v1"</code>" with a key. The API is described at "
                        <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>"."
                    </p>
                    <h2>"Make a key"</h2>
                    <ActionForm action=make attr:class="card">
                        <label for="key-name">"Name (what uses it)"</label>
                        <input id="key-name" name="name" required maxlength="100"/>
                        <fieldset>
                            <legend>"It may"</legend>
                            <div class="check">
                                <input id="scope-read" type="checkbox" name="accounts_read" value="on"/>
                                <label for="scope-read">"Read accounts and ledgers (accounts:read)"</label>
                            </div>
                            <div class="check">
                                <input id="scope-write" type="checkbox" name="accounts_write" value="on"/>
                                <label for="scope-write">"Place accounts (accounts:write)"</label>
                            </div>
                            <div class="check">
                                <input id="scope-hooks" type="checkbox" name="webhooks" value="on"/>
                                <label for="scope-hooks">"Manage webhook endpoints (webhooks)"</label>
                            </div>
                        </fieldset>
                        <button type="submit">"Make key"</button>
                    </ActionForm>
                    <h2>"Keys"</h2>
                    {if v.keys.is_empty() {
                        view! { <p>"No keys yet."</p> }.into_any()
                    } else {
                        view! { <KeysTable keys=v.keys.clone() revoke=revoke/> }.into_any()
                    }}
                    <h2>"Webhook endpoints"</h2>
                    <p>"Agency systems add and remove these through the API."</p>
                    {if v.hooks.is_empty() {
                        view! { <p>"None."</p> }.into_any()
                    } else {
                        view! {
                            <ul data-testid="webhooks">
                                {v.hooks.clone().into_iter().map(|h| view! {
                                    <li>
                                        <code>{h.url}</code>" — "{h.events}" · added "{h.created}
                                        {h.removed.map(|at| format!(" · removed {at}"))}
                                    </li>
                                }).collect_view()}
                            </ul>
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
