//! The intake journal: an append-only log that makes an inbound message durable before the
//! webhook is answered, in front of sled.
//!
//! Why not sled directly: storing a message in sled costs four key writes, a global write lock
//! (sled serialises every batch and transaction) and many kilobytes of page rewrites, and that
//! cost sat on the webhook's path: under a burst, providers waited on it. Here a webhook costs
//! one appended record and a share of one `fdatasync` (group commit, one thread); the intake
//! task then reads the records back (from the page cache, in arrival order) and moves them
//! into sled, and a segment file is deleted once everything in it is durable in sled. The
//! intake reads the files rather than an in-memory queue so that a burst waiting to be answered
//! costs disk, not memory.
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

use tokio::sync::{oneshot, watch};

use super::{NewInbound, StoreError};
use crate::domain::Millis;

/// A segment is closed and a new one started past this size, so retired data can be deleted.
const SEGMENT_BYTES: u64 = 16 * 1024 * 1024;
/// How much the intake reads at a time.
const READ_CHUNK: u64 = 1024 * 1024;
/// Larger lengths are corruption, not messages (webhook bodies are limited far below this).
/// A record always fits in one read.
const MAX_RECORD: u32 = (READ_CHUNK - 8) as u32;

/// One inbound message as journaled: what the provider sent and when it arrived.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct JournalEntry {
    pub received_at: Millis,
    pub inbound: NewInbound,
}

/// A durable entry read by the intake task, with the segment that holds it.
#[derive(Debug)]
pub struct Durable {
    pub segment: u64,
    pub entry: JournalEntry,
}

#[derive(Default)]
struct Pending {
    entries: u64,
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
    /// Close the current segment and start a new one now (erasure: the old one is deleted
    /// once the intake stored it, so erased messages do not linger in the journal).
    rotate: AtomicBool,
}

pub struct Journal {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Journal {
    /// Opens the journal in `dir` and starts a new segment for what arrives now. The reader
    /// starts with the entries left from before (in order), then follows new ones.
    pub fn open(dir: &Path) -> Result<(Journal, IntakeReader), StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| journal_error(dir, e))?;
        let mut segments = BTreeMap::new();
        let mut last = 0;
        let mut oldest = None;
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
            oldest.get_or_insert(id);
            last = last.max(id);
        }
        let first = last + 1;
        let (durable_tx, durable_rx) = watch::channel(Position {
            segment: first,
            offset: 0,
        });
        let file = create_segment(dir, first)?;
        segments.insert(first, Segment::default());
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            segments: Mutex::new(segments),
            stop: AtomicBool::new(false),
            rotate: AtomicBool::new(false),
        });
        // Segments read back that held nothing can go at once.
        let ids: Vec<u64> = lock(&shared.segments)?.keys().copied().collect();
        for id in ids {
            retire(&shared, id, 0);
        }
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("kabar-journal".into())
            .spawn(move || writer(thread_shared, first, file, durable_tx))
            .map_err(|e| journal_error(dir, e))?;
        let reader = IntakeReader {
            dir: dir.to_path_buf(),
            at: Position {
                segment: oldest.unwrap_or(first),
                offset: 0,
            },
            file: None,
            durable: durable_rx,
        };
        Ok((
            Journal {
                shared,
                thread: Mutex::new(Some(thread)),
            },
            reader,
        ))
    }

    /// Appends `entries` and waits until they are on disk. The intake reads them in append
    /// order once they are durable.
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
            pending.entries += entries.len() as u64;
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

    /// Closes the segment being written and starts a new one; returns the id of the newest
    /// segment that existed before, so the caller can wait with [`Journal::holds_up_to`] until every
    /// segment up to it is stored and deleted.
    pub fn rotate(&self) -> u64 {
        let newest = lock(&self.shared.segments)
            .ok()
            .and_then(|s| s.keys().next_back().copied())
            .unwrap_or(0);
        self.shared.rotate.store(true, Ordering::SeqCst);
        if let Ok(_pending) = self.shared.pending.lock() {
            self.shared.wake.notify_one();
        }
        newest
    }

    /// Whether a segment with id `<= segment` is still on disk.
    pub fn holds_up_to(&self, segment: u64) -> bool {
        lock(&self.shared.segments)
            .map(|s| s.keys().next().is_some_and(|first| *first <= segment))
            .unwrap_or(true)
    }

    /// Entries written but not yet retired (for `/healthz` and tests).
    pub fn backlog(&self) -> u64 {
        lock(&self.shared.segments)
            .map(|s| {
                s.values()
                    .map(|s| s.written.saturating_sub(s.retired))
                    .sum()
            })
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
        // Nothing more is written: every segment is closed, and those whose entries are all
        // in sled are deleted, so a restart after a clean stop replays nothing.
        let ids: Vec<u64> = match self.shared.segments.lock() {
            Ok(mut segments) => segments
                .iter_mut()
                .map(|(id, segment)| {
                    segment.closed = true;
                    *id
                })
                .collect(),
            Err(_) => return,
        };
        for id in ids {
            retire(&self.shared, id, 0);
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
    let (entries, used) = decode_records(&bytes);
    if used < bytes.len() {
        tracing::warn!(
            segment = %path.display(),
            kept = entries.len(),
            "journal segment ends in a torn record (a crash during a write); it was never acknowledged"
        );
    }
    Ok(entries)
}

/// Decodes whole, intact records from the start of `bytes`, and how many bytes they took;
/// fewer than `bytes.len()` when the rest is not a whole, intact record.
fn decode_records(bytes: &[u8]) -> (Vec<JournalEntry>, usize) {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((header, body)) = rest.split_at_checked(8) else {
            break;
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len > MAX_RECORD {
            break;
        }
        let Some((payload, after)) = body.split_at_checked(len as usize) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        match serde_json::from_slice(payload) {
            Ok(entry) => entries.push(entry),
            Err(_) => break,
        }
        rest = after;
    }
    (entries, bytes.len() - rest.len())
}

/// A place in the journal: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    segment: u64,
    offset: u64,
}

