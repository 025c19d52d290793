//! Imports, listings and retention on the data folder.

use super::*;

pub(super) async fn import_contacts(
    config: &Config,
    file: &std::path::Path,
    skip_invalid: bool,
) -> CliResult {
    let parsed = kabar::import::parse_contacts(std::io::BufReader::new(open_csv(file)?))?;
    check_rows(&parsed.errors, skip_invalid)?;
    let store = open_store(
        config,
        "import the file on the page /staff/contacts, or send it with \
         POST /api/contacts/import (the CSV as the body)",
    )
    .await?;
    let total = parsed.rows.len();
    // The same batched write as the API and the page; progress shows on large files.
    let new = kabar::web::contacts::write_contacts(&store, &parsed.rows, |done, total| {
        if total > kabar::web::contacts::CONTACTS_BATCH {
            eprintln!("imported {done}/{total}");
        }
    })
    .await?;
    store.close().await?;
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

pub(super) async fn import_payments(
    config: &Config,
    file: &std::path::Path,
    skip_invalid: bool,
) -> CliResult {
    let parsed = kabar::import::parse_payments(std::io::BufReader::new(open_csv(file)?))?;
    check_rows(&parsed.errors, skip_invalid)?;
    let store = open_store(
        config,
        "import the file on the page /staff/payments, or send it with \
         POST /api/payments (the CSV as the body)",
    )
    .await?;
    let entries = kabar::import::payment_entries(&parsed.rows, now_ms());
    store.upsert_payments(&entries).await?;
    store.close().await?;
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

pub(super) async fn purge(config: &Config, dry_run: bool) -> CliResult {
    let store = open_store(config, "the daily retention purge runs by itself").await?;
    let days = config.privacy.retain_days;
    let report = store
        .purge(config.privacy.cutoff(now_ms()), dry_run)
        .await?;
    let verb = if dry_run { "would remove" } else { "removed" };
    println!(
        "retention {days} days: {verb} {} messages and {} media files; {} closed tickets {}anonymised",
        report.messages,
        report.media_files,
        report.tickets_anonymised,
        if dry_run { "would be " } else { "" }
    );
    store.close().await?;
    drop(store);
    if !dry_run && (report.messages > 0 || report.tickets_anonymised > 0) {
        compact(config)?;
    }
    Ok(())
}

pub(super) fn compact(config: &Config) -> CliResult {
    let done = kabar::store::compact(&config.server.data_dir)?;
    println!(
        "compacted {}: {} bytes before, {} after; removed data is gone from the database files",
        config.server.data_dir.display(),
        done.bytes_before,
        done.bytes_after
    );
    Ok(())
}

pub(super) async fn list_payments(config: &Config) -> CliResult {
    let store = open_store(
        config,
        "see the schedule on the page /staff/payments, or with GET /api/payments",
    )
    .await?;
    let entries = store.payments().await?;
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

pub(super) async fn import_directory(
    config: &Config,
    file: &std::path::Path,
    skip_invalid: bool,
) -> CliResult {
    let parsed = kabar::import::parse_directory(std::io::BufReader::new(open_csv(file)?))?;
    check_rows(&parsed.errors, skip_invalid)?;
    let store = open_store(
        config,
        "import the file on the page /staff/directory, or send it with \
         POST /api/directory (the CSV as the body)",
    )
    .await?;
    let entries = kabar::import::directory_entries(&parsed.rows, now_ms());
    store.upsert_directory(&entries).await?;
    store
        .audit(
            CLI_AUDIT_NAME,
            "directory-import",
            None,
            &format!("{} entr(y/ies)", entries.len()),
        )
        .await?;
    store.close().await?;
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

pub(super) async fn list_directory(config: &Config) -> CliResult {
    let store = open_store(
        config,
        "see it on the page /staff/directory, or with GET /api/directory",
    )
    .await?;
    let entries = store.directory().await?;
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
