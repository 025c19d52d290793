//! The web phone simulator: a channel with no provider. Outbound messages are "delivered" by
//! publishing them to the browsers watching that phone number.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use futures_util::future::BoxFuture;

use super::{Delivery, Provider, ProviderKind, SendOutcome, Webhook};
use crate::domain::ContactId;
use crate::domain::{Channel, MessageStatus, OutboxItem};

pub const KIND: ProviderKind = ProviderKind {
    name: "simulator",
    title: "simulator",
    channels: &[Channel::Simulator],
};

/// A reply shown on a simulated phone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimulatedReply {
    pub phone: ContactId,
    pub message_id: u64,
    pub text: String,
    /// Delivered by another replica and passed on here (so it is not passed on again).
    #[serde(skip)]
    pub relayed: bool,
}

#[derive(Debug, Clone)]
pub struct Simulator {
    replies: broadcast::Sender<SimulatedReply>,
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator::new()
    }
}

impl Simulator {
    pub fn new() -> Simulator {
        let (replies, _) = broadcast::channel(1024);
        Simulator { replies }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SimulatedReply> {
        self.replies.subscribe()
    }

    /// A reply another replica delivered: pages watching here show it too.
    pub fn show_relayed(&self, mut reply: SimulatedReply) {
        reply.relayed = true;
        let _ = self.replies.send(reply);
    }

    pub fn deliver(&self, item: &OutboxItem) -> SendOutcome {
        // Nobody watching is fine: the reply is in the history the page loads.
        let _ = self.replies.send(SimulatedReply {
            phone: item.to.clone(),
            message_id: item.message_id,
            text: item.text.clone(),
            relayed: false,
        });
        SendOutcome::Accepted {
            external_id: format!("sim-{}", item.message_id),
            status: MessageStatus::Delivered,
        }
    }
}

impl Provider for Simulator {
    fn kind(&self) -> &'static ProviderKind {
        &KIND
    }

    /// The simulator page posts to the intake itself (web/simulator.rs), behind a login.
    fn webhook(&self) -> Option<&dyn Webhook> {
        None
    }

    fn send<'a>(
        &'a self,
        item: &'a OutboxItem,
        _delivery: &'a Delivery,
    ) -> BoxFuture<'a, SendOutcome> {
        Box::pin(std::future::ready(self.deliver(item)))
    }

    /// A browser keeps up with anything.
    fn tps(&self) -> u32 {
        1000
    }
}
