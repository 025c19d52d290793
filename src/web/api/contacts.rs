//! `POST /api/contacts/import`: contacts as CSV, up to 16 MiB (100,000 rows), mounted with its
//! own body limit and timeout. The import itself is [`crate::web::contacts::import_contacts`], shared
//! with the contacts page.

use axum::Json;
use axum::extract::{Query, State};

use super::{IMPORTERS, ImportQuery, invalid_rows, row_errors};
use crate::web::AppState;
use crate::web::contacts::ContactsImportError;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::CsrfCaller;

impl From<ContactsImportError> for ApiError {
    fn from(e: ContactsImportError) -> ApiError {
        match e {
            ContactsImportError::File(e) => e.into(),
            ContactsImportError::InvalidRows(rows) => invalid_rows(&rows),
            ContactsImportError::Store(e) => e.into(),
            ContactsImportError::Task(e) => e.into(),
        }
    }
}

/// `POST /api/contacts/import` with a CSV body (`phone,language,city,case_id,name,tags`).
pub async fn import(
    State(state): State<AppState>,
    caller: CsrfCaller,
    Query(query): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let caller = caller.require(IMPORTERS)?;
    let done = crate::web::contacts::import_contacts(
        &state.store,
        body.to_vec(),
        query.skip_invalid,
        &caller.user.name,
    )
    .await?;
    tracing::info!(user = %caller.user.name, contacts = done.imported, "contacts imported");
    Ok(Json(serde_json::json!({
        "imported": done.imported,
        "new": done.new,
        "skipped": row_errors(&done.skipped),
    })))
}
