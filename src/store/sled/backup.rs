//! Backups of a running store: one stream, encrypted with a passphrase (age, scrypt), that a
//! restore turns back into a data folder.
//!
//! Inside the age stream: `KABAR-BACKUP-1\n`, then records `[tag u8][len u32 LE][payload]`:
//! the intake journal's segment files first, then every sled tree (`TREE` name, then `KV`
//! records), then the media folder, then `END` with the record count and the id to continue
//! from. Files travel as `FILE` (relative path) followed by `CHUNK`s, so neither side holds a
//! whole file or store in memory.
//!
//! Why the journal first: a message acknowledged before the backup began is either in a
//! journal segment at that moment (copied as it is) or already durable in sled (a segment is
//! deleted only after that), and sled is read after the journal, so the backup has it either
//! way. The restored server replays the journal and drops what sled already has.
//!
//! sled has no point-in-time snapshot: each key is read as it is when the backup reaches it.
//! A step written while the backup runs may be only partly in it; what it answered stays in the
//! journal or the inbox of the copy, and the restored server answers again at worst.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;

use super::{Store, StoreError};

const MAGIC: &[u8] = b"KABAR-BACKUP-1\n";
const TAG_TREE: u8 = 1;
const TAG_KV: u8 = 2;
const TAG_FILE: u8 = 3;
const TAG_CHUNK: u8 = 4;
const TAG_END: u8 = 5;
const CHUNK: usize = 64 * 1024;
/// No record of ours is larger (sled values are single records, far smaller).
const MAX_RECORD: u32 = 64 * 1024 * 1024;
/// The scrypt work factor a restore accepts at most (about 16 times age's default).
const MAX_WORK_FACTOR: u8 = 22;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("wrong passphrase: this backup cannot be opened with it")]
    WrongPassphrase,
    #[error("not a kabar backup: {0}")]
    NotABackup(String),
    #[error(
        "the backup is incomplete (truncated or damaged): nothing was restored. Make a new backup, or use an older one"
    )]
    Truncated,
    #[error(
        "{0} is not empty: restore only into an empty or new data folder (move the old one aside first)"
    )]
    NotEmpty(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sled::Error> for BackupError {
    fn from(e: sled::Error) -> Self {
        BackupError::Store(StoreError::Sled(e))
    }
}

/// What a backup or restore carried.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackupSummary {
    /// sled keys.
    pub keys: u64,
    /// Journal segments and media files.
    pub files: u64,
    /// sled ids continue after this in the restored store.
    pub next_id: u64,
    pub created_at: crate::domain::Millis,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn record(out: &mut impl Write, tag: u8, parts: &[&[u8]]) -> std::io::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(len)
        .ok()
        .filter(|l| *l <= MAX_RECORD)
        .ok_or_else(|| std::io::Error::other("record too large for a backup"))?;
    out.write_all(&[tag])?;
    out.write_all(&len.to_le_bytes())?;
    for part in parts {
        out.write_all(part)?;
    }
    Ok(())
}

/// The files of one folder of the data folder (none when it does not exist), sorted.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let mut found = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(listing) => {
            for item in listing {
                let item = item.map_err(io_error(dir))?;
                if item.file_type().map_err(io_error(dir))?.is_file() {
                    found.push(item.path());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(dir)(e)),
    }
    found.sort();
    Ok(found)
}

/// Copies one file as FILE + CHUNKs; a file deleted meanwhile (a retired journal segment) is
/// skipped, since what it held is in sled.
fn copy_file(
    out: &mut impl Write,
    folder: &str,
    path: &Path,
    summary: &mut BackupSummary,
) -> Result<(), BackupError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(path)(e)),
    };
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    let relative = format!("{folder}/{name}");
    record(out, TAG_FILE, &[relative.as_bytes()]).map_err(io_error(path))?;
    let mut buf = vec![0; CHUNK];
    loop {
        let n = file.read(&mut buf).map_err(io_error(path))?;
        if n == 0 {
            break;
        }
        record(out, TAG_CHUNK, &[&buf[..n]]).map_err(io_error(path))?;
    }
    summary.files += 1;
    Ok(())
}

