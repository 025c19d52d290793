//! PostgreSQL: the Outbox port.
//!
//! An outbox row is the `OutboxItem` as jsonb beside the columns the dispatcher reads: its
//! lane, due time and whether it is held (the due index, sled's `od/`/`odb/`), and its
//! recipient (sled's `or/`/`orb/`). Every change to a queued message takes the recipient's
//! contact lock first, so it is ordered with the conversation step and ticket actions.

use super::*;
use crate::store::Outgoing;
use crate::store::sled::new_outbound;

fn lane_name(lane: Lane) -> &'static str {
    match lane {
        Lane::Interactive => "interactive",
        Lane::Bulk => "bulk",
    }
}

/// Writes (or replaces) an outbox row from its item.
pub(crate) async fn write_outbox(tx: &mut Tx, item: &OutboxItem) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (message_id, contact, lane, next_attempt_at, held, broadcast, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (message_id) DO UPDATE SET contact = EXCLUDED.contact, \
         lane = EXCLUDED.lane, next_attempt_at = EXCLUDED.next_attempt_at, \
         held = EXCLUDED.held, broadcast = EXCLUDED.broadcast, data = EXCLUDED.data",
    )
    .bind(db_id(item.message_id))
    .bind(item.to.as_str())
    .bind(lane_name(item.lane))
    .bind(item.next_attempt_at as i64)
    .bind(item.held.is_some())
    .bind(item.broadcast.map(db_id))
    .bind(to_json(item)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues an outbound message: its record (in the person's history) and its outbox row, in the
/// caller's transaction (which holds the recipient's `lock_contact`). Used by the conversation
/// step, `queue_message`, Desk `reply` and Broadcasts `materialize` / `queue_test_send`.
pub(crate) async fn put_outbound(
    store: &PgStore,
    tx: &mut Tx,
    record: &MessageRecord,
    item: &OutboxItem,
) -> Result<(), StoreError> {
    save_message(tx, record).await?;
    write_outbox(tx, item).await?;
    // A reply, due now, queued on a replica that does not send: the sender hears of it at
    // commit. The sender's own replies wake its dispatcher in-process, and the bulk lane is
    // filled by the sender itself, at the provider's pace: neither needs the notification
    // (which makes its commit wait for a database-wide lock).
    let sender_here = store.0.sends.load(std::sync::atomic::Ordering::Relaxed);
    if item.lane == Lane::Interactive && item.held.is_none() && !sender_here {
        super::replicas::announce_queued(tx).await?;
    }
    Ok(())
}

/// Removes a queued message; false when it was not queued.
pub(crate) async fn remove_outbox(tx: &mut Tx, message_id: u64) -> Result<bool, StoreError> {
    let removed = sqlx::query("DELETE FROM outbox WHERE message_id = $1")
        .bind(db_id(message_id))
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(removed > 0)
}

/// Removes every queued message of a person (erasure); the ids removed, in id order.
pub(crate) async fn remove_outbox_of(
    tx: &mut Tx,
    contact: &ContactId,
) -> Result<Vec<u64>, StoreError> {
    let mut ids: Vec<i64> =
        sqlx::query_scalar("DELETE FROM outbox WHERE contact = $1 RETURNING message_id")
            .bind(contact.as_str())
            .fetch_all(&mut **tx)
            .await?;
    ids.sort_unstable();
    Ok(ids.into_iter().map(|id| id as u64).collect())
}

/// The stored outbox item, its row locked until the transaction ends.
async fn load_outbox(tx: &mut Tx, message_id: u64) -> Result<Option<OutboxItem>, StoreError> {
    let row: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT data FROM outbox WHERE message_id = $1 FOR UPDATE")
            .bind(db_id(message_id))
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|v| from_json(v, format_args!("outbox item {message_id}")))
        .transpose()
}

/// Files a provider's id for one of our messages (status reports find it by this), if the
/// message is still there.
pub(crate) async fn file_external_id(
    tx: &mut Tx,
    channel: Channel,
    external_id: &str,
    message_id: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO external_ids (space, external_id, message_id) \
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM messages WHERE id = $3) \
         ON CONFLICT (space, external_id) DO UPDATE SET message_id = EXCLUDED.message_id",
    )
    .bind(external_space(channel))
    .bind(external_id)
    .bind(db_id(message_id))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A provider's id space: Twilio SMS and WhatsApp share one (MessageSid).
