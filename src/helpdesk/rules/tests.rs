//! The ticket rules without any storage: values in, values out.

use super::*;
use crate::domain::Role;

const HOUR: Millis = 3_600_000;
const T0: Millis = 1_800_000_000_000;

fn phone() -> ContactId {
    ContactId::parse("+6281200000001").unwrap()
}

fn ticket(claimed_by: Option<&str>) -> Ticket {
    Ticket {
        id: 7,
        contact: phone(),
        language: Lang::Dari,
        topic: "general".into(),
        status: TicketStatus::Open,
        opened_at: T0,
        waiting_since: Some(T0),
        message_ids: vec![1, 2],
        urgent: false,
        details: BTreeMap::new(),
        also: Vec::new(),
        claimed_by: claimed_by.map(str::to_string),
        claimed_at: claimed_by.map(|_| T0),
        first_response_at: None,
        closed_at: None,
        notes: Vec::new(),
    }
}

fn closed(at: Millis) -> Ticket {
    let mut t = ticket(Some("ana"));
    t.status = TicketStatus::Closed;
    t.closed_at = Some(at);
    t.waiting_since = None;
    t
}

fn user(name: &str, role: Role, languages: Vec<Lang>) -> User {
    User {
        name: name.into(),
        role,
        languages,
        password_hash: String::new(),
        created_at: 0,
        disabled: false,
    }
}

const ANA: Actor<'static> = Actor {
    name: "ana",
    overrides_claims: false,
};
const BEN: Actor<'static> = Actor {
    name: "ben",
    overrides_claims: false,
};
const BOSS: Actor<'static> = Actor {
    name: "boss",
    overrides_claims: true,
};

fn refused_by(r: Result<Change, TicketError>) -> String {
    match r {
        Err(TicketError::ClaimedBy(who)) => who,
        other => panic!("expected a refusal for someone's claim, got {other:?}"),
    }
}

#[test]
fn claim_takes_a_free_ticket_and_keeps_someone_elses() {
    let c = claim(ticket(None), "ana", T0 + 5).unwrap();
    assert_eq!(c.ticket.claimed_by.as_deref(), Some("ana"));
    assert_eq!(c.ticket.claimed_at, Some(T0 + 5));
    // Claiming one's own ticket again is harmless.
    assert!(claim(ticket(Some("ana")), "ana", T0).is_ok());
    assert_eq!(refused_by(claim(ticket(Some("ben")), "ana", T0)), "ben");
    assert!(matches!(
        claim(closed(T0), "ana", T0),
        Err(TicketError::Closed(7))
    ));
}

/// The race the review found: a page showed the ticket free, ana claimed it meanwhile, then
/// ben's release/transfer/close arrives. The rule runs on the ticket as loaded inside the
/// action's transaction, so it sees ana's claim and refuses instead of overriding it.
#[test]
fn release_transfer_and_close_recheck_the_claim_on_the_fresh_ticket() {
    let as_ben_saw_it = ticket(None);
    assert!(release(as_ben_saw_it.clone(), BEN).is_ok(), "free: anyone");
    let fresh = claim(as_ben_saw_it, "ana", T0).unwrap().ticket;
    assert_eq!(refused_by(release(fresh.clone(), BEN)), "ana");
    assert_eq!(
        refused_by(transfer(fresh.clone(), BEN, None, Some(Lang::Somali), T0)),
        "ana"
    );
    assert_eq!(refused_by(close(fresh.clone(), BEN, 99, T0)), "ana");
    // Supervisors may take a claimed ticket back, move it, or close it.
    let back = release(fresh.clone(), BOSS).unwrap().ticket;
    assert_eq!((back.claimed_by, back.claimed_at), (None, None));
    assert!(close(fresh, BOSS, 99, T0).is_ok());
}

#[test]
fn only_the_claimant_replies_and_a_reply_claims_a_free_ticket() {
    let c = reply(ticket(None), "ana", 42, T0 + HOUR).unwrap();
    assert_eq!(c.ticket.claimed_by.as_deref(), Some("ana"));
    assert_eq!(c.ticket.message_ids, vec![1, 2, 42]);
    assert_eq!(c.ticket.first_response_at, Some(T0 + HOUR));
    assert_eq!(c.ticket.waiting_since, None, "answered: nobody waits");
    assert_eq!(c.detail, "message 42");
    // The first response stays the first.
    let again = reply(c.ticket, "ana", 43, T0 + 2 * HOUR).unwrap();
    assert_eq!(again.ticket.first_response_at, Some(T0 + HOUR));
    // Not even a supervisor writes in someone else's name.
    let boss_reply = reply(ticket(Some("ana")), "boss", 44, T0);
    assert_eq!(refused_by(boss_reply), "ana");
    assert!(matches!(
        reply(closed(T0), "ana", 45, T0),
        Err(TicketError::Closed(7))
    ));
}

