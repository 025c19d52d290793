//! PostgreSQL: the People port.

use super::*;

#[async_trait]
impl People for PgStore {
    async fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        todo!("postgres: contacts")
    }

    async fn contacts_after(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<Contact>, bool), StoreError> {
        todo!("postgres: contacts_after")
    }

    async fn contact(&self, phone: &ContactId) -> Result<Option<Contact>, StoreError> {
        todo!("postgres: contact")
    }

    async fn session(&self, phone: &ContactId) -> Result<Session, StoreError> {
        todo!("postgres: session")
    }

    async fn upsert_contacts(
        &self,
        rows: &[crate::import::ContactRow],
    ) -> Result<usize, StoreError> {
        todo!("postgres: upsert_contacts")
    }

    async fn close_whatsapp_window(&self, phone: &ContactId) -> Result<(), StoreError> {
        todo!("postgres: close_whatsapp_window")
    }

    async fn set_opted_out(&self, phone: &ContactId, opted_out: bool) -> Result<(), StoreError> {
        todo!("postgres: set_opted_out")
    }

    async fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        todo!("postgres: message")
    }

    async fn history(&self, phone: &ContactId) -> Result<Vec<MessageRecord>, StoreError> {
        todo!("postgres: history")
    }
}
