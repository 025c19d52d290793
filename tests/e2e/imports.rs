//! Staff data: contacts and the payment schedule, from the command line and the API.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use kabar::domain::ContactId;
use kabar::domain::Role;
use kabar::i18n::Lang;
use kabar::store::sled::Store;

fn kabar(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kabar"))
        .args(args)
        .env("KABAR_SERVER__DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("kabar runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn contacts_import_is_all_or_nothing_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "phone,language,city,case_id,name\n\
         0812-1111-2222,prs,Makassar,1001,Ahmad\n\
         +252612345678,so,Medan,,\n\
         not a phone,en,,,\n\
         +6281233334444,klingon,,,\n",
    )
    .unwrap();
    let out = kabar(&data, &["contacts", "import", csv.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 4:"), "{stderr}");
    assert!(
        stderr.contains("line 5: unknown language \"klingon\""),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    {
        let store = Store::open(&data).unwrap();
        assert!(
            store
                .contact(&ContactId::parse("+6281211112222").unwrap())
                .unwrap()
                .is_none()
        );
    }

    let out = kabar(
        &data,
        &[
            "contacts",
            "import",
            csv.to_str().unwrap(),
            "--skip-invalid",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 2 contact(s): 2 new, 0 updated; skipped 2"));
    // Re-importing changes nothing and says so.
    let out = kabar(
        &data,
        &[
            "contacts",
            "import",
            csv.to_str().unwrap(),
            "--skip-invalid",
        ],
    );
    assert!(
        text(&out.stdout).contains("0 new, 2 updated"),
        "{}",
        text(&out.stdout)
    );

    let store = Store::open(&data).unwrap();
    let ahmad = store
        .contact(&ContactId::parse("+6281211112222").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(ahmad.language, Some(Lang::Dari));
    assert_eq!(ahmad.city.as_deref(), Some("Makassar"));
    assert_eq!(ahmad.case_id.as_deref(), Some("1001"));
    assert_eq!(ahmad.name.as_deref(), Some("Ahmad"));
    assert!(ahmad.consent_at.is_none(), "importing is not consent");
}

#[test]
fn large_contact_files_show_progress() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("contacts.csv");
    let mut body = String::from("phone\n");
    for i in 0..2500 {
        body.push_str(&format!("+62813{:08}\n", i));
    }
    std::fs::write(&csv, body).unwrap();
    let out = kabar(
        &dir.path().join("data"),
        &["contacts", "import", csv.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("imported 1000/2500"), "{stderr}");
    assert!(stderr.contains("imported 2500/2500"), "{stderr}");
    assert!(text(&out.stdout).contains("2500 new"));
}

#[test]
fn payments_import_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("payments.csv");
    std::fs::write(
        &csv,
        "city,next_payment_date,note\nMakassar,2026-12-05,\nMedan,08/12/2026,bank transfer\n",
    )
    .unwrap();
    let out = kabar(&data, &["payments", "import", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2 cities updated"));
    let out = kabar(&data, &["payments", "list"]);
    assert_eq!(
        text(&out.stdout),
        "Makassar,2026-12-05,\nMedan,2026-12-08,bank transfer\n"
    );
    std::fs::write(&csv, "city,next_payment_date\nMakassar,next week\n").unwrap();
    let out = kabar(&data, &["payments", "import", csv.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("line 2: date \"next week\" is not a date"));
    let out = kabar(&data, &["payments", "list"]);
    assert!(
        text(&out.stdout).contains("Makassar,2026-12-05"),
        "unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_schedule_through_the_api_is_read_at_answer_time() {
    let app = spawn_app().await;
    let staff = app.token_for("sri", Role::Staff, vec![]);
    let interpreter = app.token_for("ana", Role::Interpreter, vec![Lang::Somali]);
    let post = |token: &str, body: &str, query: &str| {
        app.http
            .post(app.url(&format!("/api/payments{query}")))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(body.to_string())
            .send()
    };
    let r = post(
        &interpreter,
        "city,next_payment_date\nMedan,2026-12-08\n",
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = post(
        &staff,
        "city,next_payment_date\nMedan,2026-12-08\nBatam,soon\n",
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["rows"][0]["line"], 3);
    let r = post(
        &staff,
        "city,next_payment_date\nMedan,2026-12-08\nBatam,soon\n",
        "?skip_invalid=true",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["imported"], 1);

    // A person asks for the next date: the schedule just posted is what they get.
    let phone = "+6281200000901";
    for step in ["hello", "1", "1", "1", "1", "1"] {
        app.sms(phone, step).await;
    }
    let got = app.twilio.wait_for(phone, 7).await;
    assert!(got[5].body.ends_with("1. Medan"), "{}", got[5].body);
    assert!(got[6].body.contains("Medan: 08/12/2026"), "{}", got[6].body);

    // Staff change the date; the next answer shows it.
    let r = post(&staff, "city,next_payment_date\nMedan,2027-01-07\n", "")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.sms(phone, "0").await;
    app.sms(phone, "1").await;
    app.sms(phone, "1").await;
    let got = app.twilio.wait_for(phone, 10).await;
    assert!(
        got[9].body.contains("07/01/2027"),
        "remembered city, new date: {}",
        got[9].body
    );

    let list: serde_json::Value = app.get_json("/api/payments", &interpreter).await;
    assert_eq!(list[0]["city"], "Medan");
    assert_eq!(list[0]["next_payment_date"], "2027-01-07");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_import_through_the_api() {
    let app = spawn_app().await;
    let admin = app.token_for("root", Role::Admin, vec![]);
    let r = app
        .http
        .post(app.url("/api/contacts/import"))
        .bearer_auth(&admin)
        .body("phone,language\n081299998888,ar\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let contact = app
        .store
        .contact(&ContactId::parse("+6281299998888").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(contact.language, Some(Lang::Arabic));
    let r = app
        .http
        .post(app.url("/api/contacts/import"))
        .bearer_auth(&admin)
        .body("mobile\n0812\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}
