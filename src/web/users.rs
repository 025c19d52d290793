//! Users and API tokens while the server runs (DESIGN §2): the checks and the operations,
//! shared by the API (`api/users.rs`), the admin pages (`ui/admin.rs`) and the CLI. Every
//! change is audited in the same transaction (never with a password or a token).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::auth::{self, Principal};
use super::error::{ApiError, err, unavailable};
use super::{AppState, rfc3339};
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

/// A name taken or a record changed meanwhile is a 409, anything else the store failing.
fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(detail) => err(StatusCode::CONFLICT, "conflict", detail),
        other => unavailable(other),
    }
}

fn require_admin(p: &Principal) -> Result<(), ApiError> {
    super::extract::require_role(&p.user, &[Role::Admin])
}

fn parse_role(text: &str) -> Result<Role, ApiError> {
    text.parse().map_err(ApiError::invalid)
}

fn parse_languages(tags: &[String]) -> Result<Vec<Lang>, ApiError> {
    let mut languages = Vec::new();
    for tag in tags {
        let lang = Lang::parse(tag).ok_or_else(|| {
            ApiError::invalid(format!(
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
    check_user_name(&name).map_err(ApiError::invalid)?;
    let role = parse_role(&new.role)?;
    let languages = parse_languages(&new.languages)?;
    check_languages(role, &languages).map_err(ApiError::invalid)?;
    check_password(&new.password).map_err(ApiError::invalid)?;
    if state
        .store
        .user(&name)
        .await
        .map_err(unavailable)?
        .is_some()
    {
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
        .await
        .map_err(store_error)?;
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
    let Some(current) = state.store.user(name).await.map_err(unavailable)? else {
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
        check_password(&password).map_err(ApiError::invalid)?;
        change.password_hash = Some(hash(password).await?);
    }
    if change.is_empty() {
        return Err(ApiError::invalid(
            "nothing to change: send role, languages, disabled or password",
        ));
    }
    check_languages(
        change.role.unwrap_or(current.role),
        change.languages.as_deref().unwrap_or(&current.languages),
    )
    .map_err(ApiError::invalid)?;
    let updated = state
        .store
        .update_user(name, &change, &by.user.name)
        .await
        .map_err(store_error)?
        .ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "not found",
                format!("there is no user {name:?}"),
            )
        })?;
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
    match state.store.user(user).await.map_err(unavailable)? {
        None => return Err(ApiError::invalid(format!("there is no user {user:?}"))),
        Some(u) if u.disabled => {
            return Err(ApiError::invalid(format!(
                "{user} is disabled; enable the user first"
            )));
        }
        Some(_) => {}
    }
    let token = auth::new_token();
    let record = state
        .store
        .create_token(&auth::token_hash(&token), user, &by.user.name)
        .await
        .map_err(store_error)?;
    tracing::info!(by = %by.user.name, user = %user, id = %record.id, "token created");
    Ok((record, token))
}

/// The tokens the caller may see: all for admins, their own for everyone else.
pub async fn visible_tokens(state: &AppState, by: &Principal) -> Result<Vec<ApiToken>, ApiError> {
    let mut tokens = state.store.tokens().await.map_err(unavailable)?;
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
    let visible = visible_tokens(state, by).await?;
    if !visible.iter().any(|t| t.id == id) {
        return Err(not_found());
    }
    state
        .store
        .revoke_token(id, &by.user.name)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    tracing::info!(by = %by.user.name, id = %id, "token revoked");
    Ok(())
}
