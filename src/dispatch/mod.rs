//! The dispatcher: sends what is in the durable outbox, per provider at its TPS limit, in order
//! per recipient, retrying with capped exponential backoff and jitter until the provider accepts
//! or the message is marked failed. Nothing leaves the outbox without a recorded outcome.
//!
//! Two lanes: replies (interactive) take every provider's send slots first; broadcast
//! messages (bulk) get only slots that are free right now, and never reserve future ones, so
//! a reply waits at most one send interval behind a broadcast, not behind its backlog.

pub mod bulk;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::broadcast::{QuietHours, RecipientStatus, Routes, Status};
use crate::channel::{Channels, Delivery, SendOutcome};
use crate::domain::clock::SharedClock;
use crate::domain::{Lane, OutboxItem, WHATSAPP_WINDOW_MS};
use crate::metrics::Metrics;
use crate::store::Store;

/// Attempts before a message is marked failed (about 25 minutes of retries with the defaults).
pub const MAX_ATTEMPTS: u32 = 10;

/// Backoff policy: `base * 2^(attempt-1)`, capped, ±20% jitter so retries don't bunch up.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let capped = exp.min(self.cap);
        let jitter = rand::thread_rng().gen_range(0.8..1.2);
        capped.mul_f64(jitter)
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

/// Why a message for someone known only by a WhatsApp user id does not go by SMS.
const NO_NUMBER_FOR_SMS: &str = "no phone number is known for this person (WhatsApp username \
     only), so this channel cannot reach them: held until they write again";

/// What to do with a message for a channel with a 24-hour window.
enum Route {
    Send(Delivery),
    /// Send it by SMS on this channel instead.
    Reroute(crate::domain::Channel),
    /// Keep it until the person writes again or staff act; the reason is shown in the API.
    Hold(String),
}

struct Inner {
    store: Store,
    channels: Channels,
    metrics: Arc<Metrics>,
    backoff: Backoff,
    clock: SharedClock,
    wake: Notify,
    in_flight: Mutex<HashSet<u64>>,
    /// No broadcast message goes out in these hours (judged by `clock`).
    quiet: Mutex<Option<QuietHours>>,
    /// A broadcast was released, paused, resumed or cancelled.
    broadcasts_changed: Notify,
}

