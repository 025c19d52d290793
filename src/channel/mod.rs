//! Providers. Each module knows its provider's wire format and nothing else: it verifies and
//! parses inbound requests into [`NewInbound`](crate::store::NewInbound), and sends outbox items,
//! mapping the provider's answer to a [`SendOutcome`].

pub mod simulator;
pub mod twilio;

use std::time::Duration;

use crate::domain::{Channel, MessageStatus, OutboxItem};

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
}

/// The configured providers.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    pub twilio: Option<twilio::TwilioSender>,
    pub simulator: Option<simulator::Simulator>,
}

impl Channels {
    pub async fn send(&self, item: &OutboxItem) -> SendOutcome {
        match item.channel {
            Channel::TwilioSms | Channel::TwilioWhatsapp => match &self.twilio {
                Some(t) => t.send(item).await,
                None => not_configured(item.channel),
            },
            Channel::Simulator => match &self.simulator {
                Some(s) => s.deliver(item),
                None => not_configured(item.channel),
            },
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
        }
    }

    /// Channels with the same group share one rate limit.
    pub fn limit_group(channel: Channel) -> &'static str {
        match channel {
            Channel::TwilioSms | Channel::TwilioWhatsapp => "twilio",
            Channel::Simulator => "simulator",
        }
    }
}

fn not_configured(channel: Channel) -> SendOutcome {
    SendOutcome::Failed {
        reason: format!("channel {} is not configured", channel.name()),
    }
}
