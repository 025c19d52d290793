//! The interpreter queue: claims, the authorization matrix, CSRF, the audit trail, closing and
//! reopening, business hours, hostile text.

use crate::common;

use std::time::Duration;

use common::*;
use kabar::domain::Role;
use kabar::i18n::Lang;
use serde_json::json;

const PASSWORD: &str = "test password 123";

/// A person writes and asks for a person: returns the ticket id.
async fn ticket_from(app: &TestApp, phone: &str, lang_choice: &str, ask: &str) -> u64 {
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, lang_choice).await;
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await; // agree
    app.twilio.wait_for(phone, 4).await;
    app.sms(phone, ask).await;
    app.twilio.wait_for(phone, 5).await;
    let p = kabar::domain::ContactId::parse(phone).unwrap();
    app.store
        .open_ticket_of(&p)
        .unwrap()
        .expect("ticket opened")
        .id
}

async fn post_json(
    app: &TestApp,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_ten_concurrent_claims_exactly_one_wins() {
    let app = spawn_app().await;
    let id = ticket_from(&app, "+6281200001001", "1", "agent").await;
    let tokens: Vec<String> = (0..10)
        .map(|i| app.user(&format!("int{i}"), Role::Interpreter, vec![Lang::English]))
        .collect();
    let path = format!("/api/tickets/{id}/claim");
    let claims = tokens.iter().map(|t| post_json(&app, t, &path, json!({})));
    let responses = futures_util::future::join_all(claims).await;
    let mut winners = 0;
    let mut losers = Vec::new();
    for r in responses {
        match r.status().as_u16() {
            200 => winners += 1,
            409 => losers.push(r.json::<serde_json::Value>().await.unwrap()),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(losers.len(), 9);
    let winner = app.store.ticket(id).unwrap().unwrap().claimed_by.unwrap();
    for l in losers {
        assert_eq!(l["error"], "claimed");
        assert!(
            l["detail"].as_str().unwrap().contains(&winner),
            "the loser sees who has it: {l}"
        );
    }
    app.stop().await;
}

/// Runs `a` and `b` at the same moment on two threads.
fn race<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    let start = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            start.wait();
            a()
        });
        let b = s.spawn(|| {
            start.wait();
            b()
        });
        (a.join().unwrap(), b.join().unwrap())
    })
}

