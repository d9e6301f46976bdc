//! `/agency/sign-in/code` (the code step of sign-in) and `/agency/security` (a user's own
//! two-step sign-in).

use leptos::prelude::*;

use crate::agency_pages::{ConsoleFlash, ConsoleNav, ConsoleSignOut, SignInLink, Unavailable};
use crate::security::{
    security_view, sign_in_code_state, AgencySignInCode, BeginTwoStep, ConfirmTwoStep, EndTwoStep,
    SecurityData,
};

/// `/agency/sign-in/code`.
#[component]
pub fn SignInCodePage() -> impl IntoView {
    let action = ServerAction::<AgencySignInCode>::new();
    let state = Resource::new(move || action.version().get(), |_| sign_in_code_state());
    view! {
        <h1>"Agency sign-in"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || state.get().map(|r| match r {
                Ok((flash, true)) => view! {
                    <ConsoleFlash flash=flash/>
                    <ActionForm action=action attr:class="card">
                        <label for="code">"Code from your authenticator app"</label>
                        <p id="code-help" class="muted">"Six digits; a new code every 30 seconds."</p>
                        <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                            aria-describedby="code-help" maxlength="8" required/>
                        <button type="submit">"Continue"</button>
                    </ActionForm>
                }.into_any(),
                Ok((flash, false)) => view! {
                    <ConsoleFlash flash=flash/>
                    <p>"The sign-in has expired. "<a href="/agency/sign-in">"Sign in again"</a></p>
                }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn TwoStep(
    v: SecurityData,
    begin: ServerAction<BeginTwoStep>,
    confirm: ServerAction<ConfirmTwoStep>,
    end: ServerAction<EndTwoStep>,
) -> impl IntoView {
    if v.on {
        return view! {
            <p data-testid="two-step-state">"Two-step sign-in is on: signing in takes your password and a code from your app."</p>
            <ActionForm action=end attr:class="card">
                <label for="off-code">"Code from the app"</label>
                <input id="off-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required/>
                <button type="submit">"Turn off"</button>
            </ActionForm>
        }
        .into_any();
    }
    match v.setup {
        None => view! {
            <p data-testid="two-step-state">"Two-step sign-in is off: your password alone signs you in."</p>
            <ActionForm action=begin attr:class="card">
                <button type="submit">"Set up two-step sign-in"</button>
            </ActionForm>
        }
        .into_any(),
        Some((secret, svg)) => view! {
            <p data-testid="two-step-state">"Two-step sign-in is off until you enter a code from your app."</p>
            <ol>
                <li>"Open an authenticator app on your phone and add an account."</li>
                <li>"Scan this QR code, or type the key below."</li>
                <li>"Enter the six-digit code the app shows."</li>
            </ol>
            <div class="qr" role="img" aria-label="QR code with the key for your authenticator app" inner_html=svg></div>
            <p>"Key: "<code class="secret" data-testid="totp-secret">{secret}</code></p>
            <ActionForm action=confirm attr:class="card">
                <label for="on-code">"Code from the app"</label>
                <input id="on-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required/>
                <button type="submit">"Turn on"</button>
            </ActionForm>
        }
        .into_any(),
    }
}

/// `/agency/security`.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let begin = ServerAction::<BeginTwoStep>::new();
    let confirm = ServerAction::<ConfirmTwoStep>::new();
    let end = ServerAction::<EndTwoStep>::new();
    let data = Resource::new(
        move || {
            (
                begin.version().get(),
                confirm.version().get(),
                end.version().get(),
            )
        },
        |_| security_view(),
    );
    view! {
        <h1>"Security"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(Some(v)) => view! {
                    <ConsoleNav me=v.me.clone()/>
                    <ConsoleFlash flash=v.flash.clone()/>
                    <h2>"Two-step sign-in"</h2>
                    <TwoStep v=v begin=begin confirm=confirm end=end/>
                    <ConsoleSignOut/>
                }.into_any(),
                Ok(None) => view! { <SignInLink/> }.into_any(),
                Err(_) => view! { <Unavailable/> }.into_any(),
            })}
        </Suspense>
    }
}