#[test]
fn close_queues_the_goodbye_and_keeps_a_claimant_for_the_reopen() {
    let c = close(ticket(None), ANA, 50, T0 + HOUR).unwrap();
    assert_eq!(c.ticket.status, TicketStatus::Closed);
    assert_eq!(c.ticket.closed_at, Some(T0 + HOUR));
    assert_eq!(c.ticket.claimed_by.as_deref(), Some("ana"));
    assert_eq!(c.ticket.message_ids.last(), Some(&50));
    assert_eq!(c.ticket.waiting_since, None);
    assert!(matches!(
        close(c.ticket, ANA, 51, T0),
        Err(TicketError::Closed(7))
    ));
}

#[test]
fn transfer_checks_the_receiver_can_see_the_ticket_as_it_will_be() {
    let somali = user("sam", Role::Interpreter, vec![Lang::Somali]);
    // Dari ticket to a Somali interpreter: refused, unless it moves to Somali too.
    assert!(matches!(
        transfer(ticket(None), ANA, Some(&somali), None, T0),
        Err(TicketError::CannotSee(_))
    ));
    let c = transfer(ticket(None), ANA, Some(&somali), Some(Lang::Somali), T0 + 1).unwrap();
    assert_eq!(c.ticket.language, Lang::Somali);
    assert_eq!(c.ticket.claimed_by.as_deref(), Some("sam"));
    assert_eq!(c.ticket.claimed_at, Some(T0 + 1));
    assert_eq!(c.detail, "language fa-AF -> so, to sam");
    // To another language's queue only: unclaimed there.
    let q = transfer(ticket(Some("ana")), ANA, None, Some(Lang::Arabic), T0).unwrap();
    assert_eq!(q.ticket.claimed_by, None);
    assert!(q.detail.ends_with("back to the queue"), "{}", q.detail);
    assert!(matches!(
        transfer(ticket(None), ANA, None, None, T0),
        Err(TicketError::Invalid(_))
    ));
    let mut restricted = ticket(None);
    restricted.topic = "protection".into();
    let dari = user("dara", Role::Interpreter, vec![Lang::Dari]);
    assert!(matches!(
        transfer(restricted, BOSS, Some(&dari), None, T0),
        Err(TicketError::CannotSee(_))
    ));
}

#[test]
fn a_receiver_must_exist_and_be_enabled() {
    assert!(matches!(
        receiver("nobody", None),
        Err(TicketError::Invalid(_))
    ));
    let mut off = user("off", Role::Interpreter, vec![Lang::Dari]);
    off.disabled = true;
    assert!(matches!(
        receiver("off", Some(off)),
        Err(TicketError::CannotSee(_))
    ));
    assert!(receiver("dara", Some(user("dara", Role::Interpreter, vec![]))).is_ok());
}

#[test]
fn notes_are_kept_in_order_with_their_author_and_time() {
    let c = note(ticket(Some("ben")), "ana", "called back", T0 + 3);
    let c = note(c.ticket, "ben", "no answer", T0 + 4);
    let notes: Vec<_> = c
        .ticket
        .notes
        .iter()
        .map(|n| (n.author.as_str(), n.text.as_str(), n.at))
        .collect();
    assert_eq!(
        notes,
        vec![("ana", "called back", T0 + 3), ("ben", "no answer", T0 + 4)]
    );
    assert_eq!(
        c.ticket.claimed_by.as_deref(),
        Some("ben"),
        "a note claims nothing"
    );
}

#[test]
fn replies_go_back_on_the_channel_the_person_last_used() {
    assert_eq!(reply_channel(None), Channel::TwilioSms);
    let mut contact = Contact::new(phone(), T0);
    assert_eq!(reply_channel(Some(&contact)), Channel::TwilioSms);
    contact.last_channel = Some(Channel::Whatsapp);
    assert_eq!(reply_channel(Some(&contact)), Channel::Whatsapp);
}

static PHONE: std::sync::LazyLock<ContactId> = std::sync::LazyLock::new(phone);

fn incoming<'a>(queued: &'a [u64], history: &'a [u64], now: Millis) -> Incoming<'a> {
    Incoming {
        phone: &PHONE,
        message: 10,
        queued,
        history,
        now,
    }
}

