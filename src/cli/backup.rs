//! Backups and restores.

use super::*;

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

/// On PostgreSQL the database is the backup's subject, and its operators' tools do it better
/// (consistent while replicas write, point-in-time with WAL archiving).
const POSTGRES_BACKUP: &str = "store.kind is \"postgres\": back up the database with pg_dump \
     (pg_dump --format=custom --file=kabar.dump DATABASE) and restore it with pg_restore; \
     see README, \"When one machine is not enough\"";

/// Writes `FILE.partial` and renames it once complete: a failed backup never looks like one.
pub(super) async fn backup(
    config: &Config,
    file: &std::path::Path,
    url: Option<String>,
    token: Option<String>,
) -> CliResult {
    if config.store.kind == kabar::config::StoreKind::Postgres {
        return Err(POSTGRES_BACKUP.into());
    }
    let passphrase = passphrase_from_stdin()?;
    let partial = file.with_extension("partial");
    let result = async {
        let direct = match url {
            Some(_) => None,
            None => match SledStore::open(&config.server.data_dir) {
                Ok(store) => Some(store),
                Err(kabar::store::StoreError::Locked(_)) => None,
                Err(e) => return Err(e.into()),
            },
        };
        let out = std::fs::File::create(&partial)
            .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        // Kept to sync the file once written (the backup buffers its own writes).
        let written = out.try_clone()?;
        match direct {
            Some(store) => {
                let store: Store = std::sync::Arc::new(store);
                let summary = store.write_backup(&passphrase, Box::new(out)).await?;
                store.close().await?;
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
                let mut out = std::io::BufWriter::new(out);
                download_backup(&url, &token, &passphrase, &mut out).await?;
                out.into_inner().map_err(|e| e.into_error())?;
                eprintln!("backup downloaded from {url}");
            }
        }
        written.sync_all()?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
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

pub(super) fn restore(config: &Config, file: &std::path::Path) -> CliResult {
    if config.store.kind == kabar::config::StoreKind::Postgres {
        return Err(POSTGRES_BACKUP.into());
    }
    let passphrase = passphrase_from_stdin()?;
    let input =
        std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let summary = kabar::store::restore(input, &passphrase, &config.server.data_dir)?;
    println!(
        "restored {} keys and {} files into {}; start the server to answer what was waiting",
        summary.keys,
        summary.files,
        config.server.data_dir.display()
    );
    Ok(())
}
