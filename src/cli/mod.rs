//! The `kabar` command line: the commands and their options here, each command's work in its
//! own file.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod backup;
mod check;
mod data;
mod migrate;
mod serve;
mod users;

use backup::{backup, restore};
use check::check;
use data::{
    compact, import_contacts, import_directory, import_payments, list_directory, list_payments,
    purge,
};
use migrate::migrate_store;
use serve::serve;
use users::{add_user, create_token};

use kabar::config::Config;
use kabar::domain::{Role, User, now_ms};
use kabar::i18n::Lang;
use kabar::store::{SledStore, Store};
use kabar::web::{auth, users as admin};

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
    /// Copy a field office's data (a stopped server's data folder) into the PostgreSQL
    /// database this config names ([store] kind = "postgres"): people, conversations,
    /// tickets and their audit trail, staff accounts, broadcasts and media. The folder is left
    /// as it was; a move that stopped half-way continues when run again.
    MigrateStore {
        /// The data folder to copy (default: server.data_dir).
        #[arg(long)]
        from: Option<PathBuf>,
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

pub fn main() -> ExitCode {
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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("kabar: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    let result = runtime.block_on(run(command, config));
    // A stop must not wait for blocking work left behind (a stuck flush on a broken disk).
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_store_broken(&*e) => {
            eprintln!("kabar: {e}");
            // EX_TEMPFAIL: the service manager restarts kabar (see the systemd unit).
            ExitCode::from(RESTART_EXIT_CODE)
        }
        Err(e) => {
            eprintln!("kabar: {e}");
            ExitCode::FAILURE
        }
    }
}

fn is_store_broken(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<kabar::RunError>()
        .is_some_and(|e| matches!(e, kabar::RunError::StoreBroken(_)))
}

async fn run(command: Command, config: Config) -> CliResult {
    match command {
        Command::Serve => serve(config).await,
        Command::Check => check(&config),
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    languages,
                    password_stdin: _,
                },
        } => add_user(&config, name, role, languages).await,
        Command::Token {
            command: TokenCommand::Create { name },
        } => create_token(&config, &name).await,
        Command::Contacts {
            command: ContactsCommand::Import { file, skip_invalid },
        } => import_contacts(&config, &file, skip_invalid).await,
        Command::Payments {
            command: PaymentsCommand::Import { file, skip_invalid },
        } => import_payments(&config, &file, skip_invalid).await,
        Command::Payments {
            command: PaymentsCommand::List,
        } => list_payments(&config).await,
        Command::Purge { dry_run } => purge(&config, dry_run).await,
        Command::Compact => compact(&config),
        Command::Directory {
            command: DirectoryCommand::Import { file, skip_invalid },
        } => import_directory(&config, &file, skip_invalid).await,
        Command::Directory {
            command: DirectoryCommand::List,
        } => list_directory(&config).await,
        Command::Backup {
            file, url, token, ..
        } => backup(&config, &file, url, token).await,
        Command::Restore { file, .. } => restore(&config, &file),
        Command::MigrateStore { from } => migrate_store(&config, from).await,
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// The exit code when the store cannot continue and a restart is the way back (EX_TEMPFAIL).
const RESTART_EXIT_CODE: u8 = 75;

/// Who the audit trail names for changes made on the command line.
const CLI_AUDIT_NAME: &str = "cli";

/// Opens the configured store. A sled data folder is held by a running server: then it says
/// exactly what does the same job there. PostgreSQL is shared, so commands run beside the
/// servers.
async fn open_store(
    config: &Config,
    while_running: &str,
) -> Result<Store, Box<dyn std::error::Error>> {
    match kabar::open_store(config).await {
        Ok(opened) => Ok(opened.store),
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
