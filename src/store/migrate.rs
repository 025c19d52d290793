//! Moving a field office's data from the embedded store into PostgreSQL (`kabar
//! migrate-store`). The sled backend reads its keys into [`Record`]s, domain records that carry
//! nothing of either backend's keys or encodings; the PostgreSQL backend writes them into its
//! tables with their ids, so every reference (a ticket's messages, a broadcast's recipients, a
//! provider's message id) still points where it did.
//!
//! What is not copied, and why: the indexes sled keeps beside its records (a person's history,
//! the outbox's due order, a person's open and last closed ticket, the addresses of a contact)
//! are rebuilt by PostgreSQL's own indexes and columns from the records; failed logins and the
//! login form's signing key lived in the old server's memory and are made afresh.

use std::collections::BTreeMap;
use std::fmt;

use crate::broadcast::{Broadcast, Recipient};
use crate::domain::*;
use crate::flow::Session;
use crate::i18n::Lang;
use crate::store::{ApiToken, EnqueueCursor, NewInbound, Position, WebSession};

/// One record on its way from the embedded store into PostgreSQL.
#[derive(Debug, Clone)]
pub enum Record {
    User(User),
    /// An API token, by the hash of the token (the token itself was never stored).
    Token {
        hash: String,
        token: ApiToken,
    },
    /// A browser session, by the hash of its cookie: staff stay signed in across the move.
    WebSession {
        hash: String,
        session: WebSession,
    },
    Contact(Contact),
    Session {
        contact: ContactId,
        session: Session,
    },
    Message(MessageRecord),
    /// A provider's message id: its retries are still dropped after the move, and its
    /// delivery reports still find the message.
    ExternalId {
        /// The provider's id space (`twilio`, `whatsapp`, `gateway`, `simulator`).
        space: String,
        external_id: String,
        message_id: u64,
    },
    /// An inbound message stored but not answered yet; a person's come in their order.
    Pending {
        contact: ContactId,
        message_id: u64,
    },
    /// A message waiting for its provider, with its text.
    Outbox(OutboxItem),
    /// A message that could not be delivered, listed for staff.
    Failed {
        message_id: u64,
    },
    /// A file a person sent, named as its message records it.
    Media {
        file: String,
        message_id: u64,
        mime: String,
        bytes: Vec<u8>,
    },
    Ticket(Ticket),
    Audit {
        id: u64,
        entry: AuditEntry,
    },
    /// How many of a ticket's messages an interpreter has seen.
    Seen {
        user: String,
        ticket: u64,
        count: u64,
    },
    Canned(CannedReply),
    Payment(PaymentEntry),
    Directory(DirectoryEntry),
    Broadcast(Broadcast),
    /// How far enqueueing a broadcast's audience got.
    Cursor {
        broadcast: u64,
        cursor: EnqueueCursor,
    },
    /// A chunk of a broadcast's frozen audience: each person at their place in it (people
    /// erased since are gone, and their places stay empty).
    Audience {
        broadcast: u64,
        chunk: u64,
        people: Vec<(u32, ContactId, Lang, Channel)>,
    },
    /// The dispatcher's position in a broadcast's audience.
    Position {
        broadcast: u64,
        position: Position,
    },
    /// A person a broadcast has dealt with (queued as a message, skipped).
    Recipient {
        broadcast: u64,
        contact: ContactId,
        recipient: Recipient,
    },
    /// A message the old server acknowledged to its provider but had not stored yet (it was
    /// in the intake journal): the new store takes it as a webhook's, and answers it.
    Accepted(NewInbound),
}

