//! Broadcasts: the records; the frozen audience, written at send in chunks of a few thousand
//! compact entries (the bulk queue: sled's cost is per key, so 100,000 people are a few dozen
//! writes); the dispatcher's position in it; one row per person once they are dealt with
//! (queued as a message, skipped), kept in step with their message for progress and the
//! report; and the enqueue cursor that lets a restart resume exactly where enqueueing stopped.

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::{Store, StoreError, TxResult, decode, encode, keys, put_outbox, tx_get, tx_put};
use crate::broadcast::{Broadcast, Progress, Recipient, RecipientStatus, Status, Valid};
use crate::domain::ContactId;
use crate::domain::*;
use crate::i18n::Lang;

/// Why a broadcast change was refused.
#[derive(Debug, thiserror::Error)]
pub enum BroadcastError {
    #[error("there is no broadcast {0}")]
    NotFound(u64),
    /// The broadcast is not in a state that allows it (409).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this to this broadcast (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request cannot be done as asked (422).
    #[error("{0}")]
    Unprocessable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TransactionError<BroadcastError>> for BroadcastError {
    fn from(e: TransactionError<BroadcastError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => BroadcastError::Store(StoreError::Sled(e)),
        }
    }
}

/// How far enqueueing a broadcast's audience got.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnqueueCursor {
    /// The last contact (in key order) already looked at.
    pub after: Option<ContactId>,
    /// Every contact was looked at.
    pub done: bool,
    /// Recipients written so far.
    pub written: u64,
    /// Audience chunks written so far (the next one's number).
    #[serde(default)]
    pub chunks: u64,
}

/// Where a person stands in a broadcast's frozen audience: chunk number, place in it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Position {
    pub chunk: u64,
    pub index: u32,
}

/// A recipient the dispatcher may turn into a message next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub position: Position,
    pub phone: ContactId,
    /// As planned when the audience was frozen (the message itself is planned again at send).
    pub language: Lang,
    pub channel: Channel,
}

/// One person in a frozen audience (short field names: there are 100,000 of them).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct AudienceEntry {
    #[serde(rename = "p")]
    pub(super) phone: ContactId,
    #[serde(rename = "l")]
    pub(super) language: Lang,
    #[serde(rename = "c")]
    pub(super) channel: Channel,
}

/// Moves the dispatcher's position forward (never back).
fn advance(tx: &TransactionalTree, key: &str, to: Position) -> TxResult<()> {
    if tx_get::<Position>(tx, key)?.is_none_or(|p| p < to) {
        tx_put(tx, key, &to)?;
    }
    Ok(())
}

fn chunk_number(key: &[u8], prefix: &str) -> Option<u64> {
    let hex = std::str::from_utf8(key.get(prefix.len()..)?).ok()?;
    u64::from_str_radix(hex, 16).ok()
}

/// Keeps a broadcast recipient's row in step with its message (called in the transaction that
/// changes the message). Statuses never move backwards.
pub(super) fn track(tx: &TransactionalTree, m: &MessageRecord) -> TxResult<()> {
    let Some(b) = m.broadcast else {
        return Ok(());
    };
    let key = keys::broadcast_recipient(b, &m.contact);
    let Some(mut r) = tx_get::<Recipient>(tx, &key)? else {
        return Ok(()); // a test send: no recipient row
    };
    if r.message_id != Some(m.id) {
        return Ok(());
    }
    let status = RecipientStatus::from_message(m.status);
    if rank(status) >= rank(r.status) {
        r.status = status;
        r.error = if status == RecipientStatus::Failed {
            m.error.clone()
        } else {
            None
        };
        tx_put(tx, &key, &r)?;
    }
    Ok(())
}

fn rank(s: RecipientStatus) -> u8 {
    match s {
        RecipientStatus::Queued => 0,
        RecipientStatus::Sent => 1,
        RecipientStatus::Delivered | RecipientStatus::Failed | RecipientStatus::Cancelled => 2,
    }
}

fn phone_after_prefix(key: &[u8], prefix: &str) -> Option<ContactId> {
    std::str::from_utf8(key.get(prefix.len()..)?)
        .ok()
        .and_then(|p| ContactId::parse(p).ok())
}

