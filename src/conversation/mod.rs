//! Turns stored inbound messages into answers: runs the engine for each message, one contact at
//! a time and in arrival order, and writes session, contact, replies (outbox) and ticket changes
//! in one transaction.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use std::path::PathBuf;

use crate::channel::Channels;
use crate::dispatch::Dispatcher;
use crate::domain::phone::PhoneNumber;
use crate::domain::{Channel, Contact, Interactive, MessageRecord};
use crate::flow::render::render_text;
use crate::flow::{Attachment, Effect, Engine, Facts, Flows, Input, Reply};
use crate::i18n::{Lang, Localizer};
use crate::metrics::Metrics;
use crate::store::journal::IntakeReader;
use crate::store::{
    InboundOutcome, Outgoing, PendingInbound, StepWrite, Store, StoreError, TicketChange,
};

pub struct Processor {
    store: Arc<Store>,
    flows: Arc<Flows>,
    localizer: Arc<Localizer>,
    dispatcher: Dispatcher,
    channels: Channels,
    hours: Option<crate::helpdesk::hours::BusinessHours>,
    events: crate::helpdesk::Events,
    /// Where voice notes, images and documents people send are kept for interpreters.
    media_dir: PathBuf,
    /// Messages answered at the same time (at most).
    workers: tokio::sync::Semaphore,
    /// Contacts being drained; `true` when more arrived meanwhile.
    running: Mutex<HashMap<PhoneNumber, bool>>,
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

/// Pause between attempts to store an accepted message while the store fails.
const STORE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);
/// The longest the intake's last pass waits for sled's flush on a clean stop.
const LAST_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);
/// Failed attempts, with room on the disk, after which the store is judged unable to continue.
const FAILURES_WITH_ROOM: u32 = 5;

/// Why the intake task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeEnd {
    /// The server is stopping (what could be stored was; the rest stays in the journal).
    Stopped,
    /// The store keeps failing although the disk has room: only a restart (which replays
    /// the journal) gets it going again.
    StoreBroken(String),
}

enum BatchEnd {
    Stopped,
    Broken(String),
}

/// How [`Processor::store_batch`] treats a failing store.
enum Retry<'a> {
    /// Retry until the stop signal; give up as broken after failures with room on the disk.
    Until(
        &'a mut tokio::sync::watch::Receiver<bool>,
        &'a crate::ops::DiskWatch,
    ),
    /// Try once (the last pass on a clean stop).
    No,
}

/// Counts store failures and says when they mean the store cannot continue; logs them without
/// flooding the log while the disk is full.
#[derive(Default)]
struct StoreFailures {
    total: u32,
    with_room: u32,
}

impl StoreFailures {
    fn failed(&mut self, error: &StoreError, disk: &crate::ops::DiskWatch) -> Option<String> {
        self.total += 1;
        let room = disk.has_room();
        if room {
            self.with_room += 1;
        } else {
            self.with_room = 0;
        }
        if self.total == 1 || self.total % 30 == 0 {
            tracing::error!(
                error = %error,
                disk_has_room = room,
                "cannot store an accepted message (kept in the journal); retrying"
            );
        }
        (self.with_room >= FAILURES_WITH_ROOM).then(|| error.to_string())
    }
}

