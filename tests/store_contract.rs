//! The storage contract: what every backend behind `kabar::store::Store` must do, written once
//! against the port (never a backend's internals or keys) and run for each backend by one line
//! at the bottom (`contract!(name, factory)`). Each check asserts what a refugee, an interpreter
//! or staff would notice if a backend got it wrong: a lost or doubled message, replies out of
//! order, a ticket two interpreters both hold, a session that outlives its expiry, a broadcast
//! that reaches someone twice, an erased person still on file.
//!
//! A factory returns a fresh, empty store and whatever must live as long as it (a temporary
//! folder for sled; a PostgreSQL factory would create a schema from `KABAR_TEST_DATABASE_URL`).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kabar::broadcast::{self, Draft, DraftAudience, RecipientStatus, Routes, Status};
use kabar::disk::DiskWatch;
use kabar::domain::ContactId;
use kabar::domain::*;
use kabar::flow::Session;
use kabar::i18n::Lang;
use kabar::metrics::Metrics;
use kabar::store::{
    Actor, BroadcastError, IntakeEnd, IntakeSink, NewInbound, Outgoing, PendingInbound,
    REOPEN_WINDOW_MS, SledStore, StatusUpdate, StepOutcome, StepWrite, Store, StoreError,
    TicketChange, TicketError, UserChange,
};
use tokio::sync::watch;

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

/// A fresh, empty store and what must outlive it.
struct Fixture {
    store: Store,
    _keep: Box<dyn Any + Send>,
}

async fn open_sled(_check: &str) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let store: Store = Arc::new(SledStore::open(dir.path()).unwrap());
    Some(Fixture {
        store,
        _keep: Box::new(dir),
    })
}

/// A real PostgreSQL server from `KABAR_TEST_DATABASE_URL` (`.ci/run` starts one), one fresh
/// schema per check, named after it and left behind for a look after a failure. Without the
/// variable the checks are skipped with a message, unless `KABAR_REQUIRE_POSTGRES` says the
/// run must cover PostgreSQL (CI sets it, so a missing server fails instead of passing).
#[cfg(feature = "postgres")]
async fn open_postgres(check: &str) -> Option<Fixture> {
    use kabar::store::postgres::{DatabaseUrl, PgStore};
    let Ok(url) = std::env::var("KABAR_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("KABAR_REQUIRE_POSTGRES").is_none(),
            "KABAR_REQUIRE_POSTGRES is set but KABAR_TEST_DATABASE_URL is not"
        );
        eprintln!("skipped on PostgreSQL: set KABAR_TEST_DATABASE_URL=postgres://… to run it");
        return None;
    };
    let url = DatabaseUrl::new(url).expect("KABAR_TEST_DATABASE_URL");
    // PostgreSQL names are at most 63 bytes.
    let schema = format!("c_{check}");
    PgStore::drop_schema(&url, &schema)
        .await
        .expect("drop the schema of an earlier run");
    let store: Store = Arc::new(
        PgStore::connect(&url, Some(&schema))
            .await
            .expect("connect"),
    );
    Some(Fixture {
        store,
        _keep: Box::new(()),
    })
}

/// One `#[tokio::test]` per check for the backend `$backend`, each on a fresh store from
/// `$factory`. Adding a backend is one line: `contract!(postgres, open_postgres);`.
macro_rules! contract {
    ($backend:ident, $factory:ident) => {
        contract!(@checks $backend, $factory;
            intake_keeps_arrival_order_and_drops_provider_retries,
            apply_step_writes_session_contact_and_replies_together,
            outbox_accepted_updates_status_and_never_moves_backwards,
            outbox_retry_failed_reroute_and_held,
            tickets_claims_notes_replies_and_closing,
            accounts_users_tokens_and_web_sessions,
            directory_payments_and_contacts,
            broadcasts_from_draft_to_bulk_lane,
            erasure_removes_one_person_only,
            purge_removes_only_what_is_older_than_the_cutoff,
            a_whatsapp_user_id_and_a_number_are_one_person,
        );
    };
    (@checks $backend:ident, $factory:ident; $($check:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(fixture) = super::$factory(stringify!($check)).await else {
                        return;
                    };
                    super::checks::$check(&fixture.store).await;
                    fixture.store.close().await.unwrap();
                }
            )*
        }
    };
}

contract!(sled, open_sled);
#[cfg(feature = "postgres")]
contract!(postgres, open_postgres);

// ---------------------------------------------------------------------------------------------
// Shared helpers: inputs built as the app builds them
// ---------------------------------------------------------------------------------------------

fn phone(n: u32) -> ContactId {
    ContactId::parse(&format!("+62812{n:08}")).unwrap()
}

fn inbound(channel: Channel, from: &ContactId, external_id: &str, text: &str) -> NewInbound {
    NewInbound {
        profile: Default::default(),
        channel,
        from: from.clone(),
        text: text.to_string(),
        external_id: external_id.to_string(),
        media: None,
        unsupported: None,
    }
}

fn sms(from: &ContactId, external_id: &str, text: &str) -> NewInbound {
    inbound(Channel::TwilioSms, from, external_id, text)
}

fn reply(text: &str) -> Outgoing {
    Outgoing {
        text: text.to_string(),
        interactive: None,
    }
}

fn texts(messages: &[MessageRecord]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

fn outbox_texts(items: &[OutboxItem]) -> Vec<&str> {
    items.iter().map(|i| i.text.as_str()).collect()
}

fn ids(items: &[OutboxItem]) -> Vec<u64> {
    items.iter().map(|i| i.message_id).collect()
}

/// Hears which contacts the intake stored messages for, as the conversation layer does.
#[derive(Default)]
struct Collecting {
    heard: Mutex<Vec<ContactId>>,
}

#[async_trait]
impl IntakeSink for Collecting {
    async fn wait_for_room(&self) {}
    fn stored(&self, phones: Vec<ContactId>) {
        self.heard.lock().unwrap().extend(phones);
    }
}

/// The intake task, running as the server runs it, stopped through its watch channel.
struct RunningIntake {
    store: Store,
    sink: Arc<Collecting>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<IntakeEnd>,
}

impl RunningIntake {
    fn start(store: &Store) -> RunningIntake {
        let sink = Arc::new(Collecting::default());
        let (stop, stop_rx) = watch::channel(false);
        let task = {
            let store = store.clone();
            let sink: Arc<dyn IntakeSink> = sink.clone();
            tokio::spawn(async move {
                let disk = DiskWatch::new(&std::env::temp_dir(), 0);
                store
                    .run_intake(sink, Arc::new(Metrics::new()), stop_rx, disk)
                    .await
            })
        };
        RunningIntake {
            store: store.clone(),
            sink,
            stop,
            task,
        }
    }

    /// Accepts what one webhook carried and waits until the intake moved it into the store.
    async fn deliver(&self, messages: Vec<NewInbound>) {
        self.store.accept_inbound(messages).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), async {
            while self.store.intake_backlog().await.unwrap() > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the intake stores accepted messages");
    }

    /// Stops the intake; returns every contact the sink heard of.
    async fn stop(self) -> Vec<ContactId> {
        self.stop.send(true).unwrap();
        let end = tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the intake stops when asked")
            .unwrap();
        assert_eq!(end, IntakeEnd::Stopped);
        self.sink.heard.lock().unwrap().clone()
    }
}

/// Runs the intake over one webhook's messages.
async fn receive(store: &Store, messages: Vec<NewInbound>) -> Vec<ContactId> {
    let intake = RunningIntake::start(store);
    intake.deliver(messages).await;
    intake.stop().await
}

/// What the conversation layer writes for one answered message.
fn step(
    pending: &PendingInbound,
    replies: &[&str],
    ticket: TicketChange,
    session: Session,
) -> StepWrite {
    let mut contact = Contact::new(pending.message.contact.clone(), pending.message.created_at);
    contact.language = Some(Lang::Dari);
    contact.last_inbound_at = Some(pending.message.created_at);
    contact.last_channel = Some(pending.message.channel);
    StepWrite {
        session,
        contact,
        replies: replies.iter().map(|t| reply(t)).collect(),
        channel: pending.message.channel,
        ticket,
    }
}

/// Answers the oldest waiting message of `who`.
async fn answer(
    store: &Store,
    who: &ContactId,
    replies: &[&str],
    ticket: TicketChange,
) -> (PendingInbound, StepOutcome) {
    let pending = store
        .next_pending(who)
        .await
        .unwrap()
        .expect("a message is waiting");
    let outcome = store
        .apply_step(
            &pending,
            &step(&pending, replies, ticket, Session::default()),
            now_ms(),
        )
        .await
        .unwrap();
    (pending, outcome)
}

fn escalate(topic: &str) -> TicketChange {
    TicketChange::Open {
        topic: topic.to_string(),
        language: Lang::Dari,
        urgent: false,
        details: BTreeMap::new(),
    }
}

fn user(name: &str, role: Role) -> User {
    User {
        name: name.to_string(),
        role,
        languages: vec![Lang::Dari],
        // A PHC string as argon2 writes it (never checked by the store).
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        created_at: now_ms(),
        disabled: false,
    }
}

fn actor(name: &str) -> Actor<'_> {
    Actor {
        name,
        overrides_claims: false,
    }
}

