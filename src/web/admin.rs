//! Administration while the server runs: users and API tokens (DESIGN §2), as JSON API.
//! Every change is audited in the same transaction (never with a password or a token).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api::{ApiError, rfc3339};
use super::auth::{self, Principal};
use super::tickets::{caller, err};
use crate::domain::{Role, User, now_ms};
use crate::i18n::Lang;
use crate::store::{ApiToken, StoreError, UserChange};

/// Passwords shorter than this are refused (CLI and API alike).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// User names: 1-64 letters, digits, '.', '_' or '-' (they appear in URLs and the audit trail).
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.chars().count() > 64
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || "._-".contains(c))
    {
        return Err("user names are 1-64 letters, digits, '.', '_' or '-'".into());
    }
    Ok(())
}

pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.len() > 1024 {
        return Err("the password is too long (at most 1024 bytes)".into());
    }
    Ok(())
}

/// An interpreter sees only tickets in their languages: without any they would see nothing.
pub fn check_languages(role: Role, languages: &[Lang]) -> Result<(), String> {
    if role == Role::Interpreter && languages.is_empty() {
        return Err("an interpreter needs at least one language (e.g. [\"fa-AF\", \"fa\"])".into());
    }
    Ok(())
}

fn invalid(detail: impl Into<String>) -> ApiError {
    err(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
}

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "store error");
    err(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(detail) => err(StatusCode::CONFLICT, "conflict", detail),
        other => unavailable(other),
    }
}

fn require_admin(p: &Principal) -> Result<(), ApiError> {
    if p.user.role == Role::Admin {
        Ok(())
    } else {
        Err(err(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this needs the role admin",
        ))
    }
}

/// A JSON object body: 400 when it is not JSON at all, 422 (with serde's reason) when a field
/// is missing, unknown or of the wrong type.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| err(StatusCode::BAD_REQUEST, "bad json", e.to_string()))?;
    if !value.is_object() {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "bad json",
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

fn parse_role(text: &str) -> Result<Role, ApiError> {
    text.parse().map_err(invalid)
}

fn parse_languages(tags: &[String]) -> Result<Vec<Lang>, ApiError> {
    let mut languages = Vec::new();
    for tag in tags {
        let lang = Lang::parse(tag).ok_or_else(|| {
            invalid(format!(
                "unknown language {tag:?}: use {}",
                Lang::ALL.map(|l| l.tag()).join(", ")
            ))
        })?;
        if !languages.contains(&lang) {
            languages.push(lang);
        }
    }
    Ok(languages)
}

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(unavailable)?
        .map_err(unavailable)
}

/// A user as the API shows it: never the password hash.
#[derive(Serialize)]
pub struct UserView {
    pub name: String,
    pub role: Role,
    pub languages: Vec<&'static str>,
    pub disabled: bool,
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            name: u.name.clone(),
            role: u.role,
            languages: u.languages.iter().map(|l| l.tag()).collect(),
            disabled: u.disabled,
            created_at: rfc3339(u.created_at),
        }
    }
}

#[derive(Serialize)]
pub struct TokenView {
    pub id: String,
    pub user: String,
    pub created_at: Option<String>,
    pub created_by: Option<String>,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> TokenView {
        TokenView {
            id: t.id.clone(),
            user: t.user.clone(),
            created_at: t.created_at.map(rfc3339),
            created_by: t.created_by.clone(),
        }
    }
}

// ---- the operations, shared by the API and the admin pages ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub languages: Vec<String>,
    pub password: String,
}

