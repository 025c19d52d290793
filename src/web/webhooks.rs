//! Provider webhooks, one handler for all of them over [`crate::channel::Webhook`]: "not
//! configured" → 404, not from the provider → 403, not understood → 400 with a reason, else
//! the events are made durable and the provider's own acknowledgement is answered. A message
//! is acknowledged only after it is durably stored. Header names, signatures and body formats
//! are the providers' business, in `src/channel/`.

use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::channel::{
    self, Ack, InboundEvent, InboundKind, InboundMessage, Incoming, StatusReport, WebhookError,
    WebhookRequest,
};
use crate::domain::{Channel, ContactId};
use crate::store::{NewInbound, StatusUpdate};

/// A webhook request as it came: method, path and query, headers and the (size-limited) body.
pub struct WebhookCall {
    method: Method,
    path_and_query: String,
    headers: HeaderMap,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for WebhookCall {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let method = request.method().clone();
        // Behind a nested router the URI is cut; Twilio signed the one it called.
        let uri = match request.extensions().get::<OriginalUri>() {
            Some(original) => original.0.clone(),
            None => request.uri().clone(),
        };
        let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(WebhookCall {
            method,
            path_and_query,
            headers,
            body,
        })
    }
}

/// `POST /webhooks/twilio`: messages by SMS, MMS and WhatsApp through Twilio.
pub async fn twilio_inbound(State(state): State<AppState>, call: WebhookCall) -> Response {
    receive(&state, "twilio", call).await
}

/// `POST /webhooks/twilio/status`: Twilio's status callbacks.
pub async fn twilio_status(State(state): State<AppState>, call: WebhookCall) -> Response {
    receive(&state, "twilio", call).await
}

/// `GET /webhooks/whatsapp`: Meta's subscription check.
pub async fn whatsapp_verify(State(state): State<AppState>, call: WebhookCall) -> Response {
    receive(&state, "whatsapp", call).await
}

/// `POST /webhooks/whatsapp`: messages and statuses from Meta.
pub async fn whatsapp_events(State(state): State<AppState>, call: WebhookCall) -> Response {
    receive(&state, "whatsapp", call).await
}

/// `POST /webhooks/gateway`: events from the Android SMS gateway phone.
pub async fn gateway_event(State(state): State<AppState>, call: WebhookCall) -> Response {
    receive(&state, "gateway", call).await
}

/// The one webhook handler: `provider` is the name in `/webhooks/<provider>`.
pub async fn receive(state: &AppState, provider: &str, call: WebhookCall) -> Response {
    let Some(webhook) = state.channels.webhook(provider) else {
        let title = channel::KINDS
            .iter()
            .find(|k| k.name == provider)
            .map_or(provider, |k| k.title);
        return (
            StatusCode::NOT_FOUND,
            format!("the {title} channel is not configured\n"),
        )
            .into_response();
    };
    let request = WebhookRequest {
        method: call.method.as_str(),
        path_and_query: &call.path_and_query,
        headers: &call.headers,
        body: &call.body,
        now_unix: chrono::Utc::now().timestamp(),
    };
    let parsed = webhook
        .verify(&request)
        .inspect_err(|e| {
            if matches!(e, WebhookError::Refused(_)) {
                tracing::warn!(provider, reason = %e, "webhook refused");
            }
        })
        .and_then(|()| webhook.parse(&request));
    let (events, skipped) = match parsed {
        Ok(Incoming::Events { events, skipped }) => (events, skipped),
        Ok(Incoming::Answer(answer)) => return acknowledgement(answer),
        Err(e) => return refusal(&e),
    };
    for reason in &skipped {
        tracing::warn!(provider, %reason, "webhook item skipped");
    }
    let mut inbound = Vec::new();
    let mut statuses = Vec::new();
    for (channel, event) in events {
        match event {
            InboundEvent::Message(m) => inbound.push(new_inbound(channel, m)),
            InboundEvent::Status(s) => statuses.push((channel, s)),
        }
    }
    if !inbound.is_empty() || !statuses.is_empty() {
        if let Err(unavailable) = accept_batch(state, inbound, statuses).await {
            return unavailable;
        }
    }
    acknowledgement(webhook.acknowledge())
}

fn acknowledgement(ack: Ack) -> Response {
    ([(header::CONTENT_TYPE, ack.content_type)], ack.body).into_response()
}

/// A refused webhook: status and a one-line reason for the provider's logs.
fn refusal(e: &WebhookError) -> Response {
    let status = match e {
        WebhookError::Refused(_) => StatusCode::FORBIDDEN,
        WebhookError::Malformed(_) => StatusCode::BAD_REQUEST,
    };
    (status, format!("{e}\n")).into_response()
}

/// Stores an inbound message durably, then hands it to the processor (the simulator's page).
pub async fn accept_inbound(state: &AppState, inbound: NewInbound) -> Result<(), Response> {
    accept_batch(state, vec![inbound], Vec::new()).await
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
    for (channel, report) in statuses {
        match state
            .store
            .update_status_by_external(channel, &report.external_id, report.status, report.error)
            .await
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
        // Every address the message names counts: a real number beside a simulated user id
        // would otherwise link the simulator's person to a real one.
        let simulated =
            m.from.is_simulated() || m.profile.addresses().iter().any(ContactId::is_simulated);
        let keep = m.channel == Channel::Simulator || !simulated;
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
        profile: m.profile,
        text: m.text,
        external_id: m.external_id,
        media,
        unsupported,
    }
}