/// Broadcast messages kept turned into outbox items ahead of sending: enough to fill a second
/// of the fastest provider, few enough that a pause stops them at once.
const BULK_WINDOW: usize = 128;

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub fn new(
        store: Store,
        channels: Channels,
        metrics: Arc<Metrics>,
        backoff: Backoff,
        clock: SharedClock,
    ) -> Dispatcher {
        Dispatcher {
            inner: Arc::new(Inner {
                store,
                channels,
                metrics,
                backoff,
                clock,
                wake: Notify::new(),
                in_flight: Mutex::new(HashSet::new()),
                quiet: Mutex::new(None),
                broadcasts_changed: Notify::new(),
            }),
        }
    }

    /// Sets `[broadcasts] quiet_hours`.
    pub fn set_quiet_hours(&self, quiet: Option<QuietHours>) {
        if let Ok(mut q) = self.inner.quiet.lock() {
            *q = quiet;
        }
    }

    /// A broadcast changed state: the runner and the dispatcher look again now.
    pub fn broadcasts_changed(&self) {
        self.inner.broadcasts_changed.notify_one();
        self.wake();
    }

    /// Whether broadcasts are held back now by the quiet hours.
    pub fn is_quiet(&self) -> bool {
        let quiet = self.inner.quiet.lock().ok().and_then(|q| *q);
        let now = chrono::DateTime::from_timestamp_millis(self.inner.clock.now() as i64);
        matches!((quiet, now), (Some(q), Some(now)) if q.is_quiet(now))
    }

    /// Something was added to the outbox.
    pub fn wake(&self) {
        self.inner.wake.notify_waiters();
        self.inner.wake.notify_one();
    }

    /// Runs until `shutdown` turns true, then waits for the sends in flight to finish so that
    /// each of them is recorded as accepted or left queued.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tasks = JoinSet::new();
        // One limiter per provider account: its next free send slot.
        let mut next_slot: HashMap<&'static str, Instant> = HashMap::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let wait = self.dispatch_due(&mut tasks, &mut next_slot).await;
            let bulk_wait = self.dispatch_bulk(&mut tasks, &mut next_slot).await;
            let wait = wait.min(bulk_wait);
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        // Let in-flight sends record their outcome (bounded: providers time out at 15 s).
        let _ = tokio::time::timeout(Duration::from_secs(20), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
    }

    /// Starts sends for due items; returns how long to sleep before looking again.
    async fn dispatch_due(
        &self,
        tasks: &mut JoinSet<()>,
        next_slot: &mut HashMap<&'static str, Instant>,
    ) -> Duration {
        const BATCH: usize = 256;
        let store = &self.inner.store;
        let now = self.inner.clock.now();
        // Taken before reading the outbox: a send that finishes in between has already left
        // the outbox, so nothing read below can be a message that was just sent (a snapshot
        // taken after the read would let such a message go out twice).
        let in_flight: HashSet<u64> = self
            .inner
            .in_flight
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        // Only what is due is read (an index by due time): a large backlog costs nothing here.
        let (items, next_due) = match store.due_outbox(now, BATCH).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                return Duration::from_secs(1);
            }
        };
        let full = items.len() >= BATCH;
        let mut wait = next_due
            .map(|due| Duration::from_millis(due.saturating_sub(now)))
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        for item in items {
            if in_flight.contains(&item.message_id) {
                continue;
            }
            // Keep each person's messages in order: only their oldest queued one may go.
            match store.first_outbox_of(&item.to).await {
                Ok(Some(first)) if first != item.message_id => continue,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox order");
                    continue;
                }
                _ => {}
            }
            let group = Channels::limit_group(item.channel);
            let tps = self.inner.channels.tps(item.channel).max(1);
            let interval = Duration::from_secs_f64(1.0 / f64::from(tps));
            let slot = next_slot.entry(group).or_insert_with(Instant::now);
            let start = (*slot).max(Instant::now());
            *slot = start + interval;
            if start > Instant::now() {
                // Don't sit on a long sleep while a wake-up or shutdown might come: look again soon.
                if start - Instant::now() > Duration::from_millis(200) {
                    *slot = start;
                    return Duration::from_millis(50);
                }
                tokio::time::sleep_until(start).await;
            }
            if let Ok(mut set) = self.inner.in_flight.lock() {
                set.insert(item.message_id);
            }
            let this = self.clone();
            tasks.spawn(async move { this.send_one(item).await });
        }
        if full {
            wait = Duration::from_millis(10);
        }
        wait
    }

    /// Sends broadcast messages with the send slots replies left free; keeps a small window of
    /// recipients turned into outbox messages. Returns how long to sleep.
    async fn dispatch_bulk(
        &self,
        tasks: &mut JoinSet<()>,
        next_slot: &mut HashMap<&'static str, Instant>,
    ) -> Duration {
        const IDLE: Duration = Duration::from_secs(1);
        if self.is_quiet() {
            return IDLE;
        }
        let store = &self.inner.store;
        let broadcasts: HashMap<u64, crate::broadcast::Broadcast> = match store
            .broadcasts_in(&[Status::Sending, Status::Paused, Status::Cancelled])
            .await
        {
            Ok(list) => list.into_iter().map(|b| (b.id, b)).collect(),
            Err(e) => {
                tracing::error!(error = %e, "cannot read broadcasts");
                return IDLE;
            }
        };
        if broadcasts.is_empty() {
            return IDLE;
        }
        let in_flight: HashSet<u64> = self
            .inner
            .in_flight
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        let now = self.inner.clock.now();
        let (mut items, _) = match store.due_bulk(now, BULK_WINDOW).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the bulk outbox");
                return IDLE;
            }
        };
        if items.len() < BULK_WINDOW / 2 {
            self.refill_bulk(&broadcasts, BULK_WINDOW - items.len())
                .await;
            match store.due_bulk(self.inner.clock.now(), BULK_WINDOW).await {
                Ok((found, _)) => items = found,
                Err(e) => tracing::error!(error = %e, "cannot read the bulk outbox"),
            }
        }
        let mut wait = IDLE;
        for item in items {
            if in_flight.contains(&item.message_id) {
                continue;
            }
            match item
                .broadcast
                .and_then(|b| broadcasts.get(&b))
                .map(|b| b.status)
            {
                Some(Status::Sending) => {}
                Some(Status::Cancelled) => {
                    if let Err(e) = store.outbox_cancelled(&item).await {
                        tracing::error!(error = %e, "cannot cancel a broadcast message");
                    }
                    continue;
                }
                // Paused (or finished meanwhile): it waits in the outbox.
                _ => continue,
            }
            // A reply the person is waiting for goes first; the broadcast follows it. (A held
            // reply waits for the person to write again; the broadcast need not wait for it.)
            if let Ok(Some(_)) = store.first_outbox_of(&item.to).await {
                let reply_pending = store.outbox_of(&item.to).await.is_ok_and(|items| {
                    items
                        .iter()
                        .any(|i| i.lane == Lane::Interactive && i.held.is_none())
                });
                if reply_pending {
                    continue;
                }
            }
            let group = Channels::limit_group(item.channel);
            let tps = self.inner.channels.tps(item.channel).max(1);
            let interval = Duration::from_secs_f64(1.0 / f64::from(tps));
            let slot = next_slot.entry(group).or_insert_with(Instant::now);
            let now = Instant::now();
            if *slot > now {
                // Only free slots: never reserve one a reply may need.
                wait = wait.min((*slot - now).max(Duration::from_millis(5)));
                continue;
            }
            *slot = now + interval;
            wait = wait.min(interval);
            if let Ok(mut set) = self.inner.in_flight.lock() {
                set.insert(item.message_id);
            }
            let this = self.clone();
            tasks.spawn(async move { this.send_one(item).await });
        }
        wait
    }

    /// Turns up to `room` queued recipients of sending broadcasts into outbox messages, each
    /// filled in for them now (their language, name, city and payment date as they are now).
    async fn refill_bulk(
        &self,
        broadcasts: &HashMap<u64, crate::broadcast::Broadcast>,
        mut room: usize,
    ) {
        let store = &self.inner.store;
        let mut sending: Vec<&crate::broadcast::Broadcast> = broadcasts
            .values()
            .filter(|b| b.status == Status::Sending)
            .collect();
        if sending.is_empty() {
            return;
        }
        sending.sort_by_key(|b| b.id);
        let routes = Routes::from_channels(&self.inner.channels, self.inner.clock.now());
        let schedule = match bulk::schedule(store).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the payment schedule");
                return;
            }
        };
        for b in sending {
            if room == 0 {
                return;
            }
            let queue = match store.bulk_queue(b.id, room).await {
                Ok(q) => q,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the bulk queue");
                    return;
                }
            };
            for queued in queue {
                let contact = match store.contact(&queued.phone).await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read a broadcast recipient");
                        return;
                    }
                };
                let planned = match &contact {
                    Some(c) => crate::broadcast::plan(b, c, &routes, &schedule)
                        .map_err(|e| e.name().to_string()),
                    None => Err("the contact was deleted".to_string()),
                };
                let result = match planned {
                    Ok(delivery) => store.materialize(b, &queued, &delivery).await.map(|m| {
                        if m.is_some() {
                            room = room.saturating_sub(1);
                        }
                    }),
                    Err(reason) => {
                        self.inner.metrics.broadcast("failed", 1);
                        store
                            .skip_recipient(
                                b.id,
                                &queued,
                                RecipientStatus::Failed,
                                &format!("not sent: {reason}"),
                            )
                            .await
                    }
                };
                if let Err(e) = result {
                    tracing::error!(error = %e, "cannot queue a broadcast message");
                    return;
                }
            }
        }
    }

    /// Free-form inside the WhatsApp window; outside it a template, SMS, or hold (DESIGN §3).
    /// SMS needs a phone number: a person known only by a WhatsApp user id may have linked one
    /// since the message was queued; if not, the message is held, never sent elsewhere.
    async fn route(&self, item: &mut OutboxItem) -> Route {
        let needs_number = !item.channel.reaches_user_ids();
        if !item.channel.has_session_window() && (!needs_number || item.sms_number().is_some()) {
            return Route::Send(Delivery::FreeForm);
        }
        let contact = self.inner.store.contact(&item.to).await.ok().flatten();
        if needs_number && item.sms_number().is_none() {
            item.sms_phone = contact.as_ref().and_then(|c| c.phone().cloned());
            if item.sms_number().is_none() {
                return Route::Hold(NO_NUMBER_FOR_SMS.to_string());
            }
        }
        if !item.channel.has_session_window() {
            return Route::Send(Delivery::FreeForm);
        }
        let now = self.inner.clock.now();
        let open = contact
            .as_ref()
            .and_then(|c| c.last_whatsapp_at)
            .is_some_and(|last| now.saturating_sub(last) < WHATSAPP_WINDOW_MS);
        if open {
            Route::Send(Delivery::FreeForm)
        } else {
            let phone = contact.as_ref().and_then(|c| c.phone().cloned());
            self.outside_window(item, contact.and_then(|c| c.language), phone)
        }
    }

    /// Outside the window: a template, else SMS to the person's number, else hold.
    fn outside_window(
        &self,
        item: &mut OutboxItem,
        contact_lang: Option<crate::i18n::Lang>,
        phone: Option<crate::domain::PhoneNumber>,
    ) -> Route {
        let lang = item.language.or(contact_lang);
        if let Some(template) = self.inner.channels.template_for(item.channel, lang) {
            return Route::Send(Delivery::Template(template));
        }
        if item.sms_number().is_none() {
            item.sms_phone = phone;
        }
        match self.inner.channels.sms_route() {
            Some(_) if item.sms_number().is_none() => Route::Hold(format!(
                "outside the WhatsApp 24-hour window, no template for {} and {NO_NUMBER_FOR_SMS}",
                lang.map(|l| l.tag()).unwrap_or("this language")
            )),
            Some(sms) => Route::Reroute(sms),
            None => Route::Hold(format!(
                "outside the WhatsApp 24-hour window, no template for {} and no SMS route: \
                 held until the person writes again",
                lang.map(|l| l.tag()).unwrap_or("this language")
            )),
        }
    }

    /// Applies a reroute or hold decision; true when the item should be sent now.
    async fn apply_route(&self, item: &mut OutboxItem, route: &Route) -> bool {
        let store = &self.inner.store;
        let result = match route {
            Route::Send(_) => return true,
            Route::Reroute(sms) => {
                let from = item.channel;
                item.channel = *sms;
                item.interactive = None;
                self.inner.metrics.outbound(from.name(), "rerouted-sms");
                store
                    .outbox_reroute(
                        item,
                        &format!(
                            "outside the WhatsApp 24-hour window: sent by SMS ({})",
                            sms.name()
                        ),
                    )
                    .await
            }
            Route::Hold(reason) => {
                self.inner.metrics.outbound(item.channel.name(), "held");
                tracing::info!(message_id = item.message_id, "message held: {reason}");
                item.held = Some(reason.clone());
                store.outbox_retry(item).await
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot record the routing decision");
        }
        false
    }

    async fn send_one(&self, mut item: OutboxItem) {
        let inner = &self.inner;
        let route = self.route(&mut item).await;
        if !self.apply_route(&mut item, &route).await {
            self.finish(item.message_id);
            return;
        }
        let delivery = match route {
            Route::Send(d) => d,
            _ => Delivery::FreeForm,
        };
        let outcome = inner.channels.send(&item, &delivery).await;
        let channel = item.channel.name();
        let result = match &outcome {
            SendOutcome::OutsideWindow { reason } if delivery == Delivery::FreeForm => {
                // The provider knows better than our clock: use the fallback now.
                let contact = inner.store.contact(&item.to).await.ok().flatten();
                let phone = contact.as_ref().and_then(|c| c.phone().cloned());
                let route = self.outside_window(&mut item, contact.and_then(|c| c.language), phone);
                tracing::info!(message_id = item.message_id, %reason, "outside the WhatsApp window");
                match route {
                    Route::Send(Delivery::Template(_)) => {
                        // Retry now; the next attempt sees the closed window and uses the template.
                        item.next_attempt_at = inner.clock.now();
                        item.last_error = Some(reason.clone());
                        self.mark_window_closed(&item).await;
                        inner.store.outbox_retry(&item).await
                    }
                    other => {
                        self.mark_window_closed(&item).await;
                        self.apply_route(&mut item, &other).await;
                        Ok(())
                    }
                }
            }
            SendOutcome::OutsideWindow { reason } => {
                inner.metrics.outbound(channel, "failed");
                inner.store.outbox_failed(&item, reason).await
            }
            SendOutcome::Accepted {
                external_id,
                status,
            } => {
                inner.metrics.outbound(channel, "accepted");
                inner
                    .store
                    .outbox_accepted(&item, external_id, *status)
                    .await
            }
            SendOutcome::Retry { reason, after } => {
                item.attempts += 1;
                item.last_error = Some(reason.clone());
                if item.attempts >= MAX_ATTEMPTS {
                    inner.metrics.outbound(channel, "failed");
                    tracing::warn!(message_id = item.message_id, channel, %reason, "giving up after {} attempts", item.attempts);
                    inner
                        .store
                        .outbox_failed(
                            &item,
                            &format!("gave up after {} attempts: {reason}", item.attempts),
                        )
                        .await
                } else {
                    inner.metrics.outbound(channel, "retry");
                    let delay = after
                        .map(|a| a.min(inner.backoff.cap))
                        .unwrap_or_else(|| inner.backoff.delay(item.attempts));
                    item.next_attempt_at = inner.clock.now() + delay.as_millis() as u64;
                    tracing::info!(message_id = item.message_id, channel, %reason, attempt = item.attempts, ?delay, "send will be retried");
                    inner.store.outbox_retry(&item).await
                }
            }
            SendOutcome::Failed { reason } => {
                inner.metrics.outbound(channel, "failed");
                tracing::warn!(message_id = item.message_id, channel, %reason, "send failed");
                inner.store.outbox_failed(&item, reason).await
            }
            SendOutcome::OptedOut { reason } => {
                inner.metrics.outbound(channel, "opted-out");
                tracing::info!(
                    message_id = item.message_id,
                    channel,
                    "recipient opted out at the carrier"
                );
                // The message's failure first: whoever sees the contact opted out also sees
                // why (a crash in between only means the carrier refuses the next one too).
                match inner.store.outbox_failed(&item, reason).await {
                    Ok(()) => inner.store.set_opted_out(&item.to, true).await,
                    Err(e) => Err(e),
                }
            }
        };
        // The message counts as in flight until its outcome is on disk (the store's writes
        // return once durable): a crash before that sends it again (at most the messages in
        // flight then go twice), never loses it.
        if let Err(e) = result {
            tracing::error!(message_id = item.message_id, error = %e, "cannot record the send outcome; the message stays queued");
        } else if item.lane == Lane::Bulk {
            let counted = match &outcome {
                SendOutcome::Accepted { .. } => Some("sent"),
                SendOutcome::Failed { .. } | SendOutcome::OptedOut { .. } => Some("failed"),
                SendOutcome::OutsideWindow { .. } if delivery != Delivery::FreeForm => {
                    Some("failed")
                }
                SendOutcome::Retry { .. } if item.attempts >= MAX_ATTEMPTS => Some("failed"),
                _ => None,
            };
            if let Some(status) = counted {
                inner.metrics.broadcast(status, 1);
            }
        }
        self.finish(item.message_id);
    }

    fn finish(&self, message_id: u64) {
        if let Ok(mut set) = self.inner.in_flight.lock() {
            set.remove(&message_id);
        }
        self.wake();
    }

    /// The provider said the window is closed although our clock thought it open: remember it
    /// for this contact until they write on WhatsApp again.
    async fn mark_window_closed(&self, item: &OutboxItem) {
        if let Err(e) = self.inner.store.close_whatsapp_window(&item.to).await {
            tracing::error!(error = %e, "cannot record the closed window");
        }
    }
}
