//! The web phone simulator: pick a number, chat with the flows through the real
//! store → engine → outbox path, see replies arrive live (server-sent events).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api::{ApiError, error};
use crate::domain::{Channel, Direction};
use crate::phone::PhoneNumber;
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

fn parse_phone(raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw).map_err(|e| ApiError {
        status: StatusCode::BAD_REQUEST,
        error: "bad phone number",
        detail: e.to_string(),
    })
}

async fn send(State(state): State<AppState>, Json(request): Json<SendRequest>) -> Response {
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

async fn history(State(state): State<AppState>, Query(q): Query<PhoneQuery>) -> Response {
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
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
        }
    }
}

async fn events(State(state): State<AppState>, Query(q): Query<PhoneQuery>) -> Response {
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

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// One static page; message text is only ever inserted with `textContent` (never as HTML).
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kabar phone simulator</title>
<style>
  body { font-family: system-ui, "Noto Sans", "Noto Naskh Arabic", "Noto Sans Ethiopic", sans-serif; background: #eef1f4; margin: 0; }
  main { max-width: 26rem; margin: 1rem auto; background: #fff; border-radius: 1rem; box-shadow: 0 2px 12px #0002; display: flex; flex-direction: column; height: calc(100vh - 2rem); }
  header { padding: .75rem 1rem; border-bottom: 1px solid #ddd; display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  header label { font-size: .9rem; }
  header input { flex: 1; min-width: 10rem; padding: .4rem; font-size: 1rem; }
  #log { flex: 1; overflow-y: auto; padding: 1rem; display: flex; flex-direction: column; gap: .5rem; }
  .bubble { max-width: 80%; padding: .5rem .75rem; border-radius: .75rem; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; }
  .in { align-self: flex-end; background: #d7f5d0; }
  .out { align-self: flex-start; background: #f1f1f1; }
  form { display: flex; gap: .5rem; padding: .75rem; border-top: 1px solid #ddd; }
  form input { flex: 1; padding: .5rem; font-size: 1rem; }
  button { padding: .5rem 1rem; font-size: 1rem; }
  .note { font-size: .8rem; color: #555; padding: 0 1rem .5rem; }
  #error { color: #a00; }
</style>
</head>
<body>
<main>
  <header>
    <label for="phone">Phone number</label>
    <input id="phone" value="+6281200000001" inputmode="tel" autocomplete="off">
    <button id="connect" type="button">Use</button>
  </header>
  <p class="note">Messages go through the same path as real SMS. Try "salam", "hello", "سلام" or "ሰላም".</p>
  <p class="note" id="error" role="alert"></p>
  <div id="log" aria-live="polite"></div>
  <form id="composer">
    <input id="text" dir="auto" autocomplete="off" placeholder="Type a message" aria-label="Message">
    <button type="submit">Send</button>
  </form>
</main>
<script>
const log = document.getElementById('log');
const errorBox = document.getElementById('error');
let source = null;
let shown = new Set();
function bubble(id, dir, text) {
  if (id !== null && shown.has(id)) return;
  if (id !== null) shown.add(id);
  const div = document.createElement('div');
  div.className = 'bubble ' + dir;
  div.dir = 'auto';
  div.textContent = text;
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
}
async function loadHistory(phone) {
  const r = await fetch('/simulator/history?phone=' + encodeURIComponent(phone));
  if (!r.ok) { errorBox.textContent = (await r.json()).detail; return; }
  log.textContent = ''; shown = new Set();
  for (const m of await r.json()) bubble(m.id, m.direction, m.text);
}
function connect() {
  const phone = document.getElementById('phone').value.trim();
  errorBox.textContent = '';
  if (source) source.close();
  loadHistory(phone);
  source = new EventSource('/simulator/events?phone=' + encodeURIComponent(phone));
  source.addEventListener('reply', e => { const m = JSON.parse(e.data); bubble(m.id, 'out', m.text); });
  source.addEventListener('reload', () => loadHistory(phone));
}
document.getElementById('connect').onclick = connect;
document.getElementById('composer').onsubmit = async e => {
  e.preventDefault();
  const input = document.getElementById('text');
  const text = input.value.trim();
  if (!text) return;
  const phone = document.getElementById('phone').value.trim();
  const r = await fetch('/simulator/send', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({phone, text})});
  if (r.ok) { bubble(null, 'in', text); input.value = ''; errorBox.textContent = ''; }
  else { try { errorBox.textContent = (await r.json()).detail; } catch { errorBox.textContent = 'Could not send (' + r.status + ')'; } }
};
connect();
</script>
</body>
</html>
"#;
