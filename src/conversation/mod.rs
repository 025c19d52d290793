//! Turns stored inbound messages into answers: runs the engine for each message, one contact at
//! a time and in arrival order, and writes session, contact, replies (outbox) and ticket changes
//! in one transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::channel::Channels;
use crate::dispatch::Dispatcher;
use crate::domain::ContactId;
use crate::domain::clock::SharedClock;
use crate::domain::{Channel, Contact, Interactive, MessageRecord};
use crate::flow::render::render_text;
use crate::flow::{Attachment, Effect, Engine, Facts, Flows, Input, Reply};
use crate::i18n::{Lang, Localizer};
use crate::store::{
    IntakeSink, Outgoing, PendingInbound, StepWrite, Store, StoreError, TicketChange,
};

pub struct Processor {
    store: Store,
    flows: Arc<Flows>,
    localizer: Arc<Localizer>,
    dispatcher: Dispatcher,
    channels: Channels,
    hours: Option<crate::helpdesk::hours::BusinessHours>,
    events: crate::helpdesk::Events,
    /// The reopen window and business hours are judged by it.
    clock: SharedClock,
    /// Messages answered at the same time (at most).
    workers: tokio::sync::Semaphore,
    /// Contacts being drained; `true` when more arrived meanwhile.
    running: Mutex<HashMap<ContactId, bool>>,
    /// Signalled whenever a contact's drain ends (the intake may be waiting for room).
    drained: tokio::sync::Notify,
    /// The background runtime answering runs on.
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor").finish_non_exhaustive()
    }
}

/// Messages answered concurrently, so that many contacts' steps share one flush. (Webhooks
/// keep their CPU through priorities: answering runs on the background runtime.)
const WORKERS: usize = 32;
/// Contacts being answered before the intake task waits (it may overshoot by one read of the
/// journal); what is still to be answered stays in the journal on disk rather than as queued
/// tasks in memory.
const MAX_ACTIVE_CONTACTS: usize = 1024;

/// What the processor is wired to.
pub struct Parts {
    pub store: Store,
    pub flows: Arc<Flows>,
    pub localizer: Arc<Localizer>,
    pub dispatcher: Dispatcher,
    pub channels: Channels,
    pub hours: Option<crate::helpdesk::hours::BusinessHours>,
    pub events: crate::helpdesk::Events,
    /// The reopen window and business hours are judged by it.
    pub clock: SharedClock,
    /// Where answering runs (the background runtime).
    pub runtime: tokio::runtime::Handle,
}

impl Processor {
    pub fn new(parts: Parts) -> Arc<Processor> {
        let Parts {
            store,
            flows,
            localizer,
            dispatcher,
            channels,
            hours,
            events,
            clock,
            runtime,
        } = parts;
        Arc::new(Processor {
            store,
            flows,
            localizer,
            dispatcher,
            channels,
            hours,
            events,
            clock,
            workers: tokio::sync::Semaphore::new(WORKERS),
            running: Mutex::new(HashMap::new()),
            drained: tokio::sync::Notify::new(),
            runtime,
        })
    }

    /// Processes whatever `phone` has waiting. At most one task per contact runs at a time, so
    /// a contact's messages are answered in the order they were stored.
    pub fn schedule(self: &Arc<Self>, phone: ContactId) {
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
        self.runtime.spawn(async move { this.drain(phone).await });
    }

    /// Waits while too many contacts are being answered (bounded memory under a burst).
    async fn wait_for_room(&self) {
        loop {
            let notified = self.drained.notified();
            tokio::pin!(notified);
            // Registered before the check, so a drain ending in between is not missed.
            notified.as_mut().enable();
            let active = self.running.lock().map(|r| r.len()).unwrap_or(0);
            if active < MAX_ACTIVE_CONTACTS {
                return;
            }
            notified.await;
        }
    }

    /// Schedules every contact with unprocessed messages (after a restart).
    pub async fn resume_pending(self: &Arc<Self>) -> Result<usize, StoreError> {
        let phones = self.store.contacts_with_pending().await?;
        let n = phones.len();
        for phone in phones {
            self.schedule(phone);
        }
        Ok(n)
    }

