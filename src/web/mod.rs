//! HTTP: provider webhooks, the JSON API (`api/`), the browser pages (`ui/`), the simulator
//! and operations endpoints.
//!
//! - `error.rs`, `extract.rs`, `sse.rs`: what every handler uses (one error type, the caller
//!   as an extractor, live streams).
//! - `tickets.rs`, `broadcasts.rs`, `users.rs`, `backup.rs`: the operations the API and the
//!   pages share; `api/` and `ui/` never import each other.
//! - `pages.rs`: errors as pages, no-store, the login that returns to the page.

pub mod api;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod broadcasts;
pub mod contacts;
pub mod error;
pub mod extract;
pub mod pages;
pub mod simulator;
pub mod sse;
pub mod tickets;
pub mod ui;
pub mod users;
pub mod webhooks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::channel::Channels;
use crate::config::Config;
use crate::conversation::Processor;
use crate::domain::Role;
use crate::metrics::Metrics;
use crate::store::Store;

/// Webhook bodies larger than this are refused with 413 (DESIGN §2).
pub const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;
/// A contacts CSV of 100,000 rows is about 4 MB; this leaves room for long names and tags.
pub const CONTACTS_IMPORT_LIMIT: usize = 16 * 1024 * 1024;

/// What every handler can reach. One reference-counted pointer: axum clones the state for
/// every request and every layer, and cloning a dozen fields each time showed in profiles.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts behind [`AppState`].
pub struct Shared {
    pub config: Arc<Config>,
    /// Storage, through its port.
    pub store: Store,
    pub processor: Arc<Processor>,
    pub channels: Channels,
    pub metrics: Arc<Metrics>,
    /// Turns true when the server begins shutting down (ends live streams).
    pub shutdown: watch::Receiver<bool>,
    pub localizer: Arc<crate::i18n::Localizer>,
    pub hours: crate::helpdesk::hours::BusinessHours,
    pub events: crate::helpdesk::Events,
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Signs the login form's CSRF token (a new key each start: open login forms expire).
    pub login_csrf: Arc<auth::LoginCsrf>,
    /// One audit "view" per look at a ticket, not per live refresh.
    pub views: Arc<tickets::ViewLog>,
    /// Told when a broadcast changes state, so it starts (or stops) at once.
    pub dispatcher: crate::dispatch::Dispatcher,
    /// The time `send_at`, quiet hours and the WhatsApp window are judged by.
    pub clock: crate::domain::clock::SharedClock,
    /// The data folder's disk (free space in `/healthz`, `/metrics` and the staff banner).
    pub disk: crate::ops::DiskWatch,
}

pub fn router(state: AppState) -> Router {
    let webhooks = Router::new()
        .route("/webhooks/twilio", post(webhooks::twilio_inbound))
        .route("/webhooks/twilio/status", post(webhooks::twilio_status))
        .route(
            "/webhooks/whatsapp",
            get(webhooks::whatsapp_verify).post(webhooks::whatsapp_events),
        )
        .route("/webhooks/gateway", post(webhooks::gateway_event))
        .route("/csp-report", post(csp_report))
        .layer(RequestBodyLimitLayer::new(WEBHOOK_BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), track_latency));
    let mut app = Router::new()
        .merge(webhooks)
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(api::routes());
    if state.config.simulator.enabled {
        app = app.merge(simulator::routes());
    }
    app = app.merge(ui::routes()).merge(assets::routes());
    let hsts = state.config.server.public_url.scheme() == "https";
    // A 100,000-row contacts file (~4 MB) is larger and slower than anything else: its own
    // body limit and timeout, outside the 14 s one.
    let imports = Router::new()
        .route(
            "/api/contacts/import",
            post(api::contacts::import)
                .layer(axum::extract::DefaultBodyLimit::max(CONTACTS_IMPORT_LIMIT)),
        )
        .route(
            "/staff/contacts/import",
            post(ui::staff::contacts_import)
                .layer(axum::extract::DefaultBodyLimit::max(CONTACTS_IMPORT_LIMIT)),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(120),
        ))
        .layer(CatchPanicLayer::new());
    app.fallback(not_found)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(14),
        ))
        .layer(CatchPanicLayer::new())
        .merge(imports)
        // Errors as pages (or JSON for /api), no-store, login that returns to the page.
        .layer(middleware::from_fn_with_state(state.clone(), pages::finish))
        // Outermost, so that timeouts, panics and 404s carry the headers too.
        .layer(middleware::map_response(move |response: Response| {
            security_headers(response, hsts)
        }))
        .with_state(state)
}

/// No inline script or style anywhere (pages link [`assets`]), no framing, no sniffing, no
/// referrer (ticket URLs and the simulator's phone numbers stay here).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; \
     object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; \
     report-uri /csp-report";

/// The security headers every answer carries (pages, API, webhooks, errors).
async fn security_headers(mut response: Response, hsts: bool) -> Response {
    use axum::http::HeaderValue;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Records webhook latency per route and status code.
async fn track_latency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let start = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .webhook_seconds
        .get_or_create(&crate::metrics::RouteLabels {
            route,
            code: response.status().as_u16(),
        })
        .observe(start.elapsed().as_secs_f64());
    response
}

