//! The phone's webhooks: `X-Signature` over body and `X-Timestamp`, and the envelope
//! `{id, webhookId, event, deviceId, payload}` of received SMS and delivery reports.

use serde_json::{Map, Value};

use crate::channel::http::shorten;
use crate::channel::{InboundKind, InboundMessage, StatusReport, signature};
use crate::domain::MessageStatus;
use crate::domain::phone::{PhoneError, PhoneNumber};

/// How far `X-Timestamp` may be from our clock, either way (the docs suggest ±5 minutes).
pub const MAX_SKEW_SECS: u64 = 300;

/// Longest failure reason kept from a phone's report or error answer.
pub(super) const MAX_REASON_CHARS: usize = 300;

/// Why a webhook request was refused; the web layer maps these to status codes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("missing X-Signature header")]
    MissingSignature,
    #[error("X-Signature does not match")]
    BadSignature,
    /// X-Timestamp missing, not a number, or more than 5 minutes from now.
    #[error("stale or missing X-Timestamp: {0}")]
    Stale(String),
    #[error("malformed webhook body: {0}")]
    Malformed(String),
}

/// Checks X-Signature (hex, case-insensitive) = HMAC-SHA256(signing_key, body ++
/// timestamp_header_bytes) in constant time (subtle), and that |now_unix - timestamp| <= 300.
///
/// The signature is checked before the clock, so a forged request is always `BadSignature` and
/// `Stale` after a valid signature means a replay or a phone whose clock is wrong.
pub fn verify(
    signing_key: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now_unix: i64,
) -> Result<(), WebhookError> {
    let signature = signature.ok_or(WebhookError::MissingSignature)?;
    let timestamp = timestamp.ok_or_else(|| WebhookError::Stale("missing X-Timestamp".into()))?;
    let sent_at: i64 = timestamp.trim().parse().map_err(|_| {
        WebhookError::Stale(format!(
            "X-Timestamp {:?} is not a unix time in seconds",
            shorten(timestamp, 32)
        ))
    })?;

    // The header exactly as received: the phone signed these bytes, not a re-formatted number.
    let expected = signature::hmac_sha256(signing_key.as_bytes(), &[body, timestamp.as_bytes()]);
    // hex::decode accepts upper- and lowercase digits.
    let given = hex::decode(signature.trim()).map_err(|_| WebhookError::BadSignature)?;
    if !signature::same(&expected, &given) {
        return Err(WebhookError::BadSignature);
    }

    let skew = now_unix.abs_diff(sent_at);
    if skew > MAX_SKEW_SECS {
        return Err(WebhookError::Stale(format!(
            "X-Timestamp is {skew} s away from our clock; at most {MAX_SKEW_SECS} s is accepted"
        )));
    }
    Ok(())
}

/// A verified webhook body, parsed. Never panics on any input (it will be fuzzed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// the envelope id (dedupe key for resent events)
    pub id: String,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// sms:received → an InboundMessage with external_id = payload.messageId (the phone resends
    /// the same event: dedupe on it), from = PhoneNumber::parse(sender) (Indonesian local
    /// numbers → E.164), text = payload.message, kind Text
    Received(InboundMessage),
    /// sms:sent / sms:delivered / sms:failed → StatusReport with external_id =
    /// payload.messageId (this is the id WE gave the message when sending), status
    /// Sent/Delivered/Failed, error from payload.reason for failed
    Status(StatusReport),
    /// any other event (system:ping, mms:…, sms:data-received): acknowledged, ignored
    Other(String),
}