/// The intake task's cursor: reads durable records in order, from the segments left from
/// before the start and then from what webhooks append.
pub struct IntakeReader {
    dir: PathBuf,
    at: Position,
    file: Option<File>,
    /// Where durable data ends (moved by the writer after each sync).
    durable: watch::Receiver<Position>,
}

impl IntakeReader {
    /// The next durable entries (at most about a megabyte of them), waiting for some when
    /// everything has been read. `Err(Closed)` once the journal stopped.
    pub async fn next(&mut self) -> Result<Vec<Durable>, StoreError> {
        loop {
            let end = *self.durable.borrow_and_update();
            if self.at < end {
                let found = self.read_until(end)?;
                if !found.is_empty() {
                    return Ok(found);
                }
                continue;
            }
            if self.durable.changed().await.is_err() {
                return Err(StoreError::Closed);
            }
        }
    }

    /// The durable entries not read yet, without waiting: empty once the reader has caught up
    /// (the intake's last pass on a clean stop).
    pub fn next_ready(&mut self) -> Result<Vec<Durable>, StoreError> {
        loop {
            let end = *self.durable.borrow_and_update();
            if self.at >= end {
                return Ok(Vec::new());
            }
            let found = self.read_until(end)?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
    }

    /// Reads from the cursor; moves to the next segment at the end of an older one.
    fn read_until(&mut self, end: Position) -> Result<Vec<Durable>, StoreError> {
        let segment = self.at.segment;
        let path = segment_path(&self.dir, segment);
        if self.file.is_none() {
            match File::open(&path) {
                Ok(f) => self.file = Some(f),
                // Deleted: every entry in it was retired.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    self.next_segment();
                    return Ok(Vec::new());
                }
                Err(e) => return Err(journal_error(&path, e)),
            }
        }
        let Some(file) = &self.file else {
            return Ok(Vec::new());
        };
        let limit = if segment == end.segment {
            end.offset - self.at.offset
        } else {
            // An older segment: durable to its end (a torn tail stops decoding below).
            let len = file.metadata().map_err(|e| journal_error(&path, e))?.len();
            len.saturating_sub(self.at.offset)
        };
        let mut bytes = vec![0; limit.min(READ_CHUNK) as usize];
        let read =
            read_at(file, &mut bytes, self.at.offset).map_err(|e| journal_error(&path, e))?;
        bytes.truncate(read);
        let (entries, used) = decode_records(&bytes);
        self.at.offset += used as u64;
        let older = segment < end.segment;
        if entries.is_empty() {
            if older {
                if !bytes.is_empty() {
                    tracing::warn!(
                        segment = %path.display(),
                        "journal segment ends in a torn record; it was never acknowledged"
                    );
                }
                self.next_segment();
            } else if limit > 0 {
                // The writer never leaves a partial record before the durable end.
                return Err(StoreError::Journal(format!(
                    "{}: unreadable record at byte {}",
                    path.display(),
                    self.at.offset
                )));
            }
        } else if older && used == bytes.len() && read as u64 == limit {
            self.next_segment();
        }
        Ok(entries
            .into_iter()
            .map(|entry| Durable { segment, entry })
            .collect())
    }

