//! `/api/users` (admins) and `/api/tokens` (admins for everyone, others their own). The
//! operations are in [`crate::web::users`], shared with the admin pages.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::domain::Role;
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Caller, CsrfCaller};
use crate::web::users::{self, NewUser, TokenView, UserPatch, UserView};

/// A JSON object body: 400 when it is not JSON at all, 422 (with serde's reason) when a field
/// is missing, unknown or of the wrong type.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad json", e.to_string()))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "bad json",
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::invalid(e.to_string()))
}

/// `GET /api/users` (admins).
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<UserView>>> {
    caller.require(&[Role::Admin])?;
    let users = state.store.users().await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// `POST /api/users` (admins) `{"name", "role", "languages": [..], "password"}` → 201.
pub async fn add(
    State(state): State<AppState>,
    caller: CsrfCaller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let caller = caller.require(&[Role::Admin])?;
    let new: NewUser = json_body(&body)?;
    let user = users::add_user(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// `PATCH /api/users/{name}` (admins) `{"role"?, "languages"?, "disabled"?, "password"?}`.
pub async fn change(
    State(state): State<AppState>,
    caller: CsrfCaller,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<UserView>> {
    let caller = caller.require(&[Role::Admin])?;
    let patch: UserPatch = json_body(&body)?;
    let user = users::change_user(&state, &caller, &name, patch).await?;
    Ok(Json(UserView::from(&user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    user: String,
}

/// `POST /api/tokens` `{"user"}` → 201 `{"id", "token"}`; the token is shown this once.
pub async fn create_token(
    State(state): State<AppState>,
    caller: CsrfCaller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let new: NewToken = json_body(&body)?;
    let (record, token) = users::create_token(&state, &caller, new.user.trim()).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": record.id, "token": token, "user": record.user})),
    ))
}

/// `GET /api/tokens`: all tokens for admins, one's own for others (never the token itself).
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TokenView>>> {
    let tokens = users::visible_tokens(&state, &caller).await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

/// `DELETE /api/tokens/{id}`: the token stops working at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: CsrfCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    users::revoke_token(&state, &caller, &id).await?;
    Ok(Json(serde_json::json!({"revoked": id})))
}
