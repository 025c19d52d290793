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

/// Why `user` could not see `ticket` (for refusing a transfer with a reason), or `None`.
pub fn cannot_see_reason(user: &User, ticket: &Ticket) -> Option<String> {
    match user.role {
        Role::Admin | Role::Supervisor => None,
        Role::Staff => Some("staff do not work conversations".into()),
        Role::Interpreter if RESTRICTED_TOPICS.contains(&ticket.topic.as_str()) => Some(format!(
            "the topic {} is for supervisors only",
            ticket.topic
        )),
        Role::Interpreter if !user.languages.contains(&ticket.language) => Some(format!(
            "they do not work in {} (their languages: {})",
            ticket.language.english_name(),
            user.languages
                .iter()
                .map(|l| l.english_name())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Role::Interpreter => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn user(role: Role, languages: Vec<Lang>) -> User {
        User {
            name: "x".into(),
            role,
            languages,
            password_hash: String::new(),
            created_at: 0,
            disabled: false,
        }
    }

    /// The reason a transfer is refused agrees with what the queue shows.
    #[test]
    fn the_reason_agrees_with_can_see() {
        let mut ticket: Ticket = serde_json::from_value(serde_json::json!({
            "id": 1, "phone": "+6281200000001", "language": "so", "topic": "general",
            "status": "open", "opened_at": 0, "waiting_since": null, "message_ids": [],
            "urgent": false, "details": {}, "also": [], "claimed_by": null, "claimed_at": null,
            "first_response_at": null, "closed_at": null, "notes": []
        }))
        .unwrap();
        let somali = user(Role::Interpreter, vec![Lang::Somali]);
        let arabic = user(Role::Interpreter, vec![Lang::Arabic]);
        let staff = user(Role::Staff, vec![]);
        let supervisor = user(Role::Supervisor, vec![]);
        for topic in ["general", "return", "protection"] {
            ticket.topic = topic.into();
            for u in [&somali, &arabic, &staff, &supervisor] {
                assert_eq!(
                    cannot_see_reason(u, &ticket).is_none(),
                    can_see(u, &ticket),
                    "{topic} {:?}",
                    u.role
                );
            }
        }
        ticket.topic = "return".into();
        assert!(
            cannot_see_reason(&somali, &ticket)
                .unwrap()
                .contains("supervisors only")
        );
    }
}
