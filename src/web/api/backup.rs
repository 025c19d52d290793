//! `GET /api/backup` (admins): the encrypted backup, streamed ([`crate::web::backup`]).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::domain::Role;
use crate::web::AppState;
use crate::web::backup::{PASSPHRASE_HEADER, check_passphrase, stream_backup};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::Caller;

/// The passphrase comes in `X-Backup-Passphrase`; the answer is `application/octet-stream`.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let caller = caller.require(&[Role::Admin])?;
    let passphrase = headers
        .get(PASSPHRASE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::bad_request(
                "passphrase missing",
                "send the passphrase to encrypt the backup with in the X-Backup-Passphrase header",
            )
        })?;
    check_passphrase(&passphrase)?;
    // No backup leaves without its audit row.
    state
        .store
        .audit(&caller.user.name, "backup", None, "api")
        .await?;
    Ok(stream_backup(&state, passphrase))
}
