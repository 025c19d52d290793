//! Inbound webhook benchmark: the full `POST /webhooks/twilio` path of the real `kabar` binary
//! (signature check, parsing, durable store, processor, outbox to a fake Twilio) against a bare
//! axum handler, each in its own process, loaded the same way in the same run. See
//! `benches/README.md`.
//!
//! The same executable plays the bare server when started with `KABAR_BENCH_ROLE=bare`.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

const ROLE_ENV: &str = "KABAR_BENCH_ROLE";
const PORT_ENV: &str = "KABAR_BENCH_PORT";
const ACCOUNT_SID: &str = "ACbench";
const AUTH_TOKEN: &str = "benchtoken";
const OUR_NUMBER: &str = "+6281100000000";
const WEBHOOK_PATH: &str = "/webhooks/twilio";

const WARM_UP: Duration = Duration::from_secs(2);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait after the load for kabar's outbox to send the last replies.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

const GOAL_RATIO: f64 = 0.25;
const GOAL_P99_MS: f64 = 10.0;
const GOAL_IDLE_RSS_MIB: f64 = 30.0;

fn main() -> ExitCode {
    // As `kabar serve` does.
    kabar::ops::tune_allocator();
    if std::env::var(ROLE_ENV).as_deref() == Ok("bare") {
        return bare_server();
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
    connections: usize,
    measure: Duration,
    warm_up: Duration,
    smoke: bool,
    /// Diagnostic: resend one message (same MessageSid and sender): kabar verifies and journals
    /// it, and the intake drops the retries — no new conversation, no reply.
    duplicates: bool,
}

impl Settings {
    fn from_env() -> Settings {
        // `cargo bench` passes `--bench`; `cargo test --benches` runs us without it. Without it
        // (and without BENCH_SECONDS) do a short smoke run so test runs stay quick. Every other
        // argument is ignored.
        let benching = std::env::args().skip(1).any(|a| a == "--bench");
        let seconds = env_number::<f64>("BENCH_SECONDS");
        let smoke = !benching && seconds.is_none();
        let connections = env_number::<usize>("BENCH_CONNECTIONS")
            .unwrap_or(64)
            .max(1);
        let (measure, warm_up) = if smoke {
            (Duration::from_secs(1), Duration::from_millis(500))
        } else {
            let s = seconds.unwrap_or(10.0);
            if !(s.is_finite() && s > 0.0) {
                die(&format!(
                    "BENCH_SECONDS must be a positive number of seconds, not {s}"
                ));
            }
            (Duration::from_secs_f64(s), WARM_UP)
        };
        Settings {
            duplicates: std::env::var("BENCH_DUPLICATES").is_ok_and(|v| v == "1"),
            connections,
            measure,
            warm_up,
            smoke,
        }
    }
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => die(&format!("{name}={value:?} is not a number")),
    }
}

fn die(message: &str) -> ! {
    eprintln!("inbound bench: {message}");
    std::process::exit(2)
}

// ---------------------------------------------------------------------------------------------
// The run

