//! Who may do what: the one authorization matrix. Routes ask [`may`] (and [`can_see`] for a
//! single ticket) instead of listing roles themselves, so a role's rights are read and changed
//! in one place.

use crate::domain::{Role, Ticket, User};

/// Topics only supervisors (and admins) handle: voluntary return counselling, protection, and
/// requests to erase a person's data.
pub const RESTRICTED_TOPICS: &[&str] = &["return", "protection", "data-deletion"];

/// Something a signed-in user may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Work the ticket queue: claim, reply, note, transfer, close (tickets they can see).
    WorkTickets,
    /// Release, transfer or close a ticket someone else has claimed.
    OverrideClaims,
    /// Complete a data-deletion request by erasing the person.
    EraseData,
    /// Add and remove canned replies.
    ManageCanned,
    /// Draft, schedule and send broadcasts.
    Broadcast,
    /// Import payments and contacts, edit the service directory.
    ManageContacts,
    /// Read the outbox (what is queued, held, failed).
    SeeOutbox,
    /// The per-language figures.
    SeeFigures,
    /// Create, change and disable users.
    ManageUsers,
    /// Read the audit trail.
    SeeAudit,
    /// Download a backup of the data.
    Backup,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Permission::WorkTickets,
        Permission::OverrideClaims,
        Permission::EraseData,
        Permission::ManageCanned,
        Permission::Broadcast,
        Permission::ManageContacts,
        Permission::SeeOutbox,
        Permission::SeeFigures,
        Permission::ManageUsers,
        Permission::SeeAudit,
        Permission::Backup,
    ];
}

/// The matrix. Interpreters work tickets in their languages; supervisors work and oversee
/// every ticket; staff run broadcasts and contact data but see no conversations; admins may do
/// everything.
pub fn role_may(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::Supervisor => matches!(
            permission,
            WorkTickets | OverrideClaims | EraseData | ManageCanned | SeeOutbox | SeeFigures
        ),
        Role::Staff => matches!(
            permission,
            ManageCanned | Broadcast | ManageContacts | SeeOutbox
        ),
        Role::Interpreter => matches!(permission, WorkTickets),
    }
}

/// Whether `user` may do `permission` (a disabled user may do nothing).
pub fn may(user: &User, permission: Permission) -> bool {
    !user.disabled && role_may(user.role, permission)
}

/// Interpreters see tickets in their languages, except restricted topics; supervisors and
/// admins see everything; staff (broadcasts, contacts) see no conversations.
pub fn can_see(user: &User, ticket: &Ticket) -> bool {
    cannot_see_reason(user, ticket).is_none()
}

/// Why `user` could not see `ticket` (for refusing a transfer with a reason), or `None`.
pub fn cannot_see_reason(user: &User, ticket: &Ticket) -> Option<String> {
    if user.disabled {
        return Some(format!("{} is disabled", user.name));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Lang;
    use Permission::*;

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

    fn ticket(language: &str, topic: &str) -> Ticket {
        serde_json::from_value(serde_json::json!({
            "id": 1, "phone": "+6281200000001", "language": language, "topic": topic,
            "status": "open", "opened_at": 0, "waiting_since": null, "message_ids": [],
        }))
        .unwrap()
    }

    /// The matrix as the README describes the roles; a change to a role's rights shows here.
    #[test]
    fn each_role_may_do_exactly_its_part() {
        let expect = |role: Role, allowed: &[Permission]| {
            for p in Permission::ALL {
                assert_eq!(
                    may(&user(role, vec![Lang::Dari]), p),
                    allowed.contains(&p),
                    "{role:?} {p:?}"
                );
            }
        };
        expect(Role::Interpreter, &[WorkTickets]);
        expect(
            Role::Supervisor,
            &[
                WorkTickets,
                OverrideClaims,
                EraseData,
                ManageCanned,
                SeeOutbox,
                SeeFigures,
            ],
        );
        expect(
            Role::Staff,
            &[ManageCanned, Broadcast, ManageContacts, SeeOutbox],
        );
        expect(Role::Admin, &Permission::ALL);
    }

    #[test]
    fn a_disabled_user_may_do_nothing_and_sees_nothing() {
        let mut admin = user(Role::Admin, vec![]);
        admin.disabled = true;
        assert!(Permission::ALL.iter().all(|p| !may(&admin, *p)));
        assert!(!can_see(&admin, &ticket("so", "general")));
    }

    #[test]
    fn interpreters_see_their_languages_but_not_restricted_topics() {
        let somali = user(Role::Interpreter, vec![Lang::Somali]);
        assert!(can_see(&somali, &ticket("so", "general")));
        assert!(!can_see(&somali, &ticket("ar", "general")));
        for topic in RESTRICTED_TOPICS {
            assert!(!can_see(&somali, &ticket("so", topic)), "{topic}");
            assert!(can_see(
                &user(Role::Supervisor, vec![]),
                &ticket("so", topic)
            ));
        }
        assert!(!can_see(
            &user(Role::Staff, vec![Lang::Somali]),
            &ticket("so", "general")
        ));
    }

    /// The reason a transfer is refused agrees with what the queue shows.
    #[test]
    fn the_reason_agrees_with_can_see() {
        let somali = user(Role::Interpreter, vec![Lang::Somali]);
        let arabic = user(Role::Interpreter, vec![Lang::Arabic]);
        let staff = user(Role::Staff, vec![]);
        let supervisor = user(Role::Supervisor, vec![]);
        for topic in ["general", "return", "protection"] {
            let t = ticket("so", topic);
            for u in [&somali, &arabic, &staff, &supervisor] {
                assert_eq!(
                    cannot_see_reason(u, &t).is_none(),
                    can_see(u, &t),
                    "{topic} {:?}",
                    u.role
                );
            }
        }
        assert!(
            cannot_see_reason(&somali, &ticket("so", "return"))
                .unwrap()
                .contains("supervisors only")
        );
    }
}