fn open_change(topic: &str, urgent: bool) -> TicketChange {
    TicketChange::Open {
        topic: topic.into(),
        language: Lang::Somali,
        urgent,
        details: BTreeMap::from([("case".to_string(), "123".to_string())]),
    }
}

#[test]
fn open_without_a_ticket_starts_one_with_the_conversation_so_far() {
    let m = incoming(&[11], &[3, 4, 10], T0 + 9);
    let TicketWrite::Opened(new) = apply_change(None, None, &open_change("cash", false), &m) else {
        panic!("a new ticket");
    };
    let t = new.numbered(12);
    assert_eq!(t.id, 12);
    assert_eq!(t.message_ids, vec![3, 4, 10, 11]);
    assert_eq!((t.opened_at, t.waiting_since), (T0 + 9, Some(T0 + 9)));
    assert_eq!((t.language, t.topic.as_str()), (Lang::Somali, "cash"));
    assert_eq!(t.details["case"], "123");
    assert_eq!(t.claimed_by, None);
}

#[test]
fn open_with_a_ticket_adds_to_it_and_notes_the_new_topic_once() {
    let m = incoming(&[11], &[], T0 + 9);
    let TicketWrite::Updated(t) =
        apply_change(Some(ticket(None)), None, &open_change("cash", false), &m)
    else {
        panic!("the open ticket");
    };
    assert_eq!(t.message_ids, vec![1, 2, 10, 11]);
    assert_eq!(t.also, vec!["cash".to_string()]);
    assert_eq!(t.topic, "general");
    assert_eq!(t.language, Lang::Dari, "the open ticket keeps its language");
    assert_eq!(
        t.waiting_since,
        Some(T0),
        "still waiting since the first ask"
    );
    let TicketWrite::Updated(t) = apply_change(Some(t), None, &open_change("cash", false), &m)
    else {
        panic!("the open ticket");
    };
    assert_eq!(t.also, vec!["cash".to_string()], "noted once");
}

#[test]
fn an_urgent_concern_takes_the_open_ticket_over() {
    let m = incoming(&[], &[], T0);
    let TicketWrite::Updated(t) = apply_change(
        Some(ticket(None)),
        None,
        &open_change("protection", true),
        &m,
    ) else {
        panic!("the open ticket");
    };
    assert!(t.urgent);
    assert_eq!(t.topic, "protection");
    assert_eq!(t.also, vec!["general".to_string()]);
}

#[test]
fn attach_adds_to_the_open_ticket_and_restarts_the_wait_only_if_answered() {
    let m = incoming(&[11], &[], T0 + HOUR);
    assert_eq!(
        apply_change(None, None, &TicketChange::Attach, &m),
        TicketWrite::Unchanged
    );
    let mut answered = ticket(Some("ana"));
    answered.waiting_since = None;
    let TicketWrite::Updated(t) = apply_change(Some(answered), None, &TicketChange::Attach, &m)
    else {
        panic!("the open ticket");
    };
    assert_eq!(t.message_ids, vec![1, 2, 10, 11]);
    assert_eq!(t.waiting_since, Some(T0 + HOUR));
    assert_eq!(
        apply_change(Some(ticket(None)), None, &TicketChange::None, &m),
        TicketWrite::Unchanged
    );
}

#[test]
fn reopen_within_a_day_goes_back_to_the_same_interpreter_and_not_after() {
    let closed_at = T0;
    let m23 = incoming(&[11], &[], closed_at + 23 * HOUR);
    let TicketWrite::Reopened(t) =
        apply_change(None, Some(closed(closed_at)), &TicketChange::Reopen, &m23)
    else {
        panic!("reopened");
    };
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.closed_at, None);
    assert_eq!(t.claimed_by.as_deref(), Some("ana"));
    assert_eq!(t.waiting_since, Some(closed_at + 23 * HOUR));
    assert_eq!(t.message_ids, vec![1, 2, 10, 11]);
    let m25 = incoming(&[11], &[], closed_at + 25 * HOUR);
    assert_eq!(
        apply_change(None, Some(closed(closed_at)), &TicketChange::Reopen, &m25),
        TicketWrite::Unchanged
    );
    assert!(reopenable(
        &closed(closed_at),
        closed_at + REOPEN_WINDOW_MS - 1
    ));
    assert!(!reopenable(
        &closed(closed_at),
        closed_at + REOPEN_WINDOW_MS
    ));
    assert!(
        !reopenable(&ticket(None), closed_at),
        "an open ticket is not reopened"
    );
}
