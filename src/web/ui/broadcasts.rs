//! The broadcast pages: list with live progress, composer, and a broadcast's page with its
//! preview, texts and actions. The rules are in [`crate::web::broadcasts`]; scripts come from
//! `/assets/broadcast.js`, served with the other assets (no inline script or style).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::TimeZone;
use maud::{Markup, html};

use super::layout::page;
use crate::broadcast::{Draft, DraftAudience, FieldError, Status};
use crate::domain::now_ms;
use crate::i18n::Lang;
use crate::web::auth::Principal;
use crate::web::broadcasts::{self as service, Action, BroadcastView, Refused, may_broadcast};
use crate::web::error::{ApiError, PageError, PageResult};
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{AppState, assets, sse};

const USE_BROADCASTS: &str = "use broadcasts";

fn script_tag() -> Markup {
    html! { script src=(assets::url("broadcast.js")) defer {} }
}

/// A refused action as the broadcast's own page; a store error as the "unavailable" page.
fn error_page(p: &Principal, e: ApiError) -> PageResult {
    if e.status.is_server_error() {
        return Err(PageError::from(e));
    }
    Ok((
        e.status,
        page(
            "Broadcast",
            Some(p),
            html! { h1 { "That did not work" } p.error { (e.detail) } p { a href="/broadcasts" { "Back to broadcasts" } } },
        ),
    )
        .into_response())
}

fn progress_cells(v: &BroadcastView) -> Markup {
    html! {
        td data-progress=(v.id) data-field="status" { (v.status) }
        td { (v.preview.recipients) }
        td data-progress=(v.id) data-field="queued" { (v.progress.queued) }
        td data-progress=(v.id) data-field="sent" { (v.progress.sent) }
        td data-progress=(v.id) data-field="delivered" { (v.progress.delivered) }
        td data-progress=(v.id) data-field="failed" { (v.progress.failed) }
    }
}

pub async fn list_page(State(state): State<AppState>, p: SignedIn) -> PageResult {
    let p = p.require_that(may_broadcast, USE_BROADCASTS)?;
    let views = match service::list_views(&state).await {
        Ok(v) => v,
        Err(e) => return error_page(&p, e),
    };
    Ok(page(
        "Broadcasts",
        Some(&p),
        html! {
            h1 { "Broadcasts" }
            p { a href="/broadcasts/new" { "New broadcast" } }
            table #broadcasts {
                tr { th { "Name" } th { "Status" } th { "Recipients" } th { "Queued" } th { "Sent" } th { "Delivered" } th { "Failed" } th { "Send at" } th { "By" } }
                @for v in &views {
                    tr {
                        td { a href={ "/broadcasts/" (v.id) } { (v.name) } }
                        (progress_cells(v))
                        td { (v.send_at_local.clone().unwrap_or_else(|| "now".into())) }
                        td { (v.created_by) }
                    }
                }
            }
            (script_tag())
        },
    )
    .into_response())
}

/// What the composer form held, to show it again with the errors.
#[derive(Default)]
struct Composer {
    fields: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl Composer {
    fn value(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    fn checked(&self, name: &str, value: &str) -> bool {
        self.fields.iter().any(|(k, v)| k == name && v == value)
    }

    fn error(&self, field: &str) -> Option<String> {
        let found: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| e.field == field || e.field.starts_with(&format!("{field}.")))
            .map(|e| e.reason.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join("; "))
    }
}

fn lang_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Dari => "Dari (fa-AF)",
        Lang::Farsi => "Farsi (fa)",
        Lang::Somali => "Somali (so)",
        Lang::Arabic => "Arabic (ar)",
        Lang::Tigrinya => "Tigrinya (ti)",
        Lang::English => "English (en)",
    }
}

