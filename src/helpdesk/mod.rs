//! The interpreters' desk: the ticket rules (`rules`), who may do what (`permissions`),
//! business hours and the on-call alerts. The rules are plain functions over values; the store
//! loads rows, calls them and writes the result in one transaction.

pub mod figures;
pub mod hours;
pub mod oncall;
pub mod permissions;
pub mod rules;

pub use permissions::{Permission, RESTRICTED_TOPICS, can_see, cannot_see_reason, may};

use crate::domain::{Ticket, User};

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
    let overrides = may(user, Permission::OverrideClaims);
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

/// Something changed in the queue; browsers watching it refresh what concerns them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TicketEvent {
    pub ticket: u64,
    pub language: crate::i18n::Lang,
    /// "message", "claim", "release", "transfer", "reply", "note", "close".
    pub kind: &'static str,
    /// Announced by another replica: pages show it, but what acts on an event once (the
    /// on-call alerts) leaves it to the replica where it happened.
    #[serde(skip)]
    pub relayed: bool,
}

/// Every kind a [`TicketEvent`] has (announcements from other replicas are read back into
/// one of these).
const EVENT_KINDS: &[&str] = &[
    "message", "claim", "release", "transfer", "reply", "note", "close",
];

/// A ticket event as replicas tell each other.
#[derive(serde::Serialize, serde::Deserialize)]
struct Announced {
    ticket: u64,
    language: crate::i18n::Lang,
    kind: String,
}

/// The live feed of queue changes: pages on this replica hear them at once, and the store
/// tells the other replicas (on PostgreSQL), whose pages hear them through
/// [`Events::heard_from_replica`].
#[derive(Clone)]
pub struct Events {
    local: tokio::sync::broadcast::Sender<TicketEvent>,
    store: crate::store::Store,
}

impl Events {
    pub fn new(store: crate::store::Store) -> Events {
        Events {
            local: tokio::sync::broadcast::channel(256).0,
            store,
        }
    }

    /// Tells every page watching, here and on the other replicas. Nobody watching is fine.
    pub fn send(&self, event: TicketEvent) {
        let announced = serde_json::to_string(&Announced {
            ticket: event.ticket,
            language: event.language,
            kind: event.kind.to_owned(),
        });
        let _ = self.local.send(event);
        if let (Ok(payload), Ok(runtime)) = (announced, tokio::runtime::Handle::try_current()) {
            let store = self.store.clone();
            runtime.spawn(async move {
                if let Err(e) = store.announce(crate::store::Topic::Ticket, &payload).await {
                    tracing::warn!(error = %e, "cannot tell the other replicas about a ticket");
                }
            });
        }
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<TicketEvent> {
        self.local.subscribe()
    }

    /// An event another replica announced: pages here hear it (it is not announced again).
    pub fn heard_from_replica(&self, payload: &str) {
        let Ok(a) = serde_json::from_str::<Announced>(payload) else {
            return;
        };
        let Some(kind) = EVENT_KINDS.iter().find(|k| **k == a.kind) else {
            return;
        };
        let _ = self.local.send(TicketEvent {
            ticket: a.ticket,
            language: a.language,
            kind,
            relayed: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Role, TicketStatus};
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
}
