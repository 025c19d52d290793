//! Pages for admins: users; and "my API tokens" for everyone. The operations are in
//! [`crate::web::users`], shared with the API.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};

use super::layout::{encode_query, page};
use crate::domain::{Role, User};
use crate::web::AppState;
use crate::web::auth::Principal;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::rfc3339;
use crate::web::users::{
    NewUser, UserPatch, add_user, change_user, create_token, revoke_token, visible_tokens,
};

const MANAGE_USERS: &str = "manage users";

const ROLES: [(&str, &str); 4] = [
    ("interpreter", "Interpreter"),
    ("supervisor", "Supervisor"),
    ("staff", "Staff"),
    ("admin", "Admin"),
];

fn role_tag(role: Role) -> &'static str {
    match role {
        Role::Interpreter => "interpreter",
        Role::Supervisor => "supervisor",
        Role::Staff => "staff",
        Role::Admin => "admin",
    }
}

/// "fa-AF, so" typed in a form, as language tags.
fn form_languages(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn form_value<'f>(form: &'f HashMap<String, String>, name: &str) -> Option<&'f str> {
    form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn users_markup(users: &[User], csrf: &str, message: Option<(bool, &str)>) -> Markup {
    html! {
        h1 { "Users" }
        @if let Some((ok, text)) = message {
            @if ok { p.notice role="status" { (text) } } @else { p.error role="alert" { (text) } }
        }
        p { "Changes take effect at once: a disabled user's sessions and API tokens stop working on their next request. A new password signs the user out everywhere and revokes their API tokens (your own new password keeps you signed in here)." }
        table {
            thead { tr { th { "Name" } th { "Role" } th { "Languages" } th { "Status" } th { "Change" } } }
            tbody { @for u in users { tr {
                td { (u.name) }
                td { (role_tag(u.role)) }
                td { (u.languages.iter().map(|l| l.tag()).collect::<Vec<_>>().join(", ")) }
                td { @if u.disabled { "disabled" } @else { "active" } }
                td { form method="post" action={ "/admin/users/" (u.name) } {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "Role " select name="role" { @for (tag, label) in ROLES {
                        option value=(tag) selected[tag == role_tag(u.role)] { (label) } } } }
                    " "
                    label { "Languages " input name="languages" size="14" value=(u.languages.iter().map(|l| l.tag()).collect::<Vec<_>>().join(",")); }
                    " "
                    label { input type="checkbox" name="disabled" value="on" checked[u.disabled]; " disabled" }
                    " "
                    label { "New password " input type="password" name="password" autocomplete="new-password" minlength="10"; }
                    " "
                    button { "Save" }
                } }
            } } }
        }
        form.panel method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(csrf);
            h2 { "Add a user" }
            p { label { "Name " input name="name" required maxlength="64" pattern="[A-Za-z0-9._\\-]+"; } }
            p { label { "Role " select name="role" { @for (tag, label) in ROLES { option value=(tag) { (label) } } } } }
            p { label { "Languages (comma-separated: en, fa-AF, fa, so, ar, ti) " input name="languages"; } }
            p { label { "Password (at least 10 characters) " input type="password" name="password" required minlength="10" autocomplete="new-password"; } }
            button { "Add" }
        }
    }
}

/// The users page again with why a change was refused (a store error is its own page).
async fn users_answer(state: &AppState, p: &Principal, refused: ApiError) -> PageResult {
    if refused.status.is_server_error() {
        return Err(refused.into());
    }
    let users = state.store.users().await?;
    let csrf = p.csrf.clone().unwrap_or_default();
    let message = Some((false, refused.detail.as_str()));
    Ok((
        refused.status,
        page("Users", Some(p), users_markup(&users, &csrf, message)),
    )
        .into_response())
}

pub async fn users_page(
    State(state): State<AppState>,
    p: SignedIn,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let p = p.require(&[Role::Admin], MANAGE_USERS)?;
    let users = state.store.users().await?;
    // After a change the form redirects here (a reload sends nothing again); the notice names
    // a user that exists, never text taken from the address.
    let known = |key: &str| {
        query
            .get(key)
            .and_then(|name| users.iter().find(|u| &u.name == name))
    };
    let notice = match (known("added"), known("saved")) {
        (Some(u), _) => Some(format!("User {} added.", u.name)),
        (None, Some(u)) => Some(format!("User {} saved.", u.name)),
        (None, None) => None,
    };
    let csrf = p.csrf.clone().unwrap_or_default();
    let message = notice.as_deref().map(|n| (true, n));
    Ok(page("Users", Some(&p), users_markup(&users, &csrf, message)).into_response())
}

