//! The sled backend behind the storage port: each call runs the synchronous [`Store`] on a
//! blocking thread, and each write returns once group commit made it durable.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::Store;
use crate::broadcast::{Broadcast, Progress, Recipient, RecipientStatus, Status, Valid};
use crate::disk::DiskWatch;
use crate::domain::ContactId;
use crate::domain::*;
use crate::flow::Session;
use crate::i18n::Lang;
use crate::metrics::Metrics;
use crate::store::*;

/// The embedded store: sled, its intake journal and group commit, in the data folder.
#[derive(Debug, Clone)]
pub struct SledStore(Arc<Store>);

impl SledStore {
    /// Opens (or creates) the store in `dir`. Fails with [`StoreError::Locked`] when another
    /// process has it open.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        Ok(SledStore(Arc::new(Store::open(dir)?)))
    }

    /// Whether `dir` holds a store (a data folder a server has used).
    pub fn holds_data(dir: &Path) -> bool {
        dir.join("kabar.sled").is_dir()
    }

    /// The synchronous core, shared: for tests and benchmarks that inspect a data folder.
    pub fn core_arc(&self) -> Arc<Store> {
        self.0.clone()
    }

    async fn read<T, E>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| E::from(StoreError::Blocking(e.to_string())))?
    }

    /// A write, returned once durable.
    async fn write<T, E>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let done = self.read(f).await?;
        self.0.durable().await?;
        Ok(done)
    }
}

#[async_trait]
impl Accounts for SledStore {
    async fn create_user(&self, user: &User, by: &str) -> Result<(), StoreError> {
        let user = user.clone();
        let by = by.to_owned();
        self.write(move |s| s.create_user(&user, &by)).await
    }

    async fn update_user(
        &self,
        name: &str,
        change: &UserChange,
        by: &str,
    ) -> Result<Option<User>, StoreError> {
        let name = name.to_owned();
        let change = change.clone();
        let by = by.to_owned();
        self.write(move |s| s.update_user(&name, &change, &by))
            .await
    }

    async fn add_token(&self, token_hash: &str, user: &str) -> Result<ApiToken, StoreError> {
        let token_hash = token_hash.to_owned();
        let user = user.to_owned();
        self.write(move |s| s.add_token(&token_hash, &user)).await
    }

    async fn create_token(
        &self,
        token_hash: &str,
        user: &str,
        by: &str,
    ) -> Result<ApiToken, StoreError> {
        let token_hash = token_hash.to_owned();
        let user = user.to_owned();
        let by = by.to_owned();
        self.write(move |s| s.create_token(&token_hash, &user, &by))
            .await
    }

    async fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |s| s.token_user(&token_hash)).await
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.read(move |s| s.tokens()).await
    }

    async fn revoke_token(&self, id: &str, by: &str) -> Result<Option<ApiToken>, StoreError> {
        let id = id.to_owned();
        let by = by.to_owned();
        self.write(move |s| s.revoke_token(&id, &by)).await
    }

    async fn create_web_session(
        &self,
        user: &str,
        token_hash: &str,
        csrf: &str,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let user = user.to_owned();
        let token_hash = token_hash.to_owned();
        let csrf = csrf.to_owned();
        self.write(move |s| s.create_web_session(&user, &token_hash, &csrf, expires_at))
            .await
    }

    async fn web_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<WebSession>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |s| s.web_session(&token_hash, now)).await
    }

    async fn end_web_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |s| s.end_web_session(&token_hash)).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_owned();
        self.read(move |s| s.user(&name)).await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(move |s| s.users()).await
    }

    async fn add_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |s| s.add_user(&user)).await
    }
}

