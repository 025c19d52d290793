//! The dispatcher: sends what is in the durable outbox, per provider at its TPS limit, in order
//! per recipient, retrying with capped exponential backoff and jitter until the provider accepts
//! or the message is marked failed. Nothing leaves the outbox without a recorded outcome.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::channel::{Channels, SendOutcome};
use crate::domain::{OutboxItem, now_ms};
use crate::metrics::Metrics;
use crate::phone::PhoneNumber;
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

struct Inner {
    store: Arc<Store>,
    channels: Channels,
    metrics: Arc<Metrics>,
    backoff: Backoff,
    wake: Notify,
    in_flight: Mutex<HashSet<u64>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub fn new(
        store: Arc<Store>,
        channels: Channels,
        metrics: Arc<Metrics>,
        backoff: Backoff,
    ) -> Dispatcher {
        Dispatcher {
            inner: Arc::new(Inner {
                store,
                channels,
                metrics,
                backoff,
                wake: Notify::new(),
                in_flight: Mutex::new(HashSet::new()),
            }),
        }
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
        let items = match self.inner.store.outbox() {
            Ok(items) => items,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                return Duration::from_secs(1);
            }
        };
        self.inner.metrics.outbox_depth.set(items.len() as i64);
        let now = now_ms();
        let mut wait = Duration::from_secs(1);
        // Keep each person's messages in order: once one of theirs waits, later ones wait too.
        let mut blocked: HashSet<PhoneNumber> = HashSet::new();
        let in_flight: HashSet<u64> = self
            .inner
            .in_flight
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        for item in items {
            if blocked.contains(&item.to) {
                continue;
            }
            if in_flight.contains(&item.message_id) || item.next_attempt_at > now {
                if item.next_attempt_at > now {
                    wait = wait.min(Duration::from_millis(item.next_attempt_at - now));
                }
                blocked.insert(item.to.clone());
                continue;
            }
            blocked.insert(item.to.clone());
            let group = Channels::limit_group(item.channel);
            let tps = self.inner.channels.tps(item.channel).max(1);
            let interval = Duration::from_secs_f64(1.0 / f64::from(tps));
            let slot = next_slot.entry(group).or_insert_with(Instant::now);
            let start = (*slot).max(Instant::now());
            *slot = start + interval;
            if start > Instant::now() {
                // Don't sit on a long sleep while a wake-up or shutdown might come: re-scan soon.
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
        wait
    }

    async fn send_one(&self, mut item: OutboxItem) {
        let inner = &self.inner;
        let outcome = inner.channels.send(&item).await;
        let channel = item.channel.name();
        let result = match &outcome {
            SendOutcome::Accepted {
                external_id,
                status,
            } => {
                inner.metrics.outbound(channel, "accepted");
                inner.store.outbox_accepted(&item, external_id, *status)
            }
            SendOutcome::Retry { reason, after } => {
                item.attempts += 1;
                item.last_error = Some(reason.clone());
                if item.attempts >= MAX_ATTEMPTS {
                    inner.metrics.outbound(channel, "failed");
                    tracing::warn!(message_id = item.message_id, channel, %reason, "giving up after {} attempts", item.attempts);
                    inner.store.outbox_failed(
                        &item,
                        &format!("gave up after {} attempts: {reason}", item.attempts),
                    )
                } else {
                    inner.metrics.outbound(channel, "retry");
                    let delay = after
                        .map(|a| a.min(inner.backoff.cap))
                        .unwrap_or_else(|| inner.backoff.delay(item.attempts));
                    item.next_attempt_at = now_ms() + delay.as_millis() as u64;
                    tracing::info!(message_id = item.message_id, channel, %reason, attempt = item.attempts, ?delay, "send will be retried");
                    inner.store.outbox_retry(&item)
                }
            }
            SendOutcome::Failed { reason } => {
                inner.metrics.outbound(channel, "failed");
                tracing::warn!(message_id = item.message_id, channel, %reason, "send failed");
                inner.store.outbox_failed(&item, reason)
            }
            SendOutcome::OptedOut { reason } => {
                inner.metrics.outbound(channel, "opted-out");
                tracing::info!(
                    message_id = item.message_id,
                    channel,
                    "recipient opted out at the carrier"
                );
                inner
                    .store
                    .set_opted_out(&item.to, true)
                    .and_then(|_| inner.store.outbox_failed(&item, reason))
            }
        };
        if let Err(e) = result {
            tracing::error!(message_id = item.message_id, error = %e, "cannot record the send outcome; the message stays queued");
        }
        if let Ok(mut set) = inner.in_flight.lock() {
            set.remove(&item.message_id);
        }
        self.wake();
    }
}
