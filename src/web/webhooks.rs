//! Provider webhooks. A message is acknowledged only after it is durably stored.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::channel::twilio::{self, WebhookError};
use crate::channel::{InboundEvent, InboundKind, InboundMessage, StatusReport, gateway, whatsapp};
use crate::domain::Channel;
use crate::store::{NewInbound, StatusUpdate};

const TWIML_EMPTY: &str = "<Response/>";

fn twiml_ok() -> Response {
    ([(header::CONTENT_TYPE, "text/xml")], TWIML_EMPTY).into_response()
}

/// A refused webhook: status and a one-line reason for the provider's logs.
pub struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

fn refusal(e: &WebhookError) -> Refusal {
    let status = match e {
        WebhookError::MissingSignature | WebhookError::BadSignature => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    Refusal(status, format!("{e}\n"))
}

fn refuse(e: &WebhookError) -> Response {
    refusal(e).into_response()
}

/// The URL Twilio signed: the configured public URL plus the path and query it called.
fn signed_url(state: &AppState, uri: &OriginalUri) -> String {
    let base = state
        .config
        .server
        .public_url
        .as_str()
        .trim_end_matches('/');
    let path = uri.0.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{base}{path}")
}

/// Parses and verifies a Twilio request body.
fn verified_params(
    state: &AppState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<twilio::Params, Refusal> {
    let Some(sender) = &state.channels.twilio else {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            "the Twilio channel is not configured\n".into(),
        ));
    };
    let params = twilio::parse_form(body).map_err(|e| refusal(&e))?;
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| refusal(&WebhookError::MissingSignature))?;
    if !twilio::verify(
        sender.auth_token(),
        &signed_url(state, uri),
        &params,
        signature,
    ) {
        tracing::warn!("Twilio webhook with a wrong signature refused");
        return Err(refusal(&WebhookError::BadSignature));
    }
    Ok(params)
}

pub async fn twilio_inbound(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match verified_params(&state, &uri, &headers, &body) {
        Ok(p) => p,
        Err(refused) => return refused.into_response(),
    };
    let inbound = match twilio::parse_inbound(&params) {
        Ok(i) => i,
        Err(e) => return refuse(&e),
    };
    accept_inbound(&state, inbound).await.unwrap_or_else(|r| r)
}

/// Stores an inbound message durably, then hands it to the processor. Shared by every channel.
pub async fn accept_inbound(state: &AppState, inbound: NewInbound) -> Result<Response, Response> {
    accept_batch(state, vec![inbound], Vec::new()).await?;
    Ok(twiml_ok())
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "cannot store webhook content");
    // The provider retries on 5xx: nothing is lost.
    (StatusCode::SERVICE_UNAVAILABLE, "cannot store now; retry\n").into_response()
}

/// Makes every message and status of one webhook durable, then returns so the handler can
/// answer. Messages go to the intake journal (the intake task stores and answers them in
/// arrival order, dropping provider retries); statuses update the message log.
async fn accept_batch(
    state: &AppState,
    inbound: Vec<NewInbound>,
    statuses: Vec<(Channel, StatusReport)>,
) -> Result<(), Response> {
    let has_statuses = !statuses.is_empty();
    for (channel, report) in statuses {
        match state
            .store
            .update_status_by_external(channel, &report.external_id, report.status, report.error)
            .map_err(unavailable)?
        {
            StatusUpdate::Updated(m) => {
                if m.broadcast.is_some() {
                    let status = crate::broadcast::RecipientStatus::from_message(m.status);
                    if matches!(
                        status,
                        crate::broadcast::RecipientStatus::Delivered
                            | crate::broadcast::RecipientStatus::Failed
                    ) {
                        state.metrics.broadcast(status.name(), 1);
                    }
                }
                tracing::debug!(
                    message_id = m.id,
                    status = report.status.name(),
                    "status updated"
                )
            }
            StatusUpdate::Stale => {}
            // Acknowledged all the same: the provider must not retry it forever.
            StatusUpdate::Unknown => {
                tracing::debug!(channel = channel.name(), "status for an unknown message")
            }
        }
    }
    // The simulator's reserved range is never a real sender: a provider message from one is
    // acknowledged (so it is not retried) and dropped, so it cannot reach a simulated contact.
    let mut inbound = inbound;
    inbound.retain(|m| {
        let keep = m.channel == Channel::Simulator || !m.from.is_simulated();
        if !keep {
            tracing::warn!(
                channel = m.channel.name(),
                "dropped a provider message from the simulator's reserved range"
            );
        }
        keep
    });
    let accepted = inbound.len();
    state
        .store
        .accept_inbound(inbound)
        .await
        .map_err(unavailable)?;
    if accepted > 0 {
        tracing::debug!(messages = accepted, "inbound accepted");
    }
    if has_statuses {
        state.store.durable().await.map_err(unavailable)?;
    }
    Ok(())
}

