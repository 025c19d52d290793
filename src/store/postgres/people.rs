//! PostgreSQL: the People port.

use super::*;

/// Contacts written per transaction by an import: each holds its people's locks until it
/// commits, and PostgreSQL's lock table is shared by every connection.
const IMPORT_CHUNK: usize = 500;

/// Writes a person's conversation session, in the caller's transaction (which holds their
/// `lock_contact`). Used by the conversation step and Desk `close_ticket`.
pub(crate) async fn save_session(
    tx: &mut Tx,
    contact: &ContactId,
    session: &Session,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (contact, data) VALUES ($1, $2) \
         ON CONFLICT (contact) DO UPDATE SET data = EXCLUDED.data",
    )
    .bind(contact.as_str())
    .bind(to_json(session)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes a person's session (erasure); whether there was one.
pub(crate) async fn remove_session(tx: &mut Tx, contact: &ContactId) -> Result<bool, StoreError> {
    let removed = sqlx::query("DELETE FROM sessions WHERE contact = $1")
        .bind(contact.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(removed > 0)
}

fn contacts_from(rows: Vec<serde_json::Value>) -> Result<Vec<Contact>, StoreError> {
    rows.into_iter()
        .map(|v| from_json(v, "a contact"))
        .collect()
}

/// Changes the contact filed exactly under `phone`, if there is one, under its lock.
async fn change_contact(
    store: &PgStore,
    phone: &ContactId,
    change: impl FnOnce(&mut Contact),
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    lock_contact(&mut tx, phone).await?;
    let row: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT data FROM contacts WHERE id = $1 FOR UPDATE")
            .bind(phone.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(v) = row {
        let mut contact: Contact = from_json(v, format_args!("contact {}", phone.redacted()))?;
        change(&mut contact);
        save_contact(&mut tx, &contact).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[async_trait]
impl People for PgStore {
    /// Every contact, by id in byte order.
    async fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        let rows = sqlx::query_scalar("SELECT data FROM contacts ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        contacts_from(rows)
    }

    /// A page of contacts after `after`, by id in byte order, and whether more follow.
    async fn contacts_after(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<Contact>, bool), StoreError> {
        let take = limit.saturating_add(1).min(i64::MAX as usize) as i64;
        let rows: Vec<serde_json::Value> = match after {
            Some(after) => {
                sqlx::query_scalar("SELECT data FROM contacts WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after.as_str())
                    .bind(take)
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                sqlx::query_scalar("SELECT data FROM contacts ORDER BY id LIMIT $1")
                    .bind(take)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        let mut contacts = contacts_from(rows)?;
        let more = contacts.len() > limit;
        contacts.truncate(limit);
        Ok((contacts, more))
    }

    /// The contact filed under `phone`, or the one that address leads to.
    async fn contact(&self, phone: &ContactId) -> Result<Option<Contact>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_contact(&mut conn, phone).await
    }

    async fn session(&self, phone: &ContactId) -> Result<Session, StoreError> {
        let row: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM sessions WHERE contact = $1")
                .bind(phone.as_str())
                .fetch_optional(self.pool())
                .await?;
        Ok(row
            .map(|v| from_json(v, format_args!("session {}", phone.redacted())))
            .transpose()?
            .unwrap_or_default())
    }

    /// Creates or updates contacts from staff data; fields that are `None` keep what is
    /// stored. Returns how many were new. A number linked to someone who first wrote with a
    /// WhatsApp username updates them. Written in transactions of a few hundred people.
    async fn upsert_contacts(
        &self,
        rows: &[crate::import::ContactRow],
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        let mut new = 0;
        for chunk in rows.chunks(IMPORT_CHUNK) {
            let mut tx = self.begin().await?;
            // Who each row is (its number may lead to a contact under another id).
            let mut ids = Vec::with_capacity(chunk.len());
            for row in chunk {
                let owner: Option<String> =
                    sqlx::query_scalar("SELECT contact FROM contact_addresses WHERE address = $1")
                        .bind(row.phone.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let id = match owner {
                    Some(o) => ContactId::try_from(o).map_err(|e| StoreError::Corrupt {
                        key: format!("contact address {}", row.phone.redacted()),
                        reason: e.to_string(),
                    })?,
                    None => row.phone.clone(),
                };
                ids.push(id);
            }
            // Locked in one order: two imports (or an import and the intake) cannot deadlock.
            let locks: BTreeSet<&ContactId> = ids.iter().collect();
            for id in locks {
                lock_contact(&mut tx, id).await?;
            }
            for (row, id) in chunk.iter().zip(&ids) {
                let stored: Option<serde_json::Value> =
                    sqlx::query_scalar("SELECT data FROM contacts WHERE id = $1")
                        .bind(id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let mut contact = match stored {
                    Some(v) => from_json(v, format_args!("contact {}", id.redacted()))?,
                    None => {
                        new += 1;
                        Contact::new(id.clone(), now)
                    }
                };
                row.apply_to(&mut contact);
                save_contact(&mut tx, &contact).await?;
            }
            tx.commit().await?;
        }
        Ok(new)
    }

    /// Marks the contact's WhatsApp window as closed (the provider said so).
    async fn close_whatsapp_window(&self, phone: &ContactId) -> Result<(), StoreError> {
        change_contact(self, phone, |c| c.last_whatsapp_at = None).await
    }

    async fn set_opted_out(&self, phone: &ContactId, opted_out: bool) -> Result<(), StoreError> {
        change_contact(self, phone, |c| c.opted_out = opted_out).await
    }

    async fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_message(&mut conn, id, false).await
    }

    /// A contact's messages, oldest first.
    async fn history(&self, phone: &ContactId) -> Result<Vec<MessageRecord>, StoreError> {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM messages WHERE contact = $1 ORDER BY id")
                .bind(phone.as_str())
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|v| from_json(v, "a message"))
            .collect()
    }
}
