//! PostgreSQL: the Broadcasts port. The frozen audience is one row per person
//! (`broadcast_audience`, numbered chunk and index as sled numbers it), written a batch per
//! statement (`UNNEST` of arrays) with the enqueue cursor in the same transaction; the
//! dispatcher's position is a row that only moves forward; a person dealt with gets a row in
//! `broadcast_recipients`, whose primary key is what keeps two replicas from sending anyone
//! the same broadcast twice. Progress and the report are aggregate queries over both.

use serde::de::DeserializeOwned;
use sqlx::Row;

use super::*;
use crate::store::Position;

/// How serde names an enum value (`fa-AF`, `twilio-sms`, `queued`): the text columns hold it.
pub(crate) fn name_of<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    match to_json(value)? {
        serde_json::Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}

/// The enum value a text column holds.
pub(crate) fn parse_name<T: DeserializeOwned>(text: String, what: &str) -> Result<T, StoreError> {
    from_json(serde_json::Value::String(text), what)
}

pub(crate) fn contact_of(text: String) -> Result<ContactId, StoreError> {
    ContactId::try_from(text).map_err(|e| StoreError::Corrupt {
        key: "a broadcast's contact".into(),
        reason: e.to_string(),
    })
}

/// Statuses move forward only: queued, then sent, then one of the final ones.
fn rank(s: RecipientStatus) -> i32 {
    match s {
        RecipientStatus::Queued => 0,
        RecipientStatus::Sent => 1,
        RecipientStatus::Delivered | RecipientStatus::Failed | RecipientStatus::Cancelled => 2,
    }
}

