//! Ticket actions for the interpreter queue. Each action and its audit row are one transaction,
//! so the trail never misses an action that happened and never shows one that did not.

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::{Outgoing, Store, StoreError, TxResult, decode, keys, new_outbound, tx_get, tx_put};
use crate::domain::phone::PhoneNumber;
use crate::domain::*;
use crate::flow::Session;
use crate::i18n::Lang;

/// Why a ticket action was refused.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("there is no ticket {0}")]
    NotFound(u64),
    #[error("ticket {0} is closed")]
    Closed(u64),
    #[error("{0} is handling this ticket")]
    ClaimedBy(String),
    #[error("{0}")]
    Invalid(String),
    /// A transfer to someone who could not see the ticket (it would be stranded).
    #[error("{0}")]
    CannotSee(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TransactionError<TicketError>> for TicketError {
    fn from(e: TransactionError<TicketError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => TicketError::Store(StoreError::Sled(e)),
        }
    }
}

type TicketTx<T> = Result<T, ConflictableTransactionError<TicketError>>;

fn abort<T>(e: TicketError) -> TicketTx<T> {
    Err(ConflictableTransactionError::Abort(e))
}

/// Lifts the store's transactional helpers into ticket transactions.
fn lift<T>(r: TxResult<T>) -> TicketTx<T> {
    r.map_err(|e| match e {
        ConflictableTransactionError::Abort(e) => {
            ConflictableTransactionError::Abort(TicketError::Store(e))
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

/// Queues `text` from `user` to the ticket's person, on the channel they last used, inside the
/// action's transaction, and adds it to the ticket.
fn queue_to_person(
    tx: &TransactionalTree,
    t: &mut Ticket,
    message_id: u64,
    user: &str,
    text: &str,
    now: Millis,
) -> TicketTx<()> {
    let contact = lift(tx_get::<Contact>(tx, &keys::contact(&t.phone)))?;
    let channel = contact
        .as_ref()
        .and_then(|c| c.last_channel)
        .unwrap_or(Channel::TwilioSms);
    let reply = Outgoing {
        text: text.to_string(),
        interactive: None,
    };
    let (record, item) = new_outbound(
        message_id,
        &t.phone,
        channel,
        Author::User(user.to_string()),
        &reply,
        Some(t.language),
        now,
    );
    lift(tx_put(tx, &keys::message(message_id), &record))?;
    tx.insert(keys::history(&t.phone, message_id).as_bytes(), &[] as &[u8])?;
    lift(super::put_outbox(tx, &item, None))?;
    t.message_ids.push(message_id);
    Ok(())
}

/// Who acts on a ticket, and whether they may override someone else's claim (supervisors and
/// admins may; interpreters may not).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub overrides_claims: bool,
}

impl Actor<'_> {
    /// Inside the action's transaction: a ticket claimed by someone else is theirs. Checking
    /// here, not on an earlier read, means a claim that lands in between is never overridden.
    fn may_change(&self, t: &Ticket) -> TicketTx<()> {
        match &t.claimed_by {
            Some(other) if other != self.name && !self.overrides_claims => {
                abort(TicketError::ClaimedBy(other.clone()))
            }
            _ => Ok(()),
        }
    }
}

/// How long after closing a message from the person reopens the ticket for the same person.
pub const REOPEN_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;

impl Store {
    pub fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        self.get(&keys::ticket(id))
    }

    /// The ticket closed for `phone` within the last 24 hours, if any.
    pub fn recently_closed(
        &self,
        phone: &PhoneNumber,
        now: Millis,
    ) -> Result<Option<Ticket>, StoreError> {
        let Some(id) = self.get::<u64>(&keys::closed_ticket(phone))? else {
            return Ok(None);
        };
        Ok(self.ticket(id)?.filter(|t| {
            t.status == TicketStatus::Closed
                && t.closed_at
                    .is_some_and(|c| now.saturating_sub(c) < REOPEN_WINDOW_MS)
        }))
    }

    /// Runs `action` on ticket `id` in one transaction with its audit row.
    fn ticket_action<T>(
        &self,
        id: u64,
        user: &str,
        action: &str,
        action_fn: impl Fn(&TransactionalTree, &mut Ticket, Millis) -> TicketTx<(T, String)>,
    ) -> Result<T, TicketError> {
        let audit_id = self.next_id().map_err(StoreError::from)?;
        let now = now_ms();
        let out = self.tree.transaction(|tx| {
            let key = keys::ticket(id);
            let Some(mut ticket) = lift(tx_get::<Ticket>(tx, &key))? else {
                return abort(TicketError::NotFound(id));
            };
            let (value, detail) = action_fn(tx, &mut ticket, now)?;
            lift(tx_put(tx, &key, &ticket))?;
            let entry = AuditEntry {
                at: now,
                user: user.to_string(),
                action: action.to_string(),
                ticket: Some(id),
                detail,
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
    pub fn claim(&self, id: u64, user: &str) -> Result<Ticket, TicketError> {
        self.ticket_action(id, user, "claim", |_, t, now| {
            if t.status == TicketStatus::Closed {
                return abort(TicketError::Closed(id));
            }
            match &t.claimed_by {
                Some(other) if other != user => abort(TicketError::ClaimedBy(other.clone())),
                _ => {
                    t.claimed_by = Some(user.to_string());
                    t.claimed_at = Some(now);
                    Ok((t.clone(), String::new()))
                }
            }
        })
    }

    /// Gives a claimed ticket back to the queue (only its claimant or a supervisor).
    pub fn release(&self, id: u64, actor: Actor<'_>) -> Result<Ticket, TicketError> {
        self.ticket_action(id, actor.name, "release", |_, t, _| {
            actor.may_change(t)?;
            t.claimed_by = None;
            t.claimed_at = None;
            Ok((t.clone(), String::new()))
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
    ) -> Result<Ticket, TicketError> {
        if to_user.is_none() && to_language.is_none() {
            return Err(TicketError::Invalid(
                "say whom to transfer to: another person, another language, or both".into(),
            ));
        }
        let receiver = match to_user {
            Some(name) => match self.user(name)? {
                None => return Err(TicketError::Invalid(format!("there is no user {name:?}"))),
                Some(u) if u.disabled => {
                    return Err(TicketError::CannotSee(format!(
                        "{name} is disabled and cannot take tickets"
                    )));
                }
                Some(u) => Some(u),
            },
            None => None,
        };
        self.ticket_action(id, actor.name, "transfer", |_, t, now| {
            if t.status == TicketStatus::Closed {
                return abort(TicketError::Closed(id));
            }
            actor.may_change(t)?;
            let mut detail = Vec::new();
            if let Some(lang) = to_language {
                detail.push(format!("language {} -> {}", t.language, lang));
                t.language = lang;
            }
            // Checked on the ticket as it will be (the new language included), inside the
            // transaction, so the receiver can always open what they were given.
            if let Some(receiver) = &receiver {
                if let Some(reason) = crate::helpdesk::cannot_see_reason(receiver, t) {
                    return abort(TicketError::CannotSee(format!(
                        "{} cannot take this ticket: {reason}",
                        receiver.name
                    )));
                }
            }
            t.claimed_by = to_user.map(str::to_string);
            t.claimed_at = to_user.map(|_| now);
            detail.push(match to_user {
                Some(u) => format!("to {u}"),
                None => "back to the queue".into(),
            });
            Ok((t.clone(), detail.join(", ")))
        })
    }

    /// A private note on the ticket (never sent to the person).
    pub fn add_note(&self, id: u64, user: &str, text: &str) -> Result<Ticket, TicketError> {
        self.ticket_action(id, user, "note", |_, t, now| {
            t.notes.push(Note {
                at: now,
                author: user.to_string(),
                text: text.to_string(),
            });
            Ok((t.clone(), String::new()))
        })
    }

    /// A person's reply: queued on the channel the contact last used, added to the ticket.
    /// Replying to an unclaimed ticket claims it.
    pub fn reply(&self, id: u64, user: &str, text: &str) -> Result<u64, TicketError> {
        let message_id = self.next_id().map_err(StoreError::from)?;
        self.ticket_action(id, user, "reply", |tx, t, now| {
            if t.status == TicketStatus::Closed {
                return abort(TicketError::Closed(id));
            }
            if let Some(other) = t.claimed_by.as_ref().filter(|o| *o != user) {
                return abort(TicketError::ClaimedBy(other.clone()));
            }
            queue_to_person(tx, t, message_id, user, text, now)?;
            t.first_response_at.get_or_insert(now);
            t.waiting_since = None;
            if t.claimed_by.is_none() {
                t.claimed_by = Some(user.to_string());
                t.claimed_at = Some(now);
            }
            Ok((message_id, format!("message {message_id}")))
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
    ) -> Result<Ticket, TicketError> {
        let message_id = self.next_id().map_err(StoreError::from)?;
        let user = actor.name;
        self.ticket_action(id, user, "close", |tx, t, now| {
            if t.status == TicketStatus::Closed {
                return abort(TicketError::Closed(id));
            }
            actor.may_change(t)?;
            queue_to_person(tx, t, message_id, user, closing, now)?;
            t.status = TicketStatus::Closed;
            t.closed_at = Some(now);
            t.waiting_since = None;
            if t.claimed_by.is_none() {
                t.claimed_by = Some(user.to_string());
            }
            tx.remove(keys::open_ticket(&t.phone).as_bytes())?;
            lift(tx_put(tx, &keys::closed_ticket(&t.phone), &id))?;
            lift(tx_put(tx, &keys::session(&t.phone), session))?;
            Ok((t.clone(), String::new()))
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

    /// Starts a browser session for `user`; returns (session token, CSRF token).
    pub fn create_web_session(
        &self,
        user: &str,
        token_hash: &str,
        csrf: &str,
    ) -> Result<(), StoreError> {
        let session = WebSession {
            user: user.to_string(),
            csrf: csrf.to_string(),
            expires_at: now_ms() + crate::web::auth::SESSION_MS,
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