impl Store {
    /// Writes a plain (unencrypted) backup of this store and of `data_dir`'s journal and media
    /// to `out`. Use [`write_encrypted_backup`] for anything that leaves the process.
    fn write_backup(
        &self,
        data_dir: &Path,
        out: &mut impl Write,
    ) -> Result<BackupSummary, BackupError> {
        let mut summary = BackupSummary {
            created_at: crate::domain::now_ms(),
            ..Default::default()
        };
        let target = Path::new("backup");
        out.write_all(MAGIC).map_err(io_error(target))?;
        for path in files_in(&data_dir.join("journal"))? {
            copy_file(out, "journal", &path, &mut summary)?;
        }
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name)?;
            record(out, TAG_TREE, &[&name]).map_err(io_error(target))?;
            for kv in tree.iter() {
                let (key, value) = kv?;
                let key_len = u32::try_from(key.len()).unwrap_or(u32::MAX).to_le_bytes();
                record(out, TAG_KV, &[&key_len, &key, &value]).map_err(io_error(target))?;
                summary.keys += 1;
            }
        }
        for path in files_in(&data_dir.join("media"))? {
            copy_file(out, "media", &path, &mut summary)?;
        }
        // Greater than every id handed out so far, including those in the copy.
        summary.next_id = self.db.generate_id()?;
        let end = serde_json::to_vec(&summary).map_err(StoreError::Encode)?;
        record(out, TAG_END, &[&end]).map_err(io_error(target))?;
        Ok(summary)
    }

    /// Writes a backup encrypted with `passphrase` (age, scrypt) to `out`, streaming.
    pub fn write_encrypted_backup(
        &self,
        passphrase: &str,
        out: impl Write,
    ) -> Result<BackupSummary, BackupError> {
        let target = Path::new("backup");
        let encryptor =
            age::Encryptor::with_user_passphrase(SecretString::from(passphrase.to_string()));
        let mut writer = encryptor.wrap_output(out).map_err(io_error(target))?;
        let mut buffered = std::io::BufWriter::with_capacity(CHUNK, &mut writer);
        let summary = self.write_backup(&self.dir, &mut buffered)?;
        buffered.flush().map_err(io_error(target))?;
        drop(buffered);
        writer
            .finish()
            .and_then(|mut inner| inner.flush())
            .map_err(io_error(target))?;
        Ok(summary)
    }
}

/// True when `dir` does not exist or holds nothing.
fn is_empty_dir(dir: &Path) -> Result<bool, BackupError> {
    match std::fs::read_dir(dir) {
        Ok(mut listing) => Ok(listing.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(io_error(dir)(e)),
    }
}

/// A file path from the backup, accepted only as `journal/NAME` or `media/NAME` with a plain
/// file name: a crafted backup cannot write outside the data folder.
fn safe_relative(raw: &[u8]) -> Result<PathBuf, BackupError> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| BackupError::NotABackup("a file name is not UTF-8".into()))?;
    let (folder, name) = text
        .split_once('/')
        .ok_or_else(|| BackupError::NotABackup(format!("unexpected file {text:?}")))?;
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && matches!(folder, "journal" | "media");
    if !plain {
        return Err(BackupError::NotABackup(format!("unexpected file {text:?}")));
    }
    Ok(Path::new(folder).join(name))
}

/// Reads one record; `None` at a clean end of input (only valid after END).
fn read_record(input: &mut impl Read) -> Result<Option<(u8, Vec<u8>)>, BackupError> {
    let mut header = [0u8; 5];
    let mut got = 0;
    while got < header.len() {
        match input.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(BackupError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(BackupError::Truncated),
        }
    }
    let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]);
    if len > MAX_RECORD {
        return Err(BackupError::NotABackup("a record is too large".into()));
    }
    let mut payload = vec![0; len as usize];
    input
        .read_exact(&mut payload)
        .map_err(|_| BackupError::Truncated)?;
    Ok(Some((header[0], payload)))
}

