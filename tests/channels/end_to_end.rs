//! WhatsApp Cloud API and the Android SMS gateway, end to end on port 0 against a fake Graph
//! API and a fake gateway phone: conversations, statuses, the 24-hour window, an offline phone.
//! (Each webhook's requests and answers are in the harness's `testdata/`.)

use std::time::Duration;

use crate::common::*;
use kabar::domain::ContactId;
use kabar::domain::{Author, Channel, Direction, MessageStatus, Role};
use kabar::i18n::Lang;
use serde_json::json;

fn text(lang: Lang, id: &str) -> String {
    localizer().text(lang, id, &[]).unwrap()
}

/// Waits until `check` holds (bounded).
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn list_reply(wa_id: &str, id: &str, row: &str) -> serde_json::Value {
    whatsapp_message(
        wa_id,
        id,
        json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": row, "title": "x"}}}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn somali_conversation_on_whatsapp_with_list_menus() {
    let app = spawn_app().await;
    let wa_id = "252612345678";
    let phone = "+252612345678";
    app.whatsapp_text(wa_id, "Salaan, waxaan rabaa caawimaad")
        .await;
    let sent = app.graph.wait_for(wa_id, 1).await;
    // The language menu as a list: Somali first, each language in its own words.
    assert_eq!(sent[0]["type"], "interactive");
    assert_eq!(sent[0]["interactive"]["type"], "list");
    assert_eq!(
        sent[0]["interactive"]["body"]["text"],
        text(Lang::Somali, "language-menu")
    );
    assert_eq!(
        sent[0]["interactive"]["action"]["button"],
        text(Lang::Somali, "menu-button")
    );
    let rows = &sent[0]["interactive"]["action"]["sections"][0]["rows"];
    assert_eq!(rows.as_array().unwrap().len(), 6);
    assert_eq!(rows[0]["id"], "1");
    assert_eq!(rows[0]["title"], "Soomaali");
    assert_eq!(rows[1]["title"], "دری (افغانستان)");

    // Tapping rows answers the menus.
    let r = app.whatsapp(&list_reply(wa_id, "wamid.A1", "1")).await;
    assert_eq!(r.status(), 200);
    let sent = app.graph.wait_for(wa_id, 2).await;
    assert_eq!(
        sent[1]["interactive"]["body"]["text"],
        text(Lang::Somali, "consent-notice")
    );
    app.whatsapp(&list_reply(wa_id, "wamid.A2", "1")).await;
    let sent = app.graph.wait_for(wa_id, 4).await;
    assert_eq!(sent[2]["type"], "text");
    assert_eq!(sent[2]["text"]["body"], text(Lang::Somali, "welcome"));
    assert_eq!(
        sent[3]["interactive"]["body"]["text"],
        text(Lang::Somali, "main-menu")
    );
    let rows = sent[3]["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 6);
    assert!(
        rows.iter()
            .all(|r| r["title"].as_str().unwrap().chars().count() <= 24)
    );
    // A button reply and typed text work the same way.
    app.whatsapp(&whatsapp_message(
        wa_id,
        "wamid.A3",
        json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "4", "title": "x"}}}),
    ))
    .await;
    let sent = app.graph.wait_for(wa_id, 5).await;
    assert_eq!(
        sent[4]["interactive"]["body"]["text"],
        text(Lang::Somali, "resettlement-menu")
    );

    // One contact, stored under E.164, language remembered; replies went back on WhatsApp.
    let p = ContactId::parse(phone).unwrap();
    let contact = app.store.contact(&p).unwrap().unwrap();
    assert_eq!(contact.language, Some(Lang::Somali));
    assert_eq!(contact.last_channel, Some(Channel::Whatsapp));
    assert!(app.twilio.received().is_empty());

    // Statuses update the stored message; one for an unknown message is acknowledged.
    let out = app
        .store
        .history(&p)
        .unwrap()
        .into_iter()
        .rfind(|m| m.direction == Direction::Out && m.external_id.is_some())
        .unwrap();
    let statuses = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
            "statuses": [
                {"id": out.external_id.clone().unwrap(), "status": "delivered", "timestamp": "1763800001", "recipient_id": wa_id},
                {"id": "wamid.UNKNOWN", "status": "read", "timestamp": "1763800002", "recipient_id": wa_id}
            ]
        }}]}]
    });
    assert_eq!(app.whatsapp(&statuses).await.status(), 200);
    let status = app.store.message(out.id).unwrap().unwrap().status;
    assert_eq!(status, MessageStatus::Delivered);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_batch_is_answered_whole() {
    let app = spawn_app().await;
    // A batch: two entries, a message without `from`, statuses mixed in — handled whole.
    let batch = json!({
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
                "messages": [
                    {"from": "93700000002", "id": "wamid.B1", "timestamp": "1", "type": "text", "text": {"body": "hello"}},
                    {"id": "wamid.B2", "timestamp": "1", "type": "text", "text": {"body": "no sender"}}
                ],
                "statuses": [{"id": "wamid.NOPE", "status": "sent", "timestamp": "1", "recipient_id": "1"}]
            }}]},
            {"id": "2", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
                "messages": [
                    {"from": "93700000003", "id": "wamid.B3", "timestamp": "1", "type": "location", "location": {"latitude": -5.1, "longitude": 119.4}}
                ]
            }}]}
        ]
    });
    assert_eq!(app.whatsapp(&batch).await.status(), 200);
    let sent2 = app.graph.wait_for("93700000002", 1).await;
    assert_eq!(
        sent2[0]["interactive"]["type"], "list",
        "language menu for the new contact"
    );
    // A location before any language: the language menu first.
    let sent3 = app.graph.wait_for("93700000003", 1).await;
    assert_eq!(sent3[0]["interactive"]["type"], "list");
    app.stop().await;
}

