//! The web phone simulator: pick a number, chat with the flows through the real
//! store → engine → outbox path, see replies arrive live (server-sent events).
//!
//! Isolation: the simulator speaks only for numbers in the reserved range `+999…`
//! ([`PhoneNumber::is_simulated`]), which no real channel ever carries, so it can neither read
//! nor act on a real person's conversation. With any provider configured every route needs a
//! signed-in user (the page redirects to /login, the JSON routes answer 401); the embedded
//! default (no provider, listening on 127.0.0.1) stays usable without a login.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api::{ApiError, error};
use super::assets;
use super::auth::{self, Principal};
use crate::domain::phone::{PhoneNumber, SIMULATOR_PREFIX};
use crate::domain::{Channel, Direction};
use crate::store::NewInbound;

/// Longest message the simulator accepts (ten SMS segments).
const MAX_TEXT: usize = 1600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/simulator", get(page))
        .route("/simulator/send", post(send))
        .route("/simulator/history", get(history))
        .route("/simulator/events", get(events))
}

#[derive(Deserialize)]
pub struct SendRequest {
    phone: String,
    text: String,
}

#[derive(Deserialize)]
pub struct PhoneQuery {
    phone: String,
}

#[derive(Serialize)]
struct Bubble {
    id: u64,
    direction: Direction,
    text: String,
    status: String,
}

/// The first number the page offers.
const DEFAULT_PHONE: &str = "+99900000001";

/// A simulator number: valid, and in the reserved range. Anything else is refused before any
/// read or write, so a real person's history, session or language is never touched.
fn parse_phone(raw: &str) -> Result<PhoneNumber, ApiError> {
    let phone = PhoneNumber::parse(raw).map_err(|e| ApiError {
        status: StatusCode::BAD_REQUEST,
        error: "bad phone number",
        detail: e.to_string(),
    })?;
    if !phone.is_simulated() || phone == PhoneNumber::erased() {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            error: "not a simulator number",
            detail: format!(
                "the simulator only uses its own numbers, starting with {SIMULATOR_PREFIX} (e.g. {DEFAULT_PHONE}); real people's conversations are not reachable from it"
            ),
        });
    }
    Ok(phone)
}

/// Who may use the simulator: anyone on a server without providers; else a signed-in user.
/// `Ok(None)` = no login needed.
fn gate(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    if !state.config.any_provider() {
        return Ok(None);
    }
    match auth::principal(&state.store, headers, state.clock.now()) {
        Ok(Some(p)) => Ok(Some(p)),
        Ok(None) => Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            error: "not signed in",
            detail:
                "with a provider configured the simulator needs a signed-in user: log in at /login"
                    .into(),
        }),
        Err(e) => {
            tracing::error!(error = %e, "cannot read session");
            Err(ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                error: "unavailable",
                detail: "cannot check the session now; try again".into(),
            })
        }
    }
}

async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<SendRequest>,
) -> Response {
    match gate(&state, &headers) {
        Ok(Some(p)) => {
            let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
            if !p.csrf_ok(sent) {
                return error(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong X-CSRF-Token: reload the page",
                );
            }
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    let phone = match parse_phone(&request.phone) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let text = request.text.trim();
    if text.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "empty message",
            "type a message first",
        );
    }
    if text.chars().count() > MAX_TEXT {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message too long",
            &format!("at most {MAX_TEXT} characters"),
        );
    }
    let mut id = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let inbound = NewInbound {
        channel: Channel::Simulator,
        from: phone,
        text: text.to_string(),
        external_id: hex::encode(id),
        media: None,
        unsupported: None,
    };
    match super::webhooks::accept_inbound(&state, inbound).await {
        Ok(_) => (StatusCode::ACCEPTED, Json(serde_json::json!({"ok": true}))).into_response(),
        Err(r) => r,
    }
}

async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PhoneQuery>,
) -> Response {
    if let Err(e) = gate(&state, &headers) {
        return e.into_response();
    }
    let phone = match parse_phone(&q.phone) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    match state.store.history(&phone) {
        Ok(messages) => Json(
            messages
                .into_iter()
                .map(|m| Bubble {
                    id: m.id,
                    direction: m.direction,
                    text: m.text,
                    status: m.status.name().to_string(),
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read history");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                &format!("cannot read the history: {e}"),
            )
        }
    }
}

async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PhoneQuery>,
) -> Response {
    if let Err(e) = gate(&state, &headers) {
        return e.into_response();
    }
    let phone = match parse_phone(&q.phone) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let Some(simulator) = state.channels.simulator.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "simulator off",
            "the simulator is not enabled",
        );
    };
    let receiver = simulator.subscribe();
    let shutdown = state.shutdown.clone();
    Sse::new(reply_stream(receiver, shutdown, phone))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Replies for one phone until the server shuts down (an endless stream would hang shutdown).
fn reply_stream(
    receiver: tokio::sync::broadcast::Receiver<crate::channel::simulator::SimulatedReply>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    phone: PhoneNumber,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(
        (receiver, shutdown, phone),
        |(mut receiver, mut shutdown, phone)| async move {
            loop {
                if *shutdown.borrow() {
                    return None;
                }
                tokio::select! {
                    _ = shutdown.changed() => return None,
                    received = receiver.recv() => match received {
                        Ok(reply) if reply.phone == phone => {
                            let data = serde_json::json!({"id": reply.message_id, "text": reply.text});
                            let event = Event::default().event("reply").data(data.to_string());
                            return Some((Ok(event), (receiver, shutdown, phone)));
                        }
                        Ok(_) => continue,
                        // Missed some under load: tell the page to reload the history.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            let event = Event::default().event("reload").data("{}");
                            return Some((Ok(event), (receiver, shutdown, phone)));
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        },
    )
}

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let csrf = match gate(&state, &headers) {
        Ok(p) => p.and_then(|p| p.csrf).unwrap_or_default(),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            return Redirect::to("/login").into_response();
        }
        Err(e) => return e.into_response(),
    };
    Html(page_markup(&csrf).into_string()).into_response()
}

/// The page; its script inserts message text only with `textContent` (never as HTML).
fn page_markup(csrf: &str) -> maud::Markup {
    maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "kabar phone simulator" }
                link rel="stylesheet" href=(assets::url("simulator.css"));
            }
            body data-csrf=(csrf) {
                main {
                    nav.sim { a href="/" { "kabar home" } }
                    header {
                        label for="phone" { "Phone number" }
                        input #phone value=(DEFAULT_PHONE) inputmode="tel" autocomplete="off";
                        button #connect type="button" { "Use" }
                    }
                    p.note { "Messages go through the same path as real SMS. Try \"salam\", \"hello\", \"سلام\" or \"ሰላም\". Simulator numbers start with " (SIMULATOR_PREFIX) "." }
                    p.note #current aria-live="polite" {}
                    p.note #error role="alert" {}
                    div #log aria-live="polite" {}
                    form #composer {
                        input #text dir="auto" autocomplete="off" placeholder="Type a message" aria-label="Message";
                        button type="submit" { "Send" }
                    }
                }
                script src=(assets::url("simulator.js")) {}
            }
        }
    }
}
