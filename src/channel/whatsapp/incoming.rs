//! Webhook bodies → [`InboundEvent`]s, over the typed [`wire`](super::wire) structs. Items that
//! cannot be understood are skipped with a reason (no phone numbers), never failing the batch.

use serde_json::Value;

use super::errors::describe_error;
use super::wire::{
    self, Change, ChangeValue, Entry, List, Notification, WaContact, WaMessage, WaStatus,
};
use super::{MAX_MESSAGE_ID, WebhookError};
use crate::channel::http::shorten;
use crate::channel::{
    InboundEvent, InboundKind, InboundMessage, MediaKind, MediaRef, StatusReport,
};
use crate::domain::phone::PhoneNumber;
use crate::domain::{ContactId, MessageStatus, WhatsappProfile, WhatsappUserId};

/// What one webhook carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Messages and delivery reports, in payload order.
    pub events: Vec<InboundEvent>,
    /// Human-readable reasons for items that were left out (for the logs; no phone numbers).
    pub skipped: Vec<String>,
}

/// Parses a webhook body (`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":
/// …}]}]}`) into events. Items that cannot be understood are skipped with a reason, never failing
/// the batch: the error is only for a body that is not JSON or has no `entry` array.
pub fn parse_webhook(body: &[u8]) -> Result<Parsed, WebhookError> {
    let text = std::str::from_utf8(body).map_err(|_| WebhookError::NotUtf8)?;
    let root: Value =
        serde_json::from_str(text).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let Some(notification) = wire::object::<Notification>(root) else {
        return Err(WebhookError::Invalid(
            "body",
            "not a JSON object".to_string(),
        ));
    };
    let entries = match notification.entry {
        List::Items(entries) => entries,
        List::Absent => return Err(WebhookError::Missing("entry")),
        List::NotAList => {
            return Err(WebhookError::Invalid("entry", "not an array".to_string()));
        }
    };
    let mut parsed = Parsed::default();
    let other_object = notification
        .object
        .0
        .filter(|o| o.as_str() != Some("whatsapp_business_account"));
    if let Some(object) = other_object {
        parsed.skipped.push(format!(
            "object {} is not whatsapp_business_account: whole payload ignored",
            shown(&object)
        ));
        return Ok(parsed);
    }
    for (e, entry) in entries.into_iter().enumerate() {
        let changes = match wire::object::<Entry>(entry).map(|entry| entry.changes) {
            Some(List::Items(changes)) => changes,
            _ => {
                parsed.skipped.push(format!("entry {e}: no changes array"));
                continue;
            }
        };
        for (c, change) in changes.into_iter().enumerate() {
            let at = format!("entry {e} change {c}");
            let change = wire::object::<Change>(change).unwrap_or_default();
            match &change.field.0 {
                None => {}
                Some(field) if field.as_str() == Some("messages") => {}
                Some(field) => {
                    parsed
                        .skipped
                        .push(format!("{at}: field {} ignored", shown(field)));
                    continue;
                }
            }
            match change.value.0 {
                Some(value) => parse_value(value, &at, &mut parsed),
                None => parsed.skipped.push(format!("{at}: no value object")),
            }
        }
    }
    Ok(parsed)
}

/// One `changes[].value`: messages, statuses and errors Meta reports about the account.
fn parse_value(value: ChangeValue, at: &str, parsed: &mut Parsed) {
    match value.errors {
        List::Absent => {}
        List::Items(errors) => {
            for error in errors {
                let error = wire::object(error).unwrap_or_default();
                parsed
                    .skipped
                    .push(format!("{at}: meta reported {}", describe_error(&error)));
            }
        }
        List::NotAList => parsed.skipped.push(format!("{at}: errors is not an array")),
    }
    let contacts: Vec<WaContact> = match value.contacts {
        List::Items(contacts) => contacts
            .into_iter()
            .map(|c| wire::object(c).unwrap_or_default())
            .collect(),
        List::Absent | List::NotAList => Vec::new(),
    };
    match value.messages {
        List::Absent => {}
        List::Items(messages) => {
            for (i, message) in messages.into_iter().enumerate() {
                let message = wire::object(message).unwrap_or_default();
                match parse_message(&message, &contacts) {
                    Ok(m) => parsed.events.push(InboundEvent::Message(m)),
                    Err(why) => parsed.skipped.push(format!("{at} message {i}: {why}")),
                }
            }
        }
        List::NotAList => parsed
            .skipped
            .push(format!("{at}: messages is not an array")),
    }
    match value.statuses {
        List::Absent => {}
        List::Items(statuses) => {
            for (i, status) in statuses.into_iter().enumerate() {
                let status = wire::object(status).unwrap_or_default();
                match parse_status(&status) {
                    Ok(s) => parsed.events.push(InboundEvent::Status(s)),
                    Err(why) => parsed.skipped.push(format!("{at} status {i}: {why}")),
                }
            }
        }
        List::NotAList => parsed
            .skipped
            .push(format!("{at}: statuses is not an array")),
    }
}

