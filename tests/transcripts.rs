//! Golden transcripts (tests/transcripts/<tag>/<topic>.txt): what a person sends and what kabar
//! answers, checked end to end through the Twilio webhook with a fake Twilio API.
//!
//! After changing texts or flows, regenerate and review the diff:
//! `UPDATE_TRANSCRIPTS=1 cargo test --test transcripts`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use kabar::domain::PaymentEntry;

struct Transcript {
    path: PathBuf,
    header: Vec<String>,
    /// What the person sends, each with the replies expected after it.
    steps: Vec<(String, Vec<String>)>,
}

fn parse(path: &Path) -> Transcript {
    let text = std::fs::read_to_string(path).unwrap();
    let mut t = Transcript {
        path: path.to_path_buf(),
        header: Vec::new(),
        steps: Vec::new(),
    };
    for line in text.lines() {
        if let Some(sent) = line.strip_prefix("> ") {
            t.steps.push((sent.to_string(), Vec::new()));
        } else if let Some(reply) = line.strip_prefix("< ") {
            t.steps
                .last_mut()
                .expect("reply before any message")
                .1
                .push(reply.to_string());
        } else if let Some(more) = line.strip_prefix("  ") {
            let reply = t
                .steps
                .last_mut()
                .and_then(|s| s.1.last_mut())
                .expect("continuation without a reply");
            reply.push('\n');
            reply.push_str(more);
        } else if line.starts_with('#') && t.steps.is_empty() {
            t.header.push(line.to_string());
        } else if !line.trim().is_empty() {
            panic!("{}: cannot read line {line:?}", path.display());
        }
    }
    t
}

fn render(t: &Transcript) -> String {
    let mut out = t.header.join("\n");
    out.push('\n');
    for (sent, replies) in &t.steps {
        out.push_str(&format!("> {sent}\n"));
        for reply in replies {
            out.push_str(&format!("< {}\n", reply.replace('\n', "\n  ")));
        }
    }
    out
}

fn transcripts() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(manifest_dir().join("tests/transcripts")).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "txt") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Waits until everything `phone` sent has reached the store and has been processed and every reply was accepted by the
/// (fake) provider: nothing left in the inbox or the outbox for that phone.
async fn settle(app: &TestApp, phone: &str) -> usize {
    let p = kabar::domain::ContactId::parse(phone).unwrap();
    app.intake_settled().await;
    for _ in 0..1000 {
        let pending = app.store.next_pending(&p).unwrap().is_some();
        let queued = app.store.outbox().unwrap().iter().any(|o| o.to == p);
        if !pending && !queued {
            return app.twilio.delivered_to(phone).len();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{phone}: replies did not settle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_transcripts() {
    let update = std::env::var_os("UPDATE_TRANSCRIPTS").is_some();
    let app = std::sync::Arc::new(spawn_app().await);
    let now = kabar::domain::now_ms();
    let schedule = [("Makassar", "2026-12-05"), ("Medan", "2026-12-08")];
    app.store
        .upsert_payments(
            &schedule
                .iter()
                .map(|(city, date)| PaymentEntry {
                    city: city.to_string(),
                    next_payment_date: date.parse().unwrap(),
                    note: None,
                    updated_at: now,
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let files = transcripts();
    assert!(files.len() >= 42, "one transcript per locale and topic");
    let mut tasks = Vec::new();
    for (i, path) in files.into_iter().enumerate() {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let phone = format!("+62813{:08}", 10_000 + i);
            let mut t = parse(&path);
            let mut seen = 0;
            let mut failures = Vec::new();
            for (sent, expected) in t.steps.iter_mut() {
                app.sms(&phone, sent).await;
                let total = settle(&app, &phone).await;
                let got: Vec<String> = app.twilio.delivered_to(&phone)[seen..total]
                    .iter()
                    .map(|m| m.body.clone())
                    .collect();
                seen = total;
                if update {
                    *expected = got;
                } else if *expected != got {
                    failures.push(format!(
                        "after > {sent}\n  expected: {expected:#?}\n  got: {got:#?}"
                    ));
                }
            }
            if update {
                std::fs::write(&t.path, render(&t)).unwrap();
            }
            (path, failures)
        }));
    }
    let mut failed = Vec::new();
    for task in tasks {
        let (path, failures) = task.await.unwrap();
        if !failures.is_empty() {
            failed.push(format!("{}:\n{}", path.display(), failures.join("\n")));
        }
    }
    assert!(
        failed.is_empty(),
        "{}\n\nIf the change is intended: UPDATE_TRANSCRIPTS=1 cargo test --test transcripts, then review the diff",
        failed.join("\n\n")
    );
}
