//! Broadcast benchmark: 100,000 imported contacts (through the API), one approved broadcast to
//! all of them, a fake Twilio on loopback at the provider's TPS. Prints:
//!
//! - the import through `POST /api/contacts/import`, against parsing the same CSV alone;
//! - time from the send until every recipient is durably queued (goal < 2 s), against one raw
//!   sled batch of as many keys of the same size, flushed, in the same run (on PostgreSQL: one
//!   committed `INSERT … SELECT FROM UNNEST` of as many rows of the same width into a table
//!   shaped like the audience's);
//! - RSS while the broadcast drains (goal ≤ 150 MB);
//! - a new person's first reply while the broadcast drains (goal < 3 s), against the same
//!   reply with no broadcast running.
//!
//! `cargo bench --bench broadcast`; without `--bench` (as `cargo test --benches` runs it) a
//! smoke run with 2,000 contacts. `BENCH_CONTACTS` and `BENCH_TPS` override.
//!
//! `BENCH_STORE=postgres` runs the same on PostgreSQL (`App::open`), in a fresh schema of the
//! database `BENCH_DATABASE_URL` (else `KABAR_TEST_DATABASE_URL`) names, dropped at the end;
//! without a URL the smoke run is skipped with a message.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use kabar::dispatch::bulk::ENQUEUE_BATCH;
use tokio::net::TcpListener;

const ACCOUNT_SID: &str = "ACbench";
const AUTH_TOKEN: &str = "benchtoken";
const OUR_NUMBER: &str = "+6281100000000";

const GOAL_QUEUED_S: f64 = 2.0;
const GOAL_RSS_MIB: f64 = 150.0;
const GOAL_REPLY_S: f64 = 3.0;

/// When each number first got a message from the fake Twilio.
#[derive(Default)]
struct Fake {
    first: Mutex<HashMap<String, Instant>>,
    count: Mutex<u64>,
}