/// Keeps a broadcast recipient's row in step with their message: call it in the transaction
/// that changes the message's status (accepted, a delivery report, failed). A test send has
/// no row; statuses never move backwards.
pub(crate) async fn track(tx: &mut Tx, m: &MessageRecord) -> Result<(), StoreError> {
    let Some(b) = m.broadcast else {
        return Ok(());
    };
    let status = RecipientStatus::from_message(m.status);
    let error = (status == RecipientStatus::Failed)
        .then(|| m.error.clone())
        .flatten();
    sqlx::query(
        "UPDATE broadcast_recipients SET status = $4, error = $5 \
         WHERE broadcast = $1 AND contact = $2 AND message_id = $3 \
         AND (CASE status WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 ELSE 2 END) <= $6",
    )
    .bind(db_id(b))
    .bind(m.contact.as_str())
    .bind(db_id(m.id))
    .bind(name_of(&status)?)
    .bind(error)
    .bind(rank(status))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A broadcast message withdrawn because its broadcast was cancelled (`outbox_cancelled`):
/// the recipient shows as cancelled. Call it in the transaction that withdraws the message.
pub(crate) async fn recipient_cancelled(tx: &mut Tx, m: &MessageRecord) -> Result<(), StoreError> {
    let Some(b) = m.broadcast else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE broadcast_recipients SET status = 'cancelled' WHERE broadcast = $1 AND contact = $2",
    )
    .bind(db_id(b))
    .bind(m.contact.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes a person out of every broadcast (erasure): their audience and recipient rows go
/// (everyone else keeps their position), and an audience naming them names the erased marker
/// instead (which matches nobody: an emptied list would mean everyone).
pub(crate) async fn erase_from_broadcasts(
    tx: &mut Tx,
    phone: &ContactId,
) -> Result<(), StoreError> {
    for table in ["broadcast_audience", "broadcast_recipients"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE contact = $1"))
            .bind(phone.as_str())
            .execute(&mut **tx)
            .await?;
    }
    let naming: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT data FROM broadcasts WHERE data -> 'audience' -> 'phones' ? $1 FOR UPDATE",
    )
    .bind(phone.as_str())
    .fetch_all(&mut **tx)
    .await?;
    for data in naming {
        let mut b: Broadcast = from_json(data, "a broadcast")?;
        for p in b.audience.phones.iter_mut().filter(|p| *p == phone) {
            *p = ContactId::erased();
        }
        sqlx::query("UPDATE broadcasts SET data = $2 WHERE id = $1")
            .bind(db_id(b.id))
            .bind(to_json(&b)?)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn load_broadcast(
    conn: &mut sqlx::PgConnection,
    id: u64,
    lock: &str,
) -> Result<Option<Broadcast>, StoreError> {
    let row: Option<serde_json::Value> =
        sqlx::query_scalar(&format!("SELECT data FROM broadcasts WHERE id = $1 {lock}"))
            .bind(db_id(id))
            .fetch_optional(conn)
            .await?;
    row.map(|v| from_json(v, format_args!("broadcast {id}")))
        .transpose()
}

pub(crate) async fn save_broadcast(tx: &mut Tx, b: &Broadcast) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO broadcasts (id, status, data) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, data = EXCLUDED.data",
    )
    .bind(db_id(b.id))
    .bind(b.status.name())
    .bind(to_json(b)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Serialises the writers of one broadcast's audience across replicas (held to the end of
/// the transaction).
async fn lock_broadcast(tx: &mut Tx, id: u64) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('broadcast:' || $1::text, 0))")
        .bind(db_id(id))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn load_cursor(
    conn: &mut sqlx::PgConnection,
    broadcast: u64,
) -> Result<EnqueueCursor, StoreError> {
    let row = sqlx::query(
        "SELECT after, done, written, chunks FROM broadcast_cursors WHERE broadcast = $1",
    )
    .bind(db_id(broadcast))
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(EnqueueCursor::default());
    };
    Ok(EnqueueCursor {
        after: row
            .try_get::<Option<String>, _>("after")?
            .map(contact_of)
            .transpose()?,
        done: row.try_get("done")?,
        written: row.try_get::<i64, _>("written")? as u64,
        chunks: row.try_get::<i64, _>("chunks")? as u64,
    })
}

/// Whether the person is still in the broadcast's frozen audience and on file (call it under
/// their lock). An erasure since the dispatcher looked took them out: nobody is sent to then.
/// An audience row written for someone erased meanwhile (a runner's batch read before the
/// erasure, written after it) goes, so that their number stays nowhere.
async fn in_audience(tx: &mut Tx, broadcast: u64, phone: &ContactId) -> Result<bool, StoreError> {
    let (listed, on_file): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM broadcast_audience WHERE broadcast = $1 AND contact = $2), \
                EXISTS (SELECT 1 FROM contacts WHERE id = $2)",
    )
    .bind(db_id(broadcast))
    .bind(phone.as_str())
    .fetch_one(&mut **tx)
    .await?;
    if listed && !on_file {
        sqlx::query("DELETE FROM broadcast_audience WHERE broadcast = $1 AND contact = $2")
            .bind(db_id(broadcast))
            .bind(phone.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(listed && on_file)
}

/// The dispatcher's position (chunk, index), or one before the first entry.
async fn position(conn: &mut sqlx::PgConnection, broadcast: u64) -> Result<(i64, i32), StoreError> {
    let row: Option<(i64, i32)> =
        sqlx::query_as("SELECT chunk, idx FROM broadcast_positions WHERE broadcast = $1")
            .bind(db_id(broadcast))
            .fetch_optional(conn)
            .await?;
    Ok(row.unwrap_or((-1, -1)))
}

/// Moves the dispatcher's position forward (never back).
pub(crate) async fn advance(tx: &mut Tx, broadcast: u64, to: Position) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO broadcast_positions (broadcast, chunk, idx) VALUES ($1, $2, $3) \
         ON CONFLICT (broadcast) DO UPDATE SET chunk = EXCLUDED.chunk, idx = EXCLUDED.idx \
         WHERE (broadcast_positions.chunk, broadcast_positions.idx) \
             < (EXCLUDED.chunk, EXCLUDED.idx)",
    )
    .bind(db_id(broadcast))
    .bind(to.chunk as i64)
    .bind(to.index as i32)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Audience entries after the dispatcher's position that nobody dealt with yet, in order.