async fn run(settings: Settings) -> ExitCode {
    assert_eq!(
        twilio_signature(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &mut [
                ("CallSid", "CA1234567890ABCDE"),
                ("Caller", "+14158675309"),
                ("Digits", "1234"),
                ("From", "+14158675309"),
                ("To", "+18005551212"),
            ],
        ),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        "the bench's Twilio signature does not match Twilio's published test vector"
    );

    let twilio = FakeTwilio::start().await;
    let tmp = tempfile::tempdir().expect("cannot create a temporary directory for kabar's data");
    // Fresh senders and message ids on every run, even against a reused store.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let sequence = Arc::new(AtomicU64::new(0));

    // Bare axum first, then kabar; never both running at once.
    let bare = {
        let port = free_port();
        let mut child =
            Command::new(std::env::current_exe().expect("cannot find the bench executable"));
        child
            .env(ROLE_ENV, "bare")
            .env(PORT_ENV, port.to_string())
            .stdin(Stdio::piped()) // the bare server exits when this pipe closes
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut server = Server::spawn("bare axum", child, port, None);
        server.wait_ready(Readiness::Webhook).await;
        measure(&mut server, &settings, nonce, &sequence).await
    };

    let (kabar, replies) = {
        let port = free_port();
        let data_dir = tmp.path().join("data");
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let log_path = tmp.path().join("kabar.stderr.log");
        let log = std::fs::File::create(&log_path).expect("cannot create kabar's log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kabar"));
        child.arg("serve");
        for (name, _) in std::env::vars() {
            if name == "KABAR_CONFIG" || name.starts_with("KABAR_BENCH_") {
                child.env_remove(name);
            }
        }
        child
            .current_dir(tmp.path())
            .env("KABAR_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "KABAR_SERVER__PUBLIC_URL",
                format!("http://127.0.0.1:{port}"),
            )
            .env("KABAR_SERVER__DATA_DIR", &data_dir)
            .env("KABAR_CONTENT__FLOWS", manifest.join("flows"))
            .env("KABAR_CONTENT__LOCALES", manifest.join("locales"))
            .env("KABAR_TWILIO__ACCOUNT_SID", ACCOUNT_SID)
            .env("KABAR_TWILIO__AUTH_TOKEN", AUTH_TOKEN)
            .env("KABAR_TWILIO__FROM", OUR_NUMBER)
            .env("KABAR_TWILIO__API_BASE", format!("http://{}", twilio.addr))
            .env("KABAR_TWILIO__TPS", "100000")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let mut server = Server::spawn("kabar", child, port, Some(log_path));
        server.wait_ready(Readiness::Healthz).await;
        let before = twilio.sent();
        let measured = measure(&mut server, &settings, nonce, &sequence).await;
        let during = twilio.sent() - before;
        let mut drained = twilio.wait_quiet(DRAIN_LIMIT).await;
        drained.sent -= before;
        if !server.alive() {
            eprintln!("inbound bench: kabar exited during the run!");
        }
        server.print_log_tail();
        drop(server);
        (measured, (during, drained))
    };

    report(&settings, &bare, &kabar, replies, twilio.unexpected());
    if bare.load.errors() + kabar.load.errors() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

struct Measured {
    load: LoadResult,
    idle_rss: Option<u64>,
    after_rss: Option<Rss>,
    /// CPU used during the load (warm-up included), in cores: the server, then this process.
    server_cores: Option<f64>,
    client_cores: Option<f64>,
    threads_after: Option<u64>,
}

/// Idle RSS after one second, then the load, then RSS, threads and CPU use.
async fn measure(
    server: &mut Server,
    settings: &Settings,
    nonce: u64,
    sequence: &Arc<AtomicU64>,
) -> Measured {
    let idle_rss = server.settle_and_read_rss().await;
    let pid = server.child.id();
    let started = Instant::now();
    let (server_cpu, client_cpu) = (cpu_ticks(&pid.to_string()), cpu_ticks("self"));
    let load = run_load(settings, &server.webhook_url(), nonce, sequence).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cores = |before: Option<u64>, after: Option<u64>| {
        Some(after?.saturating_sub(before?) as f64 / CLOCK_TICKS_PER_SECOND / elapsed)
    };
    Measured {
        server_cores: cores(server_cpu, cpu_ticks(&pid.to_string())),
        client_cores: cores(client_cpu, cpu_ticks("self")),
        after_rss: server.rss(),
        threads_after: status_field(pid, "Threads:"),
        idle_rss,
        load,
    }
}