fn supervisor(name: &str) -> Actor<'_> {
    Actor {
        name,
        overrides_claims: true,
    }
}

/// A token hash as the web layer stores it (hex of a SHA-256).
fn token_hash(seed: u8) -> String {
    format!("{seed:02x}").repeat(32)
}

fn import(csv: &str) -> Vec<kabar::import::ContactRow> {
    let parsed = kabar::import::parse_contacts(csv.as_bytes()).unwrap();
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    parsed.rows
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

mod checks {
    use super::*;

    /// Messages reach the store in arrival order per person; a provider retrying a webhook
    /// does not make the person's message count twice; each person's oldest is answered first.
    pub async fn intake_keeps_arrival_order_and_drops_provider_retries(store: &Store) {
        let (amina, bashir) = (phone(1), phone(2));
        let heard = receive(
            store,
            vec![
                sms(&amina, "SM-a1", "salam"),
                sms(&bashir, "SM-b1", "1"),
                sms(&amina, "SM-a2", "kai pul miayad?"),
                // Twilio retried the first webhook: same channel, same id.
                sms(&amina, "SM-a1", "salam"),
                // Another provider may reuse an id: that is a different message.
                inbound(Channel::Whatsapp, &bashir, "SM-a1", "2"),
                sms(&amina, "SM-a3", "tashakor"),
            ],
        )
        .await;
        let heard: BTreeSet<_> = heard.into_iter().collect();
        assert_eq!(heard, BTreeSet::from([amina.clone(), bashir.clone()]));

        let history = store.history(&amina).await.unwrap();
        assert_eq!(texts(&history), ["salam", "kai pul miayad?", "tashakor"]);
        assert!(
            history
                .iter()
                .all(|m| m.direction == Direction::In && m.status == MessageStatus::Received)
        );
        assert_eq!(texts(&store.history(&bashir).await.unwrap()), ["1", "2"]);

        assert_eq!(store.pending_count().await.unwrap(), 5);
        assert_eq!(
            store.contacts_with_pending().await.unwrap(),
            BTreeSet::from([amina.clone(), bashir.clone()])
        );

        for expected in ["salam", "kai pul miayad?", "tashakor"] {
            let pending = store.next_pending(&amina).await.unwrap().unwrap();
            assert_eq!(pending.message.text, expected);
            let outcome = store
                .apply_step(
                    &pending,
                    &step(&pending, &[], TicketChange::None, Session::default()),
                    now_ms(),
                )
                .await
                .unwrap();
            assert_eq!(outcome, StepOutcome::default());
        }
        assert!(store.next_pending(&amina).await.unwrap().is_none());
        assert_eq!(store.pending_count().await.unwrap(), 2);
        assert_eq!(
            store.contacts_with_pending().await.unwrap(),
            BTreeSet::from([bashir.clone()])
        );
        assert_eq!(
            store
                .next_pending(&bashir)
                .await
                .unwrap()
                .unwrap()
                .message
                .text,
            "1"
        );
        assert_eq!(store.intake_backlog().await.unwrap(), 0);
    }

    /// One answered message changes the session, the contact and the outbox together; the
    /// replies go out in the order the flow wrote them; a second worker applying the same
    /// message changes nothing.
    pub async fn apply_step_writes_session_contact_and_replies_together(store: &Store) {
        let amina = phone(1);
        receive(store, vec![sms(&amina, "SM-1", "salam")]).await;
        let pending = store.next_pending(&amina).await.unwrap().unwrap();
        let mut session = Session::default();
        session.vars.insert("city".into(), "Makassar".into());
        let write = step(
            &pending,
            &["Khush amadid", "1. Pul 2. Daftar UNHCR"],
            TicketChange::None,
            session.clone(),
        );
        let before = now_ms();
        let outcome = store.apply_step(&pending, &write, now_ms()).await.unwrap();
        assert_eq!(outcome.queued.len(), 2);
        assert_eq!(outcome.ticket, None);

        assert_eq!(store.session(&amina).await.unwrap(), session);
        let contact = store.contact(&amina).await.unwrap().unwrap();
        assert_eq!(contact.language, Some(Lang::Dari));
        assert_eq!(contact.last_channel, Some(Channel::TwilioSms));

        let outbox = store.outbox_of(&amina).await.unwrap();
        assert_eq!(
            outbox_texts(&outbox),
            ["Khush amadid", "1. Pul 2. Daftar UNHCR"]
        );
        assert_eq!(ids(&outbox), outcome.queued);
        assert!(outbox.iter().all(|i| i.to == amina
            && i.channel == Channel::TwilioSms
            && i.language == Some(Lang::Dari)
            && i.held.is_none()));
        assert_eq!(
            store.first_outbox_of(&amina).await.unwrap(),
            Some(outcome.queued[0])
        );
        assert_eq!(store.outbox_depth().await.unwrap(), 2);
        let (due, _) = store.due_outbox(now_ms() + 1, 10).await.unwrap();
        assert_eq!(ids(&due), outcome.queued);
        // Nothing is due before it was written.
        let (due_before, next) = store.due_outbox(before - 1, 10).await.unwrap();
        assert!(due_before.is_empty());
        assert!(next.is_some_and(|at| at >= before));

        let history = store.history(&amina).await.unwrap();
        assert_eq!(
            texts(&history),
            ["salam", "Khush amadid", "1. Pul 2. Daftar UNHCR"]
        );
        let directions: Vec<_> = history.iter().map(|m| m.direction).collect();
        assert_eq!(directions, [Direction::In, Direction::Out, Direction::Out]);
        assert!(
            history[1..]
                .iter()
                .all(|m| m.author == Author::Bot && m.status == MessageStatus::Queued)
        );

        // The same message applied again (a second worker): nothing doubles.
        let again = store.apply_step(&pending, &write, now_ms()).await.unwrap();
        assert!(again.queued.is_empty());
        assert_eq!(store.outbox_of(&amina).await.unwrap().len(), 2);
        assert_eq!(store.history(&amina).await.unwrap().len(), 3);
        assert_eq!(store.pending_count().await.unwrap(), 0);
    }

    /// The provider took the message: it leaves the outbox and its delivery reports arrive by
    /// the provider's id; a late "sent" never hides that it was delivered.
    pub async fn outbox_accepted_updates_status_and_never_moves_backwards(store: &Store) {
        let amina = phone(1);
        let author = Author::User("ina".into());
        let first = store
            .queue_message(
                &amina,
                Channel::TwilioSms,
                author.clone(),
                "Salam",
                Some(Lang::Dari),
            )
            .await
            .unwrap();
        let second = store
            .queue_message(
                &amina,
                Channel::TwilioSms,
                author,
                "Fardaa",
                Some(Lang::Dari),
            )
            .await
            .unwrap();
        let outbox = store.outbox_of(&amina).await.unwrap();
        assert_eq!(ids(&outbox), [first, second]);
        assert_eq!(store.first_outbox_of(&amina).await.unwrap(), Some(first));

        store
            .outbox_accepted(&outbox[0], "SM-out-1", MessageStatus::Accepted)
            .await
            .unwrap();
        assert_eq!(ids(&store.outbox_of(&amina).await.unwrap()), [second]);
        assert_eq!(store.first_outbox_of(&amina).await.unwrap(), Some(second));
        let (due, _) = store.due_outbox(now_ms() + 1, 10).await.unwrap();
        assert_eq!(ids(&due), [second]);
        let sent = store.message(first).await.unwrap().unwrap();
        assert_eq!(sent.status, MessageStatus::Accepted);
        assert_eq!(sent.external_id.as_deref(), Some("SM-out-1"));

        let delivered = store
            .update_status_by_external(
                Channel::TwilioSms,
                "SM-out-1",
                MessageStatus::Delivered,
                None,
            )
            .await
            .unwrap();
        assert!(
            matches!(&delivered, StatusUpdate::Updated(m) if m.id == first && m.status == MessageStatus::Delivered),
            "{delivered:?}"
        );
        let late = store
            .update_status_by_external(Channel::TwilioSms, "SM-out-1", MessageStatus::Sent, None)
            .await
            .unwrap();
        assert_eq!(late, StatusUpdate::Stale);
        assert_eq!(
            store.message(first).await.unwrap().unwrap().status,
            MessageStatus::Delivered
        );
        // The id belongs to one channel.
        assert_eq!(
            store
                .update_status_by_external(Channel::Whatsapp, "SM-out-1", MessageStatus::Read, None)
                .await
                .unwrap(),
            StatusUpdate::Unknown
        );
        assert_eq!(
            store
                .update_status_by_external(
                    Channel::TwilioSms,
                    "SM-nobody",
                    MessageStatus::Read,
                    None
                )
                .await
                .unwrap(),
            StatusUpdate::Unknown
        );
        // A status callback faster than the API's answer is not overwritten by it.
        let raced = store.outbox_of(&amina).await.unwrap().remove(0);
        store
            .outbox_accepted(&raced, "SM-out-2", MessageStatus::Accepted)
            .await
            .unwrap();
        store
            .update_status_by_external(
                Channel::TwilioSms,
                "SM-out-2",
                MessageStatus::Delivered,
                None,
            )
            .await
            .unwrap();
        store
            .outbox_accepted(&raced, "SM-out-2", MessageStatus::Accepted)
            .await
            .unwrap();
        assert_eq!(
            store.message(second).await.unwrap().unwrap().status,
            MessageStatus::Delivered
        );
        assert_eq!(store.outbox_depth().await.unwrap(), 0);
    }

    /// Retries wait until their time, failures are listed for staff, a reroute changes the
    /// channel of the queued message and its log, held messages wait until released.
    pub async fn outbox_retry_failed_reroute_and_held(store: &Store) {
        let (amina, bashir) = (phone(1), phone(2));
        let mut queued = Vec::new();
        for text in ["one", "two", "three"] {
            queued.push(
                store
                    .queue_message(
                        &amina,
                        Channel::TwilioWhatsapp,
                        Author::Bot,
                        text,
                        Some(Lang::Dari),
                    )
                    .await
                    .unwrap(),
            );
        }
        let items = store.outbox_of(&amina).await.unwrap();
        assert_eq!(outbox_texts(&items), ["one", "two", "three"]);

        // Retry "one" in a minute.
        let later = now_ms() + 60_000;
        let mut retry = items[0].clone();
        retry.attempts += 1;
        retry.next_attempt_at = later;
        retry.last_error = Some("503 from provider".into());
        store.outbox_retry(&retry).await.unwrap();
        let (due, next) = store.due_outbox(now_ms() + 1, 10).await.unwrap();
        assert!(!ids(&due).contains(&queued[0]), "not due before its time");
        assert_eq!(next, Some(later));
        let (due_then, _) = store.due_outbox(later, 10).await.unwrap();
        let retried = due_then
            .iter()
            .find(|i| i.message_id == queued[0])
            .expect("due at its time");
        assert_eq!(retried.attempts, 1);
        assert_eq!(retried.last_error.as_deref(), Some("503 from provider"));
        // Still queued for the person, and still first: order is kept.
        assert_eq!(
            store.first_outbox_of(&amina).await.unwrap(),
            Some(queued[0])
        );

        // "two" fails for good.
        store
            .outbox_failed(&items[1], "number unreachable")
            .await
            .unwrap();
        let failed = store.failed_messages().await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].id, queued[1]);
        assert_eq!(failed[0].status, MessageStatus::Failed);
        assert_eq!(failed[0].error.as_deref(), Some("number unreachable"));
        assert!(!ids(&store.outbox_of(&amina).await.unwrap()).contains(&queued[1]));

        // "three" goes by SMS instead.
        let mut rerouted = items[2].clone();
        rerouted.channel = Channel::TwilioSms;
        store
            .outbox_reroute(&rerouted, "outside the WhatsApp window: sent by SMS")
            .await
            .unwrap();
        let now_queued = store.outbox_of(&amina).await.unwrap();
        assert_eq!(ids(&now_queued), [queued[0], queued[2]]);
        assert_eq!(now_queued[1].channel, Channel::TwilioSms);
        let record = store.message(queued[2]).await.unwrap().unwrap();
        assert_eq!(record.channel, Channel::TwilioSms);
        assert_eq!(
            record.error.as_deref(),
            Some("outside the WhatsApp window: sent by SMS")
        );

        // A held message is never due until the person writes again.
        let held_id = store
            .queue_message(
                &bashir,
                Channel::Whatsapp,
                Author::Bot,
                "held",
                Some(Lang::Dari),
            )
            .await
            .unwrap();
        let mut held = store.outbox_of(&bashir).await.unwrap().remove(0);
        held.held = Some("outside the WhatsApp window, no template".into());
        store.outbox_retry(&held).await.unwrap();
        let far = now_ms() + 365 * 24 * 3_600_000;
        let (due, _) = store.due_outbox(far, 100).await.unwrap();
        assert!(!ids(&due).contains(&held_id));
        assert_eq!(ids(&store.outbox_of(&bashir).await.unwrap()), [held_id]);
        assert_eq!(store.release_held(&bashir).await.unwrap(), 1);
        let (due, _) = store.due_outbox(now_ms() + 1, 100).await.unwrap();
        assert!(ids(&due).contains(&held_id));
        assert!(store.outbox_of(&bashir).await.unwrap()[0].held.is_none());
        assert_eq!(store.release_held(&bashir).await.unwrap(), 0);

        // Cancelled (e.g. erased): gone from the outbox.
        store.outbox_cancelled(&held).await.unwrap();
        assert!(store.outbox_of(&bashir).await.unwrap().is_empty());
        assert_eq!(store.outbox_depth().await.unwrap(), 2);
    }

    /// An escalation opens a ticket with the conversation; one interpreter holds it at a time;
    /// only its holder or a supervisor changes it; every action is in the audit trail.
    pub async fn tickets_claims_notes_replies_and_closing(store: &Store) {
        let amina = phone(1);
        for (name, role) in [
            ("ina", Role::Interpreter),
            ("omar", Role::Interpreter),
            ("sam", Role::Supervisor),
        ] {
            store.create_user(&user(name, role), "admin").await.unwrap();
        }
        receive(
            store,
            vec![
                sms(&amina, "SM-1", "salam"),
                sms(&amina, "SM-2", "mikhaham ba kasi gap bezanam"),
            ],
        )
        .await;
        let (first, _) = answer(store, &amina, &["Khush amadid"], TicketChange::None).await;
        let (second, outcome) = answer(
            store,
            &amina,
            &["Yak tarjoman ba shoma gap mizanad"],
            escalate("human"),
        )
        .await;
        let (id, language) = outcome.ticket.expect("the escalation opened a ticket");
        assert_eq!(language, Lang::Dari);
        let ticket = store.open_ticket_of(&amina).await.unwrap().unwrap();
        assert_eq!(ticket.id, id);
        assert_eq!(ticket.status, TicketStatus::Open);
        assert_eq!(ticket.topic, "human");
        assert!(ticket.waiting_since.is_some());
        // The interpreter sees the conversation so far, including both messages.
        assert!(ticket.message_ids.contains(&first.message.id));
        assert!(ticket.message_ids.contains(&second.message.id));
        assert!(ticket.message_ids.contains(&outcome.queued[0]));
        assert_eq!(store.ticket(id).await.unwrap(), Some(ticket.clone()));
        assert_eq!(
            store
                .tickets()
                .await
                .unwrap()
                .iter()
                .map(|t| t.id)
                .collect::<Vec<_>>(),
            [id]
        );

        // Claims: the first wins, the second learns who has it.
        let claimed = store.claim(id, "ina", now_ms()).await.unwrap();
        assert_eq!(claimed.claimed_by.as_deref(), Some("ina"));
        let refused = store.claim(id, "omar", now_ms()).await.unwrap_err();
        assert!(
            matches!(&refused, TicketError::ClaimedBy(who) if who == "ina"),
            "{refused:?}"
        );
        for refused in [
            store
                .release(id, actor("omar"), now_ms())
                .await
                .unwrap_err(),
            store
                .transfer(id, actor("omar"), Some("omar"), None, now_ms())
                .await
                .unwrap_err(),
            store
                .close_ticket(
                    id,
                    actor("omar"),
                    "Khoda hafez",
                    &Session::default(),
                    now_ms(),
                )
                .await
                .unwrap_err(),
        ] {
            assert!(
                matches!(&refused, TicketError::ClaimedBy(who) if who == "ina"),
                "{refused:?}"
            );
        }
        let unchanged = store.ticket(id).await.unwrap().unwrap();
        assert_eq!(unchanged.claimed_by.as_deref(), Some("ina"));
        assert_eq!(unchanged.status, TicketStatus::Open);
        assert!(matches!(
            store.claim(9_999, "ina", now_ms()).await.unwrap_err(),
            TicketError::NotFound(9_999)
        ));

        // Notes stay private; replies are queued to the person.
        let noted = store
            .add_note(id, "ina", "calls back after Friday prayer", now_ms())
            .await
            .unwrap();
        assert_eq!(
            noted.notes.last().unwrap().text,
            "calls back after Friday prayer"
        );
        assert_eq!(noted.notes.last().unwrap().author, "ina");
        assert!(
            !outbox_texts(&store.outbox_of(&amina).await.unwrap())
                .contains(&"calls back after Friday prayer")
        );
        let reply_id = store
            .reply(id, "ina", "Salam, man Ina hastam", now_ms())
            .await
            .unwrap();
        let queued = store.outbox_of(&amina).await.unwrap();
        let item = queued
            .iter()
            .find(|i| i.message_id == reply_id)
            .expect("the interpreter's reply is in the outbox");
        assert_eq!(item.text, "Salam, man Ina hastam");
        assert_eq!(item.channel, Channel::TwilioSms);
        let record = store.message(reply_id).await.unwrap().unwrap();
        assert_eq!(record.author, Author::User("ina".into()));
        let replied = store.ticket(id).await.unwrap().unwrap();
        assert!(replied.message_ids.contains(&reply_id));
        assert!(replied.first_response_at.is_some());
        assert!(replied.waiting_since.is_none());
        assert!(matches!(
            store
                .reply(id, "omar", "me too", now_ms())
                .await
                .unwrap_err(),
            TicketError::ClaimedBy(_)
        ));

        // What each interpreter has seen.
        assert_eq!(store.seen("ina", id).await.unwrap(), 0);
        store.mark_seen("ina", id, 5).await.unwrap();
        assert_eq!(store.seen("ina", id).await.unwrap(), 5);
        assert_eq!(store.seen("omar", id).await.unwrap(), 0);

        // A supervisor may move a claimed ticket.
        let moved = store
            .transfer(id, supervisor("sam"), Some("omar"), None, now_ms())
            .await
            .unwrap();
        assert_eq!(moved.claimed_by.as_deref(), Some("omar"));
        assert!(matches!(
            store
                .close_ticket(id, actor("ina"), "Khoda hafez", &Session::default(), now_ms())
                .await
                .unwrap_err(),
            TicketError::ClaimedBy(who) if who == "omar"
        ));

        // Closing: the person gets the closing text, the ticket is no longer open, and for a
        // day a new message may reopen it.
        let closed = store
            .close_ticket(
                id,
                actor("omar"),
                "Khoda hafez",
                &Session::default(),
                now_ms(),
            )
            .await
            .unwrap();
        assert_eq!(closed.status, TicketStatus::Closed);
        let closed_at = closed.closed_at.expect("closed_at is set");
        assert!(store.open_ticket_of(&amina).await.unwrap().is_none());
        assert!(outbox_texts(&store.outbox_of(&amina).await.unwrap()).contains(&"Khoda hafez"));
        assert_eq!(
            store
                .recently_closed(&amina, closed_at + 1)
                .await
                .unwrap()
                .map(|t| t.id),
            Some(id)
        );
        assert!(
            store
                .recently_closed(&amina, closed_at + REOPEN_WINDOW_MS)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .recently_closed(&phone(2), closed_at + 1)
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            store
                .close_ticket(
                    id,
                    supervisor("sam"),
                    "again",
                    &Session::default(),
                    now_ms()
                )
                .await
                .unwrap_err(),
            TicketError::Closed(_)
        ));

        // The audit trail: newest first, refused attempts leave no row.
        store.audit("sam", "view", Some(id), "").await.unwrap();
        let trail: Vec<_> = store
            .audit_search(Box::new(move |e| e.ticket == Some(id)), 50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.user))
            .collect();
        let expected = [
            ("view", "sam"),
            ("close", "omar"),
            ("transfer", "sam"),
            ("reply", "ina"),
            ("note", "ina"),
            ("claim", "ina"),
        ];
        assert_eq!(trail, expected.map(|(a, u)| (a.to_string(), u.to_string())));
        let by_sam = store
            .audit_search(Box::new(|e| e.user == "sam"), 50)
            .await
            .unwrap();
        assert_eq!(
            by_sam.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["view", "transfer"]
        );
        let newest = store
            .audit_search(Box::new(move |e| e.ticket == Some(id)), 1)
            .await
            .unwrap();
        assert_eq!(newest.len(), 1);
        assert_eq!(newest[0].action, "view");
        let log = store.audit_log(2).await.unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].action, "view");
        assert!(log[0].at >= log[1].at);
    }

    /// Staff accounts: a name is taken once; changes stick; a disabled user's token stops
    /// working; a revoked token and an expired or ended session let nobody in.
    pub async fn accounts_users_tokens_and_web_sessions(store: &Store) {
        store
            .create_user(&user("admin", Role::Admin), "setup")
            .await
            .unwrap();
        store
            .create_user(&user("ina", Role::Interpreter), "admin")
            .await
            .unwrap();
        let duplicate = store
            .create_user(&user("ina", Role::Admin), "admin")
            .await
            .unwrap_err();
        assert!(
            matches!(duplicate, StoreError::Conflict(_)),
            "{duplicate:?}"
        );
        assert_eq!(
            store.user("ina").await.unwrap().unwrap().role,
            Role::Interpreter
        );
        let mut names: Vec<_> = store
            .users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        names.sort();
        assert_eq!(names, ["admin", "ina"]);
        assert!(store.user("nobody").await.unwrap().is_none());

        let change = UserChange {
            languages: Some(vec![Lang::Dari, Lang::Farsi]),
            role: Some(Role::Supervisor),
            ..UserChange::default()
        };
        let changed = store
            .update_user("ina", &change, "admin")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(changed.languages, [Lang::Dari, Lang::Farsi]);
        assert_eq!(changed.role, Role::Supervisor);
        assert_eq!(store.user("ina").await.unwrap(), Some(changed));
        assert!(
            store
                .update_user("nobody", &change, "admin")
                .await
                .unwrap()
                .is_none()
        );
        // The last admin cannot be demoted (nobody could manage accounts any more).
        let demote = UserChange {
            role: Some(Role::Staff),
            ..UserChange::default()
        };
        assert!(matches!(
            store
                .update_user("admin", &demote, "admin")
                .await
                .unwrap_err(),
            StoreError::Conflict(_)
        ));
        assert_eq!(
            store.user("admin").await.unwrap().unwrap().role,
            Role::Admin
        );

        // API tokens.
        let (hash, other) = (token_hash(0xab), token_hash(0xcd));
        let token = store.create_token(&hash, "ina", "admin").await.unwrap();
        assert_eq!(token.user, "ina");
        assert_eq!(token.created_by.as_deref(), Some("admin"));
        assert_eq!(store.token_user(&hash).await.unwrap().unwrap().name, "ina");
        assert!(store.token_user(&other).await.unwrap().is_none());
        assert!(
            store
                .tokens()
                .await
                .unwrap()
                .iter()
                .any(|t| t.id == token.id)
        );
        let revoked = store.revoke_token(&token.id, "admin").await.unwrap();
        assert_eq!(revoked.map(|t| t.user), Some("ina".to_string()));
        assert!(store.token_user(&hash).await.unwrap().is_none());
        assert!(
            store
                .tokens()
                .await
                .unwrap()
                .iter()
                .all(|t| t.id != token.id)
        );
        assert!(
            store
                .revoke_token(&token.id, "admin")
                .await
                .unwrap()
                .is_none()
        );

        // Disabling a user stops their tokens at once.
        store.create_token(&other, "ina", "admin").await.unwrap();
        assert!(store.token_user(&other).await.unwrap().is_some());
        let disable = UserChange {
            disabled: Some(true),
            ..UserChange::default()
        };
        let disabled = store
            .update_user("ina", &disable, "admin")
            .await
            .unwrap()
            .unwrap();
        assert!(disabled.disabled);
        assert!(store.token_user(&other).await.unwrap().is_none());

        // Browser sessions.
        let (session, ended) = (token_hash(0x01), token_hash(0x02));
        store
            .create_web_session(
                "admin",
                &session,
                "csrf-1",
                now_ms() + kabar::web::auth::SESSION_MS,
            )
            .await
            .unwrap();
        store
            .create_web_session(
                "admin",
                &ended,
                "csrf-2",
                now_ms() + kabar::web::auth::SESSION_MS,
            )
            .await
            .unwrap();
        let now = now_ms();
        let live = store.web_session(&session, now).await.unwrap().unwrap();
        assert_eq!(live.user, "admin");
        assert_eq!(live.csrf, "csrf-1");
        assert!(live.expires_at > now);
        store.end_web_session(&ended).await.unwrap();
        assert!(store.web_session(&ended, now).await.unwrap().is_none());
        assert!(store.web_session(&session, now).await.unwrap().is_some());
        assert!(
            store
                .web_session(&session, live.expires_at)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .web_session(&token_hash(0x03), now)
                .await
                .unwrap()
                .is_none()
        );
    }

    /// Reference data and contacts as staff import them: upserts replace, removals remove,
    /// paging reaches everyone exactly once.
    pub async fn directory_payments_and_contacts(store: &Store) {
        let date = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let payment = |city: &str, day: &str| PaymentEntry {
            city: city.to_string(),
            next_payment_date: date(day),
            note: None,
            updated_at: now_ms(),
        };
        store
            .upsert_payments(&[
                payment("Makassar", "2026-12-15"),
                payment("Medan", "2026-12-20"),
            ])
            .await
            .unwrap();
        store
            .upsert_payments(&[payment("Makassar", "2026-12-18")])
            .await
            .unwrap();
        let mut payments = store.payments().await.unwrap();
        payments.sort_by(|a, b| a.city.cmp(&b.city));
        let dates: Vec<_> = payments
            .iter()
            .map(|p| (p.city.as_str(), p.next_payment_date))
            .collect();
        assert_eq!(
            dates,
            [
                ("Makassar", date("2026-12-18")),
                ("Medan", date("2026-12-20"))
            ]
        );
        assert!(store.remove_payment("Makassar").await.unwrap());
        assert!(!store.remove_payment("Makassar").await.unwrap());
        assert_eq!(store.payments().await.unwrap().len(), 1);

        let entry = |kind: DirectoryKind, name: &str, phone: &str| DirectoryEntry {
            city: "Makassar".into(),
            kind,
            name: name.into(),
            phone: Some(phone.into()),
            address: None,
            hours: None,
            updated_at: now_ms(),
        };
        store
            .upsert_directory(&[
                entry(DirectoryKind::Unhcr, "UNHCR Makassar", "0411-123"),
                entry(DirectoryKind::Clinic, "Klinik Sehat", "0411-456"),
            ])
            .await
            .unwrap();
        store
            .upsert_directory(&[entry(DirectoryKind::Unhcr, "UNHCR Makassar", "0411-999")])
            .await
            .unwrap();
        let listed = store.directory().await.unwrap();
        assert_eq!(listed.len(), 2);
        let unhcr = listed
            .iter()
            .find(|e| e.kind == DirectoryKind::Unhcr)
            .unwrap();
        assert_eq!(unhcr.phone.as_deref(), Some("0411-999"));
        let renamed = entry(DirectoryKind::Clinic, "Klinik Baru", "0411-777");
        assert!(
            store
                .replace_directory_entry(
                    "Makassar",
                    DirectoryKind::Clinic,
                    "Klinik Sehat",
                    Some(&renamed)
                )
                .await
                .unwrap()
        );
        let names: BTreeSet<_> = store
            .directory()
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            names,
            BTreeSet::from(["UNHCR Makassar".into(), "Klinik Baru".into()])
        );
        assert!(
            store
                .replace_directory_entry("Makassar", DirectoryKind::Clinic, "Klinik Baru", None)
                .await
                .unwrap()
        );
        assert!(
            !store
                .replace_directory_entry("Makassar", DirectoryKind::Clinic, "Klinik Baru", None)
                .await
                .unwrap()
        );
        assert_eq!(store.directory().await.unwrap().len(), 1);

        // Contacts from an import, then a second import changing one of them.
        let rows = import(
            "phone,language,city,case_id,name,tags\n\
             +6281200000005,fa-AF,Makassar,UNHCR-5,Amina,women\n\
             +6281200000003,so,Medan,,,\n\
             +6281200000001,ar,Makassar,,,youth;women\n\
             +6281200000004,ti,,,,\n\
             +6281200000002,fa,Pekanbaru,,,\n",
        );
        assert_eq!(store.upsert_contacts(&rows).await.unwrap(), 5);
        let update = import("phone,city\n+6281200000005,Bogor\n");
        assert_eq!(store.upsert_contacts(&update).await.unwrap(), 0);
        let amina = store.contact(&phone(5)).await.unwrap().unwrap();
        assert_eq!(amina.city.as_deref(), Some("Bogor"));
        // What the second file did not name stays as it was.
        assert_eq!(amina.language, Some(Lang::Dari));
        assert_eq!(amina.case_id.as_deref(), Some("UNHCR-5"));
        assert_eq!(amina.tags, ["women"]);
        assert_eq!(
            store.contact(&phone(1)).await.unwrap().unwrap().tags,
            ["youth", "women"]
        );

        let mut paged = Vec::new();
        let mut after: Option<ContactId> = None;
        loop {
            let (page, more) = store.contacts_after(after.as_ref(), 2).await.unwrap();
            assert!(page.len() <= 2);
            paged.extend(page.iter().map(|c| c.id.clone()));
            after = page.last().map(|c| c.id.clone());
            if !more {
                break;
            }
            assert!(paged.len() < 10, "paging does not end");
        }
        assert_eq!(paged, (1..=5).map(phone).collect::<Vec<_>>());
        let mut all: Vec<_> = store
            .contacts()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        all.sort();
        assert_eq!(all, paged);

        store.set_opted_out(&phone(3), true).await.unwrap();
        assert!(store.contact(&phone(3)).await.unwrap().unwrap().opted_out);
        store.set_opted_out(&phone(3), false).await.unwrap();
        assert!(!store.contact(&phone(3)).await.unwrap().unwrap().opted_out);

        // The WhatsApp window: open after a WhatsApp message, closed when the provider says so.
        let whatsapp = phone(9);
        receive(
            store,
            vec![inbound(Channel::Whatsapp, &whatsapp, "wamid.1", "salam")],
        )
        .await;
        let pending = store.next_pending(&whatsapp).await.unwrap().unwrap();
        let mut write = step(&pending, &[], TicketChange::None, Session::default());
        write.contact.last_whatsapp_at = Some(pending.message.created_at);
        store.apply_step(&pending, &write, now_ms()).await.unwrap();
        let before = store.contact(&whatsapp).await.unwrap().unwrap();
        assert!(before.last_whatsapp_at.is_some());
        store.close_whatsapp_window(&whatsapp).await.unwrap();
        let after = store.contact(&whatsapp).await.unwrap().unwrap();
        assert!(after.last_whatsapp_at.is_none());
        assert_eq!(after.last_channel, Some(Channel::Whatsapp));
    }

    /// A broadcast from a validated draft: its audience is frozen in batches behind a cursor
    /// (running the enqueue again adds nobody), each person is turned into one bulk message,
    /// progress counts what happened, cancelling stops the rest.
    pub async fn broadcasts_from_draft_to_bulk_lane(store: &Store) {
        let rows = import(
            "phone,language,city\n\
             +6281200000001,fa-AF,Makassar\n\
             +6281200000002,fa-AF,Makassar\n\
             +6281200000003,fa-AF,Makassar\n\
             +6281200000004,fa-AF,Makassar\n\
             +6281200000005,fa-AF,Makassar\n\
             +6281200000006,so,Makassar\n",
        );
        store.upsert_contacts(&rows).await.unwrap();
        store.set_opted_out(&phone(5), true).await.unwrap();

        let now = now_ms();
        let draft = Draft {
            name: "December payment".into(),
            texts: BTreeMap::from([("fa-AF".into(), "پرداخت این ماه یک هفته دیرتر است".into())]),
            fallback: None,
            audience: DraftAudience {
                cities: vec!["makassar".into()],
                ..DraftAudience::default()
            },
            send_at: None,
        };
        let valid = broadcast::validate(draft, now).unwrap();
        let created = store.create_broadcast(valid, "sara").await.unwrap();
        assert_eq!(created.status, Status::Draft);
        assert_eq!(created.created_by, "sara");
        let id = created.id;
        assert_eq!(
            store.broadcast(id).await.unwrap().unwrap().name,
            "December payment"
        );
        assert!(store.broadcasts().await.unwrap().iter().any(|b| b.id == id));
        assert!(store.broadcast(id + 1_000_000).await.unwrap().is_none());

        // A refused change leaves it as it was; an accepted one is audited.
        let refused = store
            .change_broadcast(
                id,
                "sara",
                "approve",
                Box::new(|_| {
                    Err(BroadcastError::Forbidden(
                        "nobody approves their own".into(),
                    ))
                }),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(refused, BroadcastError::Forbidden(_)),
            "{refused:?}"
        );
        assert_eq!(
            store.broadcast(id).await.unwrap().unwrap().status,
            Status::Draft
        );
        let send = || -> kabar::store::BroadcastChange {
            Box::new(|b| {
                if b.status != Status::Draft {
                    return Err(BroadcastError::Conflict("not a draft".into()));
                }
                b.status = Status::Sending;
                b.sent_by = Some("sara".into());
                Ok(())
            })
        };
        let sending = store
            .change_broadcast(id, "sara", "send", send())
            .await
            .unwrap();
        assert_eq!(sending.status, Status::Sending);
        assert!(matches!(
            store
                .change_broadcast(id, "sara", "send", send())
                .await
                .unwrap_err(),
            BroadcastError::Conflict(_)
        ));
        assert!(matches!(
            store
                .change_broadcast(id + 1_000_000, "sara", "send", send())
                .await
                .unwrap_err(),
            BroadcastError::NotFound(_)
        ));
        assert_eq!(
            store
                .broadcasts_in(&[Status::Sending])
                .await
                .unwrap()
                .iter()
                .map(|b| b.id)
                .collect::<Vec<_>>(),
            [id]
        );
        assert!(
            store
                .broadcasts_in(&[Status::Draft])
                .await
                .unwrap()
                .is_empty()
        );
        let audited = store
            .audit_search(Box::new(|e| e.action == "send"), 10)
            .await
            .unwrap();
        assert_eq!(audited.len(), 1);
        assert_eq!(audited[0].user, "sara");

        // Freeze the audience two contacts at a time, as the runner does.
        let routes = Routes {
            available: BTreeSet::from([Channel::TwilioSms]),
            sms: Some(Channel::TwilioSms),
            templates: BTreeSet::new(),
            now,
        };
        let schedule = kabar::dispatch::bulk::schedule(store).await.unwrap();
        let mut cursor = store.enqueue_cursor(id).await.unwrap();
        assert!(!cursor.done);
        assert_eq!(cursor.written, 0);
        let mut batches = 0;
        while !cursor.done {
            let (contacts, more) = store
                .contacts_after(cursor.after.as_ref(), 2)
                .await
                .unwrap();
            let batch: Vec<_> = contacts
                .iter()
                .filter(|c| broadcast::in_audience(&sending.audience, c, &routes))
                .filter_map(|c| {
                    let d = broadcast::plan(&sending, c, &routes, &schedule).ok()?;
                    Some((
                        c.id.clone(),
                        broadcast::Recipient {
                            language: d.language,
                            channel: d.channel,
                            status: RecipientStatus::Queued,
                            message_id: None,
                            error: None,
                        },
                    ))
                })
                .collect();
            let before = cursor.written;
            cursor = store
                .enqueue_recipients(id, &batch, contacts.last().map(|c| c.id.clone()), !more)
                .await
                .unwrap();
            assert_eq!(cursor.written, before + batch.len() as u64);
            assert_eq!(store.enqueue_cursor(id).await.unwrap(), cursor);
            batches += 1;
            assert!(batches < 10, "enqueue does not end");
        }
        assert_eq!(batches, 3);
        // Opted out and no text in Somali: four people get it.
        assert_eq!(cursor.written, 4);
        let again = kabar::dispatch::bulk::enqueue_all(store, &sending, &routes, &Metrics::new())
            .await
            .unwrap();
        assert_eq!(again, 0, "a repeated enqueue adds nobody");
        let recipients = store.recipients(id).await.unwrap();
        assert_eq!(
            recipients
                .iter()
                .map(|(p, _)| p.clone())
                .collect::<Vec<_>>(),
            (1..=4).map(phone).collect::<Vec<_>>()
        );
        assert!(
            recipients
                .iter()
                .all(|(_, r)| r.status == RecipientStatus::Queued && r.language == Lang::Dari)
        );
        assert_eq!(store.broadcast_progress(id).await.unwrap().queued, 4);
        assert!(!store.broadcast_drained(id).await.unwrap());

        // Into the bulk lane, in audience order, each person once.
        let queue = store.bulk_queue(id, 10).await.unwrap();
        assert_eq!(
            queue.iter().map(|q| q.phone.clone()).collect::<Vec<_>>(),
            (1..=4).map(phone).collect::<Vec<_>>()
        );
        assert_eq!(store.bulk_queue(id, 2).await.unwrap().len(), 2);
        let mut materialized = Vec::new();
        for queued in &queue[..2] {
            let contact = store.contact(&queued.phone).await.unwrap().unwrap();
            let delivery = broadcast::plan(&sending, &contact, &routes, &schedule).unwrap();
            let item = store
                .materialize(&sending, queued, &delivery)
                .await
                .unwrap()
                .expect("a waiting person gets the message");
            assert_eq!(item.lane, Lane::Bulk);
            assert_eq!(item.broadcast, Some(id));
            assert_eq!(item.text, "پرداخت این ماه یک هفته دیرتر است");
            assert!(
                store
                    .materialize(&sending, queued, &delivery)
                    .await
                    .unwrap()
                    .is_none(),
                "nobody gets a broadcast twice"
            );
            materialized.push(item);
        }
        let (bulk, _) = store.due_bulk(now_ms() + 1, 10).await.unwrap();
        assert_eq!(ids(&bulk), ids(&materialized));
        let (interactive, _) = store.due_outbox(now_ms() + 1, 10).await.unwrap();
        assert!(
            interactive.is_empty(),
            "broadcasts never take the interactive lane"
        );
        let history = store.history(&phone(1)).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].broadcast, Some(id));
        let rest = store.bulk_queue(id, 10).await.unwrap();
        assert_eq!(
            rest.iter().map(|q| q.phone.clone()).collect::<Vec<_>>(),
            [phone(3), phone(4)]
        );

        // Person 3 is skipped; person 1's message is accepted by the provider.
        store
            .skip_recipient(id, &rest[0], RecipientStatus::Failed, "no route any more")
            .await
            .unwrap();
        let skipped = store.recipient(id, &phone(3)).await.unwrap().unwrap();
        assert_eq!(skipped.status, RecipientStatus::Failed);
        assert_eq!(skipped.error.as_deref(), Some("no route any more"));
        store
            .outbox_accepted(&materialized[0], "SM-bulk-1", MessageStatus::Sent)
            .await
            .unwrap();
        assert_eq!(
            store
                .recipient(id, &phone(1))
                .await
                .unwrap()
                .unwrap()
                .status,
            RecipientStatus::Sent
        );
        let progress = store.broadcast_progress(id).await.unwrap();
        assert_eq!(
            (
                progress.queued,
                progress.sent,
                progress.failed,
                progress.cancelled
            ),
            (2, 1, 1, 0)
        );

        // Cancelled: the one still waiting never gets it.
        store
            .change_broadcast(
                id,
                "sara",
                "cancel",
                Box::new(|b| {
                    b.status = Status::Cancelled;
                    Ok(())
                }),
            )
            .await
            .unwrap();
        assert_eq!(store.cancel_queued(id).await.unwrap(), 1);
        let cancelled = store.broadcast(id).await.unwrap().unwrap();
        let contact = store.contact(&phone(4)).await.unwrap().unwrap();
        let delivery = broadcast::plan(&cancelled, &contact, &routes, &schedule).unwrap();
        assert!(
            store
                .materialize(&cancelled, &rest[1], &delivery)
                .await
                .unwrap()
                .is_none(),
            "a cancelled broadcast reaches nobody more"
        );
        // Its message still in the outbox is withdrawn.
        store.outbox_cancelled(&materialized[1]).await.unwrap();
        assert!(store.due_bulk(now_ms() + 1, 10).await.unwrap().0.is_empty());
        assert_eq!(
            store
                .message(materialized[1].message_id)
                .await
                .unwrap()
                .unwrap()
                .status,
            MessageStatus::Failed
        );
        let progress = store.broadcast_progress(id).await.unwrap();
        assert_eq!(
            (
                progress.queued,
                progress.sent,
                progress.failed,
                progress.cancelled
            ),
            (0, 1, 1, 2)
        );
    }

    /// Erasing a person removes their messages, contact, session and queued messages, and
    /// anonymises their ticket; everyone else stays as they were.
    pub async fn erasure_removes_one_person_only(store: &Store) {
        let (amina, bashir) = (phone(1), phone(2));
        receive(
            store,
            vec![
                sms(&amina, "SM-a1", "lotfan malumat mara pak konid"),
                sms(&bashir, "SM-b1", "salam"),
            ],
        )
        .await;
        let (_, outcome) = answer(store, &amina, &["Yak tarjoman"], escalate("delete-data")).await;
        let (ticket, _) = outcome.ticket.unwrap();
        let mut session = Session::default();
        session.vars.insert("case".into(), "UNHCR-1".into());
        let pending = store.next_pending(&bashir).await.unwrap().unwrap();
        store
            .apply_step(
                &pending,
                &step(
                    &pending,
                    &["Khush amadid"],
                    TicketChange::None,
                    session.clone(),
                ),
                now_ms(),
            )
            .await
            .unwrap();
        store
            .queue_message(
                &amina,
                Channel::TwilioSms,
                Author::User("ina".into()),
                "later",
                None,
            )
            .await
            .unwrap();

        let erased = store.erase_contact(&amina, "sam", ticket).await.unwrap();
        assert_eq!(erased.messages, 3);
        assert_eq!(erased.queued, 2);
        assert_eq!(erased.tickets_anonymised, 1);
        assert!(store.history(&amina).await.unwrap().is_empty());
        assert!(store.contact(&amina).await.unwrap().is_none());
        assert_eq!(store.session(&amina).await.unwrap(), Session::default());
        assert!(store.outbox_of(&amina).await.unwrap().is_empty());
        assert!(store.open_ticket_of(&amina).await.unwrap().is_none());
        let anonymised = store.ticket(ticket).await.unwrap().unwrap();
        assert_ne!(anonymised.contact, amina);
        assert!(anonymised.message_ids.is_empty());
        assert!(
            store
                .contacts()
                .await
                .unwrap()
                .iter()
                .all(|c| c.id != amina)
        );

        // Bashir is untouched.
        assert_eq!(
            texts(&store.history(&bashir).await.unwrap()),
            ["salam", "Khush amadid"]
        );
        assert!(store.contact(&bashir).await.unwrap().is_some());
        assert_eq!(store.session(&bashir).await.unwrap(), session);
        assert_eq!(store.outbox_of(&bashir).await.unwrap().len(), 1);
        // The audit names the ticket, never the number.
        let rows = store
            .audit_search(Box::new(move |e| e.ticket == Some(ticket)), 10)
            .await
            .unwrap();
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|e| !e.detail.contains(amina.as_str())));
    }

    /// Retention: messages older than the cutoff go, newer ones and messages still waiting to
    /// be sent stay; a dry run changes nothing.
    pub async fn purge_removes_only_what_is_older_than_the_cutoff(store: &Store) {
        let amina = phone(1);
        let intake = RunningIntake::start(store);
        intake
            .deliver(vec![sms(&amina, "SM-old", "old question")])
            .await;
        let (_, outcome) = answer(store, &amina, &["old answer"], TicketChange::None).await;
        let sent = store.outbox_of(&amina).await.unwrap().remove(0);
        assert_eq!(sent.message_id, outcome.queued[0]);
        store
            .outbox_accepted(&sent, "SM-old-out", MessageStatus::Delivered)
            .await
            .unwrap();
        let waiting = store
            .queue_message(
                &amina,
                Channel::TwilioSms,
                Author::Bot,
                "still waiting",
                None,
            )
            .await
            .unwrap();
        sleep_ms(20).await;
        let cutoff = now_ms();
        sleep_ms(20).await;
        intake
            .deliver(vec![sms(&amina, "SM-new", "new question")])
            .await;
        intake.stop().await;

        let dry = store.purge(cutoff, true).await.unwrap();
        assert_eq!(dry.messages, 2);
        assert_eq!(store.history(&amina).await.unwrap().len(), 4);

        let report = store.purge(cutoff, false).await.unwrap();
        assert_eq!(report, dry);
        assert_eq!(
            texts(&store.history(&amina).await.unwrap()),
            ["still waiting", "new question"]
        );
        assert!(store.message(sent.message_id).await.unwrap().is_none());
        assert_eq!(ids(&store.outbox_of(&amina).await.unwrap()), [waiting]);
        // The new message is still there to be answered.
        assert_eq!(
            store
                .next_pending(&amina)
                .await
                .unwrap()
                .unwrap()
                .message
                .text,
            "new question"
        );
        assert_eq!(store.purge(cutoff, false).await.unwrap().messages, 0);
    }

    /// Someone who hides their number behind a WhatsApp username writes by user id; later a
    /// message names the user id and the number together; later still an SMS comes from the
    /// number, and a staff import names it. Every one of them is the same person, and erasing
    /// them leaves no address behind that leads to them.
    pub async fn a_whatsapp_user_id_and_a_number_are_one_person(store: &Store) {
        let user_id = WhatsappUserId::parse("AF.40017325551938476").unwrap();
        let id = ContactId::from(user_id.clone());
        let number = phone(77);
        let named = |phone: Option<&ContactId>| WhatsappProfile {
            user_id: Some(user_id.clone()),
            phone: phone.and_then(|p| p.phone().cloned()),
            name: Some("Zahra".into()),
            username: Some("zahra.kabul".into()),
        };
        let mut first = inbound(Channel::Whatsapp, &id, "wamid.Z1", "salam");
        first.profile = named(None);
        // One intake for the whole story, as in the server.
        let intake = RunningIntake::start(store);
        // The sink hears of a batch just after the intake retires it: wait for that. Which
        // contacts it hears is the point; hearing one twice is harmless (answering takes a
        // contact once), and PostgreSQL's intake may, when a message lands between its
        // listening and its first look.
        async fn heard(intake: &RunningIntake) -> Vec<ContactId> {
            for _ in 0..400 {
                let mut got = intake.sink.heard.lock().unwrap().split_off(0);
                got.sort();
                got.dedup();
                if !got.is_empty() {
                    return got;
                }
                sleep_ms(5).await;
            }
            Vec::new()
        }
        intake.deliver(vec![first]).await;
        assert_eq!(heard(&intake).await, vec![id.clone()]);
        answer(store, &id, &["Khush amadid"], escalate("general")).await;
        let contact = store.contact(&id).await.unwrap().unwrap();
        assert_eq!(contact.label(), "@zahra.kabul");
        assert!(contact.phone().is_none());

        // The number arrives beside the user id: filed under her, not a new person.
        let mut both = inbound(Channel::Whatsapp, &number, "wamid.Z2", "tashakor");
        both.profile = named(Some(&number));
        intake.deliver(vec![both]).await;
        assert_eq!(
            heard(&intake).await,
            vec![id.clone()],
            "stored under her id, not the number"
        );
        answer(store, &id, &[], TicketChange::Attach).await;
        // An SMS from the number alone, and an import naming it, reach her too.
        intake.deliver(vec![sms(&number, "SM-z3", "pul?")]).await;
        assert_eq!(heard(&intake).await, vec![id.clone()]);
        assert_eq!(
            texts(&store.history(&id).await.unwrap()),
            ["salam", "Khush amadid", "tashakor", "pul?"]
        );
        assert_eq!(
            store
                .upsert_contacts(&import("phone,city\n+6281200000077,Bogor\n"))
                .await
                .unwrap(),
            0,
            "the import updated her, it made no new contact"
        );
        let contacts = store.contacts().await.unwrap();
        assert_eq!(contacts.len(), 1, "{contacts:?}");
        let her = &contacts[0];
        assert_eq!(her.id, id);
        assert_eq!(her.city.as_deref(), Some("Bogor"));
        assert_eq!(her.language, Some(Lang::Dari));
        assert_eq!(her.phone(), number.phone());
        assert_eq!(store.contact(&number).await.unwrap().unwrap().id, id);
        let ticket = store.open_ticket_of(&id).await.unwrap().unwrap();
        assert_eq!(ticket.message_ids.len(), 3, "{ticket:?}");

        store.erase_contact(&id, "sam", ticket.id).await.unwrap();
        assert!(store.contact(&id).await.unwrap().is_none());
        assert!(store.contact(&number).await.unwrap().is_none());
        assert!(store.history(&id).await.unwrap().is_empty());
        // Writing again after erasure starts afresh, under the address she writes from.
        intake.deliver(vec![sms(&number, "SM-z4", "salam")]).await;
        assert_eq!(heard(&intake).await, vec![number.clone()]);
        intake.stop().await;
    }
}