async fn waiting(
    conn: &mut sqlx::PgConnection,
    broadcast: u64,
    limit: usize,
) -> Result<Vec<Queued>, StoreError> {
    let (chunk, idx) = position(&mut *conn, broadcast).await?;
    let rows = sqlx::query(
        "SELECT a.chunk, a.idx, a.contact, a.language, a.channel FROM broadcast_audience a \
         WHERE a.broadcast = $1 AND (a.chunk, a.idx) > ($2, $3) \
         AND NOT EXISTS (SELECT 1 FROM broadcast_recipients r \
                         WHERE r.broadcast = a.broadcast AND r.contact = a.contact) \
         ORDER BY a.chunk, a.idx LIMIT $4",
    )
    .bind(db_id(broadcast))
    .bind(chunk)
    .bind(idx)
    .bind(limit.min(i64::MAX as usize) as i64)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Queued {
                position: Position {
                    chunk: row.try_get::<i64, _>("chunk")? as u64,
                    index: row.try_get::<i32, _>("idx")? as u32,
                },
                phone: contact_of(row.try_get("contact")?)?,
                language: parse_name(row.try_get("language")?, "an audience language")?,
                channel: parse_name(row.try_get("channel")?, "an audience channel")?,
            })
        })
        .collect()
}

/// Every recipient of a broadcast: the frozen audience merged with the rows of those dealt
/// with (a row wins), plus rows of people not in the audience. Someone still waiting is
/// `$2` (queued, or cancelled when the broadcast was).
const ALL_RECIPIENTS: &str = "\
    SELECT a.contact AS contact, COALESCE(r.language, a.language) AS language, \
           COALESCE(r.channel, a.channel) AS channel, COALESCE(r.status, $2) AS status, \
           r.message_id AS message_id, r.error AS error \
    FROM broadcast_audience a LEFT JOIN broadcast_recipients r \
         ON r.broadcast = a.broadcast AND r.contact = a.contact \
    WHERE a.broadcast = $1 \
    UNION ALL \
    SELECT r.contact, r.language, r.channel, r.status, r.message_id, r.error \
    FROM broadcast_recipients r \
    WHERE r.broadcast = $1 AND NOT EXISTS (SELECT 1 FROM broadcast_audience a \
          WHERE a.broadcast = r.broadcast AND a.contact = r.contact)";

impl PgStore {
    /// What someone still waiting counts as: cancelled when the broadcast was.
    async fn waiting_status(&self, broadcast: u64) -> Result<&'static str, StoreError> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM broadcasts WHERE id = $1")
                .bind(db_id(broadcast))
                .fetch_optional(self.pool())
                .await?;
        Ok(if status.as_deref() == Some(Status::Cancelled.name()) {
            "cancelled"
        } else {
            "queued"
        })
    }

    /// Does the outbox still hold a message of this broadcast that waits for us (not held)?
    async fn broadcast_in_outbox(&self, broadcast: u64) -> Result<bool, StoreError> {
        let mut conn = self.pool().acquire().await?;
        outbox_holds_broadcast(&mut conn, broadcast).await
    }
}

/// Whether the outbox holds a message of the broadcast that is not held for the person.
async fn outbox_holds_broadcast(
    conn: &mut sqlx::PgConnection,
    broadcast: u64,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE broadcast = $1 AND NOT held)",
        )
        .bind(db_id(broadcast))
        .fetch_one(conn)
        .await?,
    )
}

