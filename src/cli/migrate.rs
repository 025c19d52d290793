//! `kabar migrate-store`: a field office's embedded store into PostgreSQL.

use super::*;

#[cfg(feature = "postgres")]
pub(super) async fn migrate_store(config: &Config, from: Option<PathBuf>) -> CliResult {
    use kabar::config::StoreKind;
    use kabar::store::Maintenance;
    use kabar::store::migrate::{self, Tally};
    use kabar::store::postgres::PgStore;

    let url = match (config.store.kind, &config.store.url) {
        (StoreKind::Postgres, Some(url)) => url,
        _ => {
            return Err(
                "migrate-store copies into PostgreSQL: give it the config of the new \
                        installation ([store] kind = \"postgres\" and url, or \
                        KABAR_STORE__KIND=postgres and KABAR_STORE__URL) and the old data \
                        folder with --from"
                    .into(),
            );
        }
    };
    let dir = from.unwrap_or_else(|| config.server.data_dir.clone());
    if !SledStore::holds_data(&dir) {
        return Err(format!(
            "{} holds no kabar data (no kabar.sled in it): give the field office's data folder \
             with --from",
            dir.display()
        )
        .into());
    }
    let source = std::fs::canonicalize(&dir)
        .unwrap_or_else(|_| dir.clone())
        .display()
        .to_string();
    let sled = match SledStore::open(&dir) {
        Ok(s) => s,
        Err(e @ kabar::store::StoreError::Locked(_)) => {
            return Err(format!(
                "{e}.\nStop the field office's server first: the move copies a folder nobody \
                 writes to (its messages wait in the providers' retries meanwhile, or point the \
                 webhooks at the new installation first)"
            )
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    let pg = PgStore::connect(url, None).await?;
    eprintln!("copying {source} into PostgreSQL at {url}");
    let started = std::time::Instant::now();
    let mut last = std::time::Instant::now();
    let mut show = |written: &Tally| {
        if last.elapsed() >= std::time::Duration::from_secs(2) {
            last = std::time::Instant::now();
            eprintln!(
                "  … {} records copied ({} messages) in {:.0} s",
                written.total(),
                written.get(migrate::Kind::Messages),
                started.elapsed().as_secs_f64()
            );
        }
    };
    let copied = migrate::copy(&sled, &pg, &source, &mut show).await;
    sled.close().await?;
    pg.close().await?;
    let report = copied?;
    if report.resumed {
        println!("finished the move that had stopped before:");
    }
    println!(
        "copied {} records in {:.1} s:\n{}",
        report.written.total(),
        started.elapsed().as_secs_f64(),
        report.written
    );
    for (kind, n) in report.left_out() {
        println!(
            "left out {n} {}: they belonged to messages the folder no longer kept (purged or \
             erased)",
            kind.label()
        );
    }
    println!(
        "done. Start kabar on PostgreSQL with this config; {} was left as it was (keep it, or \
         its backup, until the new installation has run for a while)",
        dir.display()
    );
    Ok(())
}

#[cfg(not(feature = "postgres"))]
pub(super) async fn migrate_store(_config: &Config, _from: Option<PathBuf>) -> CliResult {
    Err("this kabar was built without PostgreSQL support (cargo feature `postgres`)".into())
}
