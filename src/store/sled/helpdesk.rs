//! Ticket actions for the interpreter queue. Each action and its audit row are one transaction,
//! so the trail never misses an action that happened and never shows one that did not.

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::{Outgoing, Store, StoreError, TxResult, decode, keys, new_outbound, tx_get, tx_put};
use crate::domain::ContactId;
use crate::domain::*;
use crate::flow::Session;
use crate::i18n::Lang;

use crate::helpdesk::rules::{self, Change};
pub use crate::helpdesk::rules::{Actor, REOPEN_WINDOW_MS, TicketError};

impl From<StoreError> for TicketError {
    fn from(e: StoreError) -> Self {
        TicketError::Store(Box::new(e))
    }
}

impl From<TransactionError<TicketError>> for TicketError {
    fn from(e: TransactionError<TicketError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e).into(),
        }
    }
}

type TicketTx<T> = Result<T, ConflictableTransactionError<TicketError>>;

fn abort<T>(e: TicketError) -> TicketTx<T> {
    Err(ConflictableTransactionError::Abort(e))
}

/// A rule's refusal aborts the transaction.
fn ruled<T>(r: Result<T, TicketError>) -> TicketTx<T> {
    r.map_err(ConflictableTransactionError::Abort)
}

/// Lifts the store's transactional helpers into ticket transactions.
fn lift<T>(r: TxResult<T>) -> TicketTx<T> {
    r.map_err(|e| match e {
        ConflictableTransactionError::Abort(e) => {
            ConflictableTransactionError::Abort(TicketError::from(e))
        }
        ConflictableTransactionError::Conflict => ConflictableTransactionError::Conflict,
        ConflictableTransactionError::Storage(e) => ConflictableTransactionError::Storage(e),
    })
}

/// A browser login.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct WebSession {
    pub user: String,
    pub csrf: String,
    pub expires_at: Millis,
}

/// Queues `text` from `user` to the ticket's person as message `message_id`, on the channel
/// they last used, inside the action's transaction.
fn queue_to_person(
    tx: &TransactionalTree,
    t: &Ticket,
    message_id: u64,
    user: &str,
    text: &str,
    now: Millis,
) -> TicketTx<()> {
    let contact = lift(tx_get::<Contact>(tx, &keys::contact(&t.contact)))?;
    let reply = Outgoing {
        text: text.to_string(),
        interactive: None,
    };
    let (record, item) = new_outbound(
        message_id,
        &t.contact,
        rules::reply_channel(contact.as_ref()),
        Author::User(user.to_string()),
        &reply,
        Some(t.language),
        now,
    );
    lift(tx_put(tx, &keys::message(message_id), &record))?;
    tx.insert(
        keys::history(&t.contact, message_id).as_bytes(),
        &[] as &[u8],
    )?;
    lift(super::put_outbox(tx, &item, None))?;
    Ok(())
}

