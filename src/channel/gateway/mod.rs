//! android-sms-gateway (capcom6): an Android phone with a SIM card that sends and receives SMS
//! for us. Webhook signature and parsing, and sending through the phone's local server
//! (DESIGN §3).
//!
//! Webhooks arrive as `{id, webhookId, event, deviceId, payload}`, signed with `X-Timestamp`
//! (unix seconds) and `X-Signature` = hex HMAC-SHA256(signing_key, raw body ++ timestamp). The
//! phone retries with backoff for about two days until it gets a 2xx, and may deliver the same
//! event twice: the web layer dedupes on the envelope id and on `messageId`.

mod incoming;
mod outgoing;

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

pub use incoming::{Event, EventKind, MAX_SKEW_SECS, WebhookError, parse_event, verify};
pub use outgoing::classify;

use super::{
    Ack, Delivery, InboundEvent, Incoming, Provider, ProviderKind, Reachability, SendOutcome,
    Webhook, WebhookRequest, gateway_message_id,
};
use crate::config::GatewayConfig;
use crate::domain::{Channel, OutboxItem};

pub const KIND: ProviderKind = ProviderKind {
    name: "gateway",
    title: "gateway",
    channels: &[Channel::Gateway],
};

/// Sends SMS through the phone's local server.
#[derive(Clone)]
pub struct GatewaySender {
    config: GatewayConfig,
    http: reqwest::Client,
    /// Whether the phone answered lately: a send or a webhook says so.
    health: Arc<Reachability>,
}

/// Never prints the password or the signing key.
impl fmt::Debug for GatewaySender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewaySender")
            .field("url", &without_password(&self.config.url))
            .field("username", &self.config.username)
            .field("password", &"<redacted>")
            .field("signing_key", &"<redacted>")
            .field("tps", &self.config.tps)
            .finish()
    }
}

impl GatewaySender {
    pub fn new(config: GatewayConfig, http: reqwest::Client) -> Self {
        GatewaySender {
            config,
            http,
            health: Arc::default(),
        }
    }

    /// Reports the phone's reachability to `health` (shown on /healthz and the admin page).
    pub fn with_health(mut self, health: Arc<Reachability>) -> Self {
        self.health = health;
        self
    }

    pub fn tps(&self) -> u32 {
        self.config.tps
    }

    pub fn signing_key(&self) -> &str {
        &self.config.signing_key
    }
}

/// The URL with any password in it hidden.
fn without_password(url: &url::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("redacted"));
    }
    url.to_string()
}

impl Webhook for GatewaySender {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), super::WebhookError> {
        verify(
            &self.config.signing_key,
            request.body,
            request.header("x-timestamp"),
            request.header("x-signature"),
            request.now_unix,
        )
        // Every refusal is 403: a stale timestamp is a replay or a phone with a wrong clock.
        .map_err(|e| super::WebhookError::Refused(e.to_string()))
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Incoming, super::WebhookError> {
        let event =
            parse_event(request.body).map_err(|e| super::WebhookError::Malformed(e.to_string()))?;
        // A webhook from the phone proves it is up.
        self.health.record(true, None);
        let event = match event.kind {
            EventKind::Received(m) => InboundEvent::Message(m),
            EventKind::Status(s) => InboundEvent::Status(s),
            EventKind::Other(kind) => {
                tracing::info!(%kind, "gateway event acknowledged, nothing to do");
                return Ok(Incoming::nothing());
            }
        };
        Ok(Incoming::Events {
            events: vec![(Channel::Gateway, event)],
            skipped: Vec::new(),
        })
    }

    fn acknowledge(&self) -> Ack {
        Ack::ok()
    }
}

impl Provider for GatewaySender {
    fn kind(&self) -> &'static ProviderKind {
        &KIND
    }

    fn webhook(&self) -> Option<&dyn Webhook> {
        Some(self)
    }

    fn send<'a>(
        &'a self,
        item: &'a OutboxItem,
        _delivery: &'a Delivery,
    ) -> BoxFuture<'a, SendOutcome> {
        Box::pin(async move {
            // The phone sends SMS to numbers only (`Channels::send` checked there is one).
            let Some(to) = item.sms_number() else {
                return SendOutcome::Failed {
                    reason: "the gateway phone needs a phone number".to_string(),
                };
            };
            let outcome =
                GatewaySender::send(self, &gateway_message_id(item.message_id), to, &item.text)
                    .await;
            match &outcome {
                SendOutcome::Retry { reason, .. } => {
                    self.health.record(false, Some(reason.clone()))
                }
                _ => self.health.record(true, None),
            }
            outcome
        })
    }

    fn tps(&self) -> u32 {
        self.config.tps
    }
}

#[cfg(test)]
mod tests;
