//! Tickets: who may see which. Opening and attaching happen in the processor's transaction.

pub mod hours;

use crate::domain::{Role, Ticket, User};

/// Topics only supervisors (and admins) handle: voluntary return counselling and protection.
pub const RESTRICTED_TOPICS: &[&str] = &["return", "protection"];

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
