//! The `kabar` command line.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kabar::config::Config;
use kabar::domain::{Role, User, now_ms};
use kabar::i18n::Lang;
use kabar::store::Store;
use kabar::web::{auth, users};

#[derive(Parser)]
#[command(
    name = "kabar",
    version,
    about = "SMS and WhatsApp helpdesk for refugees, in their own language"
)]
struct Cli {
    /// Configuration file (TOML). Without it, the embedded default: data in ./data, listening
    /// on 127.0.0.1:8080, simulator on. Every key can be overridden as KABAR_<SECTION>__<KEY>.
    #[arg(long, global = true, env = "KABAR_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Validate flows and locales; print per-locale coverage.
    Check,
    /// Manage staff and interpreter accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import contacts staff keep.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// Useful contacts per city (UNHCR, IOM, clinics, legal aid, police) the flows show people.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// The payment schedule the payment flow reads (next date per city).
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
    /// Retention: remove messages and media older than [privacy] retain_days and anonymise
    /// tickets closed before then (the server also does this daily). Run while stopped.
    Purge {
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Rewrite the database with only its live data, so erased and purged messages are gone
    /// from the disk (sled keeps removed values in old pages). Run while the server is stopped;
    /// the server also does it at start-up after an erasure or purge.
    Compact,
    /// Write an encrypted backup to FILE: from the running server through its API (--url and
    /// an admin's --token), or straight from the data folder when the server is stopped.
    Backup {
        file: PathBuf,
        /// The running server, e.g. http://127.0.0.1:8080 (default: the data folder when it is
        /// not in use, else `server.listen`).
        #[arg(long)]
        url: Option<String>,
        /// An admin's API token (`kabar token create`), for a running server.
        #[arg(long, env = "KABAR_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Read the passphrase from standard input (required: never on the command line).
        #[arg(long, required = true)]
        passphrase_stdin: bool,
    },
    /// Restore a backup into an empty data folder (the server stopped); refuses a folder that
    /// has data.
    Restore {
        file: PathBuf,
        /// Read the passphrase from standard input (required: never on the command line).
        #[arg(long, required = true)]
        passphrase_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// Import a CSV with the columns phone,language,city,case_id,name,tags (all but phone optional; tags separated by ;).
    /// Every row is checked first; nothing is imported if any row is invalid.
    Import {
        file: PathBuf,
        /// Import the valid rows and report the invalid ones instead of importing nothing.
        #[arg(long)]
        skip_invalid: bool,
    },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Import a CSV with the columns city,kind,name,phone,address,hours (kind: unhcr, iom,
    /// clinic, legal or police; a phone or an address is needed). Entries with the same city,
    /// kind and name are updated, others added.
    Import {
        file: PathBuf,
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Print the directory as CSV.
    List,
}

#[derive(Subcommand)]
enum PaymentsCommand {
    /// Import a CSV with the columns city,next_payment_date[,note]; dates as 2026-12-05 or
    /// 05/12/2026. Cities already in the schedule are updated, others added.
    Import {
        file: PathBuf,
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Print the schedule.
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password is read from standard input.
    Add {
        name: String,
        #[arg(long)]
        role: Role,
        /// Languages the user works in, comma-separated (e.g. fa-AF,so).
        #[arg(long, value_delimiter = ',')]
        languages: Vec<Lang>,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API bearer token for a user; prints the token on the last line.
    Create { name: String },
}

fn main() -> ExitCode {
    kabar::ops::tune_allocator();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sled=warn,hyper=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kabar: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => match serve(config) {
            Err(e)
                if e.downcast_ref::<kabar::RunError>()
                    .is_some_and(|e| matches!(e, kabar::RunError::StoreBroken(_))) =>
            {
                eprintln!("kabar: {e}");
                // EX_TEMPFAIL: the service manager restarts kabar (see the systemd unit).
                return ExitCode::from(RESTART_EXIT_CODE);
            }
            other => other,
        },
        Command::Check => check(&config),
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    languages,
                    password_stdin: _,
                },
        } => add_user(&config, name, role, languages),
        Command::Token {
            command: TokenCommand::Create { name },
        } => create_token(&config, &name),
        Command::Contacts {
            command: ContactsCommand::Import { file, skip_invalid },
        } => import_contacts(&config, &file, skip_invalid),
        Command::Payments {
            command: PaymentsCommand::Import { file, skip_invalid },
        } => import_payments(&config, &file, skip_invalid),
        Command::Payments {
            command: PaymentsCommand::List,
        } => list_payments(&config),
        Command::Purge { dry_run } => purge(&config, dry_run),
        Command::Compact => compact(&config),
        Command::Directory {
            command: DirectoryCommand::Import { file, skip_invalid },
        } => import_directory(&config, &file, skip_invalid),
        Command::Directory {
            command: DirectoryCommand::List,
        } => list_directory(&config),
        Command::Backup {
            file, url, token, ..
        } => backup(&config, &file, url, token),
        Command::Restore { file, .. } => restore(&config, &file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kabar: {e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// The exit code when the store cannot continue and a restart is the way back (EX_TEMPFAIL).
const RESTART_EXIT_CODE: u8 = 75;
/// The longest a stop may take once asked for. Past it kabar exits anyway: every webhook it
/// acknowledged is in the intake journal, which the next start replays.
const STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

fn serve(config: Config) -> CliResult {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listen = config.server.listen;
        let app = kabar::App::build(config)?;
        first_admin(&app.store)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let simulator = app.config.simulator.enabled;
        println!("kabar listening on http://{listen}");
        if simulator {
            println!("phone simulator: http://{listen}/simulator");
        }
        app.run(listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// On a fresh store, creates `admin` with a random password and prints it once.
fn first_admin(store: &Store) -> CliResult {
    if !store.users()?.is_empty() {
        return Ok(());
    }
    let password = auth::new_token().replace("kbr_", "");
    let user = User {
        name: "admin".into(),
        role: Role::Admin,
        languages: Lang::ALL.to_vec(),
        password_hash: auth::hash_password(&password).map_err(|e| e.to_string())?,
        created_at: now_ms(),
        disabled: false,
    };
    store.add_user(&user)?;
    store.flush()?;
    println!("first login: user admin, password {password}");
    println!(
        "(shown once; add more users at /admin/users, or with `kabar user add` while stopped)"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    // A watchdog outside the runtime, so that nothing the server waits on (a broken store,
    // a provider that does not answer, a stuck client) can keep it from stopping.
    let watchdog = std::thread::Builder::new()
        .name("kabar-stop-watchdog".into())
        .spawn(|| {
            std::thread::sleep(STOP_DEADLINE);
            eprintln!(
                "kabar: the stop took longer than {}s; exiting now (acknowledged messages are in the intake journal and are answered at the next start)",
                STOP_DEADLINE.as_secs()
            );
            std::process::exit(1);
        });
    if watchdog.is_err() {
        eprintln!("kabar: cannot start the stop watchdog");
    }
}

fn check(config: &Config) -> CliResult {
    println!(
        "content: flows from {}, locales from {}",
        config
            .content
            .flows_dir()
            .path_of(std::path::Path::new(""))
            .display(),
        config
            .content
            .locales_dir()
            .path_of(std::path::Path::new(""))
            .display()
    );
    let localizer = match kabar::i18n::Localizer::load_from(&config.content.locales_dir()) {
        Ok(l) => l,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            return Err(format!("{} problem(s) in locales", errors.len()).into());
        }
    };
    let reference = localizer.ids(Lang::English);
    println!(
        "locale coverage (against en, {} messages):",
        reference.len()
    );
    let mut missing_total = 0;
    for lang in Lang::ALL {
        let ids = localizer.ids(lang);
        let missing: Vec<_> = reference.difference(&ids).collect();
        let extra: Vec<_> = ids.difference(&reference).collect();
        missing_total += missing.len();
        println!(
            "  {:<6} {:>3}/{} {}{}",
            lang.tag(),
            reference.len() - missing.len(),
            reference.len(),
            if missing.is_empty() {
                String::new()
            } else {
                format!(
                    "missing: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            if extra.is_empty() {
                String::new()
            } else {
                format!(
                    " not in en: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    match kabar::flow::load::load_from(&config.content.flows_dir(), &localizer) {
        Ok(flows) => {
            let nodes: usize = flows.flows.values().map(|f| f.nodes.len()).sum();
            println!(
                "flows: {} flows, {nodes} nodes, all reachable",
                flows.flows.len()
            );
        }
        Err(e) => {
            for p in &e.0 {
                eprintln!("{p}");
            }
            return Err(format!("{} problem(s) in flows", e.0.len()).into());
        }
    }
    if missing_total > 0 {
        return Err(format!("{missing_total} message(s) missing in some locale").into());
    }
    check_safeguarding(&localizer)?;
    println!("ok");
    Ok(())
}

/// What the safeguarding lists in use do on the sample messages shipped with kabar, so that
/// staff who edit a list see what they changed.
fn check_safeguarding(localizer: &kabar::i18n::Localizer) -> CliResult {
    use kabar::i18n::safeguarding::{builtin_samples, score, table};
    let mut scores = Vec::new();
    for (lang, samples) in builtin_samples() {
        let samples = samples.map_err(|e| format!("safeguarding samples: {e}"))?;
        scores.push(score(localizer.safeguarding_lists(), lang, &samples));
    }
    print!("{}", table(&scores));
    let below: Vec<&str> = scores
        .iter()
        .filter(|s| !s.meets_goals())
        .map(|s| s.lang.tag())
        .collect();
    if below.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "safeguarding lists below goal for {}: see the misses and false alarms above",
            below.join(", ")
        )
        .into())
    }
}

fn add_user(config: &Config, name: String, role: Role, languages: Vec<Lang>) -> CliResult {
    users::check_user_name(&name)?;
    users::check_languages(role, &languages)
        .map_err(|_| "an interpreter needs --languages (e.g. --languages fa-AF,fa)")?;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\n', '\r']);
    users::check_password(password)?;
    let store = open_store(
        config,
        "add the user on the page /admin/users (as an admin), or with \
         POST /api/users {\"name\", \"role\", \"languages\": [..], \"password\"}",
    )?;
    let user = User {
        name: name.clone(),
        role,
        languages,
        password_hash: auth::hash_password(password).map_err(|e| e.to_string())?,
        created_at: now_ms(),
        disabled: false,
    };
    store.create_user(&user, CLI_AUDIT_NAME)?;
    store.flush()?;
    println!("user {name} added");
    Ok(())
}

fn create_token(config: &Config, name: &str) -> CliResult {
    let store = open_store(
        config,
        &format!(
            "create the token on the page /admin/tokens, or with \
             POST /api/tokens {{\"user\": \"{name}\"}} (admins, or the user for themselves)"
        ),
    )?;
    if store.user(name)?.is_none() {
        return Err(format!("no user named {name:?}; add one with `kabar user add`").into());
    }
    let token = auth::new_token();
    let record = store.create_token(&auth::token_hash(&token), name, CLI_AUDIT_NAME)?;
    store.flush()?;
    eprintln!(
        "token {} for {name} (shown once; keep it secret; revoke it with DELETE /api/tokens/{}):",
        record.id, record.id
    );
    println!("{token}");
    Ok(())
}

/// Who the audit trail names for changes made on the command line.
const CLI_AUDIT_NAME: &str = "cli";

/// Opens the store; while a server holds it, says exactly what does the same job there.
fn open_store(config: &Config, while_running: &str) -> Result<Store, Box<dyn std::error::Error>> {
    match Store::open(&config.server.data_dir) {
        Ok(store) => Ok(store),
        Err(e @ kabar::store::StoreError::Locked(_)) => {
            Err(format!("{e}.\nWhile the server runs, {while_running}.").into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Prints row errors; refuses the import when there are any, unless `skip_invalid`.
fn check_rows(errors: &[kabar::import::RowError], skip_invalid: bool) -> CliResult {
    const SHOWN: usize = 100;
    for e in errors.iter().take(SHOWN) {
        eprintln!("{e}");
    }
    if errors.len() > SHOWN {
        eprintln!("… and {} more", errors.len() - SHOWN);
    }
    if !errors.is_empty() && !skip_invalid {
        return Err(format!(
            "{} invalid row(s); nothing was imported. Fix them, or use --skip-invalid to import the valid rows",
            errors.len()
        )
        .into());
    }
    Ok(())
}

fn open_csv(file: &std::path::Path) -> Result<std::fs::File, Box<dyn std::error::Error>> {
    std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()).into())
}

fn import_contacts(config: &Config, file: &std::path::Path, skip_invalid: bool) -> CliResult {
    let parsed = kabar::import::parse_contacts(std::io::BufReader::new(open_csv(file)?))?;
    check_rows(&parsed.errors, skip_invalid)?;
    let store = open_store(
        config,
        "import the file on the page /staff/contacts, or send it with \
         POST /api/contacts/import (the CSV as the body)",
    )?;
    let total = parsed.rows.len();
    // Progress shows on large files.
    let new = kabar::import::write_contacts(&store, &parsed.rows, |done, total| {
        if total > kabar::import::CONTACTS_BATCH {
            eprintln!("imported {done}/{total}");
        }
    })?;
    store.flush()?;
    println!(
        "imported {total} contact(s): {new} new, {} updated{}",
        total - new,
        if parsed.errors.is_empty() {
            String::new()
        } else {
            format!("; skipped {} invalid row(s)", parsed.errors.len())
        }
    );
    Ok(())
}

fn import_payments(config: &Config, file: &std::path::Path, skip_invalid: bool) -> CliResult {
    let parsed = kabar::import::parse_payments(std::io::BufReader::new(open_csv(file)?))?;
    check_rows(&parsed.errors, skip_invalid)?;
    let store = open_store(
        config,
        "import the file on the page /staff/payments, or send it with \
         POST /api/payments (the CSV as the body)",
    )?;
    let entries = kabar::import::payment_entries(&parsed.rows, now_ms());
    store.upsert_payments(&entries)?;
    store.flush()?;
    println!(
        "payment schedule: {} cit{} updated{}",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" },
        if parsed.errors.is_empty() {
            String::new()
        } else {
            format!("; skipped {} invalid row(s)", parsed.errors.len())
        }
    );
    Ok(())
}

fn purge(config: &Config, dry_run: bool) -> CliResult {
    let store = Store::open(&config.server.data_dir)?;
    let days = config.privacy.retain_days;
    let report = store.purge(config.privacy.cutoff(now_ms()), dry_run)?;
    let verb = if dry_run { "would remove" } else { "removed" };
    println!(
        "retention {days} days: {verb} {} messages and {} media files; {} closed tickets {}anonymised",
        report.messages,
        report.media_files,
        report.tickets_anonymised,
        if dry_run { "would be " } else { "" }
    );
    store.close()?;
    drop(store);
    if !dry_run && (report.messages > 0 || report.tickets_anonymised > 0) {
        compact(config)?;
    }
    Ok(())
}

fn compact(config: &Config) -> CliResult {
    let done = kabar::store::compact(&config.server.data_dir)?;
    println!(
        "compacted {}: {} bytes before, {} after; removed data is gone from the database files",
        config.server.data_dir.display(),
        done.bytes_before,
        done.bytes_after
    );
    Ok(())
}

fn list_payments(config: &Config) -> CliResult {
    let store = open_store(
        config,
        "see the schedule on the page /staff/payments, or with GET /api/payments",
    )?;
    let entries = store.payments()?;
    if entries.is_empty() {
        println!("no payment dates yet; import them with `kabar payments import FILE.csv`");
    }
    for e in entries {
        println!(
            "{},{},{}",
            e.city,
            e.next_payment_date,
            e.note.unwrap_or_default()
        );
    }
    Ok(())
}

fn import_directory(config: &Config, file: &std::path::Path, skip_invalid: bool) -> CliResult {
    let parsed = kabar::import::parse_directory(std::io::BufReader::new(open_csv(file)?))?;
    check_rows(&parsed.errors, skip_invalid)?;
    let store = open_store(
        config,
        "import the file on the page /staff/directory, or send it with \
         POST /api/directory (the CSV as the body)",
    )?;
    let entries = kabar::import::directory_entries(&parsed.rows, now_ms());
    store.upsert_directory(&entries)?;
    store.audit(
        CLI_AUDIT_NAME,
        "directory-import",
        None,
        &format!("{} entr(y/ies)", entries.len()),
    )?;
    store.flush()?;
    println!(
        "directory: {} entr{} imported{}",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" },
        if parsed.errors.is_empty() {
            String::new()
        } else {
            format!("; skipped {} invalid row(s)", parsed.errors.len())
        }
    );
    Ok(())
}

fn list_directory(config: &Config) -> CliResult {
    let store = open_store(
        config,
        "see it on the page /staff/directory, or with GET /api/directory",
    )?;
    let entries = store.directory()?;
    if entries.is_empty() {
        println!("the directory is empty; import it with `kabar directory import FILE.csv`");
        return Ok(());
    }
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record(["city", "kind", "name", "phone", "address", "hours"])?;
    for e in entries {
        out.write_record([
            e.city.as_str(),
            e.kind.name(),
            e.name.as_str(),
            e.phone.as_deref().unwrap_or_default(),
            e.address.as_deref().unwrap_or_default(),
            e.hours.as_deref().unwrap_or_default(),
        ])?;
    }
    out.flush()?;
    Ok(())
}
/// The first line of standard input, for passphrases.
fn passphrase_from_stdin() -> Result<String, Box<dyn std::error::Error>> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let passphrase = line.trim_end_matches(['\n', '\r']).to_string();
    if passphrase.chars().count() < kabar::web::backup::MIN_PASSPHRASE {
        return Err(format!(
            "the backup passphrase needs at least {} characters",
            kabar::web::backup::MIN_PASSPHRASE
        )
        .into());
    }
    Ok(passphrase)
}

/// Writes `FILE.partial` and renames it once complete: a failed backup never looks like one.
fn backup(
    config: &Config,
    file: &std::path::Path,
    url: Option<String>,
    token: Option<String>,
) -> CliResult {
    let passphrase = passphrase_from_stdin()?;
    let partial = file.with_extension("partial");
    let result = (|| -> CliResult {
        let direct = match url {
            Some(_) => None,
            None => match Store::open(&config.server.data_dir) {
                Ok(store) => Some(store),
                Err(kabar::store::StoreError::Locked(_)) => None,
                Err(e) => return Err(e.into()),
            },
        };
        let out = std::fs::File::create(&partial)
            .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        let mut out = std::io::BufWriter::new(out);
        match direct {
            Some(store) => {
                let summary =
                    store.write_encrypted_backup(&config.server.data_dir, &passphrase, &mut out)?;
                eprintln!(
                    "backup of the stopped data folder: {} keys, {} files",
                    summary.keys, summary.files
                );
            }
            None => {
                let url = url.unwrap_or_else(|| format!("http://{}", config.server.listen));
                let token = token.ok_or(
                    "the server is running: pass an admin's API token with --token or KABAR_TOKEN",
                )?;
                let runtime = tokio::runtime::Runtime::new()?;
                runtime.block_on(download_backup(&url, &token, &passphrase, &mut out))?;
                eprintln!("backup downloaded from {url}");
            }
        }
        let out = out.into_inner().map_err(|e| e.into_error())?;
        out.sync_all()?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            std::fs::rename(&partial, file)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn download_backup(
    url: &str,
    token: &str,
    passphrase: &str,
    out: &mut impl std::io::Write,
) -> CliResult {
    let mut response = reqwest::Client::new()
        .get(format!("{}/api/backup", url.trim_end_matches('/')))
        .bearer_auth(token)
        .header(kabar::web::backup::PASSPHRASE_HEADER, passphrase)
        .send()
        .await
        .map_err(|e| format!("cannot reach the server at {url}: {e}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        return Err(format!(
            "the server refused the backup ({status}): {}",
            body["detail"].as_str().unwrap_or("no reason given")
        )
        .into());
    }
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the download broke off: {e}"))?
    {
        out.write_all(&chunk)?;
    }
    Ok(())
}

fn restore(config: &Config, file: &std::path::Path) -> CliResult {
    let passphrase = passphrase_from_stdin()?;
    let input =
        std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let summary = kabar::store::backup::restore(input, &passphrase, &config.server.data_dir)?;
    println!(
        "restored {} keys and {} files into {}; start the server to answer what was waiting",
        summary.keys,
        summary.files,
        config.server.data_dir.display()
    );
    Ok(())
}
