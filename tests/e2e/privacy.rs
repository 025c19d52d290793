//! Privacy and security end to end: security headers and the CSP on every answer, erasure,
//! retention, and what stays on disk.

use crate::common;

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
        .open_ticket_of(&kabar::domain::ContactId::parse(phone).unwrap())
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
        // The stopped app's background threads may hold sled's file lock a moment longer.
        let db = {
            let mut tries = 0;
            loop {
                match kabar::store::sled::sled_config(&data.path().join("kabar.sled")).open() {
                    Ok(db) => break db,
                    Err(e) if tries < 50 => {
                        tries += 1;
                        let _ = e;
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        };
        let tree = db.open_tree("kabar").unwrap();
        tree.insert("t/00000000000000ff", b"{not json".as_slice())
            .unwrap();
        // The staff pages once showed an empty schedule and directory for these.
        tree.insert("p/kupang", b"{not json".as_slice()).unwrap();
        tree.insert("d/kupang/unhcr/office", b"{not json".as_slice())
            .unwrap();
        db.flush().unwrap();
    }
    let app = spawn_app_with(twilio, data).await;
    let b = app.login("boss", PASSWORD).await;
    for path in [
        "/queue",
        "/queue/list",
        "/figures",
        "/staff/payments",
        "/staff/directory",
    ] {
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
        if !path.ends_with("/list") {
            assert!(
                html.contains("The data store is unavailable") && html.contains("Log out"),
                "{path}: the honest heading, with the menu: {html}"
            );
        }
    }
    for path in ["/api/payments", "/api/directory"] {
        let r = app
            .http
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "unavailable", "{path}");
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

/// A file's bytes as they are, followed by everything in it that decompresses: sled compresses
/// its pages (zstd frames), so a phone number in an old page is not there as plain bytes.
fn readable_bytes(path: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
    let raw = std::fs::read(path).unwrap();
    let mut all = raw.clone();
    for start in (0..raw.len().saturating_sub(3)).filter(|&i| raw[i..i + 4] == ZSTD_MAGIC) {
        if let Ok(decoder) = zstd::stream::read::Decoder::new(&raw[start..]) {
            let mut frame = Vec::new();
            // A frame cut short still yields what it holds.
            let _ = decoder.single_frame().read_to_end(&mut frame);
            all.extend(frame);
        }
    }
    all
}

/// Every file under `dir`, read whole and decompressed: does any of them contain `needle`?
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if readable_bytes(&path)
                .windows(needle.len())
                .any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    found
}

/// A person asks for deletion; a supervisor erases: their messages, media, session, contact
/// record and queued messages are gone, the ticket stays anonymised for the figures, the audit
/// row names who and which ticket but not the phone. After the restart (which compacts) no file
/// in the data folder holds the phone number or a message text, not even sled's old pages or
/// the intake journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_leaves_no_trace_of_the_person_on_disk() {
    use kabar::domain::ContactId;
    let app = spawn_app().await;
    let phone = "+6281200003001";
    let p = ContactId::parse(phone).unwrap();
    let secret = "my neighbour Zarifa42 hides";
    for (text, n) in [("hello", 1), ("1", 2), ("1", 4), (secret, 5)] {
        app.sms(phone, text).await;
        app.twilio.wait_for(phone, n).await;
    }
    // A picture by MMS, fetched and kept for interpreters.
    let mut mms = inbound_params(&app.next_sid(), phone, "");
    for (k, v) in mms.iter_mut() {
        if k == "NumMedia" {
            *v = "1".into();
        }
    }
    mms.push(("MediaUrl0".into(), app.twilio.media_url("ME9001")));
    mms.push(("MediaContentType0".into(), "image/jpeg".into()));
    app.post_twilio("/webhooks/twilio", &mms).await;
    app.sms(phone, "delete").await;
    app.intake_settled().await;
    let ticket = loop {
        let t = app.store.open_ticket_of(&p).unwrap();
        let media = app
            .store
            .history(&p)
            .unwrap()
            .iter()
            .any(|m| m.media_file.is_some());
        match t {
            Some(t)
                if media
                    && (t.topic == "data-deletion"
                        || t.also.iter().any(|a| a == "data-deletion")) =>
            {
                break t;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(25)).await,
        }
    };
    // A broadcast reached them too: they are in its frozen audience and its report.
    let staff = app.user("sid", Role::Staff, vec![]);
    let created = app
        .http
        .post(app.url("/api/broadcasts"))
        .bearer_auth(&staff)
        .json(&serde_json::json!({"name": "office closed", "texts": {"en": "The office is closed on Friday."},
                                  "audience": {"phones": [phone]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"].clone();
    let sent = app
        .http
        .post(app.url(&format!("/api/broadcasts/{id}/send")))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success());
    for _ in 0..400 {
        if app
            .twilio
            .delivered_to(phone)
            .iter()
            .any(|m| m.body.contains("closed on Friday"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let report_of = |app: &TestApp| {
        let http = app.http.clone();
        let url = app.url(&format!("/api/broadcasts/{id}/report.csv"));
        let staff = staff.clone();
        async move {
            http.get(url)
                .bearer_auth(staff)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(report_of(&app).await.contains(phone));
    let data = app.store.history(&p).unwrap();
    assert!(data.len() >= 9, "{}", data.len());
    // Without an erasure the data folder holds the phone and the text (so the check below can fail).
    let folder = app.stop().await;
    assert!(!files_containing(folder.path(), phone.as_bytes()).is_empty());
    assert!(!files_containing(folder.path(), secret.as_bytes()).is_empty());
    assert!(!files_containing(folder.path(), TWILIO_PICTURE).is_empty());
    let app = spawn_app_with(FakeTwilio::start().await, folder).await;

    // An interpreter who works the ticket cannot erase; a supervisor can.
    let interpreter = app.user("ana", Role::Interpreter, vec![Lang::English]);
    let supervisor = app.user("sam", Role::Supervisor, vec![Lang::English]);
    let erase = |token: String| {
        let http = app.http.clone();
        let url = app.url(&format!("/api/tickets/{}/erase", ticket.id));
        async move { http.post(url).bearer_auth(token).send().await.unwrap() }
    };
    // The page offers the erasure to the supervisor only.
    let page_of = |name: &'static str| {
        let app = &app;
        async move {
            let b = app.login(name, PASSWORD).await;
            b.http
                .get(app.url(&format!("/tickets/{}", ticket.id)))
                .header("cookie", &b.cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(page_of("sam").await.contains("Erase their data"));
    assert!(!page_of("ana").await.contains("Erase their data"));
    let refused = erase(interpreter).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("supervisor"));
    let r = erase(supervisor.clone()).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(erase(supervisor.clone()).await.status(), 409, "erased once");

    assert!(app.store.contact(&p).unwrap().is_none());
    assert!(app.store.history(&p).unwrap().is_empty());
    let report = report_of(&app).await;
    assert!(
        report.starts_with("phone,") && !report.contains(phone),
        "{report}"
    );
    assert!(app.store.open_ticket_of(&p).unwrap().is_none());
    let t = app.store.ticket(ticket.id).unwrap().unwrap();
    assert_eq!(t.contact, ContactId::erased());
    assert!(t.message_ids.is_empty() && t.notes.is_empty() && t.details.is_empty());
    assert_eq!(t.status, kabar::domain::TicketStatus::Closed);
    for m in &data {
        assert!(
            app.store.message(m.id).unwrap().is_none(),
            "message {} left",
            m.id
        );
    }
    let audit = app.store.audit_log(20).unwrap();
    let row = audit.iter().find(|a| a.action == "erase").expect("audited");
    assert_eq!((row.user.as_str(), row.ticket), ("sam", Some(ticket.id)));
    assert!(
        row.detail.contains("messages") && !row.detail.contains("628"),
        "{}",
        row.detail
    );
    // The figures still count the ticket.
    let figures = app.get_json("/api/figures", &supervisor).await;
    let english = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["language"] == "en")
        .unwrap()
        .clone();
    assert_eq!(english["closed"], 1, "{figures}");

    // The restart compacts; then nothing of the person is left in any file.
    let folder = app.stop().await;
    let app = spawn_app_with(FakeTwilio::start().await, folder).await;
    assert!(!app.store.compaction_pending());
    let folder = app.stop().await;
    for needle in [
        phone.as_bytes(),
        &phone.as_bytes()[1..],
        secret.as_bytes(),
        TWILIO_PICTURE,
    ] {
        let found = files_containing(folder.path(), needle);
        assert!(
            found.is_empty(),
            "{:?} still in {found:?}",
            String::from_utf8_lossy(needle)
        );
    }
}

/// Retention: messages past `retain_days` go (media too), tickets closed before then are
/// anonymised, newer data stays; a dry run changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_removes_what_is_past_retention_and_nothing_else() {
    use kabar::domain::ContactId;
    let app = spawn_app().await;
    let old = "+6281200003101";
    let p = ContactId::parse(old).unwrap();
    for (text, n) in [("hello", 1), ("1", 2), ("1", 4), ("agent", 5)] {
        app.sms(old, text).await;
        app.twilio.wait_for(old, n).await;
    }
    let token = app.user("sam", Role::Supervisor, vec![Lang::English]);
    let ticket = app.store.open_ticket_of(&p).unwrap().unwrap().id;
    let r = app
        .http
        .post(app.url(&format!("/api/tickets/{ticket}/close")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.twilio.wait_for(old, 6).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let cutoff = kabar::domain::now_ms() + 1;
    let before = app.store.history(&p).unwrap().len();
    // Dry run: counts, no change.
    let report = app.store.purge(cutoff, true).unwrap();
    assert_eq!(report.messages, before);
    assert_eq!(report.tickets_anonymised, 1);
    assert_eq!(app.store.history(&p).unwrap().len(), before);
    // A message written after the cutoff stays.
    let fresh = "+6281200003102";
    app.sms(fresh, "hello").await;
    app.twilio.wait_for(fresh, 1).await;
    let report = app.store.purge(cutoff, false).unwrap();
    assert_eq!(report.messages, before);
    assert!(app.store.history(&p).unwrap().is_empty());
    assert_eq!(
        app.store.ticket(ticket).unwrap().unwrap().contact,
        ContactId::erased()
    );
    let fresh_history = app
        .store
        .history(&ContactId::parse(fresh).unwrap())
        .unwrap();
    assert_eq!(fresh_history.len(), 2, "newer messages stay");
    assert!(app.store.compaction_pending());
    let audit = app.store.audit_log(5).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "purge" && a.detail.contains(&format!("{before} messages")))
    );
    app.stop().await;
}