/// Adds a user (admins only).
pub async fn add_user(state: &AppState, by: &Principal, new: NewUser) -> Result<User, ApiError> {
    require_admin(by)?;
    let name = new.name.trim().to_string();
    check_user_name(&name).map_err(invalid)?;
    let role = parse_role(&new.role)?;
    let languages = parse_languages(&new.languages)?;
    check_languages(role, &languages).map_err(invalid)?;
    check_password(&new.password).map_err(invalid)?;
    if state.store.user(&name).map_err(unavailable)?.is_some() {
        return Err(err(
            StatusCode::CONFLICT,
            "exists",
            format!("a user named {name:?} already exists"),
        ));
    }
    let user = User {
        name,
        role,
        languages,
        password_hash: hash(new.password).await?,
        created_at: now_ms(),
        disabled: false,
    };
    state
        .store
        .create_user(&user, &by.user.name)
        .map_err(store_error)?;
    state.store.durable().await.map_err(unavailable)?;
    tracing::info!(by = %by.user.name, user = %user.name, "user added");
    Ok(user)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<String>,
    pub languages: Option<Vec<String>>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// Changes a user (admins only). A disabled user's sessions and tokens stop at once; a new
/// password ends all of that user's sessions and tokens except the caller's own.
pub async fn change_user(
    state: &AppState,
    by: &Principal,
    name: &str,
    patch: UserPatch,
) -> Result<User, ApiError> {
    require_admin(by)?;
    let Some(current) = state.store.user(name).map_err(unavailable)? else {
        return Err(err(
            StatusCode::NOT_FOUND,
            "not found",
            format!("there is no user {name:?}"),
        ));
    };
    let mut change = UserChange {
        role: patch.role.as_deref().map(parse_role).transpose()?,
        languages: patch
            .languages
            .as_deref()
            .map(parse_languages)
            .transpose()?,
        disabled: patch.disabled,
        password_hash: None,
        // Your own new password keeps the session (or token) you set it with.
        keep_credential: (by.user.name == name).then(|| by.credential_hash.clone()),
    };
    if let Some(password) = patch.password {
        check_password(&password).map_err(invalid)?;
        change.password_hash = Some(hash(password).await?);
    }
    if change.is_empty() {
        return Err(invalid(
            "nothing to change: send role, languages, disabled or password",
        ));
    }
    check_languages(
        change.role.unwrap_or(current.role),
        change.languages.as_deref().unwrap_or(&current.languages),
    )
    .map_err(invalid)?;
    let updated = state
        .store
        .update_user(name, &change, &by.user.name)
        .map_err(store_error)?
        .ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "not found",
                format!("there is no user {name:?}"),
            )
        })?;
    state.store.durable().await.map_err(unavailable)?;
    tracing::info!(by = %by.user.name, user = %name, "user changed");
    Ok(updated)
}

/// Creates a token for `user`: admins for anyone, others for themselves. Returns the token
/// itself, which is shown this once.
pub async fn create_token(
    state: &AppState,
    by: &Principal,
    user: &str,
) -> Result<(ApiToken, String), ApiError> {
    if by.user.role != Role::Admin && by.user.name != user {
        return Err(err(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only admins create tokens for other users",
        ));
    }
    match state.store.user(user).map_err(unavailable)? {
        None => return Err(invalid(format!("there is no user {user:?}"))),
        Some(u) if u.disabled => {
            return Err(invalid(format!(
                "{user} is disabled; enable the user first"
            )));
        }
        Some(_) => {}
    }
    let token = auth::new_token();
    let record = state
        .store
        .create_token(&auth::token_hash(&token), user, &by.user.name)
        .map_err(store_error)?;
    state.store.durable().await.map_err(unavailable)?;
    tracing::info!(by = %by.user.name, user = %user, id = %record.id, "token created");
    Ok((record, token))
}

/// The tokens the caller may see: all for admins, their own for everyone else.
pub fn visible_tokens(state: &AppState, by: &Principal) -> Result<Vec<ApiToken>, ApiError> {
    let mut tokens = state.store.tokens().map_err(unavailable)?;
    if by.user.role != Role::Admin {
        tokens.retain(|t| t.user == by.user.name);
    }
    Ok(tokens)
}

