//! Storage: the only module that knows keys and encodings. One sled tree, keys by prefix:
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `c/` | phone | Contact |
//! | `s/` | phone | Session |
//! | `m/` | message id (16 hex) | MessageRecord |
//! | `h/` | phone `/` message id | () — a contact's history in order |
//! | `x/` | channel `/` provider id | message id — dedupe and status look-up |
//! | `i/` | phone `/` sequence | message id — inbound messages not yet processed |
//! | `o/` | message id | OutboxItem |
//! | `od/` | due time `/` message id | () — what the dispatcher may send now |
//! | `or/` | phone `/` message id | () — a person's queued messages, in order |
//! | `t/` | ticket number (1, 2, 3 …) | Ticket |
//! | `meta/next-ticket` | — | the next ticket number (taken in the transaction that opens one) |
//! | `to/` | phone | id of the contact's open ticket |
//! | `u/` | user name | User |
//! | `k/` | sha256(token) hex | {user, created_at, created_by} (older: the user name) |
//! | `p/` | city (lower case) | PaymentEntry |
//! | `d/` | city `/` kind `/` name (lower case) | DirectoryEntry |
//! | `tc/` | phone | id of the ticket closed last (reopened within 24 h) |
//! | `au/` | time, id | AuditEntry |
//! | `sn/` | user `/` ticket | messages of the ticket the user has seen |
//! | `cr/` | language `/` id | CannedReply |
//! | `ss/` | sha256(session token) | web session |
//! | `odb/` | due time `/` message id | () — like `od/`, for the bulk (broadcast) lane |
//! | `orb/` | phone `/` message id | () — like `or/`, for the bulk lane |
//! | `b/` | broadcast id | Broadcast |
//! | `bq/` | broadcast id `/` chunk number | the frozen audience: a few thousand {phone, language, channel} (erased people become null) |
//! | `br/` | broadcast id `/` phone | Recipient — written once that person is dealt with (queued as a message, or skipped) |
//! | `bp/` | broadcast id | the dispatcher's position in the audience (chunk, index) |
//! | `bo/` | broadcast id `/` message id | () — its messages still in the outbox (not held) |
//! | `bc/` | broadcast id | enqueue cursor: the last contact written, and whether all were |
//!
//! Values are records encoded by [`encode`]: a format byte, then MessagePack with field names;
//! records written before that are JSON and still read (see [`decode`]). sled compresses its
//! log (zstd), so the field names repeated in every record cost little on disk. Every operation
//! that changes several keys is one sled transaction, and a caller that must not lose it awaits
//! [`Store::durable`] (group commit) before acknowledging.

mod admin;
pub mod backup;
mod broadcasts;
mod commit;
#[cfg(feature = "postgres")]
mod export;
#[cfg(test)]
mod format_tests;
mod helpdesk;
mod intake;
pub mod journal;
pub(crate) mod media;
mod port;
mod privacy;
mod space;

use crate::helpdesk::rules::{self, TicketWrite};
pub use admin::{ApiToken, UserChange};
#[cfg(feature = "postgres")]
pub(crate) use admin::{apply_user_change, created_detail};
pub use broadcasts::{BroadcastError, EnqueueCursor, Position, Queued};
pub use helpdesk::{Actor, REOPEN_WINDOW_MS, TicketError, WebSession};
#[cfg(feature = "postgres")]
pub(crate) use privacy::anonymise;
pub use privacy::{Compaction, Erasure, PurgeReport, compact};
pub use space::FamilyUsage;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};

use crate::domain::ContactId;
pub use crate::domain::inbound::NewInbound;
use crate::domain::*;
use crate::flow::Session;
use crate::i18n::Lang;
pub use backup::{BackupError, BackupSummary, restore};
pub use port::SledStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data folder {0} is in use by another kabar process (is `kabar serve` running?). \
         Stop the server first, or make the change in its web pages or API"
    )]
    Locked(PathBuf),
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("stored record {key} cannot be read: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("cannot encode record: {0}")]
    Encode(serde_json::Error),
    #[error("cannot encode record: {0}")]
    EncodeRecord(#[from] rmp_serde::encode::Error),
    #[error("{0}")]
    Conflict(String),
    #[error("the store is shutting down")]
    Closed,
    #[error("intake journal: {0}")]
    Journal(String),
    #[error("a storage task failed: {0}")]
    Blocking(String),
    /// PostgreSQL refused or could not be reached (the message never holds the URL).
    #[error("database: {0}")]
    Database(String),
}

impl From<UnabortableTransactionError> for StoreError {
    fn from(e: UnabortableTransactionError) -> Self {
        match e {
            UnabortableTransactionError::Storage(e) => StoreError::Sled(e),
            UnabortableTransactionError::Conflict => {
                StoreError::Conflict("transaction conflict".into())
            }
        }
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// The first byte of a record in the compact encoding. Records stored before it are JSON, which
/// starts with `{`, `[`, `"`, a digit, a letter or a space, never with this byte (0xC1 is not
/// ASCII, not UTF-8, and the one byte MessagePack never uses), so each record says how to read it.
const COMPACT_RECORD: u8 = 0xC1;

/// Encodes a record: [`COMPACT_RECORD`], then MessagePack (rmp-serde) with field names.
///
/// Why with names rather than by position: the records use serde attributes that a positional
/// encoding gets wrong (`skip_serializing_if` in the middle of a struct shifts every later
/// field, an adjacently tagged unit variant such as `Author::Bot` has no content) and a
/// positional record breaks as soon as a field is inserted or reordered. Named, a record keeps
/// JSON's rules (add a field with `#[serde(default)]`, old records still read) at a fifth less
/// than JSON, and sled's zstd compression of whole pages takes out most of the repeated names.
fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(256);
    out.push(COMPACT_RECORD);
    rmp_serde::encode::write_named(&mut out, value)?;
    Ok(out)
}

/// Reads a record in either encoding: compact (written now) or JSON (written before).
fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason,
    };
    match bytes.split_first() {
        Some((&COMPACT_RECORD, record)) => {
            rmp_serde::from_slice(record).map_err(|e| corrupt(e.to_string()))
        }
        _ => serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string())),
    }
}

/// sled's compression level (zstd). Level 3, zstd's default, gave the smallest files in
/// `benches/disk.rs` among 1, 3, 5 and 9 within the noise, at a fraction of the CPU of the
/// higher levels; it runs on sled's background flush threads, never on a webhook's path.
const COMPRESSION_LEVEL: i32 = 3;