/// USER_HZ, 100 on every Linux we run on.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime of a process (`self` or a pid), in clock ticks.
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn report(
    settings: &Settings,
    bare: &Measured,
    kabar: &Measured,
    replies: (u64, Drain),
    unexpected: u64,
) {
    let secs = settings.measure.as_secs_f64();
    println!();
    println!(
        "inbound webhook, {} connections, {} s each after {} s warm-up{}",
        settings.connections,
        trim_float(secs),
        trim_float(settings.warm_up.as_secs_f64()),
        if cfg!(debug_assertions) {
            ", DEBUG build (figures meaningless)"
        } else {
            ""
        },
    );
    if settings.duplicates {
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
        let l = &m.load;
        if l.error_kinds.is_empty() && l.warm_up_kinds.is_empty() {
            continue;
        }
        println!();
        println!(
            "!!! {name}: {} ERRORS in the timed run, {} during warm-up — these figures are not clean !!!",
            l.errors(),
            l.warm_up_errors
        );
        for (kind, count) in &l.error_kinds {
            println!("    {count:>8} × {kind}");
        }
        for (kind, count) in &l.warm_up_kinds {
            println!("    {count:>8} × (warm-up) {kind}");
        }
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

fn ms(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("{:.2} ms", d.as_secs_f64() * 1e3),
        None => "-".into(),
    }
}

fn mib(kb: Option<u64>) -> String {
    match kb {
        Some(kb) => format!("{:.1} MiB", kb as f64 / 1024.0),
        None => "unknown".into(),
    }
}

fn rss_after(r: &Option<Rss>) -> String {
    match r {
        Some(r) => format!(
            "{} (peak {})",
            mib(Some(r.current_kb)),
            mib(Some(r.peak_kb))
        ),
        None => "unknown".into(),
    }
}

fn cores(c: Option<f64>) -> String {
    c.map_or("?".to_string(), |c| format!("{c:.2}"))
}

fn trim_float(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

// ---------------------------------------------------------------------------------------------
// Server processes

enum Readiness {
    /// `GET /healthz` answers 200.
    Healthz,
    /// `POST /webhooks/twilio` answers 200 (the bare server has no other route).
    Webhook,
}

/// A server child process; killed when dropped, panics included.
struct Server {
    name: &'static str,
    child: Child,
    port: u16,
    log: Option<PathBuf>,
}

impl Server {
    fn spawn(name: &'static str, mut command: Command, port: u16, log: Option<PathBuf>) -> Server {
        let child = command.spawn().unwrap_or_else(|e| {
            die(&format!(
                "cannot start {name} ({:?}): {e}",
                command.get_program()
            ))
        });
        Server {
            name,
            child,
            port,
            log,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn webhook_url(&self) -> String {
        format!("{}{WEBHOOK_PATH}", self.base())
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    async fn wait_ready(&mut self, readiness: Readiness) {
        let client = client();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.fail(&format!(
                    "{} exited before it was ready ({status})",
                    self.name
                ));
            }
            let request = match readiness {
                Readiness::Healthz => client.get(format!("{}/healthz", self.base())),
                Readiness::Webhook => client.post(self.webhook_url()).body(""),
            };
            let last = match request.timeout(Duration::from_secs(2)).send().await {
                Ok(r) if r.status() == StatusCode::OK => return,
                Ok(r) => format!("HTTP {}", r.status()),
                Err(e) => error_chain(&e),
            };
            if started.elapsed() > STARTUP_TIMEOUT {
                self.fail(&format!(
                    "{} was not ready within {} s (last: {last})",
                    self.name,
                    STARTUP_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Shows the server's log, stops it and exits (`exit` would skip `Drop`).
    fn fail(&mut self, message: &str) -> ! {
        self.print_log_tail();
        let _ = self.child.kill();
        let _ = self.child.wait();
        die(message)
    }

    /// One second of idle after start-up, then VmRSS in kB.
    async fn settle_and_read_rss(&mut self) -> Option<u64> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.rss().map(|r| r.current_kb)
    }

    fn rss(&self) -> Option<Rss> {
        read_rss(self.child.id())
    }

    fn print_log_tail(&self) {
        let Some(path) = &self.log else { return };
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            return;
        }
        eprintln!(
            "--- {} stderr: {} line(s), last ones:",
            self.name,
            lines.len()
        );
        for line in &lines[lines.len().saturating_sub(15)..] {
            eprintln!("    {line}");
        }
        eprintln!("---");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Rss {
    current_kb: u64,
    peak_kb: u64,
}

fn read_rss(pid: u32) -> Option<Rss> {
    Some(Rss {
        current_kb: status_field(pid, "VmRSS:")?,
        peak_kb: status_field(pid, "VmHWM:")?,
    })
}

/// A numeric field of `/proc/<pid>/status` (`VmRSS:` in kB, `Threads:`…).
fn status_field(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn free_port() -> u16 {
    let listener =
        TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

// ---------------------------------------------------------------------------------------------
// The bare axum server (child role)

fn bare_server() -> ExitCode {
    let port: u16 = match std::env::var(PORT_ENV).ok().and_then(|p| p.parse().ok()) {
        Some(p) => p,
        None => die(&format!("{PORT_ENV} must be set to a port number")),
    };
    // Exit when the parent goes away (it holds our stdin open), so no server is left behind.
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while let Ok(n) = stdin.read(&mut sink) {
            if n == 0 {
                break;
            }
        }
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot start the bare server's tokio runtime");
    runtime.block_on(async move {
        let app = Router::new().route(WEBHOOK_PATH, post(bare_webhook));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| {
                die(&format!(
                    "bare server cannot listen on 127.0.0.1:{port}: {e}"
                ))
            });
        if let Err(e) = axum::serve(listener, app).await {
            die(&format!("bare server failed: {e}"));
        }
    });
    ExitCode::SUCCESS
}

async fn bare_webhook(_body: Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/xml")], "<Response/>")
}

// ---------------------------------------------------------------------------------------------
// Fake Twilio Messages API (in this process)

/// Messages sent to the fake Twilio once the outbox went quiet, and how long after the load
/// that took (None: still sending when the bench gave up waiting).
struct Drain {
    sent: u64,
    took: Option<Duration>,
}

struct FakeTwilio {
    addr: SocketAddr,
    counters: Arc<TwilioCounters>,
}

#[derive(Default)]
struct TwilioCounters {
    sent: AtomicU64,
    unexpected: AtomicU64,
}

impl FakeTwilio {
    async fn start() -> FakeTwilio {
        let counters = Arc::new(TwilioCounters::default());
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(fake_send))
            .fallback(fake_unexpected)
            .with_state(counters.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("cannot bind the fake Twilio API on 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("inbound bench: the fake Twilio API failed: {e}");
            }
        });
        FakeTwilio { addr, counters }
    }

    fn sent(&self) -> u64 {
        self.counters.sent.load(Ordering::Relaxed)
    }

    fn unexpected(&self) -> u64 {
        self.counters.unexpected.load(Ordering::Relaxed)
    }

    /// Waits until no message arrived for one second (at most `limit`); returns the count.
    async fn wait_quiet(&self, limit: Duration) -> Drain {
        let started = Instant::now();
        let mut last = self.sent();
        let mut last_change = started;
        loop {
            if last_change.elapsed() >= Duration::from_secs(1) {
                return Drain {
                    sent: last,
                    took: Some(last_change - started),
                };
            }
            if started.elapsed() >= limit {
                return Drain {
                    sent: last,
                    took: None,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.sent();
            if now != last {
                last = now;
                last_change = Instant::now();
            }
        }
    }
}

async fn fake_send(State(counters): State<Arc<TwilioCounters>>, _body: Bytes) -> impl IntoResponse {
    let n = counters.sent.fetch_add(1, Ordering::Relaxed) + 1;
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"sid":"SM{n:032x}","status":"queued"}}"#),
    )
}

async fn fake_unexpected(State(counters): State<Arc<TwilioCounters>>) -> impl IntoResponse {
    counters.unexpected.fetch_add(1, Ordering::Relaxed);
    StatusCode::NOT_FOUND
}

// ---------------------------------------------------------------------------------------------
// Load generation

#[derive(Default)]
struct LoadResult {
    /// Latencies of the successful requests of the timed phase, sorted after merging.
    latencies: Vec<Duration>,
    ok: u64,
    warm_up_ok: u64,
    /// Error description → count; timed phase only.
    error_kinds: BTreeMap<String, u64>,
    warm_up_errors: u64,
    warm_up_kinds: BTreeMap<String, u64>,
    measured: Duration,
}

impl LoadResult {
    fn errors(&self) -> u64 {
        self.error_kinds.values().sum()
    }

    fn throughput(&self) -> f64 {
        self.ok as f64 / self.measured.as_secs_f64()
    }

    fn percentile(&self, q: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let rank =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        Some(self.latencies[rank - 1])
    }

    fn merge(&mut self, other: LoadResult) {
        self.latencies.extend(other.latencies);
        self.ok += other.ok;
        self.warm_up_ok += other.warm_up_ok;
        self.warm_up_errors += other.warm_up_errors;
        for (kind, n) in other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += n;
        }
        for (kind, n) in other.warm_up_kinds {
            *self.warm_up_kinds.entry(kind).or_default() += n;
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("cannot build an HTTP client")
}

/// `connections` tasks, each one keep-alive connection, send signed inbound messages as fast as
/// answers come back: warm-up, then the timed phase. A request counts if it started after the
/// warm-up and finished before the end.
async fn run_load(
    settings: &Settings,
    url: &str,
    nonce: u64,
    sequence: &Arc<AtomicU64>,
) -> LoadResult {
    let url: Arc<str> = Arc::from(url);
    let start = Instant::now();
    let measure_from = start + settings.warm_up;
    let end = measure_from + settings.measure;
    let duplicates = settings.duplicates;
    let tasks: Vec<_> = (0..settings.connections)
        .map(|_| {
            let url = url.clone();
            let sequence = sequence.clone();
            tokio::spawn(async move {
                let client = client();
                let mut result = LoadResult::default();
                loop {
                    let n = if duplicates {
                        0
                    } else {
                        sequence.fetch_add(1, Ordering::Relaxed)
                    };
                    let (body, signature) = inbound_request(&url, nonce, n);
                    let t0 = Instant::now();
                    if t0 >= end {
                        break;
                    }
                    let outcome = send(&client, &url, body, signature).await;
                    let t1 = Instant::now();
                    let timed = t0 >= measure_from && t1 <= end;
                    match outcome {
                        Ok(()) if timed => {
                            result.ok += 1;
                            result.latencies.push(t1 - t0);
                        }
                        Ok(()) => {
                            if t0 < measure_from {
                                result.warm_up_ok += 1;
                            }
                        }
                        Err((kind, transport)) => {
                            if t0 < measure_from {
                                result.warm_up_errors += 1;
                                *result.warm_up_kinds.entry(kind).or_default() += 1;
                            } else {
                                *result.error_kinds.entry(kind).or_default() += 1;
                            }
                            if transport {
                                // The server may be gone: don't spin.
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                        }
                    }
                }
                result
            })
        })
        .collect();
    let mut total = LoadResult::default();
    for task in tasks {
        total.merge(task.await.expect("a load task panicked"));
    }
    total.latencies.sort_unstable();
    total.measured = settings.measure;
    total
}

/// Sends one request and reads the whole answer. Err((description, transport error?)).
async fn send(
    client: &reqwest::Client,
    url: &str,
    body: String,
    signature: String,
) -> Result<(), (String, bool)> {
    let response = client
        .post(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| (format!("transport: {}", error_chain(&e)), true))?;
    let status = response.status();
    match response.bytes().await {
        Ok(_) if status == StatusCode::OK => Ok(()),
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let text: String = text.trim().chars().take(200).collect();
            Err((format!("HTTP {status}: {text:?}"), false))
        }
        Err(e) => Err((
            format!("HTTP {status}, reading the body: {}", error_chain(&e)),
            true,
        )),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A realistic Twilio inbound SMS: unique MessageSid, a distinct sender per request, signed over
/// `url` (the public URL kabar is configured with, plus the path).
fn inbound_request(url: &str, nonce: u64, n: u64) -> (String, String) {
    let message_sid = format!("SM{nonce:016x}{n:016x}");
    let from = format!("+62812{:08}", n % 100_000_000);
    let signature = twilio_signature(
        AUTH_TOKEN,
        url,
        &mut [
            ("MessageSid", &message_sid),
            ("AccountSid", ACCOUNT_SID),
            ("From", &from),
            ("To", OUR_NUMBER),
            ("Body", "1"),
            ("NumMedia", "0"),
        ],
    );
    // The only characters needing escapes here are the '+' of the phone numbers.
    let body = format!(
        "MessageSid={message_sid}&AccountSid={ACCOUNT_SID}&From={}&To={}&Body=1&NumMedia=0",
        from.replace('+', "%2B"),
        OUR_NUMBER.replace('+', "%2B"),
    );
    (body, signature)
}

/// base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + value2 …)), params sorted.
fn twilio_signature(auth_token: &str, url: &str, params: &mut [(&str, &str)]) -> String {
    params.sort_unstable();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in params.iter() {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
