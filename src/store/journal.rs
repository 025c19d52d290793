//! The intake journal: an append-only log that makes an inbound message durable before the
//! webhook is answered, in front of sled.
//!
//! Why not sled directly: storing a message in sled costs four key writes, a global write lock
//! (sled serialises every batch and transaction) and many kilobytes of page rewrites, and that
//! cost sat on the webhook's path: under a burst, providers waited on it. Here a webhook costs
//! one appended record and a share of one `fdatasync` (group commit, one thread); the intake
//! task then moves records into sled in arrival order, and a segment file is deleted once
//! everything in it is durable in sled.
//!
//! On disk: `journal/<segment>.log`, records of `[len u32 LE][crc32 u32 LE][JSON]`. A torn
//! record at a segment's end (a crash during a write) ends that segment's reading; it was never
//! acknowledged. Every start writes to a new segment, so nothing is appended after a torn tail.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::{NewInbound, StoreError};
use crate::domain::Millis;

/// A segment is closed and a new one started past this size, so retired data can be deleted.
const SEGMENT_BYTES: u64 = 4 * 1024 * 1024;
/// Larger lengths are corruption, not messages (webhook bodies are limited far below this).
const MAX_RECORD: u32 = 8 * 1024 * 1024;

/// One inbound message as journaled: what the provider sent and when it arrived.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct JournalEntry {
    pub received_at: Millis,
    pub inbound: NewInbound,
}

/// A durable entry handed to the intake task, with the segment that holds it.
#[derive(Debug)]
pub struct Durable {
    pub segment: u64,
    pub entry: JournalEntry,
}

struct Pending {
    entries: Vec<JournalEntry>,
    bytes: Vec<u8>,
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
}

#[derive(Default)]
struct Segment {
    /// Records durably written to it.
    written: u64,
    /// Records the intake task has made durable in sled.
    retired: u64,
    closed: bool,
}

struct Shared {
    dir: PathBuf,
    pending: Mutex<Pending>,
    wake: Condvar,
    segments: Mutex<BTreeMap<u64, Segment>>,
    stop: AtomicBool,
}

pub struct Journal {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Journal {
    /// Opens the journal in `dir`, queues every entry left from before (in order) on the
    /// returned channel, and starts a new segment for what arrives now.
    pub fn open(dir: &Path) -> Result<(Journal, mpsc::UnboundedReceiver<Durable>), StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| journal_error(dir, e))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut segments = BTreeMap::new();
        let mut last = 0;
        for (id, path) in segment_files(dir)? {
            let entries = read_segment(&path)?;
            if !entries.is_empty() {
                tracing::info!(
                    segment = id,
                    entries = entries.len(),
                    "journal entries from before the restart"
                );
            }
            segments.insert(
                id,
                Segment {
                    written: entries.len() as u64,
                    retired: 0,
                    closed: true,
                },
            );
            for entry in entries {
                let _ = tx.send(Durable { segment: id, entry });
            }
            last = last.max(id);
        }
        let first = last + 1;
        let file = create_segment(dir, first)?;
        segments.insert(first, Segment::default());
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            pending: Mutex::new(Pending {
                entries: Vec::new(),
                bytes: Vec::new(),
                waiters: Vec::new(),
            }),
            wake: Condvar::new(),
            segments: Mutex::new(segments),
            stop: AtomicBool::new(false),
        });
        // Segments read back that held nothing can go at once.
        let ids: Vec<u64> = lock(&shared.segments)?.keys().copied().collect();
        for id in ids {
            retire(&shared, id, 0);
        }
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("kabar-journal".into())
            .spawn(move || writer(thread_shared, first, file, tx))
            .map_err(|e| journal_error(dir, e))?;
        Ok((
            Journal {
                shared,
                thread: Mutex::new(Some(thread)),
            },
            rx,
        ))
    }

    /// Appends `entries` and waits until they are on disk. They reach the intake channel in
    /// append order, after they are durable.
    pub async fn append(&self, entries: Vec<JournalEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = lock(&self.shared.pending)?;
            if self.shared.stop.load(Ordering::SeqCst) {
                return Err(StoreError::Closed);
            }
            for entry in &entries {
                encode_record(&mut pending.bytes, entry)?;
            }
            pending.entries.extend(entries);
            pending.waiters.push(tx);
            if pending.waiters.len() == 1 {
                self.shared.wake.notify_one();
            }
        }
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(StoreError::Journal(reason)),
            Err(_) => Err(StoreError::Closed),
        }
    }

    /// Records that `count` entries of `segment` are durable in sled; a closed segment whose
    /// entries are all retired is deleted.
    pub fn retire(&self, segment: u64, count: u64) {
        retire(&self.shared, segment, count);
    }

    /// Entries written but not yet retired (for `/healthz` and tests).
    pub fn backlog(&self) -> u64 {
        lock(&self.shared.segments)
            .map(|s| s.values().map(|s| s.written.saturating_sub(s.retired)).sum())
            .unwrap_or(0)
    }

    /// Writes what is pending, answers its writers and stops the writer thread.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Ok(_pending) = self.shared.pending.lock() {
            self.shared.wake.notify_one();
        }
        if let Some(handle) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = handle.join();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, StoreError> {
    m.lock().map_err(|_| StoreError::Closed)
}

