//! Turns stored inbound messages into answers: runs the engine for each message, one contact at
//! a time and in arrival order, and writes session, contact, replies (outbox) and ticket changes
//! in one transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::Contact;
use crate::flow::render::render_text;
use crate::flow::{Effect, Engine, Facts, Flows, Input};
use crate::i18n::{Lang, Localizer};
use crate::outbox::Dispatcher;
use crate::phone::PhoneNumber;
use crate::store::{PendingInbound, StepWrite, Store, StoreError, TicketChange};

pub struct Processor {
    store: Arc<Store>,
    flows: Arc<Flows>,
    localizer: Arc<Localizer>,
    dispatcher: Dispatcher,
    /// Contacts being drained; `true` when more arrived meanwhile.
    running: Mutex<HashMap<PhoneNumber, bool>>,
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor").finish_non_exhaustive()
    }
}

impl Processor {
    pub fn new(
        store: Arc<Store>,
        flows: Arc<Flows>,
        localizer: Arc<Localizer>,
        dispatcher: Dispatcher,
    ) -> Arc<Processor> {
        Arc::new(Processor {
            store,
            flows,
            localizer,
            dispatcher,
            running: Mutex::new(HashMap::new()),
        })
    }

    /// Processes whatever `phone` has waiting. At most one task per contact runs at a time, so
    /// a contact's messages are answered in the order they were stored.
    pub fn schedule(self: &Arc<Self>, phone: PhoneNumber) {
        {
            let Ok(mut running) = self.running.lock() else {
                return;
            };
            if let Some(again) = running.get_mut(&phone) {
                *again = true;
                return;
            }
            running.insert(phone.clone(), false);
        }
        let this = self.clone();
        tokio::spawn(async move { this.drain(phone).await });
    }

    /// Schedules every contact with unprocessed messages (after a restart).
    pub fn resume_pending(self: &Arc<Self>) -> Result<usize, StoreError> {
        let phones = self.store.contacts_with_pending()?;
        let n = phones.len();
        for phone in phones {
            self.schedule(phone);
        }
        Ok(n)
    }

    async fn drain(self: Arc<Self>, phone: PhoneNumber) {
        loop {
            loop {
                match self.store.next_pending(&phone) {
                    Ok(Some(pending)) => {
                        if let Err(e) = self.process(&pending).await {
                            // Left in the inbox: retried on the next message or restart.
                            tracing::error!(error = %e, contact = %phone.redacted(), "cannot process message");
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the inbox");
                        break;
                    }
                }
            }
            let Ok(mut running) = self.running.lock() else {
                return;
            };
            match running.get_mut(&phone) {
                Some(again) if *again => *again = false,
                _ => {
                    running.remove(&phone);
                    return;
                }
            }
        }
    }

    /// The data flows may show, read at answer time so staff updates apply at once.
    fn facts(&self) -> Result<Facts, StoreError> {
        let schedule = self.store.payments()?;
        Ok(Facts {
            cities: schedule.iter().map(|e| e.city.clone()).collect(),
            payment_dates: schedule
                .into_iter()
                .map(|e| (e.city, e.next_payment_date.format("%d/%m/%Y").to_string()))
                .collect(),
        })
    }

    async fn process(&self, pending: &PendingInbound) -> Result<(), StoreError> {
        let message = &pending.message;
        let mut contact = self
            .store
            .contact(&message.phone)?
            .unwrap_or_else(|| Contact::new(message.phone.clone(), message.created_at));
        let session = self.store.session(&message.phone)?;
        let facts = self.facts()?;
        let engine = Engine {
            flows: &self.flows,
            localizer: &self.localizer,
        };
        let (session, effects) = engine.step(
            &session,
            &Input {
                text: &message.text,
                lang: contact.language,
                consented: contact.consent_at.is_some(),
                city: contact.city.as_deref(),
                facts: &facts,
            },
        );
        let now = crate::domain::now_ms();
        let mut replies = Vec::new();
        let mut ticket = TicketChange::None;
        for effect in effects {
            match effect {
                Effect::Reply { lang, reply } => {
                    replies.push(render_text(&self.localizer, lang, &reply))
                }
                Effect::SetLanguage(lang) => contact.language = Some(lang),
                Effect::SetField { field, value } => contact.set_field(field, value, now),
                Effect::OptOut => contact.opted_out = true,
                Effect::OptIn => contact.opted_out = false,
                Effect::Escalate {
                    topic,
                    urgent,
                    handoff: _,
                    details,
                } => {
                    if urgent {
                        tracing::warn!(contact = %message.phone.redacted(), "protection concern: urgent ticket for a supervisor");
                    }
                    ticket = TicketChange::Open {
                        topic,
                        language: contact.language.unwrap_or(Lang::English),
                        urgent,
                        details,
                    }
                }
                Effect::AttachToTicket => {
                    if ticket == TicketChange::None {
                        ticket = TicketChange::Attach;
                    }
                }
            }
        }
        let write = StepWrite {
            session,
            contact,
            replies,
            channel: message.channel,
            ticket,
        };
        let queued = self.store.apply_step(pending, &write)?;
        self.store.durable().await?;
        if !queued.is_empty() {
            self.dispatcher.wake();
        }
        Ok(())
    }
}