#[async_trait]
impl People for SledStore {
    async fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        self.read(move |s| s.contacts()).await
    }

    async fn contacts_after(
        &self,
        after: Option<&ContactId>,
        limit: usize,
    ) -> Result<(Vec<Contact>, bool), StoreError> {
        let after = after.cloned();
        self.read(move |s| s.contacts_after(after.as_ref(), limit))
            .await
    }

    async fn contact(&self, phone: &ContactId) -> Result<Option<Contact>, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.contact(&phone)).await
    }

    async fn session(&self, phone: &ContactId) -> Result<Session, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.session(&phone)).await
    }

    async fn upsert_contacts(
        &self,
        rows: &[crate::import::ContactRow],
    ) -> Result<usize, StoreError> {
        let rows = rows.to_vec();
        self.write(move |s| s.upsert_contacts(&rows)).await
    }

    async fn close_whatsapp_window(&self, phone: &ContactId) -> Result<(), StoreError> {
        let phone = phone.clone();
        self.write(move |s| s.close_whatsapp_window(&phone)).await
    }

    async fn set_opted_out(&self, phone: &ContactId, opted_out: bool) -> Result<(), StoreError> {
        let phone = phone.clone();
        self.write(move |s| s.set_opted_out(&phone, opted_out))
            .await
    }

    async fn message(&self, id: u64) -> Result<Option<MessageRecord>, StoreError> {
        self.read(move |s| s.message(id)).await
    }

    async fn history(&self, phone: &ContactId) -> Result<Vec<MessageRecord>, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.history(&phone)).await
    }
}

#[async_trait]
impl Broadcasts for SledStore {
    async fn change_broadcast(
        &self,
        id: u64,
        user: &str,
        action: &str,
        change: BroadcastChange,
    ) -> Result<Broadcast, BroadcastError> {
        let user = user.to_owned();
        let action = action.to_owned();
        self.write(move |s| s.change_broadcast(id, &user, &action, change))
            .await
    }

    async fn recipients(&self, broadcast: u64) -> Result<Vec<(ContactId, Recipient)>, StoreError> {
        self.read(move |s| {
            let mut all = Vec::new();
            s.for_each_recipient(broadcast, |phone, r| all.push((phone, r)))?;
            Ok(all)
        })
        .await
    }

    async fn create_broadcast(&self, valid: Valid, user: &str) -> Result<Broadcast, StoreError> {
        let user = user.to_owned();
        self.write(move |s| s.create_broadcast(valid, &user)).await
    }

    async fn broadcast(&self, id: u64) -> Result<Option<Broadcast>, StoreError> {
        self.read(move |s| s.broadcast(id)).await
    }

    async fn broadcasts(&self) -> Result<Vec<Broadcast>, StoreError> {
        self.read(move |s| s.broadcasts()).await
    }

    async fn broadcasts_in(&self, statuses: &[Status]) -> Result<Vec<Broadcast>, StoreError> {
        let statuses = statuses.to_vec();
        self.read(move |s| s.broadcasts_in(&statuses)).await
    }

    async fn enqueue_cursor(&self, broadcast: u64) -> Result<EnqueueCursor, StoreError> {
        self.read(move |s| s.enqueue_cursor(broadcast)).await
    }

    async fn enqueue_recipients(
        &self,
        broadcast: u64,
        recipients: &[(ContactId, Recipient)],
        after: Option<ContactId>,
        done: bool,
    ) -> Result<EnqueueCursor, StoreError> {
        let recipients = recipients.to_vec();
        self.write(move |s| s.enqueue_recipients(broadcast, &recipients, after, done))
            .await
    }

    async fn bulk_queue(&self, broadcast: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        self.read(move |s| s.bulk_queue(broadcast, limit)).await
    }

    async fn broadcast_drained(&self, broadcast: u64) -> Result<bool, StoreError> {
        self.read(move |s| s.broadcast_drained(broadcast)).await
    }

    async fn materialize(
        &self,
        broadcast: &Broadcast,
        queued: &Queued,
        delivery: &crate::broadcast::Delivery,
    ) -> Result<Option<OutboxItem>, StoreError> {
        let broadcast = broadcast.clone();
        let queued = queued.clone();
        let delivery = delivery.clone();
        self.write(move |s| s.materialize(&broadcast, &queued, &delivery))
            .await
    }

