//! Twilio, for SMS and for WhatsApp (`whatsapp:+…` addresses): webhook signature and parsing,
//! status callbacks, sending through the Messages API and fetching media (DESIGN §3).

mod incoming;
mod media;
mod outgoing;
mod verify;

use futures_util::future::BoxFuture;

pub use incoming::{
    Params, WebhookError, map_status, parse_address, parse_form, parse_inbound, parse_status,
};
pub use media::MediaError;
pub use outgoing::classify;
pub use verify::{compute_signature, url_variants, verify};

use super::{
    Ack, Delivery, InboundEvent, InboundKind, InboundMessage, Incoming, MediaFetch, MediaRef,
    Provider, ProviderKind, SendOutcome, StatusReport, Webhook, WebhookRequest,
};
use crate::config::TwilioConfig;
use crate::domain::{Channel, OutboxItem};

pub const KIND: ProviderKind = ProviderKind {
    name: "twilio",
    title: "Twilio",
    channels: &[Channel::TwilioSms, Channel::TwilioWhatsapp],
};

/// The header Twilio signs its webhooks in.
const SIGNATURE_HEADER: &str = "x-twilio-signature";
/// TwiML for "nothing to say": Twilio sends no reply of its own.
const TWIML_EMPTY: &str = "<Response/>";

/// Sends outbox items through the Messages API.
#[derive(Debug, Clone)]
pub struct TwilioSender {
    config: TwilioConfig,
    /// Our public URL without its trailing slash: Twilio signs this plus the path it called.
    public_base: String,
    status_callback: String,
    http: reqwest::Client,
}

impl TwilioSender {
    pub fn new(config: TwilioConfig, public_url: &url::Url, http: reqwest::Client) -> TwilioSender {
        let public_base = public_url.as_str().trim_end_matches('/').to_string();
        let status_callback = format!("{public_base}/webhooks/twilio/status");
        TwilioSender {
            config,
            public_base,
            status_callback,
            http,
        }
    }

    pub fn auth_token(&self) -> &str {
        &self.config.auth_token
    }

    pub fn tps(&self) -> u32 {
        self.config.tps
    }

    /// The URL Twilio signed: the configured public URL plus the path and query it called.
    fn signed_url(&self, request: &WebhookRequest<'_>) -> String {
        let path = match request.path_and_query {
            "" => "/",
            path => path,
        };
        format!("{}{path}", self.public_base)
    }
}

impl From<WebhookError> for super::WebhookError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::MissingSignature | WebhookError::BadSignature => {
                super::WebhookError::Refused(e.to_string())
            }
            _ => super::WebhookError::Malformed(e.to_string()),
        }
    }
}

impl Webhook for TwilioSender {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), super::WebhookError> {
        // A body that is not form data is refused as malformed before the signature: there
        // are no parameters to check it over.
        let params = parse_form(request.body)?;
        let signature = request
            .header(SIGNATURE_HEADER)
            .ok_or(WebhookError::MissingSignature)?;
        if !verify(
            &self.config.auth_token,
            &self.signed_url(request),
            &params,
            signature,
        ) {
            return Err(WebhookError::BadSignature.into());
        }
        Ok(())
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Incoming, super::WebhookError> {
        let params = parse_form(request.body)?;
        if request.path().ends_with("/status") {
            let (sid, status, error) = parse_status(&params)?;
            // Statuses of inbound messages (`received`): nothing to record.
            let Some(status) = status else {
                return Ok(Incoming::nothing());
            };
            // SMS and WhatsApp through Twilio share one id space: the status is looked up
            // under the SMS channel for both.
            let report = StatusReport {
                external_id: sid,
                status,
                error,
            };
            return Ok(Incoming::Events {
                events: vec![(Channel::TwilioSms, InboundEvent::Status(report))],
                skipped: Vec::new(),
            });
        }
        let inbound = parse_inbound(&params)?;
        let kind = match inbound.media {
            Some(media) => InboundKind::Media(media),
            None => InboundKind::Text,
        };
        let message = InboundMessage {
            from: inbound.from,
            profile: inbound.profile,
            external_id: inbound.external_id,
            text: inbound.text,
            kind,
        };
        Ok(Incoming::Events {
            events: vec![(inbound.channel, InboundEvent::Message(message))],
            skipped: Vec::new(),
        })
    }

    fn acknowledge(&self) -> Ack {
        Ack {
            content_type: "text/xml",
            body: TWIML_EMPTY.to_string(),
        }
    }
}

impl Provider for TwilioSender {
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
        Box::pin(TwilioSender::send(self, item))
    }

    fn tps(&self) -> u32 {
        self.config.tps
    }

    fn fetch_media(&self, media: &MediaRef) -> Option<MediaFetch> {
        let sender = self.clone();
        let url = media.id.clone();
        Some(Box::pin(async move {
            sender.fetch_media(&url).await.map_err(|e| e.to_string())
        }))
    }
}

#[cfg(test)]
mod tests;
