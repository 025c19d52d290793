//! The JSON API for staff and interpreters. Errors are `{error, detail}`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::domain::{Millis, Role, TicketStatus, User, now_ms};
use crate::helpdesk::can_see;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    detail: &'a str,
}

pub fn error(status: StatusCode, error: &str, detail: &str) -> Response {
    (status, Json(ErrorBody { error, detail })).into_response()
}

/// An API error as a value (small, unlike a `Response`), rendered as `{error, detail}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub detail: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(self.status, self.error, &self.detail)
    }
}

/// The caller (bearer token or browser session), or a 401. Changes from a browser session
/// must carry the CSRF token (`X-CSRF-Token`).
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    super::tickets::caller(state, headers, None)
        .await
        .map(|p| p.user)
        .map_err(IntoResponse::into_response)
}

async fn authenticate_change(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    super::tickets::caller(state, headers, Some(None))
        .await
        .map(|p| p.user)
        .map_err(IntoResponse::into_response)
}

pub fn rfc3339(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct TicketQuery {
    status: Option<String>,
}

#[derive(Serialize)]
struct TicketView {
    id: u64,
    phone: String,
    language: String,
    topic: String,
    status: TicketStatus,
    urgent: bool,
    claimed_by: Option<String>,
    opened_at: String,
    waiting_since: Option<String>,
    waiting_seconds: Option<u64>,
    messages: usize,
    /// Messages the caller has not seen yet.
    unread: usize,
    /// From opening to the first answer by a person.
    first_response_seconds: Option<u64>,
    /// From opening to closing.
    resolution_seconds: Option<u64>,
}

/// `GET /api/tickets[?status=open|closed|all]`: the tickets the caller may see, oldest waiting first.
pub async fn tickets(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TicketQuery>,
) -> Response {
    let user = match authenticate(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let wanted = match query.status.as_deref().unwrap_or("open") {
        "open" => Some(TicketStatus::Open),
        "closed" => Some(TicketStatus::Closed),
        "all" => None,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad status",
                &format!("status {other:?}: use open, closed or all"),
            );
        }
    };
    let mut tickets = match state.store.tickets() {
        Ok(t) => t,
        Err(e) => return unavailable(e),
    };
    if !super::tickets::works_tickets(&user) {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role does not see conversations",
        );
    }
    tickets.retain(|t| wanted.is_none_or(|w| t.status == w) && can_see(&user, t));
    // Urgent (protection) first, then the longest waiting.
    tickets.sort_by_key(|t| t.queue_order());
    let now = now_ms();
    let views: Vec<TicketView> = tickets
        .into_iter()
        .map(|t| TicketView {
            id: t.id,
            phone: t.phone.to_string(),
            language: t.language.tag().to_string(),
            topic: t.topic,
            status: t.status,
            opened_at: rfc3339(t.opened_at),
            waiting_since: t.waiting_since.map(rfc3339),
            waiting_seconds: t.waiting_since.map(|w| now.saturating_sub(w) / 1000),
            unread: t
                .message_ids
                .len()
                .saturating_sub(state.store.seen(&user.name, t.id).unwrap_or(0)),
            messages: t.message_ids.len(),
            urgent: t.urgent,
            claimed_by: t.claimed_by.clone(),
            first_response_seconds: t
                .first_response_at
                .map(|f| f.saturating_sub(t.opened_at) / 1000),
            resolution_seconds: t.closed_at.map(|c| c.saturating_sub(t.opened_at) / 1000),
        })
        .collect();
    Json(views).into_response()
}

