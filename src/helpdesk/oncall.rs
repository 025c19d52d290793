//! An urgent ticket must reach a person at once, also at night: the `[helpdesk] on_call`
//! phones get a short alert (ticket number, language, "urgent"; never the person's number or
//! words) as soon as it opens, and again every `on_call_repeat_minutes` until someone claims it.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::channel::Channels;
use crate::dispatch::Dispatcher;
use crate::domain::ContactId;
use crate::domain::clock::SharedClock;
use crate::domain::phone::PhoneNumber;
use crate::domain::{Author, Channel, Millis, Ticket, TicketStatus};
use crate::store::Store;

/// How often open tickets are looked at when nothing happens (a ticket event looks at once).
const TICK: Duration = Duration::from_secs(20);

/// The alert text: staff-facing, with nothing that identifies the person.
pub fn alert_text(ticket: &Ticket, repeat: u32) -> String {
    let again = if repeat > 0 { " (reminder)" } else { "" };
    format!(
        "kabar: URGENT ticket {} ({}) is waiting for a supervisor{again}. Please open the queue and claim it.",
        ticket.id,
        ticket.language.english_name()
    )
}

/// Tickets that need an on-call alert: open, urgent, claimed by nobody.
fn needs_alert(ticket: &Ticket) -> bool {
    ticket.status == TicketStatus::Open && ticket.urgent && ticket.claimed_by.is_none()
}

pub struct OnCall {
    pub store: Store,
    pub dispatcher: Dispatcher,
    pub channels: Channels,
    pub numbers: Vec<PhoneNumber>,
    pub repeat: Duration,
    pub clock: SharedClock,
}

/// When each ticket was last alerted, and how many times.
#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Millis,
    times: u32,
}

impl OnCall {
    /// The channel alerts go by: SMS if any SMS provider is configured, else WhatsApp, else the
    /// simulator (a laptop trying kabar out).
    fn channel(&self) -> Option<Channel> {
        self.channels
            .sms_route()
            .or(self.channels.whatsapp.as_ref().map(|_| Channel::Whatsapp))
            .or(self.channels.simulator.as_ref().map(|_| Channel::Simulator))
    }

    /// Runs until shutdown. Looks at open tickets on every ticket event and every [`TICK`].
    pub async fn run(
        self,
        mut events: broadcast::Receiver<crate::helpdesk::TicketEvent>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        if self.numbers.is_empty() {
            return;
        }
        let Some(channel) = self.channel() else {
            tracing::warn!("[helpdesk] on_call is set but no channel can send the alerts");
            return;
        };
        let mut sent: HashMap<u64, Sent> = HashMap::new();
        let mut look = true;
        loop {
            if *shutdown.borrow() {
                return;
            }
            if look {
                if let Err(e) = self.alert_due(channel, &mut sent).await {
                    tracing::error!(error = %e, "on-call alerts: cannot read or queue");
                }
            }
            look = tokio::select! {
                _ = shutdown.changed() => false,
                got = events.recv() => match got {
                    // Every message of every ticket is an event: read all tickets only when
                    // this one needs an alert or an alert is running (a claim ends it).
                    // Another replica alerts for its own events.
                    Ok(event) if event.relayed => false,
                    Ok(event) => !sent.is_empty() || self.needs_alert_now(event.ticket).await,
                    Err(_) => true,
                },
                _ = tokio::time::sleep(TICK) => true,
            };
        }
    }

    async fn needs_alert_now(&self, ticket: u64) -> bool {
        match self.store.ticket(ticket).await {
            Ok(Some(t)) => needs_alert(&t),
            Ok(None) => false,
            Err(_) => true,
        }
    }

    async fn alert_due(
        &self,
        channel: Channel,
        sent: &mut HashMap<u64, Sent>,
    ) -> Result<(), crate::store::StoreError> {
        let now = self.clock.now();
        let waiting: Vec<Ticket> = self
            .store
            .tickets()
            .await?
            .into_iter()
            .filter(needs_alert)
            .collect();
        sent.retain(|id, _| waiting.iter().any(|t| t.id == *id));
        let repeat_ms = self.repeat.as_millis() as Millis;
        let mut queued = false;
        for ticket in &waiting {
            let times = match sent.get(&ticket.id) {
                None => 0,
                Some(s) if now.saturating_sub(s.at) >= repeat_ms => s.times,
                Some(_) => continue,
            };
            let text = alert_text(ticket, times);
            for phone in &self.numbers {
                let staff = ContactId::Phone(phone.clone());
                self.store
                    .queue_message(&staff, channel, Author::Bot, &text, None)
                    .await?;
            }
            tracing::warn!(
                ticket = ticket.id,
                phones = self.numbers.len(),
                "urgent ticket unclaimed: on-call alert queued"
            );
            sent.insert(
                ticket.id,
                Sent {
                    at: now,
                    times: times + 1,
                },
            );
            queued = true;
        }
        if queued {
            self.dispatcher.wake();
        }
        Ok(())
    }
}
