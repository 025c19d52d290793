//! What the benches that load `kabar` processes with signed Twilio webhooks share (`inbound`,
//! `replicas`): server child processes (kabar, or the bench executable as a bare axum server),
//! the fake Twilio Messages API, the load client, Twilio's signature, `/proc` readings and the
//! figures' formatting. Each bench includes it with `mod support;` and uses part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
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

pub const ROLE_ENV: &str = "KABAR_BENCH_ROLE";
pub const PORT_ENV: &str = "KABAR_BENCH_PORT";
pub const ACCOUNT_SID: &str = "ACbench";
pub const AUTH_TOKEN: &str = "benchtoken";
pub const OUR_NUMBER: &str = "+6281100000000";
pub const WEBHOOK_PATH: &str = "/webhooks/twilio";

pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The bench's name in its error messages (`inbound bench: …`).
static NAME: OnceLock<&'static str> = OnceLock::new();

/// Names the bench for its messages and, when this executable was started as the bare server
/// (`KABAR_BENCH_ROLE=bare`), runs that server: `Some(exit code)` then.
pub fn start(name: &'static str) -> Option<ExitCode> {
    let _ = NAME.set(name);
    // As `kabar serve` does.
    kabar::ops::tune_allocator();
    (std::env::var(ROLE_ENV).as_deref() == Ok("bare")).then(bare_server)
}

/// The timed webhook load both webhook benches run: `BENCH_CONNECTIONS` (64) connections for
/// `BENCH_SECONDS` (10) after a 2 s warm-up; without `--bench` (as `cargo test --benches`
/// runs them) and without BENCH_SECONDS, a 1 s smoke run. Returns (smoke, connections,
/// measured time, warm-up).
pub fn load_timing() -> (bool, usize, std::time::Duration, std::time::Duration) {
    use std::time::Duration;
    let seconds = env_number::<f64>("BENCH_SECONDS");
    let smoke = !benching() && seconds.is_none();
    let connections = env_number::<usize>("BENCH_CONNECTIONS")
        .unwrap_or(64)
        .max(1);
    if smoke {
        return (
            true,
            connections,
            Duration::from_secs(1),
            Duration::from_millis(500),
        );
    }
    let s = seconds.unwrap_or(10.0);
    if !(s.is_finite() && s > 0.0) {
        die(&format!(
            "BENCH_SECONDS must be a positive number of seconds, not {s}"
        ));
    }
    (
        false,
        connections,
        Duration::from_secs_f64(s),
        Duration::from_secs(2),
    )
}

pub fn die(message: &str) -> ! {
    eprintln!(
        "{} bench: {message}",
        NAME.get().copied().unwrap_or("kabar")
    );
    std::process::exit(2)
}

pub fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => die(&format!("{name}={value:?} is not a number")),
    }
}

/// Whether `cargo bench` started us: it passes `--bench`; `cargo test --benches` does not.
pub fn benching() -> bool {
    std::env::args().skip(1).any(|a| a == "--bench")
}

/// A run's nonce: fresh senders and message ids on every run, even against a reused store.
pub fn nonce() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Checks the bench's signing against Twilio's published test vector.
pub fn check_signature() {
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
}

// ---------------------------------------------------------------------------------------------
// Server processes

pub enum Readiness {
    /// `GET /healthz` answers 200.
    Healthz,
    /// `POST /webhooks/twilio` answers 200 (the bare server has no other route).
    Webhook,
}

/// A server child process; killed when dropped, panics included.
pub struct Server {
    pub name: String,
    pub child: Child,
    pub port: u16,
    pub log: Option<PathBuf>,
}

