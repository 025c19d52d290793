//! `GET /api/outbox`: what has not reached the provider yet, and what failed.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::domain::Role;
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Caller;
use crate::web::rfc3339;

#[derive(Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
}

/// `GET /api/outbox[?status=queued|held|failed]`: what has not reached the provider. Failed
/// messages stay listed with their reason: nothing disappears silently.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<OutboxQuery>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    caller.require(&[Role::Staff, Role::Supervisor, Role::Admin])?;
    let status = query.status.as_deref().unwrap_or("queued");
    let rows = match status {
        "queued" | "held" => state
            .store
            .outbox()
            .await?
            .into_iter()
            .filter(|i| status == "queued" || i.held.is_some())
            .map(|i| {
                serde_json::json!({
                    "message_id": i.message_id,
                    "channel": i.channel.name(),
                    "phone": i.to.to_string(),
                    "attempts": i.attempts,
                    "next_attempt_at": rfc3339(i.next_attempt_at),
                    "last_error": i.last_error,
                    "held": i.held,
                })
            })
            .collect(),
        "failed" => state
            .store
            .failed_messages()
            .await?
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "message_id": m.id,
                    "channel": m.channel.name(),
                    "phone": m.phone.to_string(),
                    "error": m.error,
                    "failed_at": rfc3339(m.updated_at),
                })
            })
            .collect(),
        other => {
            return Err(ApiError::bad_request(
                "bad status",
                format!("status {other:?}: use queued, held or failed"),
            ));
        }
    };
    Ok(Json(rows))
}
