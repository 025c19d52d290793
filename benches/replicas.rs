//! Replicas benchmark (issue 13): the Twilio inbound webhook on the real `kabar` binary with
//! PostgreSQL on the same machine, one replica and two, against a bare axum route and kabar on
//! sled in the same run; then, for each kabar, how fast a burst of first contacts is answered.
//! See `benches/README.md`.
//!
//! For each kabar (sled ×1, PostgreSQL ×1, PostgreSQL ×2 on one fresh schema), in order:
//! 1. a burst of `BENCH_BURST` (10,000) first-contact webhooks as fast as they are
//!    acknowledged, then the wait until the fake Twilio has a reply for each: answers per second
//!    from the first webhook and from the end of the burst, and whether anyone got two;
//! 2. the timed load `inbound` runs (warm-up, then `BENCH_SECONDS`), spread over the replicas
//!    in turn as a round-robin load balancer would: req/s and latencies against bare axum's.
//!
//! PostgreSQL from `BENCH_DATABASE_URL`, else `KABAR_TEST_DATABASE_URL`; without either the
//! PostgreSQL rows are skipped with a message. The same executable plays the bare server when
//! started with `KABAR_BENCH_ROLE=bare`.

mod support;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use kabar::store::Store;
use kabar::store::postgres::{DatabaseUrl, PgStore};
use support::{
    FakeTwilio, Load, Measured, Readiness, Server, WEBHOOK_PATH, cores, die, env_number, free_port,
    kabar_command, measure, mib, ms, print_errors, trim_float,
};

/// How long a burst's replies may take in all, and without any new one, before the bench
/// gives up waiting.
const BURST_LIMIT: Duration = Duration::from_secs(300);
const BURST_STALL: Duration = Duration::from_secs(60);
/// After the last expected reply, how long to keep listening for a second one to anybody.
const LISTEN_AFTER: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    if let Some(bare) = support::start("replicas") {
        return bare;
    }
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime of the load generator");
    runtime.block_on(run(settings))
}

struct Settings {
    load: Load,
    burst: u64,
    smoke: bool,
    database: Option<String>,
}

impl Settings {
    fn from_env() -> Settings {
        let (smoke, connections, measure, warm_up) = support::load_timing();
        let burst = env_number::<u64>("BENCH_BURST")
            .unwrap_or(if smoke { 200 } else { 10_000 })
            .max(1);
        let database = std::env::var("BENCH_DATABASE_URL")
            .or_else(|_| std::env::var("KABAR_TEST_DATABASE_URL"))
            .ok();
        if database.is_none() && std::env::var_os("KABAR_REQUIRE_POSTGRES").is_some() {
            die(
                "KABAR_REQUIRE_POSTGRES is set but neither BENCH_DATABASE_URL nor KABAR_TEST_DATABASE_URL is",
            );
        }
        Settings {
            load: Load {
                connections,
                warm_up,
                measure,
                requests: None,
                duplicates: false,
            },
            burst,
            smoke,
            database,
        }
    }
}

/// Which kabar.
#[derive(Clone, Copy)]
enum Kind {
    Sled,
    Postgres { replicas: usize },
}

impl Kind {
    fn name(self) -> String {
        match self {
            Kind::Sled => "kabar sled ×1".into(),
            Kind::Postgres { replicas } => format!("kabar pg ×{replicas}"),
        }
    }
}

/// What PostgreSQL's sessions of kabar were doing, sampled from `pg_stat_activity` every
/// 100 ms while a phase ran: (state and wait event, share of the session samples), most
/// frequent first; and PostgreSQL's CPU over the phase, in cores.
#[derive(Default)]
struct PgActivity {
    waits: Vec<(String, f64)>,
    cores: Option<f64>,
}

/// Samples `pg_stat_activity` until told to stop. Every session named `kabar` in the database
/// counts (another kabar using the same database at the same time would show too).
struct ActivitySampler {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<(String, f64)>>,
    cpu: Option<u64>,
    started: Instant,
}

impl ActivitySampler {
    async fn start(url: &str) -> ActivitySampler {
        use sqlx::Connection;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .unwrap_or_else(|e| die(&format!("cannot connect to sample pg_stat_activity: {e}")));
        let task = tokio::spawn(async move {
            let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
            let mut total = 0u64;
            loop {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT coalesce(state, '?') || ', ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU'), \
                     count(*) FROM pg_stat_activity WHERE application_name = 'kabar' \
                     AND pid <> pg_backend_pid() GROUP BY 1",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap_or_default();
                for (what, n) in rows {
                    *counts.entry(what).or_default() += n as u64;
                    total += n as u64;
                }
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
            let _ = conn.close().await;
            let mut waits: Vec<(String, f64)> = counts
                .into_iter()
                .map(|(what, n)| (what, n as f64 / total.max(1) as f64))
                .collect();
            waits.sort_by(|a, b| b.1.total_cmp(&a.1));
            waits
        });
        ActivitySampler {
            stop,
            task,
            cpu: postgres_ticks(),
            started: Instant::now(),
        }
    }

