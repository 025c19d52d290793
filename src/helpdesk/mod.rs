//! Tickets: who may see which. Opening and attaching happen in the processor's transaction.

pub mod figures;
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

/// What `user` may do on an open ticket they can see, as the store's rules decide it: a claim
/// is the claimant's (supervisors and admins may release, transfer or close it, but not reply
/// in someone else's name); an unclaimed ticket is anyone's. The pages show only these actions,
/// so nobody meets a button that fails after use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allowed {
    pub claim: bool,
    pub release: bool,
    pub reply: bool,
    pub transfer: bool,
    pub close: bool,
}

pub fn allowed(user: &User, ticket: &Ticket) -> Allowed {
    use crate::domain::TicketStatus;
    if ticket.status != TicketStatus::Open || !can_see(user, ticket) {
        return Allowed::default();
    }
    let overrides = matches!(user.role, Role::Supervisor | Role::Admin);
    match ticket.claimed_by.as_deref() {
        None => Allowed {
            claim: true,
            release: false,
            reply: true,
            transfer: true,
            close: true,
        },
        Some(holder) if holder == user.name => Allowed {
            claim: false,
            release: true,
            reply: true,
            transfer: true,
            close: true,
        },
        Some(_) => Allowed {
            claim: false,
            release: overrides,
            reply: false,
            transfer: overrides,
            close: overrides,
        },
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
    use crate::domain::TicketStatus;
    use crate::i18n::Lang;

    fn user(name: &str, role: Role) -> User {
        User {
            name: name.into(),
            role,
            languages: vec![Lang::Dari],
            password_hash: String::new(),
            created_at: 0,
            disabled: false,
        }
    }

    fn ticket(claimed_by: Option<&str>) -> Ticket {
        serde_json::from_value(serde_json::json!({
            "id": 7, "phone": "+6281200000001", "language": "fa-AF", "topic": "general",
            "status": "open", "opened_at": 0, "waiting_since": 0, "message_ids": [],
            "claimed_by": claimed_by,
        }))
        .unwrap()
    }

    #[test]
    fn only_actions_that_would_succeed_are_offered() {
        let ana = user("ana", Role::Interpreter);
        let sup = user("sup", Role::Supervisor);
        let free = allowed(&ana, &ticket(None));
        assert!(free.claim && free.reply && free.close && !free.release);
        let mine = allowed(&ana, &ticket(Some("ana")));
        assert!(!mine.claim && mine.reply && mine.release && mine.close && mine.transfer);
        let theirs = allowed(&ana, &ticket(Some("bo")));
        assert_eq!(theirs, Allowed::default(), "nothing but a note");
        let supervising = allowed(&sup, &ticket(Some("bo")));
        assert!(supervising.release && supervising.close && supervising.transfer);
        assert!(!supervising.reply && !supervising.claim);
        let mut closed = ticket(None);
        closed.status = TicketStatus::Closed;
        assert_eq!(allowed(&sup, &closed), Allowed::default());
        let mut other_language = ticket(None);
        other_language.language = Lang::Somali;
        assert_eq!(allowed(&ana, &other_language), Allowed::default());
    }

    fn user_with(role: Role, languages: Vec<Lang>) -> User {
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
        let somali = user_with(Role::Interpreter, vec![Lang::Somali]);
        let arabic = user_with(Role::Interpreter, vec![Lang::Arabic]);
        let staff = user_with(Role::Staff, vec![]);
        let supervisor = user_with(Role::Supervisor, vec![]);
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
