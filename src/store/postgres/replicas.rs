//! PostgreSQL: what replicas share beyond records (the Coordination port). Announcements are
//! `NOTIFY`s on a channel named after the schema, sent by one replica and heard by the
//! others' listeners; the login limit and shared keys are rows.

use sqlx::postgres::PgListener;

use super::*;
use crate::store::{Coordination, Topic};

/// PostgreSQL caps a notification's payload at 8000 bytes; announcements are small (ids and
/// short texts), anything larger is not sent rather than failing the caller.
const MAX_PAYLOAD: usize = 7900;

const EVENTS: &str = "kabar_events_";

fn events_channel(schema: &str) -> String {
    channel_name(EVENTS, schema)
}

/// What goes over the channel: who sent it, so a replica skips its own.
#[derive(serde::Serialize, serde::Deserialize)]
struct Announcement {
    replica: String,
    topic: Topic,
    payload: String,
}

/// Announces, in the caller's transaction, that a reply waits in the outbox: delivered to
/// every replica when the transaction commits (PostgreSQL sends identical notifications of
/// one transaction once), so the replica that sends need not wait for its next look. It names
/// no replica: the one that queued it hears it too, which only wakes its dispatcher again.
pub(crate) async fn announce_queued(tx: &mut Tx) -> Result<(), StoreError> {
    let text = serde_json::to_string(&Announcement {
        replica: String::new(),
        topic: Topic::Outbox,
        payload: String::new(),
    })
    .map_err(StoreError::Encode)?;
    // The channel is `events_channel` of the schema the connection works in.
    sqlx::query(&format!(
        "SELECT pg_notify({}, $1)",
        channel_name_sql(EVENTS)
    ))
    .bind(text)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl Coordination for PgStore {
    async fn announce(&self, topic: Topic, payload: &str) -> Result<(), StoreError> {
        let text = serde_json::to_string(&Announcement {
            replica: self.0.replica.clone(),
            topic,
            payload: payload.to_owned(),
        })
        .map_err(StoreError::Encode)?;
        if text.len() > MAX_PAYLOAD {
            tracing::warn!(
                ?topic,
                bytes = text.len(),
                "announcement too large; not sent"
            );
            return Ok(());
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(events_channel(&self.0.schema))
            .bind(text)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn announcements(&self) -> Option<tokio::sync::mpsc::Receiver<(Topic, String)>> {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let store = self.clone();
        tokio::spawn(async move { store.relay_announcements(tx).await });
        Some(rx)
    }

    async fn login_failures(&self, name: &str, since: Millis) -> Result<Vec<Millis>, StoreError> {
        let mut tx = self.begin().await?;
        // Old rows go as they are read: the table holds only the last window's failures.
        sqlx::query("DELETE FROM login_failures WHERE name = $1 AND at < $2")
            .bind(name)
            .bind(since as i64)
            .execute(&mut *tx)
            .await?;
        let at: Vec<i64> =
            sqlx::query_scalar("SELECT at FROM login_failures WHERE name = $1 ORDER BY at")
                .bind(name)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(at.into_iter().map(|t| t as Millis).collect())
    }

    async fn record_login_failure(&self, name: &str, at: Millis) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO login_failures (name, at) VALUES ($1, $2)")
            .bind(name)
            .bind(at as i64)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn clear_login_failures(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn shared_key(&self, purpose: &str) -> Result<[u8; 32], StoreError> {
        use rand::RngCore;
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        // The first replica's key wins; every other one reads it back.
        sqlx::query(
            "INSERT INTO shared_keys (purpose, key) VALUES ($1, $2) ON CONFLICT (purpose) DO NOTHING",
        )
        .bind(purpose)
        .bind(&fresh[..])
        .execute(self.pool())
        .await?;
        let key: Vec<u8> = sqlx::query_scalar("SELECT key FROM shared_keys WHERE purpose = $1")
            .bind(purpose)
            .fetch_one(self.pool())
            .await?;
        key.try_into().map_err(|_| StoreError::Corrupt {
            key: format!("shared key {purpose}"),
            reason: "not 32 bytes".into(),
        })
    }
}

impl PgStore {
    /// Listens until the store closes or nobody reads any more, reconnecting after a lost
    /// connection (what was announced meanwhile is missed: pages catch up at their next
    /// refresh, as after any dropped stream).
    async fn relay_announcements(&self, out: tokio::sync::mpsc::Sender<(Topic, String)>) {
        let channel = events_channel(&self.0.schema);
        let mut closing = self.0.closing.subscribe();
        loop {
            if *closing.borrow() || out.is_closed() {
                return;
            }
            let mut listener = match PgListener::connect_with(self.pool()).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen to other replicas; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(&channel).await {
                tracing::warn!(error = %e, "cannot listen to other replicas; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            loop {
                tokio::select! {
                    _ = closing.changed() => return,
                    _ = out.closed() => return,
                    received = listener.try_recv() => match received {
                        Ok(Some(n)) => {
                            let Ok(a) = serde_json::from_str::<Announcement>(n.payload()) else {
                                continue;
                            };
                            if a.replica != self.0.replica
                                && out.send((a.topic, a.payload)).await.is_err()
                            {
                                return;
                            }
                        }
                        // The connection was lost: listen again on a new one.
                        Ok(None) | Err(_) => break,
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Outbox;
    use crate::store::postgres::accounts::replicas;

    #[tokio::test]
    async fn channel_names_agree_in_rust_and_sql_and_fit_postgresql() {
        let long = "a_schema_name_long_enough_that_kabar_events_does_not_fit_it";
        for check in ["short", long] {
            let Some((store, _)) = replicas::two(check).await else {
                return;
            };
            let from_sql: String =
                sqlx::query_scalar(&format!("SELECT {}", channel_name_sql(EVENTS)))
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            assert_eq!(from_sql, events_channel(&store.0.schema));
            assert!(from_sql.len() <= MAX_NAME, "{from_sql}");
        }
    }

    #[tokio::test]
    async fn a_reply_queued_on_one_replica_wakes_the_others_at_commit() {
        let Some((a, b)) = replicas::two("outbox_wakes").await else {
            return;
        };
        let mut heard = b.announcements().await.expect("replicas hear each other");
        // The listener is connected once an announcement of A's gets through.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            a.announce(Topic::Ticket, "ping").await.unwrap();
            if let Ok(Some((Topic::Ticket, _))) =
                tokio::time::timeout(Duration::from_millis(200), heard.recv()).await
            {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "B never listened");
        }
        let person = ContactId::parse("+6281200000901").unwrap();
        a.queue_message(&person, Channel::TwilioSms, Author::Bot, "hello", None)
            .await
            .unwrap();
        // (Pings sent before B listened may still come first.)
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(until, heard.recv()).await {
                Ok(Some((Topic::Outbox, _))) => break,
                Ok(Some((Topic::Ticket, _))) => continue,
                other => panic!("B did not hear of the queued reply: {other:?}"),
            }
        }
        // Once A sends the outbox itself, its own replies are not announced (its dispatcher
        // is woken in-process), and B's still are.
        assert!(a.dispatcher_turn().await, "A takes the sender's lock");
        a.queue_message(&person, Channel::TwilioSms, Author::Bot, "again", None)
            .await
            .unwrap();
        let quiet = tokio::time::Instant::now() + Duration::from_secs(1);
        while let Ok(got) = tokio::time::timeout_at(quiet, heard.recv()).await {
            assert!(
                !matches!(got, Some((Topic::Outbox, _))),
                "the sender announced its own reply"
            );
        }
        let mut heard_by_a = a.announcements().await.expect("replicas hear each other");
        let until = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            b.queue_message(&person, Channel::TwilioSms, Author::Bot, "from b", None)
                .await
                .unwrap();
            match tokio::time::timeout(Duration::from_millis(300), heard_by_a.recv()).await {
                Ok(Some((Topic::Outbox, _))) => break,
                _ => assert!(
                    tokio::time::Instant::now() < until,
                    "A never heard of B's reply"
                ),
            }
        }
    }
}