/// A WhatsApp id (`wa_id`, `from`) is the number in international form without `+`.
pub fn phone_from_wa_id(wa_id: &str) -> Option<PhoneNumber> {
    let digits = wa_id.trim();
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    PhoneNumber::parse(&format!("+{digits}")).ok()
}

/// Who sent a message: the number and the user id the message and its `contacts[]` entry name
/// (either may be missing: a person with a username may hide their number), and their names.
/// `from` is the number when there is one, so people who wrote before usernames keep their
/// contact; otherwise the user id.
fn sender(m: &WaMessage, contacts: &[WaContact]) -> Option<(ContactId, WhatsappProfile)> {
    let raw_from = m.from.non_empty();
    let user_id = m
        .from_user_id
        .non_empty()
        .and_then(|u| WhatsappUserId::parse(u).ok())
        .or_else(|| raw_from.and_then(|f| WhatsappUserId::parse(f).ok()));
    // The contacts entry for this sender: by user id, by wa_id, or the only one there is.
    let entry = contacts
        .iter()
        .find(|c| {
            let by_user = user_id.as_ref().is_some_and(|u| {
                c.user_id.non_empty() == Some(u.as_str()) || c.wa_id.non_empty() == Some(u.as_str())
            });
            by_user || (raw_from.is_some() && c.wa_id.non_empty() == raw_from)
        })
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        });
    // The entry's wa_id stands in only when `from` gives no number by design (absent, or the
    // user id itself): a `from` that is simply broken never borrows someone else's number.
    let from_is_user = raw_from.is_none_or(|f| WhatsappUserId::parse(f).is_ok());
    let phone = match raw_from.and_then(phone_from_wa_id) {
        Some(phone) => Some(phone),
        None if from_is_user => entry
            .and_then(|c| c.wa_id.non_empty())
            .and_then(phone_from_wa_id),
        None => None,
    };
    let user_id = user_id.or_else(|| {
        entry
            .and_then(|c| c.user_id.non_empty())
            .and_then(|u| WhatsappUserId::parse(u).ok())
    });
    let Some(user_id) = user_id else {
        // A number and nothing else, as before usernames: the number is the whole identity.
        return phone.map(|phone| (ContactId::Phone(phone), WhatsappProfile::default()));
    };
    let profile = entry.and_then(|c| c.profile.as_ref());
    let name = profile.and_then(|p| p.name.non_empty()).map(clean_name);
    let username = profile
        .and_then(|p| p.username.non_empty())
        .map(|u| clean_name(u.trim_start_matches('@')));
    let profile = WhatsappProfile {
        user_id: Some(user_id.clone()),
        phone: phone.clone(),
        name: name.filter(|v| !v.is_empty()),
        username: username.filter(|v| !v.is_empty()),
    };
    let from = match phone {
        Some(phone) => ContactId::Phone(phone),
        None => ContactId::from(user_id),
    };
    Some((from, profile))
}

/// A name from a profile, kept short and without control characters (it is shown to staff).
fn clean_name(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .take(WhatsappProfile::MAX_NAME)
        .collect::<String>()
        .trim()
        .to_string()
}

