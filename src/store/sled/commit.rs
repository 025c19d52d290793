//! Group commit (DESIGN §5): writers insert, then wait until one flusher thread has flushed
//! past their write. One `flush()` covers every write that came before it, so many concurrent
//! webhooks share one fsync instead of paying one each.
//!
//! Each waiter gets its own one-shot answer, so a flush wakes exactly the writers it covered
//! (a broadcast would wake every waiter on every flush). Before flushing, the flusher lingers
//! for a short window so that one flush serves a burst instead of a handful of writers: on a
//! small machine every sled flush costs a round of thread hand-offs that competes with the
//! requests themselves.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

/// How long the flusher waits after the first request before flushing, so later writers in
/// the same burst share the flush. Webhooks do not wait on it (they wait on the intake
/// journal); answering, status callbacks and staff actions do, and a few milliseconds are
/// nothing to them while every sled flush wakes all of sled's IO threads.
const GATHER: Duration = Duration::from_millis(2);

struct Waiting {
    /// Writers in arrival order; everything inserted before a writer joined is covered by
    /// the next flush that starts after it joined.
    queue: VecDeque<oneshot::Sender<Result<(), sled::Error>>>,
}

struct Shared {
    waiting: Mutex<Waiting>,
    wake: Condvar,
    stop: AtomicBool,
}

pub struct GroupCommit {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl GroupCommit {
    pub fn start(db: sled::Db) -> GroupCommit {
        let shared = Arc::new(Shared {
            waiting: Mutex::new(Waiting {
                queue: VecDeque::new(),
            }),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("kabar-group-commit".into())
            .spawn(move || flusher(db, thread_shared))
            .ok();
        if thread.is_none() {
            tracing::error!("could not start the group-commit thread");
        }
        GroupCommit {
            shared,
            thread: Mutex::new(thread),
        }
    }

    /// Waits until everything written before this call is on disk.
    pub async fn durable(&self) -> Result<(), super::StoreError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut waiting = self
                .shared
                .waiting
                .lock()
                .map_err(|_| super::StoreError::Closed)?;
            if self.shared.stop.load(Ordering::SeqCst) {
                return Err(super::StoreError::Closed);
            }
            waiting.queue.push_back(tx);
            if waiting.queue.len() == 1 {
                self.shared.wake.notify_one();
            }
        }
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(super::StoreError::Sled(e)),
            Err(_) => Err(super::StoreError::Closed),
        }
    }

    /// Stops the flusher after a last flush that answers everyone still waiting.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Ok(_waiting) = self.shared.waiting.lock() {
            self.shared.wake.notify_one();
        }
        if let Some(handle) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = handle.join();
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.stop();
    }
}

fn flusher(db: sled::Db, shared: Arc<Shared>) {
    loop {
        {
            let Ok(mut waiting) = shared.waiting.lock() else {
                return;
            };
            while waiting.queue.is_empty() {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                waiting = match shared.wake.wait(waiting) {
                    Ok(w) => w,
                    Err(_) => return,
                };
            }
        }
        if !shared.stop.load(Ordering::SeqCst) {
            std::thread::sleep(GATHER);
        }
        // Everyone in the queue now wrote before joining it, so this flush covers them all;
        // writers that join during the flush wait for the next one.
        let covered = match shared.waiting.lock() {
            Ok(mut waiting) => std::mem::take(&mut waiting.queue),
            Err(_) => return,
        };
        // A failed flush is answered as a failure, never as "durable": each caller decides
        // (a webhook answers 5xx, the intake keeps the journal entry and retries). Retrying
        // here instead would leave every caller waiting without a word, and a stop behind them.
        let outcome = db.flush().map(|_| ());
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "flush failed; nothing it covered is acknowledged");
        }
        for waiter in covered {
            let _ = waiter.send(outcome.clone());
        }
    }
}