/// Revokes a token: admins any, others their own. 404 for tokens the caller may not see.
pub async fn revoke_token(state: &AppState, by: &Principal, id: &str) -> Result<(), ApiError> {
    let not_found = || {
        err(
            StatusCode::NOT_FOUND,
            "not found",
            format!("there is no token {id:?} for you"),
        )
    };
    let visible = visible_tokens(state, by)?;
    if !visible.iter().any(|t| t.id == id) {
        return Err(not_found());
    }
    state
        .store
        .revoke_token(id, &by.user.name)
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    state.store.durable().await.map_err(unavailable)?;
    tracing::info!(by = %by.user.name, id = %id, "token revoked");
    Ok(())
}

// ---- JSON API ----

/// `GET /api/users` (admins).
pub async fn api_users(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = async {
        let p = caller(&state, &headers, None).await?;
        require_admin(&p)?;
        let users = state.store.users().map_err(unavailable)?;
        Ok::<_, ApiError>(Json(users.iter().map(UserView::from).collect::<Vec<_>>()))
    };
    result.await.into_response()
}

/// `POST /api/users` (admins) `{"name", "role", "languages": [..], "password"}` → 201.
pub async fn api_add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let p = caller(&state, &headers, Some(None)).await?;
        require_admin(&p)?;
        let new: NewUser = json_body(&body)?;
        let user = add_user(&state, &p, new).await?;
        Ok::<_, ApiError>((StatusCode::CREATED, Json(UserView::from(&user))))
    };
    result.await.into_response()
}

/// `PATCH /api/users/{name}` (admins) `{"role"?, "languages"?, "disabled"?, "password"?}`.
pub async fn api_change_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let p = caller(&state, &headers, Some(None)).await?;
        require_admin(&p)?;
        let patch: UserPatch = json_body(&body)?;
        let user = change_user(&state, &p, &name, patch).await?;
        Ok::<_, ApiError>(Json(UserView::from(&user)))
    };
    result.await.into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    user: String,
}

/// `POST /api/tokens` `{"user"}` → 201 `{"id", "token"}`; the token is shown this once.
pub async fn api_create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let p = caller(&state, &headers, Some(None)).await?;
        let new: NewToken = json_body(&body)?;
        let (record, token) = create_token(&state, &p, new.user.trim()).await?;
        Ok::<_, ApiError>((
            StatusCode::CREATED,
            Json(serde_json::json!({"id": record.id, "token": token, "user": record.user})),
        ))
    };
    result.await.into_response()
}

/// `GET /api/tokens`: all tokens for admins, one's own for others (never the token itself).
pub async fn api_tokens(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = async {
        let p = caller(&state, &headers, None).await?;
        let tokens = visible_tokens(&state, &p)?;
        Ok::<_, ApiError>(Json(tokens.iter().map(TokenView::from).collect::<Vec<_>>()))
    };
    result.await.into_response()
}

/// `DELETE /api/tokens/{id}`: the token stops working at once.
pub async fn api_revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let p = caller(&state, &headers, Some(None)).await?;
        revoke_token(&state, &p, &id).await?;
        Ok::<_, ApiError>(Json(serde_json::json!({"revoked": id})))
    };
    result.await.into_response()
}

// ---- pages for admins (and "my tokens" for everyone) ----

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};
use maud::{Markup, html};

use super::ui::{encode_query, page, page_caller, signed_in};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(users_add))
        .route("/admin/users/{name}", post(users_change))
        .route("/admin/tokens", get(tokens_page).post(tokens_create))
        .route("/admin/tokens/{id}/revoke", post(tokens_revoke))
}

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

fn users_answer(
    state: &AppState,
    p: &Principal,
    status: StatusCode,
    message: (bool, &str),
) -> Response {
    let users = state.store.users().unwrap_or_default();
    let csrf = p.csrf.clone().unwrap_or_default();
    (
        status,
        page("Users", Some(p), users_markup(&users, &csrf, Some(message))),
    )
        .into_response()
}

