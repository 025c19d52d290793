//! `/api/payments`: the payment schedule (next date per city), read and imported as CSV.

use axum::Json;
use axum::extract::{Query, State};

use super::{ImportQuery, checked_import, row_errors};
use crate::domain::now_ms;
use crate::web::AppState;
use crate::web::error::ApiResult;
use crate::web::extract::{Caller, CsrfCaller};
use crate::web::rfc3339;

/// `GET /api/payments`: the payment schedule.
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let entries = state.store.payments().await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| {
                serde_json::json!({
                    "city": e.city,
                    "next_payment_date": e.next_payment_date.to_string(),
                    "note": e.note,
                    "updated_at": rfc3339(e.updated_at),
                })
            })
            .collect(),
    ))
}

/// `POST /api/payments` with a CSV body (`city,next_payment_date[,note]`).
pub async fn import(
    State(state): State<AppState>,
    caller: CsrfCaller,
    Query(query): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let (caller, parsed) =
        checked_import(caller, &query, body, |b| crate::import::parse_payments(b)).await?;
    let entries = crate::import::payment_entries(&parsed.rows, now_ms());
    state.store.upsert_payments(&entries).await?;
    state
        .store
        .audit(
            &caller.user.name,
            "payments-import",
            None,
            &format!("{} cities", entries.len()),
        )
        .await?;
    tracing::info!(user = %caller.user.name, cities = entries.len(), "payment schedule updated");
    Ok(Json(serde_json::json!({
        "imported": entries.len(),
        "skipped": row_errors(&parsed.errors),
    })))
}
