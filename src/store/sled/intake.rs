//! The intake task: moves journaled messages into sled in arrival order (dropping provider
//! retries), then tells the conversation layer which contacts have new messages. Entries leave
//! the journal only once sled has them on disk; until then a restart replays them.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::watch;

use super::Store;
use super::journal::Durable;
use crate::disk::DiskWatch;
use crate::domain::ContactId;
use crate::metrics::Metrics;
use crate::store::{InboundOutcome, IntakeEnd, IntakeSink, StoreError};

/// Pause between attempts to store an accepted message while the store fails.
const STORE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);
/// The longest the intake's last pass waits for sled's flush on a clean stop.
const LAST_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);
/// Failed attempts, with room on the disk, after which the store is judged unable to continue.
const FAILURES_WITH_ROOM: u32 = 5;

enum BatchEnd {
    Stopped,
    Broken(String),
}

/// How [`store_batch`] treats a failing store.
enum Retry<'a> {
    /// Retry until the stop signal; give up as broken after failures with room on the disk.
    Until(&'a mut watch::Receiver<bool>, &'a DiskWatch),
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
    fn failed(&mut self, error: &StoreError, disk: &DiskWatch) -> Option<String> {
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

/// Runs the intake until `stop`, then makes one last pass.
///
/// `stop` turns true once no webhook can append any more (the server stopped accepting); the
/// intake then makes one last pass over what is left, without retrying, so that a clean stop
/// leaves nothing in the journal and a broken store cannot hold the stop up. It ends early with
/// [`IntakeEnd::StoreBroken`] when the store keeps failing although the disk has room again:
/// sled cannot continue after a failed write, and a restart (which replays the journal) is the
/// way back.
pub(super) async fn run(
    store: Arc<Store>,
    sink: Arc<dyn IntakeSink>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
    disk: DiskWatch,
) -> IntakeEnd {
    let Some(mut intake) = store.take_intake() else {
        tracing::error!("the intake is already running for this store");
        return IntakeEnd::Stopped;
    };
    loop {
        let read = tokio::select! {
            read = async {
                sink.wait_for_room().await;
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
        match store_batch(
            &store,
            &*sink,
            batch,
            &metrics,
            Retry::Until(&mut stop, &disk),
        )
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
        if store_batch(&store, &*sink, batch, &metrics, Retry::No)
            .await
            .is_err()
        {
            tracing::warn!(
                "intake stops with entries left in the journal (replayed at the next start)"
            );
            return IntakeEnd::Stopped;
        }
    }
}

/// Records entries from `from` on a blocking thread until one fails; returns how many were
/// recorded, each one's outcome, and the error that stopped it.
async fn record_from(
    store: &Arc<Store>,
    batch: &Arc<Vec<Durable>>,
    from: usize,
) -> (Vec<InboundOutcome>, Option<StoreError>) {
    let (store, batch) = (store.clone(), batch.clone());
    tokio::task::spawn_blocking(move || {
        let mut outcomes = Vec::new();
        for durable in &batch[from..] {
            match store.record_inbound(&durable.entry) {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => return (outcomes, Some(e)),
            }
        }
        (outcomes, None)
    })
    .await
    .unwrap_or_else(|e| (Vec::new(), Some(StoreError::Blocking(e.to_string()))))
}

/// Stores one read of the journal, makes it durable, retires it and hands the contacts on. On
/// an error nothing of the batch is retired: the journal keeps it.
async fn store_batch(
    store: &Arc<Store>,
    sink: &dyn IntakeSink,
    batch: Vec<Durable>,
    metrics: &Metrics,
    mut retry: Retry<'_>,
) -> Result<(), BatchEnd> {
    let batch = Arc::new(batch);
    let mut stored: HashSet<ContactId> = HashSet::new();
    let mut failures = StoreFailures::default();
    let mut next = 0;
    while next < batch.len() {
        let (outcomes, failed) = record_from(store, &batch, next).await;
        for outcome in outcomes {
            let durable = &batch[next];
            let channel = durable.entry.inbound.channel.name();
            match outcome {
                InboundOutcome::Stored {
                    message_id,
                    contact,
                } => {
                    metrics.inbound(channel, "stored");
                    tracing::info!(message_id, channel, "inbound message stored");
                    stored.insert(contact);
                }
                InboundOutcome::Duplicate { message_id } => {
                    metrics.inbound(channel, "duplicate");
                    tracing::info!(message_id, channel, "duplicate delivery ignored");
                }
            }
            next += 1;
        }
        match failed {
            None => {}
            Some(StoreError::Closed) => return Err(BatchEnd::Stopped),
            Some(e) => {
                // Kept in the journal meanwhile: nothing is lost, and later messages wait so
                // that order holds.
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
    loop {
        let durable = match &mut retry {
            Retry::Until(stop, _) => tokio::select! {
                durable = store.durable() => durable,
                _ = stop.wait_for(|stop| *stop) => return Err(BatchEnd::Stopped),
            },
            // Bounded: a flush that cannot succeed must not hold up the stop.
            Retry::No => tokio::time::timeout(LAST_FLUSH, store.durable())
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
    let mut retire: Vec<(u64, u64)> = Vec::new();
    for durable in batch.iter() {
        match retire.last_mut() {
            Some((segment, n)) if *segment == durable.segment => *n += 1,
            _ => retire.push((durable.segment, 1)),
        }
    }
    for (segment, n) in retire {
        store.retire_journal(segment, n);
    }
    sink.stored(stored.into_iter().collect());
    Ok(())
}
