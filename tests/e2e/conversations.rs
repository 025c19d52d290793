//! End to end on port 0 with a fake Twilio API: one conversation per locale, status callbacks,
//! retries, ordering, restarts.

use crate::common;

use common::*;
use kabar::domain::ContactId;
use kabar::domain::{Direction, MessageStatus, Role};
use kabar::i18n::{Lang, Localizer};

/// A first message in each language, as a person might write it.
fn greeting(lang: Lang) -> &'static str {
    match lang {
        Lang::Dari => "سلام، پیسه ماهوار کی میایه؟",
        Lang::Farsi => "سلام، پول ماهانه کی میاد؟ ممنون",
        Lang::Somali => "Asc, waxaan rabaa caawimaad",
        Lang::Arabic => "مرحبا، هل يمكنكم المساعدة في الدفعة الشهرية؟",
        Lang::Tigrinya => "ሰላም፡ ሓገዝ ይደሊ ኣለኹ",
        Lang::English => "Hello, I need help",
    }
}

fn text(l: &Localizer, lang: Lang, id: &str) -> String {
    l.text(lang, id, &[])
        .unwrap_or_else(|| panic!("{id} in {lang}"))
}

/// The number in front of `name` in a numbered menu ("3. Soomaali").
fn number_of(menu: &str, name: &str) -> u32 {
    menu.lines()
        .find_map(|line| {
            let (n, rest) = line.split_once(". ")?;
            (rest.trim() == name).then(|| n.parse().ok())?
        })
        .unwrap_or_else(|| panic!("{name:?} not in menu:\n{menu}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_conversation_per_locale_reaches_a_person() {
    let app = spawn_app().await;
    let l = localizer();
    let admin = app.token_for("admin", Role::Admin, Lang::ALL.to_vec());
    for (i, lang) in Lang::ALL.into_iter().enumerate() {
        let phone = format!("+628120000100{i}");
        let mut seen = 0;
        let mut next = |n: usize| {
            seen += n;
            seen
        };

        // First contact: the language menu, with the detected language first.
        app.sms(&phone, greeting(lang)).await;
        let got = app.twilio.wait_for(&phone, next(1)).await;
        let menu = &got[0].body;
        assert!(
            menu.starts_with(&text(&l, lang, "language-menu")),
            "{lang}: {menu}"
        );
        assert_eq!(
            number_of(menu, &text(&l, lang, "language-name")),
            1,
            "{lang} detected first"
        );
        for other in Lang::ALL {
            number_of(menu, &text(&l, other, "language-name"));
        }
        assert_eq!(got[0].from.as_deref(), Some(OUR_NUMBER));
        assert!(
            got[0]
                .status_callback
                .as_deref()
                .unwrap()
                .ends_with("/webhooks/twilio/status")
        );

        // Choose the language with this locale's digits: the privacy notice comes first.
        app.sms(&phone, &local_digit(lang, 1)).await;
        let got = app.twilio.wait_for(&phone, next(1)).await;
        assert!(
            got[1].body.starts_with(&text(&l, lang, "consent-notice")),
            "{lang}"
        );
        app.sms(&phone, &local_digit(lang, 1)).await;
        let got = app.twilio.wait_for(&phone, next(2)).await;
        assert_eq!(got[2].body, text(&l, lang, "welcome"), "{lang}");
        // The Dari, Farsi and Arabic first messages ask about the monthly money: that question
        // is answered right after consent. The others greet, and get the main menu.
        let asked_about_money = matches!(lang, Lang::Dari | Lang::Farsi | Lang::Arabic);
        let topic_at = if asked_about_money {
            3
        } else {
            assert!(
                got[3].body.starts_with(&text(&l, lang, "main-menu")),
                "{lang}"
            );
            assert!(got[3].body.contains(&text(&l, lang, "main-menu-payments")));
            // A topic from the menu.
            app.sms(&phone, &local_digit(lang, 1)).await;
            app.twilio.wait_for(&phone, next(1)).await;
            4
        };
        let got = app.twilio.delivered_to(&phone);
        assert!(
            got[topic_at]
                .body
                .starts_with(&text(&l, lang, "payments-menu")),
            "{lang}: {}",
            got[topic_at].body
        );
        // An answer, then back to the menu with 0.
        app.sms(&phone, &local_digit(lang, 3)).await;
        let got = app.twilio.wait_for(&phone, next(1)).await;
        assert_eq!(
            got[topic_at + 1].body,
            text(&l, lang, "payments-rules"),
            "{lang}"
        );
        app.sms(&phone, &local_digit(lang, 0)).await;
        let got = app.twilio.wait_for(&phone, next(1)).await;
        assert!(
            got[topic_at + 2]
                .body
                .starts_with(&text(&l, lang, "main-menu")),
            "{lang}"
        );

        // Ask for a person with this language's own word.
        let agent_word = text(&l, lang, "keyword-agent");
        let agent_word = agent_word.split([',', '،']).next().unwrap().trim();
        app.sms(&phone, agent_word).await;
        let got = app.twilio.wait_for(&phone, next(1)).await;
        assert_eq!(
            got[topic_at + 3].body,
            text(&l, lang, "human-waiting"),
            "{lang}"
        );

        // In human mode the bot is quiet; the message joins the ticket.
        app.sms(&phone, "?").await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            app.twilio.delivered_to(&phone).len(),
            topic_at + 4,
            "{lang}: bot stays quiet"
        );

        let tickets = app.tickets(&admin).await;
        let ticket = tickets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["phone"] == phone.as_str())
            .unwrap_or_else(|| panic!("{lang}: ticket listed: {tickets}"));
        assert_eq!(ticket["language"], lang.tag());
        assert_eq!(ticket["topic"], "general");
        assert_eq!(ticket["status"], "open");
        assert!(ticket["waiting_since"].as_str().unwrap().ends_with('Z'));
        // The whole conversation so far (7 in, 8 out; one of each fewer when the first question
        // was answered) plus the message sent while waiting.
        let messages = if asked_about_money { 14 } else { 16 };
        assert_eq!(ticket["messages"], messages, "{lang}: {ticket}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_callback_updates_the_stored_status() {
    let app = spawn_app().await;
    let phone = "+6281200000201";
    app.sms(phone, "hello").await;
    let sent = app.twilio.wait_for(phone, 1).await;
    let sid = sent[0].sid.clone().unwrap();
    let p = ContactId::parse(phone).unwrap();
    let out = |app: &TestApp| {
        app.store
            .history(&p)
            .unwrap()
            .into_iter()
            .find(|m| m.direction == Direction::Out)
            .unwrap()
    };
    // The API answer may be recorded just after the fake saw the request.
    for _ in 0..50 {
        if out(&app).external_id.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(out(&app).external_id.as_deref(), Some(sid.as_str()));
    assert_eq!(out(&app).status, MessageStatus::Accepted);
    for (status, want) in [
        ("sent", MessageStatus::Sent),
        ("delivered", MessageStatus::Delivered),
        // a late "sent" never moves a delivered message back
        ("sent", MessageStatus::Delivered),
    ] {
        let params: Vec<(String, String)> = [
            ("MessageSid", sid.as_str()),
            ("MessageStatus", status),
            ("AccountSid", ACCOUNT_SID),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let r = app.post_twilio("/webhooks/twilio/status", &params).await;
        assert_eq!(r.status(), 200);
        assert_eq!(out(&app).status, want);
    }
    // A failure report carries Twilio's error code.
    let params: Vec<(String, String)> = [
        ("MessageSid", "SMunknown"),
        ("MessageStatus", "failed"),
        ("ErrorCode", "30003"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let r = app.post_twilio("/webhooks/twilio/status", &params).await;
    assert_eq!(
        r.status(),
        200,
        "unknown message: acknowledged, nothing changes"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_send_is_retried_and_delivered_once() {
    let app = spawn_app().await;
    app.twilio.script(&[(
        429,
        r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#,
    )]);
    let phone = "+6281200000301";
    app.sms(phone, "hello").await;
    let accepted = app.twilio.wait_for(phone, 1).await;
    assert_eq!(accepted.len(), 1);
    let attempts: Vec<_> = app
        .twilio
        .received()
        .into_iter()
        .filter(|m| m.to == phone)
        .collect();
    assert_eq!(attempts.len(), 2, "one 429, one 201");
    assert_eq!(attempts[0].body, attempts[1].body);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.twilio.delivered_to(phone).len(), 1, "never sent twice");
    assert_eq!(app.store.outbox_depth(), 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_opt_out_and_bad_numbers_fail_without_retry() {
    let app = spawn_app().await;
    app.twilio.script(&[(
        400,
        r#"{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}"#,
    )]);
    let phone = "+6281200000401";
    app.sms(phone, "hello").await;
    let p = ContactId::parse(phone).unwrap();
    for _ in 0..100 {
        // The contact is written when the message is answered, a moment after the webhook.
        if app.store.contact(&p).unwrap().is_some_and(|c| c.opted_out) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(app.store.contact(&p).unwrap().unwrap().opted_out);
    let out: Vec<_> = app
        .store
        .history(&p)
        .unwrap()
        .into_iter()
        .filter(|m| m.direction == Direction::Out)
        .collect();
    assert_eq!(out[0].status, MessageStatus::Failed);
    assert!(out[0].error.as_deref().unwrap().contains("21610"));
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        app.twilio
            .received()
            .iter()
            .filter(|m| m.to == phone)
            .count(),
        1,
        "no retry after 21610"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arriving_together_are_answered_in_arrival_order() {
    let app = spawn_app().await;
    let l = localizer();
    let phone = "+6281200000501";
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "1").await; // English, detected and listed first
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await; // agree to the privacy notice
    app.twilio.wait_for(phone, 4).await;
    // Two messages at the same moment whose answers don't depend on each other's effect.
    let params_a = inbound_params(&app.next_sid(), phone, "privacy");
    let params_b = inbound_params(&app.next_sid(), phone, "delete");
    let (a, b) = tokio::join!(
        app.post_twilio("/webhooks/twilio", &params_a),
        app.post_twilio("/webhooks/twilio", &params_b)
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let got = app.twilio.wait_for(phone, 7).await;
    let p = ContactId::parse(phone).unwrap();
    let inbound: Vec<String> = app
        .store
        .history(&p)
        .unwrap()
        .into_iter()
        .filter(|m| m.direction == Direction::In)
        .map(|m| m.text)
        .collect();
    // Whichever was stored first is answered first, and its answer is sent first.
    let mut expected = Vec::new();
    for t in &inbound[3..] {
        match t.as_str() {
            "privacy" => {
                expected.push(text(&l, Lang::English, "privacy-info"));
                expected.push(text(&l, Lang::English, "privacy-rights"));
            }
            _ => expected.push(text(&l, Lang::English, "delete-requested")),
        }
    }
    let bodies: Vec<String> = got[4..].iter().map(|m| m.body.clone()).collect();
    assert_eq!(bodies, expected);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_delivery_is_answered_once() {
    let app = spawn_app().await;
    let phone = "+6281200000601";
    let params = inbound_params(&app.next_sid(), phone, "hello");
    for _ in 0..3 {
        let r = app.post_twilio("/webhooks/twilio", &params).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "<Response/>");
    }
    app.twilio.wait_for(phone, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.twilio.delivered_to(phone).len(), 1);
    let p = ContactId::parse(phone).unwrap();
    assert_eq!(
        app.store
            .history(&p)
            .unwrap()
            .iter()
            .filter(|m| m.direction == Direction::In)
            .count(),
        1
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_survives_a_restart() {
    // Twilio is down (503) while the person writes; kabar is restarted; then Twilio is back.
    let twilio = FakeTwilio::start().await;
    let down = r#"{"code":20500,"message":"Internal Server Error","status":500}"#;
    twilio.script(&[
        (503, down),
        (503, down),
        (503, down),
        (503, down),
        (503, down),
        (503, down),
    ]);
    let app = spawn_app_with(twilio.clone(), tempfile::tempdir().unwrap()).await;
    let phone = "+6281200000701";
    app.sms(phone, "hello").await;
    // Let it fail at least once, then stop with the reply still queued.
    for _ in 0..100 {
        if twilio.received().iter().any(|m| m.to == phone) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let data = app.stop().await;
    let app = spawn_app_with(twilio.clone(), data).await;
    let got = twilio.wait_for(phone, 1).await;
    assert_eq!(got.len(), 1);
    assert!(
        got[0].body.contains("English"),
        "the language menu: {}",
        got[0].body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_need_a_valid_token() {
    let app = spawn_app().await;
    let r = app.http.get(app.url("/api/tickets")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    let r = app
        .http
        .get(app.url("/api/tickets"))
        .bearer_auth("kbr_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let token = app.token_for("ana", Role::Interpreter, vec![Lang::Somali]);
    let r = app
        .http
        .get(app.url("/api/tickets?status=bogus"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.tickets(&token).await, serde_json::json!([]));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_replies_arrive_live() {
    // No provider configured: the embedded default's simulator works without a login.
    let app = spawn_setup(Setup {
        twilio: false,
        whatsapp: false,
        gateway: false,
        ..Setup::default()
    })
    .await;
    let page = app.http.get(app.url("/simulator")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/assets/simulator.js"), "{html}");
    let script = app
        .http
        .get(app.url("/assets/simulator.js"))
        .send()
        .await
        .unwrap();
    assert!(script.text().await.unwrap().contains("EventSource"));

    let phone = "+99900000801";
    let mut events = app
        .http
        .get(app.url(&format!("/simulator/events?phone=%2B{}", &phone[1..])))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let r = app
        .http
        .post(app.url("/simulator/send"))
        .json(&serde_json::json!({"phone": phone, "text": "ሰላም"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains("ትግርኛ") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("a reply arrives live")
            .unwrap()
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: reply"), "{seen}");
    // The reply is in the history the page loads, and nothing went to Twilio.
    let history: serde_json::Value = app
        .http
        .get(app.url(&format!("/simulator/history?phone=%2B{}", &phone[1..])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert!(app.twilio.received().is_empty());
    // Bad input gets a reason.
    let r = app
        .http
        .post(app.url("/simulator/send"))
        .json(&serde_json::json!({"phone": "12", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("12"));
    // Shutting down with a live stream open still finishes (streams end on shutdown).
    tokio::time::timeout(std::time::Duration::from_secs(10), app.stop())
        .await
        .expect("graceful shutdown with an open event stream");
    drop(events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_can_neither_read_nor_change_a_real_sms_conversation() {
    let app = spawn_app().await; // Twilio configured, simulator on (as KABAR_* on the default)
    let real = "+6281200000901";
    let real_phone = ContactId::parse(real).unwrap();
    app.sms(real, "salaam, my payment is late").await;
    app.twilio.wait_for(real, 1).await;
    app.intake_settled().await;
    let before_contact = app.store.contact(&real_phone).unwrap().unwrap();
    let before_session = serde_json::to_string(&app.store.session(&real_phone).unwrap()).unwrap();
    let before_history = app.store.history(&real_phone).unwrap().len();
    let query = format!("?phone=%2B{}", &real[1..]);

    // Without a login: the page sends to /login, the JSON routes answer 401.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = no_redirect.get(app.url("/simulator")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login?next=%2Fsimulator");
    for path in ["/simulator/history", "/simulator/events"] {
        let r = app
            .http
            .get(app.url(&format!("{path}{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains("log in"),
            "{body}"
        );
    }
    let r = app
        .http
        .post(app.url("/simulator/send"))
        .json(&serde_json::json!({"phone": real, "text": "delete"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Signed in, the real number is still out of reach: 403 with the reason, nothing read.
    app.user("sara", Role::Staff, vec![]);
    let b = app.login("sara", "test password 123").await;
    let r = b
        .http
        .get(app.url(&format!("/simulator/history{query}")))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(body.contains("+999") && !body.contains("payment"), "{body}");
    for text in ["delete", "language", "agent"] {
        let r = b
            .http
            .post(app.url("/simulator/send"))
            .header("cookie", &b.cookie)
            .header("x-csrf-token", &b.csrf)
            .json(&serde_json::json!({"phone": real, "text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{text}");
    }
    // Without the session's CSRF token even a simulator number is refused.
    let r = b
        .http
        .post(app.url("/simulator/send"))
        .header("cookie", &b.cookie)
        .json(&serde_json::json!({"phone": "+99900000901", "text": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A provider message claiming a simulator number is dropped: it cannot reach one either.
    app.sms("+99900000901", "hello").await;
    app.intake_settled().await;
    let simulated = ContactId::parse("+99900000901").unwrap();
    assert!(app.store.history(&simulated).unwrap().is_empty());
    // So is a WhatsApp message naming a simulator user id beside a real number: otherwise the
    // simulator's `ZZ.` person would be linked to that real person's conversation.
    let mut linked = whatsapp_message(
        "6281200000902",
        "wamid.SIMLINK",
        serde_json::json!({"type": "text", "text": {"body": "hello"}}),
    );
    let value = &mut linked["entry"][0]["changes"][0]["value"];
    value["contacts"][0]["user_id"] = serde_json::json!("ZZ.902");
    value["messages"][0]["from_user_id"] = serde_json::json!("ZZ.902");
    assert_eq!(app.whatsapp(&linked).await.status(), 200);
    app.intake_settled().await;
    let real_number = ContactId::parse("+6281200000902").unwrap();
    assert!(app.store.history(&real_number).unwrap().is_empty());
    assert!(
        app.store
            .contact(&ContactId::parse("wa:ZZ.902").unwrap())
            .unwrap()
            .is_none()
    );

    // With the token, a simulator number works for the signed-in user.
    let r = b
        .http
        .post(app.url("/simulator/send"))
        .header("cookie", &b.cookie)
        .header("x-csrf-token", &b.csrf)
        .json(&serde_json::json!({"phone": "+99900000901", "text": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    app.intake_settled().await;

    // The real person's record, session and conversation are exactly as before, and their
    // replies still go to their phone.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = app.store.contact(&real_phone).unwrap().unwrap();
    assert_eq!(after.last_channel, before_contact.last_channel);
    assert_eq!(after.language, before_contact.language);
    assert_eq!(after.last_inbound_at, before_contact.last_inbound_at);
    assert_eq!(
        serde_json::to_string(&app.store.session(&real_phone).unwrap()).unwrap(),
        before_session
    );
    assert_eq!(
        app.store.history(&real_phone).unwrap().len(),
        before_history
    );
    assert!(app.store.open_ticket_of(&real_phone).unwrap().is_none());

    // The simulator also plays someone known only by a WhatsApp user id (its own `ZZ.` ids).
    let r = b
        .http
        .post(app.url("/simulator/send"))
        .header("cookie", &b.cookie)
        .header("x-csrf-token", &b.csrf)
        .json(&serde_json::json!({"phone": "ZZ.1001", "text": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let user = ContactId::parse("wa:ZZ.1001").unwrap();
    for _ in 0..200 {
        if app
            .store
            .history(&user)
            .unwrap()
            .iter()
            .any(|m| m.direction == kabar::domain::Direction::Out)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let replies = app.store.history(&user).unwrap();
    assert!(
        replies
            .iter()
            .any(|m| m.direction == kabar::domain::Direction::Out
                && m.channel == kabar::domain::Channel::Simulator),
        "the user-id person was answered in the simulator: {replies:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_acknowledged_just_before_a_stop_is_answered_after_the_restart() {
    // The webhook answers once the message is in the intake journal; here kabar "stops"
    // before the intake task stored it in sled. The restart must answer it, exactly once.
    let data = tempfile::tempdir().unwrap();
    let phone = "+6281200000702";
    {
        let store = kabar::store::sled::Store::open(data.path()).unwrap();
        let inbound = kabar::store::NewInbound {
            profile: Default::default(),
            channel: kabar::domain::Channel::TwilioSms,
            from: ContactId::parse(phone).unwrap(),
            text: "salaam".into(),
            external_id: "SMjournaled0001".into(),
            media: None,
            unsupported: None,
        };
        // Twice, as a provider retry would: still one message.
        store.accept_inbound(vec![inbound.clone()]).await.unwrap();
        store.accept_inbound(vec![inbound]).await.unwrap();
        assert_eq!(store.intake_backlog(), 2);
        assert!(
            store
                .history(&ContactId::parse(phone).unwrap())
                .unwrap()
                .is_empty(),
            "not in sled yet"
        );
        store.close().unwrap();
    }
    let twilio = FakeTwilio::start().await;
    let app = spawn_app_with(twilio.clone(), data).await;
    let got = twilio.wait_for(phone, 1).await;
    assert!(
        got[0].body.contains("English"),
        "the language menu: {}",
        got[0].body
    );
    app.intake_settled().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(twilio.delivered_to(phone).len(), 1, "answered once");
    let inbound = app
        .store
        .history(&ContactId::parse(phone).unwrap())
        .unwrap()
        .into_iter()
        .filter(|m| m.direction == Direction::In)
        .count();
    assert_eq!(inbound, 1, "the retry was dropped");
    app.stop().await;
}

/// An MMS picture (or a WhatsApp voice note through Twilio) is fetched from `MediaUrl0` with
/// the account's credentials, kept, and shown to the interpreter like WhatsApp media; a URL
/// outside the account's media never gets the credentials, and a file over the limit is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_media_is_fetched_with_the_accounts_credentials_and_shown_to_interpreters() {
    let app = spawn_app().await;
    let phone = "+6281200000951";
    let p = ContactId::parse(phone).unwrap();
    for (text, n) in [("hello", 1), ("1", 2), ("1", 4), ("agent", 5)] {
        app.sms(phone, text).await;
        app.twilio.wait_for(phone, n).await;
    }
    let mms = |media_url: String| {
        let mut params = inbound_params(&app.next_sid(), phone, "my card");
        for (k, v) in params.iter_mut() {
            if k == "NumMedia" {
                *v = "1".into();
            }
        }
        params.push(("MediaUrl0".into(), media_url));
        params.push(("MediaContentType0".into(), "image/jpeg".into()));
        params
    };
    let media_message = |sid_of: &'static str| {
        let store = app.store.clone();
        let p = p.clone();
        async move {
            for _ in 0..200 {
                let found = store.history(&p).unwrap().into_iter().find(|m| {
                    m.media.as_ref().is_some_and(|r| r.id.contains(sid_of))
                        && (m.media_file.is_some() || m.error.is_some())
                });
                if let Some(m) = found {
                    return m;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            panic!("media {sid_of} neither fetched nor refused");
        }
    };
    let r = app
        .post_twilio("/webhooks/twilio", &mms(app.twilio.media_url("ME0001")))
        .await;
    assert_eq!(r.status(), 200);
    let message = media_message("ME0001").await;
    assert_eq!(
        app.twilio.media_fetched(),
        vec![("ME0001".to_string(), true)]
    );
    assert!(
        message.media_file.as_deref().unwrap().ends_with(".jpg"),
        "{message:?}"
    );
    // The interpreter sees it in the conversation and opens it.
    let token = app.token_for("ana", Role::Interpreter, vec![Lang::English]);
    let ticket = app.store.open_ticket_of(&p).unwrap().unwrap().id;
    let detail = app
        .get_json(&format!("/api/tickets/{ticket}"), &token)
        .await;
    assert!(detail["messages"].is_array(), "{detail}");
    let url = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|m| m["media"].as_str())
        .expect("the picture in the conversation")
        .to_string();
    let r = app
        .http
        .get(app.url(&url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().as_ref(), TWILIO_PICTURE);

    // A MediaUrl elsewhere (here: the fake Graph API's file server) is never requested.
    let elsewhere = format!("http://{}/files/ME0002", app.graph.addr);
    app.post_twilio("/webhooks/twilio", &mms(elsewhere)).await;
    let refused = media_message("ME0002").await;
    assert!(refused.media_file.is_none());
    assert!(
        refused.error.as_deref().unwrap().contains("refused"),
        "{refused:?}"
    );
    assert!(
        app.graph.media_fetched().is_empty(),
        "credentials sent elsewhere"
    );
    // Larger than the limit: refused, nothing kept.
    app.post_twilio("/webhooks/twilio", &mms(app.twilio.media_url("MEbig3")))
        .await;
    let big = media_message("MEbig3").await;
    assert!(big.media_file.is_none());
    assert!(
        big.error.as_deref().unwrap().contains("more than"),
        "{big:?}"
    );
    app.stop().await;
}
