//! Erasure and retention: what "delete my data" and `[privacy] retain_days` remove, and the
//! compaction that makes removed data unreadable on disk.
//!
//! sled is log-structured: a removed value stays in its old page on disk until sled rewrites
//! that page, which may be never. So every erasure or purge leaves a marker file, and the next
//! start (or `kabar compact` while stopped) copies the live data into a fresh database and
//! deletes the old files ([`compact`]). The intake journal is rotated before an erasure and the
//! erasure waits until every older segment is stored and deleted, so no erased message stays
//! in (or is replayed from) the journal.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use sled::transaction::TransactionalTree;

use super::{Store, StoreError, TxResult, decode, keys, remove_outbox, tx_put};
use crate::domain::ContactId;
use crate::domain::*;

/// Where the id offset lives (see `Store::next_id`).
const ID_OFFSET_KEY: &str = "meta/id_offset";

/// The stored id offset (0 before the first compaction).
pub(super) fn id_offset(tree: &sled::Tree) -> Result<u64, StoreError> {
    Ok(tree
        .get(ID_OFFSET_KEY)?
        .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
        .unwrap_or(0))
}

/// The file that asks the next start to compact the database.
const COMPACT_MARKER: &str = "compact-requested";
/// How long an erasure waits for the intake to store what the journal holds.
const JOURNAL_DRAIN: Duration = Duration::from_secs(10);
/// Free space a conversion needs beyond the database's size (the copy is smaller than the
/// original; this covers sled's new segments and snapshot).
const CONVERT_MARGIN: u64 = 8 * 1024 * 1024;
/// Messages removed per transaction by the purge (bounded memory per transaction).
const PURGE_CHUNK: usize = 500;

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Erasure {
    pub messages: usize,
    pub media_files: usize,
    pub queued: usize,
    pub tickets_anonymised: usize,
}

/// What a purge removed (or, with `dry_run`, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub messages: usize,
    pub media_files: usize,
    pub tickets_anonymised: usize,
}

/// The hex id at the end of an index key (`h/<phone>/<id>`, `or/<phone>/<id>`).
fn trailing_id(key: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(key).ok()?;
    u64::from_str_radix(text.rsplit('/').next()?, 16).ok()
}

/// A ticket without its person: the phone, the conversation, notes and collected details go;
/// language, topic, times and who handled it stay, so figures keep their counts.
pub(crate) fn anonymise(t: &mut Ticket, now: Millis) {
    t.contact = ContactId::erased();
    t.message_ids.clear();
    t.notes.clear();
    t.details.clear();
    if t.status == TicketStatus::Open {
        t.status = TicketStatus::Closed;
        t.closed_at = Some(now);
        t.waiting_since = None;
    }
}

/// Removes a message record and the keys that point at it.
fn remove_message(tx: &TransactionalTree, m: &MessageRecord) -> TxResult<()> {
    tx.remove(keys::message(m.id).as_bytes())?;
    tx.remove(keys::history(&m.contact, m.id).as_bytes())?;
    tx.remove(keys::failed(m.id).as_bytes())?;
    if let Some(external) = &m.external_id {
        tx.remove(keys::external(m.channel, external).as_bytes())?;
    }
    Ok(())
}

impl Store {
    pub(super) fn media_path(&self, file: &str) -> Option<std::path::PathBuf> {
        (!file.contains('/') && !file.contains("..")).then(|| self.dir.join("media").join(file))
    }

