//! The HTTP send skeleton every provider shares: send the request, turn network trouble into a
//! retry, read `Retry-After`, read the answer without letting it grow past a limit. Providers
//! only build the request and map the answer.

use std::time::Duration;

use super::SendOutcome;

/// A provider's answer to a send, read whole (up to [`ANSWER_MAX_BYTES`]).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// `Retry-After` in seconds, when the provider gave one.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Providers answer a send with a few hundred bytes of JSON; more than this is not an answer
/// we need to read (and must not fill memory).
pub const ANSWER_MAX_BYTES: u64 = 64 * 1024;

/// Sends `request`. A request that never got an answer (refused, timed out, cut) is a
/// [`SendOutcome::Retry`] whose reason starts with `unreachable` ("twilio unreachable: timeout");
/// the error text never carries the URL, which holds account ids and credentials.
pub async fn send(
    request: reqwest::RequestBuilder,
    unreachable: &str,
) -> Result<Answer, SendOutcome> {
    let response = request.send().await.map_err(|e| SendOutcome::Retry {
        reason: format!("{unreachable}: {}", error_kind(&e)),
        after: None,
    })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // A body cut short or too long still leaves the status to decide on: an accepted message
    // must not be sent twice because its answer was unreadable.
    let body = read_limited(response, ANSWER_MAX_BYTES)
        .await
        .unwrap_or_default();
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// Why a body was not read whole.
pub(crate) enum Limited {
    /// The body was longer than allowed; at least this many bytes.
    Over(u64),
    Network(String),
}

/// Reads a response body, stopping as soon as it is longer than `max` bytes.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    max: u64,
) -> Result<Vec<u8>, Limited> {
    let mut buffer = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let size = buffer.len() as u64 + chunk.len() as u64;
                if size > max {
                    return Err(Limited::Over(size));
                }
                buffer.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buffer),
            Err(e) => return Err(Limited::Network(error_kind(&e))),
        }
    }
}

/// What kind of failure a reqwest error was. reqwest's own text includes the URL (account SID,
/// phone number id, signed media URL, `user:password@` of the gateway phone): keep logs free
/// of it.
pub(crate) fn error_kind(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused or unreachable"
    } else if e.is_body() || e.is_decode() {
        "connection broken while reading the answer"
    } else {
        "request failed"
    };
    kind.to_string()
}

/// At most `max` characters of `s`, with `…` when cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn shorten_cuts_on_characters_and_marks_the_cut() {
        assert_eq!(shorten("سلام دوست", 4), "سلام…");
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("exact", 5), "exact");
    }
}
