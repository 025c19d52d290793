//! The ticket rules, as plain functions over values: what opening, attaching to and reopening a
//! ticket does when a person writes, and what claiming, releasing, transferring, replying,
//! noting and closing do when staff act. Each takes the ticket as just loaded and `now`, and
//! returns the ticket to write (or why the action is refused) with the audit row's detail.
//!
//! A storage backend only loads the rows, calls the rule and writes what it returns, in one
//! transaction. Because the rule runs on the ticket loaded inside that transaction, a claim that
//! lands between an interpreter's page load and their click is always seen: nobody's claim is
//! overridden by an action decided on a stale read.

use std::collections::BTreeMap;

use crate::domain::{Channel, Contact, ContactId, Lang, Millis, Note, Ticket, TicketStatus, User};

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
    /// The storage failed; nothing was changed.
    #[error("{0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// How long after closing a message from the person reopens the ticket for the same person.
pub const REOPEN_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;

/// Who acts on a ticket, and whether they may override someone else's claim (supervisors and
/// admins may; interpreters may not).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub overrides_claims: bool,
}

impl<'a> Actor<'a> {
    pub fn of(user: &'a User) -> Actor<'a> {
        Actor {
            name: &user.name,
            overrides_claims: super::may(user, super::Permission::OverrideClaims),
        }
    }

    /// A ticket claimed by someone else is theirs, unless the actor may override claims.
    fn may_change(&self, t: &Ticket) -> Result<(), TicketError> {
        match &t.claimed_by {
            Some(other) if other != self.name && !self.overrides_claims => {
                Err(TicketError::ClaimedBy(other.clone()))
            }
            _ => Ok(()),
        }
    }
}

/// A staff action's result: the ticket to write and what its audit row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub ticket: Ticket,
    pub detail: String,
}

fn open_only(t: &Ticket) -> Result<(), TicketError> {
    if t.status == TicketStatus::Closed {
        return Err(TicketError::Closed(t.id));
    }
    Ok(())
}

/// Takes a ticket. A ticket claimed by someone else stays theirs (the caller learns who).
pub fn claim(mut t: Ticket, user: &str, now: Millis) -> Result<Change, TicketError> {
    open_only(&t)?;
    if let Some(other) = t.claimed_by.as_ref().filter(|o| *o != user) {
        return Err(TicketError::ClaimedBy(other.clone()));
    }
    t.claimed_by = Some(user.to_string());
    t.claimed_at = Some(now);
    Ok(Change {
        ticket: t,
        detail: String::new(),
    })
}

/// Gives a claimed ticket back to the queue (only its claimant or a supervisor).
pub fn release(mut t: Ticket, actor: Actor<'_>) -> Result<Change, TicketError> {
    actor.may_change(&t)?;
    t.claimed_by = None;
    t.claimed_at = None;
    Ok(Change {
        ticket: t,
        detail: String::new(),
    })
}

/// A transfer must say where to: another person, another language, or both.
pub fn transfer_wanted(
    to_user: Option<&str>,
    to_language: Option<Lang>,
) -> Result<(), TicketError> {
    if to_user.is_none() && to_language.is_none() {
        return Err(TicketError::Invalid(
            "say whom to transfer to: another person, another language, or both".into(),
        ));
    }
    Ok(())
}

/// The user a ticket is transferred to, as found by `name` (or why they cannot take it).
pub fn receiver(name: &str, found: Option<User>) -> Result<User, TicketError> {
    match found {
        None => Err(TicketError::Invalid(format!("there is no user {name:?}"))),
        Some(u) if u.disabled => Err(TicketError::CannotSee(format!(
            "{name} is disabled and cannot take tickets"
        ))),
        Some(u) => Ok(u),
    }
}

