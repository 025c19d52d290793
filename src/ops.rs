//! Operations: scheduled local backups and the allocator's tuning. Disk space is in
//! [`crate::disk`] (re-exported here for the callers that watch both).

use std::path::{Path, PathBuf};

pub use crate::disk::{DiskSpace, DiskWatch, disk_space, storage_warning};

/// File names of scheduled backups: `kabar-YYYYmmdd-HHMMSS.age` (UTC), so that they sort by
/// time and their age can be read from the name.
const BACKUP_NAME: &str = "kabar-%Y%m%d-%H%M%S.age";

/// When the newest scheduled backup in `dir` was taken, from its name.
fn newest_backup(dir: &Path) -> Option<chrono::DateTime<chrono::Utc>> {
    backups_in(dir).into_iter().last().map(|(at, _)| at)
}

/// Scheduled backups in `dir`, oldest first.
fn backups_in(dir: &Path) -> Vec<(chrono::DateTime<chrono::Utc>, PathBuf)> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<_> = listing
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let at = chrono::NaiveDateTime::parse_from_str(&name, BACKUP_NAME).ok()?;
            Some((at.and_utc(), e.path()))
        })
        .collect();
    found.sort();
    found
}

/// Writes one scheduled backup (through `.partial` and a rename, so a half-written one never
/// counts) and deletes the oldest beyond `keep`.
pub async fn scheduled_backup(
    store: &crate::store::Store,
    config: &crate::config::BackupConfig,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(&config.dir)
        .map_err(|e| format!("cannot create {}: {e}", config.dir.display()))?;
    // Left by a stop in the middle of a backup.
    if let Ok(listing) = std::fs::read_dir(&config.dir) {
        for item in listing.filter_map(|e| e.ok()) {
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("kabar-") && name.ends_with(".age.partial") {
                let _ = std::fs::remove_file(item.path());
            }
        }
    }
    let name = chrono::Utc::now().format(BACKUP_NAME).to_string();
    let path = config.dir.join(&name);
    let partial = config.dir.join(format!("{name}.partial"));
    let written = async {
        let file = std::fs::File::create(&partial).map_err(|e| e.to_string())?;
        // Kept to sync the file once the backup (which buffers its own writes) is written.
        let handle = file.try_clone().map_err(|e| e.to_string())?;
        store
            .write_backup(&config.passphrase, Box::new(file))
            .await
            .map_err(|e| e.to_string())?;
        handle.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&partial, &path).map_err(|e| e.to_string())
    }
    .await;
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("{}: {e}", path.display()));
    }
    let all = backups_in(&config.dir);
    let surplus = all.len().saturating_sub(config.keep as usize);
    for (_, old) in all.into_iter().take(surplus) {
        if let Err(e) = std::fs::remove_file(&old) {
            tracing::warn!(error = %e, file = %old.display(), "cannot delete an old backup");
        }
    }
    Ok(path)
}

/// Takes a scheduled backup whenever the newest in `[backup] dir` is `every_hours` old (at
/// once after a start if it is overdue), until shutdown.
pub async fn run_scheduled_backups(
    store: crate::store::Store,
    config: crate::config::BackupConfig,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let every = chrono::Duration::hours(i64::from(config.every_hours));
    loop {
        let due = newest_backup(&config.dir).map_or(chrono::Utc::now(), |at| at + every);
        let wait = (due - chrono::Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            // Looked at again at least hourly: the clock of a laptop that slept moves on.
            _ = tokio::time::sleep(wait.min(std::time::Duration::from_secs(3600))) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        if chrono::Utc::now() < due {
            continue;
        }
        match scheduled_backup(&store, &config).await {
            Ok(path) => tracing::info!(file = %path.display(), "scheduled backup written"),
            Err(e) => {
                tracing::error!(error = %e, "scheduled backup failed; trying again in an hour");
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
        }
    }
}

/// Keeps glibc's allocator from holding on to memory the process no longer uses. By default
/// glibc gives every thread that allocates its own arena (up to 8 per core) and returns freed
/// memory to the system only from the top of each: after a 100,000-contact import the live
/// heap was ~55 MB while RSS stayed above 200 MB through the next broadcast
/// (`benches/broadcast.rs`, heaptrack). Two arenas (one per core of a field laptop) and
/// trimming once 1 MiB is free at the top brought the drain's peak RSS from 167-210 MiB to
/// 102-125 MiB in the same benchmark, with no slower import, send or reply. Call it first
/// thing in `main`, before any thread starts. Elsewhere than glibc it does nothing.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets allocator parameters; called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_of_a_real_folder_is_sane() {
        let dir = tempfile::tempdir().unwrap();
        let space = disk_space(dir.path()).unwrap();
        assert!(space.total_bytes > 0);
        assert!(space.free_bytes <= space.total_bytes);
        let never = DiskWatch::new(dir.path(), 0);
        assert!(!never.low());
        let always = DiskWatch::new(dir.path(), u64::MAX / (1024 * 1024));
        assert!(
            always.low(),
            "a threshold above the disk's size is always low"
        );
        assert!(disk_space(&dir.path().join("missing")).is_err());
    }
}
