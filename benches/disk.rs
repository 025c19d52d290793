//! Bytes on disk per inbound message and per reply (issue 16, item 5: under 1 KB per message),
//! where those bytes go, and whether deleting data gives the space back. See `benches/README.md`.
//!
//! Three data folders, in the same run:
//! - **inbound only**: N inbound messages stored the way the intake task stores them (sled);
//! - **answered**: N people write through the simulator and are answered (the whole path:
//!   journal, inbound, session, contact, replies through the outbox, the history). The first
//!   gives bytes per inbound message; the difference, per reply;
//! - **deleted**: the answered folder after a retention purge of every message, then after the
//!   compaction that purge asks for (at the next start).
//!
//! Baselines measured in the same run: the raw content (text, phone and provider id) of the
//! messages, and the same message records encoded as JSON (what the store wrote before).
//! Run: `cargo bench --bench disk` (`BENCH_MESSAGES`, default 10000; `BENCH_RUNS`, default 3).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kabar::domain::ContactId;
use kabar::domain::{Channel, Direction, MessageRecord};
use kabar::store::sled::Store;
use kabar::store::sled::journal::JournalEntry;
use kabar::store::{FamilyUsage, NewInbound};

/// The goal per message.
const GOAL_BYTES: f64 = 1024.0;

/// Allocated and apparent bytes of a file or of every file under a folder.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    allocated: u64,
    apparent: u64,
}

fn disk_usage(path: &Path) -> Usage {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Usage::default();
    };
    if !meta.is_dir() {
        return Usage {
            allocated: meta.blocks() * 512,
            apparent: meta.len(),
        };
    }
    let mut total = Usage::default();
    for item in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let u = disk_usage(&item.path());
        total.allocated += u.allocated;
        total.apparent += u.apparent;
    }
    total
}

/// The data folder's files by what they are: sled's log (`db`), its snapshot, its blobs and
/// config, the intake journal, media.
fn print_files(dir: &Path) {
    let sled = dir.join("kabar.sled");
    let mut parts: Vec<(String, Usage)> = Vec::new();
    for item in std::fs::read_dir(&sled).into_iter().flatten().flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        parts.push((format!("kabar.sled/{name}"), disk_usage(&item.path())));
    }
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    for other in ["journal", "media"] {
        parts.push((format!("{other}/"), disk_usage(&dir.join(other))));
    }
    for (name, u) in parts {
        println!(
            "      {name:<28} {:>10} allocated {:>10} apparent",
            u.allocated, u.apparent
        );
    }
}

/// Keys and value bytes per key family, per message.
fn print_families(families: &[FamilyUsage], messages: usize) {
    println!(
        "      {:<8} {:>8} {:>10} {:>12} {:>12}",
        "family", "keys", "keys/msg", "key B/key", "value B/key"
    );
    for f in families {
        println!(
            "      {:<8} {:>8} {:>10.2} {:>12.1} {:>12.1}",
            f.family,
            f.keys,
            f.keys as f64 / messages.max(1) as f64,
            f.key_bytes as f64 / f.keys.max(1) as f64,
            f.value_bytes as f64 / f.keys.max(1) as f64,
        );
    }
    let keys: u64 = families.iter().map(|f| f.keys).sum();
    let bytes: u64 = families.iter().map(|f| f.key_bytes + f.value_bytes).sum();
    println!(
        "      all      {keys:>8} {:>10.2}   {:>8.0} B of keys and values per message (live data)",
        keys as f64 / messages.max(1) as f64,
        bytes as f64 / messages.max(1) as f64
    );
}

/// Simulator numbers (the simulator refuses others), as long as an Indonesian mobile number.
fn phone(i: usize) -> ContactId {
    ContactId::parse(&format!("+99981{i:07}")).expect("valid phone")
}

/// A message as people write them: a short line in Dari.
fn text(i: usize) -> String {
    format!("سلام، تاریخ پرداخت بعدی کی است؟ {i}")
}

fn external_id(i: usize) -> String {
    format!("SM{i:032x}")
}

/// What the messages of a store hold: their count, raw content bytes (text, phone, provider
/// id) and their size as JSON records.
#[derive(Debug, Default, Clone, Copy)]
struct Content {
    messages: usize,
    raw: usize,
    json: usize,
}

fn content(store: &Store, people: usize, direction: Direction) -> Content {
    let mut c = Content::default();
    for i in 0..people {
        let history: Vec<MessageRecord> = store.history(&phone(i)).expect("history");
        for m in history.iter().filter(|m| m.direction == direction) {
            c.messages += 1;
            c.raw += m.text.len()
                + m.contact.to_string().len()
                + m.external_id.as_ref().map_or(0, |e| e.len());
            c.json += serde_json::to_vec(m).expect("json").len();
        }
    }
    c
}