/// Hands a ticket to `receiver` and/or another language's queue (only its claimant, or a
/// supervisor, if it is claimed). The receiver must be able to see the ticket as it will be,
/// the new language included, so they can always open what they were given.
pub fn transfer(
    mut t: Ticket,
    actor: Actor<'_>,
    receiver: Option<&User>,
    to_language: Option<Lang>,
    now: Millis,
) -> Result<Change, TicketError> {
    transfer_wanted(receiver.map(|u| u.name.as_str()), to_language)?;
    open_only(&t)?;
    actor.may_change(&t)?;
    let mut detail = Vec::new();
    if let Some(lang) = to_language {
        detail.push(format!("language {} -> {}", t.language, lang));
        t.language = lang;
    }
    if let Some(receiver) = receiver
        && let Some(reason) = super::cannot_see_reason(receiver, &t)
    {
        return Err(TicketError::CannotSee(format!(
            "{} cannot take this ticket: {reason}",
            receiver.name
        )));
    }
    t.claimed_by = receiver.map(|u| u.name.clone());
    t.claimed_at = receiver.map(|_| now);
    detail.push(match receiver {
        Some(u) => format!("to {}", u.name),
        None => "back to the queue".into(),
    });
    Ok(Change {
        ticket: t,
        detail: detail.join(", "),
    })
}

/// A private note on the ticket (never sent to the person). Closed tickets take notes too.
pub fn note(mut t: Ticket, user: &str, text: &str, now: Millis) -> Change {
    t.notes.push(Note {
        at: now,
        author: user.to_string(),
        text: text.to_string(),
    });
    Change {
        ticket: t,
        detail: String::new(),
    }
}

/// A reply from `user` to the person, queued as message `message_id`. Only the claimant
/// replies (nobody writes in someone else's name, supervisors included); replying to an
/// unclaimed ticket claims it.
pub fn reply(
    mut t: Ticket,
    user: &str,
    message_id: u64,
    now: Millis,
) -> Result<Change, TicketError> {
    open_only(&t)?;
    if let Some(other) = t.claimed_by.as_ref().filter(|o| *o != user) {
        return Err(TicketError::ClaimedBy(other.clone()));
    }
    t.message_ids.push(message_id);
    t.first_response_at.get_or_insert(now);
    t.waiting_since = None;
    if t.claimed_by.is_none() {
        t.claimed_by = Some(user.to_string());
        t.claimed_at = Some(now);
    }
    Ok(Change {
        ticket: t,
        detail: format!("message {message_id}"),
    })
}

/// Closes a ticket; `closing_message` (the localized goodbye) is queued with it. The ticket
/// keeps its claimant (or takes the closer as one), so a reopen goes back to the same person.
pub fn close(
    mut t: Ticket,
    actor: Actor<'_>,
    closing_message: u64,
    now: Millis,
) -> Result<Change, TicketError> {
    open_only(&t)?;
    actor.may_change(&t)?;
    t.message_ids.push(closing_message);
    t.status = TicketStatus::Closed;
    t.closed_at = Some(now);
    t.waiting_since = None;
    if t.claimed_by.is_none() {
        t.claimed_by = Some(actor.name.to_string());
    }
    Ok(Change {
        ticket: t,
        detail: String::new(),
    })
}

/// Staff replies go back on the channel the person last wrote from; SMS when they never wrote
/// (a contact imported by staff).
pub fn reply_channel(contact: Option<&Contact>) -> Channel {
    contact
        .and_then(|c| c.last_channel)
        .unwrap_or(Channel::TwilioSms)
}

/// Whether a closed ticket is still within the reopen window at `now`.
pub fn reopenable(t: &Ticket, now: Millis) -> bool {
    t.status == TicketStatus::Closed
        && t.closed_at
            .is_some_and(|c| now.saturating_sub(c) < REOPEN_WINDOW_MS)
}

/// What a processed message does to the person's ticket, as the flow decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketChange {
    None,
    /// Add the message to the open ticket, if there is one.
    Attach,
    /// Open a ticket with this topic (with the conversation so far) or add to the open one.
    Open {
        topic: String,
        language: Lang,
        urgent: bool,
        details: BTreeMap<String, String>,
    },
    /// Reopen the contact's ticket closed less than a day ago (same interpreter).
    Reopen,
}