/// sled's settings for kabar's database at `path`. Compression is what brings a message under
/// 1 KB on disk: sled writes whole pages of records with the same field names, phone prefixes
/// and ids, which zstd shrinks several times. sled refuses to open a database with other
/// compression settings than the ones it was created with, so a database from before
/// compression is rewritten once at start-up (`privacy::convert_uncompressed`).
pub fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new()
        .path(path)
        .use_compression(true)
        .compression_factor(COMPRESSION_LEVEL)
}

fn tx_get<T: DeserializeOwned>(tx: &TransactionalTree, key: &str) -> TxResult<Option<T>> {
    match tx.get(key.as_bytes())? {
        Some(bytes) => decode(key.as_bytes(), &bytes)
            .map(Some)
            .map_err(ConflictableTransactionError::Abort),
        None => Ok(None),
    }
}

fn tx_put<T: Serialize>(tx: &TransactionalTree, key: &str, value: &T) -> TxResult<()> {
    let bytes = encode(value).map_err(ConflictableTransactionError::Abort)?;
    tx.insert(key.as_bytes(), bytes)?;
    Ok(())
}

/// Writes an outbox item and its indexes; `previous` is the stored version being replaced.
fn put_outbox(
    tx: &TransactionalTree,
    item: &OutboxItem,
    previous: Option<&OutboxItem>,
) -> TxResult<()> {
    if let Some(old) = previous {
        tx.remove(keys::outbox_due(old.lane, old.next_attempt_at, old.message_id).as_bytes())?;
    }
    // The text is the message record's (written before, in this or an earlier transaction):
    // stored once, not twice. A few hundred bytes of log per reply, which sled keeps until it
    // cleans the segment (issue 16: bytes on disk per reply).
    let same_text = tx_get::<MessageRecord>(tx, &keys::message(item.message_id))?
        .is_some_and(|m| m.text == item.text);
    if same_text && !item.text.is_empty() {
        let stored = OutboxItem {
            text: String::new(),
            ..item.clone()
        };
        tx_put(tx, &keys::outbox(item.message_id), &stored)?;
    } else {
        tx_put(tx, &keys::outbox(item.message_id), item)?;
    }
    if item.held.is_none() {
        tx.insert(
            keys::outbox_due(item.lane, item.next_attempt_at, item.message_id).as_bytes(),
            &[] as &[u8],
        )?;
    }
    tx.insert(
        keys::outbox_recipient(item.lane, &item.to, item.message_id).as_bytes(),
        &[] as &[u8],
    )?;
    if let Some(b) = item.broadcast {
        // A held broadcast message waits for the person, not for us: the broadcast is done.
        let pending = keys::broadcast_outbox(b, item.message_id);
        if item.held.is_none() {
            tx.insert(pending.as_bytes(), &[] as &[u8])?;
        } else {
            tx.remove(pending.as_bytes())?;
        }
    }
    Ok(())
}

/// Takes the next short ticket number, in the transaction that opens the ticket, so numbers
/// survive restarts and stay small (sled's `generate_id` jumps by about a million at every
/// restart). Stores from before the counter hold tickets with such large ids: a number already
/// taken is skipped, so old tickets keep theirs.
fn next_ticket_number(tx: &TransactionalTree) -> TxResult<u64> {
    let mut number = tx_get::<u64>(tx, keys::NEXT_TICKET)?.unwrap_or(1);
    while tx.get(keys::ticket(number).as_bytes())?.is_some() {
        number += 1;
    }
    tx_put(tx, keys::NEXT_TICKET, &(number + 1))?;
    Ok(number)
}

/// Removes an outbox item and its indexes; false when it was not queued.
fn remove_outbox(tx: &TransactionalTree, id: u64) -> TxResult<bool> {
    let Some(old) = tx_get::<OutboxItem>(tx, &keys::outbox(id))? else {
        return Ok(false);
    };
    tx.remove(keys::outbox(id).as_bytes())?;
    tx.remove(keys::outbox_due(old.lane, old.next_attempt_at, id).as_bytes())?;
    tx.remove(keys::outbox_recipient(old.lane, &old.to, id).as_bytes())?;
    if let Some(b) = old.broadcast {
        tx.remove(keys::broadcast_outbox(b, id).as_bytes())?;
    }
    Ok(true)
}

mod keys {
    use crate::domain::ContactId;
    use crate::domain::{Channel, Lane};

