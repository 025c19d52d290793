//! PostgreSQL: the Directory port.

use super::*;

#[async_trait]
impl Directory for PgStore {
    async fn payments(&self) -> Result<Vec<PaymentEntry>, StoreError> {
        todo!("postgres: payments")
    }

    async fn upsert_payments(&self, entries: &[PaymentEntry]) -> Result<(), StoreError> {
        todo!("postgres: upsert_payments")
    }

    async fn remove_payment(&self, city: &str) -> Result<bool, StoreError> {
        todo!("postgres: remove_payment")
    }

    async fn directory(&self) -> Result<Vec<DirectoryEntry>, StoreError> {
        todo!("postgres: directory")
    }

    async fn upsert_directory(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError> {
        todo!("postgres: upsert_directory")
    }

    async fn replace_directory_entry(
        &self,
        city: &str,
        kind: DirectoryKind,
        name: &str,
        entry: Option<&DirectoryEntry>,
    ) -> Result<bool, StoreError> {
        todo!("postgres: replace_directory_entry")
    }
}
