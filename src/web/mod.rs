//! HTTP: provider webhooks, the JSON API, the simulator and operations endpoints.

pub mod api;
pub mod auth;
pub mod backup;
pub mod simulator;
pub mod tickets;
pub mod ui;
pub mod webhooks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::channel::Channels;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::processor::Processor;
use crate::store::Store;

/// Webhook bodies larger than this are refused with 413 (DESIGN §2).
pub const WEBHOOK_BODY_LIMIT: usize = 64 * 1024;

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
    pub store: Arc<Store>,
    pub processor: Arc<Processor>,
    pub channels: Channels,
    pub metrics: Arc<Metrics>,
    /// Turns true when the server begins shutting down (ends live streams).
    pub shutdown: watch::Receiver<bool>,
    pub localizer: Arc<crate::i18n::Localizer>,
    pub hours: crate::helpdesk::hours::BusinessHours,
    pub events: crate::helpdesk::Events,
    pub login_limiter: Arc<auth::LoginLimiter>,
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
        .layer(RequestBodyLimitLayer::new(WEBHOOK_BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), track_latency));
    let mut app = Router::new()
        .merge(webhooks)
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/tickets", get(api::tickets))
        .route("/api/tickets/{id}", get(tickets::api_get))
        .route("/api/tickets/{id}/{action}", post(tickets::api_act))
        .route(
            "/api/payments",
            get(api::payments).post(api::import_payments),
        )
        .route("/api/contacts/import", post(api::import_contacts))
        .route("/api/outbox", get(api::outbox))
        .route("/api/audit", get(api::audit))
        .route("/api/figures", get(api::figures))
        .route("/api/canned", get(api::canned).post(api::add_canned))
        .route("/api/openapi.json", get(api::openapi));
    if state.config.simulator.enabled {
        app = app.merge(simulator::routes());
    }
    app = app.merge(ui::routes()).merge(backup::routes());
    app.fallback(not_found)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(14),
        ))
        .layer(CatchPanicLayer::new())
        .with_state(state)
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

async fn index(State(state): State<AppState>) -> Html<String> {
    let simulator = state.config.simulator.enabled;
    Html(
        maud::html! {
            (maud::DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1"; title { "kabar" } }
                body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem" {
                    h1 { "kabar" }
                    p { "A helpdesk by SMS and WhatsApp for refugees and asylum seekers, in Dari, Farsi, Somali, Arabic, Tigrinya and English." }
                    ul {
                        @if simulator { li { a href="/simulator" { "Phone simulator" } " — try the conversation flows without a provider." } }
                        li { a href="/api/openapi.json" { "API description" } " — tickets and more, with a bearer token from " code { "kabar token create" } "." }
                        li { a href="/healthz" { "Health" } " and " a href="/metrics" { "metrics" } "." }
                    }
                }
            }
        }
        .into_string(),
    )
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
        "outbox": state.store.outbox_depth(),
        "intake_backlog": state.store.intake_backlog(),
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
    state
        .metrics
        .outbox_depth
        .set(state.store.outbox_depth() as i64);
    state
        .metrics
        .inbox_depth
        .set(state.store.pending_count() as i64);
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
    state
        .metrics
        .intake_backlog
        .set(i64::try_from(state.store.intake_backlog()).unwrap_or(i64::MAX));
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn not_found() -> Response {
    api::error(StatusCode::NOT_FOUND, "not found", "no such page or route")
}
