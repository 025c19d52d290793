//! PostgreSQL: the Media port.

use super::*;

#[async_trait]
impl Media for PgStore {
    async fn put_media(
        &self,
        message_id: u64,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        todo!("postgres: put_media")
    }

    async fn media_missing(&self, message_id: u64, reason: &str) -> Result<(), StoreError> {
        todo!("postgres: media_missing")
    }

    async fn media_file(&self, file: &str) -> Result<Option<Vec<u8>>, StoreError> {
        todo!("postgres: media_file")
    }
}