/// One API route as documented in `/api/openapi.json`. The router test checks that every
/// entry is served, so the description cannot drift from the code.
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Who may call it.
    pub roles: &'static str,
    /// `json`, `csv` or `none`.
    pub body: &'static str,
}

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "get",
        path: "/api/tickets",
        summary: "Tickets the caller may see, urgent first, then the longest waiting (?status=open|closed|all)",
        roles: "interpreter (own languages; not return/protection), supervisor, admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/tickets/{id}",
        summary: "A ticket with the whole conversation across channels",
        roles: "who may see it",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/tickets/{id}/{action}",
        summary: "claim | release | transfer {to_user, to_language} | reply {text} | note {text} | close | erase",
        roles: "who may see it; release/transfer/close: the claimant or a supervisor; erase (data-deletion tickets): supervisor or admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/outbox",
        summary: "Messages not yet accepted by a provider (?status=queued|held|failed)",
        roles: "staff, supervisor, admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/payments",
        summary: "The payment schedule (next date per city)",
        roles: "any user",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/payments",
        summary: "Import the payment schedule as CSV city,next_payment_date[,note] (?skip_invalid=true)",
        roles: "staff, admin",
        body: "csv",
    },
    Endpoint {
        method: "post",
        path: "/api/contacts/import",
        summary: "Import contacts as CSV phone,language,city,case_id,name,tags (tags separated by ;) (?skip_invalid=true); up to 16 MiB",
        roles: "staff, admin",
        body: "csv",
    },
    Endpoint {
        method: "get",
        path: "/api/broadcasts",
        summary: "Broadcasts, newest first, each with its preview and progress",
        roles: "staff, admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/directory",
        summary: "The directory of useful contacts per city {city, kind, name, phone, address, hours}",
        roles: "any user",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/broadcasts",
        summary: "Draft a broadcast {name, texts: {tag: text}, fallback?, audience: {languages?, cities?, channels?, tags?, phones?}, send_at?} (201; 422 names each invalid field)",
        roles: "staff, admin",
        body: "json",
    },
    Endpoint {
        method: "post",
        path: "/api/broadcasts/preview",
        summary: "The preview of a draft without saving it (recipients, exclusions, segments)",
        roles: "staff, admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/broadcasts/{id}",
        summary: "A broadcast: status, texts, audience, preview, progress",
        roles: "staff, admin",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/broadcasts/{id}/{action}",
        summary: "send | approve (not by its creator) | pause | resume | cancel | test {phone}; 409 when the state does not allow it",
        roles: "staff, admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/broadcasts/{id}/report.csv",
        summary: "One row per recipient: phone,language,channel,status,error",
        roles: "staff, admin",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/segments",
        summary: "SMS encoding and parts of {text}, as kabar counts them",
        roles: "staff, admin",
        body: "json",
    },
    Endpoint {
        method: "post",
        path: "/api/directory",
        summary: "Import directory entries as CSV city,kind,name,phone,address,hours (kind: unhcr|iom|clinic|legal|police; ?skip_invalid=true)",
        roles: "staff, admin",
        body: "csv",
    },
    Endpoint {
        method: "get",
        path: "/api/canned",
        summary: "Canned replies (?language=so)",
        roles: "any user",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/canned",
        summary: "Add a canned reply {language, title, text}",
        roles: "staff, supervisor, admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/audit",
        summary: "The audit trail, newest first",
        roles: "admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/figures",
        summary: "Open, waiting, closed, median first response and resolution per language",
        roles: "supervisor, admin",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/users",
        summary: "Users: name, role, languages, disabled (never a password hash)",
        roles: "admin",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/users",
        summary: "Add a user {name, role, languages: [..], password} -> 201; 409 if the name is taken",
        roles: "admin",
        body: "json",
    },
    Endpoint {
        method: "patch",
        path: "/api/users/{name}",
        summary: "Change a user {role?, languages?, disabled?, password?}; a disabled user's sessions and tokens stop at once",
        roles: "admin",
        body: "json",
    },
    Endpoint {
        method: "get",
        path: "/api/tokens",
        summary: "API tokens {id, user, created_at, created_by} (never the token itself)",
        roles: "admin (all); anyone else their own",
        body: "none",
    },
    Endpoint {
        method: "post",
        path: "/api/tokens",
        summary: "Create an API token {user} -> 201 {id, token}; the token is shown this once",
        roles: "admin, or a user for themselves",
        body: "json",
    },
    Endpoint {
        method: "delete",
        path: "/api/tokens/{id}",
        summary: "Revoke a token; it stops working at once",
        roles: "admin, or the token's user",
        body: "none",
    },
    Endpoint {
        method: "get",
        path: "/api/backup",
        summary: "An encrypted backup (age, passphrase in the X-Backup-Passphrase header), streamed",
        roles: "admin",
        body: "none",
    },
];

