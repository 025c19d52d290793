//! `/api/tickets`: the queue as JSON, one ticket with its conversation, and the actions on it.
//! The rules are in [`crate::web::tickets`], shared with the ticket page.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use crate::domain::{TicketStatus, now_ms};
use crate::helpdesk::can_see;
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{Caller, CsrfCaller};
use crate::web::rfc3339;
use crate::web::tickets::{self, Action, TicketDetail, works_tickets};

#[derive(Deserialize)]
pub struct TicketQuery {
    status: Option<String>,
}

#[derive(Serialize)]
pub struct TicketView {
    id: u64,
    /// The person as staff see them: the number, or `@username` / WhatsApp name.
    contact: String,
    /// The id the person is filed under (`+…` or `wa:…`), for search and links.
    contact_id: String,
    /// Their phone number; `null` for someone known only by a WhatsApp username.
    phone: Option<String>,
    language: String,
    topic: String,
    status: TicketStatus,
    urgent: bool,
    claimed_by: Option<String>,
    opened_at: String,
    waiting_since: Option<String>,
    waiting_seconds: Option<u64>,
    messages: usize,
    /// Messages the caller has not seen yet.
    unread: usize,
    /// From opening to the first answer by a person.
    first_response_seconds: Option<u64>,
    /// From opening to closing.
    resolution_seconds: Option<u64>,
}

/// `GET /api/tickets[?status=open|closed|all]`: the tickets the caller may see, oldest waiting first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TicketQuery>,
) -> ApiResult<Json<Vec<TicketView>>> {
    let user = &caller.user;
    let wanted = match query.status.as_deref().unwrap_or("open") {
        "open" => Some(TicketStatus::Open),
        "closed" => Some(TicketStatus::Closed),
        "all" => None,
        other => {
            return Err(ApiError::bad_request(
                "bad status",
                format!("status {other:?}: use open, closed or all"),
            ));
        }
    };
    let mut tickets = state.store.tickets().await?;
    if !works_tickets(user) {
        return Err(ApiError::forbidden("your role does not see conversations"));
    }
    tickets.retain(|t| wanted.is_none_or(|w| t.status == w) && can_see(user, t));
    // Urgent (protection) first, then the longest waiting.
    tickets.sort_by_key(|t| t.queue_order());
    let now = now_ms();
    let mut views = Vec::with_capacity(tickets.len());
    for t in tickets {
        // A store error is an error, never "0 unread".
        let seen = state.store.seen(&user.name, t.id).await?;
        let shown = crate::web::contacts::shown(&state.store, &t.contact).await?;
        views.push(TicketView {
            id: t.id,
            contact: shown.label,
            contact_id: t.contact.to_string(),
            phone: shown.phone,
            language: t.language.tag().to_string(),
            topic: t.topic,
            status: t.status,
            opened_at: rfc3339(t.opened_at),
            waiting_since: t.waiting_since.map(rfc3339),
            waiting_seconds: t.waiting_since.map(|w| now.saturating_sub(w) / 1000),
            unread: t.message_ids.len().saturating_sub(seen),
            messages: t.message_ids.len(),
            urgent: t.urgent,
            claimed_by: t.claimed_by.clone(),
            first_response_seconds: t
                .first_response_at
                .map(|f| f.saturating_sub(t.opened_at) / 1000),
            resolution_seconds: t.closed_at.map(|c| c.saturating_sub(t.opened_at) / 1000),
        });
    }
    Ok(Json(views))
}

/// `GET /api/tickets/{id}`: the ticket with the whole conversation.
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(tickets::view(&state, &caller, id).await?))
}

/// `POST /api/tickets/{id}/{action}` with JSON (`{"text": …}`, `{"to_user": …}`).
pub async fn act(
    State(state): State<AppState>,
    caller: CsrfCaller,
    Path((id, action)): Path<(u64, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<TicketDetail>> {
    let mut value: serde_json::Value = if body.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("bad json", e.to_string()))?
    };
    if let Some(obj) = value.as_object_mut() {
        obj.insert("action".into(), action.into());
    }
    let action: Action = serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request("bad request", e.to_string()))?;
    let ticket = tickets::act(&state, &caller, id, action).await?;
    Ok(Json(tickets::detail(&state, &ticket).await?))
}
