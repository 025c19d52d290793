//! How much room the data folder's disk has left, for `/healthz`, `/metrics`, the staff banner
//! and the intake's judgement of whether the store can recover.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Free bytes on the data folder's disk when it was last found low; `u64::MAX` while there is
/// room. Process-wide so that every staff page can show the warning without a disk call per
/// page (one kabar serves one data folder).
static LOW_DISK_FREE: AtomicU64 = AtomicU64::new(u64::MAX);

/// The warning staff see on every page while the disk is low.
pub fn storage_warning() -> Option<String> {
    let free = LOW_DISK_FREE.load(Ordering::Relaxed);
    (free != u64::MAX).then(|| {
        format!(
            "The disk of kabar's data folder is almost full ({} MB free). Free some space now: \
             when it is full, kabar cannot accept messages.",
            free / (1024 * 1024)
        )
    })
}

/// Free and total bytes of the file system holding a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// Bytes an unprivileged process may still write.
    pub free_bytes: u64,
    pub total_bytes: u64,
}

/// Asks the kernel about the file system holding `path` (`statvfs`).
pub fn disk_space(path: &Path) -> std::io::Result<DiskSpace> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: statvfs writes only into the struct we pass, and reads the NUL-terminated path
    // that lives until the call returns.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    let result = unsafe { libc::statvfs(c_path.as_ptr(), &mut stats) };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let block = stats.f_frsize as u64;
    Ok(DiskSpace {
        free_bytes: (stats.f_bavail as u64).saturating_mul(block),
        total_bytes: (stats.f_blocks as u64).saturating_mul(block),
    })
}

/// The data folder's disk, judged against `[server] min_free_mb`.
#[derive(Debug, Clone)]
pub struct DiskWatch {
    dir: PathBuf,
    min_free_bytes: u64,
}

impl DiskWatch {
    pub fn new(dir: &Path, min_free_mb: u64) -> DiskWatch {
        DiskWatch {
            dir: dir.to_path_buf(),
            min_free_bytes: min_free_mb.saturating_mul(1024 * 1024),
        }
    }

    /// The disk's space now; `None` when the kernel cannot tell (logged).
    pub fn space(&self) -> Option<DiskSpace> {
        match disk_space(&self.dir) {
            Ok(space) => Some(space),
            Err(e) => {
                tracing::warn!(error = %e, dir = %self.dir.display(), "cannot read free disk space");
                None
            }
        }
    }

    pub fn min_free_bytes(&self) -> u64 {
        self.min_free_bytes
    }

    /// Free space is below the threshold: time to warn staff, before writes start failing.
    /// Also updates the warning staff pages show.
    pub fn low(&self) -> bool {
        let low = self.space().filter(|s| s.free_bytes < self.min_free_bytes);
        LOW_DISK_FREE.store(
            low.map_or(u64::MAX, |s| s.free_bytes.min(u64::MAX - 1)),
            Ordering::Relaxed,
        );
        low.is_some()
    }

    /// The disk has at least the threshold free (unknown counts as room: the store's own
    /// errors then decide).
    pub fn has_room(&self) -> bool {
        !self.low()
    }
}