/// An interpreter's release, transfer or close racing another's claim never overrides the
/// claim: either it ran first (and the claim still stands or fails cleanly), or it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_racing_release_transfer_or_close_is_never_overridden() {
    use kabar::store::{Actor, TicketError};
    let app = spawn_app().await;
    let store = app.store.clone();
    let id = ticket_from(&app, "+6281200001011", "1", "agent").await;
    let ana = Actor {
        name: "ana",
        overrides_claims: false,
    };
    let ben = Actor {
        name: "ben",
        overrides_claims: false,
    };
    let boss = Actor {
        name: "boss",
        overrides_claims: true,
    };
    let now = app.now();
    let (mut release_refused, mut transfer_refused) = (0, 0);
    for _ in 0..150 {
        let (claim, release) = race(
            || store.claim(id, "ana", now),
            || store.release(id, ben, now),
        );
        let holder = store.ticket(id).unwrap().unwrap().claimed_by;
        match (claim, release) {
            // Both went through: the release came first, so ana holds it now.
            (Ok(_), Ok(_)) => assert_eq!(holder.as_deref(), Some("ana")),
            (Ok(_), Err(TicketError::ClaimedBy(who))) => {
                assert_eq!(who, "ana");
                release_refused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
        store.release(id, boss, now).unwrap();
        let (claim, transfer) = race(
            || store.claim(id, "ana", now),
            || store.transfer(id, ben, None, Some(Lang::Somali), now),
        );
        let holder = store.ticket(id).unwrap().unwrap().claimed_by;
        match (claim, transfer) {
            (Ok(_), Ok(_)) => assert_eq!(holder.as_deref(), Some("ana")),
            (Ok(_), Err(TicketError::ClaimedBy(_))) => transfer_refused += 1,
            other => panic!("unexpected {other:?}"),
        }
        store.release(id, boss, now).unwrap();
    }
    // The race really happened both ways (a claim first is refused, not silently undone).
    assert!(
        release_refused > 0 && transfer_refused > 0,
        "{release_refused} {transfer_refused}"
    );
    // Close racing a claim: both succeeding would mean ben closed ana's ticket.
    let session = app
        .store
        .session(&kabar::domain::ContactId::parse("+6281200001011").unwrap())
        .unwrap();
    let (claim, close) = race(
        || store.claim(id, "ana", now),
        || store.close_ticket(id, ben, "closed", &session, now),
    );
    match (claim, close) {
        (Ok(_), Err(TicketError::ClaimedBy(who))) => assert_eq!(who, "ana"),
        (Err(TicketError::Closed(_)), Ok(t)) => assert_eq!(t.claimed_by.as_deref(), Some("ben")),
        other => panic!("claim and close both went through, or neither: {other:?}"),
    }
    // A claimed ticket stays with its claimant against the other interpreter, not the supervisor.
    let t = store.ticket(id).unwrap().unwrap();
    if t.status == kabar::domain::TicketStatus::Open {
        assert!(matches!(
            store.release(id, ben, now),
            Err(TicketError::ClaimedBy(_))
        ));
        assert!(matches!(
            store.close_ticket(id, ben, "x", &session, now),
            Err(TicketError::ClaimedBy(_))
        ));
        store
            .close_ticket(id, boss, "closed", &session, now)
            .unwrap();
    }
    let _ = ana;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_do_what() {
    let app = spawn_app().await;
    let general = ticket_from(&app, "+6281200001002", "1", "agent").await; // English, general
    // A return-counsellor ticket (supervisors only): main menu 3, then 4.
    let phone = "+6281200001003";
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    for (step, n) in [("1", 2), ("1", 4), ("3", 5), ("4", 6)] {
        app.sms(phone, step).await;
        app.twilio.wait_for(phone, n).await;
    }
    let ret = app
        .store
        .open_ticket_of(&kabar::domain::ContactId::parse(phone).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(ret.topic, "return");
    let ret = ret.id;

    let en = app.user("en-interp", Role::Interpreter, vec![Lang::English]);
    let ar = app.user("ar-interp", Role::Interpreter, vec![Lang::Arabic]);
    let sup = app.user("sup", Role::Supervisor, vec![]);
    let staff = app.user("staff", Role::Staff, vec![]);
    let admin = app.user("admin2", Role::Admin, vec![]);
    let get = |token: String, path: String| {
        let app = &app;
        async move {
            app.http
                .get(app.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // (path, [en interpreter, ar interpreter, supervisor, staff, admin])
    let matrix: Vec<(String, [u16; 5])> = vec![
        ("/api/tickets".into(), [200, 200, 200, 403, 200]),
        (format!("/api/tickets/{general}"), [200, 404, 200, 403, 200]),
        (format!("/api/tickets/{ret}"), [404, 404, 200, 403, 200]),
        ("/api/outbox".into(), [403, 403, 200, 200, 200]),
        ("/api/audit".into(), [403, 403, 403, 403, 200]),
        ("/api/figures".into(), [403, 403, 200, 403, 200]),
        ("/api/payments".into(), [200, 200, 200, 200, 200]),
        ("/api/canned".into(), [200, 200, 200, 200, 200]),
    ];
    let tokens = [&en, &ar, &sup, &staff, &admin];
    for (path, want) in &matrix {
        for (token, want) in tokens.iter().zip(want) {
            assert_eq!(
                get((*token).clone(), path.clone()).await,
                *want,
                "{path} for {token}"
            );
        }
    }
    // The English interpreter's list holds the general ticket, never the return one.
    let list: serde_json::Value = app.get_json("/api/tickets", &en).await;
    let ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert!(ids.contains(&general) && !ids.contains(&ret), "{ids:?}");
    // Changes follow the same rules.
    assert_eq!(
        post_json(
            &app,
            &ar,
            &format!("/api/tickets/{general}/claim"),
            json!({})
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        post_json(
            &app,
            &staff,
            &format!("/api/tickets/{general}/claim"),
            json!({})
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        app.http
            .post(app.url("/api/payments"))
            .bearer_auth(&en)
            .body("city,next_payment_date\n")
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // Pages: staff and admin pages refuse interpreters.
    for (name, role, langs) in [
        ("page-int", Role::Interpreter, vec![Lang::English]),
        ("page-staff", Role::Staff, vec![]),
        ("page-admin", Role::Admin, vec![]),
    ] {
        let user = kabar::domain::User {
            name: name.into(),
            role,
            languages: langs,
            password_hash: kabar::web::auth::hash_password(PASSWORD).unwrap(),
            created_at: 0,
            disabled: false,
        };
        app.store.add_user(&user).unwrap();
    }
    let int = app.login("page-int", PASSWORD).await;
    let staffb = app.login("page-staff", PASSWORD).await;
    let adminb = app.login("page-admin", PASSWORD).await;
    for (browser, path, want) in [
        (&int, "/queue", 200),
        (&int, "/canned", 403),
        (&int, "/audit", 403),
        (&int, "/figures", 403),
        (&staffb, "/queue", 403),
        (&staffb, "/canned", 200),
        (&staffb, "/audit", 403),
        (&adminb, "/audit", 200),
        (&adminb, "/figures", 200),
        (&adminb, "/queue", 200),
    ] {
        let s = browser
            .http
            .get(app.url(path))
            .header("cookie", &browser.cookie)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, want, "{path}");
    }
    // Without a session, pages send people to the login page.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anon.get(app.url("/queue")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // ... and back to the page they asked for afterwards.
    assert_eq!(r.headers()["location"], "/login?next=%2Fqueue");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let id = ticket_from(&app, "+6281200001004", "1", "agent").await;
    let user = kabar::domain::User {
        name: "ana".into(),
        role: Role::Interpreter,
        languages: vec![Lang::English],
        password_hash: kabar::web::auth::hash_password(PASSWORD).unwrap(),
        created_at: 0,
        disabled: false,
    };
    app.store.add_user(&user).unwrap();
    let b = app.login("ana", PASSWORD).await;
    let claim = |csrf: Option<&str>| {
        let mut form = vec![];
        if let Some(c) = csrf {
            form.push(("csrf", c.to_string()));
        }
        b.http
            .post(app.url(&format!("/tickets/{id}/claim")))
            .header("cookie", &b.cookie)
            .form(&form)
            .send()
    };
    assert_eq!(claim(None).await.unwrap().status(), 403);
    assert_eq!(claim(Some("forged")).await.unwrap().status(), 403);
    assert!(app.store.ticket(id).unwrap().unwrap().claimed_by.is_none());
    assert_eq!(claim(Some(&b.csrf)).await.unwrap().status(), 303);
    assert_eq!(
        app.store.ticket(id).unwrap().unwrap().claimed_by.as_deref(),
        Some("ana")
    );
    // The JSON API with a session cookie needs the token in a header too.
    let r = b
        .http
        .post(app.url(&format!("/api/tickets/{id}/note")))
        .header("cookie", &b.cookie)
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = b
        .http
        .post(app.url(&format!("/api/tickets/{id}/note")))
        .header("cookie", &b.cookie)
        .header("x-csrf-token", &b.csrf)
        .json(&json!({"text": "called back"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Logging out ends the session.
    let r = b
        .http
        .post(app.url("/logout"))
        .header("cookie", &b.cookie)
        .form(&[("csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = b
        .http
        .get(app.url("/queue"))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "back to the login page");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_without_the_forms_csrf_token_is_refused() {
    let app = spawn_app().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    app.user("csrf", Role::Interpreter, vec![Lang::English]);
    let (cookie, token) = app.login_form(&http).await;
    let (_, other_token) = app.login_form(&http).await;
    // Another site can make the browser post the form, but not read or set our cookie.
    for (cookie, field) in [
        (None, None),
        (None, Some(token.as_str())),
        (Some(cookie.as_str()), None),
        (Some(cookie.as_str()), Some(other_token.as_str())),
        (
            Some("kabar_login=forged.99999999999999.00"),
            Some("forged.99999999999999.00"),
        ),
    ] {
        let mut form = vec![("name", "csrf"), ("password", PASSWORD)];
        if let Some(f) = field {
            form.push(("csrf", f));
        }
        let mut request = http.post(app.url("/login")).form(&form);
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 403, "{cookie:?} {field:?}");
        assert!(
            r.headers()
                .get("set-cookie")
                .is_some_and(|c| c.to_str().unwrap().starts_with("kabar_login="))
        );
        assert!(r.text().await.unwrap().contains("expired"));
    }
    let r = http
        .post(app.url("/login"))
        .header("cookie", &cookie)
        .form(&[("name", "csrf"), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the real form logs in");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_rate_limited() {
    let app = spawn_app().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    app.user("rate", Role::Interpreter, vec![Lang::English]);
    let (cookie, token) = app.login_form(&http).await;
    for _ in 0..5 {
        let r = http
            .post(app.url("/login"))
            .header("cookie", &cookie)
            .form(&[("name", "rate"), ("password", "wrong"), ("csrf", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = http
        .post(app.url("/login"))
        .header("cookie", &cookie)
        .form(&[("name", "rate"), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "even the right password waits");
    assert!(r.text().await.unwrap().contains("Try again in"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_close_reopen_and_the_audit_trail() {
    let app = spawn_app().await;
    let phone = "+6281200001005";
    let id = ticket_from(&app, phone, "1", "agent").await;
    let ana = app.user("ana", Role::Interpreter, vec![Lang::English]);
    let admin = app.user("root", Role::Admin, vec![]);
    assert_eq!(
        post_json(&app, &ana, &format!("/api/tickets/{id}/claim"), json!({}))
            .await
            .status(),
        200
    );
    let r = post_json(
        &app,
        &ana,
        &format!("/api/tickets/{id}/reply"),
        json!({"text": "Hello, I am Ana. How can I help?"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let sent = app.twilio.wait_for(phone, 6).await;
    assert_eq!(sent[5].body, "Hello, I am Ana. How can I help?");
    assert_eq!(
        post_json(
            &app,
            &ana,
            &format!("/api/tickets/{id}/note"),
            json!({"text": "asked about rent"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        post_json(
            &app,
            &ana,
            &format!("/api/tickets/{id}/reply"),
            json!({"text": "  "})
        )
        .await
        .status(),
        400
    );
    let detail: serde_json::Value = app.get_json(&format!("/api/tickets/{id}"), &ana).await;
    assert_eq!(detail["notes"][0]["text"], "asked about rent");
    assert!(
        detail["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["author"] == "ana")
    );

    // Close: the person is told, in their language, and the bot is back.
    assert_eq!(
        post_json(&app, &ana, &format!("/api/tickets/{id}/close"), json!({}))
            .await
            .status(),
        200
    );
    let sent = app.twilio.wait_for(phone, 7).await;
    assert_eq!(
        sent[6].body,
        localizer()
            .text(Lang::English, "ticket-closed", &[])
            .unwrap()
    );
    // Within 24 hours a message reopens it for the same interpreter, and the bot stays quiet.
    app.sms(phone, "thank you, one more question").await;
    for _ in 0..100 {
        if app.store.ticket(id).unwrap().unwrap().status == kabar::domain::TicketStatus::Open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = app.store.ticket(id).unwrap().unwrap();
    assert_eq!(t.status, kabar::domain::TicketStatus::Open);
    assert_eq!(t.claimed_by.as_deref(), Some("ana"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.twilio.delivered_to(phone).len(), 7, "no bot reply");

    // Close again; "0" goes to the bot's menu, not to the ticket.
    post_json(&app, &ana, &format!("/api/tickets/{id}/close"), json!({})).await;
    app.twilio.wait_for(phone, 8).await;
    app.sms(phone, "0").await;
    let sent = app.twilio.wait_for(phone, 9).await;
    assert!(sent[8].body.starts_with("Main menu"));

    let audit: serde_json::Value = app.get_json("/api/audit", &admin).await;
    let actions: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ticket"] == id)
        .map(|r| {
            (
                r["user"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in ["claim", "reply", "note", "view", "close"] {
        assert!(
            actions.iter().any(|(u, a)| u == "ana" && a == want),
            "{want} in {actions:?}"
        );
    }
    let list: serde_json::Value = app.get_json("/api/tickets?status=closed", &ana).await;
    assert!(list[0]["first_response_seconds"].is_u64(), "{list}");
    assert!(list[0]["resolution_seconds"].is_u64(), "{list}");
    let figures: serde_json::Value = app.get_json("/api/figures", &admin).await;
    let en = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["language"] == "en")
        .unwrap()
        .clone();
    assert_eq!(en["closed"], 1);
    assert!(en["median_first_response_seconds"].is_u64());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_business_hours_people_are_told_when_someone_answers() {
    let app = spawn_setup(Setup {
        hours: "Mon 00:00-00:01",
        ..Setup::default()
    })
    .await;
    let phone = "+6281200001006";
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 4).await;
    app.sms(phone, "agent").await;
    let sent = app.twilio.wait_for(phone, 6).await;
    assert_eq!(
        sent[4].body,
        localizer()
            .text(Lang::English, "human-waiting", &[])
            .unwrap()
    );
    assert!(sent[5].body.contains("00:00"), "{}", sent[5].body);
    assert!(
        sent[5]
            .body
            .starts_with("Thank you. The office is closed now.")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_shown_as_text() {
    let app = spawn_app().await;
    let phone = "+6281200001007";
    let id = ticket_from(&app, phone, "1", "agent").await;
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(1)>";
    app.sms(phone, hostile).await;
    app.sms(phone, "\u{202E}evil reversed text").await;
    let user = kabar::domain::User {
        name: "ana".into(),
        role: Role::Interpreter,
        languages: vec![Lang::English],
        password_hash: kabar::web::auth::hash_password(PASSWORD).unwrap(),
        created_at: 0,
        disabled: false,
    };
    app.store.add_user(&user).unwrap();
    let b = app.login("ana", PASSWORD).await;
    let mut html = String::new();
    for _ in 0..50 {
        html = b
            .http
            .get(app.url(&format!("/tickets/{id}")))
            .header("cookie", &b.cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if html.contains("evil reversed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!html.contains("<script>alert(1)"), "raw script in the page");
    assert!(!html.contains("<img src=x"), "raw img in the page");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;")
    );
    // Every message is isolated: a right-to-left override stays inside its own element.
    let msg = html.split("evil reversed").next().unwrap();
    let open_tag = &msg[msg.rfind("<span").unwrap()..];
    assert!(open_tag.contains("dir=\"auto\""), "{open_tag}");
    // The isolation rule lives in the style sheet the page links (no inline style under the CSP).
    let sheet = html
        .split("href=\"/assets/style.css")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page links the style sheet");
    let css = b
        .http
        .get(app.url(&format!("/assets/style.css{sheet}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains(".msg .text { unicode-bidi: isolate"), "{css}");
    app.stop().await;
}

/// Every route `/api/openapi.json` describes is served (so the description cannot drift).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_matches_the_routes() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 9);
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let url = app.url(
                &path
                    .replace("{id}", "1")
                    .replace("{action}", "claim")
                    .replace("{name}", "someone"),
            );
            let r = match method.as_str() {
                "get" => app.http.get(url),
                "post" => app.http.post(url),
                "patch" => app.http.patch(url),
                "delete" => app.http.delete(url),
                other => panic!("method {other}"),
            }
            .send()
            .await
            .unwrap();
            assert_eq!(
                r.status(),
                401,
                "{method} {path}: served and asks for credentials"
            );
        }
    }
    app.stop().await;
}

/// Polls `check` (for a background step: the intake answers asynchronously).
async fn eventually_true(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen");
}

async fn get_with(app: &TestApp, b: &Browser, path: &str) -> reqwest::Response {
    b.http
        .get(app.url(path))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap()
}

/// A new person picks English, agrees and asks for a person; returns what they got by then.
async fn ask_for_a_person(app: &TestApp, phone: &str) -> Vec<SentMessage> {
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 4).await;
    app.sms(phone, "agent").await;
    app.twilio.wait_for(phone, 5).await
}

/// The reopen window is judged by the app's clock: 23 hours after a close the person's message
/// reopens their ticket for the same interpreter; 25 hours after, it is a new conversation and
/// asking for a person opens a new ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_again_23_hours_after_a_close_reopens_and_25_hours_after_opens_a_new_ticket() {
    use kabar::domain::TicketStatus;
    let app = spawn_app().await;
    let phone = "+6281200001021";
    let p = kabar::domain::ContactId::parse(phone).unwrap();
    let id = ticket_from(&app, phone, "1", "agent").await;
    let ana = app.user("ana", Role::Interpreter, vec![Lang::English]);
    let close_path = format!("/api/tickets/{id}/close");
    let close = || post_json(&app, &ana, &close_path, json!({}));
    let r = post_json(&app, &ana, &format!("/api/tickets/{id}/claim"), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(close().await.status(), 200);
    app.twilio.wait_for(phone, 6).await;

    app.advance_hours(23);
    app.sms(phone, "one more question").await;
    let status = || app.store.ticket(id).unwrap().unwrap().status;
    eventually_true("the reopen", || status() == TicketStatus::Open).await;
    let t = app.store.ticket(id).unwrap().unwrap();
    assert_eq!(
        t.claimed_by.as_deref(),
        Some("ana"),
        "back to the same interpreter"
    );
    assert_eq!(close().await.status(), 200);
    app.twilio.wait_for(phone, 7).await;

    app.advance_hours(25);
    app.sms(phone, "one more question").await;
    app.intake_settled().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status(), TicketStatus::Closed, "too late to reopen");
    assert!(app.store.open_ticket_of(&p).unwrap().is_none());
    app.sms(phone, "agent").await;
    eventually_true("a new ticket", || {
        app.store.open_ticket_of(&p).unwrap().is_some()
    })
    .await;
    let new = app.store.open_ticket_of(&p).unwrap().unwrap();
    assert_ne!(new.id, id);
    assert_eq!(new.claimed_by, None, "a new ticket waits in the queue");
    assert_eq!(status(), TicketStatus::Closed);
    app.stop().await;
}

/// A browser session lasts its lifetime by the app's clock, not a moment longer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_session_expires_after_its_lifetime() {
    let app = spawn_app().await;
    let user = kabar::domain::User {
        name: "ana".into(),
        role: Role::Interpreter,
        languages: vec![Lang::English],
        password_hash: kabar::web::auth::hash_password(PASSWORD).unwrap(),
        created_at: 0,
        disabled: false,
    };
    app.store.add_user(&user).unwrap();
    let b = app.login("ana", PASSWORD).await;
    assert_eq!(get_with(&app, &b, "/api/tickets").await.status(), 200);
    let lifetime_hours = kabar::web::auth::SESSION_MS / 3_600_000;
    app.advance_hours(lifetime_hours - 1);
    assert_eq!(
        get_with(&app, &b, "/api/tickets").await.status(),
        200,
        "still valid"
    );
    assert_eq!(get_with(&app, &b, "/queue").await.status(), 200);
    app.advance_hours(2);
    assert_eq!(
        get_with(&app, &b, "/api/tickets").await.status(),
        401,
        "expired"
    );
    let page = get_with(&app, &b, "/queue").await;
    assert_eq!(page.status(), 303, "the queue page sends them to log in");
    assert!(
        page.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login"),
        "{:?}",
        page.headers()
    );
    app.stop().await;
}

/// The after-hours reply is judged by the app's clock: a person asking for someone while the
/// office is closed is told when it opens; the same request during business hours is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_hours_reply_only_outside_business_hours_by_the_apps_clock() {
    use chrono::Datelike;
    // Open all day, three days from now (so closed now, whatever the day).
    let then =
        (chrono::Utc::now() + chrono::Duration::hours(72)).with_timezone(&chrono_tz::Asia::Jakarta);
    let hours: &'static str = Box::leak(format!("{} 00:00-24:00", then.weekday()).into_boxed_str());
    let app = spawn_setup(Setup {
        hours,
        ..Setup::default()
    })
    .await;
    let waiting = localizer()
        .text(Lang::English, "human-waiting", &[])
        .unwrap();
    let closed = "+6281200001022";
    ask_for_a_person(&app, closed).await;
    let sent = app.twilio.wait_for(closed, 6).await;
    assert_eq!(sent[4].body, waiting);
    assert!(
        sent[5]
            .body
            .starts_with("Thank you. The office is closed now."),
        "{}",
        sent[5].body
    );

    app.advance_hours(72);
    let open = "+6281200001023";
    let sent = ask_for_a_person(&app, open).await;
    assert_eq!(sent[4].body, waiting);
    app.intake_settled().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.twilio.delivered_to(open).len(),
        5,
        "no after-hours reply in hours: {:?}",
        app.twilio.delivered_to(open)
    );
    app.stop().await;
}
