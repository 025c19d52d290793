//! `kabar migrate-store` (issue 13): a field office that ran on the embedded store moves into
//! PostgreSQL and goes on where it stopped. A real server from `KABAR_TEST_DATABASE_URL`, the
//! real `kabar` binary for the move, and the same port reads on both sides afterwards.

use crate::broadcasts::{act, create, import_contacts, import_payments};
use crate::common::{self, AUTH_TOKEN, FakeTwilio, Setup, encode_form, inbound_params};
use crate::replicas::{database_url, fresh_schema};

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kabar::domain::{ContactId, Direction, Role};
use kabar::store::{SledStore, Store};
use serde_json::{Value, json};

fn migrate_store(data: &Path, store_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kabar"))
        .args(["migrate-store", "--from"])
        .arg(data)
        .env("KABAR_STORE__KIND", "postgres")
        .env("KABAR_STORE__URL", store_url)
        .env("KABAR_CONTENT__FLOWS", common::manifest_dir().join("flows"))
        .env(
            "KABAR_CONTENT__LOCALES",
            common::manifest_dir().join("locales"),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("kabar runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json_of<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).expect("serialisable")
}

/// Everything staff and the conversation can read through the storage port, for `people`.
async fn picture(store: &Store, people: &[ContactId]) -> Value {
    let mut per_person = serde_json::Map::new();
    for p in people {
        per_person.insert(
            p.to_string(),
            json!({
                "contact": json_of(store.contact(p).await.unwrap()),
                "history": json_of(store.history(p).await.unwrap()),
                "session": json_of(store.session(p).await.unwrap()),
                "open_ticket": json_of(store.open_ticket_of(p).await.unwrap()),
                "outbox": json_of(store.outbox_of(p).await.unwrap()),
            }),
        );
    }
    let mut broadcasts = Vec::new();
    for b in store.broadcasts().await.unwrap() {
        broadcasts.push(json!({
            "broadcast": json_of(&b),
            "recipients": json_of(store.recipients(b.id).await.unwrap()),
            "progress": json_of(store.broadcast_progress(b.id).await.unwrap()),
            "cursor": json_of(store.enqueue_cursor(b.id).await.unwrap()),
            "next": format!("{:?}", store.bulk_queue(b.id, 10).await.unwrap()),
        }));
    }
    json!({
        "people": per_person,
        "contacts": json_of(store.contacts().await.unwrap()),
        "tickets": json_of(store.tickets().await.unwrap()),
        "audit": json_of(store.audit_log(1000).await.unwrap()),
        "users": json_of(store.users().await.unwrap()),
        "tokens": json_of(store.tokens().await.unwrap()),
        "payments": json_of(store.payments().await.unwrap()),
        "directory": json_of(store.directory().await.unwrap()),
        "canned": json_of(store.canned_replies(None).await.unwrap()),
        "broadcasts": broadcasts,
        "outbox": json_of(store.outbox().await.unwrap()),
        "failed": json_of(store.failed_messages().await.unwrap()),
        "pending": store.pending_count().await.unwrap(),
    })
}

/// The moved office's new installation: the same binary's App on PostgreSQL, with the same
/// fake Twilio.
struct PgApp {
    base: String,
    http: reqwest::Client,
    store: Store,
    twilio: FakeTwilio,
    sids: std::sync::atomic::AtomicU64,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<Result<(), kabar::RunError>>,
    _data: tempfile::TempDir,
}

impl PgApp {
    async fn start(twilio: FakeTwilio, store_url: &str) -> PgApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let data = tempfile::tempdir().unwrap();
        let mut config =
            common::config_with(addr, data.path(), twilio.addr, None, None, Setup::default());
        config.store.kind = kabar::config::StoreKind::Postgres;
        config.store.url = Some(kabar::store::postgres::DatabaseUrl::new(store_url).unwrap());
        let app = kabar::App::open(config)
            .await
            .expect("starts on PostgreSQL");
        let store = app.store.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(app.run(listener, async {
            let _ = stopped.await;
        }));
        PgApp {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            store,
            twilio,
            sids: std::sync::atomic::AtomicU64::new(1),
            stop,
            handle,
            _data: data,
        }
    }

    async fn post_twilio(&self, path: &str, params: &[(String, String)]) -> reqwest::Response {
        let url = format!("{}{path}", self.base);
        let signature = kabar::channel::twilio::compute_signature(AUTH_TOKEN, &url, params);
        self.http
            .post(url)
            .header("X-Twilio-Signature", signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode_form(params))
            .send()
            .await
            .unwrap()
    }

    async fn sms(&self, from: &str, body: &str) {
        let n = self.sids.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sid = format!("SM{:032x}", 0xfeed_0000 + n);
        let r = self
            .post_twilio("/webhooks/twilio", &inbound_params(&sid, from, body))
            .await;
        assert_eq!(r.status(), 200);
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(30), self.handle).await;
    }
}

