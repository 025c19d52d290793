//! Meta's subscription check (`hub.*`) and the `X-Hub-Signature-256` on every webhook.

use super::{MAX_CHALLENGE_LEN, WebhookError};
use crate::channel::signature;

/// Meta's subscription check (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`):
/// the challenge to answer with (200, plain text) when the mode is `subscribe` and the token
/// matches, else `None` (answer 403).
pub fn verify_subscription(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    verify_token: &str,
) -> Option<String> {
    if mode != Some("subscribe") || verify_token.is_empty() {
        return None;
    }
    let token = token?;
    if !signature::same(verify_token.as_bytes(), token.as_bytes()) {
        return None;
    }
    let challenge = challenge?;
    // It is echoed back verbatim: accept only what a challenge looks like.
    let plausible = !challenge.is_empty()
        && challenge.len() <= MAX_CHALLENGE_LEN
        && challenge.bytes().all(|b| b.is_ascii_graphic());
    plausible.then(|| challenge.to_string())
}

/// `sha256=<hex HMAC-SHA256(app_secret, body)>`, as Meta signs webhooks.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(app_secret, body)))
}

fn hmac_sha256(key: &str, body: &[u8]) -> Vec<u8> {
    signature::hmac_sha256(key.as_bytes(), &[body])
}

/// Checks `X-Hub-Signature-256` against the raw body, in constant time. Upper- or lower-case
/// hex is accepted.
pub fn verify_signature(
    app_secret: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), WebhookError> {
    let header = header.ok_or(WebhookError::MissingSignature)?.trim();
    let hex_part = header
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("sha256="))
        .and_then(|_| header.get(7..))
        .ok_or(WebhookError::BadSignature)?;
    let given = hex::decode(hex_part).map_err(|_| WebhookError::BadSignature)?;
    if app_secret.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    let expected = hmac_sha256(app_secret, body);
    if !signature::same(&expected, &given) {
        return Err(WebhookError::BadSignature);
    }
    Ok(())
}
