//! Providers. Each folder knows one provider's wire format and nothing else: it verifies and
//! parses webhooks into [`InboundEvent`]s, says how to acknowledge them, sends outbox items
//! mapping the provider's answer to a [`SendOutcome`], and fetches the media people send.
//! [`Channels`] is the configured set; the web layer and the dispatcher reach a provider only
//! through the [`Provider`] and [`Webhook`] traits.
//!
//! Adding a provider: a folder here with a [`ProviderKind`] and the two traits, a line in
//! [`KINDS`] and in [`Channels::providers`] (plus its config section and route).

pub mod gateway;
pub mod http;
pub mod signature;
pub mod simulator;
pub mod twilio;
pub mod whatsapp;

use std::time::Duration;

use futures_util::future::BoxFuture;

pub use crate::domain::inbound::{InboundEvent, InboundKind, InboundMessage, StatusReport};
use crate::domain::{Channel, MessageStatus, OutboxItem};
pub use crate::domain::{MediaKind, MediaRef};

/// What is known of a provider before it is configured: its name (routes, rate-limit group),
/// how people read its name, and the channels it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderKind {
    /// `twilio`, `whatsapp`…: the `/webhooks/<name>` segment and the rate-limit group.
    pub name: &'static str,
    /// For messages: "the Twilio channel is not configured".
    pub title: &'static str,
    pub channels: &'static [Channel],
}

/// Every provider kabar knows, configured or not.
pub const KINDS: &[ProviderKind] = &[twilio::KIND, simulator::KIND, whatsapp::KIND, gateway::KIND];

/// The provider that carries `channel`.
pub fn kind_of(channel: Channel) -> Option<&'static ProviderKind> {
    KINDS.iter().find(|k| k.channels.contains(&channel))
}

/// A provider's webhook request, as the web layer received it.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// `GET` for handshakes (Meta's subscription check), else `POST`.
    pub method: &'a str,
    /// The path and query as called (`/webhooks/twilio/status?x=1`), what Twilio signs.
    pub path_and_query: &'a str,
    pub headers: &'a reqwest::header::HeaderMap,
    pub body: &'a [u8],
    /// Our clock, in unix seconds, for signed timestamps.
    pub now_unix: i64,
}

impl WebhookRequest<'_> {
    /// A header's value, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query, |(path, _)| path)
    }

    /// The query's parameters, percent-decoded.
    pub fn query(&self) -> Vec<(String, String)> {
        match self.path_and_query.split_once('?') {
            Some((_, query)) => form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            None => Vec::new(),
        }
    }
}

/// Why a webhook request was refused, with a one-line reason for the provider's logs.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    /// Not shown to come from the provider: signature missing or wrong, stale timestamp,
    /// failed handshake. Answered 403.
    #[error("{0}")]
    Refused(String),
    /// Not understood. Answered 400: the provider shows it to whoever set the webhook up.
    #[error("{0}")]
    Malformed(String),
}

/// The answer that tells a provider its webhook was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub content_type: &'static str,
    pub body: String,
}

impl Ack {
    /// `ok`, for providers that only look at the status code.
    pub fn ok() -> Ack {
        Ack {
            content_type: "text/plain; charset=utf-8",
            body: "ok\n".to_string(),
        }
    }
}

/// What a verified webhook asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// Messages and delivery reports, each with the channel it came on, in payload order:
    /// make them durable, then answer with [`Webhook::acknowledge`]. `skipped` says, for the
    /// logs and without phone numbers, what was left out.
    Events {
        events: Vec<(Channel, InboundEvent)>,
        skipped: Vec<String>,
    },
    /// A handshake: answer this at once, nothing to store.
    Answer(Ack),
}

