//! Backups from the browser and the API (admins): a consistent copy of the running store,
//! encrypted with a passphrase the admin chooses, streamed as it is written.

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;

use super::AppState;
use super::api::error;
use crate::domain::Role;

/// The header carrying the passphrase for `GET /api/backup` (never the URL: URLs are logged).
pub const PASSPHRASE_HEADER: &str = "x-backup-passphrase";
/// Shortest passphrase accepted: the backup holds every conversation.
pub const MIN_PASSPHRASE: usize = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/backup", get(api_backup))
        .route("/backup", get(backup_page).post(backup_form))
}

fn check_passphrase(passphrase: &str) -> Result<(), super::api::ApiError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(super::api::ApiError {
            status: StatusCode::BAD_REQUEST,
            error: "weak passphrase",
            detail: format!("the backup passphrase needs at least {MIN_PASSPHRASE} characters"),
        });
    }
    Ok(())
}

/// `GET /api/backup` (admins) with the passphrase in `X-Backup-Passphrase`: the encrypted
/// backup as `application/octet-stream`.
async fn api_backup(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let caller = match super::tickets::caller(&state, &headers, None).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if caller.user.role != Role::Admin {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this needs the role admin",
        );
    }
    let Some(passphrase) = headers
        .get(PASSPHRASE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "passphrase missing",
            "send the passphrase to encrypt the backup with in the X-Backup-Passphrase header",
        );
    };
    if let Err(r) = check_passphrase(&passphrase) {
        return r.into_response();
    }
    // No backup leaves without its audit row.
    if let Err(e) = state.store.audit(&caller.user.name, "backup", None, "api") {
        return super::api::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &e.to_string(),
        );
    }
    stream_backup(&state, passphrase)
}

async fn backup_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = match super::ui::signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if p.user.role != Role::Admin {
        return super::ui::forbidden(&p, "download backups");
    }
    form_page(&p, None).into_response()
}

fn form_page(p: &crate::web::auth::Principal, problem: Option<&str>) -> impl IntoResponse {
    super::ui::page(
        "Backup",
        Some(p),
        html! {
            h1 { "Backup" }
            p { "Downloads every conversation, ticket, user, the payment schedule and the media people sent, encrypted with the passphrase you choose. Keep the passphrase apart from the file: without it the backup cannot be restored, with it anyone can read it." }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            form.panel method="post" action="/backup" {
                input type="hidden" name="csrf" value=(p.csrf.clone().unwrap_or_default());
                p { label { "Passphrase (at least " (MIN_PASSPHRASE) " characters) " input type="password" name="passphrase" autocomplete="new-password" required minlength=(MIN_PASSPHRASE); } }
                p { label { "Passphrase again " input type="password" name="confirm" autocomplete="new-password" required; } }
                button { "Download backup" }
            }
            p { "Restore with " code { "kabar restore FILE --passphrase-stdin" } " into an empty data folder, with the server stopped." }
        },
    )
}

async fn backup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let p = match super::ui::signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if p.user.role != Role::Admin {
        return super::ui::forbidden(&p, "download backups");
    }
    if !p.csrf_ok(form.get("csrf").map(String::as_str)) {
        return (StatusCode::FORBIDDEN, "the form expired; reload the page").into_response();
    }
    let passphrase = form.get("passphrase").cloned().unwrap_or_default();
    if passphrase.chars().count() < MIN_PASSPHRASE {
        let text = format!("The passphrase needs at least {MIN_PASSPHRASE} characters.");
        return (StatusCode::BAD_REQUEST, form_page(&p, Some(&text))).into_response();
    }
    if form.get("confirm") != Some(&passphrase) {
        return (
            StatusCode::BAD_REQUEST,
            form_page(&p, Some("The two passphrases differ.")),
        )
            .into_response();
    }
    // No backup leaves without its audit row.
    if let Err(e) = state.store.audit(&p.user.name, "backup", None, "browser") {
        return super::api::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &e.to_string(),
        );
    }
    stream_backup(&state, passphrase)
}

/// Writes the backup on a blocking thread into a small channel the response body reads: a
/// store of any size costs a few chunks of memory. A failure midway cuts the download, and the
/// cut file is refused by `kabar restore` (age authenticates the end of the stream).
fn stream_backup(state: &AppState, passphrase: String) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter { tx: tx.clone() };
        match store.write_encrypted_backup(&passphrase, writer) {
            Ok(summary) => tracing::info!(
                keys = summary.keys,
                files = summary.files,
                "backup downloaded"
            ),
            Err(e) => {
                tracing::error!(error = %e, "backup failed; the download is cut");
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let name = chrono::Utc::now().format("kabar-backup-%Y%m%d-%H%M%S.age");
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response()
}

struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled")
            })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