    async fn finish(self) -> PgActivity {
        let cpu = postgres_ticks();
        let elapsed = self.started.elapsed().as_secs_f64();
        let _ = self.stop.send(());
        let before = self.cpu;
        let cores = move || {
            Some(cpu?.saturating_sub(before?) as f64 / support::CLOCK_TICKS_PER_SECOND / elapsed)
        };
        PgActivity {
            cores: cores(),
            waits: self.task.await.unwrap_or_default(),
        }
    }
}

/// CPU ticks of every `postgres` process on the machine (the server runs here); those that
/// exit during a phase are lost, those that start count from zero.
fn postgres_ticks() -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            total += support::cpu_ticks(pid).unwrap_or(0);
        }
    }
    Some(total)
}

/// A burst and its answers.
struct Burst {
    load: support::LoadResult,
    /// From the first webhook until the last was acknowledged.
    acked_in: Duration,
    /// Numbers answered by the end of the burst, and in all.
    answered_by_end: u64,
    answered: u64,
    messages: u64,
    /// Numbers that got more than one message.
    repeated: u64,
    /// From the first webhook, and from the end of the burst, until the last reply; `None`
    /// when not everyone acknowledged was answered.
    all_in: Option<(Duration, Duration)>,
}

struct KabarRun {
    kind: Kind,
    burst: Burst,
    timed: Measured,
    /// Replies the fake Twilio got during the timed load, and how many numbers got two.
    replies_during: u64,
    repeated_during: u64,
    died: bool,
    /// PostgreSQL during the burst (until answered) and during the timed load.
    activity: Option<(PgActivity, PgActivity)>,
}

