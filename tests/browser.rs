//! The interpreter's day in a real browser (headless Chromium from Debian, driven through
//! chromedriver): log in, see a ticket arrive live from an Arabic SMS, claim, reply, close.
//! Screenshots of the queue and of the Arabic conversation are saved under
//! target/browser-artifacts/.
//!
//! Needs /usr/bin/chromium and /usr/bin/chromedriver (installed by .ci/run). Without them the
//! test says so and passes locally; on CI (CI=true) it fails instead.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use kabar::domain::Role;
use kabar::i18n::Lang;
use serde_json::json;

const PASSWORD: &str = "a long browser password";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_browser() -> Option<(Driver, Client, tempfile::TempDir)> {
    let (chromium, driver) = ("/usr/bin/chromium", "/usr/bin/chromedriver");
    if !std::path::Path::new(chromium).exists() || !std::path::Path::new(driver).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium and chromium-driver must be installed on CI"
        );
        eprintln!("skipping the browser test: install chromium and chromium-driver");
        return None;
    }
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let guard = Driver(child);
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1200,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let mut last_error = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some((guard, client, profile)),
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot start the browser: {last_error:?}");
}

fn artifacts() -> std::path::PathBuf {
    let dir = manifest_dir().join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_answers_an_arabic_sms_in_the_browser() {
    let Some((_driver, browser, _profile)) = start_browser().await else {
        return;
    };
    let app = spawn_app().await;
    let user = kabar::domain::User {
        name: "layla".into(),
        role: Role::Interpreter,
        languages: vec![Lang::Arabic],
        password_hash: kabar::web::auth::hash_password(PASSWORD).unwrap(),
        created_at: 0,
        disabled: false,
    };
    app.store.add_user(&user).unwrap();

    // Log in.
    browser.goto(&app.url("/login")).await.unwrap();
    browser
        .find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("layla")
        .await
        .unwrap();
    browser
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Css("form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the queue page", || async {
        browser
            .current_url()
            .await
            .map(|u| u.path() == "/queue")
            .unwrap_or(false)
    })
    .await;

    // An Arabic SMS conversation reaches a person while the queue is open.
    let phone = "+9647701234567";
    app.sms(phone, "مرحبا، هل يمكنكم المساعدة؟").await;
    app.twilio.wait_for(phone, 1).await;
    app.sms(phone, "١").await;
    app.twilio.wait_for(phone, 2).await;
    app.sms(phone, "١").await;
    app.twilio.wait_for(phone, 4).await;
    app.sms(phone, "موظف").await;
    app.twilio.wait_for(phone, 5).await;
    let ticket = app
        .store
        .open_ticket_of(&kabar::phone::PhoneNumber::parse(phone).unwrap())
        .unwrap()
        .expect("ticket")
        .id;
    // It appears without a reload.
    let link = format!("a[href='/tickets/{ticket}']");
    eventually("the ticket in the queue, live", || async {
        browser.find(Locator::Css(&link)).await.is_ok()
    })
    .await;
    let dir = artifacts();
    std::fs::write(dir.join("queue.png"), browser.screenshot().await.unwrap()).unwrap();

    // The conversation reads right to left.
    browser
        .find(Locator::Css(&link))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the conversation", || async {
        browser.find(Locator::Css("li.msg.in")).await.is_ok()
    })
    .await;
    let direction = browser
        .execute(
            "return getComputedStyle(document.querySelector('li.msg.in .text')).direction",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(direction, json!("rtl"));
    std::fs::write(
        dir.join("conversation-ar.png"),
        browser.screenshot().await.unwrap(),
    )
    .unwrap();

    // Claim, type an Arabic reply (the counter says UCS-2), send, close.
    browser
        .find(Locator::XPath("//button[text()='Claim']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("claimed", || async {
        app.store
            .ticket(ticket)
            .unwrap()
            .unwrap()
            .claimed_by
            .is_some()
    })
    .await;
    let reply = "مرحبا، أنا ليلى. كيف يمكنني مساعدتك؟";
    browser
        .find(Locator::Css("#reply"))
        .await
        .unwrap()
        .send_keys(reply)
        .await
        .unwrap();
    let counter = browser
        .find(Locator::Css("#segments"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        counter.contains("UCS-2") && counter.contains("1 SMS segment"),
        "{counter}"
    );
    browser
        .find(Locator::XPath("//button[text()='Send']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let sent = app.twilio.wait_for(phone, 6).await;
    assert_eq!(sent[5].body, reply);
    browser
        .find(Locator::XPath("//button[text()='Close']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let sent = app.twilio.wait_for(phone, 7).await;
    assert_eq!(
        sent[6].body,
        localizer()
            .text(Lang::Arabic, "ticket-closed", &[])
            .unwrap()
    );
    std::fs::write(dir.join("closed.png"), browser.screenshot().await.unwrap()).unwrap();
    browser.close().await.unwrap();
    app.stop().await;
}
