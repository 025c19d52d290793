//! Voice notes, images and documents people sent, kept for interpreters as files in the data
//! folder's `media/`, named after their message.

use std::path::PathBuf;

use super::{Store, StoreError};

/// A file extension for a MIME type, for files interpreters open.
pub(crate) fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/mp4" | "audio/aac" => "m4a",
        "audio/amr" => "amr",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

impl Store {
    fn media_dir(&self) -> PathBuf {
        self.dir.join("media")
    }

    /// Saves a fetched file for `message_id` and records it on the message. Blocking.
    pub fn put_media(&self, message_id: u64, mime: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let name = format!("{message_id}.{}", extension(mime));
        let dir = self.media_dir();
        let saved = std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create media folder: {e}"))
            .and_then(|()| {
                std::fs::write(dir.join(&name), bytes)
                    .map_err(|e| format!("cannot save media: {e}"))
            });
        match saved {
            Ok(()) => self.set_media_file(message_id, Some(name), None),
            Err(reason) => {
                tracing::warn!(message_id, %reason, "media for interpreters missing");
                self.set_media_file(message_id, None, Some(reason))
            }
        }
    }

    /// A kept file by the name its message records; `None` when it is not there (purged,
    /// erased, or a name that is not one of ours).
    pub fn media_file(&self, file: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(path) = self.media_path(file) else {
            return Ok(None);
        };
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Sled(sled::Error::Io(e))),
        }
    }
}