    async fn skip_recipient(
        &self,
        broadcast: u64,
        queued: &Queued,
        status: RecipientStatus,
        reason: &str,
    ) -> Result<(), StoreError> {
        let queued = queued.clone();
        let reason = reason.to_owned();
        self.write(move |s| s.skip_recipient(broadcast, &queued, status, &reason))
            .await
    }

    async fn cancel_queued(&self, broadcast: u64) -> Result<u64, StoreError> {
        self.write(move |s| s.cancel_queued(broadcast)).await
    }

    async fn recipient(
        &self,
        broadcast: u64,
        phone: &ContactId,
    ) -> Result<Option<Recipient>, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.recipient(broadcast, &phone)).await
    }

    async fn broadcast_progress(&self, broadcast: u64) -> Result<Progress, StoreError> {
        self.read(move |s| s.broadcast_progress(broadcast)).await
    }

    async fn queue_test_send(
        &self,
        broadcast: &Broadcast,
        phone: &ContactId,
        delivery: &crate::broadcast::Delivery,
        user: &str,
    ) -> Result<u64, StoreError> {
        let broadcast = broadcast.clone();
        let phone = phone.clone();
        let delivery = delivery.clone();
        let user = user.to_owned();
        self.write(move |s| s.queue_test_send(&broadcast, &phone, &delivery, &user))
            .await
    }
}

#[async_trait]
impl Outbox for SledStore {
    async fn outbox_cancelled(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let item = item.clone();
        self.write(move |s| s.outbox_cancelled(&item)).await
    }

    async fn outbox(&self) -> Result<Vec<OutboxItem>, StoreError> {
        self.read(move |s| s.outbox()).await
    }

    async fn outbox_depth(&self) -> Result<usize, StoreError> {
        self.read(move |s| Ok(s.outbox_depth())).await
    }

    async fn outbox_accepted(
        &self,
        item: &OutboxItem,
        external_id: &str,
        status: MessageStatus,
    ) -> Result<(), StoreError> {
        let item = item.clone();
        let external_id = external_id.to_owned();
        self.write(move |s| s.outbox_accepted(&item, &external_id, status))
            .await
    }

    async fn outbox_retry(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let item = item.clone();
        self.write(move |s| s.outbox_retry(&item)).await
    }

    async fn queue_message(
        &self,
        phone: &ContactId,
        channel: Channel,
        author: Author,
        text: &str,
        language: Option<Lang>,
    ) -> Result<u64, StoreError> {
        let phone = phone.clone();
        let text = text.to_owned();
        self.write(move |s| s.queue_message(&phone, channel, author, &text, language))
            .await
    }

    async fn outbox_reroute(&self, item: &OutboxItem, note: &str) -> Result<(), StoreError> {
        let item = item.clone();
        let note = note.to_owned();
        self.write(move |s| s.outbox_reroute(&item, &note)).await
    }

    async fn outbox_of(&self, phone: &ContactId) -> Result<Vec<OutboxItem>, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.outbox_of(&phone)).await
    }

    async fn first_outbox_of(&self, phone: &ContactId) -> Result<Option<u64>, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.first_outbox_of(&phone)).await
    }

    async fn due_outbox(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        self.read(move |s| s.due_outbox(now, limit)).await
    }

    async fn due_bulk(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, Option<Millis>), StoreError> {
        self.read(move |s| s.due_bulk(now, limit)).await
    }

    async fn release_held(&self, phone: &ContactId) -> Result<usize, StoreError> {
        let phone = phone.clone();
        // Every answer calls this; almost always nothing is held, and nothing written need
        // not wait for a flush.
        let released = self.read(move |s| s.release_held(&phone)).await?;
        if released > 0 {
            self.0.durable().await?;
        }
        Ok(released)
    }

    async fn failed_messages(&self) -> Result<Vec<MessageRecord>, StoreError> {
        self.read(move |s| s.failed_messages()).await
    }

    async fn outbox_failed(&self, item: &OutboxItem, reason: &str) -> Result<(), StoreError> {
        let item = item.clone();
        let reason = reason.to_owned();
        self.write(move |s| s.outbox_failed(&item, &reason)).await
    }
}