/// A Somali person who already chose the language and agreed, at the main menu on WhatsApp.
async fn somali_at_menu(app: &TestApp, wa_id: &str) {
    app.whatsapp_text(wa_id, "Salaan, waxaan rabaa caawimaad")
        .await;
    app.graph.wait_for(wa_id, 1).await;
    app.whatsapp(&list_reply(wa_id, &format!("wamid.{wa_id}.1"), "1"))
        .await;
    app.graph.wait_for(wa_id, 2).await;
    app.whatsapp(&list_reply(wa_id, &format!("wamid.{wa_id}.2"), "1"))
        .await;
    app.graph.wait_for(wa_id, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_notes_go_to_a_person_and_locations_get_a_friendly_reply() {
    let app = spawn_app().await;
    let wa_id = "252611111111";
    somali_at_menu(&app, wa_id).await;
    app.whatsapp(&whatsapp_message(
        wa_id,
        "wamid.V1",
        json!({"type": "audio", "audio": {"id": "MEDIA123", "mime_type": "audio/ogg; codecs=opus", "voice": true}}),
    ))
    .await;
    let sent = app.graph.wait_for(wa_id, 5).await;
    assert_eq!(
        sent[4]["text"]["body"],
        text(Lang::Somali, "media-received")
    );
    eventually("media fetched", || {
        app.graph.media_fetched() == vec!["MEDIA123".to_string()]
    })
    .await;
    let p = ContactId::parse("+252611111111").unwrap();
    let mut saved = None;
    for _ in 0..100 {
        saved = app
            .store
            .history(&p)
            .unwrap()
            .into_iter()
            .find_map(|m| m.media_file);
        if saved.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saved.unwrap().ends_with(".ogg"));
    let admin = app.token_for("root", Role::Admin, vec![]);
    let tickets = app.tickets(&admin).await;
    assert_eq!(tickets[0]["phone"], "+252611111111");
    assert_eq!(tickets[0]["topic"], "general");

    // Another person sends a location at the menu: a friendly reply, no error to Meta.
    let other = "252622222222";
    somali_at_menu(&app, other).await;
    let r = app
        .whatsapp(&whatsapp_message(
            other,
            "wamid.L1",
            json!({"type": "location", "location": {"latitude": -5.14, "longitude": 119.41}}),
        ))
        .await;
    assert_eq!(r.status(), 200);
    let sent = app.graph.wait_for(other, 5).await;
    assert_eq!(
        sent[4]["text"]["body"],
        text(Lang::Somali, "unsupported-message")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dari_conversation_through_the_gateway_phone() {
    let app = spawn_setup(Setup {
        twilio: false,
        whatsapp: false,
        gateway: true,
        ..Setup::default()
    })
    .await;
    // The phone shows the Indonesian national form; kabar stores E.164.
    // A greeting, not a question: a question would be answered after consent instead of the
    // main menu (tests/engine.rs), and this test picks from the main menu.
    app.gateway_sms("081234567890", "سلام، چطور استید؟").await;
    let phone = "+6281234567890";
    let sent = app.gateway.wait_for(phone, 1).await;
    assert!(
        sent[0]["textMessage"]["text"]
            .as_str()
            .unwrap()
            .starts_with(&text(Lang::Dari, "language-menu"))
    );
    assert_eq!(sent[0]["withDeliveryReport"], true);
    app.gateway_sms("081234567890", "۱").await;
    app.gateway.wait_for(phone, 2).await;
    app.gateway_sms("081234567890", "۱").await;
    let sent = app.gateway.wait_for(phone, 4).await;
    assert_eq!(sent[2]["textMessage"]["text"], text(Lang::Dari, "welcome"));
    // The phone resends an event: processed once.
    let replay = json!({
        "id": "evt-replay", "webhookId": "kabar", "deviceId": "device-1", "event": "sms:received",
        "payload": {"messageId": "msg-replay", "message": "۴", "sender": "081234567890",
                    "recipient": "+6281100000000", "simNumber": 1, "receivedAt": "2026-11-22T10:00:00.000+07:00"}
    });
    assert_eq!(app.gateway_event(&replay).await.status(), 200);
    assert_eq!(app.gateway_event(&replay).await.status(), 200);
    let sent = app.gateway.wait_for(phone, 5).await;
    assert_eq!(
        sent[4]["textMessage"]["text"]
            .as_str()
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        text(Lang::Dari, "resettlement-menu")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.gateway.sent_to(phone).len(),
        5,
        "the replayed event answered once"
    );

    // Delivery reports reference the id we gave the message.
    let id = sent[4]["id"].as_str().unwrap().to_string();
    let delivered = json!({
        "id": "evt-d1", "webhookId": "kabar", "deviceId": "device-1", "event": "sms:delivered",
        "payload": {"messageId": id, "phoneNumber": phone, "deliveredAt": "2026-11-22T10:00:05.000+07:00"}
    });
    assert_eq!(app.gateway_event(&delivered).await.status(), 200);
    let p = ContactId::parse(phone).unwrap();
    let last = app.store.history(&p).unwrap().into_iter().last().unwrap();
    assert_eq!(last.status, MessageStatus::Delivered);

    // Bad signature and stale timestamps are refused.
    let raw = serde_json::to_vec(&delivered).unwrap();
    let old = (chrono::Utc::now().timestamp() - 600).to_string();
    for (ts, sig, status) in [
        (
            chrono::Utc::now().timestamp().to_string(),
            "00".to_string(),
            403,
        ),
        (old.clone(), gateway_signature(&raw, &old), 403),
    ] {
        let r = app
            .http
            .post(app.url("/webhooks/gateway"))
            .header("x-timestamp", ts)
            .header("x-signature", sig)
            .body(raw.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_24_hours_whatsapp_sends_a_template_or_sms_never_free_text() {
    let app = spawn_setup(Setup {
        twilio: true,
        whatsapp: true,
        gateway: true,
        ..Setup::default()
    })
    .await;
    // Somali has a template; Dari does not, so it falls back to SMS (the gateway phone first).
    let so = "252633333333";
    somali_at_menu(&app, so).await;
    let fa_af = "93700000009";
    app.whatsapp_text(fa_af, "سلام، پیسه ماهوار کی میایه؟").await;
    app.graph.wait_for(fa_af, 1).await;
    app.whatsapp(&list_reply(fa_af, "wamid.D1", "1")).await;
    app.graph.wait_for(fa_af, 2).await;

    app.advance_hours(25);
    let so_phone = ContactId::parse(&format!("+{so}")).unwrap();
    let fa_phone = ContactId::parse(&format!("+{fa_af}")).unwrap();
    let so_text = "Lacagta bishan waxay imaan doontaa 5 December.";
    let fa_text = "پیسه این ماه روز ۵ دسامبر می آید.";
    app.store
        .queue_message(
            &so_phone,
            Channel::Whatsapp,
            Author::User("ana".into()),
            so_text,
            Some(Lang::Somali),
        )
        .unwrap();
    app.store
        .queue_message(
            &fa_phone,
            Channel::Whatsapp,
            Author::User("ana".into()),
            fa_text,
            Some(Lang::Dari),
        )
        .unwrap();
    app.dispatcher.wake();

    let sent = app.graph.wait_for(so, 5).await;
    assert_eq!(sent[4]["type"], "template");
    assert_eq!(sent[4]["template"]["name"], "kabar_notice");
    assert_eq!(sent[4]["template"]["language"]["code"], "so");
    assert_eq!(
        sent[4]["template"]["components"][0]["parameters"][0]["text"],
        so_text
    );

    let sms = app.gateway.wait_for(&format!("+{fa_af}"), 1).await;
    assert_eq!(sms[0]["textMessage"]["text"], fa_text);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.graph.sent_to(fa_af).len(),
        2,
        "nothing more on WhatsApp for the Dari contact"
    );
    let rerouted = app
        .store
        .history(&fa_phone)
        .unwrap()
        .into_iter()
        .last()
        .unwrap();
    assert_eq!(rerouted.channel, Channel::Gateway);
    // No free-form WhatsApp text was ever sent outside the window.
    assert!(
        app.graph
            .all_requests()
            .iter()
            .filter(|r| r["type"] == "text")
            .all(|r| r["text"]["body"] != so_text && r["text"]["body"] != fa_text)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_template_or_sms_route_the_message_is_held_and_explained() {
    let app = spawn_setup(Setup {
        twilio: false,
        whatsapp: true,
        gateway: false,
        ..Setup::default()
    })
    .await;
    let staff = app.token_for("sri", Role::Staff, vec![]);
    let wa_id = "93700000010";
    app.whatsapp_text(wa_id, "salam").await;
    app.graph.wait_for(wa_id, 1).await;
    app.whatsapp(&list_reply(wa_id, "wamid.H1", "1")).await; // English, detected first
    app.graph.wait_for(wa_id, 2).await;
    app.advance_hours(30);
    let phone = ContactId::parse(&format!("+{wa_id}")).unwrap();
    app.store
        .queue_message(
            &phone,
            Channel::Whatsapp,
            Author::User("ana".into()),
            "پیسه شما رسید.",
            Some(Lang::Dari),
        )
        .unwrap();
    app.dispatcher.wake();
    let held = app.poll_list("/api/outbox?status=held", &staff).await;
    assert!(
        held[0]["held"].as_str().unwrap().contains("24-hour window"),
        "{held}"
    );
    assert_eq!(app.graph.sent_to(wa_id).len(), 2);

    // The person writes again: the window opens and the held message goes out as text.
    app.clock.rewind();
    app.whatsapp(&list_reply(wa_id, "wamid.H2", "9")).await;
    eventually("held message sent", || {
        app.graph
            .sent_to(wa_id)
            .iter()
            .any(|b| b["text"]["body"] == "پیسه شما رسید.")
    })
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_window_error_131047_falls_back_to_the_template() {
    let app = spawn_app().await;
    let wa_id = "252644444444";
    somali_at_menu(&app, wa_id).await;
    app.graph.script(&[(
        400,
        r#"{"error":{"message":"Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A"}}"#,
    )]);
    let phone = ContactId::parse(&format!("+{wa_id}")).unwrap();
    app.store
        .queue_message(
            &phone,
            Channel::Whatsapp,
            Author::User("ana".into()),
            "Fariin",
            Some(Lang::Somali),
        )
        .unwrap();
    app.dispatcher.wake();
    let sent = app.graph.wait_for(wa_id, 5).await;
    assert_eq!(sent[4]["type"], "template");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_gateway_phone_keeps_messages_queued_and_shows_in_health() {
    let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = spare.local_addr().unwrap();
    drop(spare);
    let gateway = FakeGateway::offline_at(addr);
    let app = spawn_full(
        FakeTwilio::start().await,
        FakeGraph::start().await,
        gateway.clone(),
        tempfile::tempdir().unwrap(),
        Setup {
            twilio: false,
            whatsapp: false,
            gateway: true,
            ..Setup::default()
        },
    )
    .await;
    app.gateway_sms("+6281255556666", "hello").await;
    let mut health = serde_json::Value::Null;
    for _ in 0..100 {
        health = app
            .http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["gateway"]["state"] == "unreachable" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(health["gateway"]["state"], "unreachable", "{health}");
    assert_eq!(health["status"], "degraded");
    assert_eq!(app.store.outbox_depth(), 1, "kept in the outbox");
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("kabar_gateway_up 0"), "{metrics}");
    assert!(metrics.contains("kabar_outbox_depth 1"), "{metrics}");

    gateway.go_online().await;
    let sent = gateway.wait_for("+6281255556666", 1).await;
    assert!(
        sent[0]["textMessage"]["text"]
            .as_str()
            .unwrap()
            .contains("English")
    );
    let health: serde_json::Value = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["gateway"]["state"], "reachable");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_keeps_failing_is_marked_failed_and_listed() {
    let app = spawn_app().await;
    let staff = app.token_for("sri", Role::Staff, vec![]);
    let down = r#"{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2}}"#;
    app.graph.script(&[(503, down); 10]);
    app.whatsapp_text("93700000020", "salam").await;
    let failed = app.poll_list("/api/outbox?status=failed", &staff).await;
    assert_eq!(failed[0]["phone"], "+93700000020");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("gave up after 10 attempts"),
        "{failed}"
    );
    assert_eq!(app.store.outbox_depth(), 0);
    let interpreter = app.token_for("ana", Role::Interpreter, vec![Lang::Dari]);
    let r = app
        .http
        .get(app.url("/api/outbox?status=failed"))
        .bearer_auth(&interpreter)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

/// The dispatcher keeps to the provider's rate: 20 per second at the gateway, measured over
/// 10 s at the fake phone, within 10%.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_channel_rate_limit_is_honoured() {
    let app = spawn_setup(Setup {
        twilio: false,
        whatsapp: false,
        gateway: true,
        ..Setup::default()
    })
    .await;
    for i in 0..260 {
        let phone = ContactId::parse(&format!("+6281300{i:06}")).unwrap();
        app.store
            .queue_message(
                &phone,
                Channel::Gateway,
                Author::User("sri".into()),
                "notice",
                Some(Lang::English),
            )
            .unwrap();
    }
    let start = tokio::time::Instant::now();
    app.dispatcher.wake();
    tokio::time::sleep_until(start + Duration::from_secs(10)).await;
    let sent = 260 - app.store.outbox_depth();
    assert!((180..=220).contains(&sent), "{sent} sends in 10 s at 20/s");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_through_twilio_follows_the_same_window_rule() {
    let app = spawn_app().await;
    let from = "whatsapp:+93700000030";
    app.sms(from, "hello").await;
    let menu = app.twilio.wait_for("whatsapp:+93700000030", 1).await;
    assert_eq!(menu[0].from.as_deref(), Some("whatsapp:+6281100000000"));
    let phone = ContactId::parse("+93700000030").unwrap();

    // Twilio says the window is closed (63016): the message goes by SMS instead.
    app.twilio.script(&[(
        400,
        r#"{"code":63016,"message":"Failed to send freeform message because you are outside the allowed window.","more_info":"https://www.twilio.com/docs/errors/63016","status":400}"#,
    )]);
    app.store
        .queue_message(
            &phone,
            Channel::TwilioWhatsapp,
            Author::User("ana".into()),
            "first",
            Some(Lang::English),
        )
        .unwrap();
    app.dispatcher.wake();
    let sms = app.twilio.wait_for("+93700000030", 1).await;
    assert_eq!(sms[0].body, "first");

    // Our own clock says 25 hours passed: straight to SMS, WhatsApp not even tried.
    app.advance_hours(25);
    let before = app.twilio.received().len();
    app.store
        .queue_message(
            &phone,
            Channel::TwilioWhatsapp,
            Author::User("ana".into()),
            "second",
            Some(Lang::English),
        )
        .unwrap();
    app.dispatcher.wake();
    let sms = app.twilio.wait_for("+93700000030", 2).await;
    assert_eq!(sms[1].body, "second");
    assert_eq!(app.twilio.received().len(), before + 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_on_sms_and_whatsapp_is_one_contact() {
    let app = spawn_app().await;
    // Starts by SMS and chooses Somali…
    app.sms("+252655555555", "Salaan, waxaan rabaa caawimaad")
        .await;
    app.twilio.wait_for("+252655555555", 1).await;
    app.sms("+252655555555", "1").await;
    app.twilio.wait_for("+252655555555", 2).await;
    // …then writes on WhatsApp from the same number: same language, same conversation, and the
    // answer comes back on WhatsApp, the channel they used last.
    app.whatsapp(&list_reply("252655555555", "wamid.M1", "1"))
        .await;
    let sent = app.graph.wait_for("252655555555", 2).await;
    assert_eq!(sent[0]["text"]["body"], text(Lang::Somali, "welcome"));
    assert_eq!(
        sent[1]["interactive"]["body"]["text"],
        text(Lang::Somali, "main-menu")
    );
    let p = ContactId::parse("+252655555555").unwrap();
    let history = app.store.history(&p).unwrap();
    let channels: Vec<Channel> = history.iter().map(|m| m.channel).collect();
    assert!(channels.contains(&Channel::TwilioSms) && channels.contains(&Channel::Whatsapp));
    assert_eq!(
        app.store.contact(&p).unwrap().unwrap().last_channel,
        Some(Channel::Whatsapp)
    );
    app.stop().await;
}

/// A webhook from someone who hides their number behind a WhatsApp username: Meta names them
/// only by a business-scoped user id (`from_user_id`, `contacts[].user_id`), with `from` absent
/// or `phone` given beside the user id once they share it.
fn username_message(
    user_id: &str,
    phone: Option<&str>,
    id: &str,
    content: serde_json::Value,
) -> serde_json::Value {
    let mut body = whatsapp_message(phone.unwrap_or(user_id), id, content);
    let value = &mut body["entry"][0]["changes"][0]["value"];
    value["contacts"] = json!([{
        "profile": {"name": "Zahra", "username": "@zahra.kabul"},
        "user_id": user_id,
        "wa_id": phone.unwrap_or(user_id),
    }]);
    let message = &mut value["messages"][0];
    message["from_user_id"] = json!(user_id);
    match message.as_object_mut() {
        Some(m) if phone.is_none() => {
            m.remove("from");
        }
        _ => {}
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_username_person_is_answered_by_user_id_and_stays_one_person_with_their_number() {
    let app = spawn_setup(Setup {
        twilio: false,
        whatsapp: true,
        gateway: false,
        ..Setup::default()
    })
    .await;
    let user_id = "AF.40017325551938476";
    let to = format!("wa:{user_id}");
    let tap = |id: &str, row: &str| {
        username_message(
            user_id,
            None,
            id,
            json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": row, "title": "x"}}}),
        )
    };
    let typed = |id: &str, text: &str, phone: Option<&str>| {
        username_message(
            user_id,
            phone,
            id,
            json!({"type": "text", "text": {"body": text}}),
        )
    };
    // A Dari greeting from a username only: answered in Dari, by `recipient`, never `to`.
    let r = app
        .whatsapp(&typed("wamid.Z1", "سلام، چطور استید؟", None))
        .await;
    assert_eq!(r.status(), 200);
    let sent = app.graph.wait_for(&to, 1).await;
    assert!(sent[0].get("to").is_none(), "{}", sent[0]);
    assert_eq!(
        sent[0]["interactive"]["body"]["text"],
        text(Lang::Dari, "language-menu")
    );
    app.whatsapp(&tap("wamid.Z2", "1")).await; // دری, first for a Dari greeting
    app.graph.wait_for(&to, 2).await;
    app.whatsapp(&tap("wamid.Z3", "1")).await; // agree
    app.graph.wait_for(&to, 4).await;
    app.whatsapp(&typed("wamid.Z4", "ترجمان میخواهم", None))
        .await;
    let sent = app.graph.wait_for(&to, 5).await;
    assert_eq!(sent[4]["text"]["body"], text(Lang::Dari, "human-waiting"));

    // The interpreter's queue shows the person by username, never an empty or made-up number.
    let id = ContactId::parse(&to).unwrap();
    let ticket = app
        .store
        .open_ticket_of(&id)
        .unwrap()
        .expect("ticket opened");
    let ana = app.token_for("ana", Role::Interpreter, vec![Lang::Dari]);
    let queue: serde_json::Value = app.get_json("/api/tickets", &ana).await;
    let row = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == ticket.id)
        .expect("ticket in the Dari queue")
        .clone();
    assert_eq!(row["contact"], "@zahra.kabul", "{row}");
    let claim = app
        .http
        .post(app.url(&format!("/api/tickets/{}/claim", ticket.id)))
        .bearer_auth(&ana)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(claim.status(), 200);
    let reply = app
        .http
        .post(app.url(&format!("/api/tickets/{}/reply", ticket.id)))
        .bearer_auth(&ana)
        .json(&json!({"text": "سلام زهرا، من آنا هستم. چطور کمک کنم؟"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let sent = app.graph.wait_for(&to, 6).await;
    assert_eq!(sent[5]["recipient"], user_id);
    assert_eq!(
        sent[5]["text"]["body"],
        "سلام زهرا، من آنا هستم. چطور کمک کنم؟"
    );

    // Later she writes with her number shown too: the same person, the same ticket.
    let phone = "93700000777";
    app.whatsapp(&typed("wamid.Z5", "تشکر", Some(phone))).await;
    app.intake_settled().await;
    let number = ContactId::parse(&format!("+{phone}")).unwrap();
    let contacts = app.store.contacts().unwrap();
    assert_eq!(contacts.len(), 1, "one person, not two: {contacts:?}");
    // Her number now leads to her.
    assert_eq!(app.store.contact(&number).unwrap().unwrap().id, id);
    let contact = app.store.contact(&id).unwrap().unwrap();
    assert_eq!(contact.username.as_deref(), Some("zahra.kabul"));
    assert_eq!(contact.language, Some(Lang::Dari));
    assert_eq!(contact.phone().map(|p| p.as_str()), Some("+93700000777"));
    let history = app.store.history(&id).unwrap();
    let thanks = history
        .iter()
        .find(|m| m.text == "تشکر")
        .expect("her message in her history");
    eventually("her message joins her open ticket", || {
        app.store
            .ticket(ticket.id)
            .unwrap()
            .is_some_and(|t| t.message_ids.contains(&thanks.id))
    })
    .await;
    assert_eq!(
        app.store.open_ticket_of(&id).unwrap().map(|t| t.id),
        Some(ticket.id)
    );
    app.stop().await;
}
