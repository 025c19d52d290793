//! Sending through the phone's local server: `POST {url}/message` with Basic auth.

use std::time::Duration;

use serde_json::Value;

use super::GatewaySender;
use super::incoming::MAX_REASON_CHARS;
use crate::channel::SendOutcome;
use crate::channel::http::{self, shorten};
use crate::domain::MessageStatus;
use crate::domain::phone::PhoneNumber;

impl GatewaySender {
    /// JSON body: {"id": message_id, "textMessage": {"text": text}, "phoneNumbers": ["+62…"],
    /// "withDeliveryReport": true}
    pub fn request_body(message_id: &str, to: &PhoneNumber, text: &str) -> Value {
        serde_json::json!({
            "id": message_id,
            "textMessage": { "text": text },
            "phoneNumbers": [to.as_str()],
            "withDeliveryReport": true,
        })
    }

    /// POST {url}/message with Basic auth, timeout 15 s. 2xx → Accepted with `message_id` as
    /// the external id (the phone's status events carry the id we gave). Connection refused /
    /// timeout → Retry; 401/403 → Failed; 429/5xx → Retry; other 4xx → Failed with the body's
    /// message.
    pub async fn send(&self, message_id: &str, to: &PhoneNumber, text: &str) -> SendOutcome {
        let url = format!("{}/message", self.config.url.as_str().trim_end_matches('/'));
        let request = self
            .http
            .post(url)
            .basic_auth(&self.config.username, Some(&self.config.password))
            .json(&Self::request_body(message_id, to, text))
            .timeout(Duration::from_secs(15));
        let answer = match http::send(request, "gateway phone unreachable").await {
            Ok(answer) => answer,
            Err(retry) => return retry,
        };
        let (status, after) = (answer.status, answer.retry_after);
        if (200..300).contains(&status) {
            // The answer ({id, state, recipients}) tells us nothing we need: status events
            // reference our id.
            return SendOutcome::Accepted {
                external_id: message_id.to_string(),
                status: MessageStatus::Accepted,
            };
        }
        classify(status, &error_message(&answer.body), after)
    }
}

/// Maps the phone's answer to what the outbox should do.
pub fn classify(status: u16, message: &str, after: Option<Duration>) -> SendOutcome {
    match status {
        200..=299 => SendOutcome::Accepted {
            external_id: String::new(),
            status: MessageStatus::Accepted,
        },
        401 | 403 => SendOutcome::Failed {
            reason: "gateway refused the credentials".into(),
        },
        429 | 500..=599 => SendOutcome::Retry {
            reason: format!("gateway {status}: {message}"),
            after,
        },
        _ => SendOutcome::Failed {
            reason: format!("gateway {status}: {message}"),
        },
    }
}

/// The `message` of the phone's `{"message": …}` error answer, or the start of the body.
pub(super) fn error_message(body: &[u8]) -> String {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    if message.is_empty() {
        "(no message)".into()
    } else {
        shorten(&message, MAX_REASON_CHARS)
    }
}
