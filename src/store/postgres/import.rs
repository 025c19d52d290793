//! PostgreSQL: taking in a field office's data (`kabar migrate-store`). Records arrive in
//! batches from [`crate::store::migrate`]; each batch is one transaction. Every record is
//! written by its key with its own id, so running the move again after an interruption writes
//! the same rows again instead of adding new ones.

use std::collections::BTreeMap;

use super::*;
use crate::store::migrate::{Kind, MigrateError, Record, Tally};

/// How a move into this database began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportStart {
    /// Into an empty database.
    Fresh,
    /// An earlier run from the same folder stopped before the end; this one continues it.
    Resumed { started_at: Millis },
}

/// A move into this database that did not finish: no replica may start until it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedImport {
    pub source: String,
    pub started_at: Millis,
}

impl PgStore {
    /// Records that a move from `source` begins. Refuses a database that already holds
    /// conversations (a second copy would mix two offices' records and ids), one that
    /// `source` was moved into already, and one another move into has not finished.
    pub(crate) async fn begin_import(&self, source: &str) -> Result<ImportStart, MigrateError> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('kabar store import', 0))")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let moves: Vec<(String, i64, Option<i64>)> =
            sqlx::query_as("SELECT source, started_at, finished_at FROM store_imports")
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        for (from, started_at, finished_at) in &moves {
            match finished_at {
                Some(at) if from == source => {
                    return Err(MigrateError::AlreadyMoved {
                        folder: from.clone(),
                        finished_at: *at as Millis,
                    });
                }
                None if from == source => {
                    return Ok(ImportStart::Resumed {
                        started_at: *started_at as Millis,
                    });
                }
                None => return Err(MigrateError::OtherUnfinished(from.clone())),
                Some(_) => {}
            }
        }
        let in_use: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM contacts) OR EXISTS (SELECT 1 FROM messages) \
             OR EXISTS (SELECT 1 FROM tickets) OR EXISTS (SELECT 1 FROM broadcasts)",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        if in_use {
            return Err(MigrateError::NotEmpty);
        }
        sqlx::query("INSERT INTO store_imports (source, started_at) VALUES ($1, $2)")
            .bind(source)
            .bind(now_ms() as i64)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(ImportStart::Fresh)
    }

    /// A move into this database that has not finished, if any.
    pub async fn unfinished_import(&self) -> Result<Option<UnfinishedImport>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT source, started_at FROM store_imports WHERE finished_at IS NULL LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(source, started_at)| UnfinishedImport {
            source,
            started_at: started_at as Millis,
        }))
    }

    /// Writes one batch in one transaction; what was written, by kind. A record that points
    /// at a message the old store no longer kept (a provider id, a media file of a purged
    /// message) is left out and not counted.
    pub(crate) async fn import(&self, records: Vec<Record>) -> Result<Tally, StoreError> {
        let mut written = Tally::default();
        let mut accepted = Vec::new();
        let mut tx = self.begin().await?;
        for record in records {
            let kind = record.kind();
            let count = match record {
                Record::Accepted(inbound) => {
                    accepted.push(inbound);
                    continue;
                }
                record => write_record(&mut tx, record).await?,
            };
            *written.0.entry(kind).or_default() += count;
        }
        tx.commit().await?;
        if !accepted.is_empty() {
            // As a webhook's: filed under its contact, dropped when the provider id is known
            // (it was stored in sled too, just before the old server stopped).
            let n = accepted.len() as u64;
            self.accept_inbound(accepted).await?;
            *written.0.entry(Kind::Accepted).or_default() += n;
        }
        Ok(written)
    }

    /// Ends a move: ids continue above every copied one, and replicas may start.
    pub(crate) async fn finish_import(&self, source: &str, read: &Tally) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "SELECT setval('kabar_ids', GREATEST( \
                 (SELECT last_value FROM kabar_ids), \
                 (SELECT COALESCE(max(id), 1) FROM messages), \
                 (SELECT COALESCE(max(id), 1) FROM tickets), \
                 (SELECT COALESCE(max(id), 1) FROM audit), \
                 (SELECT COALESCE(max(id), 1) FROM broadcasts), \
                 (SELECT COALESCE(max(id), 1) FROM canned_replies)))",
        )
        .execute(&mut *tx)
        .await?;
        let counts: BTreeMap<&str, u64> = read.0.iter().map(|(k, n)| (k.label(), *n)).collect();
        sqlx::query(
            "UPDATE store_imports SET finished_at = $2, counts = $3 \
             WHERE source = $1 AND finished_at IS NULL",
        )
        .bind(source)
        .bind(now_ms() as i64)
        .bind(to_json(&counts)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Writes one record by its key; how many items it counted for (0: left out).
async fn write_record(tx: &mut Tx, record: Record) -> Result<u64, StoreError> {
    match record {
        Record::User(user) => {
            // The office's accounts win over one a replica made at its first start.
            sqlx::query(
                "INSERT INTO users (name, data) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data",
            )
            .bind(&user.name)
            .bind(to_json(&user)?)
            .execute(&mut **tx)
            .await?;
        }
        Record::Token { hash, token } => super::accounts::write_token(tx, &hash, &token).await?,
        Record::WebSession { hash, session } => {
            super::accounts::write_web_session(tx, &hash, &session).await?
        }
        Record::Contact(contact) => save_contact(tx, &contact).await?,
        Record::Session { contact, session } => {
            super::people::save_session(tx, &contact, &session).await?
        }
        Record::Message(message) => save_message(tx, &message).await?,
        Record::ExternalId {
            space,
            external_id,
            message_id,
        } => {
            return Ok(sqlx::query(
                "INSERT INTO external_ids (space, external_id, message_id) \
                 SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM messages WHERE id = $3) \
                 ON CONFLICT (space, external_id) DO UPDATE SET message_id = EXCLUDED.message_id",
            )
            .bind(space)
            .bind(external_id)
            .bind(db_id(message_id))
            .execute(&mut **tx)
            .await?
            .rows_affected());
        }
        Record::Pending {
            contact,
            message_id,
        } => {
            // In export order, which is the person's order; once (a second run adds none).
            sqlx::query(
                "INSERT INTO inbox (contact, message_id) SELECT $1, $2 \
                 WHERE EXISTS (SELECT 1 FROM messages WHERE id = $2) \
                 AND NOT EXISTS (SELECT 1 FROM inbox WHERE message_id = $2)",
            )
            .bind(contact.as_str())
            .bind(db_id(message_id))
            .execute(&mut **tx)
            .await?;
            return Ok(u64::from(holds(tx, "inbox", message_id).await?));
        }
        Record::Outbox(item) => super::outbox::write_outbox(tx, &item).await?,
        Record::Failed { message_id } => {
            sqlx::query(
                "INSERT INTO failed_messages (message_id) SELECT $1 \
                 WHERE EXISTS (SELECT 1 FROM messages WHERE id = $1) ON CONFLICT DO NOTHING",
            )
            .bind(db_id(message_id))
            .execute(&mut **tx)
            .await?;
            return Ok(u64::from(holds(tx, "failed_messages", message_id).await?));
        }
        Record::Media {
            file,
            message_id,
            mime,
            bytes,
        } => {
            return Ok(sqlx::query(
                "INSERT INTO media (file, message_id, mime, bytes) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM messages WHERE id = $2) \
                 ON CONFLICT (file) DO UPDATE SET message_id = EXCLUDED.message_id, \
                 mime = EXCLUDED.mime, bytes = EXCLUDED.bytes",
            )
            .bind(file)
            .bind(db_id(message_id))
            .bind(mime)
            .bind(bytes)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        }
        Record::Ticket(ticket) => save_ticket(tx, &ticket).await?,
        Record::Audit { id, entry } => {
            sqlx::query(
                "INSERT INTO audit (id, at, ticket, data) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at, ticket = EXCLUDED.ticket, \
                 data = EXCLUDED.data",
            )
            .bind(db_id(id))
            .bind(entry.at as i64)
            .bind(entry.ticket.map(db_id))
            .bind(to_json(&entry)?)
            .execute(&mut **tx)
            .await?;
        }
        Record::Seen {
            user,
            ticket,
            count,
        } => super::desk::write_seen(tx, &user, ticket, count).await?,
        Record::Canned(reply) => {
            sqlx::query(
                "INSERT INTO canned_replies (id, language, data) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET language = EXCLUDED.language, \
                 data = EXCLUDED.data",
            )
            .bind(db_id(reply.id))
            .bind(reply.language.tag())
            .bind(to_json(&reply)?)
            .execute(&mut **tx)
            .await?;
        }
        Record::Payment(entry) => super::directory::put_payment(tx, &entry).await?,
        Record::Directory(entry) => super::directory::put_directory(tx, &entry).await?,
        Record::Broadcast(broadcast) => super::broadcasts::save_broadcast(tx, &broadcast).await?,
        Record::Cursor { broadcast, cursor } => {
            sqlx::query(
                "INSERT INTO broadcast_cursors (broadcast, after, done, written, chunks) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (broadcast) DO UPDATE SET after = EXCLUDED.after, \
                 done = EXCLUDED.done, written = EXCLUDED.written, chunks = EXCLUDED.chunks",
            )
            .bind(db_id(broadcast))
            .bind(cursor.after.as_ref().map(|c| c.as_str()))
            .bind(cursor.done)
            .bind(cursor.written as i64)
            .bind(cursor.chunks as i64)
            .execute(&mut **tx)
            .await?;
        }
        Record::Audience {
            broadcast,
            chunk,
            people,
        } => {
            let mut idx = Vec::with_capacity(people.len());
            let mut contacts = Vec::with_capacity(people.len());
            let mut languages = Vec::with_capacity(people.len());
            let mut channels = Vec::with_capacity(people.len());
            for (place, contact, language, channel) in &people {
                idx.push(*place as i32);
                contacts.push(contact.as_str().to_string());
                languages.push(super::broadcasts::name_of(language)?);
                channels.push(super::broadcasts::name_of(channel)?);
            }
            sqlx::query(
                "INSERT INTO broadcast_audience (broadcast, chunk, idx, contact, language, channel) \
                 SELECT $1, $2, t.idx, t.contact, t.language, t.channel \
                 FROM UNNEST($3::int4[], $4::text[], $5::text[], $6::text[]) \
                      AS t(idx, contact, language, channel) \
                 ON CONFLICT (broadcast, chunk, idx) DO UPDATE SET contact = EXCLUDED.contact, \
                 language = EXCLUDED.language, channel = EXCLUDED.channel",
            )
            .bind(db_id(broadcast))
            .bind(chunk as i64)
            .bind(idx)
            .bind(contacts)
            .bind(languages)
            .bind(channels)
            .execute(&mut **tx)
            .await?;
            return Ok(people.len() as u64);
        }
        Record::Position {
            broadcast,
            position,
        } => super::broadcasts::advance(tx, broadcast, position).await?,
        Record::Recipient {
            broadcast,
            contact,
            recipient,
        } => {
            sqlx::query(
                "INSERT INTO broadcast_recipients \
                 (broadcast, contact, language, channel, status, message_id, error) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (broadcast, contact) DO UPDATE SET language = EXCLUDED.language, \
                 channel = EXCLUDED.channel, status = EXCLUDED.status, \
                 message_id = EXCLUDED.message_id, error = EXCLUDED.error",
            )
            .bind(db_id(broadcast))
            .bind(contact.as_str())
            .bind(super::broadcasts::name_of(&recipient.language)?)
            .bind(super::broadcasts::name_of(&recipient.channel)?)
            .bind(super::broadcasts::name_of(&recipient.status)?)
            .bind(recipient.message_id.map(db_id))
            .bind(recipient.error)
            .execute(&mut **tx)
            .await?;
        }
        Record::Accepted(_) => return Ok(0),
    }
    Ok(1)
}

/// Whether `table` (`inbox`, `failed_messages`) holds a row for the message, written now or
/// by an earlier run of the move.
async fn holds(tx: &mut Tx, table: &'static str, message_id: u64) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE message_id = $1)"
    ))
    .bind(db_id(message_id))
    .fetch_one(&mut **tx)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::accounts::replicas;

    #[tokio::test]
    async fn a_move_starts_once_per_folder_continues_after_a_stop_and_blocks_replicas_meanwhile() {
        let Some((store, other)) = replicas::two("import_rules").await else {
            return;
        };
        assert_eq!(store.unfinished_import().await.unwrap(), None);
        assert_eq!(
            store.begin_import("/srv/office-a").await.unwrap(),
            ImportStart::Fresh
        );
        // Until it finishes, no replica starts and no other folder moves in.
        let unfinished = other.unfinished_import().await.unwrap().unwrap();
        assert_eq!(unfinished.source, "/srv/office-a");
        assert!(matches!(
            other.begin_import("/srv/office-b").await,
            Err(MigrateError::OtherUnfinished(from)) if from == "/srv/office-a"
        ));
        // A second run from the same folder continues it.
        assert!(matches!(
            store.begin_import("/srv/office-a").await,
            Ok(ImportStart::Resumed { .. })
        ));
        let mut contact = Contact::new(ContactId::parse("+6281200000777").unwrap(), now_ms());
        contact.name = Some("Hodan".into());
        let message = MessageRecord {
            id: 5_000_000,
            contact: contact.id.clone(),
            direction: Direction::In,
            channel: Channel::TwilioSms,
            author: Author::Contact,
            text: "hello".into(),
            external_id: Some("SM1".into()),
            status: MessageStatus::Received,
            error: None,
            created_at: now_ms(),
            updated_at: now_ms(),
            media: None,
            media_file: None,
            unsupported: None,
            broadcast: None,
        };
        let batch = vec![
            Record::Contact(contact),
            Record::Message(message),
            Record::ExternalId {
                space: "twilio".into(),
                external_id: "SM1".into(),
                message_id: 5_000_000,
            },
            // Points at a message the old store no longer kept: left out, not counted.
            Record::Failed {
                message_id: 4_999_999,
            },
        ];
        let written = store.import(batch.clone()).await.unwrap();
        assert_eq!(written.get(Kind::Messages), 1);
        assert_eq!(written.get(Kind::ProviderIds), 1);
        assert_eq!(written.get(Kind::Failed), 0);
        // The same batch again (a run after an interruption) writes the same rows, no more.
        store.import(batch).await.unwrap();
        let messages: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(messages, 1);

        store
            .finish_import("/srv/office-a", &written)
            .await
            .unwrap();
        assert_eq!(other.unfinished_import().await.unwrap(), None);
        // New ids continue above the copied ones.
        let mut conn = other.pool().acquire().await.unwrap();
        let next = other.next_ids(&mut conn, 1).await.unwrap()[0];
        assert!(next > 5_000_000, "{next}");
        drop(conn);
        assert!(matches!(
            store.begin_import("/srv/office-a").await,
            Err(MigrateError::AlreadyMoved { .. })
        ));
        // A database with conversations takes no second office.
        assert!(matches!(
            store.begin_import("/srv/office-b").await,
            Err(MigrateError::NotEmpty)
        ));
    }
}