#[async_trait]
impl Desk for SledStore {
    async fn release(&self, id: u64, actor: Actor<'_>, now: Millis) -> Result<Ticket, TicketError> {
        let (name, overrides_claims) = (actor.name.to_owned(), actor.overrides_claims);
        self.write(move |s| {
            s.release(
                id,
                Actor {
                    name: &name,
                    overrides_claims,
                },
                now,
            )
        })
        .await
    }

    async fn transfer(
        &self,
        id: u64,
        actor: Actor<'_>,
        to_user: Option<&str>,
        to_language: Option<Lang>,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        let (name, overrides_claims) = (actor.name.to_owned(), actor.overrides_claims);
        let to_user = to_user.map(str::to_owned);
        self.write(move |s| {
            s.transfer(
                id,
                Actor {
                    name: &name,
                    overrides_claims,
                },
                to_user.as_deref(),
                to_language,
                now,
            )
        })
        .await
    }

    async fn close_ticket(
        &self,
        id: u64,
        actor: Actor<'_>,
        closing: &str,
        session: &Session,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        let (name, overrides_claims) = (actor.name.to_owned(), actor.overrides_claims);
        let closing = closing.to_owned();
        let session = session.clone();
        self.write(move |s| {
            s.close_ticket(
                id,
                Actor {
                    name: &name,
                    overrides_claims,
                },
                &closing,
                &session,
                now,
            )
        })
        .await
    }

    async fn audit_search(
        &self,
        keep: AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(move |s| s.audit_search(keep, limit)).await
    }

    async fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        self.read(move |s| s.ticket(id)).await
    }

    async fn recently_closed(
        &self,
        phone: &ContactId,
        now: Millis,
    ) -> Result<Option<Ticket>, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.recently_closed(&phone, now)).await
    }

    async fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<u64>,
        detail: &str,
    ) -> Result<(), StoreError> {
        let user = user.to_owned();
        let action = action.to_owned();
        let detail = detail.to_owned();
        self.write(move |s| s.audit(&user, &action, ticket, &detail))
            .await
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(move |s| s.audit_log(limit)).await
    }

    async fn claim(&self, id: u64, user: &str, now: Millis) -> Result<Ticket, TicketError> {
        let user = user.to_owned();
        self.write(move |s| s.claim(id, &user, now)).await
    }

    async fn add_note(
        &self,
        id: u64,
        user: &str,
        text: &str,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        let user = user.to_owned();
        let text = text.to_owned();
        self.write(move |s| s.add_note(id, &user, &text, now)).await
    }

    async fn reply(
        &self,
        id: u64,
        user: &str,
        text: &str,
        now: Millis,
    ) -> Result<u64, TicketError> {
        let user = user.to_owned();
        let text = text.to_owned();
        self.write(move |s| s.reply(id, &user, &text, now)).await
    }

    async fn seen(&self, user: &str, ticket: u64) -> Result<usize, StoreError> {
        let user = user.to_owned();
        self.read(move |s| s.seen(&user, ticket)).await
    }

    async fn mark_seen(&self, user: &str, ticket: u64, count: usize) -> Result<(), StoreError> {
        let user = user.to_owned();
        self.write(move |s| s.mark_seen(&user, ticket, count)).await
    }

    async fn canned_replies(&self, language: Option<Lang>) -> Result<Vec<CannedReply>, StoreError> {
        self.read(move |s| s.canned_replies(language)).await
    }

    async fn add_canned(
        &self,
        language: Lang,
        title: &str,
        text: &str,
    ) -> Result<CannedReply, StoreError> {
        let title = title.to_owned();
        let text = text.to_owned();
        self.write(move |s| s.add_canned(language, &title, &text))
            .await
    }

    async fn add_canned_audited(
        &self,
        language: Lang,
        title: &str,
        text: &str,
        user: &str,
    ) -> Result<CannedReply, StoreError> {
        let title = title.to_owned();
        let text = text.to_owned();
        let user = user.to_owned();
        self.write(move |s| s.add_canned_audited(language, &title, &text, &user))
            .await
    }

    async fn remove_canned_audited(&self, id: u64, user: &str) -> Result<bool, StoreError> {
        let user = user.to_owned();
        self.write(move |s| s.remove_canned_audited(id, &user))
            .await
    }

    async fn remove_canned(&self, id: u64) -> Result<bool, StoreError> {
        self.write(move |s| s.remove_canned(id)).await
    }

    async fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        self.read(move |s| s.tickets()).await
    }

    async fn open_ticket_of(&self, phone: &ContactId) -> Result<Option<Ticket>, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.open_ticket_of(&phone)).await
    }
}

