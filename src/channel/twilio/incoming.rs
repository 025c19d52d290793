//! Twilio's webhooks: inbound messages (SMS, MMS, `whatsapp:` senders) and status callbacks,
//! both `application/x-www-form-urlencoded`.

use crate::domain::inbound::NewInbound;
use crate::domain::phone::PhoneNumber;
use crate::domain::{Channel, MediaKind, MediaRef, MessageStatus};

/// Why a webhook request was refused; the web layer maps these to status codes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("missing X-Twilio-Signature header")]
    MissingSignature,
    #[error("X-Twilio-Signature does not match")]
    BadSignature,
    #[error("body is not valid UTF-8 form data")]
    NotUtf8,
    #[error("missing parameter {0}")]
    Missing(&'static str),
    #[error("parameter {0} is invalid: {1}")]
    Invalid(&'static str, String),
}

/// Form parameters in the order received.
pub type Params = Vec<(String, String)>;

/// Parses an `application/x-www-form-urlencoded` body.
pub fn parse_form(body: &[u8]) -> Result<Params, WebhookError> {
    std::str::from_utf8(body).map_err(|_| WebhookError::NotUtf8)?;
    Ok(form_urlencoded::parse(body).into_owned().collect())
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A Twilio address: `+62…` for SMS, `whatsapp:+62…` for WhatsApp.
pub fn parse_address(address: &str) -> Result<(Channel, PhoneNumber), String> {
    let (channel, number) = match address.strip_prefix("whatsapp:") {
        Some(n) => (Channel::TwilioWhatsapp, n),
        None => (Channel::TwilioSms, address),
    };
    if !number.trim_start().starts_with('+') {
        return Err(format!("{address:?} is not an E.164 number"));
    }
    PhoneNumber::parse(number)
        .map(|p| (channel, p))
        .map_err(|e| e.to_string())
}

/// An inbound message webhook, verified.
pub fn parse_inbound(params: &[(String, String)]) -> Result<NewInbound, WebhookError> {
    let sid = param(params, "MessageSid")
        .or_else(|| param(params, "SmsMessageSid"))
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::Missing("MessageSid"))?;
    if sid.len() > 64 || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(WebhookError::Invalid(
            "MessageSid",
            "not a Twilio SID".into(),
        ));
    }
    let from = param(params, "From").ok_or(WebhookError::Missing("From"))?;
    let (channel, phone) = parse_address(from).map_err(|e| WebhookError::Invalid("From", e))?;
    let mut text = param(params, "Body").unwrap_or_default().to_string();
    // A tapped WhatsApp quick-reply button carries its payload; treat it as what was typed.
    if text.trim().is_empty() {
        if let Some(payload) = param(params, "ButtonPayload") {
            text = payload.to_string();
        }
    }
    // A voice note or picture (MMS, WhatsApp through Twilio): a person will listen or look.
    let media = param(params, "NumMedia")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > 0)
        .and_then(|_| param(params, "MediaUrl0"))
        .map(|url| {
            let mime = param(params, "MediaContentType0").map(str::to_string);
            let kind = match mime.as_deref().and_then(|m| m.split('/').next()) {
                Some("audio") => MediaKind::Audio,
                Some("image") => MediaKind::Image,
                Some("video") => MediaKind::Video,
                _ => MediaKind::Document,
            };
            MediaRef {
                kind,
                id: url.to_string(),
                mime_type: mime,
                caption: Some(text.clone()).filter(|t| !t.is_empty()),
            }
        });
    Ok(NewInbound {
        channel,
        from: phone.into(),
        profile: Default::default(),
        text,
        external_id: sid.to_string(),
        media,
        unsupported: None,
    })
}

/// A StatusCallback: message SID, new status, error code if any.
pub fn parse_status(
    params: &[(String, String)],
) -> Result<(String, Option<MessageStatus>, Option<String>), WebhookError> {
    let sid = param(params, "MessageSid")
        .or_else(|| param(params, "SmsSid"))
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::Missing("MessageSid"))?;
    let status = param(params, "MessageStatus")
        .or_else(|| param(params, "SmsStatus"))
        .ok_or(WebhookError::Missing("MessageStatus"))?;
    let error = param(params, "ErrorCode")
        .filter(|c| !c.is_empty())
        .map(|c| format!("twilio error {c}"));
    Ok((sid.to_string(), map_status(status), error))
}

/// Twilio's message statuses mapped to ours; statuses of inbound messages map to none.
pub fn map_status(status: &str) -> Option<MessageStatus> {
    Some(match status {
        "queued" | "accepted" | "scheduled" => MessageStatus::Accepted,
        "sending" | "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "undelivered" => MessageStatus::Undelivered,
        "failed" | "canceled" => MessageStatus::Failed,
        _ => return None,
    })
}
