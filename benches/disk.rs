//! Bytes on disk per inbound message and per reply in today's store: the baseline for the
//! store-encoding rewrite (issue 16, item 5: under 1 KB per message). See `benches/README.md`.
//!
//! Two data folders, in the same run: one where N inbound messages are only stored (the intake
//! path: journal + sled), one where N people write through the simulator and are answered (the
//! whole path: inbound, session, contact, replies in the outbox and the history). The first
//! gives bytes per inbound message; the difference, per reply.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kabar::domain::Channel;
use kabar::phone::PhoneNumber;
use kabar::store::journal::JournalEntry;
use kabar::store::{NewInbound, Store};

/// The goal per message.
const GOAL_BYTES: f64 = 1024.0;

/// Allocated and apparent bytes of every file under `dir`.
fn disk_usage(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut allocated = 0;
    let mut apparent = 0;
    let Ok(listing) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    for item in listing.flatten() {
        let Ok(meta) = item.metadata() else { continue };
        if meta.is_dir() {
            let (a, b) = disk_usage(&item.path());
            allocated += a;
            apparent += b;
        } else {
            allocated += meta.blocks() * 512;
            apparent += meta.len();
        }
    }
    (allocated, apparent)
}

fn phone(i: usize) -> PhoneNumber {
    PhoneNumber::parse(&format!("+62813{i:07}")).expect("valid phone")
}

/// A message as people write them: a short line in Dari.
fn text(i: usize) -> String {
    format!("سلام، تاریخ پرداخت بعدی کی است؟ {i}")
}

fn empty_store_usage() -> (u64, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store opens");
    store.close().expect("close");
    drop(store);
    disk_usage(dir.path())
}

fn inbound_only(n: usize) -> (u64, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store opens");
    for i in 0..n {
        let entry = JournalEntry {
            received_at: kabar::domain::now_ms(),
            inbound: NewInbound {
                channel: Channel::TwilioSms,
                from: phone(i),
                text: text(i),
                external_id: format!("SM{i:032x}"),
                media: None,
                unsupported: None,
            },
        };
        store.record_inbound(&entry).expect("stored");
    }
    store.close().expect("close");
    drop(store);
    disk_usage(dir.path())
}

/// The whole path in-process: simulator webhooks, answered, then a clean stop. The number of
/// replies, and the folder's usage.
async fn answered(n: usize) -> (usize, (u64, u64)) {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let vars = [
        ("KABAR_SERVER__LISTEN", addr.to_string()),
        ("KABAR_SERVER__DATA_DIR", dir.path().display().to_string()),
        (
            "KABAR_CONTENT__FLOWS",
            manifest.join("flows").display().to_string(),
        ),
        (
            "KABAR_CONTENT__LOCALES",
            manifest.join("locales").display().to_string(),
        ),
        ("KABAR_HELPDESK__HOURS", "always".to_string()),
        ("KABAR_SIMULATOR__ENABLED", "true".to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let config = kabar::config::Config::load(None, vars).expect("config");
    let app = kabar::App::build(config).expect("app builds");
    let store: Arc<Store> = app.store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    for i in 0..n {
        let r = http
            .post(format!("http://{addr}/simulator/send"))
            .json(&serde_json::json!({"phone": phone(i).to_string(), "text": text(i)}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 202);
    }
    let started = Instant::now();
    let replies = loop {
        let mut replies = 0;
        let mut all = true;
        for i in 0..n {
            let out = store
                .history(&phone(i))
                .expect("history")
                .iter()
                .filter(|m| m.direction == kabar::domain::Direction::Out)
                .count();
            all &= out > 0;
            replies += out;
        }
        if all && store.outbox_depth() == 0 {
            break replies;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "not all answered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    drop(store);
    let _ = stop.send(());
    let _ = server.await;
    (replies, disk_usage(dir.path()))
}

fn main() -> ExitCode {
    let n: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let empty = empty_store_usage();
    let inbound = inbound_only(n);
    let (replies, full) = runtime.block_on(answered(n));
    let per = |bytes: u64, base: u64, count: usize| {
        bytes.saturating_sub(base) as f64 / count.max(1) as f64
    };
    let in_alloc = per(inbound.0, empty.0, n);
    let in_apparent = per(inbound.1, empty.1, n);
    let reply_alloc = per(full.0, inbound.0, replies);
    let reply_apparent = per(full.1, inbound.1, replies);
    println!("store bytes on disk, {n} messages, {replies} replies (allocated / apparent size)");
    println!(
        "  empty store            {:>10} / {:>10} bytes",
        empty.0, empty.1
    );
    println!(
        "  per inbound message    {in_alloc:>10.0} / {in_apparent:>10.0} bytes   ({:.1}x the 1 KB goal)",
        in_alloc / GOAL_BYTES
    );
    println!(
        "  per reply              {reply_alloc:>10.0} / {reply_apparent:>10.0} bytes   ({:.1}x the 1 KB goal)",
        reply_alloc / GOAL_BYTES
    );
    println!(
        "  whole conversation step {:>9.0} bytes per inbound message answered",
        per(full.0, empty.0, n)
    );
    ExitCode::SUCCESS
}
