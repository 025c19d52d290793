//! The voice notes, images and documents people send: looked up by id, then downloaded with
//! the token, never more than `media_max_bytes`.

use std::time::Duration;

use serde_json::Value;

use super::errors::api_error;
use super::{MAX_REASON_CHARS, WhatsappSender};
use crate::channel::http::{Limited, error_kind, read_limited, shorten};

/// Looking up a media id.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(15);
/// Downloading a voice note or document (up to `media_max_bytes`).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// The media lookup answer is a few hundred bytes of JSON.
const LOOKUP_MAX_BYTES: u64 = 64 * 1024;

/// Why fetching a media file failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media is {size} bytes, more than the {max} allowed")]
    TooLarge { size: u64, max: u64 },
    #[error("whatsapp media request failed: {0}")]
    Http(String),
    #[error("whatsapp media server unreachable: {0}")]
    Unreachable(String),
    #[error("whatsapp media answer is malformed: {0}")]
    Malformed(String),
}

impl WhatsappSender {
    /// Fetches a media file by id: looks up its URL (`GET {api_base}/{media_id}`), refuses it
    /// when Meta says it is larger than `media_max_bytes`, then downloads it with the token,
    /// stopping as soon as the body is longer than allowed. Returns the bytes and MIME type.
    pub async fn fetch_media(&self, media_id: &str) -> Result<(Vec<u8>, String), MediaError> {
        let valid_id = !media_id.is_empty()
            && media_id.len() <= 128
            && media_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_id {
            return Err(MediaError::Malformed("not a WhatsApp media id".to_string()));
        }
        let max = self.config.media_max_bytes;

        let response = self
            .http
            .get(format!("{}/{media_id}", self.api_base()))
            .bearer_auth(&self.config.access_token)
            .timeout(LOOKUP_TIMEOUT)
            .send()
            .await
            .map_err(|e| MediaError::Unreachable(error_kind(&e)))?;
        let status = response.status();
        let body = match read_limited(response, LOOKUP_MAX_BYTES).await {
            Ok(body) => body,
            Err(Limited::Over(_)) => {
                return Err(MediaError::Malformed(
                    "media lookup answer is too long".to_string(),
                ));
            }
            Err(Limited::Network(kind)) => return Err(MediaError::Unreachable(kind)),
        };
        if !status.is_success() {
            let (code, message) = api_error(&body);
            let mut message = shorten(&message, MAX_REASON_CHARS);
            if !self.config.access_token.is_empty() {
                message = message.replace(&self.config.access_token, "…");
            }
            return Err(MediaError::Http(match code {
                Some(code) => format!(
                    "media lookup answered {} error {code}: {message}",
                    status.as_u16()
                ),
                None => format!("media lookup answered {}: {message}", status.as_u16()),
            }));
        }
        let info: Value = serde_json::from_slice(&body)
            .map_err(|e| MediaError::Malformed(format!("media lookup is not JSON: {e}")))?;
        let text = |name: &str| {
            info.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        let url = text("url")
            .ok_or_else(|| MediaError::Malformed("media lookup has no url".to_string()))?;
        let lookup_mime = text("mime_type").map(str::to_string);
        let size = info.get("file_size").and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|s| s.trim().parse().ok()))
        });
        if let Some(size) = size.filter(|size| *size > max) {
            return Err(MediaError::TooLarge { size, max });
        }
        let url = reqwest::Url::parse(url)
            .map_err(|_| MediaError::Malformed("media url is not a URL".to_string()))?;
        // The token goes with the download: only over TLS, or to the API host itself (tests).
        let base = &self.config.api_base;
        let trusted = url.scheme() == "https"
            || (url.scheme() == base.scheme() && url.host_str() == base.host_str());
        if !trusted {
            return Err(MediaError::Malformed("media url is not https".to_string()));
        }

        let response = self
            .http
            .get(url)
            .bearer_auth(&self.config.access_token)
            .timeout(DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(|e| MediaError::Unreachable(error_kind(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(MediaError::Http(format!(
                "media download answered {}",
                status.as_u16()
            )));
        }
        if let Some(size) = response.content_length().filter(|size| *size > max) {
            return Err(MediaError::TooLarge { size, max });
        }
        let header_mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string);
        let bytes = match read_limited(response, max).await {
            Ok(bytes) => bytes,
            Err(Limited::Over(size)) => return Err(MediaError::TooLarge { size, max }),
            Err(Limited::Network(kind)) => return Err(MediaError::Unreachable(kind)),
        };
        let mime = lookup_mime
            .or(header_mime)
            .unwrap_or_else(|| "application/octet-stream".to_string());
        Ok((bytes, mime))
    }
}