impl Server {
    pub fn spawn(
        name: impl Into<String>,
        mut command: Command,
        port: u16,
        log: Option<PathBuf>,
    ) -> Server {
        let name = name.into();
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

    /// The bench executable as a bare axum server on a free port, ready.
    pub async fn bare() -> Server {
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
        server
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn webhook_url(&self) -> String {
        format!("{}{WEBHOOK_PATH}", self.base())
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub async fn wait_ready(&mut self, readiness: Readiness) {
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
    pub fn fail(&mut self, message: &str) -> ! {
        self.print_log_tail();
        let _ = self.child.kill();
        let _ = self.child.wait();
        die(message)
    }

    pub fn rss(&self) -> Option<Rss> {
        read_rss(self.child.id())
    }

    pub fn print_log_tail(&self) {
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

/// `kabar serve` on `port`, its data folder `dir/data`, its stderr in `dir/kabar.stderr.log`
/// (returned), replies to the fake Twilio at `twilio` (TPS high enough not to be the limit),
/// signatures checked against `public_url`. The caller may add environment before spawning.
/// Other `KABAR_<SECTION>__<KEY>` variables of the bench's environment reach it;
/// `KABAR_CONFIG` and the bench's own are removed.
pub fn kabar_command(
    port: u16,
    public_url: &str,
    dir: &Path,
    twilio: SocketAddr,
) -> (Command, PathBuf) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let log_path = dir.join("kabar.stderr.log");
    let log = std::fs::File::create(&log_path).expect("cannot create kabar's log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kabar"));
    child.arg("serve");
    for (name, _) in std::env::vars() {
        if name == "KABAR_CONFIG" || name.starts_with("KABAR_BENCH_") {
            child.env_remove(name);
        }
    }
    child
        .current_dir(dir)
        .env("KABAR_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("KABAR_SERVER__PUBLIC_URL", public_url)
        .env("KABAR_SERVER__DATA_DIR", dir.join("data"))
        .env("KABAR_CONTENT__FLOWS", manifest.join("flows"))
        .env("KABAR_CONTENT__LOCALES", manifest.join("locales"))
        .env("KABAR_TWILIO__ACCOUNT_SID", ACCOUNT_SID)
        .env("KABAR_TWILIO__AUTH_TOKEN", AUTH_TOKEN)
        .env("KABAR_TWILIO__FROM", OUR_NUMBER)
        .env("KABAR_TWILIO__API_BASE", format!("http://{twilio}"))
        .env("KABAR_TWILIO__TPS", "100000")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    (child, log_path)
}

pub struct Rss {
    pub current_kb: u64,
    pub peak_kb: u64,
}

pub fn read_rss(pid: u32) -> Option<Rss> {
    Some(Rss {
        current_kb: status_field(pid, "VmRSS:")?,
        peak_kb: status_field(pid, "VmHWM:")?,
    })
}

/// A numeric field of `/proc/<pid>/status` (`VmRSS:` in kB, `Threads:`…).
pub fn status_field(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// USER_HZ, 100 on every Linux we run on.
pub const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime of a process (`self` or a pid), in clock ticks.
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

pub fn free_port() -> u16 {
    let listener =
        TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

// ---------------------------------------------------------------------------------------------
// One timed load on one or more servers, with CPU and memory

pub struct Measured {
    pub load: LoadResult,
    pub idle_rss: Option<u64>,
    pub after_rss: Option<Rss>,
    /// CPU used during the load (warm-up included), in cores: the servers, then this process.
    pub server_cores: Option<f64>,
    pub client_cores: Option<f64>,
    pub threads_after: Option<u64>,
}

/// One second of idle after start-up, RSS, then the load (spread over `servers` in turn, as a
/// load balancer would, signed for `signed_url`), then RSS, threads and CPU use: with several
/// servers, their sums.
pub async fn measure(
    servers: &[Server],
    load: &Load,
    signed_url: &str,
    nonce: u64,
    sequence: &Arc<AtomicU64>,
) -> Measured {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    let sum = |read: &dyn Fn(u32) -> Option<u64>| -> Option<u64> {
        pids.iter().map(|&p| read(p)).sum::<Option<u64>>()
    };
    let idle_rss = sum(&|p| read_rss(p).map(|r| r.current_kb));
    let urls: Vec<String> = servers.iter().map(Server::webhook_url).collect();
    let started = Instant::now();
    let server_cpu = sum(&|p| cpu_ticks(&p.to_string()));
    let client_cpu = cpu_ticks("self");
    let result = run_load(load, &urls, signed_url, nonce, sequence).await;
    let elapsed = started.elapsed().as_secs_f64();
    let cores = |before: Option<u64>, after: Option<u64>| {
        Some(after?.saturating_sub(before?) as f64 / CLOCK_TICKS_PER_SECOND / elapsed)
    };
    let after_rss = pids
        .iter()
        .map(|&p| read_rss(p))
        .collect::<Option<Vec<Rss>>>()
        .map(|all| Rss {
            current_kb: all.iter().map(|r| r.current_kb).sum(),
            peak_kb: all.iter().map(|r| r.peak_kb).sum(),
        });
    Measured {
        server_cores: cores(server_cpu, sum(&|p| cpu_ticks(&p.to_string()))),
        client_cores: cores(client_cpu, cpu_ticks("self")),
        after_rss,
        threads_after: sum(&|p| status_field(p, "Threads:")),
        idle_rss,
        load: result,
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting

pub fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

pub fn ms(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("{:.2} ms", d.as_secs_f64() * 1e3),
        None => "-".into(),
    }
}

pub fn mib(kb: Option<u64>) -> String {
    match kb {
        Some(kb) => format!("{:.1} MiB", kb as f64 / 1024.0),
        None => "unknown".into(),
    }
}

pub fn rss_after(r: &Option<Rss>) -> String {
    match r {
        Some(r) => format!(
            "{} (peak {})",
            mib(Some(r.current_kb)),
            mib(Some(r.peak_kb))
        ),
        None => "unknown".into(),
    }
}

pub fn cores(c: Option<f64>) -> String {
    c.map_or("?".to_string(), |c| format!("{c:.2}"))
}

pub fn trim_float(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// Lists a load's errors under a banner; nothing when there were none.
pub fn print_errors(name: &str, l: &LoadResult) {
    if l.error_kinds.is_empty() && l.warm_up_kinds.is_empty() {
        return;
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
pub struct Drain {
    pub sent: u64,
    pub took: Option<Duration>,
}

pub struct FakeTwilio {
    pub addr: SocketAddr,
    counters: Arc<TwilioCounters>,
}

#[derive(Default)]
struct TwilioCounters {
    sent: AtomicU64,
    unexpected: AtomicU64,
    /// With [`FakeTwilio::start_counting`]: messages per `To` number, and when the last came.
    recipients: Option<Mutex<Recipients>>,
}

#[derive(Default)]
struct Recipients {
    per_number: HashMap<String, u32>,
    last_at: Option<Instant>,
}

/// What the fake Twilio received so far, by recipient.
#[derive(Clone, Copy, Debug, Default)]
pub struct Received {
    pub messages: u64,
    /// Distinct `To` numbers.
    pub numbers: u64,
    /// Numbers that got more than one message.
    pub repeated: u64,
    pub last_at: Option<Instant>,
}

impl FakeTwilio {
    pub async fn start() -> FakeTwilio {
        FakeTwilio::serve(TwilioCounters::default()).await
    }

    /// Also counts messages per `To` number (parsing each body), for [`received`](Self::received).
    pub async fn start_counting() -> FakeTwilio {
        FakeTwilio::serve(TwilioCounters {
            recipients: Some(Mutex::default()),
            ..TwilioCounters::default()
        })
        .await
    }

    async fn serve(counters: TwilioCounters) -> FakeTwilio {
        let counters = Arc::new(counters);
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
                eprintln!(
                    "{} bench: the fake Twilio API failed: {e}",
                    NAME.get().copied().unwrap_or("kabar")
                );
            }
        });
        FakeTwilio { addr, counters }
    }

    pub fn sent(&self) -> u64 {
        self.counters.sent.load(Ordering::Relaxed)
    }

    pub fn unexpected(&self) -> u64 {
        self.counters.unexpected.load(Ordering::Relaxed)
    }

    /// Messages by recipient (started with [`start_counting`](Self::start_counting)).
    pub fn received(&self) -> Received {
        let Some(recipients) = &self.counters.recipients else {
            return Received::default();
        };
        let r = recipients.lock().unwrap_or_else(|e| e.into_inner());
        Received {
            messages: r.per_number.values().map(|&n| u64::from(n)).sum(),
            numbers: r.per_number.len() as u64,
            repeated: r.per_number.values().filter(|&&n| n > 1).count() as u64,
            last_at: r.last_at,
        }
    }

    /// Waits until no message arrived for one second (at most `limit`); returns the count.
    pub async fn wait_quiet(&self, limit: Duration) -> Drain {
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

async fn fake_send(State(counters): State<Arc<TwilioCounters>>, body: Bytes) -> impl IntoResponse {
    if let Some(recipients) = &counters.recipients {
        let to = form_urlencoded::parse(&body)
            .find(|(k, _)| k == "To")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let mut r = recipients.lock().unwrap_or_else(|e| e.into_inner());
        *r.per_number.entry(to).or_default() += 1;
        r.last_at = Some(Instant::now());
    }
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

/// How to load a server.
#[derive(Clone)]
pub struct Load {
    pub connections: usize,
    pub warm_up: Duration,
    pub measure: Duration,
    /// A burst instead: exactly this many requests as fast as answers come back, no warm-up
    /// and no time limit; every answered one counts.
    pub requests: Option<u64>,
    /// Diagnostic: resend one message (same MessageSid and sender): kabar verifies and journals
    /// it, and the intake drops the retries — no new conversation, no reply.
    pub duplicates: bool,
}

#[derive(Default)]
pub struct LoadResult {
    /// Latencies of the successful requests of the timed phase, sorted after merging.
    pub latencies: Vec<Duration>,
    pub ok: u64,
    pub warm_up_ok: u64,
    /// Error description → count; timed phase only.
    pub error_kinds: BTreeMap<String, u64>,
    pub warm_up_errors: u64,
    pub warm_up_kinds: BTreeMap<String, u64>,
    pub measured: Duration,
}

impl LoadResult {
    pub fn errors(&self) -> u64 {
        self.error_kinds.values().sum()
    }

    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.measured.as_secs_f64()
    }

    pub fn percentile(&self, q: f64) -> Option<Duration> {
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

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("cannot build an HTTP client")
}

/// `connections` tasks, each one keep-alive connection per server, send signed inbound
/// messages as fast as answers come back: warm-up, then the timed phase (or, for a burst, a
/// fixed number of requests). A task sends to `urls` in turn, as a round-robin load balancer
/// would; every request is signed for `signed_url` (the public URL the servers are configured
/// with, plus the path). A request counts if it started after the warm-up and finished before
/// the end.
pub async fn run_load(
    load: &Load,
    urls: &[String],
    signed_url: &str,
    nonce: u64,
    sequence: &Arc<AtomicU64>,
) -> LoadResult {
    let urls: Arc<[String]> = Arc::from(urls);
    let signed_url: Arc<str> = Arc::from(signed_url);
    let start = Instant::now();
    let (measure_from, end) = match load.requests {
        Some(_) => (start, None),
        None => {
            let from = start + load.warm_up;
            (from, Some(from + load.measure))
        }
    };
    let issued = Arc::new(AtomicU64::new(0));
    let duplicates = load.duplicates;
    let limit = load.requests;
    let tasks: Vec<_> = (0..load.connections)
        .map(|task| {
            let urls = urls.clone();
            let signed_url = signed_url.clone();
            let sequence = sequence.clone();
            let issued = issued.clone();
            tokio::spawn(async move {
                let client = client();
                let mut result = LoadResult::default();
                let mut turn = task;
                loop {
                    if limit.is_some_and(|l| issued.fetch_add(1, Ordering::Relaxed) >= l) {
                        break;
                    }
                    let n = if duplicates {
                        0
                    } else {
                        sequence.fetch_add(1, Ordering::Relaxed)
                    };
                    let (body, signature) = inbound_request(&signed_url, nonce, n);
                    let url = &urls[turn % urls.len()];
                    turn += 1;
                    let t0 = Instant::now();
                    if end.is_some_and(|end| t0 >= end) {
                        break;
                    }
                    let outcome = send(&client, url, body, signature).await;
                    let t1 = Instant::now();
                    let timed = t0 >= measure_from && end.is_none_or(|end| t1 <= end);
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
    total.measured = match load.requests {
        Some(_) => start.elapsed(),
        None => load.measure,
    };
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

pub fn error_chain(e: &dyn std::error::Error) -> String {
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
pub fn inbound_request(url: &str, nonce: u64, n: u64) -> (String, String) {
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
pub fn twilio_signature(auth_token: &str, url: &str, params: &mut [(&str, &str)]) -> String {
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
