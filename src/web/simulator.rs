//! The web phone simulator: pick a number, chat with the flows through the real
//! store → engine → outbox path, see replies arrive live (server-sent events).
//!
//! Isolation: the simulator speaks only for numbers in the reserved range `+999…`
//! ([`ContactId::is_simulated`]), which no real channel ever carries, so it can neither read
//! nor act on a real person's conversation. With any provider configured every route needs a
//! signed-in user (the page redirects to /login, the JSON routes answer 401); the embedded
//! default (no provider, listening on 127.0.0.1) stays usable without a login.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::auth::{self, Principal};
use super::error::{ApiError, ApiResult};
use super::extract::CSRF_HEADER;
use super::{AppState, assets, sse};
use crate::domain::contact_id::SIMULATOR_COUNTRY;
use crate::domain::{Channel, Direction};
use crate::domain::{ContactId, phone::SIMULATOR_PREFIX};
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
fn parse_phone(raw: &str) -> Result<ContactId, ApiError> {
    let phone = ContactId::parse(raw)
        .map_err(|e| ApiError::bad_request("bad phone number", e.to_string()))?;
    if !phone.is_simulated() || phone == ContactId::erased() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not a simulator number",
            format!(
                "the simulator only uses its own numbers, starting with {SIMULATOR_PREFIX} (e.g. {DEFAULT_PHONE}), or its own WhatsApp user ids, starting with {SIMULATOR_COUNTRY}. (e.g. ZZ.1001); real people's conversations are not reachable from it"
            ),
        ));
    }
    Ok(phone)
}

/// Who may use the simulator: anyone on a server without providers; else a signed-in user.
/// `Ok(None)` = no login needed.
async fn gate(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    if !state.config.any_provider() {
        return Ok(None);
    }
    match auth::principal(&state.store, headers, state.clock.now()).await? {
        Some(p) => Ok(Some(p)),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "not signed in",
            "with a provider configured the simulator needs a signed-in user: log in at /login",
        )),
    }
}

async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<SendRequest>,
) -> Response {
    if let Err(e) = check_send(&state, &headers).await {
        return e.into_response();
    }
    let phone = match parse_phone(&request.phone) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let text = request.text.trim();
    if text.is_empty() {
        return ApiError::bad_request("empty message", "type a message first").into_response();
    }
    if text.chars().count() > MAX_TEXT {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message too long",
            format!("at most {MAX_TEXT} characters"),
        )
        .into_response();
    }
    let mut id = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let inbound = NewInbound {
        channel: Channel::Simulator,
        from: phone,
        profile: Default::default(),
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

/// A send from a signed-in browser carries the session's CSRF token.
async fn check_send(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(p) = gate(state, headers).await? {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !p.csrf_ok(sent) {
            return Err(ApiError::csrf(
                "missing or wrong X-CSRF-Token: reload the page",
            ));
        }
    }
    Ok(())
}

async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PhoneQuery>,
) -> ApiResult<Json<Vec<Bubble>>> {
    gate(&state, &headers).await?;
    let phone = parse_phone(&q.phone)?;
    let messages = state.store.history(&phone).await?;
    Ok(Json(
        messages
            .into_iter()
            .map(|m| Bubble {
                id: m.id,
                direction: m.direction,
                text: m.text,
                status: m.status.name().to_string(),
            })
            .collect(),
    ))
}

async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PhoneQuery>,
) -> ApiResult<Response> {
    gate(&state, &headers).await?;
    let phone = parse_phone(&q.phone)?;
    let simulator = state.channels.simulator.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "simulator off",
            "the simulator is not enabled",
        )
    })?;
    // Replies for this phone only; a `reload` when some were missed under load.
    Ok(sse::from_broadcast(
        simulator.subscribe(),
        state.shutdown.clone(),
        move |reply: crate::channel::simulator::SimulatedReply| {
            let out = (reply.phone == phone).then(|| {
                let data = serde_json::json!({"id": reply.message_id, "text": reply.text});
                Event::default().event("reply").data(data.to_string())
            });
            std::future::ready(out)
        },
        || Event::default().event("reload").data("{}"),
    ))
}

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let csrf = match gate(&state, &headers).await {
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
                        label for="phone" { "Phone number or user id" }
                        input #phone value=(DEFAULT_PHONE) inputmode="tel" autocomplete="off";
                        button #connect type="button" { "Use" }
                    }
                    p.note { "Messages go through the same path as real SMS. Try \"salam\", \"hello\", \"سلام\" or \"ሰላም\". Simulator numbers start with " (SIMULATOR_PREFIX) "; to try someone who hides their number behind a WhatsApp username, use a user id starting with " (SIMULATOR_COUNTRY) ". (e.g. ZZ.1001)." }
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
