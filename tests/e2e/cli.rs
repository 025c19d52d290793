//! The command line as staff use it: check, user add, token create, and the one-process rule.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::manifest_dir;

fn kabar(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kabar"));
    cmd.args(args)
        .env("KABAR_SERVER__DATA_DIR", data)
        .env("KABAR_CONTENT__FLOWS", manifest_dir().join("flows"))
        .env("KABAR_CONTENT__LOCALES", manifest_dir().join("locales"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("kabar runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_reports_coverage_for_every_locale() {
    let data = tempfile::tempdir().unwrap();
    let out = kabar(data.path(), &["check"], None);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for tag in ["fa-AF", "fa ", "so", "ar", "ti", "en"] {
        assert!(stdout.contains(&format!("  {tag}")), "{tag} in {stdout}");
    }
    assert!(stdout.contains("all reachable"));
}

/// Copies the repository's flows and locales so a test can break them.
fn content_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["flows", "locales"] {
        copy_dir(&manifest_dir().join(sub), &dir.path().join(sub));
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn check_in(content: &Path) -> Output {
    let data = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_kabar"))
        .arg("check")
        .env("KABAR_SERVER__DATA_DIR", data.path())
        .env("KABAR_CONTENT__FLOWS", content.join("flows"))
        .env("KABAR_CONTENT__LOCALES", content.join("locales"))
        .output()
        .unwrap()
}

#[test]
fn check_names_file_line_and_problem() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (file, text to append, expected file in message, expected problem)
        (
            "flows/main.toml",
            "\n[nodes.lost]\nkind = \"say\"\nsay = \"welcome\"\n",
            "main.toml:+2|+3",
            "cannot be reached",
        ),
        (
            "flows/payments.toml",
            "\n[nodes.more]\nkind = \"say\"\nsay = \"payments-info\"\nnext = \"nowhere\"\n",
            "payments.toml:+5",
            "\"nowhere\"",
        ),
        (
            "flows/schooling.toml",
            "\n[nodes.extra]\nkind = \"say\"\nsay = \"no-such-message\"\n",
            "schooling.toml:+4",
            "missing in locale",
        ),
        ("locales/ti/main.ftl", "\nbroken = {\n", "main.ftl", ""),
        (
            "flows/return.toml",
            "\n[nodes.info2]\nkind = \"dance\"\n",
            "return.toml:+2|+3",
            "unknown variant",
        ),
    ];
    for (file, append, want_place, want_problem) in cases {
        let content = content_copy();
        let path = content.path().join(file);
        // "+N": N lines after the end of the original file; a node's problem may point at its
        // [header] or at its first key.
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        let places: Vec<String> = match want_place.split_once(':') {
            Some((name, offsets)) if offsets.starts_with('+') => offsets
                .split('|')
                .map(|n| format!("{name}:{}", lines + n[1..].parse::<usize>().unwrap()))
                .collect(),
            _ => vec![want_place.to_string()],
        };
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(append.as_bytes()).unwrap();
        let out = check_in(content.path());
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{file}: check must fail");
        assert!(
            places.iter().any(|p| stderr.contains(p.as_str())),
            "{file}: {places:?} in {stderr}"
        );
        assert!(
            stderr.contains(want_problem),
            "{file}: {want_problem} in {stderr}"
        );
    }
}

#[test]
fn check_flags_a_message_missing_in_one_locale() {
    let content = content_copy();
    let path = content.path().join("locales/so/main.ftl");
    let kept: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("return-what"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, kept).unwrap();
    let out = check_in(content.path());
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success());
    assert!(all.contains("return-what"), "{all}");
    assert!(all.contains("so"), "{all}");
}

#[test]
fn check_shows_what_an_edited_safeguarding_list_does() {
    // A staff member "tidies" the Somali list down to its first urgent phrase.
    let content = content_copy();
    let path = content.path().join("locales/so/safeguarding.txt");
    let source = std::fs::read_to_string(&path).unwrap();
    let first = source
        .lines()
        .skip_while(|l| l.trim() != "[urgent]")
        .skip(1)
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .unwrap()
        .to_string();
    std::fs::write(&path, format!("[urgent]\n{first}\n")).unwrap();
    let out = check_in(content.path());
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "check must fail: {stdout}");
    let so_row = stdout
        .lines()
        .skip_while(|l| !l.starts_with("safeguarding lists"))
        .find(|l| l.starts_with("  so "))
        .unwrap_or_else(|| panic!("no Somali row in {stdout}"));
    assert!(so_row.contains("BELOW GOAL"), "{so_row}");
    assert!(
        stdout.contains("so missed:"),
        "the misses are listed: {stdout}"
    );
    assert!(stderr.contains("below goal for so"), "{stderr}");
    // A line that cannot be read is reported with its place.
    std::fs::write(&path, "[urgent]\nkufsi\n[soon]\n").unwrap();
    let out = check_in(content.path());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("safeguarding.txt:3: unknown section [soon]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn users_and_tokens_are_created_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let out = kabar(
        data.path(),
        &[
            "user",
            "add",
            "amina",
            "--role",
            "interpreter",
            "--languages",
            "fa-AF,so",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let again = kabar(
        data.path(),
        &[
            "user",
            "add",
            "amina",
            "--role",
            "staff",
            "--password-stdin",
        ],
        Some("another password 123\n"),
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));

    let short = kabar(
        data.path(),
        &["user", "add", "bo", "--role", "staff", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("at least 10"));

    let bad_lang = kabar(
        data.path(),
        &[
            "user",
            "add",
            "cy",
            "--role",
            "interpreter",
            "--languages",
            "xx",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(!bad_lang.status.success());
    assert!(text(&bad_lang.stderr).contains("unknown language"));

    let token = kabar(data.path(), &["token", "create", "amina"], None);
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).lines().last().unwrap().to_string();
    assert!(token.starts_with("kbr_"));

    let nobody = kabar(data.path(), &["token", "create", "nobody"], None);
    assert!(!nobody.status.success());
    assert!(text(&nobody.stderr).contains("no user named"));

    // The token works against the running server; while it runs, the CLI says why it can't write.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_kabar"))
        .arg("serve")
        .env("KABAR_SERVER__DATA_DIR", data.path())
        .env("KABAR_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("KABAR_CONTENT__FLOWS", manifest_dir().join("flows"))
        .env("KABAR_CONTENT__LOCALES", manifest_dir().join("locales"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let result = rt.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let with = http
            .get(format!("{base}/api/tickets"))
            .bearer_auth(&token)
            .send()
            .await
            .map(|r| r.status().as_u16());
        let without = http
            .get(format!("{base}/api/tickets"))
            .send()
            .await
            .map(|r| r.status().as_u16());
        (with, without)
    });
    let locked = kabar(
        data.path(),
        &[
            "user",
            "add",
            "dawit",
            "--role",
            "staff",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(result.0.ok(), Some(200));
    assert_eq!(result.1.ok(), Some(401));
    assert!(!locked.status.success());
    let stderr = text(&locked.stderr);
    assert!(
        stderr.contains("in use by another kabar process"),
        "{stderr}"
    );
    assert!(
        stderr.contains("While the server runs") && stderr.contains("POST /api/users"),
        "says what does the same while it runs: {stderr}"
    );
}

#[test]
fn bad_configuration_stops_with_a_reason() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("kabar.toml");
    std::fs::write(&config, "[server]\nlisten = \"127.0.0.1:0\"\nlistne = 1\n").unwrap();
    let out = kabar(
        data.path(),
        &["--config", config.to_str().unwrap(), "check"],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("listne"),
        "{}",
        text(&out.stderr)
    );
    let missing = kabar(
        data.path(),
        &["--config", "/nonexistent/kabar.toml", "check"],
        None,
    );
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("cannot read config file"));
}

/// `kabar purge --dry-run` says what retention would remove and removes nothing; `kabar purge`
/// removes it (messages older than `[privacy] retain_days`), keeps newer ones, and compacts.
#[test]
fn purge_dry_run_reports_and_purge_removes_what_is_past_retention() {
    use kabar::domain::ContactId;
    use kabar::domain::{Channel, now_ms};
    use kabar::store::NewInbound;
    use kabar::store::sled::{Store, journal::JournalEntry};
    let data = tempfile::tempdir().unwrap();
    let phone = ContactId::parse("+6281200004001").unwrap();
    let day = 24 * 60 * 60 * 1000;
    // sled's id generator jumps ahead at every open; open a few times so the surviving
    // message's id is above what a fresh (compacted) database would give out.
    // sled lets go of its lock a moment after a close: wait for it rather than fail.
    let open = || {
        for _ in 0..100 {
            match Store::open(data.path()) {
                Err(kabar::store::StoreError::Locked(_)) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                other => return other.unwrap(),
            }
        }
        panic!("the data folder stays locked");
    };
    for _ in 0..3 {
        let store = open();
        store.close().unwrap();
    }
    {
        let store = open();
        for (n, age_days) in [(1, 40), (2, 35), (3, 31), (4, 2)] {
            let entry = JournalEntry {
                received_at: now_ms() - age_days * day,
                inbound: NewInbound {
                    profile: Default::default(),
                    channel: Channel::TwilioSms,
                    from: phone.clone(),
                    text: format!("message {n}"),
                    external_id: format!("SMpurge{n}"),
                    media: None,
                    unsupported: None,
                },
            };
            store.record_inbound(&entry).unwrap();
        }
        store.close().unwrap();
    }
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kabar"));
        let out = cmd
            .args(args)
            .env("KABAR_SERVER__DATA_DIR", data.path())
            .env("KABAR_PRIVACY__RETAIN_DAYS", "30")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let said = run(&["purge", "--dry-run"]);
    assert!(
        said.contains("retention 30 days: would remove 3 messages"),
        "{said}"
    );
    let said = run(&["purge"]);
    assert!(said.contains("removed 3 messages"), "{said}");
    assert!(said.contains("compacted"), "{said}");
    let store = open();
    let left = store.history(&phone).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].text, "message 4");
    // The compacted database gives out ids above the old ones: nothing old is overwritten.
    let entry = JournalEntry {
        received_at: now_ms(),
        inbound: NewInbound {
            profile: Default::default(),
            channel: Channel::TwilioSms,
            from: phone.clone(),
            text: "after the compaction".into(),
            external_id: "SMpurge5".into(),
            media: None,
            unsupported: None,
        },
    };
    let outcome = store.record_inbound(&entry).unwrap();
    let kabar::store::InboundOutcome::Stored { message_id, .. } = outcome else {
        panic!("a new message: {outcome:?}");
    };
    assert!(message_id > left[0].id, "{message_id} <= {}", left[0].id);
    let texts: Vec<String> = store
        .history(&phone)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["message 4", "after the compaction"]);
}

#[test]
fn the_directory_imports_with_line_numbers_and_lists_as_typed() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("directory.csv");
    std::fs::write(
        &file,
        "city,kind,name,phone,address,hours\nMakassar,unhcr,UNHCR Makassar,0411-871 234,,\nMedan,embassy,X,1,,\n",
    )
    .unwrap();
    let file_arg = file.to_str().unwrap();
    let refused = kabar(data.path(), &["directory", "import", file_arg], None);
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("line 3: unknown kind"), "{stderr}");
    let listed = kabar(data.path(), &["directory", "list"], None);
    assert!(
        text(&listed.stdout).contains("directory is empty"),
        "nothing half-written"
    );

    let ok = kabar(
        data.path(),
        &["directory", "import", file_arg, "--skip-invalid"],
        None,
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("1 entry imported; skipped 1 invalid row(s)"));
    let listed = kabar(data.path(), &["directory", "list"], None);
    assert!(
        text(&listed.stdout).contains("Makassar,unhcr,UNHCR Makassar,0411-871 234,,"),
        "{}",
        text(&listed.stdout)
    );
}

