//! Twilio, for SMS and for WhatsApp (`whatsapp:+…` addresses): webhook signature and parsing,
//! status callbacks, and sending through the Messages API (DESIGN §3).

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::SendOutcome;
use crate::config::TwilioConfig;
use crate::domain::phone::PhoneNumber;
use crate::domain::{Channel, MessageStatus, OutboxItem};
use crate::store::NewInbound;

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

/// base64(HMAC-SHA1(auth_token, url + each name+value, names sorted, values sorted)), exactly as
/// twilio-python's `RequestValidator.compute_signature`.
pub fn compute_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sorted.sort();
    sorted.dedup();
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new(); // HMAC takes keys of any length; this cannot happen
    };
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The URL with its port removed and with the scheme's default port added: Twilio may sign
/// either form (twilio-python accepts both).
pub fn url_variants(url: &str) -> [String; 2] {
    let Some((scheme, rest)) = url.split_once("://") else {
        return [url.to_string(), url.to_string()];
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => authority.split_at(i + 1),
        None => ("", authority),
    };
    // A port follows the last ':' unless that ':' is inside an IPv6 literal.
    let (host, port) = match hostport.rfind(':') {
        Some(i) if !hostport[i..].contains(']') => (&hostport[..i], Some(&hostport[i + 1..])),
        _ => (hostport, None),
    };
    let without = format!("{scheme}://{userinfo}{host}{tail}");
    let with = match port {
        Some(_) => url.to_string(),
        None => {
            let default = if scheme.eq_ignore_ascii_case("https") {
                "443"
            } else {
                "80"
            };
            format!("{scheme}://{userinfo}{host}:{default}{tail}")
        }
    };
    [without, with]
}

