//! PostgreSQL: the Intake port.
//!
//! A webhook's messages are stored at once, each in its own transaction: the message, its
//! dedupe key (`external_ids`, a provider retry conflicts and is dropped), the sender filed
//! under their contact (addresses learnt from WhatsApp), and an `inbox` row. The webhook is
//! acknowledged once those transactions committed: PostgreSQL's own group commit makes many
//! concurrent webhooks share a flush. Each transaction holds the contact's advisory lock
//! (`lock_contact`) while it takes the inbox sequence number, so per-contact order is commit
//! order, whichever replica took the webhook.
//!
//! The intake task (`run_intake`) then only tells the conversation layer which contacts have
//! messages waiting: all of them at start; at once, those this replica's webhooks stored (in
//! its memory, after the commit); each second, those other replicas stored (a poll of new
//! inbox rows, which shares the answering out); every ten seconds, those nobody answers.

use super::outbox::{external_space, put_outbound};
use super::*;
use crate::helpdesk::rules::{self, TicketWrite};
use crate::store::sled::new_outbound;

/// How often the intake looks for inbox rows it heard nothing about.
const POLL: Duration = Duration::from_secs(1);
/// How long a replica answering a contact keeps the others off it: far longer than one answer
/// takes; after it (the replica died or gave up) another replica takes the contact over.
const LEASE_MS: i64 = 30_000;
/// How often the intake looks for contacts nobody answers (their replica died, or their
/// messages waited behind a lease or a failure).
const SWEEP: Duration = Duration::from_secs(10);
/// Contacts handed on per sweep.
const SWEEP_LIMIT: i64 = 1_000;
/// Attempts at storing one message when PostgreSQL aborts it (deadlock, serialization).
const ATTEMPTS: u32 = 5;

