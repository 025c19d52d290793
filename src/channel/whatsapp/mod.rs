//! Meta's WhatsApp Cloud API (DESIGN §3), laid out like courier's `handlers/meta/whatsapp/`:
//! the webhook's typed body in `wire`, its subscription check and signature in `verify`,
//! reading it into events in `incoming`, the messages we send in `outgoing`, Graph errors in
//! `errors`, and the media people send in `media`.

mod errors;
mod incoming;
mod media;
mod outgoing;
mod verify;
pub mod wire;

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;

pub use errors::classify;
pub use incoming::{Parsed, parse_webhook, phone_from_wa_id};
pub use media::MediaError;
pub use outgoing::{ListRow, Outbound, request_body};
pub use verify::{sign, verify_signature, verify_subscription};

use super::{
    Ack, Delivery, Incoming, MediaFetch, MediaRef, Provider, ProviderKind, SendOutcome, Webhook,
    WebhookRequest,
};
use crate::config::{TemplateConfig, WhatsappConfig};
use crate::domain::ContactId;
use crate::domain::{Channel, OutboxItem};
use crate::i18n::Lang;

pub const KIND: ProviderKind = ProviderKind {
    name: "whatsapp",
    title: "WhatsApp",
    channels: &[Channel::Whatsapp],
};

/// The header Meta signs webhooks in.
const SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// Meta gives up on a webhook delivery after a while; sends should not wait longer than this.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// `hub.challenge` is a number; anything much longer is not Meta.
const MAX_CHALLENGE_LEN: usize = 512;
/// Longest provider text kept in a reason (error titles, details).
const MAX_REASON_CHARS: usize = 300;
/// Longest message id (`wamid.…`) we keep.
const MAX_MESSAGE_ID: usize = 256;

/// Why a webhook request was refused; the web layer maps these to status codes
/// (signature problems → 403, the rest → 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("missing X-Hub-Signature-256 header")]
    MissingSignature,
    #[error("X-Hub-Signature-256 does not match the body")]
    BadSignature,
    #[error("body is not valid UTF-8")]
    NotUtf8,
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("field {0} is invalid: {1}")]
    Invalid(&'static str, String),
    #[error("body is not valid JSON: {0}")]
    Malformed(String),
}

/// Sends through the Cloud API and fetches media. Its `Debug` hides the secrets.
#[derive(Clone)]
pub struct WhatsappSender {
    config: WhatsappConfig,
    http: reqwest::Client,
}

impl fmt::Debug for WhatsappSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsappSender")
            .field("phone_number_id", &self.config.phone_number_id)
            .field("api_base", &self.config.api_base.as_str())
            .field("tps", &self.config.tps)
            .field("access_token", &"…")
            .field("app_secret", &"…")
            .finish_non_exhaustive()
    }
}

impl WhatsappSender {
    pub fn new(config: WhatsappConfig, http: reqwest::Client) -> WhatsappSender {
        WhatsappSender { config, http }
    }

    pub fn tps(&self) -> u32 {
        self.config.tps
    }

    pub fn app_secret(&self) -> &str {
        &self.config.app_secret
    }

    pub fn verify_token(&self) -> &str {
        &self.config.verify_token
    }

    /// The configured template for a locale, if any: the entry keyed by the canonical tag, else
    /// one keyed by an alias of it (`prs` for `fa-AF`…).
    pub fn template_for(&self, lang: Lang) -> Option<&TemplateConfig> {
        let templates = &self.config.templates;
        templates.get(lang.tag()).or_else(|| {
            templates
                .iter()
                .find(|(tag, _)| Lang::parse(tag) == Some(lang))
                .map(|(_, template)| template)
        })
    }

    fn api_base(&self) -> &str {
        self.config.api_base.as_str().trim_end_matches('/')
    }