    async fn drain(self: Arc<Self>, phone: ContactId) {
        loop {
            loop {
                match self.store.next_pending(&phone).await {
                    Ok(Some(pending)) => {
                        // Answering is background work: under a burst, acknowledging webhooks
                        // (which makes messages safe) comes first; the inbox holds the rest.
                        let Ok(_permit) = self.workers.acquire().await else {
                            return;
                        };
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
                    drop(running);
                    self.drained.notify_waiters();
                    return;
                }
            }
        }
    }

    /// Sends what was just queued (interpreter replies) without waiting for the next scan.
    pub fn wake_dispatcher(&self) {
        self.dispatcher.wake();
    }

    /// The conversation state after a person closes a ticket: the bot, quiet at the main menu.
    pub fn idle_session(&self) -> crate::flow::Session {
        crate::flow::Session {
            state: crate::flow::State::At {
                at: self.flows.main_menu(),
            },
            ..Default::default()
        }
    }

    /// The data flows may show, read at answer time so staff updates apply at once.
    async fn facts(&self) -> Result<Facts, StoreError> {
        let schedule = self.store.payments().await?;
        let mut directory_cities: Vec<String> = Vec::new();
        let mut directory: std::collections::BTreeMap<String, Vec<_>> = Default::default();
        for entry in self.store.directory().await? {
            let key = entry.city.trim().to_lowercase();
            if !directory.contains_key(&key) {
                directory_cities.push(entry.city.clone());
            }
            directory
                .entry(key)
                .or_default()
                .push((entry.kind, entry.line()));
        }
        Ok(Facts {
            directory_cities,
            directory,
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
            .contact(&message.contact)
            .await?
            .unwrap_or_else(|| Contact::new(message.contact.clone(), message.created_at));
        // Where and when they last wrote: replies go back there; WhatsApp's window opens.
        contact.last_inbound_at = Some(message.created_at);
        contact.last_channel = Some(message.channel);
        if message.channel.has_session_window() {
            contact.last_whatsapp_at = Some(message.created_at);
        }
        let session = self.store.session(&message.contact).await?;
        let facts = self.facts().await?;
        let now = self.clock.now();
        let reopenable = match self.store.open_ticket_of(&message.contact).await? {
            Some(_) => None,
            None => self
                .store
                .recently_closed(&message.contact, now)
                .await?
                .map(|t| t.topic),
        };
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
                attachment: if message.media.is_some() {
                    Attachment::Media
                } else if message.unsupported.is_some() {
                    Attachment::Unsupported
                } else {
                    Attachment::None
                },
                reopenable,
            },
        );
        let mut replies = Vec::new();
        let mut ticket = TicketChange::None;
        for effect in effects {
            match effect {
                Effect::Reply { lang, reply } => replies.push(Outgoing {
                    text: render_text(&self.localizer, lang, &reply),
                    interactive: self.interactive(message.channel, lang, &reply),
                }),
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
                        tracing::warn!(contact = %message.contact.redacted(), "protection concern: urgent ticket for a supervisor");
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
                Effect::Reopen => ticket = TicketChange::Reopen,
            }
        }
        // Asked for a person outside working hours: say when someone will answer. Not after
        // a safeguarding reply: it already says a supervisor will write as soon as possible
        // (and the on-call phones are alerted); "the office is closed" would contradict it.
        let handed_over = match &ticket {
            TicketChange::Open { topic, .. } => topic != crate::flow::engine::PROTECTION_TOPIC,
            TicketChange::Reopen => true,
            _ => false,
        };
        if let (true, Some(hours), Some(lang)) = (handed_over, &self.hours, contact.language) {
            let utc = chrono::DateTime::from_timestamp_millis(now as i64).unwrap_or_default();
            if let Some(reply) = after_hours_reply(hours, utc) {
                replies.push(Outgoing {
                    text: render_text(&self.localizer, lang, &reply),
                    interactive: None,
                });
            }
        }
        let write = StepWrite {
            session,
            contact,
            replies,
            channel: message.channel,
            ticket,
        };
        let outcome = self.store.apply_step(pending, &write, now).await?;
        if let (TicketChange::Reopen, Some((ticket, _))) = (&write.ticket, outcome.ticket) {
            // Reopens are in the trail like every other change to a ticket. The reopen itself is
            // already stored: a failed audit write is logged loudly, not a reason to answer twice.
            if let Err(e) = self
                .store
                .audit("kabar", "reopen", Some(ticket), "the person wrote again")
                .await
            {
                tracing::error!(ticket, error = %e, "audit row for a reopen not written");
            }
        }
        // The person wrote: messages held for the closed WhatsApp window can go now.
        let released = self.store.release_held(&message.contact).await?;
        if !outcome.queued.is_empty() || released > 0 {
            self.dispatcher.wake();
        }
        if let Some((ticket, language)) = outcome.ticket {
            // Nobody watching is fine.
            self.events.send(crate::helpdesk::TicketEvent {
                ticket,
                language,
                kind: "message",
                relayed: false,
            });
        }
        if message.media.is_some() {
            self.fetch_media(message.clone());
        }
        Ok(())
    }

    /// A numbered menu as a WhatsApp list, where the provider shows lists. `None` keeps plain text
    /// (and the sender also falls back to text when the list breaks WhatsApp's limits).
    fn interactive(
        &self,
        channel: Channel,
        lang: crate::i18n::Lang,
        reply: &Reply,
    ) -> Option<Interactive> {
        if !self.channels.shows_lists(channel) {
            return None;
        }
        let l = &self.localizer;
        let (header, titles): (String, Vec<String>) = match reply {
            Reply::Menu { header, options } => (
                l.render(lang, header, &[]),
                options.iter().map(|o| l.render(lang, o, &[])).collect(),
            ),
            Reply::Choices { header, items } => (l.render(lang, header, &[]), items.clone()),
            Reply::LanguageMenu { order } => (
                l.render(lang, "language-menu", &[]),
                order
                    .iter()
                    .map(|o| l.render(*o, "language-name", &[]))
                    .collect(),
            ),
            Reply::Text { .. } => return None,
        };
        Some(Interactive {
            body: header,
            button: l.render(lang, "menu-button", &[]),
            rows: titles
                .into_iter()
                .enumerate()
                .map(|(i, title)| ((i + 1).to_string(), title))
                .collect(),
        })
    }

    /// Fetches a voice note, image or document in the background and keeps it for interpreters,
    /// from whichever provider it came through (Graph API, Twilio's `MediaUrl{N}`).
    fn fetch_media(&self, message: MessageRecord) {
        let Some(media) = message.media.clone() else {
            return;
        };
        let Some(fetch) = self.channels.fetch_media(message.channel, &media) else {
            return;
        };
        let store = self.store.clone();
        tokio::spawn(async move {
            let outcome = match fetch.await {
                Ok((bytes, mime)) => store.put_media(message.id, &mime, bytes).await,
                Err(e) => {
                    let reason = format!("media not fetched: {e}");
                    tracing::warn!(message_id = message.id, %reason, "media for interpreters missing");
                    store.media_missing(message.id, &reason).await
                }
            };
            if let Err(e) = outcome {
                tracing::error!(error = %e, "cannot record media");
            }
        });
    }
}

/// The intake hands stored messages to answering: it waits while too many contacts are being
/// answered, and each contact it stored is scheduled.
#[async_trait::async_trait]
impl IntakeSink for Arc<Processor> {
    async fn wait_for_room(&self) {
        Processor::wait_for_room(self).await
    }

