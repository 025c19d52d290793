//! Staff broadcasts end to end (DESIGN §2 "Broadcasts"): the app on port 0 with the fake
//! Twilio and Graph API, driven through the JSON API exactly as the contract describes it.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use kabar::domain::Role;
use serde_json::{Value, json};

pub(crate) async fn import_contacts(app: &TestApp, token: &str, csv: &str) -> Value {
    let r = app
        .http
        .post(app.url("/api/contacts/import"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "import accepted");
    r.json().await.unwrap()
}

pub(crate) async fn import_payments(app: &TestApp, token: &str, csv: &str) {
    let r = app
        .http
        .post(app.url("/api/payments"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "schedule accepted");
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, b) = post(app, token, "/api/broadcasts", body).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["status"], "draft");
    b
}

pub(crate) async fn act(app: &TestApp, token: &str, id: &Value, action: &str) -> (u16, Value) {
    post(
        app,
        token,
        &format!("/api/broadcasts/{id}/{action}"),
        json!({}),
    )
    .await
}

async fn get(app: &TestApp, token: &str, id: &Value) -> Value {
    app.get_json(&format!("/api/broadcasts/{id}"), token).await
}

/// Polls the broadcast until `done` holds (bounded).
async fn wait_until(
    app: &TestApp,
    token: &str,
    id: &Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut b = Value::Null;
    for _ in 0..400 {
        b = get(app, token, id).await;
        if done(&b) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("broadcast never got there: {b:#}");
}

async fn report(app: &TestApp, token: &str, id: &Value) -> Vec<Vec<String>> {
    let r = app
        .http
        .get(app.url(&format!("/api/broadcasts/{id}/report.csv")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = r.text().await.unwrap();
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

const CONTACTS: &str = "phone,language,city,case_id,name,tags\n\
    +6281200000001,so,Batam,,Hodan,parents;batam-school\n\
    +6281200000002,prs,Batam,,Ahmad,parents\n\
    +6281200000003,ti,Batam,,Selam,\n\
    +6281200000004,so,Medan,,Ayaan,parents\n\
    +6281200000005,so,Batam,,Farah,\n";

#[tokio::test]
async fn a_broadcast_reaches_its_audience_once_each_in_their_language_with_placeholders() {
    let app = spawn_app().await;
    let staff = app.user("sari", Role::Staff, vec![]);
    let imported = import_contacts(&app, &staff, CONTACTS).await;
    assert_eq!(imported["imported"], 5);
    import_payments(&app, &staff, "city,next_payment_date\nBatam,2026-12-28\n").await;
    // Farah asks for no more notices.
    app.sms("+6281200000005", "STOP").await;
    for _ in 0..200 {
        let c = app
            .store
            .contact(&kabar::domain::ContactId::parse("+6281200000005").unwrap())
            .unwrap();
        if c.is_some_and(|c| c.opted_out) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let b = create(
        &app,
        &staff,
        json!({
            "name": "Payment date Batam",
            "texts": {
                "so": "Salaan {name}. Lacagta {city}: {next_payment_date}.",
                "fa-AF": "سلام {name}. پول {city}: {next_payment_date}."
            },
            "audience": {"cities": ["batam"]}
        }),
    )
    .await;
    // The preview is there from the draft on.
    assert_eq!(b["recipients"], 2, "{b:#}");
    assert_eq!(b["excluded"]["opted_out"], 1);
    assert_eq!(b["excluded"]["no_text"], 1, "Tigrinya, no fallback");
    assert_eq!(b["by_language"]["so"], 1);
    assert_eq!(b["by_language"]["fa-AF"], 1);
    assert_eq!(b["by_channel"]["sms"], 2);
    assert_eq!(b["segments"]["so"]["encoding"], "GSM-7");
    assert_eq!(b["segments"]["fa-AF"]["encoding"], "UCS-2");
    assert_eq!(b["total_segments"], 2);
    assert_eq!(b["progress"]["queued"], 0);

    let (status, sent) = act(&app, &staff, &b["id"], "send").await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["status"], "sending");
    let hodan = app.twilio.wait_for("+6281200000001", 1).await;
    assert_eq!(hodan[0].body, "Salaan Hodan. Lacagta Batam: 28/12/2026.");
    let ahmad = app.twilio.wait_for("+6281200000002", 1).await;
    assert_eq!(ahmad[0].body, "سلام Ahmad. پول Batam: ۲۸/۱۲/۲۰۲۶.");
    let done = wait_until(&app, &staff, &b["id"], |b| b["status"] == "sent").await;
    assert_eq!(done["progress"]["sent"], 2, "{done:#}");
    assert_eq!(done["progress"]["queued"], 0);
    // Nobody outside the audience, nobody twice, nobody who opted out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.twilio.delivered_to("+6281200000001").len(), 1);
    assert_eq!(app.twilio.delivered_to("+6281200000002").len(), 1);
    assert!(app.twilio.delivered_to("+6281200000003").is_empty());
    assert!(app.twilio.delivered_to("+6281200000004").is_empty());
    // (Her answer to STOP may still be on its way; the broadcast must not be.)
    assert!(
        app.twilio
            .delivered_to("+6281200000005")
            .iter()
            .all(|m| !m.body.contains("Lacagta")),
        "the broadcast reached someone who opted out"
    );

    // Twilio reports Hodan's as delivered: progress and report follow.
    let params = vec![
        ("MessageSid".to_string(), hodan[0].sid.clone().unwrap()),
        ("MessageStatus".to_string(), "delivered".to_string()),
        ("AccountSid".to_string(), ACCOUNT_SID.to_string()),
    ];
    let r = app.post_twilio("/webhooks/twilio/status", &params).await;
    assert_eq!(r.status(), 200);
    let delivered = wait_until(&app, &staff, &b["id"], |b| b["progress"]["delivered"] == 1).await;
    assert_eq!(delivered["progress"]["sent"], 1);
    let rows = report(&app, &staff, &b["id"]).await;
    assert_eq!(
        rows,
        vec![
            vec!["+6281200000001", "so", "sms", "delivered", ""],
            vec!["+6281200000002", "fa-AF", "sms", "sent", ""],
        ]
    );
    // Audit rows for create, send and the automatic finish; a counter per status.
    let admin = app.user("root", Role::Admin, vec![]);
    let audit = app.get_json("/api/audit", &admin).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    for a in ["broadcast-create", "broadcast-send", "broadcast-sent"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("kabar_broadcast_messages_total{status=\"sent\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("kabar_broadcast_messages_total{status=\"delivered\"} 1"));
    assert!(metrics.contains("kabar_broadcast_messages_total{status=\"queued\"} 2"));
}

#[tokio::test]
async fn each_audience_filter_narrows_the_preview() {
    let app = spawn_app().await;
    let staff = app.user("sari", Role::Staff, vec![]);
    import_contacts(&app, &staff, CONTACTS).await;
    // Someone who wrote in on WhatsApp (not imported).
    app.whatsapp_text("6281200000009", "salaan").await;
    app.graph.wait_for("6281200000009", 1).await; // answered: the contact exists
    let texts = json!({"so": "Fariin", "fa-AF": "پیام", "ti": "መልእኽቲ"});
    let cases = [
        (json!({}), 6),
        (json!({"languages": ["so"]}), 3),
        (json!({"languages": ["prs", "ti"]}), 2),
        (json!({"cities": ["Medan"]}), 1),
        (json!({"tags": ["parents"]}), 3),
        (json!({"tags": ["batam-school"], "cities": ["batam"]}), 1),
        (json!({"channels": ["whatsapp"]}), 1),
        (json!({"channels": ["sms"]}), 5),
        (json!({"phones": ["0812-0000-0003", "+6281200000004"]}), 2),
    ];
    for (audience, expected) in cases {
        let (status, p) = post(
            &app,
            &staff,
            "/api/broadcasts/preview",
            json!({"name": "x", "texts": texts, "fallback": "so", "audience": audience}),
        )
        .await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(p["recipients"], expected, "{audience}: {p:#}");
    }
}

#[tokio::test]
async fn bad_input_gets_a_reason_per_field_and_wrong_states_get_409() {
    let app = spawn_app().await;
    let staff = app.user("sari", Role::Staff, vec![]);
    let cases = [
        (
            json!({"name": "x", "texts": {"xx": "hi"}}),
            "texts.xx",
            "unknown language",
        ),
        (
            json!({"name": "x", "texts": {"so": "  "}}),
            "texts.so",
            "empty",
        ),
        (
            json!({"name": "x", "texts": {"so": "Hi {nmae}"}}),
            "texts.so",
            "{nmae}",
        ),
        (
            json!({"name": "x", "texts": {"so": "a".repeat(1600)}}),
            "texts.so",
            "at most 10",
        ),
        (
            json!({"name": "x", "texts": {"so": "hi"}, "send_at": "2020-01-01T00:00:00Z"}),
            "send_at",
            "past",
        ),
        (
            json!({"name": "x", "texts": {"so": "hi"}, "fallback": "en"}),
            "fallback",
            "no text",
        ),
        (
            json!({"name": "x", "texts": {"so": "hi"}, "audience": {"channels": ["fax"]}}),
            "audience.channels",
            "fax",
        ),
        (json!({"name": "", "texts": {"so": "hi"}}), "name", "name"),
    ];
    for (body, field, words) in cases {
        let (status, e) = post(&app, &staff, "/api/broadcasts", body.clone()).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(e["error"], "invalid");
        let reason = e["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == field)
            .unwrap_or_else(|| panic!("{field} in {e}"));
        assert!(reason["reason"].as_str().unwrap().contains(words), "{e}");
        assert!(e["detail"].as_str().unwrap().contains(field));
    }
    // Malformed JSON is a 400, not a panic.
    let r = app
        .http
        .post(app.url("/api/broadcasts"))
        .bearer_auth(&staff)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        app.store.broadcasts().unwrap().is_empty(),
        "nothing half-written"
    );

    // Nobody in the audience: 422 "nobody to send to".
    let nobody = create(
        &app,
        &staff,
        json!({"name": "x", "texts": {"so": "hi"}, "audience": {"cities": ["Nowhere"]}}),
    )
    .await;
    let (status, e) = act(&app, &staff, &nobody["id"], "send").await;
    assert_eq!(status, 422);
    assert!(
        e["detail"].as_str().unwrap().contains("nobody to send to"),
        "{e}"
    );
    assert_eq!(get(&app, &staff, &nobody["id"]).await["status"], "draft");

    // Sending twice and cancelling a finished broadcast: 409.
    import_contacts(&app, &staff, CONTACTS).await;
    let b = create(&app, &staff, json!({"name": "x", "texts": {"so": "hi"}})).await;
    assert_eq!(act(&app, &staff, &b["id"], "send").await.0, 200);
    assert_eq!(act(&app, &staff, &b["id"], "send").await.0, 409);
    assert_eq!(act(&app, &staff, &b["id"], "approve").await.0, 409);
    wait_until(&app, &staff, &b["id"], |b| b["status"] == "sent").await;
    let (status, e) = act(&app, &staff, &b["id"], "cancel").await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(act(&app, &staff, &b["id"], "pause").await.0, 409);
    assert_eq!(act(&app, &staff, &b["id"], "resume").await.0, 409);
    assert_eq!(
        app.get_json("/api/broadcasts/999", &staff).await["error"],
        "not found"
    );
}

#[tokio::test]
async fn only_staff_and_admins_broadcast_and_a_second_person_approves_large_ones() {
    let app = spawn_configured(Setup::default(), |c| c.broadcasts.approval_over = 2).await;
    let staff = app.user("sari", Role::Staff, vec![]);
    let other = app.user("budi", Role::Staff, vec![]);
    let admin = app.user("root", Role::Admin, vec![]);
    let interpreter = app.user("int", Role::Interpreter, vec![kabar::i18n::Lang::Somali]);
    let supervisor = app.user("sup", Role::Supervisor, vec![]);
    import_contacts(&app, &staff, CONTACTS).await;
    let body = json!({"name": "School enrolment", "texts": {"so": "Diiwaangelinta dugsiga"}});
    for token in [&interpreter, &supervisor] {
        let (status, e) = post(&app, token, "/api/broadcasts", body.clone()).await;
        assert_eq!(status, 403, "{e}");
        let r = app
            .http
            .get(app.url("/api/broadcasts"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    let r = app
        .http
        .get(app.url("/api/broadcasts"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Three Somali speakers > approval_over = 2.
    let b = create(&app, &staff, body.clone()).await;
    assert_eq!(b["recipients"], 3);
    assert_eq!(b["needs_approval"], true);
    let (status, waiting) = act(&app, &staff, &b["id"], "send").await;
    assert_eq!(status, 200);
    assert_eq!(waiting["status"], "awaiting_approval");
    // The approver sees the preview and the texts.
    let seen = get(&app, &other, &b["id"]).await;
    assert_eq!(seen["recipients"], 3);
    assert_eq!(seen["texts"]["so"], "Diiwaangelinta dugsiga");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        app.twilio.delivered_to("+6281200000001").is_empty(),
        "nothing goes before approval"
    );
    let (status, e) = act(&app, &staff, &b["id"], "approve").await;
    assert_eq!(status, 403, "the creator cannot approve: {e}");
    let (status, approved) = act(&app, &other, &b["id"], "approve").await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["approved_by"], "budi");
    assert_eq!(approved["status"], "sending");
    assert_eq!(act(&app, &admin, &b["id"], "approve").await.0, 409);
    app.twilio.wait_for("+6281200000001", 1).await;
    app.twilio.wait_for("+6281200000004", 1).await;
    let audit = app.get_json("/api/audit", &admin).await;
    let approval = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "broadcast-approve")
        .expect("an audit row for the approval");
    assert_eq!(approval["user"], "budi");

    // Two recipients need no approval.
    let small = create(
        &app,
        &staff,
        json!({"name": "Parents", "texts": {"so": "Waalidiinta"}, "audience": {"languages": ["so"], "tags": ["parents"]}}),
    )
    .await;
    assert_eq!(small["recipients"], 2);
    assert_eq!(
        act(&app, &staff, &small["id"], "send").await.1["status"],
        "sending"
    );
}

/// Thirty recipients at 5 messages a second: six seconds of sending.
fn many_contacts(n: usize) -> String {
    let mut csv = String::from("phone,language,city\n");
    for i in 0..n {
        csv.push_str(&format!("+62813000{i:05},so,Batam\n"));
    }
    csv
}

fn slow_twilio(c: &mut kabar::config::Config) {
    if let Some(t) = c.twilio.as_mut() {
        t.tps = 5;
    }
}

#[tokio::test]
async fn a_new_persons_reply_overtakes_a_broadcast_at_tps_5() {
    let app = spawn_configured(Setup::default(), slow_twilio).await;
    let staff = app.user("sari", Role::Staff, vec![]);
    import_contacts(&app, &staff, &many_contacts(30)).await;
    let b = create(
        &app,
        &staff,
        json!({"name": "x", "texts": {"so": "Ogeysiis"}}),
    )
    .await;
    assert_eq!(act(&app, &staff, &b["id"], "send").await.0, 200);
    app.twilio.wait_for("+6281300000000", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    app.sms("+6281299990001", "hello").await;
    app.twilio.wait_for("+6281299990001", 1).await;
    let reply_took = started.elapsed();
    let broadcast_sent = app
        .twilio
        .received()
        .iter()
        .filter(|m| m.to.starts_with("+62813000"))
        .count();
    // Behind the broadcast it would wait for the rest of it (over 4 s at TPS 5); the margin
    // is for a loaded test machine.
    assert!(
        reply_took < Duration::from_millis(2500),
        "the reply waited {reply_took:?} behind the broadcast"
    );
    assert!(
        broadcast_sent < 25,
        "the broadcast was still going ({broadcast_sent}/30 sent) when the reply went out"
    );
    let done = wait_until(&app, &staff, &b["id"], |b| b["status"] == "sent").await;
    assert_eq!(done["progress"]["sent"], 30);
}

#[tokio::test]
async fn pause_resume_and_cancel_stop_and_start_sending() {
    let app = spawn_configured(Setup::default(), slow_twilio).await;
    let staff = app.user("sari", Role::Staff, vec![]);
    import_contacts(&app, &staff, &many_contacts(30)).await;
    let b = create(
        &app,
        &staff,
        json!({"name": "x", "texts": {"so": "Ogeysiis"}}),
    )
    .await;
    assert_eq!(act(&app, &staff, &b["id"], "send").await.0, 200);
    app.twilio.wait_for("+6281300000001", 1).await;
    let (status, paused) = act(&app, &staff, &b["id"], "pause").await;
    assert_eq!(status, 200);
    assert_eq!(paused["status"], "paused");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let at_pause = app.twilio.received().len();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        app.twilio.received().len(),
        at_pause,
        "nothing goes out while paused"
    );
    let (status, resumed) = act(&app, &staff, &b["id"], "resume").await;
    assert_eq!(status, 200);
    assert_eq!(resumed["status"], "sending");
    for _ in 0..100 {
        if app.twilio.received().len() >= at_pause + 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        app.twilio.received().len() >= at_pause + 3,
        "sending resumed"
    );
    let (status, cancelled) = act(&app, &staff, &b["id"], "cancel").await;
    assert_eq!(status, 200);
    assert_eq!(cancelled["status"], "cancelled");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let at_cancel = app.twilio.received().len();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        app.twilio.received().len(),
        at_cancel,
        "nothing more after cancel"
    );
    assert!(at_cancel < 30);
    let rows = report(&app, &staff, &b["id"]).await;
    assert_eq!(rows.len(), 30);
    let cancelled_rows = rows.iter().filter(|r| r[3] == "cancelled").count();
    let sent_rows = rows.iter().filter(|r| r[3] == "sent").count();
    assert_eq!(sent_rows, at_cancel, "{rows:?}");
    assert_eq!(cancelled_rows + sent_rows, 30, "{rows:?}");
    let admin = app.user("root", Role::Admin, vec![]);
    let audit = app.get_json("/api/audit", &admin).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    for a in ["broadcast-pause", "broadcast-resume", "broadcast-cancel"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn quiet_hours_hold_a_broadcast_until_they_end() {
    // Quiet from an hour ago to an hour from now, in the helpdesk zone (Jakarta, UTC+7).
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta);
    let quiet = format!(
        "{}-{}",
        (now - chrono::Duration::hours(1)).format("%H:%M"),
        (now + chrono::Duration::hours(1)).format("%H:%M")
    );
    let app = spawn_configured(Setup::default(), move |c| {
        c.broadcasts.quiet_hours = Some(quiet);
    })
    .await;
    let staff = app.user("sari", Role::Staff, vec![]);
    import_contacts(&app, &staff, CONTACTS).await;
    let b = create(
        &app,
        &staff,
        json!({"name": "x", "texts": {"so": "Ogeysiis"}}),
    )
    .await;
    assert_eq!(b["quiet_now"], true);
    assert_eq!(
        act(&app, &staff, &b["id"], "send").await.1["status"],
        "sending"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        app.twilio.delivered_to("+6281200000001").is_empty(),
        "quiet"
    );
    // A reply to someone who writes in is not a broadcast: it goes.
    app.sms("+6281299990002", "hello").await;
    app.twilio.wait_for("+6281299990002", 1).await;
    app.advance_hours(2);
    app.dispatcher.wake();
    app.twilio.wait_for("+6281200000001", 1).await;
}

#[tokio::test]
async fn a_test_send_and_a_broadcast_show_in_the_history_and_the_reply_goes_through_the_flow() {
    let app = spawn_app().await;
    let staff = app.user("sari", Role::Staff, vec![]);
    // A Somali speaker who writes on WhatsApp (window open).
    app.whatsapp_text("6281200000010", "salaan").await;
    app.graph.wait_for("6281200000010", 1).await;
    app.whatsapp_text("6281200000010", "3").await; // pick a language from the menu
    app.intake_settled().await;
    let phone = kabar::domain::ContactId::parse("+6281200000010").unwrap();
    let b = create(
        &app,
        &staff,
        json!({"name": "Closed Friday", "texts": {"so": "Xafiisku waa xiran yahay Jimcaha", "en": "The office is closed on Friday"}, "fallback": "en"}),
    )
    .await;
    // A test send to a number kabar does not know: the fallback text, by SMS.
    let (status, t) = post(
        &app,
        &staff,
        &format!("/api/broadcasts/{}/test", b["id"]),
        json!({"phone": "+6281299990003"}),
    )
    .await;
    assert_eq!(status, 202, "{t}");
    assert_eq!(t["language"], "en");
    let got = app.twilio.wait_for("+6281299990003", 1).await;
    assert_eq!(got[0].body, "The office is closed on Friday");
    let (status, _) = post(
        &app,
        &staff,
        &format!("/api/broadcasts/{}/test", b["id"]),
        json!({"phone": "12"}),
    )
    .await;
    assert_eq!(status, 422);

    let before = app.graph.sent_to("6281200000010").len();
    assert_eq!(act(&app, &staff, &b["id"], "send").await.0, 200);
    let sent = app.graph.wait_for("6281200000010", before + 1).await;
    let body = serde_json::to_string(&sent[before]).unwrap();
    let contact = app.store.contact(&phone).unwrap().unwrap();
    let expected = if contact.language == Some(kabar::i18n::Lang::Somali) {
        "Xafiisku waa xiran yahay Jimcaha"
    } else {
        "The office is closed on Friday"
    };
    assert!(body.contains(expected), "{body}");
    // In the person's history, marked as the broadcast's.
    let history = app.store.history(&phone).unwrap();
    let marked: Vec<_> = history.iter().filter(|m| m.broadcast.is_some()).collect();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].broadcast, b["id"].as_u64());
    // Their answer goes through the normal flow: "menu" gets the menu back.
    app.whatsapp_text("6281200000010", "menu").await;
    let after = app.graph.wait_for("6281200000010", before + 2).await;
    assert!(
        after[before + 1].get("interactive").is_some()
            || after[before + 1]["text"]["body"]
                .as_str()
                .is_some_and(|t| t.contains('1')),
        "the menu: {:#}",
        after[before + 1]
    );
}

#[tokio::test]
async fn an_import_of_100k_contacts_is_accepted_through_the_api() {
    let app = spawn_app().await;
    let staff = app.user("sari", Role::Staff, vec![]);
    let mut csv = String::from("phone,language,city,case_id,name,tags\n");
    for i in 0..100_000 {
        csv.push_str(&format!(
            "+6281{i:09},so,Batam,CASE{i:06},Name {i},parents;batam-school\n"
        ));
    }
    assert!(csv.len() > 4_000_000, "{}", csv.len());
    let imported = import_contacts(&app, &staff, &csv).await;
    assert_eq!(imported["imported"], 100_000);
    // Webhooks keep their 64 KiB limit.
    let big = "a".repeat(70 * 1024);
    let params = inbound_params(&app.next_sid(), "+6281299990004", &big);
    let r = app.post_twilio("/webhooks/twilio", &params).await;
    assert_eq!(r.status(), 413);
}

mod crash {
    use super::*;
    use std::process::{Child, Command, Stdio};

    fn cli(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> String {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_kabar"))
            .args(args)
            .env("KABAR_SERVER__DATA_DIR", data)
            .env("KABAR_CONTENT__FLOWS", manifest_dir().join("flows"))
            .env("KABAR_CONTENT__LOCALES", manifest_dir().join("locales"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn serve(data: &std::path::Path, port: u16, twilio: &FakeTwilio) -> Child {
        Command::new(env!("CARGO_BIN_EXE_kabar"))
            .arg("serve")
            .env("KABAR_SERVER__DATA_DIR", data)
            .env("KABAR_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "KABAR_SERVER__PUBLIC_URL",
                format!("http://127.0.0.1:{port}"),
            )
            .env("KABAR_CONTENT__FLOWS", manifest_dir().join("flows"))
            .env("KABAR_CONTENT__LOCALES", manifest_dir().join("locales"))
            .env("KABAR_TWILIO__ACCOUNT_SID", ACCOUNT_SID)
            .env("KABAR_TWILIO__AUTH_TOKEN", AUTH_TOKEN)
            .env("KABAR_TWILIO__FROM", OUR_NUMBER)
            .env("KABAR_TWILIO__API_BASE", format!("http://{}", twilio.addr))
            .env("KABAR_TWILIO__TPS", "25")
            .env("KABAR_SIMULATOR__ENABLED", "false")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    async fn healthy(base: &str) {
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if http.get(format!("{base}/healthz")).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("kabar serve never answered");
    }

    #[tokio::test]
    async fn kill_9_mid_broadcast_misses_nobody_and_repeats_at_most_those_in_flight() {
        const N: usize = 200;
        let data = tempfile::tempdir().unwrap();
        let csv = data.path().join("contacts.csv");
        std::fs::write(&csv, many_contacts(N)).unwrap();
        cli(
            data.path(),
            &["contacts", "import", csv.to_str().unwrap()],
            None,
        );
        cli(
            data.path(),
            &["user", "add", "sari", "--role", "staff", "--password-stdin"],
            Some("a long enough password\n"),
        );
        let token = cli(data.path(), &["token", "create", "sari"], None)
            .lines()
            .last()
            .unwrap()
            .to_string();
        let twilio = FakeTwilio::start().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = serve(data.path(), port, &twilio);
        healthy(&base).await;
        let http = reqwest::Client::new();
        let b: Value = http
            .post(format!("{base}/api/broadcasts"))
            .bearer_auth(&token)
            .json(&json!({"name": "crash", "texts": {"so": "Ogeysiis {city}"}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(b["recipients"], N as u64, "{b}");
        let sent: Value = http
            .post(format!("{base}/api/broadcasts/{}/send", b["id"]))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // approval_over is 500 by default: 200 go without a second person.
        assert_eq!(sent["status"], "sending", "{sent}");
        for _ in 0..400 {
            if twilio.received().len() >= N / 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        let at_crash = twilio.received().len();
        assert!(
            at_crash < N,
            "the crash came mid-broadcast ({at_crash} sent)"
        );

        let mut server = serve(data.path(), port, &twilio);
        healthy(&base).await;
        let mut status = Value::Null;
        for _ in 0..1200 {
            status = http
                .get(format!("{base}/api/broadcasts/{}", b["id"]))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if status["status"] == "sent" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        server.kill().unwrap();
        server.wait().unwrap();
        assert_eq!(status["status"], "sent", "{status:#}");
        assert_eq!(status["progress"]["sent"], N as u64, "{status:#}");
        let mut per_phone = std::collections::BTreeMap::<String, usize>::new();
        for m in twilio.received() {
            assert_eq!(m.body, "Ogeysiis Batam");
            *per_phone.entry(m.to).or_default() += 1;
        }
        assert_eq!(per_phone.len(), N, "everybody got it");
        let twice = per_phone.values().filter(|n| **n > 1).count();
        assert!(per_phone.values().all(|n| *n <= 2));
        // At 25 a second, at most a handful can be between the provider's answer and its
        // record on disk.
        assert!(twice <= 5, "{twice} people got it twice");
        eprintln!("kill -9 after {at_crash} of {N}: {twice} sent twice");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_during_enqueueing_neither_skips_nor_duplicates() {
    use kabar::broadcast::{Routes, Status, validate};
    use kabar::domain::Channel;
    use kabar::store::{SledStore, Store};
    let data = tempfile::tempdir().unwrap();
    let rows = kabar::import::parse_contacts(many_contacts(10_000).as_bytes())
        .unwrap()
        .rows;
    let id;
    {
        let store: Store = std::sync::Arc::new(SledStore::open(data.path()).unwrap());
        store.upsert_contacts(&rows).await.unwrap();
        let valid = validate(
            serde_json::from_value(json!({"name": "x", "texts": {"so": "Ogeysiis"}})).unwrap(),
            0,
        )
        .unwrap();
        let b = store.create_broadcast(valid, "sari").await.unwrap();
        id = b.id;
        let routes = Routes {
            available: [Channel::TwilioSms].into_iter().collect(),
            sms: Some(Channel::TwilioSms),
            ..Routes::default()
        };
        // One batch written, then the process dies.
        let (written, done) =
            kabar::dispatch::bulk::enqueue(&store, &b, &routes, &kabar::metrics::Metrics::new(), 1)
                .await
                .unwrap();
        assert_eq!(written, kabar::dispatch::bulk::ENQUEUE_BATCH as u64);
        assert!(!done);
        store.close().await.unwrap();
    }
    let store: Store = std::sync::Arc::new(SledStore::open(data.path()).unwrap());
    let b = store.broadcast(id).await.unwrap().unwrap();
    assert_eq!(b.status, Status::Draft);
    let routes = Routes {
        available: [Channel::TwilioSms].into_iter().collect(),
        sms: Some(Channel::TwilioSms),
        ..Routes::default()
    };
    let metrics = kabar::metrics::Metrics::new();
    let rest = kabar::dispatch::bulk::enqueue_all(&store, &b, &routes, &metrics)
        .await
        .unwrap();
    assert_eq!(rest, 10_000 - kabar::dispatch::bulk::ENQUEUE_BATCH as u64);
    // Running it again (a second restart) adds nobody.
    assert_eq!(
        kabar::dispatch::bulk::enqueue_all(&store, &b, &routes, &metrics)
            .await
            .unwrap(),
        0
    );
    let mut phones = std::collections::BTreeSet::new();
    for (p, _) in store.recipients(id).await.unwrap() {
        assert!(phones.insert(p), "a recipient twice");
    }
    assert_eq!(phones.len(), 10_000);
    assert_eq!(store.bulk_queue(id, 20_000).await.unwrap().len(), 10_000);
    assert_eq!(store.enqueue_cursor(id).await.unwrap().written, 10_000);
}

#[tokio::test]
async fn a_broadcast_leaves_an_open_ticket_open_and_interpreters_see_it_marked() {
    let app = spawn_app().await;
    let staff = app.user("sari", Role::Staff, vec![]);
    let supervisor = app.user("sup", Role::Supervisor, vec![]);
    let number = "+6281200000020";
    let phone = kabar::domain::ContactId::parse(number).unwrap();
    // Hello, English, agree to the privacy notice, ask for a person.
    app.sms(number, "hello").await;
    app.twilio.wait_for(number, 1).await;
    app.sms(number, "1").await;
    app.twilio.wait_for(number, 2).await;
    app.sms(number, "1").await;
    app.twilio.wait_for(number, 4).await;
    app.sms(number, "agent").await;
    app.twilio.wait_for(number, 5).await;
    let ticket = app
        .store
        .open_ticket_of(&phone)
        .unwrap()
        .expect("asking for a person opens a ticket");
    let session_before = app.store.session(&phone).unwrap();
    let before = app.twilio.delivered_to("+6281200000020").len();
    let b = create(
        &app,
        &staff,
        json!({"name": "x", "texts": {"en": "The office is closed on Friday"}}),
    )
    .await;
    assert_eq!(act(&app, &staff, &b["id"], "send").await.0, 200);
    let got = app.twilio.wait_for("+6281200000020", before + 1).await;
    assert_eq!(got[before].body, "The office is closed on Friday");
    wait_until(&app, &staff, &b["id"], |b| b["status"] == "sent").await;
    // The conversation and the ticket are as they were.
    assert_eq!(app.store.session(&phone).unwrap(), session_before);
    let open = app
        .store
        .open_ticket_of(&phone)
        .unwrap()
        .expect("still open");
    assert_eq!(open.id, ticket.id);
    let detail = app
        .get_json(&format!("/api/tickets/{}", ticket.id), &supervisor)
        .await;
    let marked: Vec<&Value> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["broadcast"] == b["id"])
        .collect();
    assert_eq!(marked.len(), 1, "{detail:#}");
    assert_eq!(marked[0]["text"], "The office is closed on Friday");
}

#[tokio::test]
async fn broadcast_pages_are_for_staff_and_their_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let password = "test password 123";
    app.user("sari", Role::Staff, vec![]);
    app.user("int", Role::Interpreter, vec![kabar::i18n::Lang::Somali]);
    app.user("sup", Role::Supervisor, vec![]);
    for name in ["int", "sup"] {
        let b = app.login(name, password).await;
        for path in ["/broadcasts", "/broadcasts/new"] {
            let r = b
                .http
                .get(app.url(path))
                .header("cookie", &b.cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{name} {path}");
        }
    }
    let b = app.login("sari", password).await;
    let page = b
        .http
        .get(app.url("/broadcasts/new"))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"csrf\""));
    assert!(page.contains("src=\"/assets/broadcast.js?v="));
    assert!(
        !page.contains("<script>"),
        "no inline script on the broadcast pages"
    );
    let form = [
        ("name", "Closed"),
        ("text_so", "Xafiisku waa xiran yahay"),
        ("text_fa-AF", "دفتر بسته است"),
        ("send_at", ""),
    ];
    let without: Vec<(&str, &str)> = form.to_vec();
    let r = b
        .http
        .post(app.url("/broadcasts/new"))
        .header("cookie", &b.cookie)
        .form(&without)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no CSRF token");
    assert!(app.store.broadcasts().unwrap().is_empty());
    let mut with = without.clone();
    with.push(("csrf", &b.csrf));
    // An unknown placeholder comes back with the reason and the text kept.
    let mut bad = with.clone();
    bad[1] = ("text_so", "Salaan {magac}");
    let r = b
        .http
        .post(app.url("/broadcasts/new"))
        .header("cookie", &b.cookie)
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("{magac}") && html.contains("unknown placeholder"));
    let r = b
        .http
        .post(app.url("/broadcasts/new"))
        .header("cookie", &b.cookie)
        .form(&with)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let all = app.store.broadcasts().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(location, format!("/broadcasts/{}", all[0].id));
    // Actions need the token too.
    let r = b
        .http
        .post(app.url(&format!("{location}/send")))
        .header("cookie", &b.cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.store.broadcast(all[0].id).unwrap().unwrap().status,
        kabar::broadcast::Status::Draft
    );
    // The JSON API from a browser session needs X-CSRF-Token for changes.
    let r = b
        .http
        .post(app.url(&format!("/api{location}/cancel")))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = b
        .http
        .post(app.url(&format!("/api{location}/cancel")))
        .header("cookie", &b.cookie)
        .header("x-csrf-token", &b.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_scheduled_broadcast_waits_for_its_time() {
    let app = spawn_app().await;
    let staff = app.user("sari", Role::Staff, vec![]);
    import_contacts(&app, &staff, CONTACTS).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let b = create(
        &app,
        &staff,
        json!({"name": "x", "texts": {"so": "Ogeysiis"}, "send_at": at.to_rfc3339()}),
    )
    .await;
    let local = at
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert_eq!(
        b["send_at_local"],
        local.as_str(),
        "shown in the helpdesk time zone"
    );
    let (status, s) = act(&app, &staff, &b["id"], "send").await;
    assert_eq!(status, 200);
    assert_eq!(s["status"], "scheduled");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        app.twilio.delivered_to("+6281200000001").is_empty(),
        "not before its time"
    );
    let started = wait_until(&app, &staff, &b["id"], |b| b["status"] != "scheduled").await;
    assert!(chrono::Utc::now() >= at, "{started}");
    app.twilio.wait_for("+6281200000001", 1).await;
}

#[tokio::test]
async fn whatsapp_recipients_outside_the_window_get_the_template_as_the_preview_said() {
    let app = spawn_app().await;
    let staff = app.user("sari", Role::Staff, vec![]);
    import_contacts(&app, &staff, "phone,language\n+6281200000030,so\n").await;
    app.whatsapp_text("6281200000030", "salaan").await;
    app.graph.wait_for("6281200000030", 1).await;
    app.intake_settled().await;
    app.advance_hours(25);
    let before = app.graph.sent_to("6281200000030").len();
    let b = create(
        &app,
        &staff,
        json!({"name": "x", "texts": {"so": "Xafiisku waa xiran yahay"}, "audience": {"channels": ["whatsapp"]}}),
    )
    .await;
    assert_eq!(b["recipients"], 1, "{b:#}");
    assert_eq!(b["whatsapp_outside_window"]["template"], 1, "{b:#}");
    assert_eq!(act(&app, &staff, &b["id"], "send").await.0, 200);
    let sent = app.graph.wait_for("6281200000030", before + 1).await;
    let last = &sent[before];
    assert_eq!(last["type"], "template", "{last:#}");
    assert_eq!(last["template"]["name"], "kabar_notice");
    assert!(last.to_string().contains("Xafiisku waa xiran yahay"));
}

/// Schedules and quiet hours follow the app's clock: a broadcast scheduled three hours ahead
/// starts when the clock passes its time, quiet hours then still hold it, and it goes out
/// when they end.
#[tokio::test]
async fn a_scheduled_broadcast_starts_when_the_clock_passes_its_time_and_quiet_hours_hold_it() {
    let now = chrono::Utc::now();
    let local = now.with_timezone(&chrono_tz::Asia::Jakarta);
    let quiet = format!(
        "{}-{}",
        (local + chrono::Duration::hours(2)).format("%H:%M"),
        (local + chrono::Duration::hours(5)).format("%H:%M")
    );
    let app = spawn_configured(Setup::default(), move |c| {
        c.broadcasts.quiet_hours = Some(quiet);
    })
    .await;
    let staff = app.user("sari", Role::Staff, vec![]);
    import_contacts(&app, &staff, CONTACTS).await;
    let at = now + chrono::Duration::hours(3);
    let b = create(
        &app,
        &staff,
        json!({"name": "x", "texts": {"so": "Ogeysiis"}, "send_at": at.to_rfc3339()}),
    )
    .await;
    assert_eq!(b["quiet_now"], false);
    let (status, s) = act(&app, &staff, &b["id"], "send").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "scheduled");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(get(&app, &staff, &b["id"]).await["status"], "scheduled");

    // Four hours on: past its time, inside the quiet hours.
    app.advance_hours(4);
    wait_until(&app, &staff, &b["id"], |b| b["status"] == "sending").await;
    app.dispatcher.wake();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        app.twilio.delivered_to("+6281200000001").is_empty(),
        "held by the quiet hours"
    );

    // Two more: the quiet hours are over.
    app.advance_hours(2);
    app.dispatcher.wake();
    let got = app.twilio.wait_for("+6281200000001", 1).await;
    assert_eq!(got[0].body, "Ogeysiis");
}
