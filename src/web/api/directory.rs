//! `/api/directory`: useful contacts per city (UNHCR, IOM, clinics, legal aid, police), which
//! the flows show people instead of "ask staff".

use axum::Json;
use axum::extract::{Query, State};

use super::{ImportQuery, checked_import, row_errors};
use crate::domain::{DirectoryEntry, now_ms};
use crate::web::AppState;
use crate::web::error::ApiResult;
use crate::web::extract::{Caller, CsrfCaller};
use crate::web::rfc3339;

fn entry_json(e: &DirectoryEntry) -> serde_json::Value {
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
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    Ok(Json(
        state
            .store
            .directory()
            .await?
            .iter()
            .map(entry_json)
            .collect(),
    ))
}

/// `POST /api/directory` (staff, admins) with a CSV body `city,kind,name,phone,address,hours`:
/// the same checks and line-numbered errors as the other imports; audited.
pub async fn import(
    State(state): State<AppState>,
    caller: CsrfCaller,
    Query(query): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let (caller, parsed) =
        checked_import(caller, &query, body, |b| crate::import::parse_directory(b)).await?;
    let entries = crate::import::directory_entries(&parsed.rows, now_ms());
    state.store.upsert_directory(&entries).await?;
    state
        .store
        .audit(
            &caller.user.name,
            "directory-import",
            None,
            &format!("{} entr(y/ies)", entries.len()),
        )
        .await?;
    tracing::info!(user = %caller.user.name, entries = entries.len(), "directory updated");
    Ok(Json(serde_json::json!({
        "imported": entries.len(),
        "skipped": row_errors(&parsed.errors),
    })))
}
