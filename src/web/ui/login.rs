//! Logging in and out. The login form carries its own CSRF token (no session exists yet); a
//! store error is said as such, never as "wrong password", and is not counted as an attempt.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use maud::html;

use super::layout::{page, secure_cookies};
use crate::domain::{User, now_ms};
use crate::web::AppState;
use crate::web::auth;
use crate::web::error::PageResult;
use crate::web::extract::CsrfForm;
use crate::web::pages::safe_next;
use crate::web::tickets::works_tickets;

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let next = safe_next(query.get("next").map(String::as_str));
    if let Ok(Some(p)) = auth::principal(&state.store, &headers, state.clock.now()).await {
        return Ok(Redirect::to(next.unwrap_or(home_of(&p.user))).into_response());
    }
    let expired = query.contains_key("expired").then_some(
        "Your session ended. Log in again to go on: a reply you were typing is kept in this browser.",
    );
    login_form(&state, expired, next).await
}

/// Where a user lands after logging in.
fn home_of(user: &User) -> &'static str {
    if works_tickets(user) {
        "/queue"
    } else {
        // Staff: notices are their daily work; the menu has the schedule, contacts, directory.
        "/broadcasts"
    }
}

/// The login page with a fresh CSRF token in its cookie and its form.
async fn login_form(state: &AppState, error: Option<&str>, next: Option<&str>) -> PageResult {
    let token = state.login_csrf.issue(now_ms()).await?;
    let html = page(
        "Log in",
        None,
        html! {
            h1 { "kabar — log in" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form.panel method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                p { label { "User name " input name="name" autocomplete="username" required; } }
                p { label { "Password " input type="password" name="password" autocomplete="current-password" required; } }
                button { "Log in" }
            }
        },
    );
    Ok((
        [(
            header::SET_COOKIE,
            auth::login_cookie(&token, secure_cookies(state)),
        )],
        html,
    )
        .into_response())
}

/// The login form again with `error`, answered with `status`.
async fn refused(
    state: &AppState,
    status: StatusCode,
    error: &str,
    next: Option<&str>,
) -> PageResult {
    let mut refused = login_form(state, Some(error), next).await?;
    *refused.status_mut() = status;
    Ok(refused)
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let cookie = auth::cookie_value(&headers, auth::LOGIN_COOKIE);
    let sent = form.get("csrf").map(String::as_str);
    let next = safe_next(form.get("next").map(String::as_str));
    if !state
        .login_csrf
        .check(sent, cookie.as_deref(), now_ms())
        .await
    {
        return refused(
            &state,
            StatusCode::FORBIDDEN,
            "This login form expired. Please try again.",
            next,
        )
        .await;
    }
    let name = form
        .get("name")
        .map(|s| s.trim())
        .unwrap_or_default()
        .to_string();
    let password = form.get("password").cloned().unwrap_or_default();
    if let Some(wait) = state.login_limiter.blocked(&name, now_ms()).await? {
        let minutes = wait.as_secs().div_ceil(60);
        let text = format!("Too many failed attempts. Try again in {minutes} minute(s).");
        return refused(&state, StatusCode::TOO_MANY_REQUESTS, &text, next).await;
    }
    // A store error is not a wrong password: say so, and do not count it as a failed attempt.
    let user = state.store.user(&name).await?;
    // Verify even for unknown names so timing does not tell which names exist.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        state.login_limiter.failed(&name, now_ms()).await?;
        // Failed logins are in the trail (the name as typed, cut short: never a password).
        let typed: String = name.chars().take(64).collect();
        state.store.audit(&typed, "login-failed", None, "").await?;
        return refused(
            &state,
            StatusCode::UNAUTHORIZED,
            "Wrong user name or password.",
            next,
        )
        .await;
    };
    state.login_limiter.succeeded(&name).await?;
    let token = auth::new_token();
    let csrf = auth::new_token();
    // No session without its audit row: the trail never misses a login.
    state.store.audit(&user.name, "login", None, "").await?;
    state
        .store
        .create_web_session(
            &user.name,
            &auth::token_hash(&token),
            &csrf,
            state.clock.now() + auth::SESSION_MS,
        )
        .await?;
    let home = next.unwrap_or(home_of(&user)).to_string();
    Ok((
        [
            (
                header::SET_COOKIE,
                auth::session_cookie(&token, secure_cookies(&state)),
            ),
            (header::LOCATION, home),
        ],
        StatusCode::SEE_OTHER,
    )
        .into_response())
}

/// An argon2 hash of a random password, to spend the same time on unknown user names.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0YkH1cmd7ZQvz7cPZ9yPOHdr7RuB2pJOcuhr6GtYSQ8";

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { .. }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    if let Some(token) = auth::session_token(&headers) {
        state
            .store
            .end_web_session(&auth::token_hash(&token))
            .await?;
    }
    Ok((
        [
            (
                header::SET_COOKIE,
                auth::clear_cookie(secure_cookies(&state)),
            ),
            (header::LOCATION, "/login".to_string()),
        ],
        StatusCode::SEE_OTHER,
    )
        .into_response())
}
