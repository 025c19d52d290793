//! The PostgreSQL backend, for organisations that run kabar as several identical replicas on
//! one database (cargo feature `postgres`). It implements the same ports as the embedded sled
//! store; `tests/store_contract.rs` runs the same checks against both.
//!
//! Records are the domain types as `jsonb` (one encoding, shared with the API), beside the
//! columns the database must index, order or constrain: who a row belongs to, its id, its
//! status, when it is due. Every id comes from one sequence, so ids keep sled's meaning
//! (monotonic across all record kinds) and a gateway's `kabar-{id}` stays unique.
//!
//! Everything a replica used to keep in its memory and that other replicas must see (per
//! contact order, the dispatcher, live events, login limits) goes through the database: row
//! locks and advisory locks inside transactions, `LISTEN/NOTIFY` for live pages and the sender.

mod accounts;
mod broadcasts;
mod desk;
mod directory;
mod import;
mod intake;
mod maintenance;
mod media;
mod outbox;
mod people;
pub(crate) mod replicas;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

#[allow(unused_imports)]
use crate::broadcast::{Broadcast, Progress, Recipient, RecipientStatus, Status, Valid};
#[allow(unused_imports)]
use crate::disk::DiskWatch;
#[allow(unused_imports)]
use crate::domain::*;
#[allow(unused_imports)]
use crate::flow::Session;
#[allow(unused_imports)]
use crate::i18n::Lang;
#[allow(unused_imports)]
use crate::metrics::Metrics;

#[allow(unused_imports)]
use super::{
    Accounts, Actor, ApiToken, AuditFilter, BackupError, BackupSummary, BroadcastChange,
    BroadcastError, Broadcasts, Desk, Directory, EnqueueCursor, Erasure, FamilyUsage, Intake,
    IntakeEnd, IntakeSink, Maintenance, Media, NewInbound, Outbox, PendingInbound, People,
    PurgeReport, Queued, StatusUpdate, StepOutcome, StepWrite, StoreError, TicketChange,
    TicketError, UserChange, WebSession,
};

pub use crate::config::DatabaseUrl;
pub use import::{ImportStart, UnfinishedImport};

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // sqlx's messages name the server's complaint, never the connection string.
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            sqlx::Error::PoolClosed => StoreError::Closed,
            _ => StoreError::Database(e.to_string()),
        }
    }
}

/// The schema, in order. Applied at start-up by every replica (sqlx takes a lock, so two
/// replicas starting together apply it once).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "shared records",
        include_str!("migrations/0001_shared.sql"),
    ),
    (
        2,
        "conversation",
        include_str!("migrations/0002_conversation.sql"),
    ),
    (3, "staff", include_str!("migrations/0003_staff.sql")),
    (4, "replicas", include_str!("migrations/0004_replicas.sql")),
    (5, "imports", include_str!("migrations/0005_imports.sql")),
    (
        6,
        "inbox accepted_by",
        include_str!("migrations/0006_inbox_accepted_by.sql"),
    ),
];

fn migrator() -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// One transaction.
pub(crate) type Tx = Transaction<'static, Postgres>;

/// The PostgreSQL store. Cheap to clone; every clone shares one connection pool.
#[derive(Clone)]
pub struct PgStore(Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    /// The schema kabar's tables live in (`public` unless a test or an operator chose one).
    /// Notifications name it, so replicas of another kabar in the same database ignore them.
    pub(crate) schema: String,
    /// Turns true on [`Maintenance::close`]: background loops (the intake) end.
    pub(crate) closing: tokio::sync::watch::Sender<bool>,
    /// This replica's name in leases (random per start: a restarted replica is a new one).
    pub(crate) replica: String,
    /// The connection holding the dispatcher's advisory lock, while this replica sends.
    leader: tokio::sync::Mutex<Option<Lead>>,
    /// This replica's counters, once its intake runs: webhooks store here (each replica
    /// counts what it accepted; the metrics scrape sums the replicas).
    pub(crate) metrics: std::sync::OnceLock<Arc<Metrics>>,
    /// Contacts this replica's webhooks stored messages for, for its own intake.
    pub(crate) accepted: intake::AcceptedHere,
    /// Whether this replica sent the outbox at its dispatcher's last look: its own replies
    /// then need no announcement to reach the sender (its dispatcher is woken in-process).
    pub(crate) sends: std::sync::atomic::AtomicBool,
}