/// What the processor is wired to.
pub struct Parts {
    pub store: Arc<Store>,
    pub flows: Arc<Flows>,
    pub localizer: Arc<Localizer>,
    pub dispatcher: Dispatcher,
    pub channels: Channels,
    /// Where voice notes, images and documents people send are kept for interpreters.
    pub media_dir: PathBuf,
    pub hours: Option<crate::helpdesk::hours::BusinessHours>,
    pub events: crate::helpdesk::Events,
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
            media_dir,
            hours,
            events,
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
            media_dir,
            workers: tokio::sync::Semaphore::new(WORKERS),
            running: Mutex::new(HashMap::new()),
            drained: tokio::sync::Notify::new(),
            runtime,
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
        self.runtime.spawn(async move { this.drain(phone).await });
    }

    /// The intake task: moves journaled messages into the store in arrival order (dropping
    /// provider retries), then schedules their contacts. Entries leave the journal only once
    /// sled has them on disk; until then a restart replays them.
    ///
    /// `stop` turns true once no webhook can append any more (the server stopped accepting);
    /// the intake then makes one last pass over what is left, without retrying, so that a
    /// clean stop leaves nothing in the journal and a broken store cannot hold the stop up.
    /// It ends early with [`IntakeEnd::StoreBroken`] when the store keeps failing although
    /// the disk has room again: sled cannot continue after a failed write, and a restart
    /// (which replays the journal) is the way back.
    pub async fn run_intake(
        self: Arc<Self>,
        mut intake: IntakeReader,
        metrics: Arc<Metrics>,
        mut stop: tokio::sync::watch::Receiver<bool>,
        disk: crate::ops::DiskWatch,
    ) -> IntakeEnd {
        loop {
            let read = tokio::select! {
                read = async {
                    self.wait_for_room().await;
                    intake.next().await
                } => read,
                _ = stop.wait_for(|stop| *stop) => break,
            };
            let batch = match read {
                Ok(batch) => batch,
                Err(StoreError::Closed) => return IntakeEnd::Stopped,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the intake journal; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                        _ = stop.wait_for(|stop| *stop) => break,
                    }
                }
            };
            match self
                .store_batch(batch, &metrics, Retry::Until(&mut stop, &disk))
                .await
            {
                Ok(()) => {}
                Err(BatchEnd::Stopped) => break,
                Err(BatchEnd::Broken(reason)) => return IntakeEnd::StoreBroken(reason),
            }
        }
        // The last pass: everything durable in the journal now, once.
        loop {
            let batch = match intake.next_ready() {
                Ok(batch) if batch.is_empty() => return IntakeEnd::Stopped,
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "intake stops with entries left in the journal (replayed at the next start)");
                    return IntakeEnd::Stopped;
                }
            };
            if self.store_batch(batch, &metrics, Retry::No).await.is_err() {
                tracing::warn!(
                    "intake stops with entries left in the journal (replayed at the next start)"
                );
                return IntakeEnd::Stopped;
            }
        }
    }

    /// Stores one read of the journal, makes it durable, retires it and schedules the
    /// contacts. On an error nothing of the batch is retired: the journal keeps it.
    async fn store_batch(
        self: &Arc<Self>,
        batch: Vec<crate::store::journal::Durable>,
        metrics: &Metrics,
        mut retry: Retry<'_>,
    ) -> Result<(), BatchEnd> {
        let mut stored: HashSet<PhoneNumber> = HashSet::new();
        let mut retire: Vec<(u64, u64)> = Vec::new();
        let mut failures = StoreFailures::default();
        for durable in batch {
            let channel = durable.entry.inbound.channel.name();
            loop {
                match self.store.record_inbound(&durable.entry) {
                    Ok(InboundOutcome::Stored { message_id }) => {
                        metrics.inbound(channel, "stored");
                        tracing::info!(message_id, channel, "inbound message stored");
                        stored.insert(durable.entry.inbound.from.clone());
                        break;
                    }
                    Ok(InboundOutcome::Duplicate { message_id }) => {
                        metrics.inbound(channel, "duplicate");
                        tracing::info!(message_id, channel, "duplicate delivery ignored");
                        break;
                    }
                    Err(StoreError::Closed) => return Err(BatchEnd::Stopped),
                    Err(e) => {
                        // Kept in the journal meanwhile: nothing is lost, and later messages
                        // wait so that order holds.
                        let Retry::Until(stop, disk) = &mut retry else {
                            return Err(BatchEnd::Stopped);
                        };
                        if let Some(reason) = failures.failed(&e, disk) {
                            return Err(BatchEnd::Broken(reason));
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(STORE_RETRY) => {}
                            _ = stop.wait_for(|stop| *stop) => return Err(BatchEnd::Stopped),
                        }
                    }
                }
            }
            match retire.last_mut() {
                Some((segment, n)) if *segment == durable.segment => *n += 1,
                _ => retire.push((durable.segment, 1)),
            }
        }
        loop {
            let durable = match &mut retry {
                Retry::Until(stop, _) => tokio::select! {
                    durable = self.store.durable() => durable,
                    _ = stop.wait_for(|stop| *stop) => return Err(BatchEnd::Stopped),
                },
                // Bounded: a flush that cannot succeed must not hold up the stop.
                Retry::No => tokio::time::timeout(LAST_FLUSH, self.store.durable())
                    .await
                    .unwrap_or(Err(StoreError::Closed)),
            };
            match durable {
                Ok(()) => break,
                Err(StoreError::Closed) => return Err(BatchEnd::Stopped),
                Err(e) => {
                    let Retry::Until(stop, disk) = &mut retry else {
                        return Err(BatchEnd::Stopped);
                    };
                    if let Some(reason) = failures.failed(&e, disk) {
                        return Err(BatchEnd::Broken(reason));
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(STORE_RETRY) => {}
                        _ = stop.wait_for(|stop| *stop) => return Err(BatchEnd::Stopped),
                    }
                }
            }
        }
        for (segment, n) in retire {
            self.store.retire_journal(segment, n);
        }
        for phone in stored {
            self.schedule(phone);
        }
        Ok(())
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
    fn facts(&self) -> Result<Facts, StoreError> {
        let schedule = self.store.payments()?;
        let mut directory_cities: Vec<String> = Vec::new();
        let mut directory: std::collections::BTreeMap<String, Vec<_>> = Default::default();
        for entry in self.store.directory()? {
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
            .contact(&message.phone)?
            .unwrap_or_else(|| Contact::new(message.phone.clone(), message.created_at));
        // Where and when they last wrote: replies go back there; WhatsApp's window opens.
        contact.last_inbound_at = Some(message.created_at);
        contact.last_channel = Some(message.channel);
        if message.channel.has_session_window() {
            contact.last_whatsapp_at = Some(message.created_at);
        }
        let session = self.store.session(&message.phone)?;
        let facts = self.facts()?;
        let now = crate::domain::now_ms();
        let reopenable = match self.store.open_ticket_of(&message.phone)? {
            Some(_) => None,
            None => self
                .store
                .recently_closed(&message.phone, now)?
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
        let outcome = self.store.apply_step(pending, &write)?;
        if let (TicketChange::Reopen, Some((ticket, _))) = (&write.ticket, outcome.ticket) {
            // Reopens are in the trail like every other change to a ticket. The reopen itself is
            // already stored: a failed audit write is logged loudly, not a reason to answer twice.
            if let Err(e) =
                self.store
                    .audit("kabar", "reopen", Some(ticket), "the person wrote again")
            {
                tracing::error!(ticket, error = %e, "audit row for a reopen not written");
            }
        }
        // The person wrote: messages held for the closed WhatsApp window can go now.
        let released = self.store.release_held(&message.phone)?;
        self.store.durable().await?;
        if !outcome.queued.is_empty() || released > 0 {
            self.dispatcher.wake();
        }
        if let Some((ticket, language)) = outcome.ticket {
            // Nobody watching is fine.
            let _ = self.events.send(crate::helpdesk::TicketEvent {
                ticket,
                language,
                kind: "message",
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
        let dir = self.media_dir.clone();
        tokio::spawn(async move {
            let result = match fetch.await {
                Ok((bytes, mime)) => {
                    let name = format!("{}.{}", message.id, extension(&mime));
                    let path = dir.join(&name);
                    match tokio::fs::create_dir_all(&dir).await {
                        Ok(()) => tokio::fs::write(&path, bytes)
                            .await
                            .map(|_| name)
                            .map_err(|e| format!("cannot save media: {e}")),
                        Err(e) => Err(format!("cannot create media folder: {e}")),
                    }
                }
                Err(e) => Err(format!("media not fetched: {e}")),
            };
            let outcome = match result {
                Ok(name) => store.set_media_file(message.id, Some(name), None),
                Err(reason) => {
                    tracing::warn!(message_id = message.id, %reason, "media for interpreters missing");
                    store.set_media_file(message.id, None, Some(reason))
                }
            };
            if let Err(e) = outcome {
                tracing::error!(error = %e, "cannot record media");
            }
        });
    }
}

/// A file extension for a MIME type, for files interpreters open.
fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/mp4" | "audio/aac" => "m4a",
        "audio/amr" => "amr",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "application/pdf" => "pdf",
        _ => "bin",
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