fn journal_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Journal(format!("{}: {e}", path.display()))
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:016x}.log"))
}

fn segment_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut found = Vec::new();
    let listing = std::fs::read_dir(dir).map_err(|e| journal_error(dir, e))?;
    for item in listing {
        let item = item.map_err(|e| journal_error(dir, e))?;
        let name = item.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| u64::from_str_radix(n, 16).ok())
        else {
            continue;
        };
        found.push((id, item.path()));
    }
    found.sort();
    Ok(found)
}

fn create_segment(dir: &Path, id: u64) -> Result<File, StoreError> {
    let path = segment_path(dir, id);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| journal_error(&path, e))?;
    // The new file's name must survive a crash too.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| journal_error(dir, e))?;
    Ok(file)
}

fn encode_record(out: &mut Vec<u8>, entry: &JournalEntry) -> Result<(), StoreError> {
    let payload = serde_json::to_vec(entry).map_err(StoreError::Encode)?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l <= MAX_RECORD)
        .ok_or_else(|| StoreError::Journal("message too large to journal".into()))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(())
}

/// Every whole, intact record of a segment, in order; reading stops at the first torn or
/// corrupt one.
fn read_segment(path: &Path) -> Result<Vec<JournalEntry>, StoreError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| journal_error(path, e))?;
    let (entries, complete) = decode_records(&bytes);
    if !complete {
        tracing::warn!(
            segment = %path.display(),
            kept = entries.len(),
            "journal segment ends in a torn record (a crash during a write); it was never acknowledged"
        );
    }
    Ok(entries)
}

/// Decodes records from the start of `bytes`; `false` when something after the last good
/// record was not a whole, intact record.
fn decode_records(bytes: &[u8]) -> (Vec<JournalEntry>, bool) {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((header, body)) = rest.split_at_checked(8) else {
            return (entries, false);
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len > MAX_RECORD {
            return (entries, false);
        }
        let Some((payload, after)) = body.split_at_checked(len as usize) else {
            return (entries, false);
        };
        if crc32fast::hash(payload) != crc {
            return (entries, false);
        }
        match serde_json::from_slice(payload) {
            Ok(entry) => entries.push(entry),
            Err(_) => return (entries, false),
        }
        rest = after;
    }
    (entries, true)
}

fn retire(shared: &Shared, id: u64, count: u64) {
    let Ok(mut segments) = shared.segments.lock() else {
        return;
    };
    let Some(segment) = segments.get_mut(&id) else {
        return;
    };
    segment.retired += count;
    if segment.closed && segment.retired >= segment.written {
        segments.remove(&id);
        let path = segment_path(&shared.dir, id);
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(error = %e, segment = id, "cannot delete a retired journal segment");
        }
    }
}