/// The connection the dispatcher's advisory lock is asked for on; `leads` once it holds it
/// (PostgreSQL frees the lock when the connection closes: when this replica stops or dies).
struct Lead {
    conn: sqlx::PgConnection,
    leads: bool,
}

impl PgStore {
    /// Connects and applies the migrations. With `schema`, kabar's tables live there (created
    /// when missing); without, in the schema the URL's `search_path` names (the
    /// `options=-c search_path=…` parameter), else `public`.
    pub async fn connect(url: &DatabaseUrl, schema: Option<&str>) -> Result<PgStore, StoreError> {
        let mut options = connect_options(url)?.application_name("kabar");
        if let Some(schema) = schema {
            check_schema_name(schema)?;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Database(format!("cannot connect to PostgreSQL at {url}: {e}"))
            })?;
        if let Some(schema) = schema {
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&pool)
                .await?;
        }
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        let schema = schema.ok_or_else(|| {
            StoreError::Database(
                "no schema to keep kabar's tables in: the search_path names none that exists"
                    .into(),
            )
        })?;
        check_schema_name(&schema)?;
        migrator()
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(format!("applying the schema: {e}")))?;
        Ok(PgStore(Arc::new(Inner {
            pool,
            schema,
            closing: tokio::sync::watch::channel(false).0,
            replica: format!("{:016x}", rand::random::<u64>()),
            leader: tokio::sync::Mutex::new(None),
            metrics: std::sync::OnceLock::new(),
            accepted: intake::AcceptedHere::default(),
            sends: std::sync::atomic::AtomicBool::new(false),
        })))
    }

    /// Removes a schema and everything in it (tests start each check on an empty one).
    pub async fn drop_schema(url: &DatabaseUrl, schema: &str) -> Result<(), StoreError> {
        use sqlx::Connection;
        check_schema_name(schema)?;
        let mut conn = sqlx::PgConnection::connect_with(&connect_options(url)?).await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }

    /// Whether this replica is the one that sends the outbox. One replica at a time holds a
    /// session advisory lock on a connection of its own; when it dies its connection closes,
    /// PostgreSQL frees the lock and the next replica to ask takes over. The holder checks its
    /// connection each time, so a replica cut off from the database stops sending.
    pub(crate) async fn dispatcher_turn(&self) -> bool {
        let leads = self.take_dispatcher_turn().await;
        self.0
            .sends
            .store(leads, std::sync::atomic::Ordering::Relaxed);
        leads
    }

    async fn take_dispatcher_turn(&self) -> bool {
        use sqlx::Connection;
        let mut held = self.0.leader.lock().await;
        if *self.0.closing.borrow() {
            *held = None;
            return false;
        }
        if let Some(lead) = held.as_mut() {
            if lead.leads {
                if lead.conn.ping().await.is_ok() {
                    return true;
                }
                tracing::warn!("lost the database connection that made this replica the sender");
                *held = None;
            }
        }
        if held.is_none() {
            // A connection of its own, outside the pool, kept while standing by too (asking
            // each second costs a query, not a new connection).
            match self.0.pool.acquire().await {
                Ok(conn) => {
                    *held = Some(Lead {
                        conn: conn.detach(),
                        leads: false,
                    })
                }
                Err(_) => return false,
            }
        }
        let Some(lead) = held.as_mut() else {
            return false;
        };
        let won: Result<bool, _> = sqlx::query_scalar(
            "SELECT pg_try_advisory_lock(hashtextextended('kabar dispatcher ' || current_schema(), 0))",
        )
        .fetch_one(&mut lead.conn)
        .await;
        match won {
            Ok(true) => {
                tracing::info!(replica = %self.0.replica, "this replica sends the outbox");
                lead.leads = true;
                true
            }
            Ok(false) => false,
            Err(_) => {
                *held = None;
                false
            }
        }
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.0.pool
    }

    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.0.pool.begin().await?)
    }

    /// `count` new ids from the one sequence every record kind draws from.
    pub(crate) async fn next_ids(
        &self,
        conn: &mut sqlx::PgConnection,
        count: usize,
    ) -> Result<Vec<u64>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT nextval('kabar_ids') FROM generate_series(1, $1)")
                .bind(count as i64)
                .fetch_all(conn)
                .await?;
        Ok(ids.into_iter().map(|id| id as u64).collect())
    }
}