impl Incoming {
    /// Nothing to store and nothing to say (an event we do not act on).
    pub fn nothing() -> Incoming {
        Incoming::Events {
            events: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

/// The inbound half of a provider: its webhook.
pub trait Webhook: Send + Sync {
    /// Checks that the request comes from the provider (in constant time).
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<(), WebhookError>;
    /// Reads a verified request. Never panics on any body.
    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Incoming, WebhookError>;
    /// The answer once the events are durable.
    fn acknowledge(&self) -> Ack;
}

/// Downloaded media: the bytes and their MIME type, or why not (no secrets, no numbers).
pub type MediaFetch = BoxFuture<'static, Result<(Vec<u8>, String), String>>;

/// A configured provider: sending, its limits and capabilities.
pub trait Provider: Send + Sync {
    fn kind(&self) -> &'static ProviderKind;
    /// Its webhook; `None` for the simulator, whose page posts straight to the intake.
    fn webhook(&self) -> Option<&dyn Webhook>;
    /// Sends one outbox item. Never panics; network trouble is a retry.
    fn send<'a>(
        &'a self,
        item: &'a OutboxItem,
        delivery: &'a Delivery,
    ) -> BoxFuture<'a, SendOutcome>;
    /// Messages per second the account accepts.
    fn tps(&self) -> u32;
    /// Whether menus on `channel` go out as tappable lists ([`crate::domain::Interactive`]).
    fn shows_lists(&self, _channel: Channel) -> bool {
        false
    }
    /// The approved template for `lang`, the only thing that may go out after the 24-hour
    /// window of a channel that has one.
    fn template_for(&self, _lang: crate::i18n::Lang) -> Option<crate::config::TemplateConfig> {
        None
    }
    /// Starts downloading a voice note, image or document a person sent; `None` when the
    /// provider has no media to fetch.
    fn fetch_media(&self, _media: &MediaRef) -> Option<MediaFetch> {
        None
    }
}

/// What a provider said about one send attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted; the provider's id identifies later status reports.
    Accepted {
        external_id: String,
        status: MessageStatus,
    },
    /// Try again later (rate limit, provider or network trouble).
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Will never succeed as it is (bad number, content refused…).
    Failed { reason: String },
    /// The recipient opted out at the carrier (STOP): mark the contact, do not retry.
    OptedOut { reason: String },
    /// WhatsApp refused free-form text outside the 24-hour window (Meta 131047, Twilio 63016):
    /// send a template or fall back to SMS instead.
    OutsideWindow { reason: String },
}

/// The configured providers.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    pub twilio: Option<twilio::TwilioSender>,
    pub simulator: Option<simulator::Simulator>,
    pub whatsapp: Option<whatsapp::WhatsappSender>,
    pub gateway: Option<gateway::GatewaySender>,
    /// Whether the Android gateway phone answered its last send.
    pub gateway_health: std::sync::Arc<Reachability>,
}

/// How a message goes out on a channel with a 24-hour window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    FreeForm,
    /// Outside the window: the locale's approved template carries the text.
    Template(crate::config::TemplateConfig),
}

/// Last known reachability of a provider that can be offline (the gateway phone).
///
/// Only the replica that sends learns it; the others hear it (see [`Reachability::heard`]),
/// so `/healthz` says the same on every replica behind a load balancer.
#[derive(Debug)]
pub struct Reachability {
    state: std::sync::Mutex<Option<Observed>>,
    /// Bumped each time this process records a send's outcome (not when it hears one).
    recorded: tokio::sync::watch::Sender<u64>,
}

/// What was last seen of a provider: reachable or not, since when, the last error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    pub reachable: bool,
    pub since: crate::domain::Millis,
    pub error: Option<String>,
    /// Seen by this process (false: heard from another replica).
    #[serde(skip, default)]
    pub here: bool,
}

