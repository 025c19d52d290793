//! Broadcasts: the records, the frozen audience (one compact recipient row per person, which
//! is also the bulk queue: a row that is queued without a message id is still to be sent), a
//! cursor over those rows for the dispatcher, and the enqueue cursor that lets a restart
//! resume exactly where enqueueing stopped.

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::{Store, StoreError, TxResult, decode, encode, keys, put_outbox, tx_get, tx_put};
use crate::broadcast::{Broadcast, Progress, Recipient, RecipientStatus, Status, Valid};
use crate::domain::*;
use crate::phone::PhoneNumber;

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
    pub after: Option<PhoneNumber>,
    /// Every contact was looked at.
    pub done: bool,
    /// Recipients written so far.
    pub written: u64,
}

/// Keeps a broadcast recipient's row in step with its message (called in the transaction that
/// changes the message). Statuses never move backwards.
pub(super) fn track(tx: &TransactionalTree, m: &MessageRecord) -> TxResult<()> {
    let Some(b) = m.broadcast else {
        return Ok(());
    };
    let key = keys::broadcast_recipient(b, &m.phone);
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

/// Queued and not yet an outbox message.
fn is_waiting(r: &Recipient) -> bool {
    r.status == RecipientStatus::Queued && r.message_id.is_none()
}

fn phone_after_prefix(key: &[u8], prefix: &str) -> Option<PhoneNumber> {
    std::str::from_utf8(key.get(prefix.len()..)?)
        .ok()
        .and_then(|p| PhoneNumber::parse(p).ok())
}

impl Store {
    pub fn create_broadcast(&self, valid: Valid, user: &str) -> Result<Broadcast, StoreError> {
        let id = self.db.generate_id()?;
        let now = now_ms();
        let broadcast = Broadcast {
            id,
            name: valid.name,
            texts: valid.texts,
            fallback: valid.fallback,
            audience: valid.audience,
            send_at: valid.send_at,
            status: Status::Draft,
            created_by: user.to_string(),
            created_at: now,
            approved_by: None,
            sent_by: None,
            released_at: None,
            frozen: None,
            updated_at: now,
        };
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
        after: Option<&PhoneNumber>,
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

    /// Writes one batch of a broadcast's recipients and the cursor, as one atomic sled batch
    /// (one key per recipient: the row is the queue entry too): after a crash either all of it is there and the
    /// cursor says so, or none of it is. Keys are per (broadcast, phone), so a redo cannot
    /// duplicate anyone.
    pub fn enqueue_recipients(
        &self,
        broadcast: u64,
        recipients: &[(PhoneNumber, Recipient)],
        cursor: &EnqueueCursor,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (phone, r) in recipients {
            batch.insert(
                keys::broadcast_recipient(broadcast, phone).as_bytes(),
                encode(r)?,
            );
        }
        batch.insert(
            keys::broadcast_cursor(broadcast).as_bytes(),
            encode(cursor)?,
        );
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    /// Recipient rows after the dispatcher's cursor, in phone order, while `each` says go on.
    fn rows_after_cursor(
        &self,
        broadcast: u64,
        mut each: impl FnMut(PhoneNumber, Recipient) -> bool,
    ) -> Result<(), StoreError> {
        let prefix = keys::broadcast_recipients(broadcast);
        let start = match self.get::<PhoneNumber>(&keys::broadcast_materialized(broadcast))? {
            Some(p) => {
                let mut k = keys::broadcast_recipient(broadcast, &p).into_bytes();
                k.push(0);
                k
            }
            None => prefix.clone().into_bytes(),
        };
        for kv in self.tree.range(start..) {
            let (k, v) = kv?;
            if !k.starts_with(prefix.as_bytes()) {
                break;
            }
            if let Some(p) = phone_after_prefix(&k, &prefix) {
                if !each(p, decode(&k, &v)?) {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The next recipients not yet turned into outbox messages (at most `limit`).
    pub fn bulk_queue(&self, broadcast: u64, limit: usize) -> Result<Vec<PhoneNumber>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.rows_after_cursor(broadcast, |p, r| {
            if is_waiting(&r) {
                out.push(p);
            }
            out.len() < limit
        })?;
        Ok(out)
    }

    /// Nothing of the broadcast is left to send: no recipient waiting, no message in the outbox.
    pub fn broadcast_drained(&self, broadcast: u64) -> Result<bool, StoreError> {
        let mut waiting = false;
        self.rows_after_cursor(broadcast, |_, r| {
            waiting = is_waiting(&r);
            !waiting
        })?;
        let outbox = keys::broadcast_outbox_prefix(broadcast);
        Ok(!waiting && self.tree.scan_prefix(outbox.as_bytes()).next().is_none())
    }

    /// Turns one queued recipient into a message in the bulk lane of the outbox (and their
    /// history, marked as the broadcast's), in one transaction. `None` when they were no
    /// longer queued (done already, or cancelled).
    pub fn materialize(
        &self,
        broadcast: &Broadcast,
        phone: &PhoneNumber,
        delivery: &crate::broadcast::Delivery,
    ) -> Result<Option<OutboxItem>, StoreError> {
        let id = self.db.generate_id()?;
        let now = now_ms();
        let cursor_key = keys::broadcast_materialized(broadcast.id);
        let recipient_key = keys::broadcast_recipient(broadcast.id, phone);
        let record = MessageRecord {
            id,
            phone: phone.clone(),
            direction: Direction::Out,
            channel: delivery.channel,
            author: Author::User(broadcast.created_by.clone()),
            text: delivery.text.clone(),
            external_id: None,
            status: MessageStatus::Queued,
            error: None,
            created_at: now,
            updated_at: now,
            media: None,
            media_file: None,
            unsupported: None,
            broadcast: Some(broadcast.id),
        };
        let item = OutboxItem {
            message_id: id,
            channel: delivery.channel,
            to: phone.clone(),
            text: delivery.text.clone(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            interactive: None,
            language: Some(delivery.language),
            held: None,
            lane: Lane::Bulk,
            broadcast: Some(broadcast.id),
        };
        let done = self.tree.transaction(|tx| {
            if !tx_get::<Recipient>(tx, &recipient_key)?.is_some_and(|r| is_waiting(&r)) {
                return Ok(false);
            }
            tx_put(tx, &cursor_key, phone)?;
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
        phone: &PhoneNumber,
        status: RecipientStatus,
        reason: &str,
    ) -> Result<(), StoreError> {
        let cursor_key = keys::broadcast_materialized(broadcast);
        let recipient_key = keys::broadcast_recipient(broadcast, phone);
        self.tree.transaction(|tx| {
            let Some(mut r) = tx_get::<Recipient>(tx, &recipient_key)? else {
                return Ok(());
            };
            if !is_waiting(&r) {
                return Ok(());
            }
            r.status = status;
            r.error = Some(reason.to_string());
            tx_put(tx, &recipient_key, &r)?;
            tx_put(tx, &cursor_key, phone)?;
            Ok(())
        })?;
        Ok(())
    }

    /// Everyone still waiting for a cancelled broadcast is marked cancelled, in batches.
    /// Returns how many.
    pub fn cancel_queued(&self, broadcast: u64) -> Result<u64, StoreError> {
        let mut cancelled = 0;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        let mut failed = None;
        self.rows_after_cursor(broadcast, |phone, mut r| {
            if is_waiting(&r) {
                r.status = RecipientStatus::Cancelled;
                match encode(&r) {
                    Ok(bytes) => {
                        batch.insert(
                            keys::broadcast_recipient(broadcast, &phone).as_bytes(),
                            bytes,
                        );
                        in_batch += 1;
                        cancelled += 1;
                    }
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
            }
            true
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        if in_batch > 0 {
            self.tree.apply_batch(batch)?;
        }
        Ok(cancelled)
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
                    let rk = keys::broadcast_recipient(b, &m.phone);
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

    /// Every recipient of a broadcast, in phone order (report).
    pub fn for_each_recipient(
        &self,
        broadcast: u64,
        mut each: impl FnMut(PhoneNumber, Recipient),
    ) -> Result<(), StoreError> {
        let prefix = keys::broadcast_recipients(broadcast);
        for kv in self.tree.scan_prefix(prefix.as_bytes()) {
            let (k, v) = kv?;
            if let Some(p) = phone_after_prefix(&k, &prefix) {
                each(p, decode(&k, &v)?);
            }
        }
        Ok(())
    }

    /// One recipient's row.
    pub fn recipient(
        &self,
        broadcast: u64,
        phone: &PhoneNumber,
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
        phone: &PhoneNumber,
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