/// `GET /api/openapi.json`
pub async fn openapi() -> Response {
    let mut paths = serde_json::Map::new();
    for e in ENDPOINTS {
        let mut op = serde_json::json!({
            "summary": e.summary,
            "description": format!("Who may call it: {}.", e.roles),
            "responses": {
                "200": {"description": "done"},
                "400": {"description": "bad request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "missing or wrong token / session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "403": {"description": "the caller's role may not (or a session change without X-CSRF-Token)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            }
        });
        if e.path.starts_with("/api/tickets/{id}") {
            op["responses"]["404"] =
                serde_json::json!({"description": "no such ticket for the caller"});
            op["responses"]["409"] = serde_json::json!({"description": "claimed by someone else, closed, or the receiver of a transfer could not see the ticket"});
            op["parameters"] = serde_json::json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
        }
        for name in ["id", "name"] {
            if !e.path.starts_with("/api/tickets") && e.path.contains(&format!("{{{name}}}")) {
                op["responses"]["404"] = serde_json::json!({"description": "no such record"});
                op["parameters"] = serde_json::json!([{"name": name, "in": "path", "required": true, "schema": {"type": "string"}}]);
            }
        }
        if e.body == "json" {
            op["responses"]["422"] = serde_json::json!({"description": "a field is missing or invalid (detail says which)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        }
        if e.path.contains("{action}") {
            if let Some(a) = op["parameters"].as_array_mut() {
                a.push(serde_json::json!({"name": "action", "in": "path", "required": true, "schema": {"type": "string", "enum": ["claim", "release", "transfer", "reply", "note", "close", "erase"]}}));
            }
        }
        match e.body {
            "json" => {
                op["requestBody"] = serde_json::json!({"content": {"application/json": {"schema": {"type": "object"}}}})
            }
            "csv" => {
                op["requestBody"] =
                    serde_json::json!({"content": {"text/csv": {"schema": {"type": "string"}}}})
            }
            _ => {}
        }
        if e.path == "/api/tickets" {
            op["responses"]["200"] = serde_json::json!({"description": "tickets", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}}}}});
        }
        let entry = paths
            .entry(e.path.to_string())
            .or_insert_with(|| serde_json::json!({}));
        entry[e.method] = op;
    }
    Json(serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "kabar API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Helpdesk API for staff and interpreters. Authenticate with `Authorization: Bearer <token>` (kabar token create NAME) or a browser session; session changes need the `X-CSRF-Token` header."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "detail"],
                          "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}},
                "Ticket": {"type": "object",
                    "required": ["id", "phone", "language", "topic", "status", "opened_at"],
                    "properties": {
                        "id": {"type": "integer"},
                        "phone": {"type": "string", "description": "E.164"},
                        "language": {"type": "string", "enum": ["en", "fa-AF", "fa", "so", "ar", "ti"]},
                        "topic": {"type": "string"},
                        "status": {"type": "string", "enum": ["open", "closed"]},
                        "urgent": {"type": "boolean"},
                        "claimed_by": {"type": "string", "nullable": true},
                        "opened_at": {"type": "string", "format": "date-time"},
                        "waiting_since": {"type": "string", "format": "date-time", "nullable": true},
                        "waiting_seconds": {"type": "integer", "nullable": true},
                        "messages": {"type": "integer"},
                        "unread": {"type": "integer"},
                        "first_response_seconds": {"type": "integer", "nullable": true},
                        "resolution_seconds": {"type": "integer", "nullable": true}
                    }}
            }
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }))
    .into_response()
}

/// Refuses users whose role is not in `roles`.
pub(super) fn require(user: &User, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&user.role) {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::FORBIDDEN,
            error: "forbidden",
            detail: format!("this needs the role {}", roles_text(roles)),
        })
    }
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| format!("{r:?}").to_lowercase())
        .collect::<Vec<_>>()
        .join(" or ")
}

#[derive(Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    pub skip_invalid: bool,
}