impl Store {
    pub fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        self.get(&keys::ticket(id))
    }

    /// The ticket closed for `phone` within the last 24 hours, if any.
    pub fn recently_closed(
        &self,
        phone: &ContactId,
        now: Millis,
    ) -> Result<Option<Ticket>, StoreError> {
        let Some(id) = self.get::<u64>(&keys::closed_ticket(phone))? else {
            return Ok(None);
        };
        Ok(self.ticket(id)?.filter(|t| rules::reopenable(t, now)))
    }

    /// Runs `rule` on ticket `id`, as loaded inside one transaction, and writes the ticket it
    /// returns with its audit row (at `now`). `rule` may write more rows with `tx`.
    fn ticket_action<T>(
        &self,
        id: u64,
        user: &str,
        action: &str,
        now: Millis,
        rule: impl Fn(&TransactionalTree, Ticket) -> TicketTx<(T, Change)>,
    ) -> Result<T, TicketError> {
        let audit_id = self.next_id().map_err(StoreError::from)?;
        let out = self.tree.transaction(|tx| {
            let key = keys::ticket(id);
            let Some(ticket) = lift(tx_get::<Ticket>(tx, &key))? else {
                return abort(TicketError::NotFound(id));
            };
            let (value, change) = rule(tx, ticket)?;
            lift(tx_put(tx, &key, &change.ticket))?;
            let entry = AuditEntry {
                at: now,
                user: user.to_string(),
                action: action.to_string(),
                ticket: Some(id),
                detail: change.detail,
            };
            lift(tx_put(tx, &keys::audit(now, audit_id), &entry))?;
            Ok(value)
        })?;
        Ok(out)
    }

    /// Records that `user` looked at a ticket (the audit trail shows who viewed what).
    pub fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<u64>,
        detail: &str,
    ) -> Result<(), StoreError> {
        let id = self.next_id()?;
        let now = now_ms();
        let entry = AuditEntry {
            at: now,
            user: user.to_string(),
            action: action.to_string(),
            ticket,
            detail: detail.to_string(),
        };
        self.tree
            .insert(keys::audit(now, id).as_bytes(), super::encode(&entry)?)?;
        Ok(())
    }

    /// The audit trail, newest first, at most `limit` rows.
    /// The newest `limit` audit rows that `keep` accepts, newest first.
    pub fn audit_search(
        &self,
        keep: impl Fn(&AuditEntry) -> bool,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut rows = Vec::new();
        for kv in self.tree.scan_prefix(b"au/").rev() {
            let (k, v) = kv?;
            let entry: AuditEntry = decode(&k, &v)?;
            if keep(&entry) {
                rows.push(entry);
                if rows.len() >= limit {
                    break;
                }
            }
        }
        Ok(rows)
    }

    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.tree
            .scan_prefix(b"au/")
            .rev()
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                decode(&k, &v)
            })
            .collect()
    }

    /// Takes a ticket. Of two interpreters claiming at once exactly one wins; the other learns
    /// who has it.
    pub fn claim(&self, id: u64, user: &str, now: Millis) -> Result<Ticket, TicketError> {
        self.ticket_action(id, user, "claim", now, |_, t| {
            let change = ruled(rules::claim(t, user, now))?;
            Ok((change.ticket.clone(), change))
        })
    }

    /// Gives a claimed ticket back to the queue (only its claimant or a supervisor).
    pub fn release(&self, id: u64, actor: Actor<'_>, now: Millis) -> Result<Ticket, TicketError> {
        self.ticket_action(id, actor.name, "release", now, |_, t| {
            let change = ruled(rules::release(t, actor))?;
            Ok((change.ticket.clone(), change))
        })
    }

    /// Hands a ticket to another interpreter and/or another language's queue (only its
    /// claimant, or a supervisor, if it is claimed).
    pub fn transfer(
        &self,
        id: u64,
        actor: Actor<'_>,
        to_user: Option<&str>,
        to_language: Option<Lang>,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        rules::transfer_wanted(to_user, to_language)?;
        let receiver = match to_user {
            Some(name) => Some(rules::receiver(name, self.user(name)?)?),
            None => None,
        };
        self.ticket_action(id, actor.name, "transfer", now, |_, t| {
            let change = ruled(rules::transfer(
                t,
                actor,
                receiver.as_ref(),
                to_language,
                now,
            ))?;
            Ok((change.ticket.clone(), change))
        })
    }

    /// A private note on the ticket (never sent to the person).
    pub fn add_note(
        &self,
        id: u64,
        user: &str,
        text: &str,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        self.ticket_action(id, user, "note", now, |_, t| {
            let change = rules::note(t, user, text, now);
            Ok((change.ticket.clone(), change))
        })
    }

    /// A person's reply: queued on the channel the contact last used, added to the ticket.
    /// Replying to an unclaimed ticket claims it.
    pub fn reply(&self, id: u64, user: &str, text: &str, now: Millis) -> Result<u64, TicketError> {
        let message_id = self.next_id().map_err(StoreError::from)?;
        self.ticket_action(id, user, "reply", now, |tx, t| {
            let change = ruled(rules::reply(t, user, message_id, now))?;
            queue_to_person(tx, &change.ticket, message_id, user, text, now)?;
            Ok((message_id, change))
        })
    }

    /// Closes a ticket: the person gets `closing` (localized), the bot takes over again with
    /// `session`, and a message within 24 hours reopens it for the same interpreter.
    pub fn close_ticket(
        &self,
        id: u64,
        actor: Actor<'_>,
        closing: &str,
        session: &Session,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        let message_id = self.next_id().map_err(StoreError::from)?;
        self.ticket_action(id, actor.name, "close", now, |tx, t| {
            let change = ruled(rules::close(t, actor, message_id, now))?;
            let t = &change.ticket;
            queue_to_person(tx, t, message_id, actor.name, closing, now)?;
            tx.remove(keys::open_ticket(&t.contact).as_bytes())?;
            lift(tx_put(tx, &keys::closed_ticket(&t.contact), &id))?;
            lift(tx_put(tx, &keys::session(&t.contact), session))?;
            Ok((change.ticket.clone(), change))
        })
    }

    /// How many of a ticket's messages `user` has seen.
    pub fn seen(&self, user: &str, ticket: u64) -> Result<usize, StoreError> {
        Ok(self.get::<usize>(&keys::seen(user, ticket))?.unwrap_or(0))
    }

    pub fn mark_seen(&self, user: &str, ticket: u64, count: usize) -> Result<(), StoreError> {
        self.tree
            .insert(keys::seen(user, ticket).as_bytes(), super::encode(&count)?)?;
        Ok(())
    }

    // ---- browser sessions ----

    /// Starts a browser session for `user`, live until `expires_at`.
    pub fn create_web_session(
        &self,
        user: &str,
        token_hash: &str,
        csrf: &str,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let session = WebSession {
            user: user.to_string(),
            csrf: csrf.to_string(),
            expires_at,
        };
        self.tree.insert(
            keys::web_session(token_hash).as_bytes(),
            super::encode(&session)?,
        )?;
        Ok(())
    }

    /// The live session with this token hash.
    pub fn web_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<WebSession>, StoreError> {
        let key = keys::web_session(token_hash);
        match self.get::<WebSession>(&key)? {
            Some(s) if s.expires_at > now => Ok(Some(s)),
            Some(_) => {
                self.tree.remove(key.as_bytes())?;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    pub fn end_web_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.tree.remove(keys::web_session(token_hash).as_bytes())?;
        Ok(())
    }

    // ---- canned replies ----

    pub fn canned_replies(&self, language: Option<Lang>) -> Result<Vec<CannedReply>, StoreError> {
        let prefix = match language {
            Some(l) => format!("cr/{}/", l.tag()),
            None => "cr/".to_string(),
        };
        self.scan(&prefix)
    }

    pub fn add_canned(
        &self,
        language: Lang,
        title: &str,
        text: &str,
    ) -> Result<CannedReply, StoreError> {
        let reply = CannedReply {
            id: self.next_id()?,
            language,
            title: title.to_string(),
            text: text.to_string(),
        };
        self.tree.insert(
            keys::canned(language, reply.id).as_bytes(),
            super::encode(&reply)?,
        )?;
        Ok(reply)
    }

    /// Adds a canned reply and its audit row in one transaction: both or neither.
    pub fn add_canned_audited(
        &self,
        language: Lang,
        title: &str,
        text: &str,
        user: &str,
    ) -> Result<CannedReply, StoreError> {
        let reply = CannedReply {
            id: self.next_id()?,
            language,
            title: title.to_string(),
            text: text.to_string(),
        };
        let audit = self.audit_entry(
            user,
            "canned-add",
            None,
            &format!("{} {language}", reply.id),
        )?;
        self.tree
            .transaction(|tx| {
                tx_put(tx, &keys::canned(language, reply.id), &reply)?;
                tx_put(tx, &audit.0, &audit.1)?;
                Ok(())
            })
            .map_err(StoreError::from)?;
        Ok(reply)
    }

    /// Removes a canned reply and writes its audit row in one transaction.
    pub fn remove_canned_audited(&self, id: u64, user: &str) -> Result<bool, StoreError> {
        let audit = self.audit_entry(user, "canned-delete", None, &id.to_string())?;
        self.tree
            .transaction(|tx| {
                for lang in Lang::ALL {
                    if tx.remove(keys::canned(lang, id).as_bytes())?.is_some() {
                        tx_put(tx, &audit.0, &audit.1)?;
                        return Ok(true);
                    }
                }
                Ok(false)
            })
            .map_err(StoreError::from)
    }

    /// An audit row and its key, to write inside the transaction of the action it records.
    pub(super) fn audit_entry(
        &self,
        user: &str,
        action: &str,
        ticket: Option<u64>,
        detail: &str,
    ) -> Result<(String, AuditEntry), StoreError> {
        let id = self.next_id()?;
        let now = now_ms();
        Ok((
            keys::audit(now, id),
            AuditEntry {
                at: now,
                user: user.to_string(),
                action: action.to_string(),
                ticket,
                detail: detail.to_string(),
            },
        ))
    }

    pub fn remove_canned(&self, id: u64) -> Result<bool, StoreError> {
        for lang in Lang::ALL {
            if self
                .tree
                .remove(keys::canned(lang, id).as_bytes())?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
