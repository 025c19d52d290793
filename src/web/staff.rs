//! Staff data while the server runs: the directory of useful contacts per city (UNHCR, IOM,
//! clinics, legal aid, police), which the flows show people instead of "ask staff".

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::api::{ImportQuery, checked_import, rfc3339, row_errors, unavailable};
use crate::domain::{DirectoryEntry, now_ms};

pub fn entry_json(e: &DirectoryEntry) -> serde_json::Value {
    serde_json::json!({
        "city": e.city,
        "kind": e.kind.name(),
        "name": e.name,
        "phone": e.phone,
        "address": e.address,
        "hours": e.hours,
        "updated_at": rfc3339(e.updated_at),
    })
}

/// `GET /api/directory`: every entry (any signed-in user: interpreters pass them on too).
pub async fn api_directory(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = super::tickets::caller(&state, &headers, None).await {
        return e.into_response();
    }
    match state.store.directory() {
        Ok(entries) => Json(entries.iter().map(entry_json).collect::<Vec<_>>()).into_response(),
        Err(e) => unavailable(e),
    }
}

/// `POST /api/directory` (staff, admins) with a CSV body `city,kind,name,phone,address,hours`:
/// the same checks and line-numbered errors as the other imports; audited.
pub async fn api_import_directory(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> Response {
    let (user, parsed) = match checked_import(&state, &headers, &query, &body, |b| {
        crate::import::parse_directory(b)
    })
    .await
    {
        Ok(found) => found,
        Err(r) => return r,
    };
    let entries = crate::import::directory_entries(&parsed.rows, now_ms());
    if let Err(e) = state.store.upsert_directory(&entries) {
        return unavailable(e);
    }
    let _ = state.store.audit(
        &user.name,
        "directory-import",
        None,
        &format!("{} entr(y/ies)", entries.len()),
    );
    if let Err(e) = state.store.durable().await {
        return unavailable(e);
    }
    tracing::info!(user = %user.name, entries = entries.len(), "directory updated");
    Json(serde_json::json!({
        "imported": entries.len(),
        "skipped": row_errors(&parsed.errors),
    }))
    .into_response()
}