/// A binary copied to a laptop, or run by systemd from another folder, has its flows and
/// texts built in: before, it stopped at start with "missing locale folder".
#[test]
fn a_binary_started_outside_the_checkout_uses_its_built_in_content() {
    let elsewhere = tempfile::tempdir().unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_kabar"))
        .arg("check")
        .current_dir(elsewhere.path())
        .env_remove("KABAR_CONTENT__FLOWS")
        .env_remove("KABAR_CONTENT__LOCALES")
        .env("KABAR_SERVER__DATA_DIR", elsewhere.path().join("data"))
        .output()
        .unwrap();
    let stdout = text(&check.stdout);
    assert!(check.status.success(), "{stdout}{}", text(&check.stderr));
    assert!(stdout.contains("<built-in>/locales"), "{stdout}");
    assert!(stdout.contains("all reachable"), "{stdout}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_kabar"))
        .arg("serve")
        .current_dir(elsewhere.path())
        .env_remove("KABAR_CONTENT__FLOWS")
        .env_remove("KABAR_CONTENT__LOCALES")
        .env("KABAR_SERVER__DATA_DIR", elsewhere.path().join("data"))
        .env("KABAR_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let healthy = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut s| {
            use std::io::Read;
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            answer.starts_with("HTTP/1.1 200")
        })
    });
    let _ = server.kill();
    let out = server.wait_with_output().unwrap();
    assert!(
        healthy,
        "kabar serve did not become healthy: {}",
        text(&out.stderr)
    );
}