#[derive(Serialize)]
pub(super) struct RowErrorView {
    line: u64,
    reason: String,
}

pub(super) fn row_errors(errors: &[crate::import::RowError]) -> Vec<RowErrorView> {
    errors
        .iter()
        .map(|e| RowErrorView {
            line: e.line,
            reason: e.reason.clone(),
        })
        .collect()
}

/// 422 with every invalid row, when the import must not go ahead.
fn invalid_rows(errors: &[crate::import::RowError]) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(serde_json::json!({
            "error": "invalid rows",
            "detail": format!("{} invalid row(s); nothing was imported (add ?skip_invalid=true to import the valid rows)", errors.len()),
            "rows": row_errors(errors),
        })),
    )
        .into_response()
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "store error");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        &format!("the data store failed ({e}); nothing was changed, try again"),
    )
}

/// `GET /api/payments`: the payment schedule.
pub async fn payments(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = authenticate(&state, &headers).await {
        return r;
    }
    match state.store.payments() {
        Ok(entries) => Json(
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
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => unavailable(e),
    }
}

/// What every CSV import checks first: a staff or admin caller (with the CSRF token for a
/// browser session), a readable file, and — unless `skip_invalid` — no invalid row.
pub(super) async fn checked_import<T: Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    query: &ImportQuery,
    body: &[u8],
    parse: fn(&[u8]) -> Result<crate::import::Parsed<T>, crate::import::ImportError>,
) -> Result<(User, crate::import::Parsed<T>), Response> {
    let user = authenticate_change(state, headers).await?;
    require(&user, &[Role::Staff, Role::Admin]).map_err(IntoResponse::into_response)?;
    // 100,000 rows take seconds to check: off the async threads.
    let body = axum::body::Bytes::copy_from_slice(body);
    let parsed = tokio::task::spawn_blocking(move || parse(&body))
        .await
        .map_err(unavailable)?
        .map_err(|e| error(StatusCode::BAD_REQUEST, "bad csv", &e.to_string()))?;
    if !parsed.errors.is_empty() && !query.skip_invalid {
        return Err(invalid_rows(&parsed.errors));
    }
    Ok((user, parsed))
}

/// `POST /api/payments` with a CSV body (`city,next_payment_date[,note]`).
pub async fn import_payments(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> Response {
    let (user, parsed) = match checked_import(&state, &headers, &query, &body, |b| {
        crate::import::parse_payments(b)
    })
    .await
    {
        Ok(found) => found,
        Err(r) => return r,
    };
    let entries = crate::import::payment_entries(&parsed.rows, now_ms());
    if let Err(e) = state.store.upsert_payments(&entries) {
        return unavailable(e);
    }
    if let Err(e) = state.store.durable().await {
        return unavailable(e);
    }
    if let Err(e) = state.store.audit(
        &user.name,
        "payments-import",
        None,
        &format!("{} cities", entries.len()),
    ) {
        return unavailable(e);
    }
    tracing::info!(user = %user.name, cities = entries.len(), "payment schedule updated");
    Json(serde_json::json!({
        "imported": entries.len(),
        "skipped": row_errors(&parsed.errors),
    }))
    .into_response()
}

/// `POST /api/contacts/import` with a CSV body (`phone,language,city,case_id,name,tags`).
pub async fn import_contacts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> Response {
    let (user, parsed) = match checked_import(&state, &headers, &query, &body, |b| {
        crate::import::parse_contacts(b)
    })
    .await
    {
        Ok(found) => found,
        Err(r) => return r,
    };
    let store = state.store.clone();
    let rows = parsed.rows;
    let written = tokio::task::spawn_blocking(move || {
        let mut new = 0;
        for batch in rows.chunks(1000) {
            new += store.upsert_contacts(batch)?;
        }
        Ok::<_, crate::store::StoreError>((new, rows.len()))
    })
    .await;
    let (new, imported) = match written {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return unavailable(e),
        Err(e) => return unavailable(e),
    };
    if let Err(e) = state.store.durable().await {
        return unavailable(e);
    }
    // The import is in the trail; a failed audit write is an error, never dropped.
    if let Err(e) = state.store.audit(
        &user.name,
        "contacts-import",
        None,
        &format!("{imported} contacts, {new} new"),
    ) {
        return unavailable(e);
    }
    tracing::info!(user = %user.name, contacts = imported, "contacts imported");
    Json(serde_json::json!({
        "imported": imported,
        "new": new,
        "skipped": row_errors(&parsed.errors),
    }))
    .into_response()
}

#[derive(Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
}

