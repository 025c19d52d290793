//! PostgreSQL: the Media port. Files live in the database (`media`, `bytea`), since replicas
//! share no disk; each is named as sled names it (`<message id>.<ext>`) and goes with its
//! message (erasure and retention delete it through the foreign key).

use super::*;
use crate::store::sled::media::extension;

impl PgStore {
    /// Records on a message where its media is (or why it is missing), under the contact's
    /// lock; with `bytes`, stores the file in the same transaction. Nothing when the message
    /// is gone (erased meanwhile).
    async fn set_media(
        &self,
        message_id: u64,
        file: Option<(String, &str, &[u8])>,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        let contact: Option<String> =
            sqlx::query_scalar("SELECT contact FROM messages WHERE id = $1")
                .bind(db_id(message_id))
                .fetch_optional(self.pool())
                .await?;
        let Some(contact) = contact else {
            return Ok(());
        };
        let contact = ContactId::try_from(contact).map_err(|e| StoreError::Corrupt {
            key: format!("message {message_id}"),
            reason: e.to_string(),
        })?;
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, &contact).await?;
        let Some(mut m) = load_message(&mut tx, message_id, true).await? else {
            return Ok(());
        };
        if let Some((name, mime, bytes)) = &file {
            sqlx::query(
                "INSERT INTO media (file, message_id, mime, bytes) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (file) DO UPDATE SET message_id = EXCLUDED.message_id, \
                 mime = EXCLUDED.mime, bytes = EXCLUDED.bytes",
            )
            .bind(name)
            .bind(db_id(message_id))
            .bind(*mime)
            .bind(*bytes)
            .execute(&mut *tx)
            .await?;
        }
        m.media_file = file.map(|(name, _, _)| name);
        if error.is_some() {
            m.error = error;
        }
        save_message(&mut tx, &m).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl Media for PgStore {
    /// Keeps a fetched file for a message and records it on the message.
    async fn put_media(
        &self,
        message_id: u64,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let name = format!("{message_id}.{}", extension(mime));
        self.set_media(message_id, Some((name, mime, &bytes)), None)
            .await
    }

    async fn media_missing(&self, message_id: u64, reason: &str) -> Result<(), StoreError> {
        self.set_media(message_id, None, Some(reason.to_owned()))
            .await
    }

    /// A kept file by the name its message records; `None` when it is not there (purged,
    /// erased, or a name that is not one of ours).
    async fn media_file(&self, file: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT bytes FROM media WHERE file = $1")
                .bind(file)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::accounts::replicas::two;
    use super::*;

    /// A file kept by one replica is served by the other; a missing one says why; a message
    /// that is gone keeps nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn media_are_shared_by_replicas() {
        let Some((a, b)) = two("conv_media").await else {
            return;
        };
        let who = ContactId::parse("+6281200000003").unwrap();
        a.accept_inbound(vec![NewInbound {
            channel: Channel::Whatsapp,
            from: who.clone(),
            profile: Default::default(),
            text: String::new(),
            external_id: "wamid.m".into(),
            media: None,
            unsupported: None,
        }])
        .await
        .unwrap();
        let id = a.history(&who).await.unwrap()[0].id;
        a.put_media(id, "audio/ogg; codecs=opus", vec![1, 2, 3])
            .await
            .unwrap();
        let file = b.message(id).await.unwrap().unwrap().media_file.unwrap();
        assert_eq!(file, format!("{id}.ogg"));
        assert_eq!(b.media_file(&file).await.unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(b.media_file("../etc/passwd").await.unwrap(), None);
        b.media_missing(id, "too big").await.unwrap();
        let m = a.message(id).await.unwrap().unwrap();
        assert_eq!((m.media_file, m.error.as_deref()), (None, Some("too big")));
        a.put_media(9_999_999, "image/png", vec![1]).await.unwrap();
        assert_eq!(a.media_file("9999999.png").await.unwrap(), None);
        a.close().await.unwrap();
        b.close().await.unwrap();
    }
}