    /// Removes what must never reach a log line from provider text: our token and the number.
    fn scrub(&self, text: &str, to: &ContactId) -> String {
        let mut text = super::http::shorten(text, MAX_REASON_CHARS);
        if !self.config.access_token.is_empty() {
            text = text.replace(&self.config.access_token, "…");
        }
        let written = match to {
            ContactId::Phone(phone) => phone.as_str().trim_start_matches('+').to_string(),
            ContactId::Whatsapp(key) => key.user_id().to_string(),
        };
        let digits = written.as_str();
        if !digits.is_empty() {
            text = text.replace(digits, &to.redacted());
        }
        text
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

/// The subscription check's answer, if the `hub.*` query is right.
fn challenge(sender: &WhatsappSender, request: &WebhookRequest<'_>) -> Option<String> {
    let query = request.query();
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    verify_subscription(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
        &sender.config.verify_token,
    )
}

impl Webhook for WhatsappSender {
    /// `GET`: Meta's subscription check. `POST`: `X-Hub-Signature-256` over the raw body.
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), super::WebhookError> {
        if request.method == "GET" {
            return match challenge(self, request) {
                Some(_) => Ok(()),
                None => Err(super::WebhookError::Refused(
                    "verification failed".to_string(),
                )),
            };
        }
        verify_signature(
            &self.config.app_secret,
            request.body,
            request.header(SIGNATURE_HEADER),
        )?;
        Ok(())
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Incoming, super::WebhookError> {
        if request.method == "GET" {
            return match challenge(self, request) {
                Some(challenge) => Ok(Incoming::Answer(Ack {
                    content_type: "text/plain",
                    body: challenge,
                })),
                None => Err(super::WebhookError::Refused(
                    "verification failed".to_string(),
                )),
            };
        }
        let parsed = parse_webhook(request.body)?;
        Ok(Incoming::Events {
            events: parsed
                .events
                .into_iter()
                .map(|event| (Channel::Whatsapp, event))
                .collect(),
            skipped: parsed.skipped,
        })
    }

    fn acknowledge(&self) -> Ack {
        Ack::ok()
    }
}

impl Provider for WhatsappSender {
    fn kind(&self) -> &'static ProviderKind {
        &KIND
    }

    fn webhook(&self) -> Option<&dyn Webhook> {
        Some(self)
    }

    fn send<'a>(
        &'a self,
        item: &'a OutboxItem,
        delivery: &'a Delivery,
    ) -> BoxFuture<'a, SendOutcome> {
        let message = match delivery {
            Delivery::Template(t) => Outbound::Template {
                name: t.name.clone(),
                language: t.language.clone(),
                params: vec![item.text.clone()],
            },
            // A menu goes as a list when it fits WhatsApp's limits, else as the text.
            Delivery::FreeForm => item
                .interactive
                .as_ref()
                .and_then(|i| {
                    Outbound::list(
                        i.body.clone(),
                        i.button.clone(),
                        i.rows
                            .iter()
                            .map(|(id, title)| ListRow {
                                id: id.clone(),
                                title: title.clone(),
                            })
                            .collect(),
                    )
                })
                .unwrap_or_else(|| Outbound::Text {
                    body: item.text.clone(),
                }),
        };
        Box::pin(async move { WhatsappSender::send(self, &item.to, &message).await })
    }

    fn tps(&self) -> u32 {
        self.config.tps
    }

    /// Menus go out as lists on the Cloud API (Twilio's WhatsApp sends them as text).
    fn shows_lists(&self, _channel: Channel) -> bool {
        true
    }

    fn template_for(&self, lang: Lang) -> Option<TemplateConfig> {
        WhatsappSender::template_for(self, lang).cloned()
    }

    fn fetch_media(&self, media: &MediaRef) -> Option<MediaFetch> {
        let sender = self.clone();
        let id = media.id.clone();
        Some(Box::pin(async move {
            sender.fetch_media(&id).await.map_err(|e| e.to_string())
        }))
    }
}

#[cfg(test)]
mod tests;