/// Replies Twilio was asked to send to `to`, in order.
fn bodies(twilio: &FakeTwilio, to: &str) -> Vec<String> {
    twilio
        .delivered_to(to)
        .into_iter()
        .map(|m| m.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_field_office_moved_into_postgresql_goes_on_where_it_stopped() {
    let Some(url) = database_url() else { return };
    let store_url = fresh_schema(&url, "e2e_migrate_store").await;

    // --- A field office on the embedded store: a broadcast, a ticket, a conversation half way.
    let app = common::spawn_setup(Setup::default()).await;
    let staff = app.user("sari", Role::Staff, vec![]);
    let _interpreter = app.user("hamid", Role::Interpreter, vec!["fa-AF".parse().unwrap()]);
    let imported = import_contacts(
        &app,
        &staff,
        "phone,language,city,case_id,name\n\
         +6281200000001,so,Batam,,Hodan\n\
         +6281200000002,fa-AF,Batam,,Ahmad\n",
    )
    .await;
    assert_eq!(imported["imported"], 2);
    import_payments(&app, &staff, "city,next_payment_date\nBatam,2026-12-28\n").await;
    let created = create(
        &app,
        &staff,
        json!({
            "name": "Payment date Batam",
            "texts": {"so": "Lacagta {city}: {next_payment_date}.", "fa-AF": "پول {city}: {next_payment_date}."},
            "audience": {"cities": ["batam"]}
        }),
    )
    .await;
    let (sent, _) = act(&app, &staff, &created["id"], "send").await;
    assert_eq!(sent, 200);
    app.twilio.wait_for("+6281200000001", 1).await;
    app.twilio.wait_for("+6281200000002", 1).await;

    // Omar's number cannot take SMS: his reply fails for good and is listed for staff.
    let omar = "+6281300000004";
    app.twilio.script(&[(
        400,
        r#"{"code":21211,"message":"The 'To' number is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#,
    )]);
    app.sms(omar, "hello").await;
    for _ in 0..400 {
        if !app.store.failed_messages().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        !app.store.failed_messages().unwrap().is_empty(),
        "Omar's reply failed"
    );

    // Leila asks for a person: a ticket opens with her question in it.
    let leila = "+6281300000001";
    let mut first_sid = None;
    for (i, said) in ["hello", "1", "1", "agent", "my payment is late"]
        .iter()
        .enumerate()
    {
        let sid = app.next_sid();
        first_sid.get_or_insert(sid.clone());
        let r = app
            .post_twilio("/webhooks/twilio", &inbound_params(&sid, leila, said))
            .await;
        assert_eq!(r.status(), 200);
        if i < 4 {
            app.twilio.wait_for(leila, i + 1).await;
        }
    }
    // Reza says hello and gets the language menu; Yusuf, the reference, goes one step further.
    let reza = "+6281300000002";
    let yusuf = "+6281300000003";
    app.sms(reza, "hello").await;
    app.sms(yusuf, "hello").await;
    app.twilio.wait_for(reza, 1).await;
    app.twilio.wait_for(yusuf, 1).await;
    app.sms(yusuf, "1").await;
    let expected_next = app.twilio.wait_for(yusuf, 2).await[1].body.clone();
    let people: Vec<ContactId> = ["+6281200000001", "+6281200000002", leila, reza, yusuf, omar]
        .iter()
        .map(|p| ContactId::parse(p).unwrap())
        .collect();
    let leila_id = people[2].clone();
    // Her last message is answered by the ticket (no bot reply): wait until it is filed.
    for _ in 0..400 {
        let t = app.store.open_ticket_of(&leila_id).unwrap();
        if t.is_some_and(|t| !t.message_ids.is_empty()) && app.store.pending_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    app.intake_settled().await;

    // While the office's server runs, the move refuses and says why.
    let folder = app.data_path().to_path_buf();
    let busy = migrate_store(&folder, &store_url);
    assert!(!busy.status.success());
    assert!(
        text(&busy).contains("Stop the field office's server first"),
        "{}",
        text(&busy)
    );

    let twilio = app.twilio.clone();
    let data = app.stop().await;

    // --- The move.
    let moved = migrate_store(data.path(), &store_url);
    assert!(moved.status.success(), "{}", text(&moved));
    let said = text(&moved);
    assert!(said.contains("messages"), "{said}");
    assert!(said.contains("broadcast recipients"), "{said}");
    // Twice is refused: the second copy would send what the new server already sent.
    let again = migrate_store(data.path(), &store_url);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("moved into this database already"),
        "{}",
        text(&again)
    );

    // Every port read answers the same on both sides.
    let before: Store = std::sync::Arc::new(SledStore::open(data.path()).unwrap());
    let old = picture(&before, &people).await;
    before.close().await.unwrap();
    drop(before);
    let after = kabar::store::postgres::PgStore::connect(
        &kabar::store::postgres::DatabaseUrl::new(&store_url).unwrap(),
        None,
    )
    .await
    .unwrap();
    let after: Store = std::sync::Arc::new(after);
    let new = picture(&after, &people).await;
    for key in old.as_object().unwrap().keys() {
        assert_eq!(old[key], new[key], "{key} differs after the move");
    }
    assert!(
        old["tickets"].as_array().is_some_and(|t| !t.is_empty()),
        "the office had a ticket"
    );
    let highest_id = after
        .history(&leila_id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .max()
        .unwrap();
    after.close().await.unwrap();

    // --- The new installation goes on: Reza's next answer is the one the office would have
    // given, a provider's retry of an old message is still dropped, and new ids are new.
    let pg = PgApp::start(twilio, &store_url).await;
    pg.sms(reza, "1").await;
    let reza_said = pg.twilio.wait_for(reza, 2).await;
    assert_eq!(
        reza_said[1].body,
        expected_next,
        "{:?}",
        bodies(&pg.twilio, reza)
    );
    let retry = pg
        .post_twilio(
            "/webhooks/twilio",
            &inbound_params(first_sid.as_deref().unwrap(), leila, "hello"),
        )
        .await;
    assert_eq!(retry.status(), 200);
    pg.sms(leila, "are you there?").await;
    let mut history = Vec::new();
    for _ in 0..400 {
        history = pg.store.history(&leila_id).await.unwrap();
        if history.iter().any(|m| m.text == "are you there?") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let hellos = history
        .iter()
        .filter(|m| m.direction == Direction::In && m.text == "hello")
        .count();
    assert_eq!(hellos, 1, "the retried webhook was stored again");
    let newest = history.iter().find(|m| m.text == "are you there?").unwrap();
    assert!(newest.id > highest_id, "{} after {highest_id}", newest.id);
    // She is still in her ticket: the interpreter's queue gets the new message.
    let mut ticket = None;
    for _ in 0..400 {
        ticket = pg.store.open_ticket_of(&leila_id).await.unwrap();
        if ticket
            .as_ref()
            .is_some_and(|t| t.message_ids.contains(&newest.id))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let ticket = ticket.expect("her ticket is still open");
    assert!(ticket.message_ids.contains(&newest.id), "{ticket:?}");
    pg.stop().await;
}