fn composer_page(state: &AppState, p: &Principal, c: &Composer) -> PageResult {
    let tz = state.hours.timezone();
    let status = if c.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        h1 { "New broadcast" }
        @if !c.errors.is_empty() {
            div.panel.error role="alert" {
                p { "Please fix:" }
                ul { @for e in &c.errors { li { (e.field) ": " (e.reason) } } }
            }
        }
        form #composer method="post" action="/broadcasts/new" {
            input type="hidden" name="csrf" value=(p.csrf.clone().unwrap_or_default());
            div.panel {
                label { "Name (for staff) " input name="name" required value=(c.value("name")); }
                @if let Some(e) = c.error("name") { p.error { (e) } }
            }
            div.panel {
                h2 { "Texts" }
                p { "One text per language. Placeholders: " code { "{name}" } " " code { "{city}" } " " code { "{next_payment_date}" } " (from the payment schedule for their city)." }
                @for lang in Lang::ALL {
                    @let field = format!("text_{}", lang.tag());
                    div {
                        label for=(field) { (lang_label(lang)) }
                        textarea id=(field) name=(field) dir="auto" lang=(lang.tag()) { (c.value(&field)) }
                        output data-counter-for=(field) {}
                        @if let Some(e) = c.error(&format!("texts.{}", lang.tag())) { p.error { (e) } }
                    }
                }
                label { "If someone's language has no text, send them "
                    select name="fallback" {
                        option value="" { "nothing" }
                        @for lang in Lang::ALL {
                            option value=(lang.tag()) selected[c.value("fallback") == lang.tag()] { (lang_label(lang)) }
                        }
                    }
                }
                @if let Some(e) = c.error("fallback") { p.error { (e) } }
            }
            div.panel {
                h2 { "Audience" }
                p { "Leave everything empty to reach every contact. People who opted out never get it." }
                fieldset {
                    legend { "Languages" }
                    @for lang in Lang::ALL {
                        label { input type="checkbox" name="languages" value=(lang.tag()) checked[c.checked("languages", lang.tag())]; " " (lang_label(lang)) " " }
                    }
                }
                fieldset {
                    legend { "Channels" }
                    label { input type="checkbox" name="channels" value="sms" checked[c.checked("channels", "sms")]; " SMS " }
                    label { input type="checkbox" name="channels" value="whatsapp" checked[c.checked("channels", "whatsapp")]; " WhatsApp" }
                }
                label { "Cities (comma-separated) " input name="cities" value=(c.value("cities")); }
                label { " Tags (comma-separated) " input name="tags" value=(c.value("tags")); }
                @if let Some(e) = c.error("audience") { p.error { (e) } }
                label { "Phone numbers (one per line) " textarea name="phones" { (c.value("phones")) } }
            }
            div.panel {
                label { "Send at (" (tz.name()) ", empty = when you press send) "
                    input type="datetime-local" name="send_at" value=(c.value("send_at")); }
                @if let Some(e) = c.error("send_at") { p.error { (e) } }
            }
            div.panel {
                h2 { "Preview" }
                div #preview aria-live="polite" { "Write a text to see who gets it." }
            }
            button type="submit" { "Save draft" }
        }
        (script_tag())
    };
    Ok((status, page("New broadcast", Some(p), body)).into_response())
}

pub async fn new_page(State(state): State<AppState>, p: SignedIn) -> PageResult {
    let p = p.require_that(may_broadcast, USE_BROADCASTS)?;
    composer_page(&state, &p, &Composer::default())
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The form as the API's draft; `send_at` is read in the helpdesk time zone.
fn draft_from_form(state: &AppState, fields: &[(String, String)]) -> Result<Draft, FieldError> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let all = |name: &str| {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let texts = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("text_")
                .map(|tag| (tag.to_string(), v.clone()))
        })
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let send_at = match get("send_at") {
        s if s.is_empty() => None,
        s => {
            let local =
                chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M").map_err(|_| {
                    FieldError {
                        field: "send_at".into(),
                        reason: format!("{s:?} is not a date and time"),
                    }
                })?;
            let at = state
                .hours
                .timezone()
                .from_local_datetime(&local)
                .earliest()
                .ok_or_else(|| FieldError {
                    field: "send_at".into(),
                    reason: "this time does not exist in the helpdesk time zone".into(),
                })?;
            Some(at.to_rfc3339())
        }
    };
    Ok(Draft {
        name: get("name"),
        texts,
        fallback: Some(get("fallback")).filter(|f| !f.is_empty()),
        audience: DraftAudience {
            languages: all("languages"),
            cities: split_list(&get("cities")),
            channels: all("channels"),
            tags: split_list(&get("tags")),
            phones: split_list(&get("phones")),
        },
        send_at,
    })
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm {
        signed_in,
        form: fields,
    }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = signed_in.require_that(may_broadcast, USE_BROADCASTS)?;
    let validated = draft_from_form(&state, &fields)
        .map_err(|e| Refused::Fields(vec![e]))
        .and_then(|d| crate::broadcast::validate(d, state.clock.now()).map_err(Refused::Fields));
    let valid = match validated {
        Ok(v) => v,
        Err(Refused::Fields(errors)) => {
            return composer_page(&state, &p, &Composer { fields, errors });
        }
        Err(Refused::Body(e)) => return error_page(&p, e),
    };
    match service::create_draft(&state, &p.user, valid).await {
        Ok(v) => Ok(Redirect::to(&format!("/broadcasts/{}", v.id)).into_response()),
        Err(e) => error_page(&p, e),
    }
}