pub async fn users_add(
    State(state): State<AppState>,
    CsrfForm { signed_in, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let p = signed_in.require(&[Role::Admin], MANAGE_USERS)?;
    let new = NewUser {
        name: form_value(&form, "name").unwrap_or_default().to_string(),
        role: form_value(&form, "role").unwrap_or_default().to_string(),
        languages: form_languages(form_value(&form, "languages").unwrap_or_default()),
        password: form.get("password").cloned().unwrap_or_default(),
    };
    match add_user(&state, &p, new).await {
        Ok(user) => Ok(
            Redirect::to(&format!("/admin/users?added={}", encode_query(&user.name)))
                .into_response(),
        ),
        Err(e) => users_answer(&state, &p, e).await,
    }
}

pub async fn users_change(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CsrfForm { signed_in, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let p = signed_in.require(&[Role::Admin], MANAGE_USERS)?;
    // The form always sends role and languages; an unchecked box sends nothing.
    let patch = UserPatch {
        role: form_value(&form, "role").map(str::to_string),
        languages: form.get("languages").map(|l| form_languages(l)),
        disabled: Some(form.get("disabled").is_some_and(|v| v == "on")),
        password: form_value(&form, "password").map(str::to_string),
    };
    match change_user(&state, &p, &name, patch).await {
        Ok(user) => Ok(
            Redirect::to(&format!("/admin/users?saved={}", encode_query(&user.name)))
                .into_response(),
        ),
        Err(e) => users_answer(&state, &p, e).await,
    }
}

async fn tokens_markup(
    state: &AppState,
    p: &Principal,
    message: Option<(bool, &str)>,
    new_token: Option<&str>,
) -> Result<Markup, ApiError> {
    let tokens = visible_tokens(state, p).await?;
    let users = if p.user.role == Role::Admin {
        state.store.users().await?
    } else {
        vec![p.user.clone()]
    };
    let csrf = p.csrf.clone().unwrap_or_default();
    Ok(html! {
        h1 { "API tokens" }
        @if let Some((ok, text)) = message {
            @if ok { p.notice role="status" { (text) } } @else { p.error role="alert" { (text) } }
        }
        @if let Some(token) = new_token {
            p.notice { "The new token — copy it now, it is shown only this once:" }
            p { code { (token) } }
        }
        table {
            thead { tr { th { "Id" } th { "User" } th { "Created" } th { "By" } th {} } }
            tbody { @for t in &tokens { tr {
                td { code { (t.id) } }
                td { (t.user) }
                td { (t.created_at.map(rfc3339).unwrap_or_else(|| "before ids".into())) }
                td { (t.created_by.clone().unwrap_or_default()) }
                td { form method="post" action={ "/admin/tokens/" (t.id) "/revoke" } {
                    input type="hidden" name="csrf" value=(csrf); button { "Revoke" } } }
            } } }
        }
        form.panel method="post" action="/admin/tokens" {
            input type="hidden" name="csrf" value=(csrf);
            h2 { "Create a token" }
            p { label { "For " select name="user" { @for u in users.iter().filter(|u| !u.disabled) {
                option value=(u.name) selected[u.name == p.user.name] { (u.name) } } } } }
            button { "Create" }
        }
    })
}

/// The tokens page again with why a change was refused (a store error is its own page).
async fn tokens_answer(state: &AppState, p: &Principal, refused: ApiError) -> PageResult {
    if refused.status.is_server_error() {
        return Err(refused.into());
    }
    let markup = tokens_markup(state, p, Some((false, &refused.detail)), None).await?;
    Ok((refused.status, page("API tokens", Some(p), markup)).into_response())
}

/// A token just created on the page, waiting for the page its form redirects to: shown there
/// once, to the same browser session, then gone. Kept in memory only (never on disk) and for
/// a minute at most, so the token is never in an address and a reload creates no other one.
struct FreshToken {
    session: String,
    id: String,
    token: String,
    at: std::time::Instant,
}

static FRESH_TOKENS: std::sync::Mutex<Vec<FreshToken>> = std::sync::Mutex::new(Vec::new());
const FRESH_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(60);

fn hold_fresh_token(session: &str, id: &str, token: String) {
    if let Ok(mut held) = FRESH_TOKENS.lock() {
        held.retain(|t| t.at.elapsed() < FRESH_TOKEN_TTL);
        held.push(FreshToken {
            session: session.to_string(),
            id: id.to_string(),
            token,
            at: std::time::Instant::now(),
        });
    }
}

fn take_fresh_token(session: &str, id: &str) -> Option<String> {
    let mut held = FRESH_TOKENS.lock().ok()?;
    held.retain(|t| t.at.elapsed() < FRESH_TOKEN_TTL);
    let at = held
        .iter()
        .position(|t| t.session == session && t.id == id)?;
    Some(held.swap_remove(at).token)
}

pub async fn tokens_page(
    State(state): State<AppState>,
    p: SignedIn,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let created = query.get("created");
    let fresh = created.and_then(|id| take_fresh_token(&p.credential_hash, id));
    let message = match (created, &fresh) {
        (Some(id), Some(_)) => Some(format!("Token {id} created.")),
        (Some(_), None) => Some("The new token was shown once already (or that page is more than a minute old); revoke it and create another if it was not copied.".to_string()),
        (None, _) => None,
    };
    let markup = tokens_markup(
        &state,
        &p,
        message.as_deref().map(|m| (fresh.is_some(), m)),
        fresh.as_deref(),
    )
    .await?;
    Ok(page("API tokens", Some(&p), markup).into_response())
}

pub async fn tokens_create(
    State(state): State<AppState>,
    CsrfForm { signed_in: p, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let user = form_value(&form, "user").unwrap_or_default().to_string();
    match create_token(&state, &p, &user).await {
        // A redirect, so that a reload creates no second token; the page it leads to shows
        // this one once.
        Ok((record, token)) => {
            hold_fresh_token(&p.credential_hash, &record.id, token);
            Ok(Redirect::to(&format!("/admin/tokens?created={}", record.id)).into_response())
        }
        Err(e) => tokens_answer(&state, &p, e).await,
    }
}

pub async fn tokens_revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { signed_in: p, .. }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    match revoke_token(&state, &p, &id).await {
        Ok(()) => Ok(Redirect::to("/admin/tokens").into_response()),
        Err(e) => tokens_answer(&state, &p, e).await,
    }
}