/// The one thread that writes segments: takes everything appended since its last write, writes
/// and syncs it once, then answers all those writers and hands the entries on.
fn writer(shared: Arc<Shared>, mut id: u64, mut file: File, intake: mpsc::UnboundedSender<Durable>) {
    let mut size = 0u64;
    loop {
        let batch = {
            let Ok(mut pending) = shared.pending.lock() else {
                return;
            };
            while pending.waiters.is_empty() {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                pending = match shared.wake.wait(pending) {
                    Ok(p) => p,
                    Err(_) => return,
                };
            }
            std::mem::replace(
                &mut *pending,
                Pending {
                    entries: Vec::new(),
                    bytes: Vec::new(),
                    waiters: Vec::new(),
                },
            )
        };
        let written = file
            .write_all(&batch.bytes)
            .and_then(|_| file.sync_data());
        match written {
            Ok(()) => {
                size += batch.bytes.len() as u64;
                if let Ok(mut segments) = shared.segments.lock() {
                    segments.entry(id).or_default().written += batch.entries.len() as u64;
                }
                for entry in batch.entries {
                    let _ = intake.send(Durable { segment: id, entry });
                }
                for waiter in batch.waiters {
                    let _ = waiter.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "journal write failed; the provider will retry");
                for waiter in batch.waiters {
                    let _ = waiter.send(Err(e.to_string()));
                }
                // What reached the file may be torn: later records go to a new segment, so
                // the reader never has to skip over a bad one.
                size = SEGMENT_BYTES;
            }
        }
        if size >= SEGMENT_BYTES {
            match create_segment(&shared.dir, id + 1) {
                Ok(next) => {
                    if let Ok(mut segments) = shared.segments.lock() {
                        segments.insert(id + 1, Segment::default());
                        if let Some(old) = segments.get_mut(&id) {
                            old.closed = true;
                        }
                    }
                    retire(&shared, id, 0);
                    id += 1;
                    file = next;
                    size = 0;
                }
                Err(e) => tracing::error!(error = %e, "cannot start a new journal segment"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;
    use crate::phone::PhoneNumber;

    fn entry(n: u32) -> JournalEntry {
        JournalEntry {
            received_at: 1_700_000_000_000 + u64::from(n) as Millis,
            inbound: NewInbound {
                channel: Channel::TwilioSms,
                from: PhoneNumber::parse("+628123456789").expect("valid"),
                text: format!("سلام {n}"),
                external_id: format!("SM{n}"),
                media: None,
                unsupported: None,
            },
        }
    }

    fn texts(rx: &mut mpsc::UnboundedReceiver<Durable>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(d) = rx.try_recv() {
            out.push(d.entry.inbound.text);
        }
        out
    }

    #[tokio::test]
    async fn entries_survive_a_restart_until_retired() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let (journal, mut rx) = Journal::open(dir.path()).expect("open");
            journal.append(vec![entry(1), entry(2)]).await.expect("append");
            journal.append(vec![entry(3)]).await.expect("append");
            assert_eq!(texts(&mut rx), ["سلام 1", "سلام 2", "سلام 3"]);
            assert_eq!(journal.backlog(), 3);
        }
        let (journal, mut rx) = Journal::open(dir.path()).expect("reopen");
        let replayed: Vec<Durable> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(replayed.len(), 3, "nothing acknowledged may be lost");
        let segment = replayed[0].segment;
        journal.retire(segment, 3);
        assert_eq!(journal.backlog(), 0);
        assert!(!segment_path(dir.path(), segment).exists(), "retired segment deleted");
        drop(journal);
        let (_journal, mut rx) = Journal::open(dir.path()).expect("reopen again");
        assert!(texts(&mut rx).is_empty(), "retired entries are not replayed");
    }

    #[tokio::test]
    async fn a_torn_tail_keeps_every_whole_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = {
            let (journal, _rx) = Journal::open(dir.path()).expect("open");
            journal.append(vec![entry(1), entry(2)]).await.expect("append");
            segment_files(dir.path()).expect("list").remove(0).1
        };
        let mut bytes = std::fs::read(&path).expect("read");
        let whole = bytes.len();
        bytes.extend_from_slice(&200u32.to_le_bytes());
        bytes.extend_from_slice(b"\0\0\0\0{\"received_at\":");
        std::fs::write(&path, &bytes).expect("write torn tail");
        let (_journal, mut rx) = Journal::open(dir.path()).expect("reopen");
        assert_eq!(texts(&mut rx), ["سلام 1", "سلام 2"]);
        // A flipped byte inside the second record ends reading before it.
        bytes.truncate(whole);
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        assert_eq!(decode_records(&bytes).0.len(), 1);
        assert!(!decode_records(&bytes).1);
    }

    #[test]
    fn garbage_never_panics_the_reader() {
        for bytes in [
            &b""[..],
            &[0xff; 3][..],
            &[0xff; 12][..],
            &[1, 0, 0, 0, 0, 0, 0, 0][..],
            &[0, 0, 0, 0, 0, 0, 0, 0][..],
        ] {
            let (entries, _) = decode_records(bytes);
            assert!(entries.is_empty());
        }
    }
}
