//! A field office's worst week, on the real binary: a full disk, a provider that is down, a
//! browser with a live stream, a stop in each of those states. Every message a webhook
//! acknowledged must be answered in the end, with no manual step beyond the restart a service
//! manager does (`Restart=on-failure`).

use crate::common;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::manifest_dir;

/// The exit code kabar uses to ask its service manager for a restart.
const RESTART_EXIT_CODE: i32 = 75;

/// A `kabar serve` child process with its own port and log file.
struct Kabar {
    child: Child,
    base: String,
    log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Kabar {
    fn start(data: &Path, log: &Path, env: &[(&str, String)]) -> Kabar {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kabar"));
        cmd.arg("serve")
            .env("KABAR_SERVER__DATA_DIR", data)
            .env("KABAR_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("KABAR_SERVER__PUBLIC_URL", &base)
            .env("KABAR_CONTENT__FLOWS", manifest_dir().join("flows"))
            .env("KABAR_CONTENT__LOCALES", manifest_dir().join("locales"))
            .env("RUST_LOG", "info,sled=warn,hyper=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        for (key, value) in env {
            cmd.env(key, value);
        }
        Kabar {
            child: cmd.spawn().expect("kabar starts"),
            base,
            log: log.to_path_buf(),
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_up(&mut self, http: &reqwest::Client) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("kabar exited at start ({status}):\n{}", self.log_text());
            }
            if http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("kabar did not start:\n{}", self.log_text());
    }

    /// A person writes through the web phone simulator; the HTTP status of the webhook.
    async fn send(&self, http: &reqwest::Client, phone: &str, text: &str) -> u16 {
        match http
            .post(format!("{}/simulator/send", self.base))
            .json(&serde_json::json!({"phone": phone, "text": text}))
            .timeout(Duration::from_secs(20))
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            // No answer is not an acknowledgement.
            Err(_) => 0,
        }
    }

    /// Whether `phone` got at least one reply.
    async fn answered(&self, http: &reqwest::Client, phone: &str) -> bool {
        let Ok(response) = http
            .get(format!("{}/simulator/history", self.base))
            .query(&[("phone", phone)])
            .send()
            .await
        else {
            return false;
        };
        let Ok(list) = response.json::<serde_json::Value>().await else {
            return false;
        };
        list.as_array()
            .is_some_and(|l| l.iter().any(|m| m["direction"] == "out"))
    }

    async fn health(&self, http: &reqwest::Client) -> (u16, serde_json::Value) {
        let r = http
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .expect("healthz answers");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    /// Resident memory of the process in MiB (Linux).
    fn rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    }

    /// Sends SIGTERM and waits at most `limit`; how it ended and how long it took. Kills it
    /// (and fails) past the limit.
    fn terminate(mut self, limit: Duration) -> (ExitStatus, Duration) {
        let asked = Instant::now();
        // SAFETY: kill with a pid we spawned and a valid signal number touches no memory.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0, "SIGTERM sent");
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, asked.elapsed());
            }
            if asked.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "kabar did not stop within {limit:?} of SIGTERM:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Kabar {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn journal_segments(data: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(data.join("journal")) {
        Ok(list) => list
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

async fn wait_all_answered(kabar: &Kabar, http: &reqwest::Client, phones: &[String]) {
    let started = Instant::now();
    let mut left: Vec<&String> = phones.iter().collect();
    while !left.is_empty() && started.elapsed() < Duration::from_secs(60) {
        let mut still = Vec::new();
        for phone in left {
            if !kabar.answered(http, phone).await {
                still.push(phone);
            }
        }
        left = still;
        if !left.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert!(
        left.is_empty(),
        "{} acknowledged message(s) never answered, e.g. {:?}:\n{}",
        left.len(),
        left.first(),
        kabar.log_text()
    );
}

fn phones(prefix: u32, n: u32) -> Vec<String> {
    (0..n).map(|i| format!("+99912{prefix:03}{i:04}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_trims_the_journal_and_the_restart_replays_nothing() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("kabar.log");
    let http = reqwest::Client::new();
    let mut kabar = Kabar::start(data.path(), &log, &[]);
    kabar.wait_up(&http).await;
    let people = phones(1, 8);
    for phone in &people {
        assert_eq!(kabar.send(&http, phone, "salam").await, 202);
    }
    wait_all_answered(&kabar, &http, &people).await;
    let (status, took) = kabar.terminate(Duration::from_secs(10));
    assert!(
        status.success(),
        "a clean stop exits 0 ({status}), took {took:?}"
    );
    assert_eq!(
        journal_segments(data.path()),
        Vec::<PathBuf>::new(),
        "nothing left in the journal after a clean stop"
    );
    let before = std::fs::read_to_string(&log).unwrap().len();
    let mut again = Kabar::start(data.path(), &log, &[]);
    again.wait_up(&http).await;
    let (status, _) = again.terminate(Duration::from_secs(10));
    assert!(status.success());
    let restart_log = &std::fs::read_to_string(&log).unwrap()[before..];
    assert!(
        !restart_log.contains("duplicate delivery ignored")
            && !restart_log.contains("journal entries from before the restart"),
        "the restart replayed the journal:\n{restart_log}"
    );
}

/// A provider that refuses connections, and a browser holding a live stream open: SIGTERM
/// still ends the server promptly, and what was acknowledged is answered after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_promptly_with_the_provider_down_and_a_stream_open() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("kabar.log");
    let http = reqwest::Client::new();
    let dead_provider = format!("http://127.0.0.1:{}", free_port());
    let twilio = [
        ("KABAR_TWILIO__ACCOUNT_SID", common::ACCOUNT_SID.to_string()),
        ("KABAR_TWILIO__AUTH_TOKEN", common::AUTH_TOKEN.to_string()),
        ("KABAR_TWILIO__FROM", common::OUR_NUMBER.to_string()),
        ("KABAR_TWILIO__API_BASE", dead_provider),
    ];
    add_staff(data.path());
    let mut kabar = Kabar::start(data.path(), &log, &twilio);
    kabar.wait_up(&http).await;
    // With a provider configured the simulator needs a signed-in user.
    let cookie = login_cookie(&http, &kabar.base, "rahel", STAFF_PASSWORD).await;
    // Two people write by SMS; their replies cannot be sent.
    let people = ["+628121110001", "+628121110002"];
    for (i, phone) in people.iter().enumerate() {
        let params = common::inbound_params(&format!("SM{i:032x}"), phone, "salam");
        let url = format!("{}/webhooks/twilio", kabar.base);
        let signature =
            kabar::channel::twilio::compute_signature(common::AUTH_TOKEN, &url, &params);
        let r = http
            .post(&url)
            .header("X-Twilio-Signature", signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(common::encode_form(&params))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged");
    }
    // A staff browser's live stream stays open.
    let stream = http
        .get(format!("{}/simulator/events", kabar.base))
        .query(&[("phone", "+999121110009")])
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // Let the dispatcher try (and fail) to send.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, took) = kabar.terminate(Duration::from_secs(10));
    assert!(status.success(), "clean exit ({status})");
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    drop(stream);
    // The replies still wait in the outbox after the restart (nothing acknowledged is lost).
    let store = kabar::store::sled::Store::open(data.path()).unwrap();
    let queued: Vec<String> = store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|item| item.to.to_string())
        .collect();
    for phone in people {
        assert!(
            queued.iter().any(|q| q == phone),
            "{phone}'s reply waits in the outbox: {queued:?}"
        );
    }
}

/// A tmpfs mounted for one test, unmounted when dropped (also when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (with the reason printed) when this process may not mount.
    fn mount(size_mib: u32) -> Option<Tmpfs> {
        // SAFETY: geteuid has no arguments and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: mounting a small tmpfs as the data folder needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .status();
        match mounted {
            Ok(s) if s.success() => Some(Tmpfs { dir }),
            other => {
                eprintln!("skipped: cannot mount a tmpfs here ({other:?})");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(self.dir.path()).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// Fills the file system holding `dir` until a write fails for lack of space.
fn fill_disk(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = File::create(&path).unwrap();
    let chunk = vec![0x5a_u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    // The last bytes, down to nothing.
    let small = [0x5a_u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
    path
}

/// The field test: the data folder's disk fills up while messages arrive, then space
/// comes back. No webhook is acknowledged that was not stored; every acknowledged message is
/// answered without a manual step (kabar recovers in place, or exits with code 75 and the
/// restart, as systemd does it, answers them); memory stays bounded; a stop while the disk
/// is full is prompt and the restart answers what was acknowledged before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_nothing_acknowledged_and_kabar_recovers_by_itself() {
    let Some(tmpfs) = Tmpfs::mount(48) else {
        return;
    };
    let data = tmpfs.path().join("data");
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("kabar.log");
    let http = reqwest::Client::new();
    let env = [("KABAR_SERVER__MIN_FREE_MB", "8".to_string())];
    let mut kabar = Kabar::start(&data, &log, &env);
    kabar.wait_up(&http).await;
    let (status, health) = kabar.health(&http).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (200, Some("ok")),
        "{health}"
    );
    assert!(health["disk"]["free_bytes"].as_u64().unwrap() > 8 << 20);

    let mut acknowledged = phones(100, 20);
    for phone in &acknowledged {
        assert_eq!(kabar.send(&http, phone, "salam").await, 202);
    }
    wait_all_answered(&kabar, &http, &acknowledged).await;

    // The disk fills up.
    let filler = fill_disk(tmpfs.path());
    let (_, health) = kabar.health(&http).await;
    assert_eq!(health["disk"]["state"], "low", "{health}");
    assert_ne!(health["status"], "ok", "{health}");
    let mut refused = 0;
    let mut max_rss = kabar.rss_mib();
    for phone in phones(200, 50) {
        match kabar.send(&http, &phone, "salam").await {
            202 => acknowledged.push(phone),
            500..=599 | 0 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
        max_rss = max_rss.max(kabar.rss_mib());
    }
    assert!(refused > 0, "a full disk refuses some webhooks");
    // A while with the disk full: kabar keeps running (or asks for a restart) without growing.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        max_rss = max_rss.max(kabar.rss_mib());
    }

    // Space comes back. kabar recovers in place, or exits 75 and is restarted as systemd
    // would (Restart=on-failure); either way every acknowledged message is answered.
    std::fs::remove_file(&filler).unwrap();
    let started = Instant::now();
    let mut restarts = 0;
    loop {
        if let Some(status) = kabar.child.try_wait().unwrap() {
            assert_eq!(
                status.code(),
                Some(RESTART_EXIT_CODE),
                "kabar asks for a restart with its documented code:\n{}",
                kabar.log_text()
            );
            restarts += 1;
            assert!(restarts <= 2, "restarted too often:\n{}", kabar.log_text());
            kabar = Kabar::start(&data, &log, &env);
            kabar.wait_up(&http).await;
        }
        let mut all = true;
        for phone in &acknowledged {
            if !kabar.answered(&http, phone).await {
                all = false;
                break;
            }
        }
        max_rss = max_rss.max(kabar.rss_mib());
        if all {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "acknowledged messages unanswered 90 s after space came back:\n{}",
            kabar.log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "disk full: {refused} of 50 webhooks refused, {} acknowledged in all, {restarts} restart(s), answered {:?} after space came back, at most {max_rss} MiB",
        acknowledged.len(),
        started.elapsed()
    );
    // Healthy again (the store's own check runs on its next flush: give it a few seconds).
    let mut health = kabar.health(&http).await;
    for _ in 0..40 {
        if health.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        health = kabar.health(&http).await;
    }
    assert_eq!(health.0, 200, "healthy again: {}", health.1);
    assert!(
        max_rss < 400,
        "memory stayed bounded: {max_rss} MiB at most"
    );

    // The disk fills again and the office stops kabar meanwhile: the stop is prompt, and the
    // next start (with space back) answers what was acknowledged.
    let filler = fill_disk(tmpfs.path());
    let mut before_stop = Vec::new();
    for phone in phones(300, 20) {
        if kabar.send(&http, &phone, "salam").await == 202 {
            before_stop.push(phone);
        }
    }
    let (_, took) = kabar.terminate(Duration::from_secs(25));
    assert!(took < Duration::from_secs(25), "stopped in {took:?}");
    std::fs::remove_file(&filler).unwrap();
    let mut kabar = Kabar::start(&data, &log, &env);
    kabar.wait_up(&http).await;
    wait_all_answered(&kabar, &http, &before_stop).await;
    wait_all_answered(&kabar, &http, &acknowledged).await;
    let (status, _) = kabar.terminate(Duration::from_secs(15));
    assert!(status.success(), "clean stop at the end: {status}");
    drop(tmpfs);
}

/// Runs a `kabar` command against `data` (the server stopped); its standard output.
fn kabar_cli(data: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kabar"))
        .args(args)
        .env("KABAR_SERVER__DATA_DIR", data)
        .env("KABAR_CONTENT__FLOWS", manifest_dir().join("flows"))
        .env("KABAR_CONTENT__LOCALES", manifest_dir().join("locales"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kabar {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const STAFF_PASSWORD: &str = "a long enough password";

/// Adds a staff account to a fresh data folder.
fn add_staff(data: &Path) {
    kabar_cli(
        data,
        &[
            "user",
            "add",
            "rahel",
            "--role",
            "staff",
            "--password-stdin",
        ],
        &format!("{STAFF_PASSWORD}\n"),
    );
}

/// Logs in through the login form as a browser does (its CSRF cookie and token), and returns
/// the session cookie.
async fn login_cookie(_: &reqwest::Client, base: &str, name: &str, password: &str) -> String {
    // Its own client: the session cookie is on the login's redirect, which must not be followed.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = http.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie = form
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("the login form's cookie")
        .to_string();
    let html = form.text().await.unwrap();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the login form's token")
        .to_string();
    let login = http
        .post(format!("{base}/login"))
        .header("cookie", login_cookie)
        .form(&[
            ("name", name),
            ("password", password),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("signed in")
        .to_string()
}

/// Logs in as the staff account and fetches a page, as a browser would.
async fn staff_page(kabar: &Kabar, path: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = login_cookie(&http, &kabar.base, "rahel", STAFF_PASSWORD).await;
    http.get(format!("{}{path}", kabar.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_disk_space_is_reported_before_it_runs_out() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("kabar.log");
    add_staff(data.path());
    let http = reqwest::Client::new();
    // A threshold no disk meets: the office is warned.
    let mut kabar = Kabar::start(
        data.path(),
        &log,
        &[("KABAR_SERVER__MIN_FREE_MB", "999999999".to_string())],
    );
    kabar.wait_up(&http).await;
    let (status, health) = kabar.health(&http).await;
    assert_eq!(status, 200, "still working: {health}");
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["disk"]["state"], "low");
    assert!(health["disk"]["free_bytes"].as_u64().unwrap() > 0);
    let metrics = http
        .get(format!("{}/metrics", kabar.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("kabar_disk_low 1"), "{metrics}");
    assert!(metrics.contains("kabar_disk_free_bytes "), "{metrics}");
    let page = staff_page(&kabar, "/canned").await;
    assert!(
        page.contains("almost full"),
        "staff see the warning: {page}"
    );
    let (status, _) = kabar.terminate(Duration::from_secs(10));
    assert!(status.success());

    // With room, no warning.
    let mut kabar = Kabar::start(
        data.path(),
        &log,
        &[("KABAR_SERVER__MIN_FREE_MB", "0".to_string())],
    );
    kabar.wait_up(&http).await;
    let (_, health) = kabar.health(&http).await;
    assert_eq!(health["status"], "ok", "{health}");
    let page = staff_page(&kabar, "/canned").await;
    assert!(
        page.contains("Canned") && !page.contains("almost full"),
        "{page}"
    );
    let (status, _) = kabar.terminate(Duration::from_secs(10));
    assert!(status.success());
}

/// Runs a `kabar` command with `stdin`; its exit success, stdout and stderr.
fn kabar_try(data: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kabar"))
        .args(args)
        .env("KABAR_SERVER__DATA_DIR", data)
        .env("KABAR_CONTENT__FLOWS", manifest_dir().join("flows"))
        .env("KABAR_CONTENT__LOCALES", manifest_dir().join("locales"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn wrote_in(kabar: &Kabar, http: &reqwest::Client, phone: &str, text: &str) -> bool {
    let Ok(r) = http
        .get(format!("{}/simulator/history", kabar.base))
        .query(&[("phone", phone)])
        .send()
        .await
    else {
        return false;
    };
    let list: serde_json::Value = r.json().await.unwrap_or_default();
    list.as_array().is_some_and(|l| {
        l.iter()
            .any(|m| m["direction"] == "in" && m["text"] == text)
    })
}

const PASSPHRASE: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_messages_arrive_restores_every_acknowledged_message() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("kabar.log");
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("office.age");
    kabar_cli(
        data.path(),
        &[
            "user",
            "add",
            "amina",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    let token = kabar_cli(data.path(), &["token", "create", "amina"], "")
        .lines()
        .last()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let mut kabar = Kabar::start(data.path(), &log, &[]);
    kabar.wait_up(&http).await;

    let before = phones(400, 20);
    for phone in &before {
        assert_eq!(kabar.send(&http, phone, "before the backup").await, 202);
    }
    // More keep arriving while the backup runs.
    let sender = {
        let base = kabar.base.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for phone in phones(401, 200) {
                let _ = http
                    .post(format!("{base}/simulator/send"))
                    .json(&serde_json::json!({"phone": phone, "text": "during"}))
                    .send()
                    .await;
            }
        })
    };
    let backup = {
        let (data, file, url, token) = (
            data.path().to_path_buf(),
            file.clone(),
            kabar.base.clone(),
            token.clone(),
        );
        tokio::task::spawn_blocking(move || {
            kabar_try(
                &data,
                &[
                    "backup",
                    file.to_str().unwrap(),
                    "--url",
                    &url,
                    "--token",
                    &token,
                    "--passphrase-stdin",
                ],
                &format!("{PASSPHRASE}\n"),
            )
        })
        .await
        .unwrap()
    };
    assert!(backup.0, "backup through the API: {}", backup.2);
    assert!(file.exists());
    sender.await.unwrap();
    // An API backup needs an admin and a passphrase.
    let refused = http
        .get(format!("{}/api/backup", kabar.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "no passphrase");
    let anonymous = http
        .get(format!("{}/api/backup", kabar.base))
        .header("x-backup-passphrase", PASSPHRASE)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let (status, _) = kabar.terminate(Duration::from_secs(10));
    assert!(status.success());

    // Restore into an empty folder, start there: every message acknowledged before the
    // backup began is in it (and answered).
    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let (ok, _, err) = kabar_try(
        &target,
        &["restore", file.to_str().unwrap(), "--passphrase-stdin"],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(ok, "restore: {err}");
    let mut copy = Kabar::start(&target, &log, &[]);
    copy.wait_up(&http).await;
    let started = Instant::now();
    for phone in &before {
        while !wrote_in(&copy, &http, phone, "before the backup").await {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{phone}'s message is missing from the restored store:\n{}",
                copy.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    wait_all_answered(&copy, &http, &before).await;
    // New messages get new ids (nothing restored is overwritten).
    assert_eq!(copy.send(&http, "+999124020001", "after").await, 202);
    wait_all_answered(&copy, &http, &["+999124020001".to_string()]).await;
    assert!(wrote_in(&copy, &http, &before[0], "before the backup").await);
    let (status, _) = copy.terminate(Duration::from_secs(10));
    assert!(status.success());

    // A folder with data is never overwritten.
    let (ok, _, err) = kabar_try(
        &target,
        &["restore", file.to_str().unwrap(), "--passphrase-stdin"],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(!ok && err.contains("not empty"), "{err}");

    // A wrong passphrase is refused with a clear message, and nothing is written.
    let elsewhere = restored.path().join("wrong");
    let (ok, _, err) = kabar_try(
        &elsewhere,
        &["restore", file.to_str().unwrap(), "--passphrase-stdin"],
        "not the passphrase at all\n",
    );
    assert!(!ok && err.contains("wrong passphrase"), "{err}");
    assert!(!elsewhere.exists(), "nothing restored");

    // A truncated backup is refused, not half-restored.
    let bytes = std::fs::read(&file).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 7] {
        let truncated = backups.path().join("cut.age");
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let into = restored.path().join(format!("cut{cut}"));
        let (ok, _, err) = kabar_try(
            &into,
            &["restore", truncated.to_str().unwrap(), "--passphrase-stdin"],
            &format!("{PASSPHRASE}\n"),
        );
        assert!(!ok && err.contains("incomplete"), "cut at {cut}: {err}");
        assert!(!into.exists(), "nothing restored from a cut file");
    }
    let leftovers: Vec<_> = std::fs::read_dir(restored.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".kabar-restore"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging folders cleaned up: {leftovers:?}"
    );

    // With the server stopped, the command line reads the data folder itself.
    let offline = backups.path().join("offline.age");
    let (ok, _, err) = kabar_try(
        data.path(),
        &["backup", offline.to_str().unwrap(), "--passphrase-stdin"],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(ok, "{err}");
    let again = restored.path().join("offline");
    let (ok, _, err) = kabar_try(
        &again,
        &["restore", offline.to_str().unwrap(), "--passphrase-stdin"],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(ok, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_are_taken_when_due_and_the_oldest_deleted() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("kabar.log");
    let dir = tempfile::tempdir().unwrap();
    // Three old backups (by name) and a leftover of a backup cut short.
    for name in [
        "kabar-20260101-000000.age",
        "kabar-20260102-000000.age",
        "kabar-20260103-000000.age",
        "kabar-20260104-000000.age.partial",
    ] {
        std::fs::write(dir.path().join(name), b"old").unwrap();
    }
    let http = reqwest::Client::new();
    let env = [
        ("KABAR_BACKUP__DIR", dir.path().display().to_string()),
        ("KABAR_BACKUP__EVERY_HOURS", "24".to_string()),
        ("KABAR_BACKUP__KEEP", "2".to_string()),
        ("KABAR_BACKUP__PASSPHRASE", PASSPHRASE.to_string()),
    ];
    let mut kabar = Kabar::start(data.path(), &log, &env);
    kabar.wait_up(&http).await;
    assert_eq!(kabar.send(&http, "+999124100001", "salam").await, 202);
    wait_all_answered(&kabar, &http, &["+999124100001".to_string()]).await;
    let names = || -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    let started = Instant::now();
    // The old ones are overdue: a backup is taken at start, and only `keep` remain.
    // (The cut-short leftover is cleaned up too.)
    let done = |n: &[String]| {
        n.len() == 2
            && n[0] == "kabar-20260103-000000.age"
            && n[1].starts_with("kabar-")
            && n[1].ends_with(".age")
    };
    while !done(&names()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no scheduled backup: {:?}\n{}",
            names(),
            kabar.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = kabar.terminate(Duration::from_secs(10));
    assert!(status.success());
    // It is a real backup: it restores, with the message in it.
    let newest = dir.path().join(&names()[1]);
    let target = tempfile::tempdir().unwrap();
    let target = target.path().join("data");
    let (ok, out, err) = kabar_try(
        &target,
        &["restore", newest.to_str().unwrap(), "--passphrase-stdin"],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("restored"), "{out}");
    let store = kabar::store::sled::Store::open(&target).unwrap();
    let phone = kabar::domain::ContactId::parse("+999124100001").unwrap();
    assert!(
        store
            .history(&phone)
            .unwrap()
            .iter()
            .any(|m| m.text == "salam"),
        "the message is in the scheduled backup"
    );
}

/// The browser's backup page: admins only, CSRF-checked, passphrase typed twice, and the
/// download is an age file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_downloads_a_backup_from_the_browser() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("kabar.log");
    kabar_cli(
        data.path(),
        &[
            "user",
            "add",
            "amina",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &format!("{STAFF_PASSWORD}\n"),
    );
    add_staff(data.path());
    let http = reqwest::Client::new();
    let mut kabar = Kabar::start(data.path(), &log, &[]);
    kabar.wait_up(&http).await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie_of = |name: &'static str| {
        let browser = browser.clone();
        let base = kabar.base.clone();
        async move { login_cookie(&browser, &base, name, STAFF_PASSWORD).await }
    };
    // Staff may not.
    let staff = cookie_of("rahel").await;
    let page = browser
        .get(format!("{}/backup", kabar.base))
        .header("cookie", &staff)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);

    let admin = cookie_of("amina").await;
    let page = browser
        .get(format!("{}/backup", kabar.base))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token")
        .to_string();
    let post = |fields: Vec<(&'static str, String)>| {
        let browser = browser.clone();
        let url = format!("{}/backup", kabar.base);
        let admin = admin.clone();
        async move {
            browser
                .post(url)
                .header("cookie", admin)
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let forged = post(vec![
        ("csrf", "forged".into()),
        ("passphrase", PASSPHRASE.into()),
        ("confirm", PASSPHRASE.into()),
    ])
    .await;
    assert_eq!(forged.status(), 403, "CSRF checked");
    let differ = post(vec![
        ("csrf", csrf.clone()),
        ("passphrase", PASSPHRASE.into()),
        ("confirm", "something else entirely".into()),
    ])
    .await;
    assert_eq!(differ.status(), 400);
    assert!(differ.text().await.unwrap().contains("differ"));
    let download = post(vec![
        ("csrf", csrf.clone()),
        ("passphrase", PASSPHRASE.into()),
        ("confirm", PASSPHRASE.into()),
    ])
    .await;
    assert_eq!(download.status(), 200);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let bytes = download.bytes().await.unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"), "an age file");
    let (status, _) = kabar.terminate(Duration::from_secs(10));
    assert!(status.success());
    // And it restores.
    let file = logs.path().join("browser.age");
    std::fs::write(&file, &bytes).unwrap();
    let target = logs.path().join("restored");
    let (ok, _, err) = kabar_try(
        &target,
        &["restore", file.to_str().unwrap(), "--passphrase-stdin"],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(ok, "{err}");
    let store = kabar::store::sled::Store::open(&target).unwrap();
    assert!(
        store.user("amina").unwrap().is_some(),
        "users are in the backup"
    );
}

/// Two replicas of the real binary on one PostgreSQL database (issue 13): people write
/// through both while one is killed with SIGKILL half-way. Every message either replica
/// acknowledged is answered in the end, by the survivor: it takes over the dead one's people
/// once their leases run out, and the outbox once the dead one's connection (and with it the
/// sender's lock) is gone.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_of_two_replicas_under_load_loses_nothing_acknowledged() {
    let Some(url) = crate::replicas::database_url() else {
        return;
    };
    let store_url = crate::replicas::fresh_schema(&url, "e2e_kill_replica").await;
    let env = [
        ("KABAR_STORE__KIND", "postgres".to_string()),
        ("KABAR_STORE__URL", store_url),
        ("KABAR_SIMULATOR__ENABLED", "true".to_string()),
        ("KABAR_HELPDESK__HOURS", "always".to_string()),
    ];
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = Kabar::start(data_a.path(), &data_a.path().join("log"), &env);
    let mut b = Kabar::start(data_b.path(), &data_b.path().join("log"), &env);
    let http = reqwest::Client::new();
    a.wait_up(&http).await;
    b.wait_up(&http).await;

    const PEOPLE: usize = 120;
    let phone = |i: usize| format!("+9990000{:04}", 3000 + i);
    let mut acknowledged = Vec::new();
    for batch in (0..PEOPLE).collect::<Vec<_>>().chunks(10) {
        if batch[0] == PEOPLE / 2 {
            // SIGKILL, with messages of A's still being answered and sent.
            a.child.kill().unwrap();
            a.child.wait().unwrap();
        }
        let sends = batch.iter().map(|&i| {
            // Alternating while both live; to the survivor after the kill.
            let replica = if i % 2 == 0 && i < PEOPLE / 2 { &a } else { &b };
            let (http, phone) = (&http, phone(i));
            async move { (replica.send(http, &phone, "hello").await, phone) }
        });
        for (status, phone) in futures_util::future::join_all(sends).await {
            if status == 202 {
                acknowledged.push(phone);
            }
        }
    }
    assert!(
        acknowledged.len() >= PEOPLE - 10,
        "only {} of {PEOPLE} acknowledged",
        acknowledged.len()
    );
    let started = Instant::now();
    let mut unanswered = acknowledged.clone();
    while !unanswered.is_empty() {
        let mut still = Vec::new();
        for phone in unanswered {
            if !b.answered(&http, &phone).await {
                still.push(phone);
            }
        }
        unanswered = still;
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{} acknowledged messages never answered after the kill:\n{}",
            unanswered.len(),
            b.log_text()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
