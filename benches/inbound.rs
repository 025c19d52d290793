//! Inbound webhook benchmark: the full `POST /webhooks/twilio` path of the real `kabar` binary
//! (signature check, parsing, durable store, processor, outbox to a fake Twilio) against a bare
//! axum handler, each in its own process, loaded the same way in the same run. See
//! `benches/README.md`.
//!
//! The same executable plays the bare server when started with `KABAR_BENCH_ROLE=bare`.

mod support;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use support::{
    Drain, FakeTwilio, Load, Measured, Readiness, Server, cores, free_port, kabar_command, measure,
    mib, ms, print_errors, rss_after, trim_float, verdict,
};

/// How long to wait after the load for kabar's outbox to send the last replies.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

const GOAL_RATIO: f64 = 0.25;
const GOAL_P99_MS: f64 = 10.0;
const GOAL_IDLE_RSS_MIB: f64 = 30.0;

fn main() -> ExitCode {
    if let Some(bare) = support::start("inbound") {
        return bare;
    }
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime of the load generator");
    runtime.block_on(run(settings))
}

// ---------------------------------------------------------------------------------------------
// Settings

struct Settings {
    load: Load,
    smoke: bool,
}

impl Settings {
    fn from_env() -> Settings {
        let (smoke, connections, measure, warm_up) = support::load_timing();
        Settings {
            load: Load {
                duplicates: std::env::var("BENCH_DUPLICATES").is_ok_and(|v| v == "1"),
                connections,
                measure,
                warm_up,
                requests: None,
            },
            smoke,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The run

async fn run(settings: Settings) -> ExitCode {
    support::check_signature();
    let twilio = FakeTwilio::start().await;
    let tmp = tempfile::tempdir().expect("cannot create a temporary directory for kabar's data");
    let nonce = support::nonce();
    let sequence = Arc::new(AtomicU64::new(0));

    // Bare axum first, then kabar; never both running at once.
    let bare = {
        let server = Server::bare().await;
        let url = server.webhook_url();
        measure(&[server], &settings.load, &url, nonce, &sequence).await
    };

    let (kabar, replies) = {
        let port = free_port();
        let (child, log_path) = kabar_command(
            port,
            &format!("http://127.0.0.1:{port}"),
            tmp.path(),
            twilio.addr,
        );
        let mut server = Server::spawn("kabar", child, port, Some(log_path));
        server.wait_ready(Readiness::Healthz).await;
        let url = server.webhook_url();
        let before = twilio.sent();
        let mut servers = [server];
        let measured = measure(&servers, &settings.load, &url, nonce, &sequence).await;
        let during = twilio.sent() - before;
        let mut drained = twilio.wait_quiet(DRAIN_LIMIT).await;
        drained.sent -= before;
        let [server] = &mut servers;
        if !server.alive() {
            eprintln!("inbound bench: kabar exited during the run!");
        }
        server.print_log_tail();
        drop(servers);
        (measured, (during, drained))
    };

    report(&settings, &bare, &kabar, replies, twilio.unexpected());
    if bare.load.errors() + kabar.load.errors() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn report(
    settings: &Settings,
    bare: &Measured,
    kabar: &Measured,
    replies: (u64, Drain),
    unexpected: u64,
) {
    let load = &settings.load;
    let secs = load.measure.as_secs_f64();
    println!();
    println!(
        "inbound webhook, {} connections, {} s each after {} s warm-up{}",
        load.connections,
        trim_float(secs),
        trim_float(load.warm_up.as_secs_f64()),
        if cfg!(debug_assertions) {
            ", DEBUG build (figures meaningless)"
        } else {
            ""
        },
    );
    if load.duplicates {
        println!("DUPLICATES (BENCH_DUPLICATES=1): one message resent, kabar only deduplicates it");
    }
    if settings.smoke {
        println!(
            "SMOKE RUN (no --bench argument, BENCH_SECONDS unset): figures are not meaningful"
        );
    }
    for (name, m) in [("bare axum", bare), ("kabar", kabar)] {
        let l = &m.load;
        println!(
            "{name:<12}: {:>7.0} req/s  p50 {}  p90 {}  p99 {}  max {}  errors {}",
            l.throughput(),
            ms(l.percentile(0.50)),
            ms(l.percentile(0.90)),
            ms(l.percentile(0.99)),
            ms(l.percentile(1.0)),
            l.errors(),
        );
    }
    let ratio = if bare.load.throughput() > 0.0 {
        kabar.load.throughput() / bare.load.throughput()
    } else {
        f64::NAN
    };
    let p99 = kabar.load.percentile(0.99).map(|d| d.as_secs_f64() * 1e3);
    println!(
        "ratio kabar/bare throughput: {ratio:.2} (goal >= {GOAL_RATIO}: {})   p99 goal < {GOAL_P99_MS} ms: {}",
        verdict(ratio >= GOAL_RATIO),
        verdict(p99.is_some_and(|p| p < GOAL_P99_MS)),
    );
    let idle = kabar.idle_rss.map(|kb| kb as f64 / 1024.0);
    println!(
        "kabar idle RSS: {} (goal <= {GOAL_IDLE_RSS_MIB} MiB: {})   after load: {}",
        mib(kabar.idle_rss),
        verdict(idle.is_some_and(|m| m <= GOAL_IDLE_RSS_MIB)),
        rss_after(&kabar.after_rss),
    );
    println!(
        "bare  idle RSS: {}   after load: {}",
        mib(bare.idle_rss),
        rss_after(&bare.after_rss),
    );
    for (name, m) in [("bare axum", bare), ("kabar", kabar)] {
        println!(
            "{name:<12}: CPU during load {} cores (load client + fake Twilio: {} cores), {} threads after",
            cores(m.server_cores),
            cores(m.client_cores),
            m.threads_after.map_or("?".to_string(), |t| t.to_string()),
        );
    }
    println!(
        "kabar answered 200 to {} webhooks (warm-up included); replies sent to the fake Twilio: {} by the end of the load, {} {}",
        kabar.load.ok + kabar.load.warm_up_ok,
        replies.0,
        replies.1.sent,
        match replies.1.took {
            Some(t) => format!("once drained ({:.1} s after the load)", t.as_secs_f64()),
            None => format!(
                "after waiting {} s (OUTBOX STILL SENDING)",
                DRAIN_LIMIT.as_secs()
            ),
        },
    );
    if unexpected > 0 {
        println!("fake Twilio got {unexpected} request(s) on an unexpected path or method");
    }
    for (name, m) in [("bare axum", bare), ("kabar", kabar)] {
        print_errors(name, &m.load);
    }
}
