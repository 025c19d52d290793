//! Two replicas of kabar on one PostgreSQL database (issue 13): a real server from
//! `KABAR_TEST_DATABASE_URL` (`.ci/run` starts one), each replica a whole `App` with its own
//! listener and data folder, as behind a load balancer. Skipped with a message without the
//! variable, unless `KABAR_REQUIRE_POSTGRES` says the run must cover PostgreSQL.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use kabar::config::Config;
use kabar::domain::{ContactId, Direction, MessageRecord, MessageStatus};
use kabar::store::Store;
use kabar::store::postgres::{DatabaseUrl, PgStore};

pub(crate) fn database_url() -> Option<String> {
    match std::env::var("KABAR_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("KABAR_REQUIRE_POSTGRES").is_none(),
                "KABAR_REQUIRE_POSTGRES is set but KABAR_TEST_DATABASE_URL is not"
            );
            eprintln!("skipped: set KABAR_TEST_DATABASE_URL=postgres://… to run it");
            None
        }
    }
}

/// A fresh schema for one test; the URL the replicas are given selects it.
pub(crate) async fn fresh_schema(url: &str, schema: &str) -> String {
    let db = DatabaseUrl::new(url).unwrap();
    PgStore::drop_schema(&db, schema).await.unwrap();
    let store: Store = std::sync::Arc::new(PgStore::connect(&db, Some(schema)).await.unwrap());
    store.close().await.unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

fn config(
    addr: std::net::SocketAddr,
    data: &Path,
    store_url: Option<&str>,
    extra: &[(&'static str, String)],
) -> Config {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut vars = vec![
        ("KABAR_SERVER__LISTEN", addr.to_string()),
        ("KABAR_SERVER__PUBLIC_URL", format!("http://{addr}")),
        ("KABAR_SERVER__DATA_DIR", data.display().to_string()),
        (
            "KABAR_CONTENT__FLOWS",
            manifest.join("flows").display().to_string(),
        ),
        (
            "KABAR_CONTENT__LOCALES",
            manifest.join("locales").display().to_string(),
        ),
        ("KABAR_HELPDESK__HOURS", "always".to_string()),
        ("KABAR_SIMULATOR__ENABLED", "true".to_string()),
    ];
    vars.extend(extra.iter().cloned());
    if let Some(url) = store_url {
        vars.push(("KABAR_STORE__KIND", "postgres".to_string()));
        vars.push(("KABAR_STORE__URL", url.to_string()));
    }
    Config::load(None, vars.into_iter().map(|(k, v)| (k.to_string(), v))).unwrap()
}

struct Replica {
    base: String,
    store: Store,
    events: tokio::sync::broadcast::Receiver<kabar::helpdesk::TicketEvent>,
    replies: tokio::sync::broadcast::Receiver<kabar::channel::simulator::SimulatedReply>,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<Result<(), kabar::RunError>>,
    _data: tempfile::TempDir,
}

async fn start(store_url: Option<&str>) -> Replica {
    start_with(store_url, &[]).await
}

async fn start_with(store_url: Option<&str>, extra: &[(&'static str, String)]) -> Replica {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let data = tempfile::tempdir().unwrap();
    let app = kabar::App::open(config(addr, data.path(), store_url, extra))
        .await
        .expect("replica starts");
    let events = app.events.subscribe();
    let replies = app.channels.simulator.as_ref().unwrap().subscribe();
    let store = app.store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run(listener, async {
        let _ = stopped.await;
    }));
    Replica {
        base: format!("http://{addr}"),
        store,
        events,
        replies,
        stop,
        handle,
        _data: data,
    }
}

impl Replica {
    async fn send(&self, http: &reqwest::Client, phone: &str, text: &str) {
        let r = http
            .post(format!("{}/simulator/send", self.base))
            .json(&serde_json::json!({"phone": phone, "text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{text}");
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(30), self.handle).await;
    }
}

/// The person's history once every message sent has been answered and every answer
/// delivered.
async fn answered(store: &Store, phone: &ContactId, inbound: usize) -> Vec<MessageRecord> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let history = store.history(phone).await.unwrap();
        let ins = history
            .iter()
            .filter(|m| m.direction == Direction::In)
            .count();
        let outs: Vec<_> = history
            .iter()
            .filter(|m| m.direction == Direction::Out)
            .collect();
        let pending = store.pending_count().await.unwrap();
        if ins == inbound
            && pending == 0
            && !outs.is_empty()
            && outs.iter().all(|m| m.status == MessageStatus::Delivered)
        {
            return history;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not answered: {ins} in, {} out, {pending} pending",
            outs.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn reply_texts(history: &[MessageRecord]) -> Vec<String> {
    history
        .iter()
        .filter(|m| m.direction == Direction::Out)
        .map(|m| m.text.clone())
        .collect()
}

/// What a person writes: greeting, English, consent, asking for a person, then a question
/// that goes to the ticket.
const CONVERSATION: &[&str] = &["hello", "1", "1", "agent", "my payment is late"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_conversation_alternating_between_two_replicas_is_answered_in_order_once() {
    let Some(url) = database_url() else { return };
    let http = reqwest::Client::new();
    let phone = "+99900001301";
    let person = ContactId::parse(phone).unwrap();

    // What one server answers, as the reference.
    let single = start(None).await;
    for (i, text) in CONVERSATION.iter().enumerate() {
        single.send(&http, phone, text).await;
        // One at a time, as a person on a phone waits for each answer.
        let _ = answered(&single.store, &person, i + 1).await;
    }
    let expected = reply_texts(&answered(&single.store, &person, CONVERSATION.len()).await);
    single.stop().await;
    assert!(expected.len() >= CONVERSATION.len(), "{expected:?}");

    let store_url = fresh_schema(&url, "e2e_two_replicas").await;
    let mut a = start(Some(&store_url)).await;
    let b = start(Some(&store_url)).await;
    // Every message goes to the other replica than the one before, as a load balancer
    // might send them; the fourth ("agent", which opens the ticket) arrives through B.
    for (i, text) in CONVERSATION.iter().enumerate() {
        let replica = if i % 2 == 0 { &a } else { &b };
        replica.send(&http, phone, text).await;
        let _ = answered(&a.store, &person, i + 1).await;
    }
    let history = answered(&b.store, &person, CONVERSATION.len()).await;
    assert_eq!(
        reply_texts(&history),
        expected,
        "answered in order, as one server answers"
    );

    // Each replica counts the messages it took in; together, every one once.
    let mut stored = 0;
    for replica in [&a, &b] {
        let metrics = http
            .get(format!("{}/metrics", replica.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        stored += metrics
            .lines()
            .filter(|l| {
                l.starts_with("kabar_messages_in_total{") && l.contains("status=\"stored\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>();
    }
    assert_eq!(
        stored,
        CONVERSATION.len() as u64,
        "inbound counted once each"
    );

    // Each reply was delivered once, whichever replica sent it: A's simulator page hears
    // every one exactly once (its own deliveries and those B passed on).
    let out_ids: BTreeSet<u64> = history
        .iter()
        .filter(|m| m.direction == Direction::Out)
        .map(|m| m.id)
        .collect();
    let mut heard = Vec::new();
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Ok(reply)) = tokio::time::timeout_at(until, a.replies.recv()).await {
        heard.push(reply.message_id);
    }
    heard.sort_unstable();
    assert_eq!(
        heard,
        out_ids.iter().copied().collect::<Vec<_>>(),
        "every reply shown once on replica A"
    );

    // An interpreter's queue on A heard, live, about the ticket opened through B.
    let ticket = a
        .store
        .open_ticket_of(&person)
        .await
        .unwrap()
        .expect("the ticket is open");
    let mut ticket_events = Vec::new();
    while let Ok(event) = a.events.try_recv() {
        ticket_events.push(event);
    }
    assert!(
        ticket_events.iter().any(|e| e.ticket == ticket.id),
        "A's live feed heard about ticket {}: {ticket_events:?}",
        ticket.id
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_replica_reports_the_gateway_phone_the_sender_could_not_reach() {
    let Some(url) = database_url() else { return };
    let store_url = fresh_schema(&url, "e2e_gateway_health").await;
    // A phone that is off: nothing listens at its address.
    let off = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let phone_addr = off.local_addr().unwrap();
    drop(off);
    let gateway = [
        ("KABAR_GATEWAY__URL", format!("http://{phone_addr}")),
        ("KABAR_GATEWAY__USERNAME", "sms".to_string()),
        ("KABAR_GATEWAY__PASSWORD", "gateway-password".to_string()),
        (
            "KABAR_GATEWAY__SIGNING_KEY",
            "gateway-signing-key".to_string(),
        ),
    ];
    let a = start_with(Some(&store_url), &gateway).await;
    let b = start_with(Some(&store_url), &gateway).await;
    let http = reqwest::Client::new();
    let person = ContactId::parse("+6281200001401").unwrap();
    a.store
        .queue_message(
            &person,
            kabar::domain::Channel::Gateway,
            kabar::domain::Author::Bot,
            "Your appointment is tomorrow.",
            None,
        )
        .await
        .unwrap();
    // Whichever replica sends, both say the phone cannot be reached.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for replica in [&a, &b] {
        loop {
            let health: serde_json::Value = http
                .get(format!("{}/healthz", replica.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if health["gateway"]["state"] == "unreachable" {
                assert_eq!(health["status"], "degraded", "{health}");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} never heard: {health}",
                replica.base
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    a.stop().await;
    b.stop().await;
}