fn connect_options(url: &DatabaseUrl) -> Result<PgConnectOptions, StoreError> {
    url.expose()
        .parse()
        .map_err(|e: sqlx::Error| StoreError::Database(format!("store.url: {e}")))
}

/// Schema names are put into SQL text (they cannot be bound): only plain lowercase names.
fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let plain = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(())
    } else {
        Err(StoreError::Database(format!(
            "schema name {schema:?}: 1-63 characters, only a-z, 0-9 and _"
        )))
    }
}

/// PostgreSQL's longest name (NAMEDATALEN - 1), which channel names are held to.
const MAX_NAME: usize = 63;
/// Hex digits of the schema's digest in a shortened channel name.
const DIGEST_HEX: usize = 16;

/// A notification channel of `schema`: `prefix` and the schema's name, or for a name too long
/// for that, its start, `_` and the start of its SHA-256 in hex. [`channel_name_sql`] says
/// the same in SQL.
pub(crate) fn channel_name(prefix: &str, schema: &str) -> String {
    let channel = format!("{prefix}{schema}");
    if channel.len() <= MAX_NAME {
        return channel;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(schema.as_bytes());
    let hex: String = digest[..DIGEST_HEX / 2]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let keep = MAX_NAME - prefix.len() - 1 - DIGEST_HEX;
    format!("{prefix}{}_{hex}", &schema[..keep.min(schema.len())])
}

/// [`channel_name`] of the connection's own schema, as an SQL expression (for notifications
/// sent inside a transaction that knows no store). Schema names are ASCII, so characters are
/// bytes.
pub(crate) fn channel_name_sql(prefix: &str) -> String {
    let keep = MAX_NAME - prefix.len() - 1 - DIGEST_HEX;
    format!(
        "(CASE WHEN octet_length('{prefix}' || current_schema()) <= {MAX_NAME} \
         THEN '{prefix}' || current_schema() \
         ELSE '{prefix}' || left(current_schema(), {keep}) || '_' || \
         left(encode(sha256(convert_to(current_schema(), 'UTF8')), 'hex'), {DIGEST_HEX}) END)"
    )
}

// ---------------------------------------------------------------------------------------------
// Records both halves write (tables in 0001_shared.sql). Every function takes the caller's
// transaction: a step's writes commit together or not at all.
// ---------------------------------------------------------------------------------------------

/// Serialises everything that changes one person's records, across replicas: held until the
/// transaction ends. The intake, a conversation step, a ticket action and erasure all take it
/// before reading the person's rows, so their order is the order they committed in.
pub(crate) async fn lock_contact(tx: &mut Tx, contact: &ContactId) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('contact:' || $1, 0))")
        .bind(contact.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The contact filed under `id`, or the one `id` is a linked address of.
pub(crate) async fn load_contact(
    conn: &mut sqlx::PgConnection,
    id: &ContactId,
) -> Result<Option<Contact>, StoreError> {
    let row: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT c.data FROM contacts c WHERE c.id = $1 \
         UNION ALL \
         SELECT c.data FROM contact_addresses a JOIN contacts c ON c.id = a.contact \
         WHERE a.address = $1 AND a.contact <> $1 \
         LIMIT 1",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|v| from_json(v, format_args!("contact {}", id.redacted())))
        .transpose()
}

/// Writes a contact and the addresses that lead to it. An address another contact already
/// holds stays theirs (the older contact keeps it, as in sled).
pub(crate) async fn save_contact(tx: &mut Tx, contact: &Contact) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO contacts (id, data) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data",
    )
    .bind(contact.id.as_str())
    .bind(to_json(contact)?)
    .execute(&mut **tx)
    .await?;
    for address in contact.addresses() {
        sqlx::query(
            "INSERT INTO contact_addresses (address, contact) VALUES ($1, $2) \
             ON CONFLICT (address) DO NOTHING",
        )
        .bind(address.as_str())
        .bind(contact.id.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Inserts or replaces a message record.
pub(crate) async fn save_message(tx: &mut Tx, message: &MessageRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO messages (id, contact, direction, status, created_at, data) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, data = EXCLUDED.data",
    )
    .bind(db_id(message.id))
    .bind(message.contact.as_str())
    .bind(match message.direction {
        Direction::In => "in",
        Direction::Out => "out",
    })
    .bind(message.status.name())
    .bind(message.created_at as i64)
    .bind(to_json(message)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A message record; with `for_update`, its row stays locked until the transaction ends.
pub(crate) async fn load_message(
    conn: &mut sqlx::PgConnection,
    id: u64,
    for_update: bool,
) -> Result<Option<MessageRecord>, StoreError> {
    let sql = if for_update {
        "SELECT data FROM messages WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT data FROM messages WHERE id = $1"
    };
    let row: Option<serde_json::Value> = sqlx::query_scalar(sql)
        .bind(db_id(id))
        .fetch_optional(conn)
        .await?;
    row.map(|v| from_json(v, format_args!("message {id}")))
        .transpose()
}

/// Inserts or replaces a ticket; the unique index keeps one open ticket per person.
pub(crate) async fn save_ticket(tx: &mut Tx, ticket: &Ticket) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tickets (id, contact, open, closed_at, data) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET contact = EXCLUDED.contact, open = EXCLUDED.open, \
         closed_at = EXCLUDED.closed_at, data = EXCLUDED.data",
    )
    .bind(db_id(ticket.id))
    .bind(ticket.contact.as_str())
    .bind(ticket.status == TicketStatus::Open)
    .bind(ticket.closed_at.map(|t| t as i64))
    .bind(to_json(ticket)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A ticket; with `for_update`, its row stays locked until the transaction ends.
pub(crate) async fn load_ticket(
    conn: &mut sqlx::PgConnection,
    id: u64,
    for_update: bool,
) -> Result<Option<Ticket>, StoreError> {
    let sql = if for_update {
        "SELECT data FROM tickets WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT data FROM tickets WHERE id = $1"
    };
    let row: Option<serde_json::Value> = sqlx::query_scalar(sql)
        .bind(db_id(id))
        .fetch_optional(conn)
        .await?;
    row.map(|v| from_json(v, format_args!("ticket {id}")))
        .transpose()
}

/// The person's open ticket, if any.
pub(crate) async fn open_ticket(
    conn: &mut sqlx::PgConnection,
    contact: &ContactId,
) -> Result<Option<Ticket>, StoreError> {
    let row: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT data FROM tickets WHERE contact = $1 AND open")
            .bind(contact.as_str())
            .fetch_optional(conn)
            .await?;
    row.map(|v| from_json(v, "an open ticket")).transpose()
}

/// Appends an audit row (its id from `kabar_ids`, so newest first is `ORDER BY id DESC`).
pub(crate) async fn insert_audit(tx: &mut Tx, entry: &AuditEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (id, at, ticket, data) VALUES (nextval('kabar_ids'), $1, $2, $3)",
    )
    .bind(entry.at as i64)
    .bind(entry.ticket.map(db_id))
    .bind(to_json(entry)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A record as `jsonb`.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(StoreError::Encode)
}

/// A record from `jsonb`; `what` names it in the error (`ticket 42`).
pub(crate) fn from_json<T: DeserializeOwned>(
    value: serde_json::Value,
    what: impl fmt::Display,
) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt {
        key: what.to_string(),
        reason: e.to_string(),
    })
}

/// Ids are `u64` in kabar and `bigint` in PostgreSQL; every id comes from `kabar_ids`, so
/// they stay far below `i64::MAX`.
pub(crate) fn db_id(id: u64) -> i64 {
    id as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_never_prints_its_password() {
        let url = DatabaseUrl::new("postgres://kabar:s3cret-pw@db.example.org:6432/kabar").unwrap();
        for shown in [format!("{url:?}"), format!("{url}")] {
            assert!(!shown.contains("s3cret-pw"), "{shown}");
            assert!(!shown.contains("kabar:"), "{shown}");
            assert!(shown.contains("db.example.org:6432/kabar"), "{shown}");
        }
        assert!(DatabaseUrl::new("mysql://x@y/z").is_err());
        assert!(DatabaseUrl::new("not a url").is_err());
    }
}