    pub fn contact(p: &ContactId) -> String {
        format!("c/{p}")
    }
    pub fn contact_prefix() -> String {
        "c/".into()
    }
    pub fn session(p: &ContactId) -> String {
        format!("s/{p}")
    }
    pub fn message(id: u64) -> String {
        format!("m/{id:016x}")
    }
    pub fn history(p: &ContactId, id: u64) -> String {
        format!("h/{p}/{id:016x}")
    }
    pub fn history_prefix(p: &ContactId) -> String {
        format!("h/{p}/")
    }
    pub fn external(channel: Channel, external_id: &str) -> String {
        // Twilio SMS and WhatsApp share one id space (MessageSid).
        let space = match channel {
            Channel::TwilioSms | Channel::TwilioWhatsapp => "twilio",
            Channel::Simulator => "simulator",
            Channel::Whatsapp => "whatsapp",
            Channel::Gateway => "gateway",
        };
        format!("x/{space}/{external_id}")
    }
    pub fn inbox(p: &ContactId, seq: u64) -> String {
        format!("i/{p}/{seq:016x}")
    }
    pub fn inbox_prefix(p: &ContactId) -> String {
        format!("i/{p}/")
    }
    pub fn outbox(id: u64) -> String {
        format!("o/{id:016x}")
    }
    /// Due index: the dispatcher reads only what is due, never the whole backlog. One per
    /// lane, so that a broadcast's backlog never hides a reply that is due.
    pub fn outbox_due(lane: Lane, at: crate::domain::Millis, id: u64) -> String {
        format!("{}{at:016x}/{id:016x}", due_prefix(lane))
    }
    pub fn due_prefix(lane: Lane) -> &'static str {
        match lane {
            Lane::Interactive => "od/",
            Lane::Bulk => "odb/",
        }
    }
    /// Per-recipient index: a person's messages go out in order, and held ones are found fast.
    /// Replies are ordered among themselves; a broadcast message never holds a reply back.
    pub fn outbox_recipient(lane: Lane, p: &ContactId, id: u64) -> String {
        format!("{}{id:016x}", outbox_recipient_prefix(lane, p))
    }
    pub fn outbox_recipient_prefix(lane: Lane, p: &ContactId) -> String {
        match lane {
            Lane::Interactive => format!("or/{p}/"),
            Lane::Bulk => format!("orb/{p}/"),
        }
    }
    pub fn broadcast(id: u64) -> String {
        format!("b/{id:016x}")
    }
    pub fn broadcast_recipient(b: u64, p: &ContactId) -> String {
        format!("br/{b:016x}/{p}")
    }
    pub fn broadcast_recipients(b: u64) -> String {
        format!("br/{b:016x}/")
    }
    /// The frozen audience, a few thousand people a key, numbered in phone order.
    pub fn broadcast_chunk(b: u64, seq: u64) -> String {
        format!("bq/{b:016x}/{seq:016x}")
    }
    pub fn broadcast_chunks(b: u64) -> String {
        format!("bq/{b:016x}/")
    }
    pub const BROADCAST_CHUNKS: &str = "bq/";
    /// The dispatcher's position in the audience: the last person dealt with.
    pub fn broadcast_position(b: u64) -> String {
        format!("bp/{b:016x}")
    }
    pub fn broadcast_outbox(b: u64, id: u64) -> String {
        format!("bo/{b:016x}/{id:016x}")
    }
    pub fn broadcast_outbox_prefix(b: u64) -> String {
        format!("bo/{b:016x}/")
    }
    pub fn broadcast_cursor(b: u64) -> String {
        format!("bc/{b:016x}")
    }
    /// The next short ticket number (a counter, see `next_ticket_number`).
    pub const NEXT_TICKET: &str = "meta/next-ticket";
    pub fn ticket(id: u64) -> String {
        format!("t/{id:016x}")
    }
    pub fn open_ticket(p: &ContactId) -> String {
        format!("to/{p}")
    }
    pub fn user(name: &str) -> String {
        format!("u/{name}")
    }
    pub fn token(hash: &str) -> String {
        format!("k/{hash}")
    }
    pub fn web_session(hash: &str) -> String {
        format!("ss/{hash}")
    }
    /// Which contact an address belongs to, for addresses learnt from WhatsApp user ids (a
    /// number with no entry here is its own contact's id).
    pub fn address(a: &ContactId) -> String {
        format!("ad/{a}")
    }
    pub fn closed_ticket(p: &ContactId) -> String {
        format!("tc/{p}")
    }
    pub fn audit(at: crate::domain::Millis, id: u64) -> String {
        format!("au/{at:016x}{id:016x}")
    }
    pub fn seen(user: &str, ticket: u64) -> String {
        format!("sn/{user}/{ticket:016x}")
    }
    pub fn canned(lang: crate::i18n::Lang, id: u64) -> String {
        format!("cr/{}/{id:016x}", lang.tag())
    }
    pub fn failed(id: u64) -> String {
        format!("xf/{id:016x}")
    }
    pub fn directory(city: &str, kind: crate::domain::DirectoryKind, name: &str) -> String {
        format!(
            "d/{}/{}/{}",
            city.to_lowercase(),
            kind.name(),
            name.to_lowercase()
        )
    }
    pub fn payment(city: &str) -> String {
        format!("p/{}", city.to_lowercase())
    }
}

/// One reply to queue: the plain text, and the menu as a WhatsApp list when it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub text: String,
    pub interactive: Option<Interactive>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundOutcome {
    /// Stored under `contact` (who the sender's address belongs to).
    Stored {
        message_id: u64,
        contact: ContactId,
    },
    Duplicate {
        message_id: u64,
    },
}

/// One inbound message waiting to be processed.
#[derive(Debug, Clone)]
pub struct PendingInbound {
    /// The backend's own handle on the waiting row (a sled key, a PostgreSQL inbox sequence
    /// number); nothing outside the store reads it.
    pub inbox_key: String,
    pub message: MessageRecord,
}

/// What processing one inbound message changes, written in one transaction.
#[derive(Debug, Clone)]
pub struct StepWrite {
    pub session: Session,
    pub contact: Contact,
    pub replies: Vec<Outgoing>,
    pub channel: Channel,
    pub ticket: TicketChange,
}

pub use crate::helpdesk::rules::TicketChange;

/// What processing one message did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepOutcome {
    /// Replies queued in the outbox.
    pub queued: Vec<u64>,
    /// The ticket the message opened, joined or reopened.
    pub ticket: Option<(u64, Lang)>,
}

/// One recipient's message of a broadcast and its entry in the bulk lane (both backends build
/// it the same way).
pub(crate) fn broadcast_outbound(
    id: u64,
    broadcast: &crate::broadcast::Broadcast,
    phone: &ContactId,
    delivery: &crate::broadcast::Delivery,
    now: Millis,
) -> (MessageRecord, OutboxItem) {
    let reply = Outgoing {
        text: delivery.text.clone(),
        interactive: None,
    };
    let (mut record, mut item) = new_outbound(
        id,
        phone,
        delivery.channel,
        Author::User(broadcast.created_by.clone()),
        &reply,
        Some(delivery.language),
        now,
    );
    record.broadcast = Some(broadcast.id);
    item.lane = Lane::Bulk;
    item.broadcast = Some(broadcast.id);
    (record, item)
}

/// A queued outbound message and its outbox entry.
pub(crate) fn new_outbound(
    id: u64,
    phone: &ContactId,
    channel: Channel,
    author: Author,
    reply: &Outgoing,
    language: Option<Lang>,
    now: Millis,
) -> (MessageRecord, OutboxItem) {
    let record = MessageRecord {
        id,
        contact: phone.clone(),
        direction: Direction::Out,
        channel,
        author,
        text: reply.text.clone(),
        external_id: None,
        status: MessageStatus::Queued,
        error: None,
        created_at: now,
        updated_at: now,
        media: None,
        media_file: None,
        unsupported: None,
        broadcast: None,
    };
    let item = OutboxItem {
        message_id: id,
        channel,
        to: phone.clone(),
        text: reply.text.clone(),
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        interactive: reply.interactive.clone(),
        language,
        held: None,
        lane: Lane::Interactive,
        broadcast: None,
        sms_phone: None,
    };
    (record, item)
}

