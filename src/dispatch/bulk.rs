//! Broadcast delivery, the part that runs by itself: writes each released broadcast's audience
//! into the store in big batches behind a persisted cursor (a restart resumes exactly where it
//! stopped), starts scheduled broadcasts when their time comes and marks finished ones sent.
//! The dispatcher turns queued recipients into outbox messages as send capacity frees up.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::broadcast::{self, Broadcast, Recipient, RecipientStatus, Routes, Schedule, Status};
use crate::channel::Channels;
use crate::domain::Millis;
use crate::metrics::Metrics;
use crate::store::{BroadcastError, Store, StoreError};

use super::Dispatcher;
use crate::domain::clock::SharedClock;

/// Contacts looked at per sled batch while enqueueing: big enough that 100,000 take a few
/// dozen writes, small enough that a batch is a few hundred kilobytes.
pub const ENQUEUE_BATCH: usize = 4096;

/// The payment schedule as the placeholders need it.
pub async fn schedule(store: &Store) -> Result<Schedule, StoreError> {
    Ok(store
        .payments()
        .await?
        .into_iter()
        .map(|p| (p.city.to_lowercase(), p.next_payment_date))
        .collect())
}

/// Writes the rest of `broadcast`'s audience (from its cursor on) into the store; returns how
/// many recipients this call wrote.
pub async fn enqueue_all(
    store: &Store,
    broadcast: &Broadcast,
    routes: &Routes,
    metrics: &Metrics,
) -> Result<u64, StoreError> {
    enqueue(store, broadcast, routes, metrics, usize::MAX)
        .await
        .map(|(written, _)| written)
}

/// Like [`enqueue_all`], at most `batches` batches; also says whether everyone is written.
pub async fn enqueue(
    store: &Store,
    broadcast: &Broadcast,
    routes: &Routes,
    metrics: &Metrics,
    batches: usize,
) -> Result<(u64, bool), StoreError> {
    let schedule = schedule(store).await?;
    let mut cursor = store.enqueue_cursor(broadcast.id).await?;
    let mut written = 0;
    let mut left = batches;
    while !cursor.done && left > 0 {
        left -= 1;
        let (contacts, more) = store
            .contacts_after(cursor.after.as_ref(), ENQUEUE_BATCH)
            .await?;
        let mut batch = Vec::with_capacity(contacts.len());
        for contact in &contacts {
            if !broadcast::in_audience(&broadcast.audience, contact, routes) {
                continue;
            }
            if let Ok(delivery) = broadcast::plan(broadcast, contact, routes, &schedule) {
                batch.push((
                    contact.id.clone(),
                    Recipient {
                        language: delivery.language,
                        channel: delivery.channel,
                        status: RecipientStatus::Queued,
                        message_id: None,
                        error: None,
                    },
                ));
            }
        }
        cursor = store
            .enqueue_recipients(
                broadcast.id,
                &batch,
                contacts.last().map(|c| c.id.clone()),
                !more,
            )
            .await?;
        metrics.broadcast("queued", batch.len() as u64);
        written += batch.len() as u64;
    }
    Ok((written, cursor.done))
}

/// What the broadcast runner needs.
pub struct Runner {
    pub store: Store,
    pub channels: Channels,
    pub metrics: Arc<Metrics>,
    pub dispatcher: Dispatcher,
    pub clock: SharedClock,
}

impl Runner {
    /// Until shutdown: enqueue released broadcasts, start scheduled ones, finish drained ones.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        loop {
            if *shutdown.borrow() {
                return;
            }
            match this.step().await {
                Ok(true) => this.dispatcher.wake(),
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "broadcast runner"),
            }
            tokio::select! {
                _ = this.dispatcher.inner.broadcasts_changed.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One pass; true when something became ready to send.
    async fn step(&self) -> Result<bool, BroadcastError> {
        let now: Millis = self.clock.now();
        let mut ready = false;
        let active = self
            .store
            .broadcasts_in(&[Status::Scheduled, Status::Sending, Status::Paused])
            .await?;
        for b in active {
            let cursor = self.store.enqueue_cursor(b.id).await?;
            if !cursor.done {
                let routes = Routes::from_channels(&self.channels, now);
                let started = std::time::Instant::now();
                let written = enqueue_all(&self.store, &b, &routes, &self.metrics).await?;
                tracing::info!(
                    broadcast = b.id,
                    recipients = written,
                    ms = started.elapsed().as_millis() as u64,
                    "broadcast enqueued"
                );
                ready = true;
            }
            match b.status {
                Status::Scheduled if b.send_at.is_none_or(|at| at <= now) => {
                    self.store
                        .change_broadcast(
                            b.id,
                            "kabar",
                            "broadcast-start",
                            Box::new(|b| {
                                if b.status == Status::Scheduled {
                                    b.status = Status::Sending;
                                }
                                Ok(())
                            }),
                        )
                        .await?;
                    ready = true;
                }
                Status::Sending
                    if self.store.broadcast_drained(b.id).await?
                        && self.store.enqueue_cursor(b.id).await?.done =>
                {
                    self.store
                        .change_broadcast(
                            b.id,
                            "kabar",
                            "broadcast-sent",
                            Box::new(|b| {
                                if b.status == Status::Sending {
                                    b.status = Status::Sent;
                                }
                                Ok(())
                            }),
                        )
                        .await?;
                }
                _ => {}
            }
        }
        Ok(ready)
    }
}
