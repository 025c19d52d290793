//! PostgreSQL: the Broadcasts port.

use super::*;

#[async_trait]
impl Broadcasts for PgStore {
    async fn change_broadcast(
        &self,
        id: u64,
        user: &str,
        action: &str,
        change: BroadcastChange,
    ) -> Result<Broadcast, BroadcastError> {
        todo!("postgres: change_broadcast")
    }

    async fn recipients(&self, broadcast: u64) -> Result<Vec<(ContactId, Recipient)>, StoreError> {
        todo!("postgres: recipients")
    }

    async fn create_broadcast(&self, valid: Valid, user: &str) -> Result<Broadcast, StoreError> {
        todo!("postgres: create_broadcast")
    }

    async fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        todo!("postgres: broadcast")
    }

    async fn broadcasts(&self) -> Result<Vec<Broadcast>, StoreError> {
        todo!("postgres: broadcasts")
    }

    async fn broadcasts_in(&self, statuses: &[Status]) -> Result<Vec<Broadcast>, StoreError> {
        todo!("postgres: broadcasts_in")
    }

    async fn enqueue_cursor(&self, broadcast: u64) -> Result<EnqueueCursor, StoreError> {
        todo!("postgres: enqueue_cursor")
    }

    async fn enqueue_recipients(
        &self,
        broadcast: u64,
        recipients: &[(ContactId, Recipient)],
        after: Option<ContactId>,
        done: bool,
    ) -> Result<EnqueueCursor, StoreError> {
        todo!("postgres: enqueue_recipients")
    }

    async fn bulk_queue(&self, broadcast: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        todo!("postgres: bulk_queue")
    }

    async fn broadcast_drained(&self, broadcast: u64) -> Result<bool, StoreError> {
        todo!("postgres: broadcast_drained")
    }

    async fn materialize(
        &self,
        broadcast: &Broadcast,
        queued: &Queued,
        delivery: &crate::broadcast::Delivery,
    ) -> Result<Option<OutboxItem>, StoreError> {
        todo!("postgres: materialize")
    }

    async fn skip_recipient(
        &self,
        broadcast: u64,
        queued: &Queued,
        status: RecipientStatus,
        reason: &str,
    ) -> Result<(), StoreError> {
        todo!("postgres: skip_recipient")
    }

    async fn cancel_queued(&self, broadcast: u64) -> Result<u64, StoreError> {
        todo!("postgres: cancel_queued")
    }

    async fn recipient(
        &self,
        broadcast: u64,
        phone: &ContactId,
    ) -> Result<Option<Recipient>, StoreError> {
        todo!("postgres: recipient")
    }

    async fn broadcast_progress(&self, broadcast: u64) -> Result<Progress, StoreError> {
        todo!("postgres: broadcast_progress")
    }

    async fn queue_test_send(
        &self,
        broadcast: &Broadcast,
        phone: &ContactId,
        delivery: &crate::broadcast::Delivery,
        user: &str,
    ) -> Result<u64, StoreError> {
        todo!("postgres: queue_test_send")
    }
}