#[async_trait]
impl Intake for SledStore {
    async fn accept_inbound(&self, messages: Vec<NewInbound>) -> Result<(), StoreError> {
        self.0.accept_inbound(messages).await
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        self.0.check_writable().await
    }

    async fn run_intake(
        &self,
        sink: Arc<dyn IntakeSink>,
        metrics: Arc<Metrics>,
        stop: tokio::sync::watch::Receiver<bool>,
        disk: DiskWatch,
    ) -> IntakeEnd {
        super::intake::run(self.0.clone(), sink, metrics, stop, disk).await
    }

    async fn intake_backlog(&self) -> Result<u64, StoreError> {
        self.read(move |s| Ok(s.intake_backlog())).await
    }

    async fn contacts_with_pending(&self) -> Result<BTreeSet<ContactId>, StoreError> {
        self.read(move |s| s.contacts_with_pending()).await
    }

    async fn next_pending(&self, phone: &ContactId) -> Result<Option<PendingInbound>, StoreError> {
        let phone = phone.clone();
        self.read(move |s| s.next_pending(&phone)).await
    }

    async fn pending_count(&self) -> Result<usize, StoreError> {
        self.read(move |s| Ok(s.pending_count())).await
    }

    async fn apply_step(
        &self,
        pending: &PendingInbound,
        write: &StepWrite,
        now: Millis,
    ) -> Result<StepOutcome, StoreError> {
        let pending = pending.clone();
        let write = write.clone();
        self.write(move |s| s.apply_step(&pending, &write, now))
            .await
    }

    async fn update_status_by_external(
        &self,
        channel: Channel,
        external_id: &str,
        status: MessageStatus,
        error: Option<String>,
    ) -> Result<StatusUpdate, StoreError> {
        let external_id = external_id.to_owned();
        self.write(move |s| s.update_status_by_external(channel, &external_id, status, error))
            .await
    }
}

#[async_trait]
impl Directory for SledStore {
    async fn payments(&self) -> Result<Vec<PaymentEntry>, StoreError> {
        self.read(move |s| s.payments()).await
    }

    async fn upsert_payments(&self, entries: &[PaymentEntry]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.write(move |s| s.upsert_payments(&entries)).await
    }

    async fn remove_payment(&self, city: &str) -> Result<bool, StoreError> {
        let city = city.to_owned();
        self.write(move |s| s.remove_payment(&city)).await
    }

    async fn directory(&self) -> Result<Vec<DirectoryEntry>, StoreError> {
        self.read(move |s| s.directory()).await
    }

    async fn upsert_directory(&self, entries: &[DirectoryEntry]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.write(move |s| s.upsert_directory(&entries)).await
    }

