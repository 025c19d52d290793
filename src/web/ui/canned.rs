//! Canned replies: prepared answers per language, inserted into a reply at the cursor.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use maud::html;

use super::layout::{lang_name, page};
use crate::domain::Role;
use crate::i18n::Lang;
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::{CsrfForm, SignedIn};

/// Everyone but interpreters manages canned replies.
const EDITORS: &[Role] = &[Role::Staff, Role::Supervisor, Role::Admin];
const MANAGE: &str = "manage canned replies";

pub async fn canned_page(State(state): State<AppState>, p: SignedIn) -> PageResult {
    let p = p.require(EDITORS, MANAGE)?;
    let replies = state.store.canned_replies(None).await?;
    let csrf = p.csrf_token();
    Ok(page(
        "Canned replies",
        Some(&p),
        html! {
            h1 { "Canned replies" }
            table {
                thead { tr { th { "Language" } th { "Title" } th { "Text" } th {} } }
                tbody { @for c in &replies { tr {
                    td { (lang_name(c.language)) } td { bdi { (c.title) } } td dir="auto" { (c.text) }
                    td { form method="post" action={ "/canned/" (c.id) "/delete" } {
                        input type="hidden" name="csrf" value=(csrf); button { "Delete" } } }
                } } }
            }
            form.panel method="post" action="/canned" {
                input type="hidden" name="csrf" value=(csrf);
                h2 { "Add" }
                p { label { "Language " select name="language" { @for l in Lang::ALL { option value=(l.tag()) { (lang_name(l)) } } } } }
                p { label { "Title " input name="title" required maxlength="60"; } }
                p { label { "Text " textarea name="text" dir="auto" required {} } }
                button { "Add" }
            }
        },
    )
    .into_response())
}

pub async fn canned_add(
    State(state): State<AppState>,
    CsrfForm { signed_in, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let p = signed_in.require(EDITORS, MANAGE)?;
    let lang = form.get("language").and_then(|l| Lang::parse(l));
    let title = form.get("title").map(|t| t.trim()).unwrap_or_default();
    let text = form.get("text").map(|t| t.trim()).unwrap_or_default();
    let (Some(lang), false, false) = (lang, title.is_empty(), text.is_empty()) else {
        return Err(ApiError::bad_request(
            "invalid",
            "a canned reply needs a language, a title and a text",
        )
        .into());
    };
    if title.chars().count() > 60 || text.chars().count() > 1600 {
        return Err(ApiError::bad_request("invalid", "title or text too long").into());
    }
    state
        .store
        .add_canned_audited(lang, title, text, &p.user.name)
        .await?;
    Ok(Redirect::to("/canned").into_response())
}

pub async fn canned_delete(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    CsrfForm { signed_in, .. }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let p = signed_in.require(EDITORS, MANAGE)?;
    state.store.remove_canned_audited(id, &p.user.name).await?;
    Ok(Redirect::to("/canned").into_response())
}
