//! Storage, behind a port. The traits below say what the rest of kabar may ask of storage,
//! grouped by purpose; a backend implements them all ([`Storage`]). Every write returns once
//! it is durable. The embedded sled backend lives in `sled/`: nothing outside it knows its
//! keys, encodings, files, journal or group commit, and its blocking work runs off the async
//! workers.

pub mod migrate;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sled;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use crate::broadcast::{Broadcast, Progress, Recipient, RecipientStatus, Status, Valid};
use crate::disk::DiskWatch;
use crate::domain::ContactId;
use crate::domain::*;
use crate::flow::Session;
use crate::i18n::Lang;
use crate::metrics::Metrics;

pub use self::sled::Actor;
pub use self::sled::{
    ApiToken, BackupError, BackupSummary, BroadcastError, Compaction, EnqueueCursor, Erasure,
    FamilyUsage, InboundOutcome, NewInbound, Outgoing, PendingInbound, Position, PurgeReport,
    Queued, REOPEN_WINDOW_MS, SledStore, StatusUpdate, StepOutcome, StepWrite, StoreError,
    TicketChange, TicketError, UserChange, WebSession, compact, restore,
};

/// Which audit rows a search keeps.
pub type AuditFilter = Box<dyn Fn(&AuditEntry) -> bool + Send + Sync>;
/// A change to a broadcast, applied inside its transaction (it may run more than once).
pub type BroadcastChange = Box<dyn Fn(&mut Broadcast) -> Result<(), BroadcastError> + Send + Sync>;

/// Why the intake ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeEnd {
    /// The server is stopping (what could be stored was; the rest is kept for the next start).
    Stopped,
    /// The store keeps failing although the disk has room: only a restart (which replays what
    /// was accepted) gets it going again.
    StoreBroken(String),
}

/// Where the intake hands on what it stored: the conversation layer.
#[async_trait]
pub trait IntakeSink: Send + Sync {
    /// Waits while answering has no room for more contacts (bounded memory under a burst):
    /// what is not taken yet stays durable where it was accepted.
    async fn wait_for_room(&self);
    /// These contacts have new messages waiting.
    fn stored(&self, phones: Vec<ContactId>);
}

/// Messages coming in: accepted durably, moved into the store in arrival order (provider
/// retries dropped), handed out one contact at a time, answered in one write.
#[async_trait]
pub trait Intake: Send + Sync {
    /// Stores what a webhook carried; returns once it is durable (the webhook may then be
    /// acknowledged).
    async fn accept_inbound(&self, messages: Vec<NewInbound>) -> Result<(), StoreError>;
    /// A cheap durable write, for `/healthz`.
    async fn check_writable(&self) -> Result<(), StoreError>;
    /// Runs the intake until `stop` turns true (then one last pass) or the store cannot
    /// continue: accepted messages move into the store, and `sink` hears which contacts have
    /// new ones. Only one intake runs per store.
    async fn run_intake(
        &self,
        sink: Arc<dyn IntakeSink>,
        metrics: Arc<Metrics>,
        stop: tokio::sync::watch::Receiver<bool>,
        disk: DiskWatch,
    ) -> IntakeEnd;
    async fn intake_backlog(&self) -> Result<u64, StoreError>;
    async fn contacts_with_pending(&self) -> Result<BTreeSet<ContactId>, StoreError>;
    async fn next_pending(&self, phone: &ContactId) -> Result<Option<PendingInbound>, StoreError>;
    async fn pending_count(&self) -> Result<usize, StoreError>;
    async fn apply_step(
        &self,
        pending: &PendingInbound,
        write: &StepWrite,
        now: Millis,
    ) -> Result<StepOutcome, StoreError>;
    async fn update_status_by_external(
        &self,
        channel: Channel,
        external_id: &str,
        status: MessageStatus,
        error: Option<String>,
    ) -> Result<StatusUpdate, StoreError>;
}

