//! The backup page for admins: choose a passphrase, download the encrypted backup.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::page;
use crate::domain::Role;
use crate::web::AppState;
use crate::web::auth::Principal;
use crate::web::backup::{MIN_PASSPHRASE, stream_backup};
use crate::web::error::PageResult;
use crate::web::extract::{CsrfForm, SignedIn};

const DOWNLOAD: &str = "download backups";

pub async fn backup_page(p: SignedIn) -> PageResult {
    let p = p.require(&[Role::Admin], DOWNLOAD)?;
    Ok(form_page(&p, None).into_response())
}

fn form_page(p: &Principal, problem: Option<&str>) -> axum::response::Html<String> {
    page(
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

pub async fn backup_form(
    State(state): State<AppState>,
    CsrfForm { signed_in, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult<Response> {
    let p = signed_in.require(&[Role::Admin], DOWNLOAD)?;
    let passphrase = form.get("passphrase").cloned().unwrap_or_default();
    if passphrase.chars().count() < MIN_PASSPHRASE {
        let text = format!("The passphrase needs at least {MIN_PASSPHRASE} characters.");
        return Ok((StatusCode::BAD_REQUEST, form_page(&p, Some(&text))).into_response());
    }
    if form.get("confirm") != Some(&passphrase) {
        return Ok((
            StatusCode::BAD_REQUEST,
            form_page(&p, Some("The two passphrases differ.")),
        )
            .into_response());
    }
    // No backup leaves without its audit row.
    state
        .store
        .audit(&p.user.name, "backup", None, "browser")
        .await?;
    Ok(stream_backup(&state, passphrase))
}
