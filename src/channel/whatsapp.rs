//! Meta's WhatsApp Cloud API: the subscription check and signature of webhooks, parsing their
//! messages and delivery reports, sending text, list and template messages, and fetching the
//! media people send (DESIGN §3).

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{
    InboundEvent, InboundKind, InboundMessage, Limited, MediaKind, MediaRef, SendOutcome,
    StatusReport, error_kind, read_limited,
};
use crate::config::{TemplateConfig, WhatsappConfig};
use crate::domain::MessageStatus;
use crate::domain::phone::PhoneNumber;
use crate::i18n::Lang;

/// Meta gives up on a webhook delivery after a while; sends should not wait longer than this.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// Looking up a media id.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(15);
/// Downloading a voice note or document (up to `media_max_bytes`).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// The media lookup answer is a few hundred bytes of JSON.
const LOOKUP_MAX_BYTES: u64 = 64 * 1024;
/// `hub.challenge` is a number; anything much longer is not Meta.
const MAX_CHALLENGE_LEN: usize = 512;
/// Longest provider text kept in a reason (error titles, details).
const MAX_REASON_CHARS: usize = 300;

/// Limits of an interactive list message.
const LIST_MAX_ROWS: usize = 10;
const LIST_MAX_ROW_TITLE: usize = 24;
const LIST_MAX_ROW_ID: usize = 200;
const LIST_MAX_BUTTON: usize = 20;
const LIST_MAX_BODY: usize = 1024;

/// Why a webhook request was refused; the web layer maps these to status codes
/// (signature problems → 403, the rest → 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("missing X-Hub-Signature-256 header")]
    MissingSignature,
    #[error("X-Hub-Signature-256 does not match the body")]
    BadSignature,
    #[error("body is not valid UTF-8")]
    NotUtf8,
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("field {0} is invalid: {1}")]
    Invalid(&'static str, String),
    #[error("body is not valid JSON: {0}")]
    Malformed(String),
}

// ---------------------------------------------------------------------------------------------
// Webhook verification
// ---------------------------------------------------------------------------------------------

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
    if !bool::from(token.as_bytes().ct_eq(verify_token.as_bytes())) {
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
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return Vec::new(); // HMAC takes keys of any length; this cannot happen
    };
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
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
    if expected.is_empty() || !bool::from(expected.as_slice().ct_eq(given.as_slice())) {
        return Err(WebhookError::BadSignature);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Webhook parsing
// ---------------------------------------------------------------------------------------------

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
    let Some(root) = root.as_object() else {
        return Err(WebhookError::Invalid(
            "body",
            "not a JSON object".to_string(),
        ));
    };
    let entries = root
        .get("entry")
        .ok_or(WebhookError::Missing("entry"))?
        .as_array()
        .ok_or_else(|| WebhookError::Invalid("entry", "not an array".to_string()))?;
    let mut parsed = Parsed::default();
    let other_object = root
        .get("object")
        .filter(|o| o.as_str() != Some("whatsapp_business_account"));
    if let Some(object) = other_object {
        parsed.skipped.push(format!(
            "object {} is not whatsapp_business_account: whole payload ignored",
            shown(object)
        ));
        return Ok(parsed);
    }
    for (e, entry) in entries.iter().enumerate() {
        let Some(changes) = entry.get("changes").and_then(Value::as_array) else {
            parsed.skipped.push(format!("entry {e}: no changes array"));
            continue;
        };
        for (c, change) in changes.iter().enumerate() {
            let at = format!("entry {e} change {c}");
            match change.get("field") {
                None => {}
                Some(field) if field.as_str() == Some("messages") => {}
                Some(field) => {
                    parsed
                        .skipped
                        .push(format!("{at}: field {} ignored", shown(field)));
                    continue;
                }
            }
            match change.get("value") {
                Some(value) if value.is_object() => parse_value(value, &at, &mut parsed),
                _ => parsed.skipped.push(format!("{at}: no value object")),
            }
        }
    }
    Ok(parsed)
}

/// One `changes[].value`: messages, statuses and errors Meta reports about the account.
fn parse_value(value: &Value, at: &str, parsed: &mut Parsed) {
    if let Some(errors) = value.get("errors") {
        match errors.as_array() {
            Some(errors) => {
                for error in errors {
                    parsed
                        .skipped
                        .push(format!("{at}: meta reported {}", describe_error(error)));
                }
            }
            None => parsed.skipped.push(format!("{at}: errors is not an array")),
        }
    }
    if let Some(messages) = value.get("messages") {
        match messages.as_array() {
            Some(messages) => {
                for (i, message) in messages.iter().enumerate() {
                    match parse_message(message) {
                        Ok(m) => parsed.events.push(InboundEvent::Message(m)),
                        Err(why) => parsed.skipped.push(format!("{at} message {i}: {why}")),
                    }
                }
            }
            None => parsed
                .skipped
                .push(format!("{at}: messages is not an array")),
        }
    }
    if let Some(statuses) = value.get("statuses") {
        match statuses.as_array() {
            Some(statuses) => {
                for (i, status) in statuses.iter().enumerate() {
                    match parse_status(status) {
                        Ok(s) => parsed.events.push(InboundEvent::Status(s)),
                        Err(why) => parsed.skipped.push(format!("{at} status {i}: {why}")),
                    }
                }
            }
            None => parsed
                .skipped
                .push(format!("{at}: statuses is not an array")),
        }
    }
}

fn str_field<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.trim().is_empty()).then_some(s)
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

/// One `messages[]` item. Reasons never contain the sender's number.
fn parse_message(m: &Value) -> Result<InboundMessage, String> {
    let id = str_field(m, "id")
        .and_then(non_empty)
        .ok_or("no message id")?;
    if id.len() > 256 {
        return Err(format!("message id {} is too long", shorten(id, 40)));
    }
    let from = str_field(m, "from")
        .and_then(non_empty)
        .ok_or_else(|| format!("message {}: no sender", shorten(id, 80)))?;
    let from = phone_from_wa_id(from).ok_or_else(|| {
        format!(
            "message {}: sender is not a WhatsApp phone number",
            shorten(id, 80)
        )
    })?;
    let kind_name = str_field(m, "type").unwrap_or("unknown");
    let (text, kind) = match kind_name {
        "text" => {
            let body = m
                .get("text")
                .and_then(|t| str_field(t, "body"))
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
            let button = m.get("button");
            let choice = button
                .and_then(|b| str_field(b, "payload"))
                .and_then(non_empty)
                .or_else(|| {
                    button
                        .and_then(|b| str_field(b, "text"))
                        .and_then(non_empty)
                })
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
        external_id: id.to_string(),
        text,
        kind,
    })
}