struct Measured {
    usage: Usage,
    families: Vec<FamilyUsage>,
    inbound: Content,
    outbound: Content,
    dir: tempfile::TempDir,
}

fn empty_store_usage() -> Usage {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store opens");
    store.close().expect("close");
    drop(store);
    disk_usage(dir.path())
}

fn inbound_only(n: usize) -> Measured {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store opens");
    for i in 0..n {
        let entry = JournalEntry {
            received_at: kabar::domain::now_ms(),
            inbound: NewInbound {
                profile: Default::default(),
                channel: Channel::TwilioSms,
                from: phone(i),
                text: text(i),
                external_id: external_id(i),
                media: None,
                unsupported: None,
            },
        };
        store.record_inbound(&entry).expect("stored");
    }
    let families = store.usage_by_family().expect("families");
    let inbound = content(&store, n, Direction::In);
    store.close().expect("close");
    drop(store);
    Measured {
        usage: disk_usage(dir.path()),
        families,
        inbound,
        outbound: Content::default(),
        dir,
    }
}

/// The whole path in-process: simulator webhooks, answered, then a clean stop.
async fn answered(n: usize) -> Measured {
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
    let store: Arc<Store> = app.sled.as_ref().expect("the embedded store").core_arc();
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
    loop {
        let mut all = true;
        for i in 0..n {
            all &= store
                .history(&phone(i))
                .expect("history")
                .iter()
                .any(|m| m.direction == Direction::Out);
        }
        if all && store.outbox_depth() == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "not all answered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let families = store.usage_by_family().expect("families");
    let inbound = content(&store, n, Direction::In);
    let outbound = content(&store, n, Direction::Out);
    drop(store);
    let _ = stop.send(());
    let _ = server.await;
    Measured {
        usage: disk_usage(dir.path()),
        families,
        inbound,
        outbound,
        dir,
    }
}

/// What deleting did to the answered folder.
struct Deleted {
    purged: usize,
    after_purge: Usage,
    after_refill: Usage,
    after_compaction: Usage,
}

/// Removes every message of the answered folder (retention with a cutoff in the future), then
/// stores `n` new inbound messages in the same running store (does sled reuse the freed space?),
/// then opens it again, which runs the compaction the purge asked for. Sizes after each step.
fn delete_everything(dir: &Path, n: usize) -> Deleted {
    let store = Store::open(dir).expect("store opens");
    let cutoff = kabar::domain::now_ms() + 24 * 60 * 60 * 1000;
    let report = store.purge(cutoff, false).expect("purge");
    store.flush().expect("flush");
    let after_purge = disk_usage(dir);
    for i in 0..n {
        let entry = JournalEntry {
            received_at: kabar::domain::now_ms(),
            inbound: NewInbound {
                profile: Default::default(),
                channel: Channel::TwilioSms,
                from: phone(i),
                text: text(i),
                external_id: format!("SMnew{i:029x}"),
                media: None,
                unsupported: None,
            },
        };
        store.record_inbound(&entry).expect("stored");
    }
    store.close().expect("close");
    drop(store);
    let after_refill = disk_usage(dir);
    let store = Store::open(dir).expect("store reopens");
    store.close().expect("close");
    drop(store);
    Deleted {
        purged: report.messages,
        after_purge,
        after_refill,
        after_compaction: disk_usage(dir),
    }
}

/// One run's figures, bytes per message (allocated).
#[derive(Debug, Clone, Copy)]
struct Figures {
    inbound: f64,
    inbound_apparent: f64,
    reply: f64,
    reply_apparent: f64,
    exchange: f64,
}

fn figures(empty: Usage, inbound: &Measured, full: &Measured, n: usize) -> Figures {
    let per = |bytes: u64, base: u64, count: usize| {
        bytes.saturating_sub(base) as f64 / count.max(1) as f64
    };
    let replies = full.outbound.messages;
    Figures {
        inbound: per(inbound.usage.allocated, empty.allocated, n),
        inbound_apparent: per(inbound.usage.apparent, empty.apparent, n),
        reply: per(full.usage.allocated, inbound.usage.allocated, replies),
        reply_apparent: per(full.usage.apparent, inbound.usage.apparent, replies),
        exchange: per(full.usage.allocated, empty.allocated, n),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> ExitCode {
    let n: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    // sled frees and reuses its 512 KiB segments as it goes: the same writes leave a folder a
    // few segments larger or smaller from one run to the next. The median of a few runs.
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let empty = empty_store_usage();
    println!(
        "store bytes on disk, {n} messages and their replies, {runs} runs (allocated bytes per message)"
    );
    let mut all = Vec::new();
    let mut last = None;
    for run in 1..=runs {
        let inbound = inbound_only(n);
        let full = runtime.block_on(answered(n));
        let f = figures(empty, &inbound, &full, n);
        println!(
            "  run {run}: per inbound message {:>6.0}   per reply {:>6.0}   per answered exchange {:>6.0}",
            f.inbound, f.reply, f.exchange
        );
        all.push(f);
        last = Some((inbound, full));
    }
    let Some((inbound, full)) = last else {
        return ExitCode::FAILURE;
    };
    let pick = |get: fn(&Figures) -> f64| median(all.iter().map(get).collect());
    let in_alloc = pick(|f| f.inbound);
    let reply_alloc = pick(|f| f.reply);
    let step_alloc = pick(|f| f.exchange);
    let replies = full.outbound.messages;

    println!(
        "\n  empty store             {:>10} / {:>10} bytes (allocated / apparent)",
        empty.allocated, empty.apparent
    );
    let content_in = inbound.inbound.raw as f64 / n.max(1) as f64;
    let json_in = inbound.inbound.json as f64 / n.max(1) as f64;
    let content_out = full.outbound.raw as f64 / replies.max(1) as f64;
    let json_out = full.outbound.json as f64 / replies.max(1) as f64;
    println!(
        "  baseline, this run: an inbound message is {content_in:.0} B of content, {json_in:.0} B as a JSON record; \
         a reply {content_out:.0} B of content, {json_out:.0} B as JSON"
    );
    println!(
        "  per inbound message     {in_alloc:>10.0} / {:>10.0} bytes   ({:.2}x the 1 KB goal, {:.1}x its JSON record, {:.1}x its content)",
        pick(|f| f.inbound_apparent),
        in_alloc / GOAL_BYTES,
        in_alloc / json_in,
        in_alloc / content_in
    );
    println!(
        "  per reply               {reply_alloc:>10.0} / {:>10.0} bytes   ({:.2}x the 1 KB goal, {:.1}x its JSON record, {:.1}x its content)",
        pick(|f| f.reply_apparent),
        reply_alloc / GOAL_BYTES,
        reply_alloc / json_out,
        reply_alloc / content_out
    );
    let per_exchange = 1.0 + replies as f64 / n.max(1) as f64;
    println!(
        "  per answered exchange   {step_alloc:>10.0} bytes (inbound message, its {:.2} replies, session, contact): {:.0} B per message in it",
        per_exchange - 1.0,
        step_alloc / per_exchange
    );

    println!("\n  where the bytes go, inbound only (last run): live keys and values");
    print_families(&inbound.families, n);
    println!("    files:");
    print_files(inbound.dir.path());
    println!(
        "\n  where the bytes go, answered (last run): live keys and values (per inbound message)"
    );
    print_families(&full.families, n);
    println!("    files:");
    print_files(full.dir.path());

    let deleted = delete_everything(full.dir.path(), n);
    let before = full.usage.allocated;
    let share = |u: Usage| 100.0 * u.allocated as f64 / before.max(1) as f64;
    println!(
        "\n  deleting data: retention purge of all {} messages, {n} new inbound messages, then the compaction the purge asks for at the next start",
        deleted.purged
    );
    println!(
        "      before {before:>10} B   after the purge {:>10} B ({:.0}%)   after {n} new messages {:>10} B ({:.0}%)   after the compaction {:>10} B ({:.0}%)",
        deleted.after_purge.allocated,
        share(deleted.after_purge),
        deleted.after_refill.allocated,
        share(deleted.after_refill),
        deleted.after_compaction.allocated,
        share(deleted.after_compaction),
    );
    let refill = deleted
        .after_refill
        .allocated
        .saturating_sub(deleted.after_purge.allocated) as f64
        / n.max(1) as f64;
    println!(
        "      the new messages grew the folder by {refill:.0} B each, {:.0}% of what they take in an empty store ({in_alloc:.0} B): {}",
        100.0 * refill / in_alloc.max(1.0),
        if refill < in_alloc * 0.9 {
            "sled partly reuses the space the purge freed"
        } else {
            "the space the purge freed was NOT reused"
        }
    );
    println!(
        "      the compaction gave back {:.0}% of the folder",
        100.0
            - 100.0 * deleted.after_compaction.allocated as f64
                / deleted.after_refill.allocated.max(1) as f64
    );
    println!("    files after the compaction:");
    print_files(full.dir.path());

    let met = in_alloc < GOAL_BYTES && reply_alloc < GOAL_BYTES;
    let met_exchange = step_alloc / per_exchange < GOAL_BYTES;
    let returned = deleted.after_compaction.allocated * 4 < deleted.after_refill.allocated * 3;
    println!(
        "\ngoal < 1 KB per inbound message and per reply (median): {}   per message of an answered exchange: {}   space given back after deleting: {}",
        if met { "met" } else { "NOT MET" },
        if met_exchange { "met" } else { "NOT MET" },
        if returned { "yes" } else { "NO" }
    );
    ExitCode::SUCCESS
}