/// One `messages[]` item. Reasons never contain the sender's number.
fn parse_message(m: &WaMessage, contacts: &[WaContact]) -> Result<InboundMessage, String> {
    let id = m.id.non_empty().ok_or("no message id")?;
    if id.len() > MAX_MESSAGE_ID {
        return Err(format!("message id {} is too long", shorten(id, 40)));
    }
    if m.from.non_empty().is_none() && m.from_user_id.non_empty().is_none() {
        return Err(format!("message {}: no sender", shorten(id, 80)));
    }
    let (from, profile) = sender(m, contacts).ok_or_else(|| {
        format!(
            "message {}: sender is neither a WhatsApp phone number nor a user id",
            shorten(id, 80)
        )
    })?;
    let kind_name = m.kind.as_ref().map_or("unknown", String::as_str);
    let (text, kind) = match kind_name {
        "text" => {
            let body = m
                .text
                .as_ref()
                .and_then(|t| t.body.as_ref())
                .ok_or_else(|| format!("message {}: text without body", shorten(id, 80)))?;
            (body.to_string(), InboundKind::Text)
        }
        "interactive" => match interactive_reply(m) {
            Some(choice) => (choice.to_string(), InboundKind::Choice),
            None => (
                String::new(),
                InboundKind::Unsupported("interactive".into()),
            ),
        },
        "button" => {
            let button = m.button.as_ref();
            let choice = button
                .and_then(|b| b.payload.non_empty())
                .or_else(|| button.and_then(|b| b.text.non_empty()))
                .ok_or_else(|| {
                    format!(
                        "message {}: button without payload or text",
                        shorten(id, 80)
                    )
                })?;
            (choice.to_string(), InboundKind::Choice)
        }
        "audio" | "voice" | "image" | "video" | "document" => {
            let media = media_ref(m, kind_name).ok_or_else(|| {
                format!("message {}: {kind_name} without media id", shorten(id, 80))
            })?;
            (
                media.caption.clone().unwrap_or_default(),
                InboundKind::Media(media),
            )
        }
        other => (String::new(), InboundKind::Unsupported(type_name(other))),
    };
    Ok(InboundMessage {
        from,
        profile,
        external_id: id.to_string(),
        text,
        kind,
    })
}

/// The id of a tapped list row or reply button (its title if it has no id).
fn interactive_reply(m: &WaMessage) -> Option<&str> {
    let interactive = m.interactive.as_ref()?;
    let reply = match interactive.kind.as_ref().map(String::as_str) {
        Some("list_reply") => interactive.list_reply.as_ref()?,
        Some("button_reply") => interactive.button_reply.as_ref()?,
        Some(_) => return None,
        None => interactive
            .list_reply
            .as_ref()
            .or(interactive.button_reply.as_ref())?,
    };
    reply.id.non_empty().or_else(|| reply.title.non_empty())
}

fn media_ref(m: &WaMessage, kind_name: &str) -> Option<MediaRef> {
    let (kind, media) = match kind_name {
        "audio" => (MediaKind::Audio, m.audio.as_ref()),
        // A voice note is an `audio` object in the API versions we have seen.
        "voice" => (MediaKind::Audio, m.voice.as_ref().or(m.audio.as_ref())),
        "image" => (MediaKind::Image, m.image.as_ref()),
        "video" => (MediaKind::Video, m.video.as_ref()),
        _ => (MediaKind::Document, m.document.as_ref()),
    };
    let media = media?;
    let id = media.id.non_empty()?;
    Some(MediaRef {
        kind,
        id: id.to_string(),
        mime_type: media.mime_type.non_empty().map(str::to_string),
        caption: media.caption.non_empty().map(str::to_string),
    })
}

/// A message type for [`InboundKind::Unsupported`]: Meta's name, kept short and plain.
fn type_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(32)
        .collect();
    if clean.is_empty() {
        "unknown".to_string()
    } else {
        clean
    }
}

/// One `statuses[]` item.
fn parse_status(s: &WaStatus) -> Result<StatusReport, String> {
    let id = s.id.non_empty().ok_or("no message id")?;
    let status = match &s.status.0 {
        Some(v) => match v.as_str() {
            Some("sent") => MessageStatus::Sent,
            Some("delivered") => MessageStatus::Delivered,
            Some("read") => MessageStatus::Read,
            Some("failed") => MessageStatus::Failed,
            _ => {
                return Err(format!(
                    "status {} for {} ignored",
                    shown(v),
                    shorten(id, 80)
                ));
            }
        },
        None => return Err(format!("no status for {}", shorten(id, 80))),
    };
    let error = match &s.errors {
        List::Items(errors) => errors
            .first()
            .map(|e| describe_error(&wire::object(e.clone()).unwrap_or_default())),
        _ => None,
    };
    Ok(StatusReport {
        external_id: id.to_string(),
        status,
        error,
    })
}

/// A JSON value for a log line: strings quoted, everything short.
fn shown(v: &Value) -> String {
    match v.as_str() {
        Some(s) => format!("{:?}", shorten(s, 40)),
        None => shorten(&v.to_string(), 40),
    }
}
