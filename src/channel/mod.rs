//! Providers. Each module knows its provider's wire format and nothing else: it verifies and
//! parses inbound requests into [`NewInbound`](crate::domain::inbound::NewInbound), and sends outbox items,
//! mapping the provider's answer to a [`SendOutcome`].

pub mod gateway;
pub mod simulator;
pub mod twilio;
pub mod whatsapp;

use std::time::Duration;

pub use crate::domain::inbound::{InboundEvent, InboundKind, InboundMessage, StatusReport};
use crate::domain::{Channel, MessageStatus, OutboxItem};
pub use crate::domain::{MediaKind, MediaRef};

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

/// Shared by the providers that download media.
pub(crate) enum Limited {
    /// The body was longer than allowed; at least this many bytes.
    Over(u64),
    Network(String),
}

/// Reads a response body, stopping as soon as it is longer than `max` bytes.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    max: u64,
) -> Result<Vec<u8>, Limited> {
    let mut buffer = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let size = buffer.len() as u64 + chunk.len() as u64;
                if size > max {
                    return Err(Limited::Over(size));
                }
                buffer.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buffer),
            Err(e) => return Err(Limited::Network(error_kind(&e))),
        }
    }
}

/// reqwest errors include the URL (phone number id, signed media URL); keep logs free of it.
pub(crate) fn error_kind(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused or unreachable"
    } else if e.is_body() || e.is_decode() {
        "connection broken while reading the answer"
    } else {
        "request failed"
    };
    kind.to_string()
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
#[derive(Debug, Default)]
pub struct Reachability {
    state: std::sync::Mutex<Option<(bool, crate::domain::Millis, Option<String>)>>,
}

impl Reachability {
    pub fn record(&self, ok: bool, error: Option<String>) {
        if let Ok(mut s) = self.state.lock() {
            let since = match *s {
                Some((was, since, _)) if was == ok => since,
                _ => crate::domain::now_ms(),
            };
            *s = Some((ok, since, error));
        }
    }

    /// `None` before the first attempt; else (reachable, since when, last error).
    pub fn get(&self) -> Option<(bool, crate::domain::Millis, Option<String>)> {
        self.state.lock().ok().and_then(|s| s.clone())
    }
}

impl Channels {
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
        match item.channel {
            Channel::TwilioSms | Channel::TwilioWhatsapp => match &self.twilio {
                Some(t) => t.send(item).await,
                None => not_configured(item.channel),
            },
            Channel::Simulator => match &self.simulator {
                Some(s) => s.deliver(item),
                None => not_configured(item.channel),
            },
            Channel::Whatsapp => match &self.whatsapp {
                Some(w) => {
                    let message = match delivery {
                        Delivery::Template(t) => whatsapp::Outbound::Template {
                            name: t.name.clone(),
                            language: t.language.clone(),
                            params: vec![item.text.clone()],
                        },
                        Delivery::FreeForm => item
                            .interactive
                            .as_ref()
                            .and_then(|i| {
                                whatsapp::Outbound::list(
                                    i.body.clone(),
                                    i.button.clone(),
                                    i.rows
                                        .iter()
                                        .map(|(id, title)| whatsapp::ListRow {
                                            id: id.clone(),
                                            title: title.clone(),
                                        })
                                        .collect(),
                                )
                            })
                            .unwrap_or_else(|| whatsapp::Outbound::Text {
                                body: item.text.clone(),
                            }),
                    };
                    w.send(&item.to, &message).await
                }
                None => not_configured(item.channel),
            },
            Channel::Gateway => match &self.gateway {
                Some(g) => {
                    let outcome = g
                        .send(&gateway_message_id(item.message_id), &item.to, &item.text)
                        .await;
                    match &outcome {
                        SendOutcome::Retry { reason, .. } => {
                            self.gateway_health.record(false, Some(reason.clone()))
                        }
                        _ => self.gateway_health.record(true, None),
                    }
                    outcome
                }
                None => not_configured(item.channel),
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
        match (channel, &self.whatsapp, lang) {
            (Channel::Whatsapp, Some(w), Some(lang)) => w.template_for(lang).cloned(),
            _ => None,
        }
    }

    /// Messages per second the provider behind `channel` accepts. Channels that share an
    /// account share the limit (see [`Channels::limit_group`]).
    pub fn tps(&self, channel: Channel) -> u32 {
        match channel {
            Channel::TwilioSms | Channel::TwilioWhatsapp => {
                self.twilio.as_ref().map(|t| t.tps()).unwrap_or(1)
            }
            Channel::Simulator => 1000,
            Channel::Whatsapp => self.whatsapp.as_ref().map(|w| w.tps()).unwrap_or(1),
            Channel::Gateway => self.gateway.as_ref().map(|g| g.tps()).unwrap_or(1),
        }
    }

    /// Channels with the same group share one rate limit.
    pub fn limit_group(channel: Channel) -> &'static str {
        match channel {
            Channel::TwilioSms | Channel::TwilioWhatsapp => "twilio",
            Channel::Simulator => "simulator",
            Channel::Whatsapp => "whatsapp",
            Channel::Gateway => "gateway",
        }
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

fn not_configured(channel: Channel) -> SendOutcome {
    SendOutcome::Failed {
        reason: format!("channel {} is not configured", channel.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phone::PhoneNumber;

    fn item(channel: Channel, to: &str) -> OutboxItem {
        OutboxItem {
            message_id: 7,
            channel,
            to: PhoneNumber::parse(to).unwrap(),
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