/// Restores an encrypted backup into `data_dir`, which must be empty or absent. Everything is
/// written to a folder beside it first and moved into place only once the whole backup was
/// read and checked: a wrong passphrase, a truncated or damaged file leave nothing behind.
pub fn restore(
    input: impl Read,
    passphrase: &str,
    data_dir: &Path,
) -> Result<BackupSummary, BackupError> {
    if !is_empty_dir(data_dir)? {
        return Err(BackupError::NotEmpty(data_dir.to_path_buf()));
    }
    let decryptor = age::Decryptor::new(BufReader::new(input)).map_err(|e| match e {
        age::DecryptError::Io(_) => BackupError::Truncated,
        other => BackupError::NotABackup(format!("not an encrypted backup ({other})")),
    })?;
    let mut identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    identity.set_max_work_factor(MAX_WORK_FACTOR);
    let reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::NoMatchingKeys
            | age::DecryptError::KeyDecryptionFailed => BackupError::WrongPassphrase,
            age::DecryptError::Io(_) => BackupError::Truncated,
            other => BackupError::NotABackup(other.to_string()),
        })?;
    let mut reader = BufReader::with_capacity(CHUNK, reader);

    let parent = data_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".kabar-restore-")
        .tempdir_in(parent)
        .map_err(io_error(parent))?;
    let summary = restore_into(&mut reader, staging.path())?;
    // Complete and checked: move it into place.
    if data_dir.exists() {
        std::fs::remove_dir(data_dir).map_err(io_error(data_dir))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, data_dir).map_err(io_error(data_dir))?;
    Ok(summary)
}

fn restore_into(input: &mut impl Read, dir: &Path) -> Result<BackupSummary, BackupError> {
    let mut magic = vec![0; MAGIC.len()];
    input
        .read_exact(&mut magic)
        .map_err(|_| BackupError::Truncated)?;
    if magic != MAGIC {
        return Err(BackupError::NotABackup("unknown format".into()));
    }
    // The restored database is written with kabar's settings (compressed), whatever the
    // backed-up store's were: the records are copied as they are.
    let db = super::sled_config(&dir.join("kabar.sled")).open()?;
    let mut tree: Option<sled::Tree> = None;
    let mut file: Option<(PathBuf, std::fs::File)> = None;
    let mut keys = 0u64;
    let mut files = 0u64;
    let summary: BackupSummary = loop {
        let Some((tag, payload)) = read_record(input)? else {
            return Err(BackupError::Truncated);
        };
        match tag {
            TAG_TREE => tree = Some(db.open_tree(&payload)?),
            TAG_KV => {
                let Some(tree) = &tree else {
                    return Err(BackupError::NotABackup("a key before its tree".into()));
                };
                let (len, rest) = payload
                    .split_at_checked(4)
                    .ok_or_else(|| BackupError::NotABackup("a short key record".into()))?;
                let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                let (key, value) = rest
                    .split_at_checked(len)
                    .ok_or_else(|| BackupError::NotABackup("a short key record".into()))?;
                tree.insert(key, value)?;
                keys += 1;
            }
            TAG_FILE => {
                let relative = safe_relative(&payload)?;
                let path = dir.join(&relative);
                if let Some(folder) = path.parent() {
                    std::fs::create_dir_all(folder).map_err(io_error(folder))?;
                }
                let created = std::fs::File::create(&path).map_err(io_error(&path))?;
                if let Some((path, done)) = file.replace((path, created)) {
                    done.sync_all().map_err(io_error(&path))?;
                }
                files += 1;
            }
            TAG_CHUNK => {
                let Some((path, f)) = &mut file else {
                    return Err(BackupError::NotABackup("file data before its name".into()));
                };
                f.write_all(&payload).map_err(io_error(path))?;
            }
            TAG_END => {
                break serde_json::from_slice(&payload)
                    .map_err(|e| BackupError::NotABackup(format!("end record: {e}")))?;
            }
            other => return Err(BackupError::NotABackup(format!("unknown record {other}"))),
        }
    };
    if let Some((path, done)) = file.take() {
        done.sync_all().map_err(io_error(&path))?;
    }
    if summary.keys != keys || summary.files != files {
        return Err(BackupError::NotABackup(format!(
            "the end record counts {} keys and {} files, the backup has {keys} and {files}",
            summary.keys, summary.files
        )));
    }
    // age authenticates the end of the stream: anything after END, or a cut, is an error.
    let mut rest = [0u8; 1];
    match input.read(&mut rest) {
        Ok(0) => {}
        Ok(_) => return Err(BackupError::NotABackup("data after the end".into())),
        Err(_) => return Err(BackupError::Truncated),
    }
    // New ids continue after every id in the copy (message ids are keys).
    while db.generate_id()? < summary.next_id {}
    db.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_in_journal_and_media_are_accepted() {
        assert!(safe_relative(b"journal/0000000000000001.log").is_ok());
        assert!(safe_relative(b"media/42.ogg").is_ok());
        for bad in [
            &b"../etc/passwd"[..],
            b"media/../../x",
            b"media/a/b",
            b"kabar.sled/conf",
            b"media/",
            b"journal/..",
            b"noslash",
        ] {
            assert!(
                safe_relative(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