pub async fn detail_page(
    State(state): State<AppState>,
    p: SignedIn,
    Path(id): Path<u64>,
) -> PageResult {
    let p = p.require_that(may_broadcast, USE_BROADCASTS)?;
    let view = match state.store.broadcast(id).await? {
        Some(b) => service::view(&state, b).await,
        None => return error_page(&p, ApiError::not_found("no such broadcast")),
    };
    let v = match view {
        Ok(v) => v,
        Err(e) => return error_page(&p, e),
    };
    let csrf = p.csrf_token();
    let button = |action: &str, label: &str| {
        html! {
            form method="post" action={ "/broadcasts/" (v.id) "/" (action) } {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" name="do" value=(action) { (label) }
            }
        }
    };
    let is_creator = v.created_by == p.user.name;
    let body = html! {
        h1 { (v.name) }
        table {
            tr { th { "Status" } th { "Recipients" } th { "Queued" } th { "Sent" } th { "Delivered" } th { "Failed" } }
            tr #progress { (progress_cells(&v)) }
        }
        @if v.quiet_now { p.error { "Quiet hours: broadcast messages wait until they end." } }
        p { "Created by " (v.created_by)
            @if let Some(a) = &v.approved_by { " · approved by " (a) }
            " · send at " (v.send_at_local.clone().unwrap_or_else(|| "when sent".into())) " (" (state.hours.timezone().name()) ")" }
        div.row {
            @match v.status {
                "draft" => { (button("send", if v.needs_approval { "Send (needs approval)" } else { "Send" })) (button("cancel", "Discard")) }
                "awaiting_approval" => {
                    @if is_creator { p { "Waiting for a second staff member to approve." } }
                    @else { (button("approve", "Approve and send")) }
                    (button("cancel", "Cancel"))
                }
                "sending" | "scheduled" => { (button("pause", "Pause")) (button("cancel", "Cancel")) }
                "paused" => { (button("resume", "Resume")) (button("cancel", "Cancel")) }
                _ => {}
            }
            a href={ "/api/broadcasts/" (v.id) "/report.csv" } { "Report (CSV)" }
        }
        div.panel {
            h2 { "Preview" }
            table {
                tr { td { "Recipients" } td { (v.preview.recipients) } }
                tr { td { "Excluded" } td { @for (k, n) in &v.preview.excluded { (k.replace('_', " ")) ": " (n) " " } } }
                tr { td { "By language" } td { @for (k, n) in &v.preview.by_language { (k) ": " (n) " " } } }
                tr { td { "By channel" } td { @for (k, n) in &v.preview.by_channel { (k) ": " (n) " " } } }
                tr { td { "SMS parts" } td { @for (k, s) in &v.preview.segments { (k) ": " (s.parts) " (" (s.encoding) ") " } } }
                tr { td { "Total SMS segments" } td { (v.preview.total_segments) } }
                tr { td { "WhatsApp outside 24 h" } td { "template " (v.preview.whatsapp_outside_window.template) ", SMS " (v.preview.whatsapp_outside_window.sms) ", held " (v.preview.whatsapp_outside_window.held) } }
            }
            @for w in &v.preview.warnings { p.error { (w) } }
        }
        div.panel {
            h2 { "Texts" }
            @for (tag, text) in &v.texts {
                h3 { (tag) @if v.fallback.as_deref() == Some(tag.as_str()) { " (fallback)" } }
                div.msg dir="auto" lang=(tag) { (text) }
            }
        }
        div.panel {
            h2 { "Test send" }
            form method="post" action={ "/broadcasts/" (v.id) "/test" } {
                input type="hidden" name="csrf" value=(csrf);
                label { "Phone " input name="phone" required; }
                button type="submit" { "Send a test now" }
            }
        }
        (script_tag())
    };
    Ok(page(&v.name, Some(&p), body).into_response())
}

pub async fn action(
    State(state): State<AppState>,
    Path((id, name)): Path<(u64, String)>,
    CsrfForm {
        signed_in,
        form: fields,
    }: CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = signed_in.require_that(may_broadcast, USE_BROADCASTS)?;
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let result = if name == "test" {
        service::test_send(&state, &p.user, id, get("phone").unwrap_or(""))
            .await
            .map(|_| ())
    } else {
        match Action::parse(&name) {
            Some(a) => service::act(&state, &p.user, id, a).await.map(|_| ()),
            None => Err(ApiError::not_found("no such action")),
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/broadcasts/{id}")).into_response()),
        Err(e) => error_page(&p, e),
    }
}

/// Progress of every broadcast once a second, while the page is open. A tick whose figures
/// cannot be read sends nothing (never zeros that look like a stalled broadcast).
pub async fn events(State(state): State<AppState>, p: SignedIn) -> PageResult<Response> {
    p.require_that(may_broadcast, USE_BROADCASTS)?;
    let shutdown = state.shutdown.clone();
    Ok(sse::every(Duration::from_secs(1), shutdown, move || {
        let state = state.clone();
        async move {
            let moving = state
                .store
                .broadcasts()
                .await
                .ok()?
                .into_iter()
                .filter(|b| {
                    // Counting reads every recipient: only broadcasts whose numbers still move.
                    match b.status {
                        Status::Scheduled | Status::Sending | Status::Paused => true,
                        Status::Sent => b
                            .released_at
                            .is_some_and(|at| now_ms().saturating_sub(at) < 24 * 3_600_000),
                        _ => false,
                    }
                });
            let mut data = Vec::new();
            for b in moving {
                let progress = state.store.broadcast_progress(b.id).await.ok()?;
                data.push(
                serde_json::json!({"id": b.id, "status": b.status.name(), "progress": progress}),
            );
            }
            Some(
                Event::default()
                    .event("progress")
                    .data(serde_json::Value::Array(data).to_string()),
            )
        }
    }))
}
