//! PostgreSQL: the Directory port. Payment dates by city and the directory of offices and
//! clinics, keyed as sled keys them (city and name compared without regard to case).

use super::*;

fn payment_key(city: &str) -> String {
    city.to_lowercase()
}

pub(crate) async fn put_payment(tx: &mut Tx, e: &PaymentEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO payments (city_key, data) VALUES ($1, $2) \
         ON CONFLICT (city_key) DO UPDATE SET data = EXCLUDED.data",
    )
    .bind(payment_key(&e.city))
    .bind(to_json(e)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn put_directory(tx: &mut Tx, e: &DirectoryEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO directory (city_key, kind, name_key, data) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (city_key, kind, name_key) DO UPDATE SET data = EXCLUDED.data",
    )
    .bind(e.city.to_lowercase())
    .bind(e.kind.name())
    .bind(e.name.to_lowercase())
    .bind(to_json(e)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl Directory for PgStore {
    /// The payment schedule, ordered by city.
    async fn payments(&self) -> Result<Vec<PaymentEntry>, StoreError> {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM payments ORDER BY city_key")
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|v| from_json(v, "a payment date"))
            .collect()
    }

    /// Adds or replaces the entries' cities in one transaction (re-importing is harmless).
    async fn upsert_payments(&self, entries: &[PaymentEntry]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for e in entries {
            put_payment(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn remove_payment(&self, city: &str) -> Result<bool, StoreError> {
        let removed = sqlx::query("DELETE FROM payments WHERE city_key = $1")
            .bind(payment_key(city))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(removed > 0)
    }

    /// Every directory entry, by city, kind and name.
    async fn directory(&self) -> Result<Vec<DirectoryEntry>, StoreError> {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM directory ORDER BY city_key, kind, name_key")
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|v| from_json(v, "a directory entry"))
            .collect()
    }

    async fn upsert_directory(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for e in entries {
            put_directory(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the entry at (`city`, `kind`, `name`) by `entry` (which may rename it), or
    /// removes it when `entry` is `None`; false when there was no such entry.
    async fn replace_directory_entry(
        &self,
        city: &str,
        kind: DirectoryKind,
        name: &str,
        entry: Option<&DirectoryEntry>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let removed = sqlx::query(
            "DELETE FROM directory WHERE city_key = $1 AND kind = $2 AND name_key = $3",
        )
        .bind(city.to_lowercase())
        .bind(kind.name())
        .bind(name.to_lowercase())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed == 0 {
            return Ok(false);
        }
        if let Some(e) = entry {
            put_directory(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
