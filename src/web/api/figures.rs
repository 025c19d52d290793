//! `GET /api/figures` (supervisors, admins): waiting, first-response and resolution times per
//! language ([`crate::helpdesk::figures`]).

use axum::Json;
use axum::extract::State;

use crate::domain::Role;
use crate::helpdesk::figures::{LanguageFigures, figures};
use crate::web::AppState;
use crate::web::error::ApiResult;
use crate::web::extract::Caller;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<LanguageFigures>>> {
    caller.require(&[Role::Supervisor, Role::Admin])?;
    Ok(Json(figures(&state.store.tickets().await?)))
}