    fn next_segment(&mut self) {
        self.at = Position {
            segment: self.at.segment + 1,
            offset: 0,
        };
        self.file = None;
    }
}

/// Fills `buf` from `offset` as far as the file goes; how many bytes were read.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
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
fn writer(shared: Arc<Shared>, mut id: u64, mut file: File, durable: watch::Sender<Position>) {
    let mut size = 0u64;
    loop {
        let batch = {
            let Ok(mut pending) = shared.pending.lock() else {
                return;
            };
            while pending.waiters.is_empty() && !shared.rotate.load(Ordering::SeqCst) {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                pending = match shared.wake.wait(pending) {
                    Ok(p) => p,
                    Err(_) => return,
                };
            }
            std::mem::take(&mut *pending)
        };
        let written = file.write_all(&batch.bytes).and_then(|_| file.sync_data());
        match written {
            Ok(()) => {
                size += batch.bytes.len() as u64;
                if let Ok(mut segments) = shared.segments.lock() {
                    segments.entry(id).or_default().written += batch.entries;
                }
                durable.send_replace(Position {
                    segment: id,
                    offset: size,
                });
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
        if shared.rotate.swap(false, Ordering::SeqCst) {
            size = SEGMENT_BYTES;
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
                    durable.send_replace(Position {
                        segment: id,
                        offset: 0,
                    });
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
    use crate::domain::ContactId;

    fn entry(n: u32) -> JournalEntry {
        JournalEntry {
            received_at: 1_700_000_000_000 + u64::from(n) as Millis,
            inbound: NewInbound {
                profile: Default::default(),
                channel: Channel::TwilioSms,
                from: ContactId::parse("+628123456789").expect("valid"),
                text: format!("سلام {n}"),
                external_id: format!("SM{n}"),
                media: None,
                unsupported: None,
            },
        }
    }

    /// Everything the reader has now (it waits only when it has nothing).
    async fn read_now(reader: &mut IntakeReader) -> Vec<Durable> {
        let mut all = Vec::new();
        while let Ok(Ok(batch)) =
            tokio::time::timeout(std::time::Duration::from_millis(50), reader.next()).await
        {
            all.extend(batch);
        }
        all
    }

    fn texts(found: &[Durable]) -> Vec<String> {
        found.iter().map(|d| d.entry.inbound.text.clone()).collect()
    }

    #[tokio::test]
    async fn entries_survive_a_restart_until_retired() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let (journal, mut reader) = Journal::open(dir.path()).expect("open");
            journal
                .append(vec![entry(1), entry(2)])
                .await
                .expect("append");
            journal.append(vec![entry(3)]).await.expect("append");
            assert_eq!(
                texts(&read_now(&mut reader).await),
                ["سلام 1", "سلام 2", "سلام 3"]
            );
            assert_eq!(journal.backlog(), 3);
        }
        let (journal, mut reader) = Journal::open(dir.path()).expect("reopen");
        let replayed = read_now(&mut reader).await;
        assert_eq!(replayed.len(), 3, "nothing acknowledged may be lost");
        let segment = replayed[0].segment;
        journal
            .append(vec![entry(4)])
            .await
            .expect("append after restart");
        assert_eq!(texts(&read_now(&mut reader).await), ["سلام 4"]);
        journal.retire(segment, 3);
        assert_eq!(journal.backlog(), 1);
        assert!(
            !segment_path(dir.path(), segment).exists(),
            "retired segment deleted"
        );
        drop(journal);
        drop(reader);
        let (_journal, mut reader) = Journal::open(dir.path()).expect("reopen again");
        assert_eq!(
            texts(&read_now(&mut reader).await),
            ["سلام 4"],
            "retired entries are not replayed, the others are"
        );
    }

    #[tokio::test]
    async fn a_clean_stop_deletes_what_is_retired_and_keeps_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let (journal, mut reader) = Journal::open(dir.path()).expect("open");
            journal
                .append(vec![entry(1), entry(2)])
                .await
                .expect("append");
            let read = read_now(&mut reader).await;
            journal.retire(read[0].segment, 2);
            assert!(reader.next_ready().expect("ready").is_empty(), "caught up");
            journal.stop();
            assert!(
                segment_files(dir.path()).expect("list").is_empty(),
                "a clean stop with everything retired leaves no segment"
            );
        }
        {
            let (journal, mut reader) = Journal::open(dir.path()).expect("reopen");
            assert!(read_now(&mut reader).await.is_empty(), "nothing replayed");
            journal.append(vec![entry(3)]).await.expect("append");
            assert_eq!(texts(&reader.next_ready().expect("ready")), ["سلام 3"]);
            journal.stop();
        }
        let (_journal, mut reader) = Journal::open(dir.path()).expect("reopen");
        assert_eq!(
            texts(&read_now(&mut reader).await),
            ["سلام 3"],
            "what was not retired survives the stop"
        );
    }

    #[tokio::test]
    async fn a_torn_tail_keeps_every_whole_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = {
            let (journal, _reader) = Journal::open(dir.path()).expect("open");
            journal
                .append(vec![entry(1), entry(2)])
                .await
                .expect("append");
            segment_files(dir.path()).expect("list").remove(0).1
        };
        let mut bytes = std::fs::read(&path).expect("read");
        let whole = bytes.len();
        bytes.extend_from_slice(&200u32.to_le_bytes());
        bytes.extend_from_slice(b"\0\0\0\0{\"received_at\":");
        std::fs::write(&path, &bytes).expect("write torn tail");
        let (journal, mut reader) = Journal::open(dir.path()).expect("reopen");
        assert_eq!(texts(&read_now(&mut reader).await), ["سلام 1", "سلام 2"]);
        // What comes after the torn segment is still read.
        journal.append(vec![entry(3)]).await.expect("append");
        assert_eq!(texts(&read_now(&mut reader).await), ["سلام 3"]);
        // A flipped byte inside the second record ends decoding before it.
        bytes.truncate(whole);
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        let (entries, used) = decode_records(&bytes);
        assert_eq!(entries.len(), 1);
        assert!(used < bytes.len());
    }

    #[tokio::test]
    async fn segments_rotate_and_are_read_across() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (journal, mut reader) = Journal::open(dir.path()).expect("open");
        // About 18 MiB: more than one segment.
        let big = "x".repeat(20_000);
        let mut count = 0;
        while count < 900 {
            let batch: Vec<JournalEntry> = (0..10)
                .map(|i| {
                    let mut e = entry(count + i);
                    e.inbound.text = format!("{big}{}", count + i);
                    e
                })
                .collect();
            journal.append(batch).await.expect("append");
            count += 10;
        }
        let read = read_now(&mut reader).await;
        assert_eq!(read.len(), 900, "every entry, in order, across segments");
        assert!(
            read.windows(2)
                .all(|w| w[0].entry.received_at < w[1].entry.received_at)
        );
        let segments: std::collections::BTreeSet<u64> = read.iter().map(|d| d.segment).collect();
        assert!(segments.len() >= 2, "rotated: {segments:?}");
        for d in &read {
            journal.retire(d.segment, 1);
        }
        assert_eq!(journal.backlog(), 0);
        let left = segment_files(dir.path()).expect("list");
        assert_eq!(left.len(), 1, "only the active segment remains: {left:?}");
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let (_, used) = decode_records(&bytes);
            proptest::prop_assert!(used <= bytes.len());
        }
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
            let (entries, used) = decode_records(bytes);
            assert!(entries.is_empty());
            assert_eq!(used, 0);
        }
    }
}