/// Parses a webhook body (verify it first with [`verify`]).
///
/// `Malformed` when it is not a JSON object, lacks `id` or `event`, or an SMS event lacks the
/// payload fields we need. The sender is read from `payload.sender` (app versions since early
/// 2026) or the older, now deprecated, `payload.phoneNumber`.
pub fn parse_event(body: &[u8]) -> Result<Event, WebhookError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not JSON: {e}")))?;
    let envelope = value
        .as_object()
        .ok_or_else(|| WebhookError::Malformed("not a JSON object".into()))?;
    let id = required_str(envelope, "id", "")?.to_string();
    let event = required_str(envelope, "event", "")?;

    let status = match event {
        "sms:received" => {
            let payload = payload(envelope)?;
            let message_id = required_str(payload, "messageId", "payload.")?;
            let text = match payload.get("message") {
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(malformed_field("payload.message", "is not a string")),
                None => return Err(malformed_field("payload.message", "is missing")),
            };
            let (field, sender) = match (payload.get("sender"), payload.get("phoneNumber")) {
                (Some(Value::String(s)), _) => ("payload.sender", s),
                (None | Some(Value::Null), Some(Value::String(s))) => ("payload.phoneNumber", s),
                (None | Some(Value::Null), _) => {
                    return Err(malformed_field(
                        "payload.sender",
                        "is missing (and so is the older payload.phoneNumber)",
                    ));
                }
                (Some(_), _) => return Err(malformed_field("payload.sender", "is not a string")),
            };
            // Carrier promotions come from names ("TELKOMSEL") and short codes: nobody to answer.
            // Acknowledge them (the phone would resend a refused event for days) and log why.
            let from = match PhoneNumber::parse(sender) {
                Ok(from) => from,
                Err(e) => {
                    return Ok(Event {
                        id,
                        kind: EventKind::Other(format!(
                            "sms:received ignored: {field} is not a phone number: {}",
                            why(&e)
                        )),
                    });
                }
            };
            return Ok(Event {
                id,
                kind: EventKind::Received(InboundMessage {
                    from: from.into(),
                    profile: Default::default(),
                    external_id: message_id.to_string(),
                    text,
                    kind: InboundKind::Text,
                }),
            });
        }
        "sms:sent" => MessageStatus::Sent,
        "sms:delivered" => MessageStatus::Delivered,
        "sms:failed" => MessageStatus::Failed,
        other => {
            return Ok(Event {
                id,
                kind: EventKind::Other(shorten(other, 64)),
            });
        }
    };

    let payload = payload(envelope)?;
    let message_id = required_str(payload, "messageId", "payload.")?;
    let error = if status == MessageStatus::Failed {
        match payload.get("reason") {
            Some(Value::String(r)) if !r.trim().is_empty() => {
                Some(shorten(r.trim(), MAX_REASON_CHARS))
            }
            _ => Some("the phone reported the SMS as failed".to_string()),
        }
    } else {
        None
    };
    Ok(Event {
        id,
        kind: EventKind::Status(StatusReport {
            external_id: message_id.to_string(),
            status,
            error,
        }),
    })
}

fn payload(envelope: &Map<String, Value>) -> Result<&Map<String, Value>, WebhookError> {
    match envelope.get("payload") {
        Some(Value::Object(p)) => Ok(p),
        Some(_) => Err(malformed_field("payload", "is not an object")),
        None => Err(malformed_field("payload", "is missing")),
    }
}

/// A non-empty string field.
fn required_str<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    prefix: &str,
) -> Result<&'a str, WebhookError> {
    match object.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(malformed_field(&format!("{prefix}{name}"), "is empty")),
        Some(_) => Err(malformed_field(
            &format!("{prefix}{name}"),
            "is not a string",
        )),
        None => Err(malformed_field(&format!("{prefix}{name}"), "is missing")),
    }
}

fn malformed_field(field: &str, what: &str) -> WebhookError {
    WebhookError::Malformed(format!("{field} {what}"))
}

/// Why a sender is not a number, without repeating the number (it may be someone's phone and
/// this ends up in logs).
fn why(e: &PhoneError) -> String {
    match e {
        PhoneError::Empty => "it is empty".into(),
        PhoneError::BadCharacter(_) => {
            "it has characters other than digits (an alphanumeric sender id?)".into()
        }
        PhoneError::NotInternational(_) => {
            "it is neither international (+…) nor an Indonesian number (0…); a short code?".into()
        }
        PhoneError::BadLength(_, n) => format!("it has {n} digits; E.164 numbers have 8 to 15"),
    }
}