pub(crate) fn external_space(channel: Channel) -> &'static str {
    match channel {
        Channel::TwilioSms | Channel::TwilioWhatsapp => "twilio",
        Channel::Simulator => "simulator",
        Channel::Whatsapp => "whatsapp",
        Channel::Gateway => "gateway",
    }
}

/// A broadcast's bookkeeping when one of its messages changed (sled's `broadcasts::track`
/// and the cancel in `outbox_cancelled`): the recipient row follows the message. The rows are
/// the staff half's (`broadcast_recipients`); their helpers do it.
pub(crate) async fn track_broadcast(
    tx: &mut Tx,
    message: &MessageRecord,
    cancelled: bool,
) -> Result<(), StoreError> {
    if cancelled {
        super::broadcasts::recipient_cancelled(tx, message).await
    } else {
        super::broadcasts::track(tx, message).await
    }
}

impl PgStore {
    async fn due_in_lane(
        &self,
        lane: Lane,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        // One replica sends (provider rate limits hold, each message goes once); the others
        // look again every second in case it is gone.
        if !self.dispatcher_turn().await {
            return Ok((Vec::new(), Some(now + STANDBY_LOOK_MS)));
        }
        // Other replicas queue replies without waking this one's dispatcher: it looks at
        // least once a second anyway, which bounds how long such a reply waits.
        self.due_rows(lane, now, limit).await
    }

    async fn due_rows(
        &self,
        lane: Lane,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        // Like sled's due index: by due time, then id; the first row not returned (not due
        // yet, or past the limit) says when to look again.
        let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
            "SELECT next_attempt_at, data FROM outbox WHERE lane = $1 AND NOT held \
             ORDER BY next_attempt_at, message_id LIMIT $2",
        )
        .bind(lane_name(lane))
        .bind(limit.saturating_add(1).min(i64::MAX as usize) as i64)
        .fetch_all(self.pool())
        .await?;
        let mut items = Vec::with_capacity(rows.len().min(limit));
        for (due, data) in rows {
            let due = due as u64;
            if due > now || items.len() >= limit {
                return Ok((items, Some(due)));
            }
            items.push(from_json(data, "an outbox item")?);
        }
        Ok((items, None))
    }

    async fn items(
        &self,
        sql: &str,
        contact: Option<&ContactId>,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let query = sqlx::query_scalar::<_, serde_json::Value>(sql);
        let query = match contact {
            Some(c) => query.bind(c.as_str()),
            None => query,
        };
        query
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|v| from_json(v, "an outbox item"))
            .collect()
    }
}

/// How often a replica that does not send asks whether the sender is gone.
const STANDBY_LOOK_MS: Millis = 1_000;

#[async_trait]
impl Outbox for PgStore {
    /// A broadcast's message withdrawn (the broadcast was cancelled): it leaves the outbox,
    /// marked failed, its recipient cancelled.
    async fn outbox_cancelled(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, &item.to).await?;
        if !remove_outbox(&mut tx, item.message_id).await? {
            return Ok(());
        }
        if let Some(mut m) = load_message(&mut tx, item.message_id, true).await? {
            m.status = MessageStatus::Failed;
            m.error = Some("the broadcast was cancelled".into());
            m.updated_at = now_ms();
            save_message(&mut tx, &m).await?;
            track_broadcast(&mut tx, &m, true).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn outbox(&self) -> Result<Vec<OutboxItem>, StoreError> {
        self.items("SELECT data FROM outbox ORDER BY message_id", None)
            .await
    }

    async fn outbox_depth(&self) -> Result<usize, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(self.pool())
            .await?;
        Ok(n as usize)
    }