/// What a provider's status report changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusUpdate {
    Updated(Box<MessageRecord>),
    /// Known message, but the report is older than what we have.
    Stale,
    Unknown,
}

pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    commit: commit::GroupCommit,
    /// Inbound messages are durable here before the webhook is answered; the intake task
    /// moves them into sled.
    journal: journal::Journal,
    /// The reader of durable journal entries, for the one intake task (taken once).
    intake: Mutex<Option<journal::IntakeReader>>,
    /// The data folder (media files live under it).
    dir: PathBuf,
    /// Added to sled's id generator: a compaction copies the data into a fresh database whose
    /// generator starts again at zero, so ids continue above the old ones (`meta/id_offset`).
    id_offset: u64,
    /// Failed logins and signing keys: one process holds the data folder, so they live in its
    /// memory (a restart forgets them, as before the storage port).
    local: LocalCoordination,
}

#[derive(Debug, Default)]
pub(crate) struct LocalCoordination {
    pub(crate) login_failures: Mutex<std::collections::HashMap<String, Vec<Millis>>>,
    pub(crate) keys: Mutex<std::collections::HashMap<String, [u8; 32]>>,
}

/// Whether the database at `db_path` was created with sled's compression, as its `conf` file
/// says (`use_compression: true`); `None` when there is no readable `conf` (no database yet).
fn created_compressed(db_path: &Path) -> Option<bool> {
    let conf = std::fs::read(db_path.join("conf")).ok()?;
    String::from_utf8_lossy(&conf)
        .lines()
        .find_map(|line| line.strip_prefix("use_compression: "))
        .map(|value| value.trim() == "true")
}

/// kabar's settings for the database at `db_path`, with compression off when it exists and was
/// created without (from before compression, not yet converted).
fn existing_config(db_path: &Path) -> sled::Config {
    let config = sled_config(db_path);
    match created_compressed(db_path) {
        Some(false) => config.use_compression(false),
        _ => config,
    }
}