/// The durable outbox: what waits to be sent, per lane, in order per recipient, until the
/// provider accepted it or it failed for good.
#[async_trait]
pub trait Outbox: Send + Sync {
    async fn outbox_cancelled(&self, item: &OutboxItem) -> Result<(), StoreError>;
    async fn outbox(&self) -> Result<Vec<OutboxItem>, StoreError>;
    async fn outbox_depth(&self) -> Result<usize, StoreError>;
    async fn outbox_accepted(
        &self,
        item: &OutboxItem,
        external_id: &str,
        status: MessageStatus,
    ) -> Result<(), StoreError>;
    async fn outbox_retry(&self, item: &OutboxItem) -> Result<(), StoreError>;
    async fn queue_message(
        &self,
        phone: &ContactId,
        channel: Channel,
        author: Author,
        text: &str,
        language: Option<Lang>,
    ) -> Result<u64, StoreError>;
    async fn outbox_reroute(&self, item: &OutboxItem, note: &str) -> Result<(), StoreError>;
    async fn outbox_of(&self, phone: &ContactId) -> Result<Vec<OutboxItem>, StoreError>;
    async fn first_outbox_of(&self, phone: &ContactId) -> Result<Option<u64>, StoreError>;
    async fn due_outbox(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError>;
    async fn due_bulk(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError>;
    async fn release_held(&self, phone: &ContactId) -> Result<usize, StoreError>;
    async fn failed_messages(&self) -> Result<Vec<MessageRecord>, StoreError>;
    async fn outbox_failed(&self, item: &OutboxItem, reason: &str) -> Result<(), StoreError>;
}

/// Contacts, their sessions and their message history.
#[async_trait]
pub trait People: Send + Sync {
    async fn contacts(&self) -> Result<Vec<Contact>, StoreError>;
    async fn contacts_after(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<Contact>, bool), StoreError>;
    async fn contact(&self, phone: &ContactId) -> Result<Option<Contact>, StoreError>;
    async fn session(&self, phone: &ContactId) -> Result<Session, StoreError>;
    async fn upsert_contacts(
        &self,
        rows: &[crate::import::ContactRow],
    ) -> Result<usize, StoreError>;
    async fn close_whatsapp_window(&self, phone: &ContactId) -> Result<(), StoreError>;
    async fn set_opted_out(&self, phone: &ContactId, opted_out: bool) -> Result<(), StoreError>;
    async fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError>;
    async fn history(&self, phone: &ContactId) -> Result<Vec<MessageRecord>, StoreError>;
}

/// Tickets, their audit trail, what each interpreter has seen, and canned replies.
#[async_trait]
pub trait Desk: Send + Sync {
    async fn release(&self, id: u64, actor: Actor<'_>, now: Millis) -> Result<Ticket, TicketError>;
    async fn transfer(
        &self,
        id: u64,
        actor: Actor<'_>,
        to_user: Option<&str>,
        to_language: Option<Lang>,
        now: Millis,
    ) -> Result<Ticket, TicketError>;
    async fn close_ticket(
        &self,
        id: u64,
        actor: Actor<'_>,
        closing: &str,
        session: &Session,
        now: Millis,
    ) -> Result<Ticket, TicketError>;
    /// The newest audit rows `keep` accepts, newest first.
    async fn audit_search(
        &self,
        keep: AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    async fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError>;
    async fn recently_closed(
        &self,
        phone: &ContactId,
        now: Millis,
    ) -> Result<Option<Ticket>, StoreError>;
    async fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<u64>,
        detail: &str,
    ) -> Result<(), StoreError>;
    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
    async fn claim(&self, id: u64, user: &str, now: Millis) -> Result<Ticket, TicketError>;
    async fn add_note(
        &self,
        id: u64,
        user: &str,
        text: &str,
        now: Millis,
    ) -> Result<Ticket, TicketError>;
    async fn reply(&self, id: u64, user: &str, text: &str, now: Millis)
    -> Result<u64, TicketError>;
    async fn seen(&self, user: &str, ticket: u64) -> Result<usize, StoreError>;
    async fn mark_seen(&self, user: &str, ticket: u64, count: usize) -> Result<(), StoreError>;
    async fn canned_replies(&self, language: Option<Lang>) -> Result<Vec<CannedReply>, StoreError>;
    async fn add_canned(
        &self,
        language: Lang,
        title: &str,
        text: &str,
    ) -> Result<CannedReply, StoreError>;
    async fn add_canned_audited(
        &self,
        language: Lang,
        title: &str,
        text: &str,
        user: &str,
    ) -> Result<CannedReply, StoreError>;
    async fn remove_canned_audited(&self, id: u64, user: &str) -> Result<bool, StoreError>;
    async fn remove_canned(&self, id: u64) -> Result<bool, StoreError>;
    async fn tickets(&self) -> Result<Vec<Ticket>, StoreError>;
    async fn open_ticket_of(&self, phone: &ContactId) -> Result<Option<Ticket>, StoreError>;
}

/// Reference data staff keep: payment dates and the directory of offices and clinics.
#[async_trait]
pub trait Directory: Send + Sync {
    async fn payments(&self) -> Result<Vec<PaymentEntry>, StoreError>;
    async fn upsert_payments(&self, entries: &[PaymentEntry]) -> Result<(), StoreError>;
    async fn remove_payment(&self, city: &str) -> Result<bool, StoreError>;
    async fn directory(&self) -> Result<Vec<DirectoryEntry>, StoreError>;
    async fn upsert_directory(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError>;
    async fn replace_directory_entry(
        &self,
        city: &str,
        kind: DirectoryKind,
        name: &str,
        entry: Option<&DirectoryEntry>,
    ) -> Result<bool, StoreError>;
}

/// Staff accounts, API tokens and signed-in web sessions.
#[async_trait]
pub trait Accounts: Send + Sync {
    async fn create_user(&self, user: &User, by: &str) -> Result<(), StoreError>;
    async fn update_user(
        &self,
        name: &str,
        change: &UserChange,
        by: &str,
    ) -> Result<Option<User>, StoreError>;
    async fn add_token(&self, token_hash: &str, user: &str) -> Result<ApiToken, StoreError>;
    async fn create_token(
        &self,
        token_hash: &str,
        user: &str,
        by: &str,
    ) -> Result<ApiToken, StoreError>;
    async fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError>;
    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;
    async fn revoke_token(&self, id: &str, by: &str) -> Result<Option<ApiToken>, StoreError>;
    async fn create_web_session(
        &self,
        user: &str,
        token_hash: &str,
        csrf: &str,
        expires_at: Millis,
    ) -> Result<(), StoreError>;
    async fn web_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<WebSession>, StoreError>;
    async fn end_web_session(&self, token_hash: &str) -> Result<(), StoreError>;
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    async fn add_user(&self, user: &User) -> Result<(), StoreError>;
}

/// Broadcasts: drafts, the frozen audience, the dispatcher's position and per-person results.
#[async_trait]
pub trait Broadcasts: Send + Sync {
    /// Changes a broadcast in one transaction; `change` may run more than once.
    async fn change_broadcast(
        &self,
        id: u64,
        user: &str,
        action: &str,
        change: BroadcastChange,
    ) -> Result<Broadcast, BroadcastError>;
    /// Every recipient of a broadcast with their result, in phone order.
    async fn recipients(&self, broadcast: u64) -> Result<Vec<(ContactId, Recipient)>, StoreError>;
    async fn create_broadcast(&self, valid: Valid, user: &str) -> Result<Broadcast, StoreError>;
    async fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError>;
    async fn broadcasts(&self) -> Result<Vec<Broadcast>, StoreError>;
    async fn broadcasts_in(&self, statuses: &[Status]) -> Result<Vec<Broadcast>, StoreError>;
    async fn enqueue_cursor(&self, broadcast: u64) -> Result<EnqueueCursor, StoreError>;
    async fn enqueue_recipients(
        &self,
        broadcast: u64,
        recipients: &[(ContactId, Recipient)],
        after: Option<ContactId>,
        done: bool,
    ) -> Result<EnqueueCursor, StoreError>;
    async fn bulk_queue(&self, broadcast: u64, limit: usize) -> Result<Vec<Queued>, StoreError>;
    async fn broadcast_drained(&self, broadcast: u64) -> Result<bool, StoreError>;
    async fn materialize(
        &self,
        broadcast: &Broadcast,
        queued: &Queued,
        delivery: &crate::broadcast::Delivery,
    ) -> Result<Option<OutboxItem>, StoreError>;
    async fn skip_recipient(
        &self,
        broadcast: u64,
        queued: &Queued,
        status: RecipientStatus,
        reason: &str,
    ) -> Result<(), StoreError>;
    async fn cancel_queued(&self, broadcast: u64) -> Result<u64, StoreError>;
    async fn recipient(
        &self,
        broadcast: u64,
        phone: &ContactId,
    ) -> Result<Option<Recipient>, StoreError>;
    async fn broadcast_progress(&self, broadcast: u64) -> Result<Progress, StoreError>;
    async fn queue_test_send(
        &self,
        broadcast: &Broadcast,
        phone: &ContactId,
        delivery: &crate::broadcast::Delivery,
        user: &str,
    ) -> Result<u64, StoreError>;
}

/// What operators need: erasure, retention, backups, disk use, a clean close.
#[async_trait]
pub trait Maintenance: Send + Sync {
    /// Erases a person: their messages, contact, session, tickets' text, audience entries.
    async fn erase_contact(
        &self,
        phone: &ContactId,
        user: &str,
        ticket: u64,
    ) -> Result<Erasure, StoreError>;
    /// Writes a consistent, encrypted backup of everything into `out`.
    async fn write_backup(
        &self,
        passphrase: &str,
        out: Box<dyn std::io::Write + Send>,
    ) -> Result<BackupSummary, BackupError>;
    /// Flushes and stops the store's background work (a clean stop).
    async fn close(&self) -> Result<(), StoreError>;
    async fn compaction_pending(&self) -> Result<bool, StoreError>;
    async fn purge(&self, cutoff: Millis, dry_run: bool) -> Result<PurgeReport, StoreError>;
    async fn usage_by_family(&self) -> Result<Vec<FamilyUsage>, StoreError>;
    async fn size_on_disk(&self) -> Result<u64, StoreError>;
}

/// Voice notes, images and documents people sent, kept for interpreters.
#[async_trait]
pub trait Media: Send + Sync {
    /// Keeps a fetched file for a message and records it on the message (or, when it cannot
    /// be kept, why).
    async fn put_media(
        &self,
        message_id: u64,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError>;
    /// Records on a message why its media is missing.
    async fn media_missing(&self, message_id: u64, reason: &str) -> Result<(), StoreError>;
    /// A kept file by the name its message records.
    async fn media_file(&self, file: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// What a replica hears about from the others: changes live pages show, and work waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    /// A ticket changed (the queue and ticket pages refresh).
    Ticket,
    /// A reply to a simulator phone (the simulator page shows it).
    Simulator,
    /// A reply was queued: the replica that sends the outbox looks at once, not at its next
    /// round. The store announces it itself, in the transaction that queues the reply.
    Outbox,
    /// Whether the gateway phone answered the sending replica (`/healthz` on every replica).
    Gateway,
}

/// What the replicas of one kabar share beyond records: announcements for live pages, the
/// login limit, and keys every replica must sign with. A single process (sled) has no other
/// replica: announcements go nowhere, the rest lives in its memory.
#[async_trait]
pub trait Coordination: Send + Sync {
    /// Tells the other replicas (not this one: it has told its own pages already).
    async fn announce(&self, topic: Topic, payload: &str) -> Result<(), StoreError>;
    /// What the other replicas announce from now on; `None` when there are none.
    async fn announcements(&self) -> Option<tokio::sync::mpsc::Receiver<(Topic, String)>>;
    /// When the failed logins for `name` (lowercased by the caller) since `since` happened.
    async fn login_failures(&self, name: &str, since: Millis) -> Result<Vec<Millis>, StoreError>;
    async fn record_login_failure(&self, name: &str, at: Millis) -> Result<(), StoreError>;
    async fn clear_login_failures(&self, name: &str) -> Result<(), StoreError>;
    /// A random 32-byte key for `purpose`, the same on every replica (created by the first
    /// that asks).
    async fn shared_key(&self, purpose: &str) -> Result<[u8; 32], StoreError>;
}

/// Everything kabar asks of storage: one backend implements it all.
pub trait Storage:
    Intake
    + Outbox
    + People
    + Desk
    + Directory
    + Accounts
    + Broadcasts
    + Media
    + Maintenance
    + Coordination
    + 'static
{
}

impl<T> Storage for T where
    T: Intake
        + Outbox
        + People
        + Desk
        + Directory
        + Accounts
        + Broadcasts
        + Media
        + Maintenance
        + Coordination
        + 'static
{
}

/// The store every part of kabar shares.
pub type Store = Arc<dyn Storage>;