    /// The provider accepted the message: it leaves the outbox and gets the provider's id.
    async fn outbox_accepted(
        &self,
        item: &OutboxItem,
        external_id: &str,
        status: MessageStatus,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, &item.to).await?;
        remove_outbox(&mut tx, item.message_id).await?;
        if let Some(mut m) = load_message(&mut tx, item.message_id, true).await? {
            m.external_id = Some(external_id.to_owned());
            // A status callback may have arrived before the API answered.
            if status.rank() >= m.status.rank() {
                m.status = status;
            }
            m.updated_at = now_ms();
            save_message(&mut tx, &m).await?;
            track_broadcast(&mut tx, &m, false).await?;
        }
        file_external_id(&mut tx, item.channel, external_id, item.message_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A failed attempt, retried at `item.next_attempt_at` (or held): only if still queued.
    async fn outbox_retry(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, &item.to).await?;
        if load_outbox(&mut tx, item.message_id).await?.is_some() {
            write_outbox(&mut tx, item).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn queue_message(
        &self,
        phone: &ContactId,
        channel: Channel,
        author: Author,
        text: &str,
        language: Option<Lang>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, phone).await?;
        let id = self
            .next_ids(&mut tx, 1)
            .await?
            .first()
            .copied()
            .ok_or_else(|| StoreError::Database("no id from kabar_ids".into()))?;
        let reply = Outgoing {
            text: text.to_owned(),
            interactive: None,
        };
        let (record, item) = new_outbound(id, phone, channel, author, &reply, language, now_ms());
        put_outbound(self, &mut tx, &record, &item).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The message goes another way (SMS instead of WhatsApp): outbox row and log follow.
    async fn outbox_reroute(&self, item: &OutboxItem, note: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, &item.to).await?;
        if load_outbox(&mut tx, item.message_id).await?.is_none() {
            return Ok(());
        }
        write_outbox(&mut tx, item).await?;
        if let Some(mut m) = load_message(&mut tx, item.message_id, true).await? {
            m.channel = item.channel;
            m.error = Some(note.to_owned());
            m.updated_at = now_ms();
            save_message(&mut tx, &m).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A person's queued messages: replies first, then broadcast messages, each oldest first.
    async fn outbox_of(&self, phone: &ContactId) -> Result<Vec<OutboxItem>, StoreError> {
        self.items(
            "SELECT data FROM outbox WHERE contact = $1 \
             ORDER BY lane = 'bulk', message_id",
            Some(phone),
        )
        .await
    }

    /// The oldest queued reply (interactive lane, held or not): only it may be sent.
    async fn first_outbox_of(&self, phone: &ContactId) -> Result<Option<u64>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT message_id FROM outbox WHERE contact = $1 AND lane = 'interactive' \
             ORDER BY message_id LIMIT 1",
        )
        .bind(phone.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(id.map(|id| id as u64))
    }

    async fn due_outbox(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        self.due_in_lane(Lane::Interactive, now, limit).await
    }

    async fn due_bulk(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        self.due_in_lane(Lane::Bulk, now, limit).await
    }

    /// Held messages of `phone` go out again now (the person wrote: the window is open).
    async fn release_held(&self, phone: &ContactId) -> Result<usize, StoreError> {
        // Every answer calls this and almost always nothing is held: look before locking.
        let any: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE contact = $1 AND held)")
                .bind(phone.as_str())
                .fetch_one(self.pool())
                .await?;
        if !any {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, phone).await?;
        let held: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT data FROM outbox WHERE contact = $1 AND held \
             ORDER BY lane = 'bulk', message_id FOR UPDATE",
        )
        .bind(phone.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let now = now_ms();
        let mut released = 0;
        for data in held {
            let mut item: OutboxItem = from_json(data, "an outbox item")?;
            item.held = None;
            item.next_attempt_at = now;
            write_outbox(&mut tx, &item).await?;
            released += 1;
        }
        tx.commit().await?;
        Ok(released)
    }

    /// Messages that could not be delivered, newest first.
    async fn failed_messages(&self) -> Result<Vec<MessageRecord>, StoreError> {
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT m.data FROM failed_messages f JOIN messages m ON m.id = f.message_id \
             ORDER BY f.message_id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|v| from_json(v, "a failed message"))
            .collect()
    }

    /// The message will not be sent: it leaves the outbox, marked failed with the reason.
    async fn outbox_failed(&self, item: &OutboxItem, reason: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, &item.to).await?;
        sqlx::query(
            "INSERT INTO failed_messages (message_id) \
             SELECT $1 WHERE EXISTS (SELECT 1 FROM messages WHERE id = $1) \
             ON CONFLICT DO NOTHING",
        )
        .bind(db_id(item.message_id))
        .execute(&mut *tx)
        .await?;
        remove_outbox(&mut tx, item.message_id).await?;
        if let Some(mut m) = load_message(&mut tx, item.message_id, true).await? {
            m.status = MessageStatus::Failed;
            m.error = Some(reason.to_owned());
            m.updated_at = now_ms();
            save_message(&mut tx, &m).await?;
            track_broadcast(&mut tx, &m, false).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