/// A ticket about to be opened; the store gives it its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    ticket: Ticket,
}

impl NewTicket {
    pub fn numbered(mut self, id: u64) -> Ticket {
        self.ticket.id = id;
        self.ticket
    }
}

/// The ticket side of one processed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketWrite {
    /// No ticket is concerned.
    Unchanged,
    /// The person's open ticket, updated.
    Updated(Ticket),
    /// The person's recently closed ticket, open again (it is their open ticket now).
    Reopened(Ticket),
    /// A new open ticket.
    Opened(NewTicket),
}

/// What one message from the person the flow handed to a human does to their tickets.
pub struct Incoming<'a> {
    pub phone: &'a ContactId,
    /// The person's message.
    pub message: u64,
    /// The bot's replies to it, queued with it.
    pub queued: &'a [u64],
    /// The conversation so far (a new ticket starts with it; it includes `message`).
    pub history: &'a [u64],
    pub now: Millis,
}

/// Open, attach, reopen. `open` is the person's open ticket and `closed` their last closed
/// one, both as loaded in the transaction that writes the result.
///
/// - Attach adds the message (and the replies) to the open ticket and starts its wait.
/// - Open adds to the open ticket when there is one: a new topic is noted in `also`, and an
///   urgent (protection) concern takes the ticket over, the old topic going to `also`. Without
///   an open ticket it opens one with the conversation so far.
/// - Reopen opens the closed ticket again, for the same interpreter, if it closed less than
///   [`REOPEN_WINDOW_MS`] ago.
pub fn apply_change(
    open: Option<Ticket>,
    closed: Option<Ticket>,
    change: &TicketChange,
    m: &Incoming<'_>,
) -> TicketWrite {
    let add_message = |t: &mut Ticket| {
        t.message_ids.push(m.message);
        t.message_ids.extend(m.queued);
    };
    match (change, open) {
        (TicketChange::None, _) | (TicketChange::Attach, None) => TicketWrite::Unchanged,
        (TicketChange::Reopen, Some(open)) => TicketWrite::Updated(open),
        (TicketChange::Reopen, None) => match closed.filter(|t| reopenable(t, m.now)) {
            Some(mut t) => {
                t.status = TicketStatus::Open;
                t.closed_at = None;
                t.waiting_since = Some(m.now);
                add_message(&mut t);
                TicketWrite::Reopened(t)
            }
            None => TicketWrite::Unchanged,
        },
        (TicketChange::Attach, Some(mut t)) => {
            add_message(&mut t);
            t.waiting_since.get_or_insert(m.now);
            TicketWrite::Updated(t)
        }
        (
            TicketChange::Open {
                topic,
                urgent,
                details,
                ..
            },
            Some(mut t),
        ) => {
            add_message(&mut t);
            t.waiting_since.get_or_insert(m.now);
            t.details.extend(details.clone());
            if *urgent && !t.urgent {
                // A protection concern takes the ticket over: it is what matters now.
                let previous = std::mem::replace(&mut t.topic, topic.clone());
                t.also.push(previous);
                t.urgent = true;
            } else if *topic != t.topic && !t.also.contains(topic) {
                t.also.push(topic.clone());
            }
            TicketWrite::Updated(t)
        }
        (
            TicketChange::Open {
                topic,
                language,
                urgent,
                details,
            },
            None,
        ) => {
            let mut message_ids = m.history.to_vec();
            message_ids.extend(m.queued);
            TicketWrite::Opened(NewTicket {
                ticket: Ticket {
                    id: 0,
                    contact: m.phone.clone(),
                    language: *language,
                    topic: topic.clone(),
                    status: TicketStatus::Open,
                    opened_at: m.now,
                    waiting_since: Some(m.now),
                    message_ids,
                    urgent: *urgent,
                    details: details.clone(),
                    also: Vec::new(),
                    claimed_by: None,
                    claimed_at: None,
                    first_response_at: None,
                    closed_at: None,
                    notes: Vec::new(),
                },
            })
        }
    }
}

#[cfg(test)]
mod tests;
