//! Media people send by MMS or WhatsApp through Twilio: `MediaUrl{N}`, behind HTTP Basic auth
//! with the account's credentials (as courier's `BuildAttachmentRequest`).

use std::time::Duration;

use super::TwilioSender;
use crate::channel::http::{Limited, error_kind, read_limited};

/// Why fetching a Twilio media file (MMS, WhatsApp through Twilio) failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media is {size} bytes, more than the {max} allowed")]
    TooLarge { size: u64, max: u64 },
    #[error("twilio media request failed: {0}")]
    Http(String),
    #[error("twilio media server unreachable: {0}")]
    Unreachable(String),
    #[error("twilio media url refused: {0}")]
    Refused(String),
}

/// How long a media download may take.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(60);

impl TwilioSender {
    /// Downloads a `MediaUrl{N}` with the account's credentials (Twilio protects media with
    /// HTTP Basic auth when "enforce HTTP auth on media URLs" is on, as it should be), at most
    /// `media_max_bytes`. The credentials go only to the account's own media on the Messages
    /// API host: a webhook cannot make kabar send them anywhere else. (Twilio answers with a
    /// redirect to its media store; reqwest drops the Authorization header on a redirect to
    /// another host.)
    pub async fn fetch_media(&self, url: &str) -> Result<(Vec<u8>, String), MediaError> {
        let url =
            reqwest::Url::parse(url).map_err(|_| MediaError::Refused("not a URL".to_string()))?;
        let base = &self.config.api_base;
        let own_account = format!("/2010-04-01/Accounts/{}/", self.config.account_sid);
        let trusted = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
            && url.path().starts_with(&own_account)
            && url.username().is_empty();
        if !trusted {
            return Err(MediaError::Refused(
                "not this account's media on the Twilio API host".to_string(),
            ));
        }
        let max = self.config.media_max_bytes;
        let response = self
            .http
            .get(url)
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .timeout(MEDIA_TIMEOUT)
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
        let mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .unwrap_or("application/octet-stream")
            .to_string();
        match read_limited(response, max).await {
            Ok(bytes) => Ok((bytes, mime)),
            Err(Limited::Over(size)) => Err(MediaError::TooLarge { size, max }),
            Err(Limited::Network(kind)) => Err(MediaError::Unreachable(kind)),
        }
    }
}