async fn fake_messages(
    State(fake): State<Arc<Fake>>,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, String) {
    let to = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "To")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let n = {
        let mut c = fake.count.lock().unwrap_or_else(|e| e.into_inner());
        *c += 1;
        *c
    };
    fake.first
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(to)
        .or_insert_with(Instant::now);
    (
        axum::http::StatusCode::CREATED,
        format!(r#"{{"sid":"SM{n:032x}","status":"queued"}}"#),
    )
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Samples RSS every 20 ms in a thread of its own and keeps the highest figure per phase, so
/// the note can say where memory peaks (the import, the send, the drain).
struct Sampler {
    phase: Arc<Mutex<Phases>>,
}

/// The phase now, and the peak of each phase so far.
type Phases = (String, Vec<(String, f64)>);

impl Sampler {
    fn start() -> Sampler {
        let phase: Arc<Mutex<Phases>> = Arc::new(Mutex::new(("start".to_string(), Vec::new())));
        let shared = phase.clone();
        std::thread::spawn(move || {
            loop {
                let rss = rss_mib();
                {
                    let mut p = shared.lock().unwrap_or_else(|e| e.into_inner());
                    if p.0 == "end" {
                        return;
                    }
                    let name = p.0.clone();
                    match p.1.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, peak)) => *peak = peak.max(rss),
                        None => p.1.push((name, rss)),
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Sampler { phase }
    }

    fn phase(&self, name: &str) {
        self.phase.lock().unwrap_or_else(|e| e.into_inner()).0 = name.to_string();
    }

    fn peak(&self, name: &str) -> f64 {
        let p = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        p.1.iter().find(|(n, _)| n == name).map_or(0.0, |(_, v)| *v)
    }

    fn print(&self) {
        let mut p = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        p.0 = "end".to_string();
        let line: Vec<String> = p.1.iter().map(|(n, v)| format!("{n} {v:.0}")).collect();
        println!("RSS peak per phase (MiB): {}", line.join(", "));
    }
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The store under test.
enum Backend {
    Sled,
    /// The database URL and the bench's schema in it.
    Postgres {
        url: String,
        schema: String,
    },
}

impl Backend {
    /// From `BENCH_STORE`; `Err(exit code)` when PostgreSQL is asked for and cannot be had.
    fn from_env(benching: bool) -> Result<Backend, ExitCode> {
        match std::env::var("BENCH_STORE").as_deref() {
            Err(_) | Ok("sled") => Ok(Backend::Sled),
            Ok("postgres") => {
                let url = std::env::var("BENCH_DATABASE_URL")
                    .or_else(|_| std::env::var("KABAR_TEST_DATABASE_URL"));
                match url {
                    Ok(url) if cfg!(feature = "postgres") => Ok(Backend::Postgres {
                        url,
                        schema: format!("bench_broadcast_{}", std::process::id()),
                    }),
                    Ok(_) => {
                        eprintln!("BENCH_STORE=postgres: this build has no PostgreSQL support");
                        Err(ExitCode::FAILURE)
                    }
                    Err(_) if benching => {
                        eprintln!(
                            "BENCH_STORE=postgres needs BENCH_DATABASE_URL (or KABAR_TEST_DATABASE_URL)=postgres://…"
                        );
                        Err(ExitCode::FAILURE)
                    }
                    Err(_) => {
                        println!(
                            "broadcast bench on PostgreSQL skipped: set BENCH_DATABASE_URL (or KABAR_TEST_DATABASE_URL) to postgres://… to run it"
                        );
                        Err(ExitCode::SUCCESS)
                    }
                }
            }
            Ok(other) => {
                eprintln!("BENCH_STORE={other:?}: sled or postgres");
                Err(ExitCode::FAILURE)
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::Sled => "sled",
            Backend::Postgres { .. } => "PostgreSQL",
        }
    }
}

fn main() -> ExitCode {
    // As `kabar serve` does: the RSS figure is the service's.
    kabar::ops::tune_allocator();
    let benching = std::env::args().skip(1).any(|a| a == "--bench");
    let contacts = env_number("BENCH_CONTACTS").unwrap_or(if benching { 100_000 } else { 2_000 });
    let tps = env_number("BENCH_TPS").unwrap_or(50u32);
    let backend = match Backend::from_env(benching) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(contacts, tps, benching, backend))
}

struct Running {
    base: String,
    store: kabar::store::Store,
    token: String,
    http: reqwest::Client,
    fake: Arc<Fake>,
    public: String,
}

impl Running {
    async fn sms(&self, from: &str, body: &str, sid: &str) {
        let params: Vec<(String, String)> = [
            ("MessageSid", sid),
            ("AccountSid", ACCOUNT_SID),
            ("From", from),
            ("To", OUR_NUMBER),
            ("Body", body),
            ("NumMedia", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = format!("{}/webhooks/twilio", self.public);
        let signature = kabar::channel::twilio::compute_signature(AUTH_TOKEN, &url, &params);
        let form: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        let r = self
            .http
            .post(format!("{}/webhooks/twilio", self.base))
            .header("X-Twilio-Signature", signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await;
        assert!(r.is_ok_and(|r| r.status() == 200), "webhook accepted");
    }

    /// Seconds from a new person's first SMS until the fake Twilio got our answer.
    async fn reply_latency(&self, from: &str, sid: &str) -> f64 {
        let start = Instant::now();
        self.sms(from, "hello", sid).await;
        loop {
            if let Some(at) = self
                .fake
                .first
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(from)
            {
                return at.duration_since(start).as_secs_f64();
            }
            if start.elapsed() > Duration::from_secs(60) {
                return f64::INFINITY;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn run(contacts: usize, tps: u32, benching: bool, backend: Backend) -> ExitCode {
    let fake = Arc::new(Fake::default());
    let fake_app = Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            post(fake_messages),
        )
        .with_state(fake.clone());
    let Ok(fake_listener) = TcpListener::bind("127.0.0.1:0").await else {
        return ExitCode::FAILURE;
    };
    let fake_addr: SocketAddr = fake_listener.local_addr().expect("fake address");
    tokio::spawn(async move {
        let _ = axum::serve(fake_listener, fake_app).await;
    });
    let data = tempfile::tempdir().expect("temp dir");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // PostgreSQL: a fresh schema, which the URL given to kabar selects.
    let store_url = match &backend {
        Backend::Sled => None,
        Backend::Postgres { url, schema } => Some(fresh_schema(url, schema).await),
    };
    let mut vars = vec![
        ("KABAR_SERVER__LISTEN", addr.to_string()),
        ("KABAR_SERVER__PUBLIC_URL", format!("http://{addr}")),
        ("KABAR_SERVER__DATA_DIR", data.path().display().to_string()),
        (
            "KABAR_CONTENT__FLOWS",
            manifest.join("flows").display().to_string(),
        ),
        (
            "KABAR_CONTENT__LOCALES",
            manifest.join("locales").display().to_string(),
        ),
        ("KABAR_HELPDESK__HOURS", "always".to_string()),
        ("KABAR_TWILIO__ACCOUNT_SID", ACCOUNT_SID.to_string()),
        ("KABAR_TWILIO__AUTH_TOKEN", AUTH_TOKEN.to_string()),
        ("KABAR_TWILIO__FROM", OUR_NUMBER.to_string()),
        ("KABAR_TWILIO__API_BASE", format!("http://{fake_addr}")),
        ("KABAR_TWILIO__TPS", tps.to_string()),
        ("KABAR_BROADCASTS__APPROVAL_OVER", "100000000".to_string()),
    ];
    if let Some(url) = &store_url {
        vars.push(("KABAR_STORE__KIND", "postgres".to_string()));
        vars.push(("KABAR_STORE__URL", url.clone()));
    }
    let config =
        kabar::config::Config::load(None, vars.into_iter().map(|(k, v)| (k.to_string(), v)))
            .expect("config");
    let app = match backend {
        Backend::Sled => kabar::App::build(config),
        Backend::Postgres { .. } => kabar::App::open(config).await,
    }
    .expect("app");
    let store = app.store.clone();
    // sled's writes are durable at its group commit, which the bench waits for; PostgreSQL's
    // on commit.
    let sled = app.sled.as_ref().map(|s| s.core_arc());
    let user = kabar::domain::User {
        name: "bench".into(),
        role: kabar::domain::Role::Staff,
        languages: vec![],
        password_hash: String::new(),
        created_at: 0,
        disabled: false,
    };
    store.add_user(&user).await.expect("user");
    let token = kabar::web::auth::new_token();
    store
        .add_token(&kabar::web::auth::token_hash(&token), "bench")
        .await
        .expect("token");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async {
        let _ = stop_rx.await;
    }));
    let r = Running {
        base: format!("http://{addr}"),
        public: format!("http://{addr}"),
        store,
        token,
        http: reqwest::Client::new(),
        fake,
    };
    println!(
        "broadcast bench on {}: {contacts} contacts, Twilio at {tps} messages/s",
        backend.name()
    );
    println!("RSS at start: {:.0} MiB", rss_mib());
    let sampler = Sampler::start();

    // 1. The import, against parsing alone.
    let mut csv = String::from("phone,language,city,case_id,name,tags\n");
    let langs = ["so", "prs", "fa", "ar", "ti", "en"];
    for i in 0..contacts {
        csv.push_str(&format!(
            "+6281{i:09},{},Batam,CASE{i:06},Name {i},parents;batam-school\n",
            langs[i % langs.len()]
        ));
    }
    let parse_start = Instant::now();
    let parsed = kabar::import::parse_contacts(csv.as_bytes()).expect("csv");
    let parse_s = parse_start.elapsed().as_secs_f64();
    assert_eq!(parsed.rows.len(), contacts);
    drop(parsed); // the RSS figure is kabar's, not this baseline's
    sampler.phase("import");
    let import_start = Instant::now();
    let resp = r
        .http
        .post(format!("{}/api/contacts/import", r.base))
        .bearer_auth(&r.token)
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .expect("import");
    let import_status = resp.status();
    let import_s = import_start.elapsed().as_secs_f64();
    println!(
        "import through the API: {:.2} s for {} rows ({:.1} MB), HTTP {}; parsing alone {:.2} s (×{:.1})",
        import_s,
        contacts,
        csv.len() as f64 / 1e6,
        import_status.as_u16(),
        parse_s,
        import_s / parse_s.max(1e-9)
    );
    if !import_status.is_success() {
        top_up(&r.store, &csv).await;
    }
    drop(csv);

    // 2. The reply time with nothing else going on.
    println!("RSS after the import: {:.0} MiB", rss_mib());
    let idle_reply = r.reply_latency("+6289900000001", "SMbenchidle0001").await;
    println!("a new person's first reply, no broadcast: {idle_reply:.3} s");

    // 3. An approved send until everyone is durably queued.
    sampler.phase("create");
    let rss_before = rss_mib();
    let created: serde_json::Value = r
        .http
        .post(format!("{}/api/broadcasts", r.base))
        .bearer_auth(&r.token)
        .json(&serde_json::json!({
            "name": "bench",
            "texts": {"so": "Salaan {name}, {city}", "fa-AF": "سلام {name}", "fa": "سلام {name}",
                      "ar": "مرحبا {name}", "ti": "ሰላም {name}", "en": "Hello {name}"},
        }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_u64().expect("id");
    assert_eq!(created["recipients"].as_u64(), Some(contacts as u64));
    sampler.phase("send");
    let send_start = Instant::now();
    let sent = r
        .http
        .post(format!("{}/api/broadcasts/{id}/send", r.base))
        .bearer_auth(&r.token)
        .send()
        .await
        .expect("send");
    assert!(sent.status().is_success());
    let send_answer_s = send_start.elapsed().as_secs_f64();
    loop {
        if r.store
            .enqueue_cursor(id)
            .await
            .map(|c| c.done)
            .unwrap_or(false)
        {
            break;
        }
        if send_start.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    if let Some(sled) = &sled {
        let _ = sled.durable().await;
    }
    let queued_s = send_start.elapsed().as_secs_f64();
    let written = r
        .store
        .enqueue_cursor(id)
        .await
        .map(|c| c.written)
        .unwrap_or(0);
    println!(
        "send → all {written} recipients durably queued: {queued_s:.2} s (the send answered in {send_answer_s:.2} s) — goal < {GOAL_QUEUED_S} s"
    );

    // 4. A new person's reply while it drains, and RSS meanwhile.
    sampler.phase("drain");
    let drain_start = Instant::now();
    tokio::time::sleep(Duration::from_secs(if benching { 3 } else { 1 })).await;
    let busy_reply = r.reply_latency("+6289900000002", "SMbenchbusy0001").await;
    let sample_for = Duration::from_secs(if benching { 10 } else { 2 });
    while drain_start.elapsed() < sample_for {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let peak = sampler.peak("drain");
    sampler.print();
    let delivered = *r.fake.count.lock().unwrap_or_else(|e| e.into_inner());
    let rate = delivered as f64 / drain_start.elapsed().as_secs_f64();
    println!(
        "a new person's first reply while the broadcast drains: {busy_reply:.3} s (×{:.1} the idle reply) — goal < {GOAL_REPLY_S} s",
        busy_reply / idle_reply.max(1e-9)
    );
    println!(
        "RSS: {rss_before:.0} MiB before the send, peak {peak:.0} MiB while draining ({delivered} sent, {rate:.0}/s at TPS {tps}) — goal ≤ {GOAL_RSS_MIB} MiB"
    );
    sampler.phase("raw");
    // Last, so that its memory does not count in the RSS figures.
    match &store_url {
        None => {
            let raw_s = raw_sled_batch(contacts);
            println!(
                "one raw sled batch of as many keys, flushed: {raw_s:.2} s — kabar's send → queued is ×{:.1} that",
                queued_s / raw_s.max(1e-9)
            );
        }
        Some(url) => {
            let (one_s, chunked_s) = raw_postgres_insert(url, contacts).await;
            println!(
                "one raw committed INSERT … SELECT FROM UNNEST of as many rows: {one_s:.2} s — kabar's send → queued is ×{:.1} that",
                queued_s / one_s.max(1e-9)
            );
            println!(
                "the same rows as {} statement(s) of {ENQUEUE_BATCH}, one transaction each: {chunked_s:.2} s (×{:.1})",
                contacts.div_ceil(ENQUEUE_BATCH),
                queued_s / chunked_s.max(1e-9)
            );
        }
    }
    let _ = r
        .http
        .post(format!("{}/api/broadcasts/{id}/cancel", r.base))
        .bearer_auth(&r.token)
        .send()
        .await;
    let _ = stop_tx.send(());
    let _ = server.await;
    if let Backend::Postgres { url, schema } = &backend {
        drop_schema(url, schema).await;
    }
    let ok = import_status.is_success()
        && (!benching
            || (queued_s < GOAL_QUEUED_S && peak <= GOAL_RSS_MIB && busy_reply < GOAL_REPLY_S));
    println!("{}", if ok { "goals met" } else { "goals NOT met" });
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// After a failed import through the API (PostgreSQL writes 100,000 rows slower than the
/// import's 120 s limit on a busy machine), imports the rows through the store port so that the
/// broadcast has its whole audience: four tasks on disjoint quarters, each chunk tried again
/// if PostgreSQL aborts it (a deadlock with what the API import left running).
async fn top_up(store: &kabar::store::Store, csv: &str) {
    let start = Instant::now();
    let rows = Arc::new(
        kabar::import::parse_contacts(csv.as_bytes())
            .expect("csv")
            .rows,
    );
    let quarter = rows.len().div_ceil(4).max(1);
    let tasks: Vec<_> = (0..4)
        .map(|q| {
            let (store, rows) = (store.clone(), rows.clone());
            tokio::spawn(async move {
                let mine =
                    &rows[(q * quarter).min(rows.len())..((q + 1) * quarter).min(rows.len())];
                for part in mine.chunks(1000) {
                    let mut attempt = 0;
                    while let Err(e) = store.upsert_contacts(part).await {
                        attempt += 1;
                        assert!(attempt < 5, "importing through the store port: {e}");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("an import task panicked");
    }
    println!(
        "!!! the import through the API failed: the bench imported the {} rows through the store port instead, in {:.1} s (4 tasks), to go on with the broadcast",
        rows.len(),
        start.elapsed().as_secs_f64()
    );
}

/// One raw sled batch of as many keys as the enqueue writes (one per recipient, values of the
/// same size), flushed; seconds.
fn raw_sled_batch(contacts: usize) -> f64 {
    let raw_dir = tempfile::tempdir().expect("temp dir");
    let raw_start = Instant::now();
    {
        let db = sled::open(raw_dir.path()).expect("sled");
        let mut batch = sled::Batch::default();
        for i in 0..contacts {
            batch.insert(
                format!("br/0000000000000001/+6281{i:09}").as_bytes(),
                br#"{"l":"so","c":"twilio-sms","s":"queued"}"#.to_vec(),
            );
        }
        db.apply_batch(batch).expect("batch");
        db.flush().expect("flush");
    }
    raw_start.elapsed().as_secs_f64()
}

/// A fresh schema (dropped first if a previous run left it), migrated; the URL that selects it.
#[cfg(feature = "postgres")]
async fn fresh_schema(url: &str, schema: &str) -> String {
    use kabar::store::postgres::{DatabaseUrl, PgStore};
    let db = DatabaseUrl::new(url).expect("BENCH_DATABASE_URL is a postgres:// URL");
    PgStore::drop_schema(&db, schema)
        .await
        .expect("drop schema");
    let store: kabar::store::Store = Arc::new(
        PgStore::connect(&db, Some(schema))
            .await
            .expect("create the bench's schema"),
    );
    store.close().await.expect("close");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

#[cfg(feature = "postgres")]
async fn drop_schema(url: &str, schema: &str) {
    use kabar::store::postgres::{DatabaseUrl, PgStore};
    let db = DatabaseUrl::new(url).expect("BENCH_DATABASE_URL is a postgres:// URL");
    if let Err(e) = PgStore::drop_schema(&db, schema).await {
        eprintln!("cannot drop schema {schema}: {e}");
    }
}

/// The PostgreSQL floor for the enqueue: as many rows as recipients, of the audience's width,
/// into a table with its keys (`broadcast_audience`: primary key and unique contact), written
/// once as one committed `INSERT … SELECT FROM UNNEST`, then again as kabar writes them
/// (statements of `ENQUEUE_BATCH` rows, each its own transaction). Seconds for each.
#[cfg(feature = "postgres")]
async fn raw_postgres_insert(url: &str, contacts: usize) -> (f64, f64) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect for the raw baseline");
    sqlx::query(
        "CREATE TABLE bench_raw_audience (broadcast bigint NOT NULL, chunk bigint NOT NULL, \
         idx integer NOT NULL, contact text COLLATE \"C\" NOT NULL, language text NOT NULL, \
         channel text NOT NULL, PRIMARY KEY (broadcast, chunk, idx), UNIQUE (contact, broadcast))",
    )
    .execute(&mut conn)
    .await
    .expect("create the raw baseline's table");
    let langs = ["so", "prs", "fa", "ar", "ti", "en"];
    let rows: Vec<(i64, i32, String, String)> = (0..contacts)
        .map(|i| {
            (
                (i / ENQUEUE_BATCH) as i64,
                (i % ENQUEUE_BATCH) as i32,
                format!("+6281{i:09}"),
                langs[i % langs.len()].to_string(),
            )
        })
        .collect();
    let mut timed = Vec::new();
    for (broadcast, batch) in [(1i64, contacts.max(1)), (2, ENQUEUE_BATCH)] {
        let start = Instant::now();
        for part in rows.chunks(batch) {
            let mut tx = conn.begin().await.expect("begin");
            sqlx::query(
                "INSERT INTO bench_raw_audience (broadcast, chunk, idx, contact, language, channel) \
                 SELECT $1, t.chunk, t.idx, t.contact, t.language, 'twilio-sms' \
                 FROM UNNEST($2::int8[], $3::int4[], $4::text[], $5::text[]) \
                      AS t(chunk, idx, contact, language)",
            )
            .bind(broadcast)
            .bind(part.iter().map(|r| r.0).collect::<Vec<_>>())
            .bind(part.iter().map(|r| r.1).collect::<Vec<_>>())
            .bind(part.iter().map(|r| r.2.clone()).collect::<Vec<_>>())
            .bind(part.iter().map(|r| r.3.clone()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .expect("the raw baseline's insert");
            tx.commit().await.expect("commit");
        }
        timed.push(start.elapsed().as_secs_f64());
    }
    let _ = conn.close().await;
    (timed[0], timed[1])
}

#[cfg(not(feature = "postgres"))]
async fn fresh_schema(_url: &str, _schema: &str) -> String {
    unreachable!("Backend::from_env refuses PostgreSQL in a build without it")
}

#[cfg(not(feature = "postgres"))]
async fn drop_schema(_url: &str, _schema: &str) {}

#[cfg(not(feature = "postgres"))]
async fn raw_postgres_insert(_url: &str, _contacts: usize) -> (f64, f64) {
    unreachable!("Backend::from_env refuses PostgreSQL in a build without it")
}
