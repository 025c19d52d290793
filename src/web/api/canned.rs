//! `/api/canned`: prepared answers, read by anyone signed in, added by staff and supervisors.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::domain::{CannedReply, Role};
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Caller, CsrfCaller};

#[derive(Deserialize)]
pub struct CannedQuery {
    language: Option<String>,
}

/// `GET /api/canned[?language=so]`: prepared answers.
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<CannedQuery>,
) -> ApiResult<Json<Vec<CannedReply>>> {
    let lang = match q.language.as_deref() {
        Some(tag) => Some(crate::i18n::Lang::parse(tag).ok_or_else(|| {
            ApiError::bad_request("bad language", format!("unknown language {tag:?}"))
        })?),
        None => None,
    };
    Ok(Json(state.store.canned_replies(lang).await?))
}

#[derive(Deserialize)]
pub struct NewCanned {
    language: String,
    title: String,
    text: String,
}

/// `POST /api/canned` (staff, supervisors, admins).
pub async fn add(
    State(state): State<AppState>,
    caller: CsrfCaller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<CannedReply>)> {
    let caller = caller.require(&[Role::Staff, Role::Supervisor, Role::Admin])?;
    let new: NewCanned = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("bad json", e.to_string()))?;
    let Some(lang) = crate::i18n::Lang::parse(&new.language) else {
        return Err(ApiError::bad_request("bad language", new.language));
    };
    let (title, text) = (new.title.trim(), new.text.trim());
    if title.is_empty()
        || text.is_empty()
        || title.chars().count() > 60
        || text.chars().count() > 1600
    {
        return Err(ApiError::bad_request(
            "invalid",
            "a title (1-60 characters) and a text (1-1600 characters) are needed",
        ));
    }
    let added = state
        .store
        .add_canned_audited(lang, title, text, &caller.user.name)
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}