impl Default for Reachability {
    fn default() -> Self {
        Reachability {
            state: std::sync::Mutex::new(None),
            recorded: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Reachability {
    pub fn record(&self, ok: bool, error: Option<String>) {
        if let Ok(mut s) = self.state.lock() {
            let since = match &*s {
                Some(o) if o.reachable == ok => o.since,
                _ => crate::domain::now_ms(),
            };
            *s = Some(Observed {
                reachable: ok,
                since,
                error,
                here: true,
            });
        }
        self.recorded.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// What another replica (the one that sends) observed.
    pub fn heard(&self, observed: Observed) {
        if let Ok(mut s) = self.state.lock() {
            *s = Some(Observed {
                here: false,
                ..observed
            });
        }
    }

    /// Wakes on every outcome this process records.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.recorded.subscribe()
    }

    /// `None` before the first attempt; else (reachable, since when, last error).
    pub fn get(&self) -> Option<(bool, crate::domain::Millis, Option<String>)> {
        self.observed().map(|o| (o.reachable, o.since, o.error))
    }

    pub fn observed(&self) -> Option<Observed> {
        self.state.lock().ok().and_then(|s| s.clone())
    }
}

impl Channels {
    /// Every configured provider. A new provider is one more line here.
    pub fn providers(&self) -> impl Iterator<Item = &dyn Provider> {
        [
            self.twilio.as_ref().map(|p| p as &dyn Provider),
            self.simulator.as_ref().map(|p| p as &dyn Provider),
            self.whatsapp.as_ref().map(|p| p as &dyn Provider),
            self.gateway.as_ref().map(|p| p as &dyn Provider),
        ]
        .into_iter()
        .flatten()
    }

    /// The configured provider that carries `channel`.
    pub fn provider(&self, channel: Channel) -> Option<&dyn Provider> {
        self.providers()
            .find(|p| p.kind().channels.contains(&channel))
    }

    /// The configured provider whose webhook is `/webhooks/<name>`.
    pub fn webhook(&self, name: &str) -> Option<&dyn Webhook> {
        self.providers()
            .find(|p| p.kind().name == name)
            .and_then(|p| p.webhook())
    }

    pub async fn send(&self, item: &OutboxItem, delivery: &Delivery) -> SendOutcome {
        // Simulator numbers and real numbers never cross: a real person's reply never lands
        // in the simulator, and nothing is sent to a provider for a made-up number.
        if item.to.is_simulated() != (item.channel == Channel::Simulator) {
            return SendOutcome::Failed {
                reason: format!(
                    "{} numbers go only through the simulator, and only they do",
                    crate::domain::phone::SIMULATOR_PREFIX
                ),
            };
        }
        // The dispatcher holds such messages first; this only makes sure a channel that needs a
        // number is never handed one it would have to guess.
        if !item.channel.reaches_user_ids() && item.sms_number().is_none() {
            return SendOutcome::Failed {
                reason: format!(
                    "{} needs a phone number and this person is known only by a WhatsApp user id",
                    item.channel.name()
                ),
            };
        }
        match self.provider(item.channel) {
            Some(provider) => provider.send(item, delivery).await,
            None => SendOutcome::Failed {
                reason: format!("channel {} is not configured", item.channel.name()),
            },
        }
    }

    /// The SMS channel to fall back to when WhatsApp can't be used: the gateway phone (local
    /// SIM, cheap) before Twilio.
    pub fn sms_route(&self) -> Option<Channel> {
        if self.gateway.is_some() {
            Some(Channel::Gateway)
        } else if self.twilio.is_some() {
            Some(Channel::TwilioSms)
        } else {
            None
        }
    }

    /// The approved template for `lang` on `channel`, if configured.
    pub fn template_for(
        &self,
        channel: Channel,
        lang: Option<crate::i18n::Lang>,
    ) -> Option<crate::config::TemplateConfig> {
        self.provider(channel)?.template_for(lang?)
    }

    /// Whether menus on `channel` go out as tappable lists.
    pub fn shows_lists(&self, channel: Channel) -> bool {
        self.provider(channel)
            .is_some_and(|p| p.shows_lists(channel))
    }

    /// Starts downloading media a person sent on `channel`; `None` when there is nothing to
    /// fetch (the provider has no media, or is not configured).
    pub fn fetch_media(&self, channel: Channel, media: &MediaRef) -> Option<MediaFetch> {
        self.provider(channel)?.fetch_media(media)
    }

    /// Messages per second the provider behind `channel` accepts. Channels that share an
    /// account share the limit (see [`Channels::limit_group`]).
    pub fn tps(&self, channel: Channel) -> u32 {
        self.provider(channel).map(|p| p.tps()).unwrap_or(1)
    }

    /// Channels with the same group share one rate limit: the provider's name.
    pub fn limit_group(channel: Channel) -> &'static str {
        kind_of(channel).map_or(channel.name(), |k| k.name)
    }
}

/// Replaces phone-like runs (6 or more digits, with an optional leading +) by "…", so that a
/// provider's error text can be logged and shown without the person's number.
pub fn hide_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().filter(|c| c.is_ascii_digit()).count() >= 6 {
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The id we give a message sent through the gateway phone; its status events carry it back.
pub fn gateway_message_id(message_id: u64) -> String {
    format!("kabar-{message_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phone::PhoneNumber;

    fn item(channel: Channel, to: &str) -> OutboxItem {
        OutboxItem {
            sms_phone: None,
            message_id: 7,
            channel,
            to: PhoneNumber::parse(to).unwrap().into(),
            text: "hello".into(),
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            interactive: None,
            language: None,
            held: None,
            lane: Default::default(),
            broadcast: None,
        }
    }

    #[tokio::test]
    async fn simulator_and_real_numbers_never_cross() {
        let channels = Channels {
            simulator: Some(simulator::Simulator::new()),
            ..Channels::default()
        };
        let mut watching = channels.simulator.as_ref().unwrap().subscribe();
        // A real person's reply routed to the simulator is refused, never shown there.
        let real = channels
            .send(
                &item(Channel::Simulator, "+6281234567890"),
                &Delivery::FreeForm,
            )
            .await;
        assert!(matches!(real, SendOutcome::Failed { .. }), "{real:?}");
        assert!(watching.try_recv().is_err(), "shown in the simulator");
        // A simulator number never goes to a provider.
        let made_up = channels
            .send(
                &item(Channel::TwilioSms, "+99900000001"),
                &Delivery::FreeForm,
            )
            .await;
        assert!(matches!(made_up, SendOutcome::Failed { .. }), "{made_up:?}");
        let simulated = channels
            .send(
                &item(Channel::Simulator, "+99900000001"),
                &Delivery::FreeForm,
            )
            .await;
        assert!(
            matches!(simulated, SendOutcome::Accepted { .. }),
            "{simulated:?}"
        );
        assert_eq!(watching.try_recv().unwrap().text, "hello");
    }

    #[test]
    fn numbers_are_hidden_but_error_codes_stay() {
        assert_eq!(
            super::hide_numbers("The 'To' number +6281234567890 is not valid (21211)"),
            "The 'To' number … is not valid (21211)"
        );
    }
}