#[async_trait]
impl Broadcasts for PgStore {
    /// Changes a broadcast in one transaction (the row locked): `change` sees the stored
    /// record and refuses or edits it; the audit row is written with it.
    async fn change_broadcast(
        &self,
        id: u64,
        user: &str,
        action: &str,
        change: BroadcastChange,
    ) -> Result<Broadcast, BroadcastError> {
        let mut tx = self.begin().await?;
        let Some(mut b) = load_broadcast(&mut tx, id, "FOR UPDATE").await? else {
            return Err(BroadcastError::NotFound(id));
        };
        change(&mut b)?;
        let now = now_ms();
        b.updated_at = now;
        save_broadcast(&mut tx, &b).await?;
        insert_audit(
            &mut tx,
            &AuditEntry {
                at: now,
                user: user.to_string(),
                action: action.to_string(),
                ticket: None,
                detail: format!("broadcast {id} {:?} → {}", b.name, b.status.name()),
            },
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(b)
    }

    /// Every recipient of a broadcast with their result, in contact order.
    async fn recipients(&self, broadcast: u64) -> Result<Vec<(ContactId, Recipient)>, StoreError> {
        let waiting = self.waiting_status(broadcast).await?;
        let rows = sqlx::query(&format!("{ALL_RECIPIENTS} ORDER BY 1"))
            .bind(db_id(broadcast))
            .bind(waiting)
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok((
                    contact_of(row.try_get("contact")?)?,
                    Recipient {
                        language: parse_name(row.try_get("language")?, "a recipient's language")?,
                        channel: parse_name(row.try_get("channel")?, "a recipient's channel")?,
                        status: parse_name(row.try_get("status")?, "a recipient's status")?,
                        message_id: row
                            .try_get::<Option<i64>, _>("message_id")?
                            .map(|id| id as u64),
                        error: row.try_get("error")?,
                    },
                ))
            })
            .collect()
    }

    async fn create_broadcast(&self, valid: Valid, user: &str) -> Result<Broadcast, StoreError> {
        let mut tx = self.begin().await?;
        let id = super::desk::next_id(self, &mut tx).await?;
        let now = now_ms();
        let broadcast = Broadcast::draft(id, valid, user, now);
        save_broadcast(&mut tx, &broadcast).await?;
        tx.commit().await?;
        Ok(broadcast)
    }

    async fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_broadcast(&mut conn, id, "").await
    }

    /// Every broadcast, newest first.
    async fn broadcasts(&self) -> Result<Vec<Broadcast>, StoreError> {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM broadcasts ORDER BY id DESC")
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|v| from_json(v, "a broadcast"))
            .collect()
    }

    async fn broadcasts_in(&self, statuses: &[Status]) -> Result<Vec<Broadcast>, StoreError> {
        let names: Vec<&str> = statuses.iter().map(|s| s.name()).collect();
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM broadcasts WHERE status = ANY($1) ORDER BY id")
                .bind(names)
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|v| from_json(v, "a broadcast"))
            .collect()
    }

    async fn enqueue_cursor(&self, broadcast: u64) -> Result<EnqueueCursor, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_cursor(&mut conn, broadcast).await
    }

    /// Writes one batch of the audience (one statement for the whole batch) with the cursor,
    /// in one transaction: after a crash either both are there or neither, so a redo neither
    /// skips nor doubles anyone. A batch another replica already wrote (the cursor is past
    /// it) writes nothing, and a person is in an audience once (the unique key).
    async fn enqueue_recipients(
        &self,
        broadcast: u64,
        recipients: &[(ContactId, Recipient)],
        after: Option<ContactId>,
        done: bool,
    ) -> Result<EnqueueCursor, StoreError> {
        let mut tx = self.begin().await?;
        lock_broadcast(&mut tx, broadcast).await?;
        let before = load_cursor(&mut tx, broadcast).await?;
        let stale = before.done
            || matches!((&after, &before.after), (Some(new), Some(old)) if new.as_str() <= old.as_str());
        if stale {
            return Ok(before);
        }
        let mut written = 0;
        if !recipients.is_empty() {
            let mut idx = Vec::with_capacity(recipients.len());
            let mut contacts = Vec::with_capacity(recipients.len());
            let mut languages = Vec::with_capacity(recipients.len());
            let mut channels = Vec::with_capacity(recipients.len());
            for (i, (phone, r)) in recipients.iter().enumerate() {
                idx.push(i as i32);
                contacts.push(phone.as_str().to_string());
                languages.push(name_of(&r.language)?);
                channels.push(name_of(&r.channel)?);
            }
            written = sqlx::query(
                "INSERT INTO broadcast_audience (broadcast, chunk, idx, contact, language, channel) \
                 SELECT $1, $2, t.idx, t.contact, t.language, t.channel \
                 FROM UNNEST($3::int4[], $4::text[], $5::text[], $6::text[]) \
                      AS t(idx, contact, language, channel) \
                 ON CONFLICT (broadcast, contact) DO NOTHING",
            )
            .bind(db_id(broadcast))
            .bind(before.chunks as i64)
            .bind(idx)
            .bind(contacts)
            .bind(languages)
            .bind(channels)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        let cursor = EnqueueCursor {
            // Once done, the last contact looked at is not needed: keep no number there.
            after: if done { None } else { after.or(before.after) },
            done,
            written: before.written + written,
            chunks: before.chunks + u64::from(!recipients.is_empty()),
        };
        sqlx::query(
            "INSERT INTO broadcast_cursors (broadcast, after, done, written, chunks) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (broadcast) DO UPDATE SET after = EXCLUDED.after, done = EXCLUDED.done, \
             written = EXCLUDED.written, chunks = EXCLUDED.chunks",
        )
        .bind(db_id(broadcast))
        .bind(cursor.after.as_ref().map(|c| c.as_str()))
        .bind(cursor.done)
        .bind(cursor.written as i64)
        .bind(cursor.chunks as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(cursor)
    }

    /// The next recipients not yet turned into outbox messages (at most `limit`).
    async fn bulk_queue(&self, broadcast: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.pool().acquire().await?;
        waiting(&mut conn, broadcast, limit).await
    }

    /// Nothing of the broadcast is left to send: no recipient waiting, no message in the
    /// outbox.
    async fn broadcast_drained(&self, broadcast: u64) -> Result<bool, StoreError> {
        if !self.bulk_queue(broadcast, 1).await?.is_empty() {
            return Ok(false);
        }
        Ok(!self.broadcast_in_outbox(broadcast).await?)
    }

    /// Turns one queued recipient into a message in the bulk lane (and their history, marked
    /// as the broadcast's), in one transaction. `None` when they were no longer waiting (done
    /// already, on this replica or another, or the broadcast is no longer sending).
    async fn materialize(
        &self,
        broadcast: &Broadcast,
        queued: &Queued,
        delivery: &crate::broadcast::Delivery,
    ) -> Result<Option<OutboxItem>, StoreError> {
        let phone = &queued.phone;
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, phone).await?;
        // Paused or cancelled since the dispatcher looked: nobody more gets it. The shared
        // lock waits for a change in progress (a cancel) to commit.
        let sending = load_broadcast(&mut tx, broadcast.id, "FOR SHARE")
            .await?
            .is_some_and(|b| b.status == Status::Sending);
        if !sending {
            return Ok(None);
        }
        if !in_audience(&mut tx, broadcast.id, phone).await? {
            tx.commit().await?;
            return Ok(None);
        }
        let id = super::desk::next_id(self, &mut tx).await?;
        let inserted = sqlx::query(
            "INSERT INTO broadcast_recipients \
             (broadcast, contact, language, channel, status, message_id, error) \
             VALUES ($1, $2, $3, $4, 'queued', $5, NULL) \
             ON CONFLICT (broadcast, contact) DO NOTHING",
        )
        .bind(db_id(broadcast.id))
        .bind(phone.as_str())
        .bind(name_of(&delivery.language)?)
        .bind(name_of(&delivery.channel)?)
        .bind(db_id(id))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        advance(&mut tx, broadcast.id, queued.position).await?;
        let now = now_ms();
        let (record, item) =
            crate::store::sled::broadcast_outbound(id, broadcast, phone, delivery, now);
        super::outbox::put_outbound(self, &mut tx, &record, &item).await?;
        tx.commit().await?;
        Ok(Some(item))
    }

    /// A queued recipient will not get it (opted out since, no channel any more…).
    async fn skip_recipient(
        &self,
        broadcast: u64,
        queued: &Queued,
        status: RecipientStatus,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, &queued.phone).await?;
        if !in_audience(&mut tx, broadcast, &queued.phone).await? {
            tx.commit().await?;
            return Ok(());
        }
        let inserted = sqlx::query(
            "INSERT INTO broadcast_recipients \
             (broadcast, contact, language, channel, status, message_id, error) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6) \
             ON CONFLICT (broadcast, contact) DO NOTHING",
        )
        .bind(db_id(broadcast))
        .bind(queued.phone.as_str())
        .bind(name_of(&queued.language)?)
        .bind(name_of(&queued.channel)?)
        .bind(name_of(&status)?)
        .bind(reason)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted > 0 {
            advance(&mut tx, broadcast, queued.position).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many were still waiting when a broadcast was cancelled (they show as cancelled in
    /// its progress and report; nothing needs writing, the broadcast's status says it).
    async fn cancel_queued(&self, broadcast: u64) -> Result<u64, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let (chunk, idx) = position(&mut conn, broadcast).await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM broadcast_audience a \
             WHERE a.broadcast = $1 AND (a.chunk, a.idx) > ($2, $3) \
             AND NOT EXISTS (SELECT 1 FROM broadcast_recipients r \
                             WHERE r.broadcast = a.broadcast AND r.contact = a.contact)",
        )
        .bind(db_id(broadcast))
        .bind(chunk)
        .bind(idx)
        .fetch_one(&mut *conn)
        .await?;
        Ok(count.max(0) as u64)
    }

    /// One recipient's row (someone already dealt with).
    async fn recipient(
        &self,
        broadcast: u64,
        phone: &ContactId,
    ) -> Result<Option<Recipient>, StoreError> {
        let row = sqlx::query(
            "SELECT language, channel, status, message_id, error FROM broadcast_recipients \
             WHERE broadcast = $1 AND contact = $2",
        )
        .bind(db_id(broadcast))
        .bind(phone.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(Recipient {
                language: parse_name(row.try_get("language")?, "a recipient's language")?,
                channel: parse_name(row.try_get("channel")?, "a recipient's channel")?,
                status: parse_name(row.try_get("status")?, "a recipient's status")?,
                message_id: row
                    .try_get::<Option<i64>, _>("message_id")?
                    .map(|id| id as u64),
                error: row.try_get("error")?,
            })
        })
        .transpose()
    }

    /// Counts per status, by one aggregate query.
    async fn broadcast_progress(&self, broadcast: u64) -> Result<Progress, StoreError> {
        let waiting = self.waiting_status(broadcast).await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT status, count(*) FROM ({ALL_RECIPIENTS}) s GROUP BY status"
        ))
        .bind(db_id(broadcast))
        .bind(waiting)
        .fetch_all(self.pool())
        .await?;
        let mut progress = Progress::default();
        for (status, count) in rows {
            let status: RecipientStatus = parse_name(status, "a recipient's status")?;
            let count = count.max(0) as u64;
            match status {
                RecipientStatus::Queued => progress.queued += count,
                RecipientStatus::Sent => progress.sent += count,
                RecipientStatus::Delivered => progress.delivered += count,
                RecipientStatus::Failed => progress.failed += count,
                RecipientStatus::Cancelled => progress.cancelled += count,
            }
        }
        Ok(progress)
    }

    /// Queues a test send of a broadcast to one number, now, in the interactive lane (staff
    /// are waiting for it), marked as the broadcast's.
    async fn queue_test_send(
        &self,
        broadcast: &Broadcast,
        phone: &ContactId,
        delivery: &crate::broadcast::Delivery,
        user: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, phone).await?;
        let id = super::desk::next_id(self, &mut tx).await?;
        let reply = crate::store::Outgoing {
            text: delivery.text.clone(),
            interactive: None,
        };
        let (mut record, item) = crate::store::sled::new_outbound(
            id,
            phone,
            delivery.channel,
            Author::User(user.to_string()),
            &reply,
            Some(delivery.language),
            now_ms(),
        );
        record.broadcast = Some(broadcast.id);
        super::outbox::put_outbound(self, &mut tx, &record, &item).await?;
        tx.commit().await?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broadcast::{Delivery, Draft, DraftAudience};
    use crate::store::postgres::accounts::replicas;

    async fn sending(store: &PgStore) -> Broadcast {
        let draft = Draft {
            name: "December payment".into(),
            texts: std::collections::BTreeMap::from([("fa-AF".into(), "salam".into())]),
            fallback: None,
            audience: DraftAudience::default(),
            send_at: None,
        };
        let valid = crate::broadcast::validate(draft, now_ms()).unwrap();
        let b = store.create_broadcast(valid, "sara").await.unwrap();
        store
            .change_broadcast(
                b.id,
                "sara",
                "send",
                Box::new(|b| {
                    b.status = Status::Sending;
                    Ok(())
                }),
            )
            .await
            .unwrap()
    }

    fn queued(n: u32) -> (ContactId, Recipient) {
        (
            ContactId::parse(&format!("+62812{n:08}")).unwrap(),
            Recipient {
                language: Lang::Dari,
                channel: Channel::TwilioSms,
                status: RecipientStatus::Queued,
                message_id: None,
                error: None,
            },
        )
    }

    /// Two replicas' dispatchers turn the same recipients into messages at once, and two
    /// runners enqueue the same batch: everyone is in the audience once and gets one message.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_replicas_never_double_a_broadcast() {
        let Some((a, b)) = replicas::two("broadcast_race").await else {
            return;
        };
        let broadcast = sending(&a).await;
        let batch: Vec<_> = (1..=20).map(queued).collect();
        let mut tx = a.begin().await.unwrap();
        for (phone, _) in &batch {
            save_contact(&mut tx, &Contact::new(phone.clone(), now_ms()))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let last = batch.last().map(|(p, _)| p.clone());
        let (ca, cb) = tokio::join!(
            a.enqueue_recipients(broadcast.id, &batch, last.clone(), true),
            b.enqueue_recipients(broadcast.id, &batch, last.clone(), true)
        );
        assert_eq!(ca.unwrap().written, 20);
        assert_eq!(cb.unwrap().written, 20);
        assert_eq!(a.recipients(broadcast.id).await.unwrap().len(), 20);

        let queue = a.bulk_queue(broadcast.id, 100).await.unwrap();
        assert_eq!(queue.len(), 20);
        let mut tasks = Vec::new();
        for store in [a.clone(), b.clone()] {
            let (broadcast, queue) = (broadcast.clone(), queue.clone());
            tasks.push(tokio::spawn(async move {
                let mut made = 0;
                for q in &queue {
                    let delivery = Delivery {
                        language: q.language,
                        channel: q.channel,
                        text: "salam".into(),
                        window: None,
                    };
                    if store.materialize(&broadcast, q, &delivery).await?.is_some() {
                        made += 1;
                    }
                }
                Ok::<_, StoreError>(made)
            }));
        }
        let mut made = 0;
        for task in tasks {
            made += task.await.unwrap().unwrap();
        }
        assert_eq!(made, 20);
        assert!(a.bulk_queue(broadcast.id, 100).await.unwrap().is_empty());
        let (bulk, _) = b.due_bulk(now_ms() + 1, 100).await.unwrap();
        assert_eq!(bulk.len(), 20);
        assert_eq!(a.broadcast_progress(broadcast.id).await.unwrap().queued, 20);

        // A runner's batch read before an erasure and written after it: the erased person
        // is never sent to, and their number does not stay in the audience.
        let second = sending(&a).await;
        let erased = queued(99);
        a.enqueue_recipients(second.id, std::slice::from_ref(&erased), None, true)
            .await
            .unwrap();
        let waiting = a.bulk_queue(second.id, 10).await.unwrap();
        assert_eq!(waiting.len(), 1);
        let delivery = Delivery {
            language: Lang::Dari,
            channel: Channel::TwilioSms,
            text: "salam".into(),
            window: None,
        };
        assert!(
            b.materialize(&second, &waiting[0], &delivery)
                .await
                .unwrap()
                .is_none()
        );
        assert!(a.bulk_queue(second.id, 10).await.unwrap().is_empty());
        assert!(a.recipients(second.id).await.unwrap().is_empty());
        a.close().await.unwrap();
        b.close().await.unwrap();
    }

    /// The figure: a 100,000-person audience frozen in the runner's batches.
    /// `cargo test --lib enqueue_100k -- --ignored --nocapture`
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn enqueue_100k() {
        let Some((a, _b)) = replicas::two("enqueue_100k").await else {
            return;
        };
        let broadcast = sending(&a).await;
        let all: Vec<_> = (1..=100_000).map(queued).collect();
        let started = std::time::Instant::now();
        // The dispatcher's batch (`dispatch::bulk::ENQUEUE_BATCH`; the store may not import it).
        let mut chunks = all.chunks(4096).peekable();
        while let Some(chunk) = chunks.next() {
            let after = chunk.last().map(|(p, _)| p.clone());
            a.enqueue_recipients(broadcast.id, chunk, after, chunks.peek().is_none())
                .await
                .unwrap();
        }
        let enqueued = started.elapsed();
        let progress = a.broadcast_progress(broadcast.id).await.unwrap();
        let counted = started.elapsed() - enqueued;
        assert_eq!(progress.queued, 100_000);
        println!(
            "100k-recipient enqueue: {:.0} ms; progress query: {:.0} ms",
            enqueued.as_secs_f64() * 1000.0,
            counted.as_secs_f64() * 1000.0
        );
    }
}