/// The home page: what there is, and for a signed-in user the menu of their role and the pages
/// they work on (their first stop after a bookmark or a typed address).
async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let simulator = state.config.simulator.enabled;
    let signed_in = auth::principal(&state.store, &headers, state.clock.now())
        .await
        .ok()
        .flatten();
    let body = maud::html! {
        h1 { "kabar" }
        p { "A helpdesk by SMS and WhatsApp for refugees and asylum seekers, in Dari, Farsi, Somali, Arabic, Tigrinya and English." }
        @if let Some(p) = &signed_in {
            @let role = p.user.role;
            ul {
                @if tickets::works_tickets(&p.user) { li { a href="/queue" { "Queue" } " — tickets waiting for a person." } }
                @if broadcasts::may_broadcast(&p.user) { li { a href="/broadcasts" { "Broadcasts" } " — notices to groups." } }
                @if matches!(role, Role::Staff | Role::Admin) {
                    li { a href="/staff/payments" { "Payment schedule" } ", " a href="/staff/contacts" { "contacts" } " and " a href="/staff/directory" { "directory" } " — what the flows tell people." }
                }
                @if role != Role::Interpreter { li { a href="/canned" { "Canned replies" } } }
                @if matches!(role, Role::Supervisor | Role::Admin) { li { a href="/figures" { "Figures" } " per language." } }
                @if role == Role::Admin { li { a href="/admin/users" { "Users" } ", " a href="/audit" { "audit trail" } " and " a href="/backup" { "backup" } "." } }
                li { a href="/admin/tokens" { "Your API tokens" } }
                @if simulator { li { a href="/simulator" { "Phone simulator" } " — try the conversation flows without a provider." } }
            }
        } @else {
            ul {
                li { a href="/login" { "Log in" } " — interpreters, supervisors, staff and admins." }
                li { a href="/queue" { "Interpreter queue" } " — tickets waiting for a person." }
                li { a href="/broadcasts" { "Broadcasts" } " — notices to groups (staff)." }
                @if simulator { li { a href="/simulator" { "Phone simulator" } " — try the conversation flows without a provider." } }
            }
        }
        p.note { a href="/api/openapi.json" { "API description" } " (a bearer token from " a href="/admin/tokens" { "API tokens" } ") · " a href="/healthz" { "health" } " · " a href="/metrics" { "metrics" } }
    };
    ui::page("Home", signed_in.as_ref(), body).into_response()
}

/// 200 while the store accepts durable writes; a provider that is down (the gateway phone) or
/// a disk running low on space makes it "degraded" but still 200 (messages wait safely in the
/// outbox; the disk is not full yet). 503 when the store cannot write.
async fn healthz(State(state): State<AppState>) -> Response {
    let store_ok = match state.store.check_writable().await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "health check: store not writable");
            false
        }
    };
    let mut body = serde_json::json!({
        "status": if store_ok { "ok" } else { "down" },
        "store": if store_ok { "writable" } else { "not writable" },
        "outbox": state.store.outbox_depth().await.ok(),
        "intake_backlog": state.store.intake_backlog().await.ok(),
    });
    let low = state.disk.low();
    if let Some(space) = state.disk.space() {
        body["disk"] = serde_json::json!({
            "free_bytes": space.free_bytes,
            "total_bytes": space.total_bytes,
            "min_free_bytes": state.disk.min_free_bytes(),
            "state": if low { "low" } else { "ok" },
        });
    }
    if low && store_ok {
        body["status"] = "degraded".into();
    }
    if state.channels.gateway.is_some() {
        let gateway = match state.channels.gateway_health.get() {
            None => serde_json::json!({"state": "unknown (nothing sent yet)"}),
            Some((true, since, _)) => serde_json::json!({"state": "reachable", "since": since}),
            Some((false, since, error)) => {
                if store_ok {
                    body["status"] = "degraded".into();
                }
                serde_json::json!({"state": "unreachable", "since": since, "error": error})
            }
        };
        body["gateway"] = gateway;
    }
    let status = if store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    // A figure the store cannot give now keeps its last value rather than a false zero.
    if let Ok(depth) = state.store.outbox_depth().await {
        state.metrics.outbox_depth.set(depth as i64);
    }
    if let Ok(pending) = state.store.pending_count().await {
        state.metrics.inbox_depth.set(pending as i64);
    }
    if let Some((up, _, _)) = state.channels.gateway_health.get() {
        state.metrics.gateway_up.set(i64::from(up));
    }
    let low = state.disk.low();
    if let Some(space) = state.disk.space() {
        let bytes = |b: u64| i64::try_from(b).unwrap_or(i64::MAX);
        state.metrics.disk_free_bytes.set(bytes(space.free_bytes));
        state.metrics.disk_total_bytes.set(bytes(space.total_bytes));
    }
    state.metrics.disk_low.set(i64::from(low));
    if let Ok(backlog) = state.store.intake_backlog().await {
        state
            .metrics
            .intake_backlog
            .set(i64::try_from(backlog).unwrap_or(i64::MAX));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// Browsers report CSP violations here (`report-uri`). Counted in `/metrics` and logged with
/// the directive and the blocked source only: reports can carry page URLs and snippets, which
/// may hold a phone number, so nothing else is kept.
async fn csp_report(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    state.metrics.csp_violations.inc();
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let r = &report["csp-report"];
    let field = |name: &str| {
        let value = r[name].as_str().unwrap_or("?");
        let without_query = value.split(['?', '#']).next().unwrap_or_default();
        without_query.chars().take(80).collect::<String>()
    };
    tracing::warn!(
        directive = %field("violated-directive"),
        blocked = %field("blocked-uri"),
        "the browser blocked something under the Content-Security-Policy"
    );
    StatusCode::NO_CONTENT.into_response()
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("no such page or route")
}

/// A time as the API shows it: RFC 3339 in UTC, to the second.
pub fn rfc3339(ms: crate::domain::Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
