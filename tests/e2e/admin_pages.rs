//! The admin and staff pages: users, tokens, payment schedule, contacts and directory, each
//! change with the CSRF token and a visible result.

use crate::common;

use common::*;
use kabar::domain::Role;
use kabar::i18n::Lang;

const PASSWORD: &str = "test password 123";

async fn post_form(app: &TestApp, b: &Browser, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = b
        .http
        .post(app.url(path))
        .header("cookie", &b.cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a form; the status and where it redirects to.
async fn post_redirect(
    app: &TestApp,
    b: &Browser,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let r = b
        .http
        .post(app.url(path))
        .header("cookie", &b.cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), to)
}

async fn get_page(app: &TestApp, b: &Browser, path: &str) -> (u16, String) {
    let r = b
        .http
        .get(app.url(path))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_changes_and_disables_users_on_the_page() {
    let app = spawn_app().await;
    app.user("amina", Role::Admin, vec![]);
    app.user("hodan", Role::Interpreter, vec![Lang::Somali]);
    let admin = app.login("amina", PASSWORD).await;
    let hodan = app.login("hodan", PASSWORD).await;
    let (status, _) = get_page(&app, &hodan, "/admin/users").await;
    assert_eq!(status, 403, "interpreters do not manage users");

    let add = [
        ("name", "faduma"),
        ("role", "interpreter"),
        ("languages", "so, en"),
        ("password", "a long enough password"),
    ];
    let (status, _) = post_form(&app, &admin, "/admin/users", &add).await;
    assert_eq!(status, 403, "no CSRF token, no change");
    assert!(app.store.user("faduma").unwrap().is_none());
    let mut with_csrf = add.to_vec();
    with_csrf.push(("csrf", &admin.csrf));
    let (status, to) = post_redirect(&app, &admin, "/admin/users", &with_csrf).await;
    assert_eq!(status, 303, "a redirect: a reload adds nobody again");
    assert_eq!(to, "/admin/users?added=faduma");
    let (_, html) = get_page(&app, &admin, &to).await;
    assert!(html.contains("User faduma added."), "{html}");
    // The notice names only users that exist: no text of the address's own.
    let (_, html) = get_page(&app, &admin, "/admin/users?added=Call+us+now").await;
    assert!(!html.contains("Call us now"));
    let faduma = app.store.user("faduma").unwrap().unwrap();
    assert_eq!(faduma.languages, vec![Lang::Somali, Lang::English]);
    app.login("faduma", "a long enough password").await;

    // A bad field shows the reason, nothing is added.
    let (status, html) = post_form(
        &app,
        &admin,
        "/admin/users",
        &[
            ("csrf", &admin.csrf),
            ("name", "kofi"),
            ("role", "interpreter"),
            ("languages", ""),
            ("password", "a long enough password"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("at least one language"), "{html}");

    // Disabling hodan ends her open session at once.
    let (status, _) = post_form(
        &app,
        &admin,
        "/admin/users/hodan",
        &[
            ("csrf", &admin.csrf),
            ("role", "interpreter"),
            ("languages", "so"),
            ("disabled", "on"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let r = hodan
        .http
        .get(app.url("/queue"))
        .header("cookie", &hodan.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "back to the login page");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_on_the_page_is_shown_once_and_revoked_there() {
    let app = spawn_app().await;
    app.user("sara", Role::Staff, vec![]);
    let sara = app.login("sara", PASSWORD).await;
    let (status, to) = post_redirect(
        &app,
        &sara,
        "/admin/tokens",
        &[("csrf", &sara.csrf), ("user", "sara")],
    )
    .await;
    assert_eq!(status, 303, "a redirect: a reload creates no second token");
    assert!(to.starts_with("/admin/tokens?created="), "{to}");
    let (status, html) = get_page(&app, &sara, &to).await;
    assert_eq!(status, 200);
    let token = html
        .split("<code>kbr_")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(|t| format!("kbr_{t}"))
        .expect("the token on the page");
    let works = app
        .http
        .get(app.url("/api/payments"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(works.status(), 200);
    let (_, listing) = get_page(&app, &sara, "/admin/tokens").await;
    assert!(!listing.contains(&token), "shown only once");
    let (_, again) = get_page(&app, &sara, &to).await;
    assert!(!again.contains(&token), "not even on reloading that page");
    assert!(again.contains("shown once already"), "{again}");
    // The one `app.user` made and the one made on the page: no third.
    assert_eq!(app.store.tokens().unwrap().len(), 2, "and no other token");
    let id = html
        .split("Token ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("the id on the page")
        .to_string();
    let (status, _) = post_form(
        &app,
        &sara,
        &format!("/admin/tokens/{id}/revoke"),
        &[("csrf", &sara.csrf)],
    )
    .await;
    assert_eq!(status, 303);
    let refused = app
        .http
        .get(app.url("/api/payments"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_keep_the_schedule_the_directory_and_contacts_on_pages() {
    let app = spawn_app().await;
    app.user("sara", Role::Staff, vec![]);
    app.user("omar", Role::Supervisor, vec![Lang::English]);
    let sara = app.login("sara", PASSWORD).await;
    let omar = app.login("omar", PASSWORD).await;
    for page in ["/staff/payments", "/staff/contacts", "/staff/directory"] {
        assert_eq!(get_page(&app, &omar, page).await.0, 403, "{page}");
        assert_eq!(get_page(&app, &sara, page).await.0, 200, "{page}");
    }

    // Payment schedule: a bad row names its line and imports nothing; then a good file; then
    // one city's date edited, which the next SMS answer shows.
    let (status, html) = post_form(
        &app,
        &sara,
        "/staff/payments/import",
        &[
            ("csrf", &sara.csrf),
            (
                "csv",
                "city,next_payment_date\nMakassar,2026-12-15\nMedan,someday\n",
            ),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("line 3:"), "{html}");
    assert!(app.store.payments().unwrap().is_empty());
    let (status, _) = post_form(
        &app,
        &sara,
        "/staff/payments/import",
        &[
            ("csrf", &sara.csrf),
            ("csv", "city,next_payment_date\nMakassar,2026-12-15\n"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, html) = post_form(
        &app,
        &sara,
        "/staff/payments/edit",
        &[
            ("csrf", &sara.csrf),
            ("city", "Makassar"),
            ("date", "2026-12-20"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{html}");
    let (_, html) = get_page(&app, &sara, "/staff/payments?saved=Makassar").await;
    assert!(html.contains("Makassar: next date 2026-12-20."), "{html}");
    let phone = "+6281200009101";
    app.sms(phone, "hello").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 4).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 5).await;
    app.sms(phone, "1").await;
    app.twilio.wait_for(phone, 6).await;
    app.sms(phone, "1").await;
    let got = app.twilio.wait_for(phone, 7).await;
    assert!(got[6].body.contains("20/12/2026"), "{}", got[6].body);

    // Directory: imported, then an entry edited on the page (renamed, new phone).
    let (status, _) = post_form(
        &app,
        &sara,
        "/staff/directory/import",
        &[
            ("csrf", &sara.csrf),
            (
                "csv",
                "city,kind,name,phone\nMakassar,unhcr,UNHCR Makassar,0411-1\n",
            ),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, html) = post_form(
        &app,
        &sara,
        "/staff/directory/edit",
        &[
            ("csrf", &sara.csrf),
            ("old_city", "Makassar"),
            ("old_kind", "unhcr"),
            ("old_name", "UNHCR Makassar"),
            ("city", "Makassar"),
            ("kind", "unhcr"),
            ("name", "UNHCR Makassar office"),
            ("phone", "0411-999 000"),
            ("address", ""),
            ("hours", ""),
            ("do", "save"),
        ],
    )
    .await;
    assert_eq!(status, 303, "a redirect after the edit: {html}");
    let (_, html) = get_page(&app, &sara, "/staff/directory?done=saved").await;
    assert!(html.contains("Entry saved.") && html.contains("UNHCR Makassar office"));
    let entries = app.store.directory().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].line(), "UNHCR Makassar office 0411-999 000");
    // The person (city already known: Makassar) asks how to contact UNHCR.
    app.sms(phone, "0").await;
    app.twilio.wait_for(phone, 8).await;
    app.sms(phone, "4").await;
    app.twilio.wait_for(phone, 9).await;
    app.sms(phone, "3").await;
    let got = app.twilio.wait_for(phone, 11).await;
    assert!(
        got[10].body.contains("UNHCR Makassar office 0411-999 000"),
        "{}",
        got[10].body
    );

    // Contacts: import, then search by case id, and see who opted out.
    let (status, html) = post_form(&app, &sara, "/staff/contacts/import", &[("csrf", &sara.csrf), ("csv", "phone,language,city,case_id,name\n+6281200009201,so,Medan,4411,Ayaan\n+6281200009202,ar,Makassar,5522,Omar\n")]).await;
    assert_eq!(status, 200, "{html}");
    app.store
        .set_opted_out(
            &kabar::domain::ContactId::parse("+6281200009202").unwrap(),
            true,
        )
        .unwrap();
    let (_, html) = get_page(&app, &sara, "/staff/contacts?q=4411").await;
    assert!(
        html.contains("+6281200009201") && !html.contains("+6281200009202"),
        "{html}"
    );
    let (_, html) = get_page(&app, &sara, "/staff/contacts?opted_out=yes").await;
    assert!(
        html.contains("+6281200009202")
            && html.contains("opted out")
            && !html.contains("+6281200009201")
    );
    let (_, html) = get_page(&app, &sara, "/staff/contacts?language=so&city=medan").await;
    assert!(html.contains("Ayaan"));

    let audit = app.store.audit_log(100).unwrap();
    for action in [
        "payments-import",
        "payment-edit",
        "directory-import",
        "directory-edit",
        "contacts-import",
    ] {
        assert!(
            audit.iter().any(|a| a.action == action && a.user == "sara"),
            "{action} audited"
        );
    }
    app.stop().await;
}

/// A browser's multipart body for the contacts import form (what it sends without JavaScript).
fn multipart(fields: &[(&str, &str)], file: Option<&str>) -> (String, Vec<u8>) {
    let boundary = "----kabarTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some(csv) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"contacts.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(csv.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &TestApp,
    b: &Browser,
    fields: &[(&str, &str)],
    file: Option<&str>,
) -> (u16, String) {
    let (content_type, body) = multipart(fields, file);
    let r = b
        .http
        .post(app.url("/staff/contacts/import"))
        .header("cookie", &b.cookie)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100k_contacts_file_uploads_on_the_page_without_javascript() {
    let app = spawn_app().await;
    app.user("sara", Role::Staff, vec![]);
    let sara = app.login("sara", PASSWORD).await;
    let (_, html) = get_page(&app, &sara, "/staff/contacts").await;
    assert!(
        html.contains("enctype=\"multipart/form-data\"")
            && html.contains("type=\"file\" name=\"file\"")
            && html.contains("/assets/contacts.js"),
        "a file chooser, uploaded by the script or as a plain form"
    );

    let mut csv = String::from("phone,language,city,case_id,name,tags\n");
    for i in 0..100_000 {
        csv.push_str(&format!(
            "+6281{i:09},so,Batam,CASE{i:06},Person number {i},parents;batam-school\n"
        ));
    }
    // Line 100,002: an unknown language.
    csv.push_str("+6281999999999,xx,Batam,,,\n");
    assert!(csv.len() > 5_000_000, "{}", csv.len());

    // Without the CSRF token nothing is stored.
    let (status, _) = upload(&app, &sara, &[], Some(&csv)).await;
    assert_eq!(status, 403);
    assert!(app.store.contacts().unwrap().is_empty());

    // Over the 16 MiB limit: 413, and a broken upload 400; nothing stored either way.
    let huge = format!("{csv}{}", csv.repeat(3));
    assert!(huge.len() > 16 * 1024 * 1024);
    let (status, _) = upload(&app, &sara, &[("csrf", &sara.csrf)], Some(&huge)).await;
    assert_eq!(status, 413);
    let broken = sara
        .http
        .post(app.url("/staff/contacts/import"))
        .header("cookie", &sara.cookie)
        .header("content-type", "multipart/form-data; boundary=nothere")
        .body("--other\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nx")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    assert!(app.store.contacts().unwrap().is_empty());

    // One bad row and no "skip": nothing is imported, the line is named.
    let (status, html) = upload(&app, &sara, &[("csrf", &sara.csrf)], Some(&csv)).await;
    assert_eq!(status, 422, "{}", &html[..html.len().min(2000)]);
    assert!(html.contains("line 100002:"), "the bad row's line");
    assert!(html.contains("nothing was imported"));
    assert!(app.store.contacts().unwrap().is_empty());

    // Skipping invalid rows: the 100,000 good ones are imported, the bad one listed.
    let (status, html) = upload(
        &app,
        &sara,
        &[("csrf", &sara.csrf), ("skip_invalid", "on")],
        Some(&csv),
    )
    .await;
    assert_eq!(status, 200, "{}", &html[..html.len().min(2000)]);
    assert!(
        html.contains("100000 contact(s) imported: 100000 new, 0 updated."),
        "{}",
        &html[..html.len().min(3000)]
    );
    assert!(html.contains("1 invalid row(s) skipped") && html.contains("line 100002:"));
    assert_eq!(app.store.contacts().unwrap().len(), 100_000);

    // The same file pasted into the box updates instead (urlencoded, as before).
    let (status, html) = post_form(
        &app,
        &sara,
        "/staff/contacts/import",
        &[
            ("csrf", &sara.csrf),
            (
                "csv",
                "phone,language,city,case_id,name,tags\n+6281000000007,ar,Medan,,,teachers\n",
            ),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("1 contact(s) imported: 0 new, 1 updated."),
        "{html}"
    );

    // An empty upload says what to do.
    let (status, html) = upload(&app, &sara, &[("csrf", &sara.csrf)], None).await;
    assert_eq!(status, 422);
    assert!(html.contains("choose a CSV file or paste one"));

    // Filter by tag.
    let (_, html) = get_page(&app, &sara, "/staff/contacts?tag=Teachers").await;
    assert!(
        html.contains("1 of 100000 contact(s)"),
        "{}",
        &html[..html.len().min(3000)]
    );
    assert!(html.contains("+6281000000007"));
    app.stop().await;
}
