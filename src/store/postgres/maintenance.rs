//! PostgreSQL: the Maintenance port.

use super::*;

#[async_trait]
impl Maintenance for PgStore {
    async fn erase_contact(
        &self,
        phone: &ContactId,
        user: &str,
        ticket: u64,
    ) -> Result<Erasure, StoreError> {
        todo!("postgres: erase_contact")
    }

    async fn write_backup(
        &self,
        passphrase: &str,
        out: Box<dyn std::io::Write + Send>,
    ) -> Result<BackupSummary, BackupError> {
        todo!("postgres: write_backup")
    }

    async fn close(&self) -> Result<(), StoreError> {
        // Every write was committed when it returned; closing tells background work (the
        // intake's listener) to end and hands the connections back to the server.
        self.0.closing.send_replace(true);
        self.pool().close().await;
        Ok(())
    }

    async fn compaction_pending(&self) -> Result<bool, StoreError> {
        todo!("postgres: compaction_pending")
    }

    async fn purge(&self, cutoff: Millis, dry_run: bool) -> Result<PurgeReport, StoreError> {
        todo!("postgres: purge")
    }

    async fn usage_by_family(&self) -> Result<Vec<FamilyUsage>, StoreError> {
        todo!("postgres: usage_by_family")
    }

    async fn size_on_disk(&self) -> Result<u64, StoreError> {
        todo!("postgres: size_on_disk")
    }
}
