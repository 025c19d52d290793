//! PostgreSQL: the Maintenance port. Erasure and retention remove rows in transactions that
//! hold the people's locks; a removed row is gone for every replica at commit, and
//! autovacuum reclaims the space (there is no compaction to ask for). Backups are the
//! database's own (`pg_dump`), sizes are PostgreSQL's.

use sqlx::Row;

use super::*;
use crate::store::sled::anonymise;

/// People whose old rows one purge transaction removes (each holds their lock until commit,
/// and PostgreSQL's lock table is shared by every connection).
const PURGE_PEOPLE: usize = 200;

/// What the admin is told instead of a backup file.
const USE_PG_DUMP: &str = "store.kind is \"postgres\": back up the database with pg_dump \
     (pg_dump --format=custom --file=kabar.dump DATABASE) and restore it with pg_restore; \
     see README, \"When one machine is not enough\"";

/// Messages older than the cutoff and not waiting in the outbox (what retention removes).
const OLD_MESSAGES: &str = "created_at < $1 AND NOT EXISTS \
     (SELECT 1 FROM outbox o WHERE o.message_id = messages.id)";

/// Closed tickets older than the cutoff that still name someone.
const OLD_TICKETS: &str = "NOT open AND closed_at < $1 AND contact <> $2";

#[async_trait]
impl Maintenance for PgStore {
    /// Erases a person in one transaction under their lock: messages (with their provider
    /// ids, inbox rows, failure marks and media, which go with them), queued messages,
    /// session, contact and addresses, broadcast audience rows; their tickets are
    /// anonymised. The audit row names the ticket, never the person.
    async fn erase_contact(
        &self,
        phone: &ContactId,
        user: &str,
        ticket: u64,
    ) -> Result<Erasure, StoreError> {
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, phone).await?;
        let (messages, media_files): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE data ->> 'media_file' IS NOT NULL) \
             FROM messages WHERE contact = $1",
        )
        .bind(phone.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let queued = super::outbox::remove_outbox_of(&mut tx, phone).await?;
        super::intake::remove_pending_of(&mut tx, phone).await?;
        sqlx::query("DELETE FROM messages WHERE contact = $1")
            .bind(phone.as_str())
            .execute(&mut *tx)
            .await?;
        super::people::remove_session(&mut tx, phone).await?;
        super::broadcasts::erase_from_broadcasts(&mut tx, phone).await?;
        // Addresses go with the contact (ON DELETE CASCADE); one left pointing at the id by
        // an older write goes too.
        sqlx::query("DELETE FROM contact_addresses WHERE contact = $1")
            .bind(phone.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM contacts WHERE id = $1")
            .bind(phone.as_str())
            .execute(&mut *tx)
            .await?;
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT data FROM tickets WHERE contact = $1 ORDER BY id FOR UPDATE",
        )
        .bind(phone.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let now = now_ms();
        for data in &rows {
            let mut t: Ticket = from_json(data.clone(), "a ticket")?;
            anonymise(&mut t, now);
            save_ticket(&mut tx, &t).await?;
        }
        let report = Erasure {
            messages: messages.max(0) as usize,
            media_files: media_files.max(0) as usize,
            queued: queued.len(),
            tickets_anonymised: rows.len(),
        };
        super::accounts::audit_now(
            &mut tx,
            user,
            "erase",
            Some(ticket),
            &format!(
                "erased the person of this ticket: {} messages, {} media files, {} queued, {} tickets anonymised",
                report.messages, report.media_files, report.queued, report.tickets_anonymised
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// A PostgreSQL store is backed up with the database's own tools.
    async fn write_backup(
        &self,
        _passphrase: &str,
        _out: Box<dyn std::io::Write + Send>,
    ) -> Result<BackupSummary, BackupError> {
        Err(BackupError::Store(StoreError::Database(USE_PG_DUMP.into())))
    }

    async fn close(&self) -> Result<(), StoreError> {
        // Every write was committed when it returned; closing tells background work (the
        // intake's listener) to end and hands the connections back to the server.
        self.0.closing.send_replace(true);
        self.pool().close().await;
        Ok(())
    }

    /// Removed rows are reclaimed by autovacuum: nothing waits for an operator.
    async fn compaction_pending(&self) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Retention: removes messages (and their media) created before `cutoff`, except those
    /// still waiting to be sent, and anonymises tickets closed before it. With `dry_run`
    /// nothing changes and the report says what would go.
    async fn purge(&self, cutoff: Millis, dry_run: bool) -> Result<PurgeReport, StoreError> {
        let cutoff_db = cutoff.min(i64::MAX as u64) as i64;
        let erased = ContactId::erased();
        let (messages, media_files): (i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*), count(*) FILTER (WHERE data ->> 'media_file' IS NOT NULL) \
             FROM messages WHERE {OLD_MESSAGES}"
        ))
        .bind(cutoff_db)
        .fetch_one(self.pool())
        .await?;
        let tickets: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM tickets WHERE {OLD_TICKETS}"))
                .bind(cutoff_db)
                .bind(erased.as_str())
                .fetch_one(self.pool())
                .await?;
        let mut report = PurgeReport {
            messages: messages.max(0) as usize,
            media_files: media_files.max(0) as usize,
            tickets_anonymised: tickets.max(0) as usize,
        };
        if dry_run || (messages == 0 && tickets == 0) {
            return Ok(report);
        }
        // The people concerned, a batch of them per transaction, each under their lock (in
        // one order, so two purges cannot deadlock).
        let people: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT contact FROM messages WHERE {OLD_MESSAGES} \
             UNION SELECT contact FROM tickets WHERE {OLD_TICKETS}"
        ))
        .bind(cutoff_db)
        .bind(erased.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut people = people;
        people.sort();
        let now = now_ms();
        let (mut removed, mut removed_media, mut anonymised) = (0, 0, 0);
        for batch in people.chunks(PURGE_PEOPLE) {
            let mut tx = self.begin().await?;
            for contact in batch {
                lock_contact(&mut tx, &super::broadcasts::contact_of(contact.clone())?).await?;
            }
            let gone: Vec<bool> = sqlx::query_scalar(&format!(
                "DELETE FROM messages WHERE contact = ANY($2) AND {OLD_MESSAGES} \
                 RETURNING (data ->> 'media_file') IS NOT NULL"
            ))
            .bind(cutoff_db)
            .bind(batch)
            .fetch_all(&mut *tx)
            .await?;
            removed += gone.len();
            removed_media += gone.iter().filter(|m| **m).count();
            let rows = sqlx::query(&format!(
                "SELECT data FROM tickets WHERE contact = ANY($3) AND {OLD_TICKETS} \
                 ORDER BY id FOR UPDATE"
            ))
            .bind(cutoff_db)
            .bind(erased.as_str())
            .bind(batch)
            .fetch_all(&mut *tx)
            .await?;
            for row in rows {
                let mut t: Ticket = from_json(row.try_get("data")?, "a ticket")?;
                anonymise(&mut t, now);
                save_ticket(&mut tx, &t).await?;
                anonymised += 1;
            }
            tx.commit().await?;
        }
        report = PurgeReport {
            messages: removed,
            media_files: removed_media,
            tickets_anonymised: anonymised,
        };
        let mut tx = self.begin().await?;
        super::accounts::audit_now(
            &mut tx,
            "kabar",
            "purge",
            None,
            &format!(
                "retention: {} messages, {} media files removed, {} closed tickets anonymised",
                report.messages, report.media_files, report.tickets_anonymised
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Rows, index bytes and table bytes of each of kabar's tables, by name.
    async fn usage_by_family(&self) -> Result<Vec<FamilyUsage>, StoreError> {
        let tables = sqlx::query(
            "SELECT c.relname AS name, pg_indexes_size(c.oid) AS index_bytes, \
                    pg_table_size(c.oid) AS table_bytes \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname",
        )
        .bind(&self.0.schema)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(tables.len());
        for table in tables {
            let name: String = table.try_get("name")?;
            // Names come from the catalogue of our own schema; quoted all the same.
            let rows: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM \"{}\"",
                name.replace('"', "\"\"")
            ))
            .fetch_one(self.pool())
            .await?;
            out.push(FamilyUsage {
                family: name,
                keys: rows.max(0) as u64,
                key_bytes: table.try_get::<i64, _>("index_bytes")?.max(0) as u64,
                value_bytes: table.try_get::<i64, _>("table_bytes")?.max(0) as u64,
            });
        }
        Ok(out)
    }

    /// The bytes kabar's tables take, with their indexes and TOAST.
    async fn size_on_disk(&self) -> Result<u64, StoreError> {
        let bytes: Option<i64> = sqlx::query_scalar(
            "SELECT sum(pg_total_relation_size(c.oid))::bigint \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')",
        )
        .bind(&self.0.schema)
        .fetch_one(self.pool())
        .await?;
        Ok(bytes.unwrap_or(0).max(0) as u64)
    }
}
