//! The admin and staff pages: users, tokens, payment schedule, contacts and directory, each
//! change with the CSRF token and a visible result.

mod common;

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
    let (status, html) = post_form(&app, &admin, "/admin/users", &with_csrf).await;
    assert_eq!(status, 201, "{html}");
    assert!(html.contains("User faduma added."));
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
    assert_eq!(status, 200);
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
    let (status, html) = post_form(
        &app,
        &sara,
        "/admin/tokens",
        &[("csrf", &sara.csrf), ("user", "sara")],
    )
    .await;
    assert_eq!(status, 201);
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
    assert_eq!(status, 200, "{html}");
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
    assert_eq!(status, 200, "{html}");
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
            &kabar::phone::PhoneNumber::parse("+6281200009202").unwrap(),
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
