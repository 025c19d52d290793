//! `/media/{message_id}`: a voice note, picture or file a person sent, for someone who may see
//! a ticket of theirs; every look is in the audit trail.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::helpdesk::can_see;
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::Caller;
use crate::web::tickets::works_tickets;

/// The same answer for "no such message", "not yours" and "no file": nothing is revealed.
fn no_such_file() -> ApiError {
    ApiError::not_found("There is no such file for you.")
}

pub async fn media(
    State(state): State<AppState>,
    p: Caller,
    Path(message_id): Path<u64>,
) -> PageResult<Response> {
    let message = state
        .store
        .message(message_id)
        .await?
        .ok_or_else(no_such_file)?;
    // Visible only to someone who may see a ticket of this person.
    let tickets = state.store.tickets().await?;
    let allowed = works_tickets(&p.user)
        && tickets
            .iter()
            .any(|t| t.contact == message.contact && can_see(&p.user, t));
    let Some(file) = message.media_file.filter(|_| allowed) else {
        return Err(no_such_file().into());
    };
    if file.contains('/') || file.contains("..") {
        return Err(no_such_file().into());
    }
    let path = state.config.server.data_dir.join("media").join(&file);
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return Err(no_such_file().into());
    };
    let mime = message
        .media
        .and_then(|m| m.mime_type)
        .unwrap_or_else(|| "application/octet-stream".into());
    // Nobody sees a person's voice note or picture without it being in the trail.
    state
        .store
        .audit(
            &p.user.name,
            "media",
            None,
            &format!("message {message_id}"),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}