/// Checks `signature` against both URL forms, in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let mut ok = false;
    for candidate in url_variants(url) {
        let expected = compute_signature(auth_token, &candidate, params);
        // Evaluate both comparisons; never short-circuit on the first.
        ok |= bool::from(expected.as_bytes().ct_eq(signature.as_bytes()));
    }
    ok
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
                Some("audio") => super::MediaKind::Audio,
                Some("image") => super::MediaKind::Image,
                Some("video") => super::MediaKind::Video,
                _ => super::MediaKind::Document,
            };
            super::MediaRef {
                kind,
                id: url.to_string(),
                mime_type: mime,
                caption: Some(text.clone()).filter(|t| !t.is_empty()),
            }
        });
    Ok(NewInbound {
        channel,
        from: phone,
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

/// Sends outbox items through the Messages API.
#[derive(Debug, Clone)]
pub struct TwilioSender {
    config: TwilioConfig,
    status_callback: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Created {
    sid: String,
    status: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    code: Option<u32>,
    message: Option<String>,
}

impl TwilioSender {
    pub fn new(config: TwilioConfig, public_url: &url::Url, http: reqwest::Client) -> TwilioSender {
        let status_callback = format!(
            "{}/webhooks/twilio/status",
            public_url.as_str().trim_end_matches('/')
        );
        TwilioSender {
            config,
            status_callback,
            http,
        }
    }

    pub fn auth_token(&self) -> &str {
        &self.config.auth_token
    }

    pub fn tps(&self) -> u32 {
        self.config.tps
    }

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
            .map_err(|e| MediaError::Unreachable(super::error_kind(&e)))?;
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
        match super::read_limited(response, max).await {
            Ok(bytes) => Ok((bytes, mime)),
            Err(super::Limited::Over(size)) => Err(MediaError::TooLarge { size, max }),
            Err(super::Limited::Network(kind)) => Err(MediaError::Unreachable(kind)),
        }
    }

    /// The form Twilio's Messages API expects for `item`.
    pub fn form(&self, item: &OutboxItem) -> Vec<(&'static str, String)> {
        let whatsapp = item.channel == Channel::TwilioWhatsapp;
        let address = |p: &PhoneNumber| {
            if whatsapp {
                format!("whatsapp:{p}")
            } else {
                p.to_string()
            }
        };
        let mut form = vec![("To", address(&item.to)), ("Body", item.text.clone())];
        let from = if whatsapp {
            self.config
                .whatsapp_from
                .as_ref()
                .or(self.config.from.as_ref())
        } else {
            self.config.from.as_ref()
        };
        match (from, &self.config.messaging_service_sid) {
            (Some(from), _) => form.push(("From", address(from))),
            (None, Some(sid)) => form.push(("MessagingServiceSid", sid.clone())),
            (None, None) => {}
        }
        form.push(("StatusCallback", self.status_callback.clone()));
        form
    }

    pub async fn send(&self, item: &OutboxItem) -> SendOutcome {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.api_base.as_str().trim_end_matches('/'),
            self.config.account_sid
        );
        let response = self
            .http
            .post(url)
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .form(&self.form(item))
            .timeout(Duration::from_secs(15))
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                return SendOutcome::Retry {
                    reason: format!("twilio unreachable: {}", without_url(&e)),
                    after: None,
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            return match serde_json::from_slice::<Created>(&body) {
                Ok(created) => SendOutcome::Accepted {
                    status: created
                        .status
                        .as_deref()
                        .and_then(map_status)
                        .unwrap_or(MessageStatus::Accepted),
                    external_id: created.sid,
                },
                // Accepted but unreadable: retrying could send twice; keep it as accepted.
                Err(_) => SendOutcome::Accepted {
                    external_id: format!("unknown-{}", item.message_id),
                    status: MessageStatus::Accepted,
                },
            };
        }
        let error: Option<ApiError> = serde_json::from_slice(&body).ok();
        let code = error.as_ref().and_then(|e| e.code);
        let message = error
            .and_then(|e| e.message)
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
        // Twilio's messages quote the recipient ("The 'To' number +62… is not valid"); reasons
        // end up in logs and the API, so numbers are hidden.
        let message = super::hide_numbers(&message);
        let reason = match code {
            Some(code) => format!("twilio {} error {code}: {message}", status.as_u16()),
            None => format!("twilio {}: {message}", status.as_u16()),
        };
        classify(status.as_u16(), code, reason, retry_after)
    }
}

/// Maps a Twilio error to what the outbox should do (DESIGN §3).
pub fn classify(
    http: u16,
    code: Option<u32>,
    reason: String,
    after: Option<Duration>,
) -> SendOutcome {
    match code {
        Some(21610) => SendOutcome::OptedOut { reason },
        Some(20429) => SendOutcome::Retry { reason, after },
        Some(21211 | 21614) => SendOutcome::Failed { reason },
        // WhatsApp outside the 24-hour window: a template or SMS is needed.
        Some(63016) => SendOutcome::OutsideWindow { reason },
        _ if http == 429 || http >= 500 => SendOutcome::Retry { reason, after },
        _ => SendOutcome::Failed { reason },
    }
}

/// reqwest errors include the URL, which carries the account SID; keep logs free of it.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused or unreachable"
    } else {
        "request failed"
    };
    kind.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The test vector from Twilio's documentation (DESIGN §3).
    #[test]
    fn signature_matches_twilios_test_vector() {
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            compute_signature("12345", url, &params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(verify(
            "12345",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!verify(
            "12345",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8"
        ));
        assert!(!verify(
            "54321",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn both_port_forms_are_accepted() {
        let params = p(&[("Body", "hi")]);
        let signed_with_port =
            compute_signature("t", "https://mycompany.com:443/myapp.php?foo=1", &params);
        assert!(verify(
            "t",
            "https://mycompany.com/myapp.php?foo=1",
            &params,
            &signed_with_port
        ));
        let signed_without = compute_signature("t", "https://mycompany.com/myapp.php", &params);
        assert!(verify(
            "t",
            "https://mycompany.com:443/myapp.php",
            &params,
            &signed_without
        ));
        assert_eq!(
            url_variants("http://[::1]:8080/x"),
            [
                "http://[::1]/x".to_string(),
                "http://[::1]:8080/x".to_string()
            ]
        );
        assert_eq!(
            url_variants("http://example.org"),
            [
                "http://example.org".to_string(),
                "http://example.org:80".to_string()
            ]
        );
    }

    #[test]
    fn errors_map_to_outbox_decisions() {
        let r = || "r".to_string();
        assert!(matches!(
            classify(400, Some(21610), r(), None),
            SendOutcome::OptedOut { .. }
        ));
        assert!(matches!(
            classify(429, Some(20429), r(), None),
            SendOutcome::Retry { .. }
        ));
        assert!(matches!(
            classify(429, None, r(), None),
            SendOutcome::Retry { .. }
        ));
        assert!(matches!(
            classify(503, None, r(), None),
            SendOutcome::Retry { .. }
        ));
        assert!(matches!(
            classify(400, Some(21211), r(), None),
            SendOutcome::Failed { .. }
        ));
        assert!(matches!(
            classify(400, Some(21614), r(), None),
            SendOutcome::Failed { .. }
        ));
        assert!(matches!(
            classify(400, Some(63016), r(), None),
            SendOutcome::OutsideWindow { .. }
        ));
    }

    #[test]
    fn whatsapp_senders_are_recognised() {
        let msg = parse_inbound(&p(&[
            ("MessageSid", "SM1"),
            ("From", "whatsapp:+93701234567"),
            ("Body", "salam"),
        ]))
        .unwrap();
        assert_eq!(msg.channel, Channel::TwilioWhatsapp);
        assert_eq!(msg.from.as_str(), "+93701234567");
        assert!(parse_inbound(&p(&[("MessageSid", "SM1"), ("From", "0812")])).is_err());
        assert_eq!(
            parse_inbound(&p(&[("From", "+93701234567")])).unwrap_err(),
            WebhookError::Missing("MessageSid")
        );
    }
}
