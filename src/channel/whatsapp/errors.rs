//! Graph API errors: what the outbox does with each (DESIGN §3), and how they read in logs.

use serde_json::Value;

use super::MAX_REASON_CHARS;
use super::wire::WaError;
use crate::channel::SendOutcome;
use crate::channel::http::shorten;

/// Sending outside the 24-hour window (470 is the same error from the older API).
pub const OUTSIDE_WINDOW: &[u64] = &[131047, 470];
/// Rate limits and Meta trouble: 130429 throughput, 131056 pair rate, 131048 spam rate, 4 app
/// calls, 80007 account calls; 1 and 2 API unknown/unavailable, 131000 something went wrong,
/// 131016 service unavailable, 133004 server temporarily unavailable.
pub const RETRY: &[u64] = &[
    130429, 131056, 131048, 4, 80007, 1, 2, 131000, 131016, 133004,
];
/// Message undeliverable (not on WhatsApp, old app, …).
pub const UNDELIVERABLE: &[u64] = &[131026];
/// The person chose to stop receiving marketing messages from us: Meta's STOP.
pub const OPTED_OUT: &[u64] = &[131050];

/// Maps a Graph API error to what the outbox does (DESIGN §3): outside the 24-hour window →
/// send a template or SMS instead; rate limits and Meta trouble → retry later; the rest fails.
pub fn classify(http: u16, code: Option<u64>, reason: String) -> SendOutcome {
    let is = |table: &[u64]| code.is_some_and(|c| table.contains(&c));
    if is(OUTSIDE_WINDOW) {
        SendOutcome::OutsideWindow { reason }
    } else if is(RETRY) {
        SendOutcome::Retry {
            reason,
            after: None,
        }
    } else if is(UNDELIVERABLE) {
        SendOutcome::Failed { reason }
    } else if is(OPTED_OUT) {
        SendOutcome::OptedOut { reason }
    } else if http == 429 || http >= 500 {
        SendOutcome::Retry {
            reason,
            after: None,
        }
    } else {
        SendOutcome::Failed { reason }
    }
}

/// `whatsapp error <code>: <title>` from an `errors[]` item.
pub fn describe_error(error: &WaError) -> String {
    let code = error.code.as_ref().map(|c| c.0);
    let title = error
        .title
        .non_empty()
        .or_else(|| error.message.non_empty())
        .map(|t| shorten(t, MAX_REASON_CHARS));
    match (code, title) {
        (Some(code), Some(title)) => format!("whatsapp error {code}: {title}"),
        (Some(code), None) => format!("whatsapp error {code}"),
        (None, Some(title)) => format!("whatsapp error: {title}"),
        (None, None) => "whatsapp error (no details)".to_string(),
    }
}

/// The Graph API error in a response body: `{"error":{"code","message","error_data":
/// {"details"}}}`, else the start of the body.
pub(super) fn api_error(body: &[u8]) -> (Option<u64>, String) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let Some(error) = error else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        return (
            None,
            if text.is_empty() {
                "(empty answer)".to_string()
            } else {
                shorten(text, 200)
            },
        );
    };
    let code = error.get("code").and_then(|c| {
        c.as_u64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let message = non_empty(error.get("message")).unwrap_or("(no message)");
    let details = non_empty(error.get("error_data").and_then(|d| d.get("details")));
    let text = match details {
        Some(details) if details != message => format!("{message} ({details})"),
        _ => message.to_string(),
    };
    (code, text)
}

/// A non-blank string value.
fn non_empty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}