/// A provider's message as we store it.
fn new_inbound(channel: Channel, m: InboundMessage) -> NewInbound {
    let (media, unsupported) = match m.kind {
        InboundKind::Media(media) => (Some(media), None),
        InboundKind::Unsupported(kind) => (None, Some(kind)),
        InboundKind::Text | InboundKind::Choice => (None, None),
    };
    NewInbound {
        channel,
        from: m.from,
        text: m.text,
        external_id: m.external_id,
        media,
        unsupported,
    }
}

#[derive(serde::Deserialize)]
pub struct Subscription {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// `GET /webhooks/whatsapp`: Meta's subscription check.
pub async fn whatsapp_verify(
    State(state): State<AppState>,
    Query(q): Query<Subscription>,
) -> Response {
    let Some(sender) = &state.channels.whatsapp else {
        return (
            StatusCode::NOT_FOUND,
            "the WhatsApp channel is not configured\n",
        )
            .into_response();
    };
    match whatsapp::verify_subscription(
        q.mode.as_deref(),
        q.verify_token.as_deref(),
        q.challenge.as_deref(),
        sender.verify_token(),
    ) {
        Some(challenge) => ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response(),
        None => (StatusCode::FORBIDDEN, "verification failed\n").into_response(),
    }
}

/// `POST /webhooks/whatsapp`: messages and statuses, checked against X-Hub-Signature-256.
pub async fn whatsapp_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(sender) = &state.channels.whatsapp else {
        return (
            StatusCode::NOT_FOUND,
            "the WhatsApp channel is not configured\n",
        )
            .into_response();
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = whatsapp::verify_signature(sender.app_secret(), &body, signature) {
        tracing::warn!("WhatsApp webhook with a wrong signature refused");
        return (StatusCode::FORBIDDEN, format!("{e}\n")).into_response();
    }
    let parsed = match whatsapp::parse_webhook(&body) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    for reason in &parsed.skipped {
        tracing::warn!(%reason, "WhatsApp webhook item skipped");
    }
    let mut inbound = Vec::new();
    let mut statuses = Vec::new();
    for event in parsed.events {
        match event {
            InboundEvent::Message(m) => inbound.push(new_inbound(Channel::Whatsapp, m)),
            InboundEvent::Status(s) => statuses.push((Channel::Whatsapp, s)),
        }
    }
    match accept_batch(&state, inbound, statuses).await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(r) => r,
    }
}

/// `POST /webhooks/gateway`: events from the Android SMS gateway phone.
pub async fn gateway_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(sender) = &state.channels.gateway else {
        return (
            StatusCode::NOT_FOUND,
            "the gateway channel is not configured\n",
        )
            .into_response();
    };
    let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = gateway::verify(
        sender.signing_key(),
        &body,
        header_str("x-timestamp"),
        header_str("x-signature"),
        now,
    ) {
        tracing::warn!(reason = %e, "gateway webhook refused");
        return (StatusCode::FORBIDDEN, format!("{e}\n")).into_response();
    }
    let event = match gateway::parse_event(&body) {
        Ok(e) => e,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    // A webhook from the phone proves it is up.
    state.channels.gateway_health.record(true, None);
    let result = match event.kind {
        gateway::EventKind::Received(m) => {
            accept_batch(&state, vec![new_inbound(Channel::Gateway, m)], Vec::new()).await
        }
        gateway::EventKind::Status(s) => {
            accept_batch(&state, Vec::new(), vec![(Channel::Gateway, s)]).await
        }
        gateway::EventKind::Other(kind) => {
            tracing::info!(%kind, "gateway event acknowledged, nothing to do");
            Ok(())
        }
    };
    match result {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(r) => r,
    }
}

pub async fn twilio_status(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match verified_params(&state, &uri, &headers, &body) {
        Ok(p) => p,
        Err(refused) => return refused.into_response(),
    };
    let (sid, status, error) = match twilio::parse_status(&params) {
        Ok(s) => s,
        Err(e) => return refuse(&e),
    };
    let Some(status) = status else {
        return twiml_ok(); // statuses of inbound messages: nothing to record
    };
    let report = StatusReport {
        external_id: sid,
        status,
        error,
    };
    match accept_batch(&state, Vec::new(), vec![(Channel::TwilioSms, report)]).await {
        Ok(()) => twiml_ok(),
        Err(r) => r,
    }
}
