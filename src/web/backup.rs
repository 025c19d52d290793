//! Backups (admins): a consistent copy of the running store, encrypted with a passphrase the
//! admin chooses, streamed as it is written. Shared by `GET /api/backup` and the `/backup` page.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

/// The header carrying the passphrase for `GET /api/backup` (never the URL: URLs are logged).
pub const PASSPHRASE_HEADER: &str = "x-backup-passphrase";
/// Shortest passphrase accepted: the backup holds every conversation.
pub const MIN_PASSPHRASE: usize = 10;

/// Refuses a passphrase too short to protect every conversation.
pub fn check_passphrase(passphrase: &str) -> Result<(), ApiError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(ApiError::bad_request(
            "weak passphrase",
            format!("the backup passphrase needs at least {MIN_PASSPHRASE} characters"),
        ));
    }
    Ok(())
}

/// Writes the backup on a blocking thread into a small channel the response body reads: a
/// store of any size costs a few chunks of memory. A failure midway cuts the download, and the
/// cut file is refused by `kabar restore` (age authenticates the end of the stream).
pub fn stream_backup(state: &AppState, passphrase: String) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let store = state.store.clone();
    tokio::spawn(async move {
        // The store writes on a blocking thread, which may wait on this small channel.
        let writer = ChannelWriter { tx: tx.clone() };
        match store.write_backup(&passphrase, Box::new(writer)).await {
            Ok(summary) => tracing::info!(
                keys = summary.keys,
                files = summary.files,
                "backup downloaded"
            ),
            Err(e) => {
                tracing::error!(error = %e, "backup failed; the download is cut");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
            }
        }
    });
    let name = chrono::Utc::now().format("kabar-backup-%Y%m%d-%H%M%S.age");
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response()
}

struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled")
            })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