impl Record {
    /// What kind of record it is, as the report counts them.
    pub fn kind(&self) -> Kind {
        match self {
            Record::User(_) => Kind::Users,
            Record::Token { .. } => Kind::Tokens,
            Record::WebSession { .. } => Kind::WebSessions,
            Record::Contact(_) => Kind::Contacts,
            Record::Session { .. } => Kind::Sessions,
            Record::Message(_) => Kind::Messages,
            Record::ExternalId { .. } => Kind::ProviderIds,
            Record::Pending { .. } => Kind::Unanswered,
            Record::Outbox(_) => Kind::Outbox,
            Record::Failed { .. } => Kind::Failed,
            Record::Media { .. } => Kind::Media,
            Record::Ticket(_) => Kind::Tickets,
            Record::Audit { .. } => Kind::Audit,
            Record::Seen { .. } => Kind::Seen,
            Record::Canned(_) => Kind::CannedReplies,
            Record::Payment(_) => Kind::Payments,
            Record::Directory(_) => Kind::Directory,
            Record::Broadcast(_) => Kind::Broadcasts,
            Record::Cursor { .. } | Record::Position { .. } => Kind::BroadcastProgress,
            Record::Audience { .. } => Kind::Audience,
            Record::Recipient { .. } => Kind::BroadcastRecipients,
            Record::Accepted(_) => Kind::Accepted,
        }
    }

    /// How many items it counts for: an audience chunk holds many people.
    pub fn weight(&self) -> u64 {
        match self {
            Record::Audience { people, .. } => people.len() as u64,
            _ => 1,
        }
    }

    /// Roughly how many bytes it holds in memory (batches are cut by it: media are large).
    pub fn size_hint(&self) -> usize {
        match self {
            Record::Media { bytes, .. } => bytes.len() + 64,
            Record::Message(m) => m.text.len() + 256,
            Record::Audience { people, .. } => people.len() * 48,
            _ => 256,
        }
    }
}

/// The kinds of records the report counts, in the order they are copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Users,
    Tokens,
    WebSessions,
    Contacts,
    Sessions,
    Messages,
    ProviderIds,
    Unanswered,
    Outbox,
    Failed,
    Media,
    Tickets,
    Audit,
    Seen,
    CannedReplies,
    Payments,
    Directory,
    Broadcasts,
    BroadcastProgress,
    Audience,
    BroadcastRecipients,
    Accepted,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Users => "staff accounts",
            Kind::Tokens => "API tokens",
            Kind::WebSessions => "browser sessions",
            Kind::Contacts => "contacts",
            Kind::Sessions => "conversation states",
            Kind::Messages => "messages",
            Kind::ProviderIds => "provider message ids",
            Kind::Unanswered => "messages waiting for an answer",
            Kind::Outbox => "messages waiting to be sent",
            Kind::Failed => "undelivered messages",
            Kind::Media => "media files",
            Kind::Tickets => "tickets",
            Kind::Audit => "audit entries",
            Kind::Seen => "seen marks",
            Kind::CannedReplies => "canned replies",
            Kind::Payments => "payment dates",
            Kind::Directory => "directory entries",
            Kind::Broadcasts => "broadcasts",
            Kind::BroadcastProgress => "broadcast cursors and positions",
            Kind::Audience => "broadcast audience places",
            Kind::BroadcastRecipients => "broadcast recipients",
            Kind::Accepted => "acknowledged messages not yet stored (journal)",
        }
    }
}

/// Counts per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(pub BTreeMap<Kind, u64>);

impl Tally {
    pub fn add(&mut self, record: &Record) {
        *self.0.entry(record.kind()).or_default() += record.weight();
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn get(&self, kind: Kind) -> u64 {
        self.0.get(&kind).copied().unwrap_or(0)
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kind, n) in &self.0 {
            writeln!(f, "  {n:>10}  {}", kind.label())?;
        }
        Ok(())
    }
}