    /// Deletes media files; how many were there.
    fn remove_media(&self, files: impl IntoIterator<Item = String>) -> usize {
        let mut removed = 0;
        for file in files {
            let Some(path) = self.media_path(&file) else {
                continue;
            };
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::error!(error = %e, "cannot delete a media file"),
            }
        }
        removed
    }

    /// Asks the next start to rewrite the database without the removed data.
    fn request_compaction(&self) -> Result<(), StoreError> {
        std::fs::write(self.dir.join(COMPACT_MARKER), b"")
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))
    }

    /// Whether a compaction is pending (removed data may still be in sled's old pages).
    pub fn compaction_pending(&self) -> bool {
        self.dir.join(COMPACT_MARKER).exists()
    }

    /// Makes sure no journal segment holds anything older than now: rotates and waits until
    /// the intake stored every older entry and the segments are deleted.
    async fn drain_journal(&self) -> Result<(), StoreError> {
        let newest = self.journal.rotate();
        let deadline = tokio::time::Instant::now() + JOURNAL_DRAIN;
        while self.journal.holds_up_to(newest) {
            if tokio::time::Instant::now() > deadline {
                return Err(StoreError::Journal(
                    "messages still wait in the intake journal; try the erasure again in a minute"
                        .into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Erases a person: their messages, media files, session, contact record and queued
    /// messages are removed; their tickets are anonymised (figures keep counts). The audit
    /// row says who erased the person of which ticket and how much, never the phone. One
    /// transaction: all of it or nothing. Removed data stays readable in sled's old pages
    /// until the next compaction (at the next start, or `kabar compact`).
    pub async fn erase_contact(
        &self,
        phone: &ContactId,
        user: &str,
        ticket: u64,
    ) -> Result<Erasure, StoreError> {
        self.drain_journal().await?;
        let mut messages = Vec::new();
        for kv in self
            .tree
            .scan_prefix(keys::history_prefix(phone).as_bytes())
        {
            let (k, _) = kv?;
            if let Some(m) = trailing_id(&k).map(|id| self.message(id)).transpose()? {
                messages.extend(m);
            }
        }
        let mut queued = Vec::new();
        for lane in [crate::domain::Lane::Interactive, crate::domain::Lane::Bulk] {
            for kv in self
                .tree
                .scan_prefix(keys::outbox_recipient_prefix(lane, phone).as_bytes())
            {
                let (k, _) = kv?;
                queued.extend(trailing_id(&k));
            }
        }
        let mut inbox = Vec::new();
        for kv in self.tree.scan_prefix(keys::inbox_prefix(phone).as_bytes()) {
            inbox.push(kv?.0);
        }
        // The person's rows in broadcast audiences (their number is in the key and the report).
        let suffix = format!("/{phone}");
        let mut broadcast_rows = Vec::new();
        for kv in self.tree.scan_prefix(b"br/") {
            let (k, _) = kv?;
            if k.ends_with(suffix.as_bytes()) {
                broadcast_rows.push(k);
            }
        }
        // The addresses that lead to the person (their user id, a number learnt later).
        let mut addresses = Vec::new();
        if let Some(contact) = self.contact(phone)? {
            for address in contact.addresses() {
                let key = keys::address(&address);
                if self.get::<ContactId>(&key)?.as_ref() == Some(phone) {
                    addresses.push(key);
                }
            }
        }
        let audience_chunks = self.audience_chunks_without(phone)?;
        let naming = self.broadcasts_naming(phone)?;
        let tickets: Vec<Ticket> = self
            .tickets()?
            .into_iter()
            .filter(|t| &t.contact == phone)
            .collect();
        let report = Erasure {
            messages: messages.len(),
            media_files: messages.iter().filter(|m| m.media_file.is_some()).count(),
            queued: queued.len(),
            tickets_anonymised: tickets.len(),
        };
        let (audit_key, audit) = self.audit_entry(
            user,
            "erase",
            Some(ticket),
            &format!(
                "erased the person of this ticket: {} messages, {} media files, {} queued, {} tickets anonymised",
                report.messages, report.media_files, report.queued, report.tickets_anonymised
            ),
        )?;
        let now = now_ms();
        self.tree
            .transaction(|tx| {
                for m in &messages {
                    remove_message(tx, m)?;
                }
                for id in &queued {
                    remove_outbox(tx, *id)?;
                }
                for key in inbox.iter().chain(&broadcast_rows) {
                    tx.remove(key.as_ref())?;
                }
                for (key, chunk) in &audience_chunks {
                    tx.insert(key.as_ref(), chunk.as_slice())?;
                }
                for (key, broadcast) in &naming {
                    tx.insert(key.as_bytes(), broadcast.as_slice())?;
                }
                for key in [
                    keys::contact(phone),
                    keys::session(phone),
                    keys::open_ticket(phone),
                    keys::closed_ticket(phone),
                ]
                .iter()
                .chain(&addresses)
                {
                    tx.remove(key.as_bytes())?;
                }
                for t in &tickets {
                    let mut t = t.clone();
                    anonymise(&mut t, now);
                    tx_put(tx, &keys::ticket(t.id), &t)?;
                }
                tx_put(tx, &audit_key, &audit)?;
                Ok(())
            })
            .map_err(StoreError::from)?;
        self.durable().await?;
        self.remove_media(messages.into_iter().filter_map(|m| m.media_file));
        self.request_compaction()?;
        Ok(report)
    }

    /// Retention: removes messages (and their media) created before `cutoff` and anonymises
    /// tickets closed before it. Messages still waiting in the outbox stay until sent. With
    /// `dry_run` nothing changes and the report says what would go.
    pub fn purge(&self, cutoff: Millis, dry_run: bool) -> Result<PurgeReport, StoreError> {
        let mut old = Vec::new();
        for kv in self.tree.scan_prefix(b"m/") {
            let (k, v) = kv?;
            let m: MessageRecord = decode(&k, &v)?;
            if m.created_at < cutoff && !self.tree.contains_key(keys::outbox(m.id).as_bytes())? {
                old.push(m);
            }
        }
        let tickets: Vec<Ticket> = self
            .tickets()?
            .into_iter()
            .filter(|t| {
                t.status == TicketStatus::Closed
                    && t.closed_at.is_some_and(|c| c < cutoff)
                    && t.contact != ContactId::erased()
            })
            .collect();
        let mut report = PurgeReport {
            messages: old.len(),
            media_files: old.iter().filter(|m| m.media_file.is_some()).count(),
            tickets_anonymised: tickets.len(),
        };
        if dry_run || (old.is_empty() && tickets.is_empty()) {
            return Ok(report);
        }
        let now = now_ms();
        for chunk in old.chunks(PURGE_CHUNK) {
            self.tree
                .transaction(|tx| {
                    for m in chunk {
                        remove_message(tx, m)?;
                    }
                    Ok(())
                })
                .map_err(StoreError::from)?;
        }
        let (audit_key, audit) = self.audit_entry(
            "kabar",
            "purge",
            None,
            &format!(
                "retention: {} messages, {} media files removed, {} closed tickets anonymised",
                report.messages, report.media_files, report.tickets_anonymised
            ),
        )?;
        self.tree
            .transaction(|tx| {
                for t in &tickets {
                    let mut t = t.clone();
                    let phone = t.contact.clone();
                    anonymise(&mut t, now);
                    tx_put(tx, &keys::ticket(t.id), &t)?;
                    // The reopen pointer names the phone; the ticket is long past reopening.
                    if let Some(v) = tx.get(keys::closed_ticket(&phone).as_bytes())? {
                        if decode::<u64>(b"tc/", &v).ok() == Some(t.id) {
                            tx.remove(keys::closed_ticket(&phone).as_bytes())?;
                        }
                    }
                }
                tx_put(tx, &audit_key, &audit)?;
                Ok(())
            })
            .map_err(StoreError::from)?;
        self.flush()?;
        report.media_files = self.remove_media(old.into_iter().filter_map(|m| m.media_file));
        self.request_compaction()?;
        Ok(report)
    }
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub bytes_before: u64,
    pub bytes_after: u64,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Sled(sled::Error::Io(e))
}

fn folder_bytes(path: &Path) -> u64 {
    let Ok(listing) = std::fs::read_dir(path) else {
        return 0;
    };
    listing
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Finishes a compaction a crash interrupted. The fresh copy is flushed before any rename, so
/// if the live database is missing, the fresh one (or else the old one) becomes live again;
/// leftovers are deleted.
pub(super) fn recover_compaction(dir: &Path) -> Result<(), StoreError> {
    let (live, fresh, old) = paths(dir);
    if !live.exists() {
        if fresh.join("conf").exists() && old.exists() {
            std::fs::rename(&fresh, &live).map_err(io)?;
        } else if old.exists() {
            std::fs::rename(&old, &live).map_err(io)?;
        }
    }
    for leftover in [&fresh, &old] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(io)?;
        }
    }
    Ok(())
}

fn paths(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    (
        dir.join("kabar.sled"),
        dir.join("kabar.sled.compact"),
        dir.join("kabar.sled.old"),
    )
}

/// Rewrites the database in `dir` with only its live data and deletes the old files, so that
/// erased and purged values are gone from the disk (sled keeps removed values in old pages).
/// Needs the data folder free: run while kabar is stopped (it also runs at start-up when an
/// erasure or purge asked for it).
pub fn compact(dir: &Path) -> Result<Compaction, StoreError> {
    recover_compaction(dir)?;
    let (live, fresh, old) = paths(dir);
    let bytes_before = folder_bytes(&live);
    {
        // A store closed just before (`kabar purge`) lets go of the lock a moment later.
        let mut attempts = 0;
        let source = loop {
            match super::existing_config(&live).open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.to_string().contains("lock") =>
                {
                    attempts += 1;
                    if attempts >= 50 {
                        return Err(StoreError::Locked(dir.to_path_buf()));
                    }
                    std::thread::sleep(Duration::from_millis(40));
                }
                Err(e) => return Err(e.into()),
            }
        };
        // The fresh database's id generator starts at zero: ids must continue above every id
        // the old one gave out, or new messages would overwrite old records.
        let next_id = source.generate_id()? + id_offset(&source.open_tree("kabar")?)? + 1;
        let target = super::sled_config(&fresh).open()?;
        target.import(source.export());
        target
            .open_tree("kabar")?
            .insert(ID_OFFSET_KEY, &next_id.to_be_bytes())?;
        target.flush()?;
    }
    std::fs::rename(&live, &old).map_err(io)?;
    std::fs::rename(&fresh, &live).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    std::fs::remove_dir_all(&old).map_err(io)?;
    match std::fs::remove_file(dir.join(COMPACT_MARKER)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    Ok(Compaction {
        bytes_before,
        bytes_after: folder_bytes(&live),
    })
}

/// Rewrites a database created before sled's compression was on (data folders from earlier
/// versions) into a compressed one, once: sled cannot change the setting of an existing
/// database. The records stay as they are (JSON ones are still read); the copy is the
/// compaction's, so a crash halfway leaves the old database in place. A conversion that fails
/// (it needs free space about the database's size) leaves the database as it was, which
/// kabar keeps using uncompressed until a later start converts it.
pub(super) fn convert_uncompressed(dir: &Path) -> Result<(), StoreError> {
    let live = dir.join("kabar.sled");
    if super::created_compressed(&live) != Some(false) {
        return Ok(());
    }
    // sled's import panics when a write fails, so a full disk is checked before, not found out.
    let needed = folder_bytes(&live) + CONVERT_MARGIN;
    if let Ok(space) = crate::disk::disk_space(dir) {
        if space.free_bytes < needed {
            tracing::error!(
                free = space.free_bytes,
                needed,
                "not enough free space to convert the database to the compressed format; it is \
                 used as it is, and the next start tries again"
            );
            return Ok(());
        }
    }
    match compact(dir) {
        Ok(done) => tracing::info!(
            before = done.bytes_before,
            after = done.bytes_after,
            "converted the database to sled's compressed format"
        ),
        Err(StoreError::Locked(dir)) => return Err(StoreError::Locked(dir)),
        Err(e) => {
            tracing::error!(
                error = %e,
                "cannot convert the database to the compressed format now (it needs free space \
                 about the database's size); it is used as it is, and the next start tries again"
            );
            recover_compaction(dir)?;
        }
    }
    Ok(())
}

/// Compacts at start-up when an erasure or purge asked for it.
pub(super) fn compact_if_requested(dir: &Path) -> Result<(), StoreError> {
    recover_compaction(dir)?;
    if !dir.join(COMPACT_MARKER).exists() || !dir.join("kabar.sled").exists() {
        return Ok(());
    }
    let done = compact(dir)?;
    tracing::info!(
        before = done.bytes_before,
        after = done.bytes_after,
        "compacted the database: erased and purged data is gone from disk"
    );
    Ok(())
}