async fn users_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let p = match page_caller(&state, &headers, Some(&[Role::Admin]), "manage users", None) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let users = match state.store.users() {
        Ok(u) => u,
        Err(e) => return unavailable(e).into_response(),
    };
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
    page("Users", Some(&p), users_markup(&users, &csrf, message)).into_response()
}

async fn users_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let p = match page_caller(
        &state,
        &headers,
        Some(&[Role::Admin]),
        "manage users",
        Some(&form),
    ) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let new = NewUser {
        name: form_value(&form, "name").unwrap_or_default().to_string(),
        role: form_value(&form, "role").unwrap_or_default().to_string(),
        languages: form_languages(form_value(&form, "languages").unwrap_or_default()),
        password: form.get("password").cloned().unwrap_or_default(),
    };
    match add_user(&state, &p, new).await {
        Ok(user) => Redirect::to(&format!("/admin/users?added={}", encode_query(&user.name)))
            .into_response(),
        Err(e) => users_answer(&state, &p, e.status, (false, &e.detail)),
    }
}

async fn users_change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let p = match page_caller(
        &state,
        &headers,
        Some(&[Role::Admin]),
        "manage users",
        Some(&form),
    ) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    // The form always sends role and languages; an unchecked box sends nothing.
    let patch = UserPatch {
        role: form_value(&form, "role").map(str::to_string),
        languages: form.get("languages").map(|l| form_languages(l)),
        disabled: Some(form.get("disabled").is_some_and(|v| v == "on")),
        password: form_value(&form, "password").map(str::to_string),
    };
    match change_user(&state, &p, &name, patch).await {
        Ok(user) => Redirect::to(&format!("/admin/users?saved={}", encode_query(&user.name)))
            .into_response(),
        Err(e) => users_answer(&state, &p, e.status, (false, &e.detail)),
    }
}

fn tokens_markup(
    state: &AppState,
    p: &Principal,
    message: Option<(bool, &str)>,
    new_token: Option<&str>,
) -> Markup {
    let tokens = visible_tokens(state, p).unwrap_or_default();
    let users = if p.user.role == Role::Admin {
        state.store.users().unwrap_or_default()
    } else {
        vec![p.user.clone()]
    };
    let csrf = p.csrf.clone().unwrap_or_default();
    html! {
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
    }
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

async fn tokens_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let created = query.get("created");
    let fresh = created.and_then(|id| take_fresh_token(&p.credential_hash, id));
    let message = match (created, &fresh) {
        (Some(id), Some(_)) => Some(format!("Token {id} created.")),
        (Some(_), None) => Some("The new token was shown once already (or that page is more than a minute old); revoke it and create another if it was not copied.".to_string()),
        (None, _) => None,
    };
    page(
        "API tokens",
        Some(&p),
        tokens_markup(
            &state,
            &p,
            message.as_deref().map(|m| (fresh.is_some(), m)),
            fresh.as_deref(),
        ),
    )
    .into_response()
}

async fn tokens_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let p = match page_caller(&state, &headers, None, "", Some(&form)) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let user = form_value(&form, "user").unwrap_or_default().to_string();
    match create_token(&state, &p, &user).await {
        // A redirect, so that a reload creates no second token; the page it leads to shows
        // this one once.
        Ok((record, token)) => {
            hold_fresh_token(&p.credential_hash, &record.id, token);
            Redirect::to(&format!("/admin/tokens?created={}", record.id)).into_response()
        }
        Err(e) => (
            e.status,
            page(
                "API tokens",
                Some(&p),
                tokens_markup(&state, &p, Some((false, &e.detail)), None),
            ),
        )
            .into_response(),
    }
}

async fn tokens_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let p = match page_caller(&state, &headers, None, "", Some(&form)) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    match revoke_token(&state, &p, &id).await {
        Ok(()) => Redirect::to("/admin/tokens").into_response(),
        Err(e) => (
            e.status,
            page(
                "API tokens",
                Some(&p),
                tokens_markup(&state, &p, Some((false, &e.detail)), None),
            ),
        )
            .into_response(),
    }
}