async fn run(settings: Settings) -> ExitCode {
    support::check_signature();
    let twilio = FakeTwilio::start_counting().await;
    let nonce = support::nonce();
    let sequence = Arc::new(AtomicU64::new(0));

    let bare = {
        let server = Server::bare().await;
        let url = server.webhook_url();
        measure(&[server], &settings.load, &url, nonce, &sequence).await
    };
    let mut kinds = vec![Kind::Sled];
    if settings.database.is_some() {
        kinds.extend([
            Kind::Postgres { replicas: 1 },
            Kind::Postgres { replicas: 2 },
        ]);
    }
    let mut runs = Vec::new();
    for kind in kinds {
        runs.push(run_kabar(kind, &settings, &twilio, nonce, &sequence).await);
    }
    report(&settings, &bare, &runs, twilio.unexpected());

    let errors = bare.load.errors()
        + runs
            .iter()
            .map(|r| r.timed.load.errors() + r.burst.load.errors())
            .sum::<u64>();
    let broken = runs
        .iter()
        .any(|r| r.died || r.burst.repeated + r.repeated_during > 0 || r.burst.all_in.is_none());
    if errors > 0 || broken {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A fresh schema (dropped first if a previous run left it), migrated; the URL that selects it.
async fn fresh_schema(url: &str, schema: &str) -> String {
    let db = DatabaseUrl::new(url).unwrap_or_else(|e| die(&format!("the database URL: {e}")));
    PgStore::drop_schema(&db, schema)
        .await
        .unwrap_or_else(|e| die(&format!("cannot drop schema {schema}: {e}")));
    let store: Store = Arc::new(
        PgStore::connect(&db, Some(schema))
            .await
            .unwrap_or_else(|e| die(&format!("cannot create schema {schema}: {e}"))),
    );
    store.close().await.expect("closing the schema's store");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

async fn run_kabar(
    kind: Kind,
    settings: &Settings,
    twilio: &FakeTwilio,
    nonce: u64,
    sequence: &Arc<AtomicU64>,
) -> KabarRun {
    let (replicas, schema) = match kind {
        Kind::Sled => (1, None),
        Kind::Postgres { replicas } => (
            replicas,
            Some(format!("bench_replicas_{}_{replicas}", std::process::id())),
        ),
    };
    let database = settings.database.as_deref();
    let store_url = match (&schema, database) {
        (Some(schema), Some(url)) => Some(fresh_schema(url, schema).await),
        _ => None,
    };
    let dirs: Vec<tempfile::TempDir> = (0..replicas)
        .map(|_| tempfile::tempdir().expect("cannot create a temporary directory for kabar"))
        .collect();
    let ports: Vec<u16> = (0..replicas).map(|_| free_port()).collect();
    // Every replica is configured with the same public URL, as behind a load balancer, and
    // every webhook is signed for it (the first replica's address stands for the balancer's).
    let public = format!("http://127.0.0.1:{}", ports[0]);
    let signed = format!("{public}{WEBHOOK_PATH}");
    let mut servers = Vec::new();
    for (i, (dir, &port)) in dirs.iter().zip(&ports).enumerate() {
        let (mut child, log) = kabar_command(port, &public, dir.path(), twilio.addr);
        if let Some(url) = &store_url {
            // Nothing is kept there on PostgreSQL, but kabar watches its disk.
            std::fs::create_dir_all(dir.path().join("data")).expect("cannot create a data folder");
            child
                .env("KABAR_STORE__KIND", "postgres")
                .env("KABAR_STORE__URL", url);
        }
        let name = if replicas > 1 {
            format!("{} #{}", kind.name(), i + 1)
        } else {
            kind.name()
        };
        servers.push(Server::spawn(name, child, port, Some(log)));
    }
    for server in &mut servers {
        server.wait_ready(Readiness::Healthz).await;
    }

    let sampler = match &store_url {
        Some(url) => Some(ActivitySampler::start(url).await),
        None => None,
    };
    let burst = burst(settings, &servers, &signed, twilio, nonce, sequence).await;
    let during_burst = match sampler {
        Some(s) => Some(s.finish().await),
        None => None,
    };

    let sampler = match &store_url {
        Some(url) => Some(ActivitySampler::start(url).await),
        None => None,
    };
    let before = twilio.received();
    let timed = measure(&servers, &settings.load, &signed, nonce, sequence).await;
    let after = twilio.received();
    let during_load = match sampler {
        Some(s) => Some(s.finish().await),
        None => None,
    };
    let mut died = false;
    for server in &mut servers {
        if !server.alive() {
            eprintln!("replicas bench: {} exited during the run!", server.name);
            died = true;
        }
        server.print_log_tail();
    }
    drop(servers);
    if let (Some(schema), Some(url)) = (&schema, database) {
        let db = DatabaseUrl::new(url).unwrap_or_else(|e| die(&format!("the database URL: {e}")));
        if let Err(e) = PgStore::drop_schema(&db, schema).await {
            eprintln!("replicas bench: cannot drop schema {schema}: {e}");
        }
    }
    KabarRun {
        kind,
        burst,
        timed,
        replies_during: after.messages - before.messages,
        repeated_during: after.repeated - before.repeated,
        died,
        activity: during_burst.zip(during_load),
    }
}

/// `settings.burst` first contacts as fast as they are acknowledged, then the wait for a reply
/// to each.
async fn burst(
    settings: &Settings,
    servers: &[Server],
    signed: &str,
    twilio: &FakeTwilio,
    nonce: u64,
    sequence: &Arc<AtomicU64>,
) -> Burst {
    let urls: Vec<String> = servers.iter().map(Server::webhook_url).collect();
    let load = Load {
        requests: Some(settings.burst),
        ..settings.load.clone()
    };
    let before = twilio.received();
    let started = Instant::now();
    let result = support::run_load(&load, &urls, signed, nonce, sequence).await;
    let ended = Instant::now();
    let by_end = twilio.received();
    let expected = result.ok;
    let mut progress = (by_end.numbers, ended);
    let complete = loop {
        let now = twilio.received();
        if now.numbers - before.numbers >= expected {
            break true;
        }
        if now.numbers != progress.0 {
            progress = (now.numbers, Instant::now());
        }
        if progress.1.elapsed() > BURST_STALL || started.elapsed() > BURST_LIMIT {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let last_at = twilio.received().last_at;
    tokio::time::sleep(LISTEN_AFTER).await;
    let end = twilio.received();
    Burst {
        acked_in: ended - started,
        answered_by_end: by_end.numbers - before.numbers,
        answered: end.numbers - before.numbers,
        messages: end.messages - before.messages,
        repeated: end.repeated - before.repeated,
        all_in: match (complete, last_at) {
            (true, Some(last)) => Some((
                last.saturating_duration_since(started),
                last.saturating_duration_since(ended),
            )),
            _ => None,
        },
        load: result,
    }
}

fn report(settings: &Settings, bare: &Measured, runs: &[KabarRun], unexpected: u64) {
    let load = &settings.load;
    println!();
    println!(
        "replicas: inbound webhook, {} connections, {} s each after {} s warm-up; bursts of {} first contacts{}",
        load.connections,
        trim_float(load.measure.as_secs_f64()),
        trim_float(load.warm_up.as_secs_f64()),
        settings.burst,
        if cfg!(debug_assertions) {
            ", DEBUG build (figures meaningless)"
        } else {
            ""
        },
    );
    if settings.smoke {
        println!(
            "SMOKE RUN (no --bench argument, BENCH_SECONDS unset): figures are not meaningful"
        );
    }
    if settings.database.is_none() {
        println!(
            "PostgreSQL skipped: set BENCH_DATABASE_URL (or KABAR_TEST_DATABASE_URL) to postgres://… to run it"
        );
    }
    let bare_rps = bare.load.throughput();
    let timed_line = |name: &str, m: &Measured| {
        let l = &m.load;
        let ratio = if bare_rps > 0.0 {
            l.throughput() / bare_rps
        } else {
            f64::NAN
        };
        println!(
            "{name:<15}: {:>7.0} req/s  p50 {}  p99 {}  max {}  ratio {ratio:.2}  errors {}  CPU {} cores (client {})  RSS {}",
            l.throughput(),
            ms(l.percentile(0.50)),
            ms(l.percentile(0.99)),
            ms(l.percentile(1.0)),
            l.errors(),
            cores(m.server_cores),
            cores(m.client_cores),
            mib(m.after_rss.as_ref().map(|r| r.current_kb)),
        );
    };
    timed_line("bare axum", bare);
    for r in runs {
        timed_line(&r.kind.name(), &r.timed);
    }
    for r in runs {
        let secs = r.timed.load.measured.as_secs_f64() + load.warm_up.as_secs_f64();
        println!(
            "{:<15}: replies at the fake Twilio during the load (warm-up included): {} ({:.0}/s), numbers answered twice: {}",
            r.kind.name(),
            r.replies_during,
            r.replies_during as f64 / secs,
            r.repeated_during,
        );
    }
    println!();
    println!(
        "answers after a burst of {} first contacts (TPS 100000, so the provider is not the limit):",
        settings.burst
    );
    for r in runs {
        let b = &r.burst;
        let acked = b.load.ok;
        let answers = match b.all_in {
            Some((from_first, from_end)) => format!(
                "all {} answered in {:.2} s: {:.0} answers/s from the first webhook, {:.0}/s from the end of the burst ({} answered by then)",
                b.answered,
                from_first.as_secs_f64(),
                b.answered as f64 / from_first.as_secs_f64().max(1e-9),
                (b.answered - b.answered_by_end) as f64 / from_end.as_secs_f64().max(1e-9),
                b.answered_by_end,
            ),
            None => format!(
                "NOT ALL ANSWERED: {} of {acked} (gave up after {} s, or {} s without a new one)",
                b.answered,
                BURST_LIMIT.as_secs(),
                BURST_STALL.as_secs()
            ),
        };
        println!(
            "{:<15}: {acked} acknowledged in {:.2} s ({:.0} req/s, {} errors); {answers}; {} messages to {} numbers",
            r.kind.name(),
            b.acked_in.as_secs_f64(),
            acked as f64 / b.acked_in.as_secs_f64().max(1e-9),
            b.load.errors(),
            b.messages,
            b.answered,
        );
    }
    for r in runs {
        let Some((burst, load)) = &r.activity else {
            continue;
        };
        println!();
        for (phase, a) in [
            ("the burst, until answered", burst),
            ("the timed load", load),
        ] {
            let waits: Vec<String> = a
                .waits
                .iter()
                .take(5)
                .map(|(what, share)| format!("{:.0}% {what}", share * 100.0))
                .collect();
            println!(
                "{:<15}: PostgreSQL during {phase}: {} cores; kabar's sessions: {}",
                r.kind.name(),
                cores(a.cores),
                waits.join("; "),
            );
        }
    }
    for r in runs {
        let repeated = r.burst.repeated + r.repeated_during;
        if repeated > 0 {
            println!();
            println!(
                "!!! {}: {repeated} NUMBER(S) GOT MORE THAN ONE REPLY ({} in the burst, {} in the timed load): each first contact must be answered once !!!",
                r.kind.name(),
                r.burst.repeated,
                r.repeated_during,
            );
        }
    }
    if unexpected > 0 {
        println!("fake Twilio got {unexpected} request(s) on an unexpected path or method");
    }
    print_errors("bare axum", &bare.load);
    for r in runs {
        print_errors(&r.kind.name(), &r.timed.load);
        print_errors(&format!("{} (burst)", r.kind.name()), &r.burst.load);
    }
}
