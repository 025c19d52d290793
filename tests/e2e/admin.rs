//! Administration while the server runs: users and tokens through the API (the role matrix,
//! bad fields, conflicts), disabling and revoking that take effect at once, and the audit trail.

use crate::common;

use common::*;
use kabar::domain::Role;
use kabar::i18n::Lang;
use serde_json::json;

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = app.http.request(method, app.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(json!(text)))
}

fn interpreter(name: &str) -> serde_json::Value {
    json!({"name": name, "role": "interpreter", "languages": ["so", "en"], "password": "a long enough password"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_manage_users_and_every_role_is_checked() {
    let app = spawn_app().await;
    let admin = app.user("amina", Role::Admin, vec![]);
    let staff = app.user("sara", Role::Staff, vec![]);
    let supervisor = app.user("omar", Role::Supervisor, vec![Lang::English]);
    let interp = app.user("hodan", Role::Interpreter, vec![Lang::Somali]);
    use reqwest::Method;

    // Without credentials: 401 everywhere.
    for (method, path) in [
        (Method::GET, "/api/users"),
        (Method::POST, "/api/users"),
        (Method::PATCH, "/api/users/hodan"),
        (Method::GET, "/api/tokens"),
        (Method::POST, "/api/tokens"),
        (Method::DELETE, "/api/tokens/0123456789abcdef"),
    ] {
        let (status, body) = send(&app, method.clone(), path, None, Some(json!({}))).await;
        assert_eq!(status, 401, "{method} {path}");
        assert_eq!(body["error"], "unauthorized");
    }
    // Staff, supervisors and interpreters may neither list, add nor change users.
    for token in [&staff, &supervisor, &interp] {
        let (status, body) = send(&app, Method::GET, "/api/users", Some(token), None).await;
        assert_eq!(status, 403, "{body}");
        let (status, _) = send(
            &app,
            Method::POST,
            "/api/users",
            Some(token),
            Some(interpreter("newcomer")),
        )
        .await;
        assert_eq!(status, 403);
        let (status, _) = send(
            &app,
            Method::PATCH,
            "/api/users/hodan",
            Some(token),
            Some(json!({"disabled": true})),
        )
        .await;
        assert_eq!(status, 403);
    }
    assert!(
        app.store.user("newcomer").unwrap().is_none(),
        "nothing added"
    );
    assert!(!app.store.user("hodan").unwrap().unwrap().disabled);

    // The admin adds one: 201, listed, no password hash anywhere in the answer.
    let (status, created) = send(
        &app,
        Method::POST,
        "/api/users",
        Some(&admin),
        Some(interpreter("newcomer")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "newcomer");
    assert_eq!(created["role"], "interpreter");
    assert_eq!(created["languages"], json!(["so", "en"]));
    let (status, list) = send(&app, Method::GET, "/api/users", Some(&admin), None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"newcomer") && names.contains(&"hodan"));
    assert!(
        !list.to_string().contains("argon2"),
        "no hash leaks: {list}"
    );

    // The same name again: 409, the first one untouched.
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/users",
        Some(&admin),
        Some(json!({"name": "newcomer", "role": "admin", "languages": [], "password": "another long password"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        app.store.user("newcomer").unwrap().unwrap().role,
        Role::Interpreter
    );

    // Bad fields: 422 with a reason naming the problem; malformed JSON: 400.
    let bad = [
        (
            json!({"name": "x y", "role": "staff", "password": "long enough pass"}),
            "user names",
        ),
        (
            json!({"name": "kofi", "role": "boss", "password": "long enough pass"}),
            "unknown role",
        ),
        (
            json!({"name": "kofi", "role": "staff", "languages": ["xx"], "password": "long enough pass"}),
            "unknown language",
        ),
        (
            json!({"name": "kofi", "role": "interpreter", "languages": [], "password": "long enough pass"}),
            "at least one language",
        ),
        (
            json!({"name": "kofi", "role": "staff", "password": "short"}),
            "at least 10",
        ),
        (json!({"name": "kofi", "role": "staff"}), "password"),
        (
            json!({"name": "kofi", "role": "staff", "password": "long enough pass", "admin": true}),
            "unknown field",
        ),
    ];
    for (body, reason) in bad {
        let (status, answer) = send(
            &app,
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["error"], "invalid");
        assert!(
            answer["detail"].as_str().unwrap().contains(reason),
            "{body}: {answer}"
        );
    }
    assert!(
        app.store.user("kofi").unwrap().is_none(),
        "nothing half-written"
    );
    let r = app
        .http
        .post(app.url("/api/users"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Changes: unknown user 404, empty change 422, an interpreter left without languages 422.
    let (status, _) = send(
        &app,
        Method::PATCH,
        "/api/users/nobody",
        Some(&admin),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send(
        &app,
        Method::PATCH,
        "/api/users/hodan",
        Some(&admin),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = send(
        &app,
        Method::PATCH,
        "/api/users/hodan",
        Some(&admin),
        Some(json!({"languages": []})),
    )
    .await;
    assert_eq!(status, 422);
    // The only admin cannot lock everyone out.
    let (status, body) = send(
        &app,
        Method::PATCH,
        "/api/users/amina",
        Some(&admin),
        Some(json!({"role": "staff"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(app.store.user("amina").unwrap().unwrap().role, Role::Admin);

    // A role and language change takes effect on the next request.
    let (status, changed) = send(
        &app,
        Method::PATCH,
        "/api/users/omar",
        Some(&admin),
        Some(json!({"role": "interpreter", "languages": ["ar"]})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["role"], "interpreter");
    assert_eq!(changed["languages"], json!(["ar"]));
    let (status, _) = send(&app, Method::GET, "/api/figures", Some(&supervisor), None).await;
    assert_eq!(status, 403, "no longer a supervisor");

    // Every change is in the audit trail, with no password in it.
    let (_, audit) = send(&app, Method::GET, "/api/audit", Some(&admin), None).await;
    let rows = audit.as_array().unwrap();
    assert!(rows.iter().any(|r| r["action"] == "user-add"
        && r["user"] == "amina"
        && r["detail"].as_str().unwrap().contains("newcomer")));
    assert!(rows.iter().any(|r| {
        r["action"] == "user-change"
            && r["detail"]
                .as_str()
                .unwrap()
                .contains("role supervisor -> interpreter")
    }));
    assert!(!audit.to_string().contains("long enough"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_added_by_an_admin_logs_in_and_works_without_a_restart() {
    let app = spawn_app().await;
    let admin = app.user("amina", Role::Admin, vec![]);
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        "/api/users",
        Some(&admin),
        Some(interpreter("faduma")),
    )
    .await;
    assert_eq!(status, 201);
    let browser = app.login("faduma", "a long enough password").await;
    let queue = browser
        .http
        .get(app.url("/queue"))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200);
    assert!(queue.text().await.unwrap().contains("faduma"));
    let tickets = browser
        .http
        .get(app.url("/api/tickets"))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(tickets.status(), 200);

    // A new password works at once, the old one no longer does.
    let (status, _) = send(
        &app,
        reqwest::Method::PATCH,
        "/api/users/faduma",
        Some(&admin),
        Some(json!({"password": "a brand new password"})),
    )
    .await;
    assert_eq!(status, 200);
    let old = {
        // The login form's own CSRF token and cookie, as a browser sends them.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (cookie, token) = app.login_form(&http).await;
        http.post(app.url("/login"))
            .header("cookie", &cookie)
            .form(&[
                ("name", "faduma"),
                ("password", "a long enough password"),
                ("csrf", token.as_str()),
            ])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(old.status(), 401);
    app.login("faduma", "a brand new password").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_is_refused_at_once_by_session_token_and_login() {
    let app = spawn_app().await;
    let admin = app.user("amina", Role::Admin, vec![]);
    let token = app.user("hodan", Role::Interpreter, vec![Lang::Somali]);
    let browser = app.login("hodan", "test password 123").await;
    let get_queue = || async {
        browser
            .http
            .get(app.url("/api/tickets"))
            .header("cookie", &browser.cookie)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get_queue().await, 200);
    let (status, _) = send(
        &app,
        reqwest::Method::GET,
        "/api/tickets",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = send(
        &app,
        reqwest::Method::PATCH,
        "/api/users/hodan",
        Some(&admin),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["disabled"], true);
    assert_eq!(get_queue().await, 401, "the open session stops");
    let (status, _) = send(
        &app,
        reqwest::Method::GET,
        "/api/tickets",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 401, "the token stops");
    let login = {
        // The login form's own CSRF token and cookie, as a browser sends them.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (cookie, token) = app.login_form(&http).await;
        http.post(app.url("/login"))
            .header("cookie", &cookie)
            .form(&[
                ("name", "hodan"),
                ("password", "test password 123"),
                ("csrf", token.as_str()),
            ])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(login.status(), 401, "and no new login");
    // No new token for a disabled user either.
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        "/api/tokens",
        Some(&admin),
        Some(json!({"user": "hodan"})),
    )
    .await;
    assert_eq!(status, 422);

    // Enabled again, the same token works again.
    send(
        &app,
        reqwest::Method::PATCH,
        "/api/users/hodan",
        Some(&admin),
        Some(json!({"disabled": false})),
    )
    .await;
    let (status, _) = send(
        &app,
        reqwest::Method::GET,
        "/api/tickets",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_created_once_listed_without_secret_and_revoked_at_once() {
    let app = spawn_app().await;
    let admin = app.user("amina", Role::Admin, vec![]);
    let staff = app.user("sara", Role::Staff, vec![]);
    app.user("hodan", Role::Interpreter, vec![Lang::Somali]);
    use reqwest::Method;

    // Staff may create a token for themselves, not for someone else.
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/tokens",
        Some(&staff),
        Some(json!({"user": "hodan"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, own) = send(
        &app,
        Method::POST,
        "/api/tokens",
        Some(&staff),
        Some(json!({"user": "sara"})),
    )
    .await;
    assert_eq!(status, 201, "{own}");
    let own_token = own["token"].as_str().unwrap().to_string();
    let (status, _) = send(&app, Method::GET, "/api/payments", Some(&own_token), None).await;
    assert_eq!(status, 200, "the new token works");

    // The admin creates one for hodan; unknown users are 422.
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/tokens",
        Some(&admin),
        Some(json!({"user": "nobody"})),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/tokens",
        Some(&admin),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 422, "the user field is required");
    let (status, created) = send(
        &app,
        Method::POST,
        "/api/tokens",
        Some(&admin),
        Some(json!({"user": "hodan"})),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_string();
    let hodan_token = created["token"].as_str().unwrap().to_string();
    assert!(hodan_token.starts_with("kbr_"));

    // Listing never shows a token; staff see only their own.
    let (_, all) = send(&app, Method::GET, "/api/tokens", Some(&admin), None).await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str() && t["user"] == "hodan" && t["created_by"] == "amina")
    );
    assert!(!all.to_string().contains(&hodan_token));
    let (_, mine) = send(&app, Method::GET, "/api/tokens", Some(&staff), None).await;
    assert!(mine.as_array().unwrap().iter().all(|t| t["user"] == "sara"));

    // Staff cannot revoke hodan's token (it is not theirs to see): 404, still working.
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/api/tokens/{id}"),
        Some(&staff),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send(&app, Method::GET, "/api/tickets", Some(&hodan_token), None).await;
    assert_eq!(status, 200);
    // The admin revokes it: refused at once, and gone from the list.
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/api/tokens/{id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(&app, Method::GET, "/api/tickets", Some(&hodan_token), None).await;
    assert_eq!(status, 401);
    let (_, all) = send(&app, Method::GET, "/api/tokens", Some(&admin), None).await;
    assert!(!all.to_string().contains(&id));
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/api/tokens/{id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 404, "revoking twice");

    let (_, audit) = send(&app, Method::GET, "/api/audit", Some(&admin), None).await;
    let rows = audit.as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["action"] == "token-create" && r["user"] == "amina")
    );
    assert!(
        rows.iter()
            .any(|r| r["action"] == "token-revoke" && r["detail"].as_str().unwrap().contains(&id))
    );
    assert!(!audit.to_string().contains("kbr_"), "no token in the trail");
    app.stop().await;
}

/// A browser session changing users needs the CSRF token, like every other change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_changes_need_the_csrf_token() {
    let app = spawn_app().await;
    app.user("amina", Role::Admin, vec![]);
    let browser = app.login("amina", "test password 123").await;
    let without = browser
        .http
        .post(app.url("/api/users"))
        .header("cookie", &browser.cookie)
        .json(&interpreter("newcomer"))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 403);
    let with = browser
        .http
        .post(app.url("/api/users"))
        .header("cookie", &browser.cookie)
        .header("x-csrf-token", &browser.csrf)
        .json(&interpreter("newcomer"))
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 201);
    app.stop().await;
}

/// A person writes and asks for a person (English): returns the ticket id.
async fn ticket_from(app: &TestApp, phone: &str) -> u64 {
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "1").await; // English
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await; // agree
    app.twilio.wait_for(phone, 4).await;
    app.sms(phone, "agent").await;
    app.twilio.wait_for(phone, 5).await;
    let p = kabar::domain::ContactId::parse(phone).unwrap();
    app.store
        .open_ticket_of(&p)
        .unwrap()
        .expect("ticket opened")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_to_someone_who_cannot_see_the_ticket_is_refused() {
    let app = spawn_app().await;
    let supervisor = app.user("omar", Role::Supervisor, vec![Lang::English]);
    app.user("hodan", Role::Interpreter, vec![Lang::Somali]);
    app.user("sara", Role::Staff, vec![]);
    let id = ticket_from(&app, "+6281200007001").await;
    let path = format!("/api/tickets/{id}/transfer");

    // hodan works in Somali only: an English ticket would be stranded with her.
    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        &path,
        Some(&supervisor),
        Some(json!({"to_user": "hodan"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "cannot see");
    assert!(
        body["detail"].as_str().unwrap().contains("English"),
        "{body}"
    );
    let ticket = app.store.ticket(id).unwrap().unwrap();
    assert_eq!(ticket.claimed_by, None, "nothing changed");
    assert_eq!(ticket.language, Lang::English);
    // Staff see no conversations at all.
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        &path,
        Some(&supervisor),
        Some(json!({"to_user": "sara"})),
    )
    .await;
    assert_eq!(status, 409);

    // Moved to Somali at the same time, she can take it — and sees it in her queue.
    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        &path,
        Some(&supervisor),
        Some(json!({"to_user": "hodan", "to_language": "so"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let ticket = app.store.ticket(id).unwrap().unwrap();
    assert_eq!(ticket.claimed_by.as_deref(), Some("hodan"));
    let hodan = app.login("hodan", "test password 123").await;
    let page = hodan
        .http
        .get(app.url(&format!("/tickets/{id}")))
        .header("cookie", &hodan.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the receiver can open it");

    // Through the page, a refused transfer shows the reason instead of accepting it.
    app.user("lina", Role::Interpreter, vec![Lang::Arabic]);
    let omar = app.login("omar", "test password 123").await;
    let page = omar
        .http
        .post(app.url(&format!("/tickets/{id}/transfer")))
        .header("cookie", &omar.cookie)
        .form(&[
            ("csrf", omar.csrf.as_str()),
            ("to_user", "lina"),
            ("to_language", ""),
        ])
        .send()
        .await
        .unwrap();
    // The form redirects back to the ticket (a reload sends nothing) with the reason.
    assert_eq!(page.status(), 303);
    let location = page.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("error="), "{location}");
    let html = omar
        .http
        .get(app.url(&location))
        .header("cookie", &omar.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("lina cannot take this ticket"), "{html}");
    assert_eq!(
        app.store.ticket(id).unwrap().unwrap().claimed_by.as_deref(),
        Some("hodan")
    );
    app.stop().await;
}

/// Ticket numbers are short (1, 2, 3 …) and keep counting after a restart, where sled's own
/// ids jump by about a million.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_numbers_stay_small_and_keep_counting_after_a_restart() {
    let app = spawn_app().await;
    let first = ticket_from(&app, "+6281200008001").await;
    let second = ticket_from(&app, "+6281200008002").await;
    assert_eq!((first, second), (1, 2));
    let data = app.stop().await;
    let app = spawn_app_with(FakeTwilio::start().await, data).await;
    // The first run used these Twilio MessageSids: a provider never repeats one (kabar would
    // drop the repeat as a duplicate).
    for _ in 0..8 {
        app.next_sid();
    }
    let third = ticket_from(&app, "+6281200008003").await;
    assert_eq!(third, 3, "counting goes on after the restart");
    // The earlier tickets are still there under their numbers.
    let admin = app.user("amina", Role::Admin, vec![]);
    let (status, ticket) = send(
        &app,
        reqwest::Method::GET,
        &format!("/api/tickets/{first}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200, "{ticket}");
    app.stop().await;
}

async fn import_csv(app: &TestApp, token: &str, path: &str, csv: &str) -> (u16, serde_json::Value) {
    let r = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Up to the main menu in English (4 replies).
async fn consented(app: &TestApp, phone: &str) {
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_entry_for_makassar_reaches_a_person_in_makassar() {
    let app = spawn_app().await;
    let staff = app.user("sara", Role::Staff, vec![]);
    let interp = app.user("hodan", Role::Interpreter, vec![Lang::Somali]);
    let csv = "city,kind,name,phone,address,hours\n\
               Makassar,unhcr,UNHCR Makassar,0411-871 234,Jl. Sudirman 12,Mon-Fri 08:00-15:00\n\
               Medan,clinic,Klinik Sehat,061-555 01,,\n";
    let (status, _) = import_csv(&app, &interp, "/api/directory", csv).await;
    assert_eq!(status, 403, "interpreters do not edit the directory");
    // A bad row refuses the whole file and names its line.
    let bad = format!("{csv}Makassar,embassy,Somewhere,1,,\n");
    let (status, body) = import_csv(&app, &staff, "/api/directory", &bad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["rows"][0]["line"], 4);
    assert!(
        app.store.directory().unwrap().is_empty(),
        "nothing half-written"
    );
    let (status, body) = import_csv(&app, &staff, "/api/directory", csv).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 2);

    // In Makassar: who decides, the city question, then the entry exactly as staff typed it.
    let phone = "+6281200009001";
    consented(&app, phone).await;
    app.sms(phone, "4").await;
    app.twilio.wait_for(phone, 5).await;
    app.sms(phone, "3").await;
    let got = app.twilio.wait_for(phone, 7).await;
    assert!(got[5].body.contains("UNHCR Indonesia"), "{}", got[5].body);
    assert!(
        got[6].body.contains("Makassar") && got[6].body.contains("Medan"),
        "{}",
        got[6].body
    );
    app.sms(phone, "1").await;
    let got = app.twilio.wait_for(phone, 8).await;
    assert!(
        got[7]
            .body
            .contains("UNHCR Makassar 0411-871 234, Jl. Sudirman 12 (Mon-Fri 08:00-15:00)"),
        "{}",
        got[7].body
    );
    assert!(!got[7].body.contains("Staff can give you"));

    // In Medan there is a clinic but no UNHCR contact: said plainly.
    let phone = "+6281200009002";
    consented(&app, phone).await;
    app.sms(phone, "4").await;
    app.twilio.wait_for(phone, 5).await;
    app.sms(phone, "3").await;
    app.twilio.wait_for(phone, 7).await;
    app.sms(phone, "2").await;
    let got = app.twilio.wait_for(phone, 8).await;
    assert!(
        got[7]
            .body
            .contains("do not have a UNHCR contact for Medan yet"),
        "{}",
        got[7].body
    );
    assert!(!got[7].body.contains("Klinik"), "only the kind asked for");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_directory_at_all_the_answer_is_honest() {
    let app = spawn_app().await;
    let phone = "+6281200009003";
    consented(&app, phone).await;
    app.sms(phone, "4").await;
    app.twilio.wait_for(phone, 5).await;
    app.sms(phone, "3").await;
    let got = app.twilio.wait_for(phone, 7).await;
    assert!(
        got[6]
            .body
            .contains("do not have UNHCR contacts for any city yet"),
        "{}",
        got[6].body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_imported_by_staff_while_running_answers_the_next_sms() {
    let app = spawn_app().await;
    let staff = app.user("sara", Role::Staff, vec![]);
    let (status, body) = import_csv(
        &app,
        &staff,
        "/api/payments",
        "city,next_payment_date\nMakassar,2026-12-15\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let phone = "+6281200009004";
    consented(&app, phone).await;
    app.sms(phone, "1").await; // allowance
    app.twilio.wait_for(phone, 5).await;
    app.sms(phone, "1").await; // the next date
    app.twilio.wait_for(phone, 6).await;
    app.sms(phone, "1").await; // Makassar
    let got = app.twilio.wait_for(phone, 7).await;
    assert!(got[6].body.contains("15/12/2026"), "{}", got[6].body);
    app.stop().await;
}

/// Status of `GET /api/tickets` with this browser session's cookie.
async fn session_status(app: &TestApp, browser: &Browser) -> u16 {
    browser
        .http
        .get(app.url("/api/tickets"))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn token_status(app: &TestApp, token: &str) -> u16 {
    send(app, reqwest::Method::GET, "/api/tickets", Some(token), None)
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_ends_the_other_sessions_and_tokens_but_not_ones_own() {
    let app = spawn_app().await;
    let admin = app.user("amina", Role::Admin, vec![]);
    let hodan_token = app.user("hodan", Role::Interpreter, vec![Lang::Somali]);
    let laptop = app.login("hodan", "test password 123").await;
    let phone = app.login("hodan", "test password 123").await;
    let other_user = app.login("amina", "test password 123").await;
    assert_eq!(session_status(&app, &laptop).await, 200);
    assert_eq!(token_status(&app, &hodan_token).await, 200);

    // An admin sets hodan a new password through the API: whoever knew the old one is out.
    let (status, _) = send(
        &app,
        reqwest::Method::PATCH,
        "/api/users/hodan",
        Some(&admin),
        Some(json!({"password": "a brand new password"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        session_status(&app, &laptop).await,
        401,
        "laptop session ends"
    );
    assert_eq!(
        session_status(&app, &phone).await,
        401,
        "phone session ends"
    );
    assert_eq!(token_status(&app, &hodan_token).await, 401, "token revoked");
    assert_eq!(
        session_status(&app, &other_user).await,
        200,
        "other users' sessions stay"
    );
    assert_eq!(
        token_status(&app, &admin).await,
        200,
        "the admin's token stays"
    );
    app.login("hodan", "a brand new password").await;
    let audit = app.store.audit_log(5).unwrap();
    let change = audit.iter().find(|a| a.action == "user-change").unwrap();
    assert!(
        change
            .detail
            .contains("2 other sessions and 1 tokens ended"),
        "{}",
        change.detail
    );
    assert!(!change.detail.contains("brand new"), "never the password");

    // An admin changes their own password on the page: this session stays, the others end.
    let office = app.login("amina", "test password 123").await;
    let r = office
        .http
        .post(app.url("/admin/users/amina"))
        .header("cookie", &office.cookie)
        .form(&[
            ("csrf", office.csrf.as_str()),
            ("role", "admin"),
            ("languages", ""),
            ("password", "my own new password"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    assert_eq!(
        session_status(&app, &office).await,
        200,
        "own session stays"
    );
    assert_eq!(
        session_status(&app, &other_user).await,
        401,
        "her other session ends"
    );
    assert_eq!(token_status(&app, &admin).await, 401, "and her token");

    // Through the API with one's own token: that token stays, another one of hers ends.
    let first = app
        .store
        .add_token(
            &kabar::web::auth::token_hash("kbr_first_token_of_amina"),
            "amina",
        )
        .unwrap();
    let second = app
        .store
        .add_token(
            &kabar::web::auth::token_hash("kbr_second_token_of_amina"),
            "amina",
        )
        .unwrap();
    assert_ne!(first.id, second.id);
    let (status, _) = send(
        &app,
        reqwest::Method::PATCH,
        "/api/users/amina",
        Some("kbr_first_token_of_amina"),
        Some(json!({"password": "yet another password"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(token_status(&app, "kbr_first_token_of_amina").await, 200);
    assert_eq!(token_status(&app, "kbr_second_token_of_amina").await, 401);
    assert_eq!(session_status(&app, &office).await, 401);
    app.stop().await;
}

/// The number of `city` in a city question ("2. Medan").
fn city_choice(question: &str, city: &str) -> String {
    question
        .lines()
        .find_map(|l| l.trim().strip_suffix(city)?.strip_suffix(". "))
        .unwrap_or_else(|| panic!("{city} not offered: {question}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clinics_and_iom_offices_reach_people_where_the_flows_sent_them_to_staff() {
    let app = spawn_app().await;
    let staff = app.user("sara", Role::Staff, vec![]);
    let csv = "city,kind,name,phone,address,hours\n\
               Medan,clinic,Klinik Sehat,061-555 01,Jl. Gatot Subroto 3,\n\
               Medan,unhcr,UNHCR Medan,061-777,,\n\
               Makassar,iom,IOM Makassar,0411-123 456,,Mon-Fri\n";
    let (status, body) = import_csv(&app, &staff, "/api/directory", csv).await;
    assert_eq!(status, 200, "{body}");

    // A person in Medan asks for a doctor: the advice, their city, then Medan's clinic.
    let phone = "+6281200009011";
    consented(&app, phone).await;
    app.sms(phone, "5").await;
    app.twilio.wait_for(phone, 5).await;
    app.sms(phone, "1").await;
    let got = app.twilio.wait_for(phone, 7).await;
    assert!(got[5].body.contains("call 112"), "{}", got[5].body);
    let choice = city_choice(&got[6].body, "Medan");
    app.sms(phone, &choice).await;
    let got = app.twilio.wait_for(phone, 8).await;
    assert!(
        got[7].body.contains("Clinics in Medan")
            && got[7]
                .body
                .contains("Klinik Sehat 061-555 01, Jl. Gatot Subroto 3"),
        "{}",
        got[7].body
    );
    assert!(!got[7].body.contains("UNHCR"), "only clinics");

    // Later, going home: Medan is remembered, and it has no IOM office on file — said plainly.
    app.sms(phone, "0").await;
    app.twilio.wait_for(phone, 9).await;
    app.sms(phone, "3").await;
    app.twilio.wait_for(phone, 10).await;
    app.sms(phone, "1").await;
    let got = app.twilio.wait_for(phone, 12).await;
    assert!(got[10].body.contains("IOM can help"), "{}", got[10].body);
    assert!(
        got[11]
            .body
            .contains("do not have an IOM office contact for Medan yet"),
        "{}",
        got[11].body
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.twilio.delivered_to(phone).len(),
        12,
        "no city question again"
    );

    // In Makassar the IOM office is there; a doctor is honestly not.
    let phone = "+6281200009012";
    consented(&app, phone).await;
    app.sms(phone, "3").await;
    app.twilio.wait_for(phone, 5).await;
    app.sms(phone, "1").await;
    let got = app.twilio.wait_for(phone, 7).await;
    let choice = city_choice(&got[6].body, "Makassar");
    app.sms(phone, &choice).await;
    let got = app.twilio.wait_for(phone, 8).await;
    assert!(
        got[7].body.contains("IOM office in Makassar")
            && got[7].body.contains("IOM Makassar 0411-123 456 (Mon-Fri)"),
        "{}",
        got[7].body
    );
    app.sms(phone, "0").await;
    app.twilio.wait_for(phone, 9).await;
    app.sms(phone, "5").await;
    app.twilio.wait_for(phone, 10).await;
    app.sms(phone, "1").await;
    let got = app.twilio.wait_for(phone, 12).await;
    assert!(
        got[11]
            .body
            .contains("do not have a clinic for Makassar yet. Tell IOM staff."),
        "{}",
        got[11].body
    );
    app.stop().await;
}