impl Store {
    pub fn create_broadcast(&self, valid: Valid, user: &str) -> Result<Broadcast, StoreError> {
        let id = self.db.generate_id()?;
        let now = now_ms();
        let broadcast = Broadcast::draft(id, valid, user, now);
        self.tree
            .insert(keys::broadcast(id).as_bytes(), encode(&broadcast)?)?;
        Ok(broadcast)
    }

    pub fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        self.get(&keys::broadcast(id))
    }

    /// Every broadcast, newest first.
    pub fn broadcasts(&self) -> Result<Vec<Broadcast>, StoreError> {
        let mut all: Vec<Broadcast> = self.scan("b/")?;
        all.reverse();
        Ok(all)
    }

    /// Changes a broadcast atomically: `change` sees the stored record and refuses or edits
    /// it; the audit row is written in the same transaction.
    pub fn change_broadcast(
        &self,
        id: u64,
        user: &str,
        action: &str,
        change: impl Fn(&mut Broadcast) -> Result<(), BroadcastError>,
    ) -> Result<Broadcast, BroadcastError> {
        let audit_id = self.db.generate_id().map_err(StoreError::from)?;
        let key = keys::broadcast(id);
        let updated = self.tree.transaction(|tx| {
            let Some(mut b) = tx_get::<Broadcast>(tx, &key).map_err(|e| match e {
                ConflictableTransactionError::Abort(e) => {
                    ConflictableTransactionError::Abort(BroadcastError::Store(e))
                }
                ConflictableTransactionError::Conflict => ConflictableTransactionError::Conflict,
                ConflictableTransactionError::Storage(e) => {
                    ConflictableTransactionError::Storage(e)
                }
            })?
            else {
                return Err(ConflictableTransactionError::Abort(
                    BroadcastError::NotFound(id),
                ));
            };
            change(&mut b).map_err(ConflictableTransactionError::Abort)?;
            let now = now_ms();
            b.updated_at = now;
            let entry = AuditEntry {
                at: now,
                user: user.to_string(),
                action: action.to_string(),
                ticket: None,
                detail: format!("broadcast {id} {:?} → {}", b.name, b.status.name()),
            };
            let put = |k: &str,
                       bytes: Result<Vec<u8>, StoreError>|
             -> Result<(), ConflictableTransactionError<BroadcastError>> {
                let bytes = bytes
                    .map_err(|e| ConflictableTransactionError::Abort(BroadcastError::Store(e)))?;
                tx.insert(k.as_bytes(), bytes)?;
                Ok(())
            };
            put(&key, encode(&b))?;
            put(&keys::audit(now, audit_id), encode(&entry))?;
            Ok(b)
        })?;
        Ok(updated)
    }

    /// Broadcasts whose status is one of `statuses`.
    pub fn broadcasts_in(&self, statuses: &[Status]) -> Result<Vec<Broadcast>, StoreError> {
        Ok(self
            .scan::<Broadcast>("b/")?
            .into_iter()
            .filter(|b| statuses.contains(&b.status))
            .collect())
    }

    /// Calls `each` for every contact in key order; stops at the first error.
    pub fn for_each_contact(&self, mut each: impl FnMut(&Contact)) -> Result<(), StoreError> {
        for kv in self.tree.scan_prefix(b"c/") {
            let (k, v) = kv?;
            each(&decode::<Contact>(&k, &v)?);
        }
        Ok(())
    }

    /// Up to `limit` contacts after `after` (key order), and whether there are more.
    pub fn contacts_after(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<Contact>, bool), StoreError> {
        let start = match after {
            // Keys sort by byte; the successor of the last key starts just past it.
            Some(p) => {
                let mut k = keys::contact(p).into_bytes();
                k.push(0);
                k
            }
            None => b"c/".to_vec(),
        };
        let mut out = Vec::with_capacity(limit.min(8192));
        for kv in self.tree.range(start..) {
            let (k, v) = kv?;
            if !k.starts_with(b"c/") {
                return Ok((out, false));
            }
            if out.len() == limit {
                return Ok((out, true));
            }
            out.push(decode::<Contact>(&k, &v)?);
        }
        Ok((out, false))
    }

    pub fn enqueue_cursor(&self, broadcast: u64) -> Result<EnqueueCursor, StoreError> {
        Ok(self
            .get(&keys::broadcast_cursor(broadcast))?
            .unwrap_or_default())
    }

    /// Writes one batch of a broadcast's audience as ONE key (a chunk of compact entries, in
    /// phone order) together with the cursor, as one atomic sled batch: after a crash either
    /// the chunk is there and the cursor says so, or neither is, so a redo neither skips nor
    /// duplicates anyone. One key per few thousand people rather than one per person is what
    /// makes a 100,000-person send durable in well under a second: sled's cost is per key.
    /// Returns the new cursor. One writer at a time (the broadcast runner).
    pub fn enqueue_recipients(
        &self,
        broadcast: u64,
        recipients: &[(ContactId, Recipient)],
        after: Option<ContactId>,
        done: bool,
    ) -> Result<EnqueueCursor, StoreError> {
        let before = self.enqueue_cursor(broadcast)?;
        let cursor = EnqueueCursor {
            // Once done, the last contact looked at is not needed: keep no number there.
            after: if done { None } else { after.or(before.after) },
            done,
            written: before.written + recipients.len() as u64,
            chunks: before.chunks + u64::from(!recipients.is_empty()),
        };
        let mut batch = sled::Batch::default();
        if !recipients.is_empty() {
            let chunk: Vec<Option<AudienceEntry>> = recipients
                .iter()
                .map(|(phone, r)| {
                    Some(AudienceEntry {
                        phone: phone.clone(),
                        language: r.language,
                        channel: r.channel,
                    })
                })
                .collect();
            batch.insert(
                keys::broadcast_chunk(broadcast, before.chunks).as_bytes(),
                encode(&chunk)?,
            );
        }
        batch.insert(
            keys::broadcast_cursor(broadcast).as_bytes(),
            encode(&cursor)?,
        );
        self.tree.apply_batch(batch)?;
        Ok(cursor)
    }

    /// Audience entries after the dispatcher's position, in order, while `each` says go on.
    fn entries_after_position(
        &self,
        broadcast: u64,
        mut each: impl FnMut(Queued) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let done: Option<Position> = self.get(&keys::broadcast_position(broadcast))?;
        let prefix = keys::broadcast_chunks(broadcast);
        let start = keys::broadcast_chunk(broadcast, done.map_or(0, |p| p.chunk));
        for kv in self.tree.range(start.as_bytes()..) {
            let (k, v) = kv?;
            if !k.starts_with(prefix.as_bytes()) {
                break;
            }
            let Some(chunk) = chunk_number(&k, &prefix) else {
                continue;
            };
            let entries: Vec<Option<AudienceEntry>> = decode(&k, &v)?;
            for (index, entry) in entries.into_iter().enumerate() {
                let position = Position {
                    chunk,
                    index: index as u32,
                };
                if done.is_some_and(|d| position <= d) {
                    continue;
                }
                let Some(entry) = entry else {
                    continue; // erased
                };
                if !each(Queued {
                    position,
                    phone: entry.phone,
                    language: entry.language,
                    channel: entry.channel,
                })? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The next recipients not yet turned into outbox messages (at most `limit`).
    pub fn bulk_queue(&self, broadcast: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.entries_after_position(broadcast, |q| {
            // A row means this person was already dealt with (a crash between the row and
            // the position cannot happen: they are one transaction; this is belt and braces).
            if self
                .tree
                .get(keys::broadcast_recipient(broadcast, &q.phone).as_bytes())?
                .is_none()
            {
                out.push(q);
            }
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }

    /// Nothing of the broadcast is left to send: no recipient waiting, no message in the outbox.
    pub fn broadcast_drained(&self, broadcast: u64) -> Result<bool, StoreError> {
        let waiting = !self.bulk_queue(broadcast, 1)?.is_empty();
        let outbox = keys::broadcast_outbox_prefix(broadcast);
        Ok(!waiting && self.tree.scan_prefix(outbox.as_bytes()).next().is_none())
    }

    /// Turns one queued recipient into a message in the bulk lane of the outbox (and their
    /// history, marked as the broadcast's), in one transaction. `None` when they were no
    /// longer waiting (done already, or the broadcast is no longer sending).
    pub fn materialize(
        &self,
        broadcast: &Broadcast,
        queued: &Queued,
        delivery: &crate::broadcast::Delivery,
    ) -> Result<Option<OutboxItem>, StoreError> {
        let id = self.db.generate_id()?;
        let now = now_ms();
        let phone = &queued.phone;
        let position_key = keys::broadcast_position(broadcast.id);
        let recipient_key = keys::broadcast_recipient(broadcast.id, phone);
        let broadcast_key = keys::broadcast(broadcast.id);
        let (record, item) =
            crate::store::sled::broadcast_outbound(id, broadcast, phone, delivery, now);
        let done = self.tree.transaction(|tx| {
            // Paused or cancelled since the dispatcher looked: nobody more gets it.
            let sending = tx_get::<Broadcast>(tx, &broadcast_key)?
                .is_some_and(|b| b.status == Status::Sending);
            if !sending || tx.get(recipient_key.as_bytes())?.is_some() {
                return Ok(false);
            }
            advance(tx, &position_key, queued.position)?;
            tx_put(tx, &keys::message(id), &record)?;
            tx.insert(keys::history(phone, id).as_bytes(), &[] as &[u8])?;
            put_outbox(tx, &item, None)?;
            tx_put(
                tx,
                &recipient_key,
                &Recipient {
                    language: delivery.language,
                    channel: delivery.channel,
                    status: RecipientStatus::Queued,
                    message_id: Some(id),
                    error: None,
                },
            )?;
            Ok(true)
        })?;
        Ok(done.then_some(item))
    }

    /// A queued recipient will not get it (opted out since, no channel any more…).
    pub fn skip_recipient(
        &self,
        broadcast: u64,
        queued: &Queued,
        status: RecipientStatus,
        reason: &str,
    ) -> Result<(), StoreError> {
        let position_key = keys::broadcast_position(broadcast);
        let recipient_key = keys::broadcast_recipient(broadcast, &queued.phone);
        let row = Recipient {
            language: queued.language,
            channel: queued.channel,
            status,
            message_id: None,
            error: Some(reason.to_string()),
        };
        self.tree.transaction(|tx| {
            if tx.get(recipient_key.as_bytes())?.is_some() {
                return Ok(());
            }
            tx_put(tx, &recipient_key, &row)?;
            advance(tx, &position_key, queued.position)?;
            Ok(())
        })?;
        Ok(())
    }

    /// How many were still waiting when a broadcast was cancelled (they show as cancelled in
    /// its progress and report; nothing needs writing, the broadcast's status says it).
    pub fn cancel_queued(&self, broadcast: u64) -> Result<u64, StoreError> {
        let mut waiting = 0;
        self.entries_after_position(broadcast, |q| {
            if self
                .tree
                .get(keys::broadcast_recipient(broadcast, &q.phone).as_bytes())?
                .is_none()
            {
                waiting += 1;
            }
            Ok(true)
        })?;
        Ok(waiting)
    }

    /// Broadcasts that name the person in their audience, with the number replaced by the
    /// erased marker (which matches nobody: an emptied list would mean everyone).
    pub(super) fn broadcasts_naming(
        &self,
        phone: &ContactId,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for mut b in self.scan::<Broadcast>("b/")? {
            let mut named = false;
            for p in b.audience.phones.iter_mut().filter(|p| *p == phone) {
                *p = ContactId::erased();
                named = true;
            }
            if named {
                out.push((keys::broadcast(b.id), encode(&b)?));
            }
        }
        Ok(out)
    }

    /// Takes a person out of every broadcast audience (erasure): their entries become
    /// tombstones, so positions of everyone else stay as they were. Returns the chunks to
    /// write, for the erasure's own transaction.
    pub(super) fn audience_chunks_without(
        &self,
        phone: &ContactId,
    ) -> Result<Vec<(sled::IVec, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.tree.scan_prefix(keys::BROADCAST_CHUNKS.as_bytes()) {
            let (k, v) = kv?;
            let mut entries: Vec<Option<AudienceEntry>> = decode(&k, &v)?;
            let mut changed = false;
            for e in entries.iter_mut() {
                if e.as_ref().is_some_and(|e| &e.phone == phone) {
                    *e = None;
                    changed = true;
                }
            }
            if changed {
                out.push((k, encode(&entries)?));
            }
        }
        Ok(out)
    }

    /// A broadcast message that will not be sent because its broadcast was cancelled.
    pub fn outbox_cancelled(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let now = now_ms();
        self.tree.transaction(|tx| {
            if !super::remove_outbox(tx, item.message_id)? {
                return Ok(());
            }
            let key = keys::message(item.message_id);
            if let Some(mut m) = tx_get::<MessageRecord>(tx, &key)? {
                m.status = MessageStatus::Failed;
                m.error = Some("the broadcast was cancelled".into());
                m.updated_at = now;
                tx_put(tx, &key, &m)?;
                if let Some(b) = m.broadcast {
                    let rk = keys::broadcast_recipient(b, &m.contact);
                    if let Some(mut r) = tx_get::<Recipient>(tx, &rk)? {
                        r.status = RecipientStatus::Cancelled;
                        tx_put(tx, &rk, &r)?;
                    }
                }
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Every recipient of a broadcast, in phone order (report, progress): the frozen audience
    /// merged with the rows of those already dealt with. Someone still waiting is queued, or
    /// cancelled when the broadcast was.
    pub fn for_each_recipient(
        &self,
        broadcast: u64,
        mut each: impl FnMut(ContactId, Recipient),
    ) -> Result<(), StoreError> {
        let cancelled = self
            .broadcast(broadcast)?
            .is_some_and(|b| b.status == Status::Cancelled);
        let prefix = keys::broadcast_recipients(broadcast);
        let mut rows = self
            .tree
            .scan_prefix(prefix.as_bytes())
            .filter_map(|kv| match kv {
                Ok((k, v)) => phone_after_prefix(&k, &prefix)
                    .map(|p| decode::<Recipient>(&k, &v).map(|r| (p, r))),
                Err(e) => Some(Err(StoreError::from(e))),
            })
            .peekable();
        let chunks = keys::broadcast_chunks(broadcast);
        for kv in self.tree.scan_prefix(chunks.as_bytes()) {
            let (k, v) = kv?;
            let entries: Vec<Option<AudienceEntry>> = decode(&k, &v)?;
            for entry in entries.into_iter().flatten() {
                // Rows of people before this one that are not in the audience (a test send
                // has none; an older store wrote rows only) still count.
                while let Some(Ok((p, _))) = rows.peek() {
                    if p.as_str() >= entry.phone.as_str() {
                        break;
                    }
                    if let Some(Ok((p, r))) = rows.next() {
                        each(p, r);
                    }
                }
                match rows.peek() {
                    Some(Err(_)) => {
                        if let Some(Err(e)) = rows.next() {
                            return Err(e);
                        }
                    }
                    Some(Ok((p, _))) if p == &entry.phone => {
                        if let Some(Ok((p, r))) = rows.next() {
                            each(p, r);
                        }
                    }
                    _ => each(
                        entry.phone,
                        Recipient {
                            language: entry.language,
                            channel: entry.channel,
                            status: if cancelled {
                                RecipientStatus::Cancelled
                            } else {
                                RecipientStatus::Queued
                            },
                            message_id: None,
                            error: None,
                        },
                    ),
                }
            }
        }
        for row in rows {
            let (p, r) = row?;
            each(p, r);
        }
        Ok(())
    }

    /// One recipient's row (someone already dealt with).
    pub fn recipient(
        &self,
        broadcast: u64,
        phone: &ContactId,
    ) -> Result<Option<Recipient>, StoreError> {
        self.get(&keys::broadcast_recipient(broadcast, phone))
    }

    pub fn broadcast_progress(&self, broadcast: u64) -> Result<Progress, StoreError> {
        let mut progress = Progress::default();
        self.for_each_recipient(broadcast, |_, r| progress.add(r.status))?;
        Ok(progress)
    }

    /// Queues a test send of a broadcast to one number, now, in the interactive lane (staff
    /// are waiting for it), marked as the broadcast's.
    pub fn queue_test_send(
        &self,
        broadcast: &Broadcast,
        phone: &ContactId,
        delivery: &crate::broadcast::Delivery,
        user: &str,
    ) -> Result<u64, StoreError> {
        let id = self.db.generate_id()?;
        let reply = super::Outgoing {
            text: delivery.text.clone(),
            interactive: None,
        };
        let (mut record, item) = super::new_outbound(
            id,
            phone,
            delivery.channel,
            Author::User(user.to_string()),
            &reply,
            Some(delivery.language),
            now_ms(),
        );
        record.broadcast = Some(broadcast.id);
        self.tree.transaction(|tx| {
            tx_put(tx, &keys::message(id), &record)?;
            tx.insert(keys::history(phone, id).as_bytes(), &[] as &[u8])?;
            put_outbox(tx, &item, None)?;
            Ok(())
        })?;
        Ok(id)
    }
}