    async fn replace_directory_entry(
        &self,
        city: &str,
        kind: DirectoryKind,
        name: &str,
        entry: Option<&DirectoryEntry>,
    ) -> Result<bool, StoreError> {
        let city = city.to_owned();
        let name = name.to_owned();
        let entry = entry.cloned();
        self.write(move |s| s.replace_directory_entry(&city, kind, &name, entry.as_ref()))
            .await
    }
}

#[async_trait]
impl Maintenance for SledStore {
    async fn erase_contact(
        &self,
        phone: &ContactId,
        user: &str,
        ticket: u64,
    ) -> Result<Erasure, StoreError> {
        // Erasure drains the journal first (async) and is rare: it runs on the caller's task.
        self.0.erase_contact(phone, user, ticket).await
    }

    async fn write_backup(
        &self,
        passphrase: &str,
        out: Box<dyn std::io::Write + Send>,
    ) -> Result<BackupSummary, BackupError> {
        let passphrase = passphrase.to_owned();
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || store.write_encrypted_backup(&passphrase, out))
            .await
            .map_err(|e| BackupError::Store(StoreError::Blocking(e.to_string())))?
    }

    async fn close(&self) -> Result<(), StoreError> {
        self.read(|s| s.close()).await
    }

    async fn compaction_pending(&self) -> Result<bool, StoreError> {
        self.read(move |s| Ok(s.compaction_pending())).await
    }

    async fn purge(&self, cutoff: Millis, dry_run: bool) -> Result<PurgeReport, StoreError> {
        self.write(move |s| s.purge(cutoff, dry_run)).await
    }

    async fn usage_by_family(&self) -> Result<Vec<FamilyUsage>, StoreError> {
        self.read(move |s| s.usage_by_family()).await
    }

    async fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.read(move |s| s.sled_size_on_disk()).await
    }
}
#[async_trait]
impl Media for SledStore {
    async fn put_media(
        &self,
        message_id: u64,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let mime = mime.to_owned();
        self.write(move |s| s.put_media(message_id, &mime, &bytes))
            .await
    }

    async fn media_missing(&self, message_id: u64, reason: &str) -> Result<(), StoreError> {
        let reason = reason.to_owned();
        self.write(move |s| s.set_media_file(message_id, None, Some(reason)))
            .await
    }

    async fn media_file(&self, file: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let file = file.to_owned();
        self.read(move |s| s.media_file(&file)).await
    }
}

#[async_trait]
impl Coordination for SledStore {
    async fn announce(&self, _topic: Topic, _payload: &str) -> Result<(), StoreError> {
        // One process holds the data folder: there is no other replica to tell.
        Ok(())
    }

    async fn announcements(&self) -> Option<tokio::sync::mpsc::Receiver<(Topic, String)>> {
        None
    }

    async fn login_failures(&self, name: &str, since: Millis) -> Result<Vec<Millis>, StoreError> {
        let mut map = self
            .0
            .local
            .login_failures
            .lock()
            .map_err(|_| StoreError::Blocking("login limiter lock poisoned".into()))?;
        let list = map.entry(name.to_owned()).or_default();
        list.retain(|&at| at >= since);
        Ok(list.clone())
    }

    async fn record_login_failure(&self, name: &str, at: Millis) -> Result<(), StoreError> {
        if let Ok(mut map) = self.0.local.login_failures.lock() {
            map.entry(name.to_owned()).or_default().push(at);
        }
        Ok(())
    }

    async fn clear_login_failures(&self, name: &str) -> Result<(), StoreError> {
        if let Ok(mut map) = self.0.local.login_failures.lock() {
            map.remove(name);
        }
        Ok(())
    }

    async fn shared_key(&self, purpose: &str) -> Result<[u8; 32], StoreError> {
        use rand::RngCore;
        let mut keys = self
            .0
            .local
            .keys
            .lock()
            .map_err(|_| StoreError::Blocking("key lock poisoned".into()))?;
        Ok(*keys.entry(purpose.to_owned()).or_insert_with(|| {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            key
        }))
    }
}
