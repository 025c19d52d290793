//! `GET /api/audit` (admins): the audit trail, newest first.

use axum::Json;
use axum::extract::State;

use crate::domain::{AuditEntry, Role};
use crate::web::AppState;
use crate::web::error::ApiResult;
use crate::web::extract::Caller;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(state.store.audit_log(1000).await?))
}
