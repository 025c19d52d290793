//! The pages as interpreters and admins meet them: errors are pages, nothing personal is
//! cached, login returns to the page asked for, only actions that would work are offered, a
//! form never stays at its POST address, and the audit trail is useful.

use crate::common;

use common::*;
use kabar::domain::Role;
use kabar::i18n::Lang;

const PASSWORD: &str = "test password 123";

/// A person writes in English and asks for a person: returns the ticket id.
async fn ticket_from(app: &TestApp, phone: &str) -> u64 {
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "1").await; // English, detected from "hello" and listed first
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await; // agree
    app.twilio.wait_for(phone, 4).await;
    app.sms(phone, "agent").await;
    app.twilio.wait_for(phone, 5).await;
    let p = kabar::domain::ContactId::parse(phone).unwrap();
    app.store.open_ticket_of(&p).unwrap().expect("ticket").id
}

async fn get(b: &Browser, app: &TestApp, path: &str) -> reqwest::Response {
    b.http
        .get(app.url(path))
        .header("cookie", &b.cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_pages_for_browsers_and_json_for_the_api() {
    let app = spawn_app().await;
    app.user("erin", Role::Interpreter, vec![Lang::English]);
    let b = app.login("erin", PASSWORD).await;
    for (path, status, words) in [
        ("/no-such-page", 404, "Not found"),
        ("/tickets/abc", 400, "That address or form is not right"),
        ("/tickets/999999", 404, "Not found"),
        ("/logout", 405, "Not here"),
    ] {
        let r = get(&b, &app, path).await;
        assert_eq!(r.status(), status, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        let html = r.text().await.unwrap();
        assert!(html.contains(words), "{path}: {html}");
        assert!(
            html.contains("<nav"),
            "{path}: the menu is on error pages too"
        );
        assert!(
            !html.contains("Cannot parse"),
            "{path}: axum's text as the page"
        );
    }
    let token = app.token_for("api", Role::Supervisor, vec![]);
    for (path, status) in [("/api/nothing", 404), ("/api/tickets/abc", 400)] {
        let r = app
            .http
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["error"].is_string() && body["detail"].is_string(),
            "{body}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_with_personal_data_are_never_cached() {
    let app = spawn_app().await;
    let id = ticket_from(&app, "+6281200008001").await;
    app.user("nina", Role::Interpreter, vec![Lang::English]);
    let b = app.login("nina", PASSWORD).await;
    for path in [
        "/queue".to_string(),
        format!("/tickets/{id}"),
        "/queue/list".into(),
    ] {
        let r = get(&b, &app, &path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store, private", "{path}");
    }
    let token = app.token_for("api2", Role::Supervisor, vec![]);
    let r = app
        .http
        .get(app.url("/api/tickets"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store, private");
    // After logging out, the same page sends the browser to the login page.
    b.http
        .post(app.url("/logout"))
        .header("cookie", &b.cookie)
        .form(&[("csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    let r = get(&b, &app, "/queue").await;
    assert_eq!(r.status(), 303);
    let html_after = r.text().await.unwrap();
    assert!(!html_after.contains("8001"), "a phone after logout");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_returns_to_the_page_asked_for_and_says_when_a_session_ended() {
    let app = spawn_app().await;
    let id = ticket_from(&app, "+6281200008002").await;
    app.user("omar", Role::Interpreter, vec![Lang::English]);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(app.url(&format!("/tickets/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/login?next=%2Ftickets%2F{id}"));
    // The login form carries it, and logging in goes there.
    let page = http.get(app.url(&location)).send().await.unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("name=\"next\" value=\"/tickets/{id}\"")),
        "{html}"
    );
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let next = format!("/tickets/{id}");
    let r = http
        .post(app.url("/login"))
        .header("cookie", &cookie)
        .form(&[
            ("name", "omar"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("next", next.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], next.as_str());
    // Never to another site.
    let b = app.login("omar", PASSWORD).await;
    let r = get(&b, &app, "/login?next=//evil.example/x").await;
    assert_eq!(r.headers()["location"], "/queue");
    // A reply sent after the session ended: back to the ticket after login, told why.
    let r = http
        .post(app.url(&format!("/tickets/{id}/reply")))
        .header("cookie", "kabar_session=ended-long-ago")
        .form(&[("csrf", "x"), ("text", "hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/login?next=%2Ftickets%2F{id}&expired=1"));
    let html = http
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Your session ended"), "{html}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_claimed_by_someone_else_offers_only_what_works() {
    let app = spawn_app().await;
    let id = ticket_from(&app, "+6281200008003").await;
    app.user("ana", Role::Interpreter, vec![Lang::English]);
    app.user("bo", Role::Interpreter, vec![Lang::English]);
    let ana = app.login("ana", PASSWORD).await;
    let bo = app.login("bo", PASSWORD).await;
    let html = get(&ana, &app, &format!("/tickets/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(">Claim<") && html.contains("data-confirm"),
        "{html}"
    );
    // ana claims it; bo sees no Claim, Release, Close or reply box, only the note form.
    let r = ana
        .http
        .post(app.url(&format!("/tickets/{id}/claim")))
        .header("cookie", &ana.cookie)
        .form(&[("csrf", ana.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = get(&bo, &app, &format!("/tickets/{id}"))
        .await
        .text()
        .await
        .unwrap();
    for absent in [
        ">Claim<",
        ">Release<",
        ">Close…<",
        "id=\"reply\"",
        ">Transfer<",
    ] {
        assert!(!html.contains(absent), "{absent} shown to bo");
    }
    assert!(html.contains("id=\"note\""), "bo can still add a note");
    assert!(html.contains("only they can reply"), "{html}");
    // A claim that loses redirects back to the ticket with the reason (a reload sends nothing).
    let r = bo
        .http
        .post(app.url(&format!("/tickets/{id}/claim")))
        .header("cookie", &bo.cookie)
        .form(&[("csrf", bo.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("/tickets/{id}?error=")),
        "{location}"
    );
    let html = get(&bo, &app, &location).await.text().await.unwrap();
    assert!(html.contains("ana"), "the page says who has it: {html}");
    // The refused claim is in the audit trail.
    let rows = app
        .store
        .audit_search(|e| e.action == "refused claim" && e.user == "bo", 10)
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_counts_the_persons_messages_and_views_are_audited_once() {
    let app = spawn_app().await;
    let id = ticket_from(&app, "+6281200008004").await;
    app.user("lea", Role::Interpreter, vec![Lang::English]);
    let b = app.login("lea", PASSWORD).await;
    // Before lea looks: the conversation has the bot's lines and the person's, and "New"
    // counts only what the person wrote (hello, 6, 1, agent).
    let list = get(&b, &app, "/queue/list").await.text().await.unwrap();
    assert!(
        list.contains("<span class=\"badge unread\">4</span>"),
        "{list}"
    );
    for _ in 0..3 {
        get(&b, &app, &format!("/tickets/{id}")).await;
        get(&b, &app, &format!("/tickets/{id}/messages")).await;
    }
    let views = app
        .store
        .audit_search(|e| e.action == "view" && e.ticket == Some(id), 10)
        .unwrap();
    assert_eq!(views.len(), 1, "one view, not one per refresh: {views:?}");
    // Failed logins are in the trail too.
    let http = reqwest::Client::new();
    let (cookie, token) = app.login_form(&http).await;
    http.post(app.url("/login"))
        .header("cookie", &cookie)
        .form(&[("name", "lea"), ("password", "wrong"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    let failed = app
        .store
        .audit_search(|e| e.action == "login-failed" && e.user == "lea", 10)
        .unwrap();
    assert_eq!(failed.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_filters_and_exports() {
    let app = spawn_app().await;
    let id = ticket_from(&app, "+6281200008005").await;
    app.user("ivy", Role::Interpreter, vec![Lang::English]);
    let ivy = app.login("ivy", PASSWORD).await;
    get(&ivy, &app, &format!("/tickets/{id}")).await;
    let admin = {
        let user = kabar::domain::User {
            name: "root".into(),
            role: Role::Admin,
            languages: vec![],
            password_hash: kabar::web::auth::hash_password(PASSWORD).unwrap(),
            created_at: 0,
            disabled: false,
        };
        app.store.add_user(&user).unwrap();
        app.login("root", PASSWORD).await
    };
    let html = get(&admin, &app, "/audit?user=ivy&action=view")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("#{id}")), "{html}");
    assert!(!html.contains("<td>root</td>"), "filtered by user: {html}");
    let r = get(&admin, &app, &format!("/audit.csv?ticket={id}")).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("at,user,action,ticket,detail"), "{csv}");
    assert!(csv.contains(&format!("ivy,view,{id}")), "{csv}");
    let html = get(&admin, &app, "/audit?from=yesterday")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("is not a date"), "{html}");
    // Interpreters may not.
    assert_eq!(get(&ivy, &app, "/audit.csv").await.status(), 403);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unclaimed_urgent_ticket_is_announced_on_the_supervisors_queue() {
    let app = spawn_app().await;
    let user = kabar::domain::User {
        name: "sup".into(),
        role: Role::Supervisor,
        languages: vec![],
        password_hash: kabar::web::auth::hash_password(PASSWORD).unwrap(),
        created_at: 0,
        disabled: false,
    };
    app.store.add_user(&user).unwrap();
    let sup = app.login("sup", PASSWORD).await;
    let phone = "+6281200008006";
    app.sms(phone, "my husband beats me").await;
    app.twilio.wait_for(phone, 1).await;
    let p = kabar::domain::ContactId::parse(phone).unwrap();
    let id = app.store.open_ticket_of(&p).unwrap().unwrap().id;
    let list = get(&sup, &app, "/queue/list").await.text().await.unwrap();
    assert!(list.contains("id=\"urgent-alert\""), "{list}");
    assert!(list.contains(&format!("#{id} (English)")), "{list}");
    assert!(!list.contains("8006"), "no phone in the alert: {list}");
    let page = get(&sup, &app, "/queue").await.text().await.unwrap();
    assert!(page.contains("Your languages: all"), "{page}");
    sup.http
        .post(app.url(&format!("/tickets/{id}/claim")))
        .header("cookie", &sup.cookie)
        .form(&[("csrf", sup.csrf.as_str())])
        .send()
        .await
        .unwrap();
    let list = get(&sup, &app, "/queue/list").await.text().await.unwrap();
    assert!(!list.contains("urgent-alert"), "claimed: the alert is gone");
    app.stop().await;
}

/// The links of the page's menu (`<nav>`), in order.
fn nav_links(html: &str) -> Vec<String> {
    let nav = html
        .split("<nav>")
        .nth(1)
        .and_then(|rest| rest.split("</nav>").next())
        .unwrap_or("");
    nav.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_leads_each_role_to_its_pages_with_the_menu() {
    let app = spawn_app().await;
    let anonymous = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for link in ["/login", "/queue", "/broadcasts", "/simulator"] {
        assert!(anonymous.contains(&format!("href=\"{link}\"")), "{link}");
    }
    app.user("hodan", Role::Interpreter, vec![Lang::Somali]);
    app.user("sara", Role::Staff, vec![]);
    app.user("amina", Role::Admin, vec![]);
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "hodan",
            &["/queue"],
            &["/broadcasts", "/staff/payments", "/admin/users"],
        ),
        (
            "sara",
            &[
                "/broadcasts",
                "/staff/payments",
                "/staff/contacts",
                "/staff/directory",
            ],
            &["/queue", "/admin/users"],
        ),
        (
            "amina",
            &[
                "/queue",
                "/broadcasts",
                "/staff/contacts",
                "/admin/users",
                "/audit",
            ],
            &[],
        ),
    ];
    for (name, has, lacks) in cases {
        let b = app.login(name, PASSWORD).await;
        let html = get(&b, &app, "/").await.text().await.unwrap();
        let nav = nav_links(&html);
        assert!(html.contains("Log out"), "{name}: the signed-in menu");
        for link in has {
            assert!(
                nav.iter().any(|l| l == link),
                "{name}'s menu has {link}: {nav:?}"
            );
            let main = html.split("<main>").nth(1).unwrap_or("");
            assert!(
                main.contains(&format!("href=\"{link}\"")),
                "{name}'s home links {link}"
            );
        }
        for link in lacks {
            assert!(
                !html.contains(&format!("href=\"{link}\"")),
                "{name} is not offered {link}"
            );
        }
    }
    // The simulator page leads back home.
    let simulator = app
        .http
        .get(app.url("/simulator"))
        .header("cookie", app.login("hodan", PASSWORD).await.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(simulator.contains("href=\"/\""), "the simulator links home");
    app.stop().await;
}
