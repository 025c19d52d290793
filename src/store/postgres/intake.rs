//! PostgreSQL: the Intake port.

use super::*;

#[async_trait]
impl Intake for PgStore {
    async fn accept_inbound(&self, messages: Vec<NewInbound>) -> Result<(), StoreError> {
        todo!("postgres: accept_inbound")
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        // A primary that is not read-only takes writes; a standby (after a failover gone
        // wrong) or a read-only database does not.
        let writable: bool = sqlx::query_scalar(
            "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'",
        )
        .fetch_one(self.pool())
        .await?;
        if writable {
            Ok(())
        } else {
            Err(StoreError::Database(
                "the database is read-only (a standby?): kabar needs the primary".into(),
            ))
        }
    }

    async fn run_intake(
        &self,
        sink: Arc<dyn IntakeSink>,
        metrics: Arc<Metrics>,
        stop: tokio::sync::watch::Receiver<bool>,
        disk: DiskWatch,
    ) -> IntakeEnd {
        todo!("postgres: run_intake")
    }

    async fn intake_backlog(&self) -> Result<u64, StoreError> {
        todo!("postgres: intake_backlog")
    }

    async fn contacts_with_pending(&self) -> Result<BTreeSet<ContactId>, StoreError> {
        todo!("postgres: contacts_with_pending")
    }

    async fn next_pending(&self, phone: &ContactId) -> Result<Option<PendingInbound>, StoreError> {
        todo!("postgres: next_pending")
    }

    async fn pending_count(&self) -> Result<usize, StoreError> {
        todo!("postgres: pending_count")
    }

    async fn apply_step(
        &self,
        pending: &PendingInbound,
        write: &StepWrite,
        now: Millis,
    ) -> Result<StepOutcome, StoreError> {
        todo!("postgres: apply_step")
    }

    async fn update_status_by_external(
        &self,
        channel: Channel,
        external_id: &str,
        status: MessageStatus,
        error: Option<String>,
    ) -> Result<StatusUpdate, StoreError> {
        todo!("postgres: update_status_by_external")
    }
}
