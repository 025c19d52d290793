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
    let mut rows = Vec::new();
    match status {
        "queued" | "held" => {
            let items = state.store.outbox().await?;
            for i in items
                .into_iter()
                .filter(|i| status == "queued" || i.held.is_some())
            {
                let mut row = serde_json::json!({
                    "message_id": i.message_id,
                    "channel": i.channel.name(),
                    "attempts": i.attempts,
                    "next_attempt_at": rfc3339(i.next_attempt_at),
                    "last_error": i.last_error,
                    "held": i.held,
                });
                person(&state, &i.to, &mut row).await?;
                rows.push(row);
            }
        }
        "failed" => {
            for m in state.store.failed_messages().await? {
                let mut row = serde_json::json!({
                    "message_id": m.id,
                    "channel": m.channel.name(),
                    "error": m.error,
                    "failed_at": rfc3339(m.updated_at),
                });
                person(&state, &m.contact, &mut row).await?;
                rows.push(row);
            }
        }
        other => {
            return Err(ApiError::bad_request(
                "bad status",
                format!("status {other:?}: use queued, held or failed"),
            ));
        }
    }
    Ok(Json(rows))
}

/// Who a row is for: `contact` as staff see them, `contact_id`, and `phone` (`null` for someone
/// known only by a WhatsApp username).
async fn person(
    state: &AppState,
    id: &crate::domain::ContactId,
    row: &mut serde_json::Value,
) -> ApiResult<()> {
    let shown = crate::web::contacts::shown(&state.store, id).await?;
    row["contact"] = shown.label.into();
    row["contact_id"] = id.to_string().into();
    row["phone"] = shown.phone.into();
    Ok(())
}
