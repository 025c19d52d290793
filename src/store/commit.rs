//! Group commit (DESIGN §5): writers insert, then wait until one flusher thread has flushed
//! past their write. One `flush()` covers every write that came before it, so many concurrent
//! webhooks share one fsync instead of paying one each.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::watch;

struct Shared {
    /// Highest write sequence handed out.
    requested: AtomicU64,
    /// Set when there is something to flush; the flusher sleeps on `wake` otherwise.
    pending: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
}

pub struct GroupCommit {
    shared: Arc<Shared>,
    flushed: watch::Receiver<u64>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl GroupCommit {
    pub fn start(db: sled::Db) -> GroupCommit {
        let shared = Arc::new(Shared {
            requested: AtomicU64::new(0),
            pending: Mutex::new(false),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let (tx, rx) = watch::channel(0u64);
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("kabar-group-commit".into())
            .spawn(move || flusher(db, thread_shared, tx))
            .ok();
        if thread.is_none() {
            tracing::error!("could not start the group-commit thread");
        }
        GroupCommit {
            shared,
            flushed: rx,
            thread: Mutex::new(thread),
        }
    }

    /// Waits until everything written before this call is on disk.
    pub async fn durable(&self) -> Result<(), super::StoreError> {
        let seq = self.shared.requested.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut pending) = self.shared.pending.lock() {
            *pending = true;
            self.shared.wake.notify_one();
        }
        let mut rx = self.flushed.clone();
        rx.wait_for(|flushed| *flushed >= seq)
            .await
            .map(|_| ())
            .map_err(|_| super::StoreError::Closed)
    }

    /// Stops the flusher after a last flush.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Ok(mut pending) = self.shared.pending.lock() {
            *pending = true;
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

fn flusher(db: sled::Db, shared: Arc<Shared>, flushed: watch::Sender<u64>) {
    loop {
        {
            let Ok(mut pending) = shared.pending.lock() else {
                return;
            };
            while !*pending {
                pending = match shared.wake.wait(pending) {
                    Ok(p) => p,
                    Err(_) => return,
                };
            }
            *pending = false;
        }
        // Every write with a sequence up to `target` was inserted before it took its sequence,
        // so this flush covers it.
        let target = shared.requested.load(Ordering::SeqCst);
        loop {
            match db.flush() {
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "flush failed; retrying (webhooks are not acknowledged meanwhile)");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
        }
        flushed.send_replace(target);
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
    }
}
