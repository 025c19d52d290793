//! The JSON API for staff and interpreters, one file per resource. Errors are `{error,
//! detail}` ([`super::error::ApiError`]); the caller comes from [`super::extract`]. Nothing
//! here imports the pages (`ui/`): what both use lives in the service modules.

pub mod audit;
pub mod backup;
pub mod broadcasts;
pub mod canned;
pub mod contacts;
pub mod directory;
pub mod figures;
pub mod openapi;
pub mod outbox;
pub mod payments;
pub mod tickets;
pub mod users;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use serde::{Deserialize, Serialize};

pub use openapi::{ENDPOINTS, Endpoint};

use super::AppState;
use super::error::ApiError;
use super::extract::CsrfCaller;
use crate::domain::Role;
use crate::import::{ImportError, Parsed, RowError};

/// Every `/api` route but the contacts import (mounted with its own body limit and timeout).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/tickets", get(tickets::list))
        .route("/api/tickets/{id}", get(tickets::get_one))
        .route("/api/tickets/{id}/{action}", post(tickets::act))
        .route("/api/payments", get(payments::list).post(payments::import))
        .route(
            "/api/broadcasts",
            get(broadcasts::list).post(broadcasts::create),
        )
        .route("/api/broadcasts/preview", post(broadcasts::preview))
        .route("/api/broadcasts/{id}", get(broadcasts::get_one))
        .route("/api/broadcasts/{id}/report.csv", get(broadcasts::report))
        .route("/api/broadcasts/{id}/{action}", post(broadcasts::act))
        .route("/api/segments", post(broadcasts::segments))
        .route("/api/outbox", get(outbox::list))
        .route("/api/audit", get(audit::list))
        .route("/api/figures", get(figures::list))
        .route("/api/canned", get(canned::list).post(canned::add))
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/api/users", get(users::list).post(users::add))
        .route("/api/users/{name}", patch(users::change))
        .route("/api/tokens", get(users::tokens).post(users::create_token))
        .route("/api/tokens/{id}", delete(users::revoke_token))
        .route(
            "/api/directory",
            get(directory::list).post(directory::import),
        )
        .route("/api/backup", get(backup::download))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    pub skip_invalid: bool,
}

#[derive(Serialize)]
pub struct RowErrorView {
    line: u64,
    reason: String,
}

pub fn row_errors(errors: &[RowError]) -> Vec<RowErrorView> {
    errors
        .iter()
        .map(|e| RowErrorView {
            line: e.line,
            reason: e.reason.clone(),
        })
        .collect()
}

/// 422 with every invalid row, when the import must not go ahead.
pub fn invalid_rows(errors: &[RowError]) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid rows",
        format!("{} invalid row(s); nothing was imported (add ?skip_invalid=true to import the valid rows)", errors.len()),
    )
    .with("rows", row_errors(errors))
}

/// Staff and admins import; a browser session sends the CSRF token.
pub const IMPORTERS: &[Role] = &[Role::Staff, Role::Admin];

/// What every CSV import checks first: a staff or admin caller, a readable file, and — unless
/// `skip_invalid` — no invalid row.
pub async fn checked_import<T: Send + 'static>(
    caller: CsrfCaller,
    query: &ImportQuery,
    body: axum::body::Bytes,
    parse: fn(&[u8]) -> Result<Parsed<T>, ImportError>,
) -> Result<(CsrfCaller, Parsed<T>), ApiError> {
    let caller = caller.require(IMPORTERS)?;
    // 100,000 rows take seconds to check: off the async threads.
    let parsed = tokio::task::spawn_blocking(move || parse(&body)).await??;
    if !parsed.errors.is_empty() && !query.skip_invalid {
        return Err(invalid_rows(&parsed.errors));
    }
    Ok((caller, parsed))
}