/// The id of a tapped list row or reply button (its title if it has no id).
fn interactive_reply(m: &Value) -> Option<&str> {
    let interactive = m.get("interactive")?;
    let reply = match str_field(interactive, "type") {
        Some(t @ ("list_reply" | "button_reply")) => interactive.get(t)?,
        Some(_) => return None,
        None => interactive
            .get("list_reply")
            .or_else(|| interactive.get("button_reply"))?,
    };
    str_field(reply, "id")
        .and_then(non_empty)
        .or_else(|| str_field(reply, "title").and_then(non_empty))
}

fn media_ref(m: &Value, kind_name: &str) -> Option<MediaRef> {
    let kind = match kind_name {
        "audio" | "voice" => MediaKind::Audio,
        "image" => MediaKind::Image,
        "video" => MediaKind::Video,
        _ => MediaKind::Document,
    };
    let media = m
        .get(kind_name)
        .or_else(|| (kind_name == "voice").then(|| m.get("audio")).flatten())?;
    let id = str_field(media, "id").and_then(non_empty)?;
    Some(MediaRef {
        kind,
        id: id.to_string(),
        mime_type: str_field(media, "mime_type")
            .and_then(non_empty)
            .map(str::to_string),
        caption: str_field(media, "caption")
            .and_then(non_empty)
            .map(str::to_string),
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
fn parse_status(s: &Value) -> Result<StatusReport, String> {
    let id = str_field(s, "id")
        .and_then(non_empty)
        .ok_or("no message id")?;
    let status = match s.get("status") {
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
    let error = s
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
        .map(describe_error);
    Ok(StatusReport {
        external_id: id.to_string(),
        status,
        error,
    })
}

/// `whatsapp error <code>: <title>` from an `errors[]` item.
fn describe_error(error: &Value) -> String {
    let code = error.get("code").and_then(|c| {
        c.as_u64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let title = str_field(error, "title")
        .and_then(non_empty)
        .or_else(|| str_field(error, "message").and_then(non_empty))
        .map(|t| shorten(t, MAX_REASON_CHARS));
    match (code, title) {
        (Some(code), Some(title)) => format!("whatsapp error {code}: {title}"),
        (Some(code), None) => format!("whatsapp error {code}"),
        (None, Some(title)) => format!("whatsapp error: {title}"),
        (None, None) => "whatsapp error (no details)".to_string(),
    }
}

/// At most `max` characters of `s`, with `…` when cut.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

/// A JSON value for a log line: strings quoted, everything short.
fn shown(v: &Value) -> String {
    match v.as_str() {
        Some(s) => format!("{:?}", shorten(s, 40)),
        None => shorten(&v.to_string(), 40),
    }
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

/// An outbound WhatsApp message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outbound {
    Text {
        body: String,
    },
    /// Interactive list: body text, button label (≤20 chars), rows (id, title ≤24 chars), one
    /// section. Build it with [`Outbound::list`], which checks the limits.
    List {
        body: String,
        button: String,
        rows: Vec<ListRow>,
    },
    /// An approved template, the only thing that may be sent outside the 24-hour window.
    Template {
        name: String,
        language: String,
        /// Body parameters {{1}}…
        params: Vec<String>,
    },
}

/// One row of a list message: `id` comes back in the reply, `title` is what the person sees.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListRow {
    pub id: String,
    pub title: String,
}

fn chars_within(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max
}

impl Outbound {
    /// A list message, only if it fits WhatsApp's limits: 1 to 10 rows with distinct non-empty
    /// ids (≤ 200 chars) and titles of at most 24 characters, a button label of at most 20 and a
    /// body of at most 1024. Otherwise `None`: send the menu as plain text.
    pub fn list(body: String, button: String, rows: Vec<ListRow>) -> Option<Outbound> {
        let rows_fit = (1..=LIST_MAX_ROWS).contains(&rows.len())
            && rows.iter().all(|r| {
                chars_within(&r.title, LIST_MAX_ROW_TITLE) && chars_within(&r.id, LIST_MAX_ROW_ID)
            })
            && rows
                .iter()
                .enumerate()
                .all(|(i, r)| rows[..i].iter().all(|earlier| earlier.id != r.id));
        let fits = rows_fit
            && chars_within(&button, LIST_MAX_BUTTON)
            && chars_within(&body, LIST_MAX_BODY);
        fits.then_some(Outbound::List { body, button, rows })
    }
}

/// Meta refuses template parameters with line breaks, tabs or more than four spaces in a row
/// (error 132018): lines are joined with a space and runs of blanks squeezed to one.
fn template_param(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The JSON body for `POST {api_base}/{phone_number_id}/messages`.
pub fn request_body(to: &PhoneNumber, message: &Outbound) -> Value {
    let to = to.as_str().trim_start_matches('+');
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
    });
    let (kind, content) = match message {
        Outbound::Text { body } => ("text", json!({ "preview_url": false, "body": body })),
        Outbound::List { body, button, rows } => (
            "interactive",
            json!({
                "type": "list",
                "body": { "text": body },
                "action": {
                    "button": button,
                    "sections": [{
                        "rows": rows
                            .iter()
                            .map(|r| json!({ "id": r.id, "title": r.title }))
                            .collect::<Vec<_>>(),
                    }],
                },
            }),
        ),
        Outbound::Template {
            name,
            language,
            params,
        } => {
            let mut template = json!({ "name": name, "language": { "code": language } });
            if !params.is_empty() {
                template["components"] = json!([{
                    "type": "body",
                    "parameters": params
                        .iter()
                        .map(|p| json!({ "type": "text", "text": template_param(p) }))
                        .collect::<Vec<_>>(),
                }]);
            }
            ("template", template)
        }
    };
    body["type"] = json!(kind);
    body[kind] = content;
    body
}

/// Maps a Graph API error to what the outbox does (DESIGN §3): outside the 24-hour window →
/// send a template or SMS instead; rate limits and Meta trouble → retry later; the rest fails.
pub fn classify(http: u16, code: Option<u64>, reason: String) -> SendOutcome {
    match code {
        // Re-engagement message (470 is the same error from the older API).
        Some(131047 | 470) => SendOutcome::OutsideWindow { reason },
        // 130429 throughput, 131056 pair rate, 131048 spam rate, 4 app calls, 80007 account
        // calls; 1 and 2 API unknown/unavailable, 131000 something went wrong, 131016 service
        // unavailable, 133004 server temporarily unavailable.
        Some(130429 | 131056 | 131048 | 4 | 80007 | 1 | 2 | 131000 | 131016 | 133004) => {
            SendOutcome::Retry {
                reason,
                after: None,
            }
        }
        // Message undeliverable (not on WhatsApp, old app, …).
        Some(131026) => SendOutcome::Failed { reason },
        // The person chose to stop receiving marketing messages from us: Meta's STOP.
        Some(131050) => SendOutcome::OptedOut { reason },
        _ if http == 429 || http >= 500 => SendOutcome::Retry {
            reason,
            after: None,
        },
        _ => SendOutcome::Failed { reason },
    }
}

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

/// Sends through the Cloud API and fetches media. Its `Debug` hides the secrets.
#[derive(Clone)]
pub struct WhatsappSender {
    config: WhatsappConfig,
    http: reqwest::Client,
}

impl fmt::Debug for WhatsappSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsappSender")
            .field("phone_number_id", &self.config.phone_number_id)
            .field("api_base", &self.config.api_base.as_str())
            .field("tps", &self.config.tps)
            .field("access_token", &"…")
            .field("app_secret", &"…")
            .finish_non_exhaustive()
    }
}

impl WhatsappSender {
    pub fn new(config: WhatsappConfig, http: reqwest::Client) -> WhatsappSender {
        WhatsappSender { config, http }
    }

    pub fn tps(&self) -> u32 {
        self.config.tps
    }

    pub fn app_secret(&self) -> &str {
        &self.config.app_secret
    }

    pub fn verify_token(&self) -> &str {
        &self.config.verify_token
    }

    /// The configured template for a locale, if any: the entry keyed by the canonical tag, else
    /// one keyed by an alias of it (`prs` for `fa-AF`…).
    pub fn template_for(&self, lang: Lang) -> Option<&TemplateConfig> {
        let templates = &self.config.templates;
        templates.get(lang.tag()).or_else(|| {
            templates
                .iter()
                .find(|(tag, _)| Lang::parse(tag) == Some(lang))
                .map(|(_, template)| template)
        })
    }

    fn api_base(&self) -> &str {
        self.config.api_base.as_str().trim_end_matches('/')
    }

    /// Removes what must never reach a log line from provider text: our token and the number.
    fn scrub(&self, text: &str, to: &PhoneNumber) -> String {
        let mut text = shorten(text, MAX_REASON_CHARS);
        if !self.config.access_token.is_empty() {
            text = text.replace(&self.config.access_token, "…");
        }
        let digits = to.as_str().trim_start_matches('+');
        if !digits.is_empty() {
            text = text.replace(digits, &to.redacted());
        }
        text
    }

    /// Sends `message` to `to`. A 200 with `messages[0].id` is accepted; network trouble is
    /// retried; Graph errors go through [`classify`].
    pub async fn send(&self, to: &PhoneNumber, message: &Outbound) -> SendOutcome {
        let url = format!(
            "{}/{}/messages",
            self.api_base(),
            self.config.phone_number_id
        );
        let response = self
            .http
            .post(url)
            .bearer_auth(&self.config.access_token)
            .json(&request_body(to, message))
            .timeout(SEND_TIMEOUT)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                return SendOutcome::Retry {
                    reason: format!("whatsapp unreachable: {}", error_kind(&e)),
                    after: None,
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            let id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                v.pointer("/messages/0/id")
                    .and_then(Value::as_str)
                    .and_then(non_empty)
                    .map(str::to_string)
            });
            // Accepted but unreadable: retrying could send twice; keep it as accepted.
            let external_id =
                id.unwrap_or_else(|| format!("whatsapp-unknown-{:016x}", rand::random::<u64>()));
            return SendOutcome::Accepted {
                external_id,
                status: MessageStatus::Accepted,
            };
        }
        let (code, message) = api_error(&body);
        let message = self.scrub(&message, to);
        let reason = match code {
            Some(code) => format!("whatsapp {} error {code}: {message}", status.as_u16()),
            None => format!("whatsapp {}: {message}", status.as_u16()),
        };
        match classify(status.as_u16(), code, reason) {
            SendOutcome::Retry {
                reason,
                after: None,
            } => SendOutcome::Retry {
                reason,
                after: retry_after,
            },
            outcome => outcome,
        }
    }

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
        let url = str_field(&info, "url")
            .and_then(non_empty)
            .ok_or_else(|| MediaError::Malformed("media lookup has no url".to_string()))?;
        let lookup_mime = str_field(&info, "mime_type")
            .and_then(non_empty)
            .map(str::to_string);
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
            .and_then(non_empty)
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

/// The Graph API error in a response body: `{"error":{"code","message","error_data":
/// {"details"}}}`, else the start of the body.
fn api_error(body: &[u8]) -> (Option<u64>, String) {
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
    let message = str_field(error, "message")
        .and_then(non_empty)
        .unwrap_or("(no message)");
    let details = error
        .get("error_data")
        .and_then(|d| str_field(d, "details"))
        .and_then(non_empty);
    let text = match details {
        Some(details) if details != message => format!("{message} ({details})"),
        _ => message.to_string(),
    };
    (code, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(s: &str) -> PhoneNumber {
        PhoneNumber::parse(s).unwrap()
    }

    /// One `changes[].value` wrapped in Meta's envelope.
    fn envelope(value: Value) -> Value {
        json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": "102290129340398",
                "changes": [{ "value": value, "field": "messages" }],
            }],
        })
    }

    fn value_with_messages(messages: Value) -> Value {
        json!({
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550783881",
                "phone_number_id": "106540352242922",
            },
            "contacts": [{ "profile": { "name": "Amina" }, "wa_id": "6281234567890" }],
            "messages": messages,
        })
    }

    fn message(kind: &str, extra: Value) -> Value {
        let mut m = json!({
            "from": "6281234567890",
            "id": "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjA",
            "timestamp": "1717171717",
            "type": kind,
        });
        if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                m.insert(k.clone(), v.clone());
            }
        }
        m
    }

    fn msg(text: &str, kind: InboundKind) -> InboundEvent {
        InboundEvent::Message(InboundMessage {
            from: phone("+6281234567890"),
            external_id: "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjA".into(),
            text: text.into(),
            kind,
        })
    }

    fn media(kind: MediaKind, id: &str, mime: &str, caption: Option<&str>) -> InboundKind {
        InboundKind::Media(MediaRef {
            kind,
            id: id.into(),
            mime_type: Some(mime.into()),
            caption: caption.map(str::to_string),
        })
    }

    fn parse(v: &Value) -> Parsed {
        parse_webhook(v.to_string().as_bytes()).unwrap()
    }

    /// Courier-style table: one message per payload, written from Meta's documented examples.
    #[test]
    fn single_messages_parse_to_events() {
        let cases: Vec<(&str, Value, InboundEvent)> = vec![
            (
                "text",
                message("text", json!({ "text": { "body": "سلام، کمک می‌خواهم" } })),
                msg("سلام، کمک می‌خواهم", InboundKind::Text),
            ),
            (
                "list reply",
                message(
                    "interactive",
                    json!({
                        "context": { "from": "15550783881", "id": "wamid.out1" },
                        "interactive": {
                            "type": "list_reply",
                            "list_reply": { "id": "3", "title": "Health", "description": "Clinics" },
                        },
                    }),
                ),
                msg("3", InboundKind::Choice),
            ),
            (
                "button reply",
                message(
                    "interactive",
                    json!({
                        "interactive": {
                            "type": "button_reply",
                            "button_reply": { "id": "yes", "title": "Yes" },
                        },
                    }),
                ),
                msg("yes", InboundKind::Choice),
            ),
            (
                "template quick reply",
                message(
                    "button",
                    json!({
                        "context": { "from": "15550783881", "id": "wamid.tpl" },
                        "button": { "payload": "MENU", "text": "Open the menu" },
                    }),
                ),
                msg("MENU", InboundKind::Choice),
            ),
            (
                "template quick reply without payload",
                message("button", json!({ "button": { "text": "Open the menu" } })),
                msg("Open the menu", InboundKind::Choice),
            ),
            (
                "voice note",
                message(
                    "audio",
                    json!({
                        "audio": {
                            "mime_type": "audio/ogg; codecs=opus",
                            "sha256": "2sGHtAOtiDb/4g+K8XmUj8qZqQTqzN9NFg3T6cUQCmI=",
                            "id": "1043206843874394",
                            "voice": true,
                        },
                    }),
                ),
                msg(
                    "",
                    media(
                        MediaKind::Audio,
                        "1043206843874394",
                        "audio/ogg; codecs=opus",
                        None,
                    ),
                ),
            ),
            (
                "image with caption",
                message(
                    "image",
                    json!({
                        "image": {
                            "caption": "my residence card",
                            "mime_type": "image/jpeg",
                            "sha256": "HaVJ1ND8AtQYbXOqPxuCWbxoCvtRhcykM4ySbHzm+Oc=",
                            "id": "1479537139650973",
                        },
                    }),
                ),
                msg(
                    "my residence card",
                    media(
                        MediaKind::Image,
                        "1479537139650973",
                        "image/jpeg",
                        Some("my residence card"),
                    ),
                ),
            ),
            (
                "document",
                message(
                    "document",
                    json!({
                        "document": {
                            "filename": "letter.pdf",
                            "mime_type": "application/pdf",
                            "sha256": "abc=",
                            "id": "798882015472548",
                        },
                    }),
                ),
                msg(
                    "",
                    media(
                        MediaKind::Document,
                        "798882015472548",
                        "application/pdf",
                        None,
                    ),
                ),
            ),
            (
                "video",
                message(
                    "video",
                    json!({ "video": { "mime_type": "video/mp4", "id": "55" } }),
                ),
                msg("", media(MediaKind::Video, "55", "video/mp4", None)),
            ),
            (
                "sticker",
                message(
                    "sticker",
                    json!({ "sticker": { "mime_type": "image/webp", "id": "9", "animated": false } }),
                ),
                msg("", InboundKind::Unsupported("sticker".into())),
            ),
            (
                "location",
                message(
                    "location",
                    json!({
                        "location": {
                            "latitude": -6.2, "longitude": 106.8,
                            "name": "Kalideres", "address": "Jakarta",
                        },
                    }),
                ),
                msg("", InboundKind::Unsupported("location".into())),
            ),
            (
                "contacts",
                message(
                    "contacts",
                    json!({ "contacts": [{ "name": { "formatted_name": "X" } }] }),
                ),
                msg("", InboundKind::Unsupported("contacts".into())),
            ),
            (
                "reaction",
                message(
                    "reaction",
                    json!({ "reaction": { "message_id": "wamid.out1", "emoji": "👍" } }),
                ),
                msg("", InboundKind::Unsupported("reaction".into())),
            ),
            (
                "unsupported",
                message(
                    "unsupported",
                    json!({
                        "errors": [{
                            "code": 131051,
                            "title": "Message type unknown",
                            "message": "Message type unknown",
                            "error_data": { "details": "Message type is currently not supported." },
                        }],
                    }),
                ),
                msg("", InboundKind::Unsupported("unsupported".into())),
            ),
            (
                "flow reply",
                message(
                    "interactive",
                    json!({ "interactive": { "type": "nfm_reply", "nfm_reply": { "response_json": "{}" } } }),
                ),
                msg("", InboundKind::Unsupported("interactive".into())),
            ),
            (
                "no type",
                json!({ "from": "6281234567890", "id": "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjA" }),
                msg("", InboundKind::Unsupported("unknown".into())),
            ),
        ];
        for (name, m, expected) in cases {
            let parsed = parse(&envelope(value_with_messages(json!([m]))));
            assert_eq!(parsed.events, vec![expected], "{name}");
            assert!(parsed.skipped.is_empty(), "{name}: {:?}", parsed.skipped);
        }
    }

    #[test]
    fn us_and_other_numbers_become_e164() {
        let mut m = message("text", json!({ "text": { "body": "hi" } }));
        m["from"] = json!("14155552671");
        let parsed = parse(&envelope(value_with_messages(json!([m]))));
        let InboundEvent::Message(m) = &parsed.events[0] else {
            panic!("{parsed:?}")
        };
        assert_eq!(m.from.as_str(), "+14155552671");
    }

    #[test]
    fn bad_messages_are_skipped_and_the_rest_kept() {
        let good = message("text", json!({ "text": { "body": "one" } }));
        let mut no_from = message("text", json!({ "text": { "body": "two" } }));
        no_from.as_object_mut().unwrap().remove("from");
        let mut no_id = message("text", json!({ "text": { "body": "three" } }));
        no_id.as_object_mut().unwrap().remove("id");
        let mut bad_phone = message("text", json!({ "text": { "body": "four" } }));
        bad_phone["from"] = json!("12ab");
        let mut short_phone = message("text", json!({ "text": { "body": "five" } }));
        short_phone["from"] = json!("123");
        let no_body = message("text", json!({ "text": {} }));
        let no_media_id = message("audio", json!({ "audio": { "mime_type": "audio/ogg" } }));
        let parsed = parse(&envelope(value_with_messages(json!([
            no_from,
            good,
            no_id,
            bad_phone,
            short_phone,
            no_body,
            no_media_id,
            42
        ]))));
        assert_eq!(parsed.events, vec![msg("one", InboundKind::Text)]);
        assert_eq!(parsed.skipped.len(), 7, "{:?}", parsed.skipped);
        assert!(
            parsed.skipped[0].contains("no sender"),
            "{:?}",
            parsed.skipped
        );
        assert!(parsed.skipped[2].contains("not a WhatsApp phone number"));
        // Reasons never carry the number itself.
        assert!(parsed.skipped.iter().all(|s| !s.contains("12ab")));
    }

    fn status(id: &str, status: &str, errors: Option<Value>) -> Value {
        let mut s = json!({
            "id": id,
            "status": status,
            "timestamp": "1717171718",
            "recipient_id": "6281234567890",
        });
        if let Some(errors) = errors {
            s["errors"] = errors;
        }
        s
    }

    fn report(id: &str, status: MessageStatus, error: Option<&str>) -> InboundEvent {
        InboundEvent::Status(StatusReport {
            external_id: id.into(),
            status,
            error: error.map(str::to_string),
        })
    }

    #[test]
    fn statuses_map_to_ours() {
        let value = json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
            "statuses": [
                status("wamid.a", "sent", None),
                status("wamid.a", "delivered", None),
                status("wamid.a", "read", None),
                status("wamid.b", "failed", Some(json!([{
                    "code": 131026,
                    "title": "Message undeliverable",
                    "message": "Message undeliverable",
                    "error_data": { "details": "Message Undeliverable." },
                }]))),
                status("wamid.c", "failed", Some(json!([{ "code": 131047, "message": "Re-engagement message" }]))),
                status("wamid.d", "deleted", None),
                status("wamid.e", "warning", None),
                json!({ "status": "sent" }),
            ],
        });
        let parsed = parse(&envelope(value));
        assert_eq!(
            parsed.events,
            vec![
                report("wamid.a", MessageStatus::Sent, None),
                report("wamid.a", MessageStatus::Delivered, None),
                report("wamid.a", MessageStatus::Read, None),
                report(
                    "wamid.b",
                    MessageStatus::Failed,
                    Some("whatsapp error 131026: Message undeliverable")
                ),
                report(
                    "wamid.c",
                    MessageStatus::Failed,
                    Some("whatsapp error 131047: Re-engagement message")
                ),
            ]
        );
        assert_eq!(parsed.skipped.len(), 3, "{:?}", parsed.skipped);
        assert!(
            parsed.skipped[0].contains("\"deleted\""),
            "{:?}",
            parsed.skipped
        );
    }

    #[test]
    fn batched_entries_keep_payload_order() {
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": value_with_messages(json!([
                                message("text", json!({ "text": { "body": "first" } })),
                                message("text", json!({ "text": { "body": "second" } })),
                            ])),
                        },
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "statuses": [status("wamid.x", "delivered", None)],
                            },
                        },
                        { "field": "message_template_status_update", "value": { "event": "APPROVED" } },
                    ],
                },
                {
                    "id": "2",
                    "changes": [{
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "messages": [message("interactive", json!({
                                "interactive": { "type": "list_reply", "list_reply": { "id": "7", "title": "Work" } },
                            }))],
                            "statuses": [status("wamid.y", "read", None)],
                            "errors": [{ "code": 130429, "title": "Rate limit hit" }],
                        },
                    }],
                },
                { "id": "3" },
            ],
        });
        let parsed = parse(&body);
        assert_eq!(
            parsed.events,
            vec![
                msg("first", InboundKind::Text),
                msg("second", InboundKind::Text),
                report("wamid.x", MessageStatus::Delivered, None),
                msg("7", InboundKind::Choice),
                report("wamid.y", MessageStatus::Read, None),
            ]
        );
        assert_eq!(
            parsed.skipped,
            vec![
                "entry 0 change 2: field \"message_template_status_update\" ignored".to_string(),
                "entry 1 change 0: meta reported whatsapp error 130429: Rate limit hit".to_string(),
                "entry 2: no changes array".to_string(),
            ]
        );
    }

    #[test]
    fn only_unreadable_bodies_are_errors() {
        assert!(matches!(
            parse_webhook(b"not json"),
            Err(WebhookError::Malformed(_))
        ));
        assert_eq!(parse_webhook(b"\xff\xfe"), Err(WebhookError::NotUtf8));
        assert!(matches!(
            parse_webhook(b"[1,2]"),
            Err(WebhookError::Invalid("body", _))
        ));
        assert_eq!(
            parse_webhook(br#"{"object":"whatsapp_business_account"}"#),
            Err(WebhookError::Missing("entry"))
        );
        assert!(matches!(
            parse_webhook(br#"{"entry":{}}"#),
            Err(WebhookError::Invalid("entry", _))
        ));
        // Something else Meta might send: ignored, not refused (a 400 makes Meta retry).
        let other = parse_webhook(br#"{"object":"page","entry":[]}"#).unwrap();
        assert!(other.events.is_empty());
        assert_eq!(other.skipped.len(), 1);
        let empty = parse_webhook(br#"{"object":"whatsapp_business_account","entry":[]}"#).unwrap();
        assert_eq!(empty, Parsed::default());
    }

    #[test]
    fn mangled_inputs_never_panic() {
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": "1",
                "changes": [{
                    "field": "messages",
                    "value": {
                        "messages": [
                            message("text", json!({ "text": { "body": "ሰላም 👋🏽 سلام" } })),
                            message("image", json!({ "image": { "id": "1", "caption": "ç" } })),
                            message("interactive", json!({ "interactive": { "type": "list_reply", "list_reply": { "id": "2" } } })),
                            message("button", json!({ "button": { "payload": "P" } })),
                        ],
                        "statuses": [status("wamid.z", "failed", Some(json!([{ "code": "131026", "title": "x" }])))],
                    },
                }],
            }],
        })
        .to_string();
        let bytes = body.as_bytes();
        for end in 0..=bytes.len() {
            let _ = parse_webhook(&bytes[..end]);
            let _ = parse_webhook(&bytes[end..]);
        }
        // Types swapped around where objects or strings are expected.
        let weird = [
            r#"{"entry":[null,1,"x",[],{"changes":null},{"changes":[null,{"value":null},{"value":[]},{"field":1,"value":{}}]}]}"#,
            r#"{"entry":[{"changes":[{"value":{"messages":{},"statuses":"x","errors":1}}]}]}"#,
            r#"{"entry":[{"changes":[{"value":{"messages":[{"from":6281234567890,"id":1,"type":{}},{"from":"","id":""},{"from":"+6281234567890","id":"w","type":"text","text":"body"},{"from":"6281234567890","id":"w","type":"interactive","interactive":{"type":1}},{"from":"6281234567890","id":"w","type":"image","image":"1"},{"from":"6281234567890","id":"w","type":"💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥💥"}]}}]}]}"#,
            r#"{"entry":[{"changes":[{"value":{"statuses":[{"id":"w","status":1},{"id":"w","status":"failed","errors":[null]},{"id":"w","status":"failed","errors":{}}]}}]}]}"#,
            r#"{"object":null,"entry":[]}"#,
        ];
        for w in weird {
            let parsed = parse_webhook(w.as_bytes()).unwrap();
            for event in &parsed.events {
                if let InboundEvent::Message(InboundMessage {
                    kind: InboundKind::Unsupported(name),
                    ..
                }) = event
                {
                    assert!(name.len() <= 32);
                }
            }
        }
        let deep = "[".repeat(100_000);
        assert!(parse_webhook(deep.as_bytes()).is_err());
    }

    #[test]
    fn signature_is_checked_in_constant_time_on_the_raw_body() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let secret = "app-secret";
        let good = sign(secret, body);
        assert!(good.starts_with("sha256="));
        assert_eq!(good.len(), 7 + 64);
        assert_eq!(verify_signature(secret, body, Some(&good)), Ok(()));
        let upper = format!("sha256={}", good[7..].to_ascii_uppercase());
        assert_eq!(verify_signature(secret, body, Some(&upper)), Ok(()));
        assert_eq!(
            verify_signature(secret, body, None),
            Err(WebhookError::MissingSignature)
        );
        for bad in [
            "",
            "sha256=",
            "sha1=abcd",
            &good[7..],
            &good[..good.len() - 2],
            "sha256=zz",
            "sha256=ééé",
            "é",
        ] {
            assert_eq!(
                verify_signature(secret, body, Some(bad)),
                Err(WebhookError::BadSignature),
                "{bad}"
            );
        }
        assert_eq!(
            verify_signature("other-secret", body, Some(&good)),
            Err(WebhookError::BadSignature)
        );
        let mut tampered = body.to_vec();
        tampered.push(b' ');
        assert_eq!(
            verify_signature(secret, &tampered, Some(&good)),
            Err(WebhookError::BadSignature)
        );
        // A known value: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        assert_eq!(
            sign("key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(
            verify_signature("", body, Some(&sign("", body))),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn subscription_check() {
        let ok = verify_subscription(
            Some("subscribe"),
            Some("s3cret"),
            Some("1158201444"),
            "s3cret",
        );
        assert_eq!(ok.as_deref(), Some("1158201444"));
        let cases = [
            (Some("subscribe"), Some("wrong"), Some("1")),
            (Some("unsubscribe"), Some("s3cret"), Some("1")),
            (None, Some("s3cret"), Some("1")),
            (Some("subscribe"), None, Some("1")),
            (Some("subscribe"), Some("s3cret"), None),
            (Some("subscribe"), Some("s3cret"), Some("")),
            (
                Some("subscribe"),
                Some("s3cret"),
                Some("<script>\nalert(1)"),
            ),
        ];
        for (mode, token, challenge) in cases {
            assert_eq!(
                verify_subscription(mode, token, challenge, "s3cret"),
                None,
                "{mode:?} {token:?} {challenge:?}"
            );
        }
        assert_eq!(
            verify_subscription(Some("subscribe"), Some(""), Some("1"), ""),
            None
        );
    }

    fn rows(titles: &[&str]) -> Vec<ListRow> {
        titles
            .iter()
            .enumerate()
            .map(|(i, t)| ListRow {
                id: (i + 1).to_string(),
                title: t.to_string(),
            })
            .collect()
    }

    #[test]
    fn request_bodies_follow_the_messages_api() {
        let to = phone("+6281234567890");
        assert_eq!(
            request_body(
                &to,
                &Outbound::Text {
                    body: "Hello".into()
                }
            ),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "6281234567890",
                "type": "text",
                "text": { "preview_url": false, "body": "Hello" },
            })
        );

        let list = Outbound::list(
            "What do you need?".into(),
            "Menu".into(),
            rows(&["Health", "Work"]),
        )
        .unwrap();
        assert_eq!(
            request_body(&to, &list),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "6281234567890",
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": { "text": "What do you need?" },
                    "action": {
                        "button": "Menu",
                        "sections": [{ "rows": [
                            { "id": "1", "title": "Health" },
                            { "id": "2", "title": "Work" },
                        ] }],
                    },
                },
            })
        );

        let template = Outbound::Template {
            name: "kabar_notice".into(),
            language: "fa".into(),
            params: vec!["line one\nline\ttwo      spaced".into()],
        };
        assert_eq!(
            request_body(&to, &template),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "6281234567890",
                "type": "template",
                "template": {
                    "name": "kabar_notice",
                    "language": { "code": "fa" },
                    "components": [{
                        "type": "body",
                        "parameters": [{ "type": "text", "text": "line one line two spaced" }],
                    }],
                },
            })
        );
        let bare = Outbound::Template {
            name: "hello_world".into(),
            language: "en_US".into(),
            params: vec![],
        };
        assert!(
            request_body(&to, &bare)["template"]
                .get("components")
                .is_none()
        );
    }

    #[test]
    fn lists_must_fit_whatsapps_limits() {
        let body = || "Choose".to_string();
        let button = || "Menu".to_string();
        // 24 characters of Persian script: 48 bytes, still fits.
        let persian24 = "ب".repeat(24);
        assert!(Outbound::list(body(), button(), rows(&[&persian24])).is_some());
        assert!(Outbound::list(body(), button(), rows(&[&"ب".repeat(25)])).is_none());
        assert!(Outbound::list(body(), button(), rows(&[])).is_none());
        assert!(Outbound::list(body(), button(), rows(&["x"; 10])).is_some());
        assert!(Outbound::list(body(), button(), rows(&["x"; 11])).is_none());
        assert!(Outbound::list(body(), "b".repeat(20), rows(&["x"])).is_some());
        assert!(Outbound::list(body(), "b".repeat(21), rows(&["x"])).is_none());
        assert!(Outbound::list(body(), String::new(), rows(&["x"])).is_none());
        assert!(Outbound::list("a".repeat(1024), button(), rows(&["x"])).is_some());
        assert!(Outbound::list("a".repeat(1025), button(), rows(&["x"])).is_none());
        assert!(Outbound::list(body(), button(), rows(&[" "])).is_none());
        let duplicate = vec![
            ListRow {
                id: "1".into(),
                title: "a".into(),
            },
            ListRow {
                id: "1".into(),
                title: "b".into(),
            },
        ];
        assert!(Outbound::list(body(), button(), duplicate).is_none());
    }

    #[test]
    fn errors_map_to_outbox_decisions() {
        #[derive(Debug, PartialEq)]
        enum Decision {
            Window,
            Retry,
            Failed,
            OptedOut,
            Other,
        }
        use Decision::*;
        let cases = [
            (400, Some(131047), Window),
            (400, Some(470), Window),
            (400, Some(130429), Retry),
            (400, Some(131056), Retry),
            (400, Some(131048), Retry),
            (400, Some(4), Retry),
            (400, Some(80007), Retry),
            (400, Some(131026), Failed),
            (500, Some(131026), Failed),
            (400, Some(131050), OptedOut),
            (429, None, Retry),
            (500, None, Retry),
            (503, Some(131000), Retry),
            (400, Some(100), Failed),
            (404, None, Failed),
        ];
        for (http, code, expected) in cases {
            let decision = match classify(http, code, "r".into()) {
                SendOutcome::OutsideWindow { .. } => Window,
                SendOutcome::Retry { .. } => Retry,
                SendOutcome::Failed { .. } => Failed,
                SendOutcome::OptedOut { .. } => OptedOut,
                _ => Other,
            };
            assert_eq!(decision, expected, "{http} {code:?}");
        }
        assert_eq!(
            classify(401, Some(190), "whatsapp 401 error 190: expired".into()),
            SendOutcome::Failed {
                reason: "whatsapp 401 error 190: expired".into()
            }
        );
    }

    // -----------------------------------------------------------------------------------------
    // Against a local stand-in for the Graph API.
    // -----------------------------------------------------------------------------------------

    use axum::Router;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use std::sync::{Arc, Mutex};

    const TOKEN: &str = "EAAG-test-token";

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        format!("http://{addr}")
    }

    fn sender(api_base: &str, media_max_bytes: u64) -> WhatsappSender {
        let config: WhatsappConfig = toml::from_str(&format!(
            r#"
            phone_number_id = "106540352242922"
            access_token = "{TOKEN}"
            app_secret = "app-s3cr3t"
            verify_token = "verify"
            api_base = "{api_base}/v21.0"
            media_max_bytes = {media_max_bytes}
            [templates.prs]
            name = "kabar_notice"
            language = "fa"
            [templates.ar]
            name = "kabar_notice_ar"
            language = "ar"
            "#
        ))
        .unwrap();
        WhatsappSender::new(config, reqwest::Client::new())
    }

    fn bearer(headers: &HeaderMap) -> bool {
        headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"))
    }

    /// A Graph API that answers every send with `status` and `answer`, keeping the requests.
    async fn graph(status: StatusCode, answer: Value) -> (String, Arc<Mutex<Vec<Value>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen_in = seen.clone();
        let router = Router::new().route(
            "/v21.0/106540352242922/messages",
            post(move |headers: HeaderMap, body: Bytes| {
                let seen = seen_in.clone();
                let answer = answer.clone();
                async move {
                    if !bearer(&headers) {
                        return (StatusCode::UNAUTHORIZED, "no token".to_string());
                    }
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    seen.lock().unwrap().push(body);
                    (status, answer.to_string())
                }
            }),
        );
        (serve(router).await, seen)
    }

    #[tokio::test]
    async fn send_accepts_and_keeps_the_wamid() {
        let (base, seen) = graph(
            StatusCode::OK,
            json!({
                "messaging_product": "whatsapp",
                "contacts": [{ "input": "6281234567890", "wa_id": "6281234567890" }],
                "messages": [{ "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA" }],
            }),
        )
        .await;
        let to = phone("+6281234567890");
        let outcome = sender(&base, 1000)
            .send(&to, &Outbound::Text { body: "hi".into() })
            .await;
        assert_eq!(
            outcome,
            SendOutcome::Accepted {
                external_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA".into(),
                status: MessageStatus::Accepted,
            }
        );
        assert_eq!(seen.lock().unwrap()[0]["to"], json!("6281234567890"));
    }

    #[tokio::test]
    async fn send_maps_graph_errors_without_leaking_the_number() {
        let (base, _) = graph(
            StatusCode::BAD_REQUEST,
            json!({
                "error": {
                    "message": "(#131047) Re-engagement message",
                    "type": "OAuthException",
                    "code": 131047,
                    "error_data": {
                        "messaging_product": "whatsapp",
                        "details": "More than 24 hours have passed since 6281234567890 last replied.",
                    },
                    "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
                },
            }),
        )
        .await;
        let to = phone("+6281234567890");
        let outcome = sender(&base, 1000)
            .send(&to, &Outbound::Text { body: "hi".into() })
            .await;
        let SendOutcome::OutsideWindow { reason } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(reason.starts_with("whatsapp 400 error 131047: (#131047) Re-engagement message"));
        assert!(!reason.contains("6281234567890"), "{reason}");
        assert!(!reason.contains(TOKEN), "{reason}");

        let (base, _) = graph(
            StatusCode::TOO_MANY_REQUESTS,
            json!({ "error": { "message": "(#130429) Rate limit hit", "code": 130429 } }),
        )
        .await;
        let outcome = sender(&base, 1000)
            .send(&to, &Outbound::Text { body: "hi".into() })
            .await;
        assert!(matches!(outcome, SendOutcome::Retry { .. }), "{outcome:?}");

        let (base, _) = graph(StatusCode::BAD_GATEWAY, json!("upstream trouble")).await;
        let outcome = sender(&base, 1000)
            .send(&to, &Outbound::Text { body: "hi".into() })
            .await;
        assert!(matches!(outcome, SendOutcome::Retry { .. }), "{outcome:?}");
    }

    #[tokio::test]
    async fn send_retries_when_meta_is_unreachable() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let outcome = sender(&format!("http://{addr}"), 1000)
            .send(
                &phone("+6281234567890"),
                &Outbound::Text { body: "hi".into() },
            )
            .await;
        let SendOutcome::Retry { reason, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(reason.starts_with("whatsapp unreachable"), "{reason}");
        assert!(!reason.contains("106540352242922"), "{reason}");
    }

    /// How the stand-in serves the media file.
    #[derive(Clone, Copy)]
    enum Download {
        /// With a Content-Length.
        Whole,
        /// Chunked, without a Content-Length.
        Streamed,
        /// The lookup points at a plain-http host elsewhere.
        Elsewhere,
    }

    /// A Graph API with one media file: the lookup says `claimed` bytes, the download has `real`.
    async fn media_graph(claimed: u64, real: usize, download: Download) -> String {
        let base = Arc::new(Mutex::new(String::new()));
        let base_in = base.clone();
        let router = Router::new()
            .route(
                "/v21.0/1043206843874394",
                get(move |headers: HeaderMap| {
                    let base = base_in.lock().unwrap().clone();
                    async move {
                        if !bearer(&headers) {
                            return (StatusCode::UNAUTHORIZED, String::new());
                        }
                        let url = match download {
                            Download::Whole => format!("{base}/download/voice.ogg?mid=1&hash=x"),
                            Download::Streamed => format!("{base}/download/streamed?mid=1"),
                            Download::Elsewhere => "http://media.example/voice.ogg".to_string(),
                        };
                        let answer = json!({
                            "messaging_product": "whatsapp",
                            "url": url,
                            "mime_type": "audio/ogg; codecs=opus",
                            "sha256": "x",
                            "file_size": claimed.to_string(),
                            "id": "1043206843874394",
                        });
                        (StatusCode::OK, answer.to_string())
                    }
                }),
            )
            .route(
                "/download/voice.ogg",
                get(move |headers: HeaderMap| async move {
                    if !bearer(&headers) {
                        return (StatusCode::UNAUTHORIZED, Vec::new());
                    }
                    (StatusCode::OK, vec![7u8; real])
                }),
            )
            .route(
                "/download/streamed",
                get(move || async move {
                    let chunks = (0..real.div_ceil(100)).map(move |i| {
                        let len = 100.min(real - i * 100);
                        Ok::<_, std::io::Error>(Bytes::from(vec![7u8; len]))
                    });
                    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
                }),
            );
        let url = serve(router).await;
        *base.lock().unwrap() = url.clone();
        url
    }

    #[tokio::test]
    async fn media_is_fetched_with_the_token() {
        for download in [Download::Whole, Download::Streamed] {
            let base = media_graph(300, 300, download).await;
            let (bytes, mime) = sender(&base, 1000)
                .fetch_media("1043206843874394")
                .await
                .unwrap();
            assert_eq!(bytes, vec![7u8; 300]);
            assert_eq!(mime, "audio/ogg; codecs=opus");
        }
    }

    #[tokio::test]
    async fn media_over_the_limit_is_refused() {
        // Meta says it is too large: not downloaded at all.
        let base = media_graph(5000, 10, Download::Whole).await;
        let e = sender(&base, 1000)
            .fetch_media("1043206843874394")
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                MediaError::TooLarge {
                    size: 5000,
                    max: 1000
                }
            ),
            "{e}"
        );
        // Meta understates the size: refused on Content-Length, or the download stops at the
        // limit when there is none.
        for download in [Download::Whole, Download::Streamed] {
            let base = media_graph(10, 5000, download).await;
            let e = sender(&base, 1000)
                .fetch_media("1043206843874394")
                .await
                .unwrap_err();
            let MediaError::TooLarge { size, max: 1000 } = e else {
                panic!("{e}")
            };
            match download {
                Download::Streamed => assert!((1001..=1100).contains(&size), "{size}"),
                _ => assert_eq!(size, 5000),
            }
        }
        // The token is not sent to a plain-http host that is not the API.
        let base = media_graph(10, 10, Download::Elsewhere).await;
        let e = sender(&base, 1000)
            .fetch_media("1043206843874394")
            .await
            .unwrap_err();
        assert!(matches!(e, MediaError::Malformed(_)), "{e}");
        // Unknown ids and odd ids.
        let e = sender(&base, 1000).fetch_media("999").await.unwrap_err();
        assert!(matches!(e, MediaError::Http(_)), "{e}");
        for odd in ["../me", "", "1/2", "1?x=2", "١٢٣"] {
            let e = sender(&base, 1000).fetch_media(odd).await.unwrap_err();
            assert!(matches!(e, MediaError::Malformed(_)), "{odd}: {e}");
        }
    }

    #[tokio::test]
    async fn reading_stops_at_the_limit() {
        let response =
            |len: usize| reqwest::Response::from(axum::http::Response::new(vec![1u8; len]));
        assert_eq!(
            read_limited(response(10), 10).await.ok(),
            Some(vec![1u8; 10])
        );
        assert!(matches!(
            read_limited(response(11), 10).await,
            Err(Limited::Over(11))
        ));
    }

    #[test]
    fn templates_are_found_by_locale_or_alias() {
        let s = sender("http://127.0.0.1:9", 1);
        assert_eq!(s.template_for(Lang::Dari).unwrap().name, "kabar_notice");
        assert_eq!(s.template_for(Lang::Arabic).unwrap().language, "ar");
        assert!(s.template_for(Lang::Somali).is_none());
        let debug = format!("{s:?}");
        assert!(
            !debug.contains(TOKEN) && !debug.contains("app-s3cr3t"),
            "{debug}"
        );
        assert_eq!(s.tps(), 80);
        assert_eq!(s.app_secret(), "app-s3cr3t");
        assert_eq!(s.verify_token(), "verify");
    }
}
