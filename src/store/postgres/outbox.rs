//! PostgreSQL: the Outbox port.

use super::*;

#[async_trait]
impl Outbox for PgStore {
    async fn outbox_cancelled(&self, item: &OutboxItem) -> Result<(), StoreError> {
        todo!("postgres: outbox_cancelled")
    }

    async fn outbox(&self) -> Result<Vec<OutboxItem>, StoreError> {
        todo!("postgres: outbox")
    }

    async fn outbox_depth(&self) -> Result<usize, StoreError> {
        todo!("postgres: outbox_depth")
    }

    async fn outbox_accepted(
        &self,
        item: &OutboxItem,
        external_id: &str,
        status: MessageStatus,
    ) -> Result<(), StoreError> {
        todo!("postgres: outbox_accepted")
    }

    async fn outbox_retry(&self, item: &OutboxItem) -> Result<(), StoreError> {
        todo!("postgres: outbox_retry")
    }

    async fn queue_message(
        &self,
        phone: &ContactId,
        channel: Channel,
        author: Author,
        text: &str,
        language: Option<Lang>,
    ) -> Result<u64, StoreError> {
        todo!("postgres: queue_message")
    }

    async fn outbox_reroute(&self, item: &OutboxItem, note: &str) -> Result<(), StoreError> {
        todo!("postgres: outbox_reroute")
    }

    async fn outbox_of(&self, phone: &ContactId) -> Result<Vec<OutboxItem>, StoreError> {
        todo!("postgres: outbox_of")
    }

    async fn first_outbox_of(&self, phone: &ContactId) -> Result<Option<u64>, StoreError> {
        todo!("postgres: first_outbox_of")
    }

    async fn due_outbox(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        todo!("postgres: due_outbox")
    }

    async fn due_bulk(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        todo!("postgres: due_bulk")
    }

    async fn release_held(&self, phone: &ContactId) -> Result<usize, StoreError> {
        todo!("postgres: release_held")
    }

    async fn failed_messages(&self) -> Result<Vec<MessageRecord>, StoreError> {
        todo!("postgres: failed_messages")
    }

    async fn outbox_failed(&self, item: &OutboxItem, reason: &str) -> Result<(), StoreError> {
        todo!("postgres: outbox_failed")
    }
}