/// Why a move could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the PostgreSQL database already holds kabar's conversations (contacts, messages, \
         tickets or broadcasts): migrate-store copies into a new, empty database only, so that \
         two offices' records and ids never mix. Create an empty database (or schema) for it"
    )]
    NotEmpty,
    #[error(
        "{folder} was moved into this database already (finished at {finished_at} ms since \
         1970): nothing to do. Start kabar on PostgreSQL; keep the folder as the backup of the \
         day of the move"
    )]
    AlreadyMoved { folder: String, finished_at: Millis },
    #[error(
        "a move from another folder ({0}) into this database has not finished: run kabar \
         migrate-store --from that folder again to finish it first"
    )]
    OtherUnfinished(String),
    #[error(
        "the copy is incomplete: {kind} read {read}, written {written}. Nothing was marked \
         done; run the command again (it continues where it stopped)"
    )]
    Incomplete {
        kind: &'static str,
        read: u64,
        written: u64,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What a move did.
#[derive(Debug, Clone)]
pub struct MoveReport {
    /// Records read from the embedded store, by kind.
    pub read: Tally,
    /// Records written into PostgreSQL, by kind (fewer where a record pointed at a message
    /// the old store no longer kept, see [`MoveReport::left_out`]).
    pub written: Tally,
    /// An earlier run from the same folder had stopped; this one finished it.
    pub resumed: bool,
}

impl MoveReport {
    /// Kinds with fewer records written than read, and how many fewer.
    pub fn left_out(&self) -> Vec<(Kind, u64)> {
        self.read
            .0
            .iter()
            .filter_map(|(kind, read)| {
                let written = self.written.get(*kind);
                (written < *read).then(|| (*kind, read - written))
            })
            .collect()
    }
}

/// Records per batch (one PostgreSQL transaction each), and the bytes a batch holds at most:
/// media files make some records large.
#[cfg(feature = "postgres")]
const BATCH_RECORDS: usize = 1000;
#[cfg(feature = "postgres")]
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Kinds whose records may point at a message the old store no longer kept (purged, erased):
/// those are left out, the rest must all arrive.
#[cfg(feature = "postgres")]
const MAY_LEAVE_OUT: [Kind; 4] = [
    Kind::ProviderIds,
    Kind::Unanswered,
    Kind::Failed,
    Kind::Media,
];

/// Copies everything in the embedded store `from` into the PostgreSQL store `to`. `source`
/// names the folder (it is recorded in the database, so a second run from the same folder
/// continues an unfinished move and refuses a finished one). `progress` hears the records
/// written so far, after each batch.
#[cfg(feature = "postgres")]
pub async fn copy(
    from: &crate::store::SledStore,
    to: &crate::store::postgres::PgStore,
    source: &str,
    progress: &mut (dyn FnMut(&Tally) + Send),
) -> Result<MoveReport, MigrateError> {
    let resumed = match to.begin_import(source).await? {
        crate::store::postgres::ImportStart::Fresh => false,
        crate::store::postgres::ImportStart::Resumed { .. } => true,
    };
    let (batches, mut incoming) = tokio::sync::mpsc::channel::<Vec<Record>>(2);
    let core = from.core_arc();
    let reader = tokio::task::spawn_blocking(move || {
        let mut read = Tally::default();
        let mut batch = Vec::new();
        let mut bytes = 0;
        let result = core.export(&mut |record| {
            read.add(&record);
            bytes += record.size_hint();
            batch.push(record);
            if batch.len() >= BATCH_RECORDS || bytes >= BATCH_BYTES {
                bytes = 0;
                batches
                    .blocking_send(std::mem::take(&mut batch))
                    .map_err(|_| crate::store::StoreError::Closed)?;
            }
            Ok(())
        });
        if result.is_ok() && !batch.is_empty() {
            let _ = batches.blocking_send(batch);
        }
        result.map(|()| read)
    });
    let mut written = Tally::default();
    let mut failed = None;
    while let Some(batch) = incoming.recv().await {
        match to.import(batch).await {
            Ok(done) => {
                for (kind, n) in done.0 {
                    *written.0.entry(kind).or_default() += n;
                }
                progress(&written);
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // Dropping the receiver ends the reader at its next batch.
    drop(incoming);
    let read = reader
        .await
        .map_err(|e| crate::store::StoreError::Blocking(e.to_string()));
    if let Some(e) = failed {
        return Err(e.into());
    }
    let read = read??;
    for (kind, n) in &read.0 {
        let got = written.get(*kind);
        if got != *n && !(MAY_LEAVE_OUT.contains(kind) && got < *n) {
            return Err(MigrateError::Incomplete {
                kind: kind.label(),
                read: *n,
                written: got,
            });
        }
    }
    to.finish_import(source, &read).await?;
    Ok(MoveReport {
        read,
        written,
        resumed,
    })
}
