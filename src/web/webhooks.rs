//! Provider webhooks. A message is acknowledged only after it is durably stored.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::channel::twilio::{self, WebhookError};
use crate::domain::Channel;
use crate::store::{InboundOutcome, NewInbound, StatusUpdate};

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
    let channel = inbound.channel.name();
    let outcome = state.store.record_inbound(&inbound).map_err(|e| {
        tracing::error!(error = %e, channel, "cannot store inbound message");
        // The provider retries on 5xx: the message is not lost.
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot store the message now; retry\n",
        )
            .into_response()
    })?;
    state.store.durable().await.map_err(|e| {
        tracing::error!(error = %e, "cannot make inbound message durable");
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down; retry\n").into_response()
    })?;
    match outcome {
        InboundOutcome::Stored { message_id } => {
            state.metrics.inbound(channel, "stored");
            tracing::info!(message_id, channel, "inbound message stored");
            state.processor.schedule(inbound.from);
        }
        InboundOutcome::Duplicate { message_id } => {
            state.metrics.inbound(channel, "duplicate");
            tracing::info!(message_id, channel, "duplicate delivery ignored");
        }
    }
    Ok(twiml_ok())
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
    match state
        .store
        .update_status_by_external(Channel::TwilioSms, &sid, status, error)
    {
        Ok(StatusUpdate::Updated(m)) => {
            tracing::debug!(message_id = m.id, status = status.name(), "status updated")
        }
        Ok(StatusUpdate::Stale) => {}
        // Twilio must not retry a callback for a message we don't know.
        Ok(StatusUpdate::Unknown) => tracing::debug!("status for an unknown message"),
        Err(e) => {
            tracing::error!(error = %e, "cannot record status");
            return (StatusCode::SERVICE_UNAVAILABLE, "retry\n").into_response();
        }
    }
    twiml_ok()
}