    fn stored(&self, phones: Vec<ContactId>) {
        for phone in phones {
            self.schedule(phone);
        }
    }
}

/// "The office is closed; a person answers today / tomorrow / on Monday from 08:00", or `None`
/// while the office is open.
pub fn after_hours_reply(
    hours: &crate::helpdesk::hours::BusinessHours,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Reply> {
    use chrono::Datelike;
    if hours.is_open(now) {
        return None;
    }
    let opening = hours.next_opening(now)?;
    let today = now.with_timezone(&hours.timezone()).date_naive();
    let day = match (opening.date_naive() - today).num_days() {
        0 => "today",
        1 => "tomorrow",
        _ => match opening.weekday() {
            chrono::Weekday::Mon => "mon",
            chrono::Weekday::Tue => "tue",
            chrono::Weekday::Wed => "wed",
            chrono::Weekday::Thu => "thu",
            chrono::Weekday::Fri => "fri",
            chrono::Weekday::Sat => "sat",
            chrono::Weekday::Sun => "sun",
        },
    };
    Some(Reply::Text {
        id: "after-hours".into(),
        args: [
            ("time".to_string(), opening.format("%H:%M").to_string()),
            ("day".to_string(), day.to_string()),
        ]
        .into_iter()
        .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day_and_time(hours: &str, local: (u32, u32, u32, u32)) -> Option<(String, String)> {
        let hours = crate::helpdesk::hours::BusinessHours::parse("Asia/Makassar", hours).unwrap();
        let (month, day, h, m) = local;
        let now = chrono_tz::Asia::Makassar
            .with_ymd_and_hms(2026, month, day, h, m, 0)
            .unwrap()
            .with_timezone(&chrono::Utc);
        match after_hours_reply(&hours, now)? {
            Reply::Text { args, .. } => Some((args["day"].clone(), args["time"].clone())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn after_hours_names_the_day_the_office_opens() {
        let hours = "Mon-Fri 08:00-16:00";
        // 2026-12-01 is a Tuesday. At 03:00 the office opens that same morning.
        assert_eq!(
            day_and_time(hours, (12, 1, 3, 0)),
            Some(("today".into(), "08:00".into()))
        );
        assert_eq!(
            day_and_time(hours, (12, 1, 17, 30)),
            Some(("tomorrow".into(), "08:00".into()))
        );
        // Friday evening and Saturday: Monday.
        assert_eq!(
            day_and_time(hours, (12, 4, 16, 30)),
            Some(("mon".into(), "08:00".into()))
        );
        assert_eq!(
            day_and_time(hours, (12, 5, 10, 0)),
            Some(("mon".into(), "08:00".into()))
        );
        // Sunday night: tomorrow is Monday.
        assert_eq!(
            day_and_time(hours, (12, 6, 22, 0)),
            Some(("tomorrow".into(), "08:00".into()))
        );
        assert_eq!(day_and_time(hours, (12, 1, 10, 0)), None, "open");
    }
}