/// Opens sled with its page cache capped, starts group commit, and writes and flushes one
/// marker so that sled's IO threads start now, from the calling thread.
fn open_sled(path: &Path) -> Result<(sled::Db, sled::Tree, commit::GroupCommit), StoreError> {
    let db_path = path.join("kabar.sled");
    // sled caches up to 1 GiB by default; a field-office laptop has other work to do.
    let db = match existing_config(&db_path)
        .cache_capacity(64 * 1024 * 1024)
        .open()
    {
        Ok(db) => db,
        Err(sled::Error::Io(e))
            if e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("lock") =>
        {
            return Err(StoreError::Locked(path.to_path_buf()));
        }
        Err(e) => return Err(e.into()),
    };
    let tree = db.open_tree("kabar")?;
    tree.insert("meta/opened_at", &now_ms().to_be_bytes())?;
    db.flush()?;
    let commit = commit::GroupCommit::start(db.clone());
    Ok((db, tree, commit))
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`. Fails with [`StoreError::Locked`] when another
    /// process has it open.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        // Erased and purged values stay in sled's old pages until a rewrite: do it now if an
        // erasure or purge asked for it.
        privacy::compact_if_requested(dir)?;
        // A database from before compression is rewritten with it (sled cannot switch in place).
        privacy::convert_uncompressed(dir)?;
        // sled's threads (its flusher, its IO pool, our group commit) do background work:
        // they are started from a thread at background priority and inherit it, so that
        // under a burst they never delay the intake journal that webhooks wait on.
        let sled_dir = dir.to_path_buf();
        let opened = std::thread::Builder::new()
            .name("kabar-store-open".into())
            .spawn(move || {
                crate::background::lower_this_thread();
                open_sled(&sled_dir)
            })
            .map_err(|e| StoreError::Sled(sled::Error::Io(e)))?
            .join()
            .map_err(|_| StoreError::Closed)?;
        let (db, tree, commit) = opened?;
        // Opened after sled, whose lock keeps a second process out of the journal too.
        let (journal, intake) = journal::Journal::open(&dir.join("journal"))?;
        let id_offset = privacy::id_offset(&tree)?;
        Ok(Store {
            db,
            tree,
            commit,
            journal,
            intake: Mutex::new(Some(intake)),
            dir: dir.to_path_buf(),
            id_offset,
            local: LocalCoordination::default(),
        })
    }

    /// A new unique id (messages, tickets, audit rows…), unique across compactions.
    fn next_id(&self) -> Result<u64, sled::Error> {
        Ok(self.db.generate_id()? + self.id_offset)
    }

    /// Waits until everything written so far is on disk (group commit).
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.commit.durable().await
    }

    /// Flushes now (command-line tools, shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Stops the journal and the group-commit thread after a final flush.
    pub fn close(&self) -> Result<(), StoreError> {
        self.journal.stop();
        self.commit.stop();
        self.flush()
    }

    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.tree.get(key.as_bytes())? {
            Some(bytes) => decode(key.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn scan<T: DeserializeOwned>(&self, prefix: &str) -> Result<Vec<T>, StoreError> {
        self.tree
            .scan_prefix(prefix.as_bytes())
            .map(|kv| {
                let (k, v) = kv?;
                decode(&k, &v)
            })
            .collect()
    }

    // ---- health ----

    /// Writes and reads back a marker: the store accepts writes.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        let now = now_ms().to_be_bytes();
        self.tree.insert("meta/healthz", &now)?;
        self.durable().await
    }

    // ---- inbound ----

    /// Makes inbound messages durable (the intake journal), as one write shared with every
    /// other webhook of the moment. Answer the provider after this; the intake task stores
    /// them with [`record_inbound`](Self::record_inbound) in the order they arrived.
    pub async fn accept_inbound(&self, messages: Vec<NewInbound>) -> Result<(), StoreError> {
        let received_at = now_ms();
        let entries = messages
            .into_iter()
            .map(|inbound| journal::JournalEntry {
                received_at,
                inbound,
            })
            .collect();
        self.journal.append(entries).await
    }

    /// The reader of durable journal entries, for the intake task; `None` after the first call.
    pub fn take_intake(&self) -> Option<journal::IntakeReader> {
        self.intake.lock().ok().and_then(|mut i| i.take())
    }

    /// Marks `count` entries of a journal segment as stored in sled; call after
    /// [`durable`](Self::durable) covers them.
    pub fn retire_journal(&self, segment: u64, count: u64) {
        self.journal.retire(segment, count);
    }

    /// Journal entries not yet stored in sled.
    pub fn intake_backlog(&self) -> u64 {
        self.journal.backlog()
    }

    /// Stores a journaled inbound message, its dedupe key and its inbox entry in one batch,
    /// unless the provider already delivered it. Only the intake task calls this, one entry
    /// at a time in journal order, so the dedupe check and the write cannot interleave with a
    /// retry of the same message and inbox order is arrival order.
    pub fn record_inbound(
        &self,
        entry: &journal::JournalEntry,
    ) -> Result<InboundOutcome, StoreError> {
        let inbound = &entry.inbound;
        let dedupe = keys::external(inbound.channel, &inbound.external_id);
        if let Some(existing) = self.tree.get(dedupe.as_bytes())? {
            let id = existing
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            return Ok(InboundOutcome::Duplicate { message_id: id });
        }
        let message_id = self.next_id()?;
        let seq = self.next_id()?;
        let now = entry.received_at;
        let mut batch = sled::Batch::default();
        let contact = self.file_sender(inbound, now, &mut batch)?;
        let record = MessageRecord {
            id: message_id,
            contact: contact.clone(),
            direction: Direction::In,
            channel: inbound.channel,
            author: Author::Contact,
            text: inbound.text.clone(),
            external_id: Some(inbound.external_id.clone()),
            status: MessageStatus::Received,
            error: None,
            created_at: now,
            updated_at: now,
            media: inbound.media.clone(),
            media_file: None,
            unsupported: inbound.unsupported.clone(),
            broadcast: None,
        };
        batch.insert(keys::message(message_id).as_bytes(), encode(&record)?);
        batch.insert(keys::history(&contact, message_id).as_bytes(), &[] as &[u8]);
        batch.insert(dedupe.as_bytes(), &message_id.to_be_bytes());
        batch.insert(
            keys::inbox(&contact, seq).as_bytes(),
            &message_id.to_be_bytes(),
        );
        self.tree.apply_batch(batch)?;
        Ok(InboundOutcome::Stored {
            message_id,
            contact,
        })
    }

    /// The contact an inbound message belongs to. A message that names a WhatsApp user id
    /// files every address it names (user id, number) under one contact, so a person who first
    /// wrote with a username and later with their number too stays one person; what WhatsApp
    /// said about them (addresses, names) is added to the contact in `batch`.
    fn file_sender(
        &self,
        inbound: &NewInbound,
        now: Millis,
        batch: &mut sled::Batch,
    ) -> Result<ContactId, StoreError> {
        let profile = &inbound.profile;
        if profile.is_empty() {
            // SMS: the number may have been linked to a contact created under a user id.
            let owner = self.get::<ContactId>(&keys::address(&inbound.from))?;
            return Ok(owner.unwrap_or_else(|| inbound.from.clone()));
        }
        let mut addresses = vec![inbound.from.clone()];
        for address in profile.addresses() {
            if !addresses.contains(&address) {
                addresses.push(address);
            }
        }
        let mut owners: Vec<(ContactId, Option<Contact>)> = Vec::new();
        // What each address is filed under now (read once: the writes below compare with it).
        let mut filed: Vec<Option<ContactId>> = Vec::with_capacity(addresses.len());
        for address in &addresses {
            let alias = self.get::<ContactId>(&keys::address(address))?;
            filed.push(alias.clone());
            let owner = match alias {
                Some(owner) => Some(owner),
                None => self
                    .tree
                    .contains_key(keys::contact(address).as_bytes())?
                    .then(|| address.clone()),
            };
            if let Some(owner) = owner
                && !owners.iter().any(|(o, _)| o == &owner)
            {
                let record = self.contact(&owner)?;
                owners.push((owner, record));
            }
        }
        let (id, stored) = Contact::filed_under(owners, &inbound.from);
        if addresses
            .iter()
            .any(|a| matches!(a, ContactId::Whatsapp(_)))
        {
            for (address, filed) in addresses.iter().zip(&filed) {
                if filed.as_ref() != Some(&id) {
                    batch.insert(keys::address(address).as_bytes(), encode(&id)?);
                }
            }
        }
        let mut contact = stored
            .clone()
            .unwrap_or_else(|| Contact::new(id.clone(), now));
        contact.learn(profile);
        if stored.as_ref() != Some(&contact) {
            batch.insert(keys::contact(&id).as_bytes(), encode(&contact)?);
        }
        Ok(id)
    }

    /// Contacts with inbound messages not yet processed (after a restart).
    pub fn contacts_with_pending(&self) -> Result<BTreeSet<ContactId>, StoreError> {
        let mut phones = BTreeSet::new();
        for kv in self.tree.scan_prefix(b"i/") {
            let (k, _) = kv?;
            let key = String::from_utf8_lossy(&k);
            if let Some(phone) = key
                .strip_prefix("i/")
                .and_then(|rest| rest.split('/').next())
                .and_then(|p| ContactId::parse(p).ok())
            {
                phones.insert(phone);
            }
        }
        Ok(phones)
    }

    /// The oldest unprocessed inbound message of `phone`.
    pub fn next_pending(&self, phone: &ContactId) -> Result<Option<PendingInbound>, StoreError> {
        let Some(kv) = self
            .tree
            .scan_prefix(keys::inbox_prefix(phone).as_bytes())
            .next()
        else {
            return Ok(None);
        };
        let (k, v) = kv?;
        let inbox_key = String::from_utf8_lossy(&k).into_owned();
        let id = v.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
        match self.get::<MessageRecord>(&keys::message(id))? {
            Some(message) => Ok(Some(PendingInbound { inbox_key, message })),
            None => {
                // An inbox entry without its message cannot be processed; drop it loudly.
                tracing::error!(inbox_key, "inbox entry without message; dropped");
                self.tree.remove(k)?;
                Ok(None)
            }
        }
    }

    pub fn pending_count(&self) -> usize {
        self.tree.scan_prefix(b"i/").count()
    }

    /// Writes the result of processing `pending` and removes it from the inbox, atomically.
    /// Returns the ids of the replies queued in the outbox.
    /// `now` stamps the replies and the ticket and judges the reopen window.
    pub fn apply_step(
        &self,
        pending: &PendingInbound,
        write: &StepWrite,
        now: Millis,
    ) -> Result<StepOutcome, StoreError> {
        let phone = &pending.message.contact;
        let reply_ids = (0..write.replies.len())
            .map(|_| self.next_id())
            .collect::<Result<Vec<_>, _>>()?;
        // A new ticket starts with the conversation so far (the history index, committed earlier).
        let history = match write.ticket {
            TicketChange::Open { .. } => self.history_ids(phone)?,
            _ => Vec::new(),
        };
        self.tree
            .transaction(|tx| {
                if tx.remove(pending.inbox_key.as_bytes())?.is_none() {
                    // Already processed (a second worker got here first): change nothing.
                    return Ok(StepOutcome::default());
                }
                tx_put(tx, &keys::session(phone), &write.session)?;
                // The intake may have learnt the person's other address or WhatsApp names since
                // `write.contact` was read: those fields are the intake's, keep what it stored.
                let contact_key = keys::contact(phone);
                match tx_get::<Contact>(tx, &contact_key)? {
                    Some(stored) if !stored.same_addresses(&write.contact) => {
                        let mut contact = write.contact.clone();
                        contact.take_addresses(&stored);
                        tx_put(tx, &contact_key, &contact)?;
                    }
                    _ => tx_put(tx, &contact_key, &write.contact)?,
                }
                let mut queued = Vec::new();
                for (reply, &id) in write.replies.iter().zip(&reply_ids) {
                    let (record, item) = new_outbound(
                        id,
                        phone,
                        write.channel,
                        Author::Bot,
                        reply,
                        write.contact.language,
                        now,
                    );
                    tx_put(tx, &keys::message(id), &record)?;
                    tx.insert(keys::history(phone, id).as_bytes(), &[] as &[u8])?;
                    put_outbox(tx, &item, None)?;
                    queued.push(id);
                }
                let open_key = keys::open_ticket(phone);
                let closed_key = keys::closed_ticket(phone);
                let open = match tx_get::<u64>(tx, &open_key)? {
                    Some(id) => tx_get::<Ticket>(tx, &keys::ticket(id))?,
                    None => None,
                };
                // Only a reopen looks at the closed ticket.
                let closed = match (&write.ticket, &open) {
                    (TicketChange::Reopen, None) => match tx_get::<u64>(tx, &closed_key)? {
                        Some(id) => tx_get::<Ticket>(tx, &keys::ticket(id))?,
                        None => None,
                    },
                    _ => None,
                };
                let incoming = rules::Incoming {
                    phone,
                    message: pending.message.id,
                    queued: &queued,
                    history: &history,
                    now,
                };
                let ticket = match rules::apply_change(open, closed, &write.ticket, &incoming) {
                    TicketWrite::Unchanged => None,
                    TicketWrite::Updated(t) => Some(t),
                    TicketWrite::Reopened(t) => {
                        tx.remove(closed_key.as_bytes())?;
                        tx_put(tx, &open_key, &t.id)?;
                        Some(t)
                    }
                    TicketWrite::Opened(new) => {
                        let t = new.numbered(next_ticket_number(tx)?);
                        tx_put(tx, &open_key, &t.id)?;
                        Some(t)
                    }
                };
                if let Some(t) = &ticket {
                    tx_put(tx, &keys::ticket(t.id), t)?;
                }
                let ticket = ticket.map(|t| (t.id, t.language));
                Ok(StepOutcome { queued, ticket })
            })
            .map_err(StoreError::from)
    }

    /// Message ids of a contact's history, oldest first.
    fn history_ids(&self, phone: &ContactId) -> Result<Vec<u64>, StoreError> {
        let prefix = keys::history_prefix(phone);
        let mut ids = Vec::new();
        for kv in self.tree.scan_prefix(prefix.as_bytes()) {
            let (k, _) = kv?;
            if let Some(id) = std::str::from_utf8(&k[prefix.len()..])
                .ok()
                .and_then(|h| u64::from_str_radix(h, 16).ok())
            {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    // ---- contacts and sessions ----

    /// The contact filed under `phone`, or the one that address was linked to (a number learnt
    /// for someone who first wrote with a WhatsApp username, or their user id).
    pub fn contact(&self, phone: &ContactId) -> Result<Option<Contact>, StoreError> {
        match self.get(&keys::contact(phone))? {
            Some(contact) => Ok(Some(contact)),
            None => match self.get::<ContactId>(&keys::address(phone))? {
                Some(owner) if &owner != phone => self.get(&keys::contact(&owner)),
                _ => Ok(None),
            },
        }
    }

    pub fn session(&self, phone: &ContactId) -> Result<Session, StoreError> {
        Ok(self.get(&keys::session(phone))?.unwrap_or_default())
    }

    /// Creates or updates contacts from staff data in one transaction; fields that are `None`
    /// keep what is stored. Returns how many were new.
    pub fn upsert_contacts(&self, rows: &[crate::import::ContactRow]) -> Result<usize, StoreError> {
        let now = now_ms();
        let new = self.tree.transaction(|tx| {
            let mut new = 0;
            for row in rows {
                // A number linked to someone who first wrote with a WhatsApp username is them.
                let id = tx_get::<ContactId>(tx, &keys::address(&row.phone))?
                    .unwrap_or_else(|| row.phone.clone());
                let key = keys::contact(&id);
                let mut contact = match tx_get::<Contact>(tx, &key)? {
                    Some(c) => c,
                    None => {
                        new += 1;
                        Contact::new(id.clone(), now)
                    }
                };
                row.apply_to(&mut contact);
                tx_put(tx, &key, &contact)?;
            }
            Ok(new)
        })?;
        Ok(new)
    }

    /// Marks the contact's WhatsApp window as closed (the provider said so).
    pub fn close_whatsapp_window(&self, phone: &ContactId) -> Result<(), StoreError> {
        let key = keys::contact(phone);
        self.tree.transaction(|tx| {
            if let Some(mut c) = tx_get::<Contact>(tx, &key)? {
                c.last_whatsapp_at = None;
                tx_put(tx, &key, &c)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    pub fn set_opted_out(&self, phone: &ContactId, opted_out: bool) -> Result<(), StoreError> {
        let key = keys::contact(phone);
        self.tree.transaction(|tx| {
            if let Some(mut c) = tx_get::<Contact>(tx, &key)? {
                c.opted_out = opted_out;
                tx_put(tx, &key, &c)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    // ---- messages ----

    pub fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        self.get(&keys::message(id))
    }

    /// A contact's messages, oldest first.
    pub fn history(&self, phone: &ContactId) -> Result<Vec<MessageRecord>, StoreError> {
        let mut out = Vec::new();
        for id in self.history_ids(phone)? {
            if let Some(m) = self.message(id)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Applies a provider status report to the message it names, never moving it backwards.
    pub fn update_status_by_external(
        &self,
        channel: Channel,
        external_id: &str,
        status: MessageStatus,
        error: Option<String>,
    ) -> Result<StatusUpdate, StoreError> {
        let Some(bytes) = self
            .tree
            .get(keys::external(channel, external_id).as_bytes())?
        else {
            return Ok(StatusUpdate::Unknown);
        };
        let id = bytes
            .as_ref()
            .try_into()
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        let key = keys::message(id);
        let now = now_ms();
        let update = self.tree.transaction(|tx| {
            let Some(mut m) = tx_get::<MessageRecord>(tx, &key)? else {
                return Ok(StatusUpdate::Unknown);
            };
            if status.rank() < m.status.rank() {
                return Ok(StatusUpdate::Stale);
            }
            m.status = status;
            if error.is_some() {
                m.error = error.clone();
            }
            m.updated_at = now;
            tx_put(tx, &key, &m)?;
            broadcasts::track(tx, &m)?;
            Ok(StatusUpdate::Updated(Box::new(m)))
        })?;
        Ok(update)
    }

    // ---- outbox ----

    pub fn outbox(&self) -> Result<Vec<OutboxItem>, StoreError> {
        self.scan::<OutboxItem>("o/")?
            .into_iter()
            .map(|item| self.with_text(item))
            .collect()
    }

    /// One queued item, with its text.
    fn outbox_item(&self, id: u64) -> Result<Option<OutboxItem>, StoreError> {
        self.get::<OutboxItem>(&keys::outbox(id))?
            .map(|item| self.with_text(item))
            .transpose()
    }

    /// An item stored without its text (see `put_outbox`) gets it back from its message.
    fn with_text(&self, mut item: OutboxItem) -> Result<OutboxItem, StoreError> {
        if item.text.is_empty() {
            if let Some(m) = self.get::<MessageRecord>(&keys::message(item.message_id))? {
                item.text = m.text;
            }
        }
        Ok(item)
    }

    pub fn outbox_depth(&self) -> usize {
        self.tree.scan_prefix(b"o/").count()
    }

    /// The provider accepted the message: it leaves the outbox and gets the provider's id.
    pub fn outbox_accepted(
        &self,
        item: &OutboxItem,
        external_id: &str,
        status: MessageStatus,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.tree.transaction(|tx| {
            remove_outbox(tx, item.message_id)?;
            let key = keys::message(item.message_id);
            if let Some(mut m) = tx_get::<MessageRecord>(tx, &key)? {
                m.external_id = Some(external_id.to_string());
                // A status callback may have arrived before the API answered.
                if status.rank() >= m.status.rank() {
                    m.status = status;
                }
                m.updated_at = now;
                tx_put(tx, &key, &m)?;
                broadcasts::track(tx, &m)?;
            }
            tx.insert(
                keys::external(item.channel, external_id).as_bytes(),
                &item.message_id.to_be_bytes(),
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// A failed attempt that will be retried at `next_attempt_at`.
    pub fn outbox_retry(&self, item: &OutboxItem) -> Result<(), StoreError> {
        self.tree.transaction(|tx| {
            // Only if still queued (it may have been cancelled meanwhile).
            if let Some(previous) = tx_get::<OutboxItem>(tx, &keys::outbox(item.message_id))? {
                put_outbox(tx, item, Some(&previous))?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Queues a message written by a person (interpreter, staff) to a contact.
    pub fn queue_message(
        &self,
        phone: &ContactId,
        channel: Channel,
        author: Author,
        text: &str,
        language: Option<Lang>,
    ) -> Result<u64, StoreError> {
        let id = self.next_id()?;
        let now = now_ms();
        let reply = Outgoing {
            text: text.to_string(),
            interactive: None,
        };
        let (record, item) = new_outbound(id, phone, channel, author, &reply, language, now);
        self.tree.transaction(|tx| {
            tx_put(tx, &keys::message(id), &record)?;
            tx.insert(keys::history(phone, id).as_bytes(), &[] as &[u8])?;
            put_outbox(tx, &item, None)?;
            Ok(())
        })?;
        Ok(id)
    }

    /// The message goes another way (SMS instead of WhatsApp): outbox entry and log follow.
    pub fn outbox_reroute(&self, item: &OutboxItem, note: &str) -> Result<(), StoreError> {
        let now = now_ms();
        self.tree.transaction(|tx| {
            let Some(previous) = tx_get::<OutboxItem>(tx, &keys::outbox(item.message_id))? else {
                return Ok(());
            };
            put_outbox(tx, item, Some(&previous))?;
            let key = keys::message(item.message_id);
            if let Some(mut m) = tx_get::<MessageRecord>(tx, &key)? {
                m.channel = item.channel;
                m.error = Some(note.to_string());
                m.updated_at = now;
                tx_put(tx, &key, &m)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// A person's queued messages, oldest first (read through the recipient index).
    pub fn outbox_of(&self, phone: &ContactId) -> Result<Vec<OutboxItem>, StoreError> {
        let mut items = self.outbox_lane_of(Lane::Interactive, phone)?;
        items.extend(self.outbox_lane_of(Lane::Bulk, phone)?);
        Ok(items)
    }

    fn outbox_lane_of(&self, lane: Lane, phone: &ContactId) -> Result<Vec<OutboxItem>, StoreError> {
        let prefix = keys::outbox_recipient_prefix(lane, phone);
        let mut items = Vec::new();
        for kv in self.tree.scan_prefix(prefix.as_bytes()) {
            let (k, _) = kv?;
            let id = std::str::from_utf8(&k[prefix.len()..])
                .ok()
                .and_then(|h| u64::from_str_radix(h, 16).ok());
            if let Some(item) = id.map(|id| self.outbox_item(id)).transpose()?.flatten() {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// The oldest queued reply (interactive lane) for `phone`: only it may be sent, so order
    /// is kept.
    pub fn first_outbox_of(&self, phone: &ContactId) -> Result<Option<u64>, StoreError> {
        let prefix = keys::outbox_recipient_prefix(Lane::Interactive, phone);
        let Some(kv) = self.tree.scan_prefix(prefix.as_bytes()).next() else {
            return Ok(None);
        };
        let (k, _) = kv?;
        Ok(std::str::from_utf8(&k[prefix.len()..])
            .ok()
            .and_then(|h| u64::from_str_radix(h, 16).ok()))
    }

    /// Items due at `now`, by due time, at most `limit`; and when the next one after those
    /// falls due.
    pub fn due_outbox(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        self.due_in_lane(Lane::Interactive, now, limit)
    }

    /// Like [`due_outbox`](Self::due_outbox) for broadcast messages.
    pub fn due_bulk(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        self.due_in_lane(Lane::Bulk, now, limit)
    }

    fn due_in_lane(
        &self,
        lane: Lane,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        let mut items = Vec::new();
        let prefix = keys::due_prefix(lane);
        for kv in self.tree.scan_prefix(prefix.as_bytes()) {
            let (k, _) = kv?;
            let key = String::from_utf8_lossy(&k);
            let mut parts = key.trim_start_matches(prefix).split('/');
            let due = parts.next().and_then(|h| u64::from_str_radix(h, 16).ok());
            let id = parts.next().and_then(|h| u64::from_str_radix(h, 16).ok());
            let (Some(due), Some(id)) = (due, id) else {
                continue;
            };
            if due > now || items.len() >= limit {
                return Ok((items, Some(due)));
            }
            if let Some(item) = self.outbox_item(id)? {
                items.push(item);
            }
        }
        Ok((items, None))
    }

    /// Held messages of `phone` go out again (the person wrote, so the WhatsApp window is open).
    pub fn release_held(&self, phone: &ContactId) -> Result<usize, StoreError> {
        let mut released = 0;
        for mut item in self.outbox_of(phone)? {
            if item.held.is_some() {
                item.held = None;
                item.next_attempt_at = now_ms();
                self.outbox_retry(&item)?;
                released += 1;
            }
        }
        Ok(released)
    }

    /// Messages that could not be delivered, newest first.
    pub fn failed_messages(&self) -> Result<Vec<MessageRecord>, StoreError> {
        let mut out = Vec::new();
        for kv in self.tree.scan_prefix(b"xf/").rev() {
            let (_, v) = kv?;
            let id = v.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
            if let Some(m) = self.message(id)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Records where a fetched media file was saved (or why it could not be).
    fn set_media_file(
        &self,
        message_id: u64,
        file: Option<String>,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        let key = keys::message(message_id);
        self.tree.transaction(|tx| {
            if let Some(mut m) = tx_get::<MessageRecord>(tx, &key)? {
                m.media_file = file.clone();
                if error.is_some() {
                    m.error = error.clone();
                }
                tx_put(tx, &key, &m)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// The message will not be sent: it leaves the outbox, marked failed with the reason.
    pub fn outbox_failed(&self, item: &OutboxItem, reason: &str) -> Result<(), StoreError> {
        let now = now_ms();
        self.tree.transaction(|tx| {
            tx.insert(
                keys::failed(item.message_id).as_bytes(),
                &item.message_id.to_be_bytes(),
            )?;
            remove_outbox(tx, item.message_id)?;
            let key = keys::message(item.message_id);
            if let Some(mut m) = tx_get::<MessageRecord>(tx, &key)? {
                m.status = MessageStatus::Failed;
                m.error = Some(reason.to_string());
                m.updated_at = now;
                tx_put(tx, &key, &m)?;
                broadcasts::track(tx, &m)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    // ---- tickets ----

    pub fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        self.scan("t/")
    }

    pub fn open_ticket_of(&self, phone: &ContactId) -> Result<Option<Ticket>, StoreError> {
        match self.get::<u64>(&keys::open_ticket(phone))? {
            Some(id) => self.get(&keys::ticket(id)),
            None => Ok(None),
        }
    }

    // ---- payment schedule ----

    /// The payment schedule, ordered by city.
    pub fn payments(&self) -> Result<Vec<PaymentEntry>, StoreError> {
        self.scan("p/")
    }

    /// Adds or replaces the entries' cities in one transaction (re-importing is harmless).
    pub fn upsert_payments(&self, entries: &[PaymentEntry]) -> Result<(), StoreError> {
        self.tree.transaction(|tx| {
            for e in entries {
                tx_put(tx, &keys::payment(&e.city), e)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Removes a city from the schedule; false if it was not there.
    pub fn remove_payment(&self, city: &str) -> Result<bool, StoreError> {
        Ok(self.tree.remove(keys::payment(city).as_bytes())?.is_some())
    }

    // ---- the directory staff keep ----

    /// Every directory entry, by city, kind and name.
    pub fn directory(&self) -> Result<Vec<DirectoryEntry>, StoreError> {
        self.scan("d/")
    }

    /// Adds or replaces entries (same city, kind and name) in one transaction.
    pub fn upsert_directory(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError> {
        self.tree.transaction(|tx| {
            for e in entries {
                tx_put(tx, &keys::directory(&e.city, e.kind, &e.name), e)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Replaces the entry at (`city`, `kind`, `name`) by `entry` (which may rename it), or
    /// removes it when `entry` is `None`; false when there was no such entry.
    pub fn replace_directory_entry(
        &self,
        city: &str,
        kind: DirectoryKind,
        name: &str,
        entry: Option<&DirectoryEntry>,
    ) -> Result<bool, StoreError> {
        let old = keys::directory(city, kind, name);
        let found = self.tree.transaction(|tx| {
            if tx.remove(old.as_bytes())?.is_none() {
                return Ok(false);
            }
            if let Some(e) = entry {
                tx_put(tx, &keys::directory(&e.city, e.kind, &e.name), e)?;
            }
            Ok(true)
        })?;
        Ok(found)
    }

    // ---- users and tokens ----

    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.get(&keys::user(name))
    }

    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.scan("u/")
    }

    /// Adds a user; fails if the name is taken.
    pub fn add_user(&self, user: &User) -> Result<(), StoreError> {
        let key = keys::user(&user.name);
        let bytes = encode(user)?;
        match self
            .tree
            .compare_and_swap(key.as_bytes(), None as Option<&[u8]>, Some(bytes))?
        {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Conflict(format!(
                "a user named {:?} already exists",
                user.name
            ))),
        }
    }
}
