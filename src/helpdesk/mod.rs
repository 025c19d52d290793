//! Tickets: who may see which. Opening and attaching happen in the processor's transaction.

pub mod hours;
pub mod oncall;

use crate::domain::{Role, Ticket, User};

/// Topics only supervisors (and admins) handle: voluntary return counselling, protection, and
/// requests to erase a person's data.
pub const RESTRICTED_TOPICS: &[&str] = &["return", "protection", "data-deletion"];

/// Interpreters see tickets in their languages, except restricted topics; supervisors and
/// admins see everything; staff (broadcasts, contacts) see no conversations.
pub fn can_see(user: &User, ticket: &Ticket) -> bool {
    match user.role {
        Role::Admin | Role::Supervisor => true,
        Role::Staff => false,
        Role::Interpreter => {
            user.languages.contains(&ticket.language)
                && !RESTRICTED_TOPICS.contains(&ticket.topic.as_str())
        }
    }
}

/// Something changed in the queue; browsers watching it refresh what concerns them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TicketEvent {
    pub ticket: u64,
    pub language: crate::i18n::Lang,
    /// "message", "claim", "release", "transfer", "reply", "note", "close".
    pub kind: &'static str,
}

/// The live feed of queue changes.
pub type Events = tokio::sync::broadcast::Sender<TicketEvent>;
