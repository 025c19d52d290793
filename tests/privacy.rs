//! Privacy and security end to end: security headers and the CSP on every answer, erasure,
//! retention, and what stays on disk.

mod common;

use common::*;
use kabar::domain::Role;
use kabar::i18n::Lang;

const PASSWORD: &str = "test password 123";

/// Every security header a page or API answer must carry.
fn assert_security_headers(what: &str, r: &reqwest::Response) {
    let h = r.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("style-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
}

/// No inline script, style element or style attribute: the CSP would block them.
fn assert_no_inline_code(what: &str, html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..html[i..].find('>').map(|e| i + e).unwrap_or(html.len())];
        assert!(tag.contains(" src="), "{what}: inline script {tag}");
    }
    assert!(!html.contains("<style"), "{what}: inline <style>");
    assert!(!html.contains(" style="), "{what}: style attribute");
    assert!(!html.contains(" onclick="), "{what}: inline handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_api_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let phone = "+6281200002001";
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 4).await;
    app.sms(phone, "agent").await;
    app.twilio.wait_for(phone, 5).await;
    let ticket = app
        .store
        .open_ticket_of(&kabar::phone::PhoneNumber::parse(phone).unwrap())
        .unwrap()
        .unwrap()
        .id;
    let token = app.user("boss", Role::Admin, vec![Lang::English]);
    let b = app.login("boss", PASSWORD).await;
    for path in [
        "/".to_string(),
        "/queue".into(),
        format!("/tickets/{ticket}"),
        "/canned".into(),
        "/figures".into(),
        "/audit".into(),
        "/simulator".into(),
    ] {
        let r = b
            .http
            .get(app.url(&path))
            .header("cookie", &b.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_security_headers(&path, &r);
        let html = r.text().await.unwrap();
        assert_no_inline_code(&path, &html);
        // Every script and style sheet a page links is served, with the same headers.
        for link in html
            .split("\"/assets/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
        {
            let r = app
                .http
                .get(app.url(&format!("/assets/{link}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}: /assets/{link}");
            assert_security_headers(link, &r);
            assert!(
                r.headers()["cache-control"]
                    .to_str()
                    .unwrap()
                    .contains("max-age")
            );
        }
    }
    let login = app.http.get(app.url("/login")).send().await.unwrap();
    assert_security_headers("/login", &login);
    assert_no_inline_code("/login", &login.text().await.unwrap());
    for (path, status) in [
        ("/api/tickets", 200),
        ("/api/openapi.json", 200),
        ("/healthz", 200),
        ("/no/such/page", 404),
        ("/assets/nothing.js", 404),
    ] {
        let r = app
            .http
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
        assert_security_headers(path, &r);
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "http: no HSTS"
        );
    }
    let r = app
        .post_twilio("/webhooks/twilio", &inbound_params("SMbad", phone, "x"))
        .await;
    assert_security_headers("webhook", &r);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_deployments_get_hsts() {
    use tower::ServiceExt;
    let data = tempfile::tempdir().unwrap();
    let twilio = FakeTwilio::start().await;
    let mut config = test_config("127.0.0.1:0".parse().unwrap(), data.path(), twilio.addr);
    config.server.public_url = "https://helpdesk.example.org".parse().unwrap();
    let app = kabar::App::build(config).unwrap();
    let r = app
        .router()
        .oneshot(
            axum::http::Request::get("/healthz")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let hsts = r.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.contains("max-age=31536000"), "{hsts}");
    assert!(r.headers().contains_key("content-security-policy"));
    drop(app);
}

/// A store that cannot be read shows as an error page with the reason (503), never as an
/// empty queue that looks like "nothing to do". The damage is real: a record on disk that no
/// longer decodes, written with sled directly while kabar is stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_error_is_a_503_with_a_reason_not_an_empty_page() {
    let app = spawn_app().await;
    app.user("boss", Role::Admin, vec![Lang::English]);
    let token = app.user("api", Role::Supervisor, vec![Lang::English]);
    let twilio = app.twilio.clone();
    let data = app.stop().await;
    {
        let db = sled::open(data.path().join("kabar.sled")).unwrap();
        let tree = db.open_tree("kabar").unwrap();
        tree.insert("t/00000000000000ff", b"{not json".as_slice())
            .unwrap();
        db.flush().unwrap();
    }
    let app = spawn_app_with(twilio, data).await;
    let b = app.login("boss", PASSWORD).await;
    for path in ["/queue", "/queue/list", "/figures"] {
        let r = b
            .http
            .get(app.url(path))
            .header("cookie", &b.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("cannot be read"), "{path}: {html}");
        assert!(!html.contains("Nothing here"), "{path}");
    }
    let r = app
        .http
        .get(app.url("/api/tickets"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    assert!(
        body["detail"].as_str().unwrap().contains("cannot be read"),
        "{body}"
    );
    app.stop().await;
}

/// An audited change and its audit row are written together: the trail shows every canned
/// reply added or deleted, and the login that did it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_changes_and_logins_are_in_the_audit_trail() {
    let app = spawn_app().await;
    app.user("boss", Role::Admin, vec![Lang::English]);
    let b = app.login("boss", PASSWORD).await;
    let r = b
        .http
        .post(app.url("/canned"))
        .header("cookie", &b.cookie)
        .form(&[
            ("csrf", b.csrf.as_str()),
            ("language", "so"),
            ("title", "Greeting"),
            ("text", "Salaan"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let id = app.store.canned_replies(None).unwrap()[0].id;
    let r = b
        .http
        .post(app.url(&format!("/canned/{id}/delete")))
        .header("cookie", &b.cookie)
        .form(&[("csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(app.store.canned_replies(None).unwrap().is_empty());
    let actions: Vec<String> = app
        .store
        .audit_log(50)
        .unwrap()
        .into_iter()
        .map(|a| format!("{} {} {}", a.user, a.action, a.detail))
        .collect();
    assert!(actions.iter().any(|a| a == "boss login "), "{actions:?}");
    assert!(
        actions
            .iter()
            .any(|a| a == &format!("boss canned-add {id} so")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a == &format!("boss canned-delete {id}")),
        "{actions:?}"
    );
    app.stop().await;
}