/// Removes a person's messages waiting to be answered (erasure); how many there were.
pub(crate) async fn remove_pending_of(tx: &mut Tx, contact: &ContactId) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM inbox WHERE contact = $1")
        .bind(contact.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// Whether PostgreSQL aborted a transaction that may simply be run again.
fn retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

/// `lock_contact`, with PostgreSQL's own error kept: a deadlock between two webhooks that
/// name the same people in another order shows here, and the intake runs the transaction
/// again. The key is `lock_contact`'s, so both serialise with each other.
async fn lock_raw(tx: &mut Tx, contact: &ContactId) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('contact:' || $1, 0))")
        .bind(contact.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What one inbound message came to.
enum Accepted {
    Stored,
    Duplicate,
}

/// Who a message is filed under, and what the intake learnt about them.
struct Filing {
    /// The contact the message belongs to.
    id: ContactId,
    /// The contact record, when the intake changed it (written before the addresses).
    contact: Option<Contact>,
    /// Addresses to (re)file under `id` (WhatsApp user ids and the numbers beside them).
    refile: Vec<ContactId>,
    /// Every contact id the filing read or writes: their locks must be held.
    involved: BTreeSet<ContactId>,
}

/// Who `address` is filed under, if anyone.
async fn owner_of(tx: &mut Tx, address: &ContactId) -> Result<Option<ContactId>, StoreError> {
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT contact FROM contact_addresses WHERE address = $1 \
         UNION ALL SELECT id FROM contacts WHERE id = $1 LIMIT 1",
    )
    .bind(address.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    owner
        .map(|o| {
            ContactId::try_from(o).map_err(|e| StoreError::Corrupt {
                key: format!("contact address {}", address.redacted()),
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// The stored contact filed exactly under `id` (not through an address).
async fn contact_row(tx: &mut Tx, id: &ContactId) -> Result<Option<Contact>, StoreError> {
    let row: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT data FROM contacts WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|v| from_json(v, format_args!("contact {}", id.redacted())))
        .transpose()
}

/// Every address an inbound message names, `from` first.
fn named_addresses(inbound: &NewInbound) -> Vec<ContactId> {
    let mut addresses = vec![inbound.from.clone()];
    for address in inbound.profile.addresses() {
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    addresses
}

/// The contact an inbound message belongs to, as sled's `file_sender` decides it: a message
/// that names a WhatsApp user id files every address it names under one contact (the oldest,
/// when two turn out to be one person), and what WhatsApp said is added to the contact.
async fn file_sender(tx: &mut Tx, inbound: &NewInbound, now: Millis) -> Result<Filing, StoreError> {
    let profile = &inbound.profile;
    if profile.is_empty() {
        // SMS: the number may have been linked to a contact created under a user id.
        let id = owner_of(tx, &inbound.from)
            .await?
            .unwrap_or_else(|| inbound.from.clone());
        return Ok(Filing {
            involved: BTreeSet::from([inbound.from.clone(), id.clone()]),
            id,
            contact: None,
            refile: Vec::new(),
        });
    }
    let addresses = named_addresses(inbound);
    let mut involved: BTreeSet<ContactId> = addresses.iter().cloned().collect();
    let mut owners: Vec<(ContactId, Option<Contact>)> = Vec::new();
    let mut filed: Vec<Option<ContactId>> = Vec::with_capacity(addresses.len());
    for address in &addresses {
        let owner = owner_of(tx, address).await?;
        filed.push(owner.clone());
        if let Some(owner) = owner
            && !owners.iter().any(|(o, _)| o == &owner)
        {
            let record = contact_row(tx, &owner).await?;
            involved.insert(owner.clone());
            owners.push((owner, record));
        }
    }
    let (id, stored) = Contact::filed_under(owners, &inbound.from);
    let refile = if addresses
        .iter()
        .any(|a| matches!(a, ContactId::Whatsapp(_)))
    {
        addresses
            .iter()
            .zip(&filed)
            .filter(|(_, filed)| filed.as_ref() != Some(&id))
            .map(|(a, _)| a.clone())
            .collect()
    } else {
        Vec::new()
    };
    let mut contact = stored
        .clone()
        .unwrap_or_else(|| Contact::new(id.clone(), now));
    contact.learn(profile);
    let contact = (stored.as_ref() != Some(&contact)).then_some(contact);
    involved.insert(id.clone());
    Ok(Filing {
        id,
        contact,
        refile,
        involved,
    })
}

impl PgStore {
    /// Stores one inbound message in its own transaction, retried when PostgreSQL aborts it.
    async fn accept_one(
        &self,
        inbound: &NewInbound,
        received_at: Millis,
    ) -> Result<Accepted, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_accept(inbound, received_at).await {
                Err(AcceptError::Sql(e)) if retryable(&e) && attempt < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                }
                Err(AcceptError::Sql(e)) => return Err(e.into()),
                Err(AcceptError::Store(e)) => return Err(e),
                Ok(done) => return Ok(done),
            }
        }
    }

    async fn try_accept(
        &self,
        inbound: &NewInbound,
        received_at: Millis,
    ) -> Result<Accepted, AcceptError> {
        let mut tx = self.0.pool.begin().await?;
        // Lock every address the message names (in one order, so two webhooks naming the same
        // people cannot deadlock), then whoever they turn out to be filed under.
        let mut locked: BTreeSet<ContactId> = named_addresses(inbound).into_iter().collect();
        let addresses: Vec<&str> = locked.iter().map(ContactId::as_str).collect();
        // One statement; unnest yields the (sorted) array in order, so the locks are taken in it.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('contact:' || a, 0)) \
             FROM unnest($1::text[]) AS a",
        )
        .bind(&addresses)
        .execute(&mut *tx)
        .await?;
        let filing = loop {
            let filing = file_sender(&mut tx, inbound, received_at).await?;
            let missing: Vec<ContactId> = filing.involved.difference(&locked).cloned().collect();
            if missing.is_empty() {
                break filing;
            }
            // Filed under a contact not locked yet: lock it and read again (a deadlock with
            // another webhook is detected by PostgreSQL and retried).
            for id in missing {
                lock_raw(&mut tx, &id).await?;
                locked.insert(id);
            }
        };
        // The dedupe key and the message's id in one: nothing when the provider sent it before
        // (or another replica is storing it right now: this waits for it, then finds it).
        // The key's foreign key is checked at commit, after the message row below.
        let space = external_space(inbound.channel);
        let filed: Option<i64> = sqlx::query_scalar(
            "INSERT INTO external_ids (space, external_id, message_id) \
             VALUES ($1, $2, nextval('kabar_ids')) \
             ON CONFLICT DO NOTHING RETURNING message_id",
        )
        .bind(space)
        .bind(&inbound.external_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(message_id) = filed.map(|id| id as u64) else {
            return Ok(Accepted::Duplicate);
        };
        if let Some(contact) = &filing.contact {
            save_contact(&mut tx, contact).await?;
        }
        for address in &filing.refile {
            sqlx::query(
                "INSERT INTO contact_addresses (address, contact) VALUES ($1, $2) \
                 ON CONFLICT (address) DO UPDATE SET contact = EXCLUDED.contact",
            )
            .bind(address.as_str())
            .bind(filing.id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let record = MessageRecord {
            id: message_id,
            contact: filing.id.clone(),
            direction: Direction::In,
            channel: inbound.channel,
            author: Author::Contact,
            text: inbound.text.clone(),
            external_id: Some(inbound.external_id.clone()),
            status: MessageStatus::Received,
            error: None,
            created_at: received_at,
            updated_at: received_at,
            media: inbound.media.clone(),
            media_file: None,
            unsupported: inbound.unsupported.clone(),
            broadcast: None,
        };
        save_message(&mut tx, &record).await?;
        // Waiting to be answered: by this replica, told once it is committed.
        sqlx::query("INSERT INTO inbox (contact, message_id, accepted_by) VALUES ($1, $2, $3)")
            .bind(filing.id.as_str())
            .bind(db_id(message_id))
            .bind(&self.0.replica)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.0.accepted.add(filing.id.clone());
        tracing::info!(
            message_id,
            channel = inbound.channel.name(),
            "inbound message stored"
        );
        Ok(Accepted::Stored)
    }

    /// Contacts whose oldest waiting message nobody is answering: not leased, or its lease
    /// ran out, and older than one sweep (fresher ones were announced and are on their way).
    async fn unanswered(&self) -> Result<BTreeSet<ContactId>, StoreError> {
        let now = now_ms() as i64;
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT contact FROM (SELECT DISTINCT ON (i.contact) i.contact, i.seq, \
             i.leased_until, m.created_at FROM inbox i JOIN messages m ON m.id = i.message_id \
             ORDER BY i.contact, i.seq) oldest \
             WHERE (leased_until IS NULL AND created_at < $1) OR leased_until < $2 \
             LIMIT $3",
        )
        .bind(now - SWEEP.as_millis() as i64)
        .bind(now)
        .bind(SWEEP_LIMIT)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|c| ContactId::try_from(c).ok())
            .collect())
    }

    /// Contacts with inbox rows after `after` (a sequence number) that another replica
    /// stored (this one's were handed on at commit), and the newest row seen.
    async fn pending_since(
        &self,
        after: i64,
    ) -> Result<(BTreeSet<ContactId>, Option<i64>), StoreError> {
        let rows: Vec<(String, i64, bool)> = sqlx::query_as(
            "SELECT contact, max(seq), bool_or(accepted_by IS DISTINCT FROM $2) \
             FROM inbox WHERE seq > $1 GROUP BY contact",
        )
        .bind(after)
        .bind(&self.0.replica)
        .fetch_all(self.pool())
        .await?;
        let newest = rows.iter().map(|(_, seq, _)| *seq).max();
        let contacts = rows
            .into_iter()
            .filter(|(_, _, elsewhere)| *elsewhere)
            .filter_map(|(c, _, _)| ContactId::try_from(c).ok())
            .collect();
        Ok((contacts, newest))
    }
}

/// Why storing one message stopped: PostgreSQL's error (maybe retryable) or ours.
enum AcceptError {
    Sql(sqlx::Error),
    Store(StoreError),
}

impl From<sqlx::Error> for AcceptError {
    fn from(e: sqlx::Error) -> Self {
        AcceptError::Sql(e)
    }
}

impl From<StoreError> for AcceptError {
    fn from(e: StoreError) -> Self {
        AcceptError::Store(e)
    }
}

/// What woke the intake.
enum Heard {
    Accepted,
    Poll,
    Sweep,
}

/// The contacts this replica's webhooks stored messages for since the intake last looked.
#[derive(Default)]
pub(crate) struct AcceptedHere {
    contacts: std::sync::Mutex<BTreeSet<ContactId>>,
    wake: tokio::sync::Notify,
}

impl AcceptedHere {
    fn add(&self, contact: ContactId) {
        if let Ok(mut c) = self.contacts.lock() {
            c.insert(contact);
        }
        self.wake.notify_one();
    }

    fn take(&self) -> BTreeSet<ContactId> {
        self.contacts
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }
}

/// What the intake task knows of the inbox: the newest row it told the sink about.
struct Watch {
    newest: i64,
}

impl Watch {
    /// Tells the sink about the contacts with rows newer than the last look (all, at first).
    async fn poll(&mut self, store: &PgStore, sink: &dyn IntakeSink) -> Result<(), StoreError> {
        let (contacts, newest) = store.pending_since(self.newest).await?;
        if let Some(newest) = newest {
            self.newest = self.newest.max(newest);
        }
        if !contacts.is_empty() {
            sink.stored(contacts.into_iter().collect());
        }
        Ok(())
    }
}

#[async_trait]
impl Intake for PgStore {
    async fn accept_inbound(&self, messages: Vec<NewInbound>) -> Result<(), StoreError> {
        let received_at = now_ms();
        for inbound in &messages {
            let channel = inbound.channel.name();
            let outcome = match self.accept_one(inbound, received_at).await? {
                Accepted::Duplicate => {
                    tracing::info!(channel, "duplicate delivery ignored");
                    "duplicate"
                }
                Accepted::Stored => "stored",
            };
            if let Some(metrics) = self.0.metrics.get() {
                metrics.inbound(channel, outcome);
            }
        }
        Ok(())
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

    /// Hands contacts with new messages to the conversation layer: at once those this
    /// replica's webhooks stored, each second those any replica stored (the inbox's newest
    /// rows), and every ten seconds those nobody answers (their replica died).
    ///
    /// Why no `NOTIFY` from the webhook: a transaction that notifies takes a database-wide
    /// lock until its commit is flushed, so webhooks' commits queued one behind the other
    /// instead of sharing a flush (`benches/replicas.rs`: 31% of sessions waited on it). The
    /// replica that took a message answers it itself; the others only share the work.
    async fn run_intake(
        &self,
        sink: Arc<dyn IntakeSink>,
        metrics: Arc<Metrics>,
        mut stop: tokio::sync::watch::Receiver<bool>,
        _disk: DiskWatch,
    ) -> IntakeEnd {
        let _ = self.0.metrics.set(metrics);
        let mut closing = self.0.closing.subscribe();
        let mut watch = Watch { newest: 0 };
        let mut failures = 0u32;
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweep = tokio::time::interval_at(tokio::time::Instant::now() + SWEEP, SWEEP);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if *stop.borrow() || *closing.borrow() {
                break;
            }
            // Bounded memory under a burst: what is not handed on stays in the inbox.
            tokio::select! {
                _ = sink.wait_for_room() => {}
                _ = stop.wait_for(|s| *s) => break,
                _ = closing.wait_for(|c| *c) => break,
            }
            let heard = tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = closing.wait_for(|c| *c) => break,
                _ = self.0.accepted.wake.notified() => Heard::Accepted,
                _ = poll.tick() => Heard::Poll,
                _ = sweep.tick() => Heard::Sweep,
            };
            match heard {
                Heard::Accepted => {
                    let contacts = self.0.accepted.take();
                    if !contacts.is_empty() {
                        sink.stored(contacts.into_iter().collect());
                    }
                }
                Heard::Sweep => match self.unanswered().await {
                    Ok(contacts) if !contacts.is_empty() => {
                        sink.stored(contacts.into_iter().collect());
                    }
                    Ok(_) => {}
                    Err(StoreError::Closed) => break,
                    Err(e) => tracing::warn!(error = %e, "cannot look for unanswered contacts"),
                },
                // The first tick comes at once: it hands on everything already waiting.
                Heard::Poll => match watch.poll(self, &*sink).await {
                    Ok(()) => failures = 0,
                    Err(StoreError::Closed) => break,
                    Err(e) => {
                        failures += 1;
                        if failures == 1 || failures % 30 == 0 {
                            tracing::error!(error = %e, "cannot read the inbox; retrying");
                        }
                    }
                },
            }
        }
        if *closing.borrow() {
            return IntakeEnd::Stopped;
        }
        // The last pass: whatever arrived since the last look.
        let contacts = self.0.accepted.take();
        if !contacts.is_empty() {
            sink.stored(contacts.into_iter().collect());
        }
        if let Err(e) = watch.poll(self, &*sink).await {
            tracing::warn!(error = %e, "the intake's last look at the inbox failed");
        }
        IntakeEnd::Stopped
    }

    /// Messages are stored when accepted: nothing waits between acceptance and the store.
    async fn intake_backlog(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn contacts_with_pending(&self) -> Result<BTreeSet<ContactId>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT DISTINCT contact FROM inbox")
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|c| {
                ContactId::try_from(c).map_err(|e| StoreError::Corrupt {
                    key: "inbox contact".into(),
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    /// The oldest message `phone` has waiting, leased to this replica: `None` when there is
    /// none, or while another replica answers this contact (its lease on the oldest row runs).
    async fn next_pending(&self, phone: &ContactId) -> Result<Option<PendingInbound>, StoreError> {
        let now = now_ms() as i64;
        // One statement, its own transaction. Losing a lease in a crash costs only a wait, so
        // its commit does not wait for the flush (`set_config(…, true)` lasts for this
        // transaction; joined in so it runs before the update commits).
        let row: Option<(i64, serde_json::Value)> = sqlx::query_as(
            "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)), \
             oldest AS (SELECT seq FROM inbox WHERE contact = $1 ORDER BY seq LIMIT 1) \
             UPDATE inbox i SET leased_by = $2, leased_until = $3 \
             FROM quick, oldest, messages m \
             WHERE i.seq = oldest.seq AND m.id = i.message_id \
             AND (i.leased_by IS NULL OR i.leased_by = $2 OR i.leased_until < $4) \
             RETURNING i.seq, m.data",
        )
        .bind(phone.as_str())
        .bind(&self.0.replica)
        .bind(now + LEASE_MS)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|(seq, data)| {
            Ok(PendingInbound {
                inbox_key: seq.to_string(),
                message: from_json(data, format_args!("inbox row {seq}"))?,
            })
        })
        .transpose()
    }

    async fn pending_count(&self) -> Result<usize, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
            .fetch_one(self.pool())
            .await?;
        Ok(n as usize)
    }

    /// Writes what answering `pending` changed and removes it from the inbox, in one
    /// transaction under the contact's lock. When its inbox row is gone already (another
    /// worker or replica answered it), nothing changes.
    async fn apply_step(
        &self,
        pending: &PendingInbound,
        write: &StepWrite,
        now: Millis,
    ) -> Result<StepOutcome, StoreError> {
        let phone = &pending.message.contact;
        let seq: i64 = pending.inbox_key.parse().map_err(|_| StoreError::Corrupt {
            key: "inbox key".into(),
            reason: "not a PostgreSQL inbox row".into(),
        })?;
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, phone).await?;
        let removed = sqlx::query("DELETE FROM inbox WHERE seq = $1")
            .bind(seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            return Ok(StepOutcome::default());
        }
        // A new ticket starts with the conversation so far (this message included).
        let history: Vec<u64> = match write.ticket {
            TicketChange::Open { .. } => sqlx::query_scalar::<_, i64>(
                "SELECT id FROM messages WHERE contact = $1 ORDER BY id",
            )
            .bind(phone.as_str())
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|id| id as u64)
            .collect(),
            _ => Vec::new(),
        };
        super::people::save_session(&mut tx, phone, &write.session).await?;
        // The intake may have learnt the person's other address or WhatsApp names since
        // `write.contact` was read: those fields are the intake's, keep what it stored.
        let contact = match contact_row(&mut tx, phone).await? {
            Some(stored) if !stored.same_addresses(&write.contact) => {
                let mut contact = write.contact.clone();
                contact.take_addresses(&stored);
                contact
            }
            _ => write.contact.clone(),
        };
        save_contact(&mut tx, &contact).await?;
        let ids = self.next_ids(&mut tx, write.replies.len()).await?;
        let mut queued = Vec::with_capacity(ids.len());
        for (reply, &id) in write.replies.iter().zip(&ids) {
            let (record, item) = new_outbound(
                id,
                phone,
                write.channel,
                Author::Bot,
                reply,
                write.contact.language,
                now,
            );
            put_outbound(self, &mut tx, &record, &item).await?;
            queued.push(id);
        }
        let open = open_ticket(&mut tx, phone).await?;
        // Only a reopen looks at the ticket closed last.
        let closed = match (&write.ticket, &open) {
            (TicketChange::Reopen, None) => super::desk::last_closed_ticket(&mut tx, phone).await?,
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
            TicketWrite::Updated(t) | TicketWrite::Reopened(t) => Some(t),
            TicketWrite::Opened(new) => {
                let id = self
                    .next_ids(&mut tx, 1)
                    .await?
                    .first()
                    .copied()
                    .ok_or_else(|| StoreError::Database("no id from kabar_ids".into()))?;
                Some(new.numbered(id))
            }
        };
        if let Some(t) = &ticket {
            save_ticket(&mut tx, t).await?;
        }
        tx.commit().await?;
        Ok(StepOutcome {
            queued,
            ticket: ticket.map(|t| (t.id, t.language)),
        })
    }

    /// Applies a provider's status report to the message it names, never moving it backwards.
    async fn update_status_by_external(
        &self,
        channel: Channel,
        external_id: &str,
        status: MessageStatus,
        error: Option<String>,
    ) -> Result<StatusUpdate, StoreError> {
        let found: Option<(i64, String)> = sqlx::query_as(
            "SELECT m.id, m.contact FROM external_ids x JOIN messages m ON m.id = x.message_id \
             WHERE x.space = $1 AND x.external_id = $2",
        )
        .bind(external_space(channel))
        .bind(external_id)
        .fetch_optional(self.pool())
        .await?;
        let Some((id, contact)) = found else {
            return Ok(StatusUpdate::Unknown);
        };
        let contact = ContactId::try_from(contact).map_err(|e| StoreError::Corrupt {
            key: format!("message {id}"),
            reason: e.to_string(),
        })?;
        let mut tx = self.begin().await?;
        lock_contact(&mut tx, &contact).await?;
        let Some(mut m) = load_message(&mut tx, id as u64, true).await? else {
            return Ok(StatusUpdate::Unknown);
        };
        if status.rank() < m.status.rank() {
            return Ok(StatusUpdate::Stale);
        }
        m.status = status;
        if error.is_some() {
            m.error = error;
        }
        m.updated_at = now_ms();
        save_message(&mut tx, &m).await?;
        super::outbox::track_broadcast(&mut tx, &m, false).await?;
        tx.commit().await?;
        Ok(StatusUpdate::Updated(Box::new(m)))
    }
}

/// Two replicas on one schema (they need `KABAR_TEST_DATABASE_URL`; without it they are
/// skipped): order, dedupe and answering hold whichever replica takes which webhook.
#[cfg(test)]
mod tests {
    use super::super::accounts::replicas::two;
    use super::*;

    fn sms(from: &ContactId, external_id: &str, text: &str) -> NewInbound {
        NewInbound {
            profile: Default::default(),
            channel: Channel::TwilioSms,
            from: from.clone(),
            text: text.into(),
            external_id: external_id.into(),
            media: None,
            unsupported: None,
        }
    }

    fn whatsapp(from: &ContactId, external_id: &str, profile: WhatsappProfile) -> NewInbound {
        NewInbound {
            channel: Channel::Whatsapp,
            profile,
            ..sms(from, external_id, "x")
        }
    }

    fn phone(n: u32) -> ContactId {
        ContactId::parse(&format!("+62812{n:08}")).unwrap()
    }

    async fn answer_all(store: PgStore, who: ContactId) -> usize {
        let mut queued = 0;
        while let Some(p) = store.next_pending(&who).await.unwrap() {
            let write = StepWrite {
                session: Session::default(),
                contact: Contact::new(who.clone(), p.message.created_at),
                replies: vec![crate::store::Outgoing {
                    text: format!("re {}", p.message.text),
                    interactive: None,
                }],
                channel: p.message.channel,
                ticket: TicketChange::None,
            };
            queued += store
                .apply_step(&p, &write, now_ms())
                .await
                .unwrap()
                .queued
                .len();
        }
        queued
    }

    /// Messages alternate between replicas and every one is delivered twice (the retry to the
    /// other replica): stored once each, in order; both replicas answering at once answer
    /// each once, replies in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn alternating_replicas_keep_order_drop_retries_and_answer_once() {
        let Some((a, b)) = two("conv_order").await else {
            return;
        };
        let who = phone(1);
        let mut retries = Vec::new();
        for i in 0..100u32 {
            let (first, retry) = if i % 2 == 0 {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            let m = sms(&who, &format!("SM-{i}"), &i.to_string());
            first.accept_inbound(vec![m.clone()]).await.unwrap();
            retries.push(tokio::spawn(async move {
                retry.accept_inbound(vec![m]).await.unwrap()
            }));
        }
        for r in retries {
            r.await.unwrap();
        }
        let history = a.history(&who).await.unwrap();
        let texts: Vec<String> = history.iter().map(|m| m.text.clone()).collect();
        assert_eq!(texts, (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(b.pending_count().await.unwrap(), 100);
        let (x, y) = tokio::join!(
            answer_all(a.clone(), who.clone()),
            answer_all(b.clone(), who.clone())
        );
        assert_eq!(x + y, 100);
        let replies: Vec<String> = a
            .outbox_of(&who)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.text)
            .collect();
        assert_eq!(
            replies,
            (0..100).map(|i| format!("re {i}")).collect::<Vec<_>>()
        );
        a.close().await.unwrap();
        b.close().await.unwrap();
    }

    /// A person's first messages reach both replicas at once, by user id and by number, and
    /// the two name each other in different orders: one contact, nothing lost, no deadlock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_first_messages_make_one_contact_each() {
        let Some((a, b)) = two("conv_contact").await else {
            return;
        };
        let mut tasks = Vec::new();
        for i in 0..30u32 {
            let user = WhatsappUserId::parse(&format!("AF.{:017}", 1000 + i % 3)).unwrap();
            let number = phone(100 + i % 3);
            let from = if i % 2 == 0 {
                number.clone()
            } else {
                ContactId::from(user.clone())
            };
            let profile = WhatsappProfile {
                user_id: Some(user),
                phone: number.phone().cloned(),
                name: None,
                username: None,
            };
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let m = whatsapp(&from, &format!("wamid.{i}"), profile);
            tasks.push(tokio::spawn(async move {
                store.accept_inbound(vec![m]).await.unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let contacts = a.contacts().await.unwrap();
        assert_eq!(contacts.len(), 3, "{contacts:?}");
        assert_eq!(a.pending_count().await.unwrap(), 30);
        for c in &contacts {
            assert_eq!(a.history(&c.id).await.unwrap().len(), 10);
            let number = ContactId::Phone(c.phone().unwrap().clone());
            assert_eq!(a.contact(&number).await.unwrap().unwrap().id, c.id);
        }
        a.close().await.unwrap();
        b.close().await.unwrap();
    }

    #[derive(Default)]
    struct Heard(std::sync::Mutex<Vec<ContactId>>);

    #[async_trait]
    impl IntakeSink for Heard {
        async fn wait_for_room(&self) {}
        fn stored(&self, phones: Vec<ContactId>) {
            self.0.lock().unwrap().extend(phones);
        }
    }

    impl Heard {
        async fn next(&self) -> Vec<ContactId> {
            for _ in 0..300 {
                let got = self.0.lock().unwrap().split_off(0);
                if !got.is_empty() {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Vec::new()
        }
    }

    /// The intake of one replica hears of what waited before it started, at once of what it
    /// accepted itself, and within its poll of what the other accepted; closing the store
    /// ends it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_intake_hears_what_another_replica_accepted() {
        let Some((a, b)) = two("conv_notify").await else {
            return;
        };
        a.accept_inbound(vec![sms(&phone(1), "SM-0", "before")])
            .await
            .unwrap();
        let heard = Arc::new(Heard::default());
        let (_stop, stop_rx) = tokio::sync::watch::channel(false);
        let task = {
            let (a, heard) = (a.clone(), heard.clone());
            tokio::spawn(async move {
                let disk = DiskWatch::new(&std::env::temp_dir(), 0);
                a.run_intake(heard, Arc::new(Metrics::new()), stop_rx, disk)
                    .await
            })
        };
        assert_eq!(heard.next().await, vec![phone(1)]);
        b.accept_inbound(vec![sms(&phone(2), "SM-1", "via b")])
            .await
            .unwrap();
        assert_eq!(heard.next().await, vec![phone(2)]);
        a.accept_inbound(vec![sms(&phone(3), "SM-2", "via a")])
            .await
            .unwrap();
        assert_eq!(
            heard.next().await,
            vec![phone(3)],
            "once, not again by the poll"
        );
        tokio::time::sleep(POLL * 2).await;
        assert_eq!(heard.next().await, Vec::<ContactId>::new());
        a.close().await.unwrap();
        let end = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(end, IntakeEnd::Stopped);
        b.close().await.unwrap();
    }

    /// While another replica's lease on a contact's oldest message runs, this one leaves the
    /// contact alone; once it ran out, this one takes over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn another_replicas_lease_keeps_this_one_off_until_it_runs_out() {
        let Some((a, _b)) = two("conv_lease").await else {
            return;
        };
        let who = phone(11);
        a.accept_inbound(vec![sms(&who, "SM-1", "one"), sms(&who, "SM-2", "two")])
            .await
            .unwrap();
        sqlx::query("UPDATE inbox SET leased_by = 'another', leased_until = $1")
            .bind(now_ms() as i64 + 60_000)
            .execute(a.pool())
            .await
            .unwrap();
        assert!(a.next_pending(&who).await.unwrap().is_none());
        sqlx::query("UPDATE inbox SET leased_until = 1")
            .execute(a.pool())
            .await
            .unwrap();
        let p = a.next_pending(&who).await.unwrap().expect("taken over");
        assert_eq!(p.message.text, "one");
        assert_eq!(
            a.next_pending(&who).await.unwrap().unwrap().message.text,
            "one"
        );
        assert_eq!(
            a.unanswered().await.unwrap(),
            BTreeSet::new(),
            "leased by this one"
        );
        a.close().await.unwrap();
    }
}