/// `GET /api/outbox[?status=queued|held|failed]`: what has not reached the provider. Failed
/// messages stay listed with their reason: nothing disappears silently.
pub async fn outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<OutboxQuery>,
) -> Response {
    let user = match authenticate(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = require(&user, &[Role::Staff, Role::Supervisor, Role::Admin]) {
        return r.into_response();
    }
    let status = query.status.as_deref().unwrap_or("queued");
    let rows: Vec<serde_json::Value> = match status {
        "queued" | "held" => match state.store.outbox() {
            Ok(items) => items
                .into_iter()
                .filter(|i| status == "queued" || i.held.is_some())
                .map(|i| {
                    serde_json::json!({
                        "message_id": i.message_id,
                        "channel": i.channel.name(),
                        "phone": i.to.to_string(),
                        "attempts": i.attempts,
                        "next_attempt_at": rfc3339(i.next_attempt_at),
                        "last_error": i.last_error,
                        "held": i.held,
                    })
                })
                .collect(),
            Err(e) => return unavailable(e),
        },
        "failed" => match state.store.failed_messages() {
            Ok(messages) => messages
                .into_iter()
                .map(|m| {
                    serde_json::json!({
                        "message_id": m.id,
                        "channel": m.channel.name(),
                        "phone": m.phone.to_string(),
                        "error": m.error,
                        "failed_at": rfc3339(m.updated_at),
                    })
                })
                .collect(),
            Err(e) => return unavailable(e),
        },
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad status",
                &format!("status {other:?}: use queued, held or failed"),
            );
        }
    };
    Json(rows).into_response()
}

/// `GET /api/audit` (admins): the audit trail, newest first.
pub async fn audit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match authenticate(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = require(&user, &[Role::Admin]) {
        return r.into_response();
    }
    match state.store.audit_log(1000) {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => unavailable(e),
    }
}

/// `GET /api/figures` (supervisors, admins): waiting, first-response and resolution times per
/// language.
pub async fn figures(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match authenticate(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = require(&user, &[Role::Supervisor, Role::Admin]) {
        return r.into_response();
    }
    match state.store.tickets() {
        Ok(t) => Json(super::ui::figures(&t)).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub struct CannedQuery {
    language: Option<String>,
}

/// `GET /api/canned[?language=so]`: prepared answers.
pub async fn canned(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CannedQuery>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers).await {
        return r;
    }
    let lang = match q.language.as_deref() {
        Some(tag) => match crate::i18n::Lang::parse(tag) {
            Some(l) => Some(l),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad language",
                    &format!("unknown language {tag:?}"),
                );
            }
        },
        None => None,
    };
    match state.store.canned_replies(lang) {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub struct NewCanned {
    language: String,
    title: String,
    text: String,
}

/// `POST /api/canned` (staff, supervisors, admins).
pub async fn add_canned(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let user = match authenticate_change(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = require(&user, &[Role::Staff, Role::Supervisor, Role::Admin]) {
        return r.into_response();
    }
    let new: NewCanned = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad json", &e.to_string()),
    };
    let Some(lang) = crate::i18n::Lang::parse(&new.language) else {
        return error(StatusCode::BAD_REQUEST, "bad language", &new.language);
    };
    let (title, text) = (new.title.trim(), new.text.trim());
    if title.is_empty()
        || text.is_empty()
        || title.chars().count() > 60
        || text.chars().count() > 1600
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid",
            "a title (1-60 characters) and a text (1-1600 characters) are needed",
        );
    }
    match state
        .store
        .add_canned_audited(lang, title, text, &user.name)
    {
        Ok(c) => (StatusCode::CREATED, Json(c)).into_response(),
        Err(e) => unavailable(e),
    }
}
