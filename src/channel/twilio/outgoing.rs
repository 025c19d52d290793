//! Sending through Twilio's Messages API and mapping its errors (DESIGN §3).

use std::time::Duration;

use serde::Deserialize;

use super::{TwilioSender, map_status};
use crate::channel::{SendOutcome, hide_numbers, http};
use crate::domain::phone::PhoneNumber;
use crate::domain::{Channel, MessageStatus, OutboxItem};

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
    /// The form Twilio's Messages API expects for `item`.
    pub fn form(&self, item: &OutboxItem, to: &PhoneNumber) -> Vec<(&'static str, String)> {
        let whatsapp = item.channel == Channel::TwilioWhatsapp;
        let address = |p: &PhoneNumber| {
            if whatsapp {
                format!("whatsapp:{p}")
            } else {
                p.to_string()
            }
        };
        let mut form = vec![("To", address(to)), ("Body", item.text.clone())];
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
        // Twilio reaches phone numbers only (`Channels::send` checked there is one).
        let Some(to) = item.sms_number() else {
            return SendOutcome::Failed {
                reason: "twilio needs a phone number".to_string(),
            };
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.api_base.as_str().trim_end_matches('/'),
            self.config.account_sid
        );
        let request = self
            .http
            .post(url)
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .form(&self.form(item, to))
            .timeout(Duration::from_secs(15));
        let answer = match http::send(request, "twilio unreachable").await {
            Ok(answer) => answer,
            Err(retry) => return retry,
        };
        let (status, retry_after, body) = (answer.status, answer.retry_after, answer.body);
        if (200..300).contains(&status) {
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
        let message = hide_numbers(&message);
        let reason = match code {
            Some(code) => format!("twilio {} error {code}: {message}", status),
            None => format!("twilio {}: {message}", status),
        };
        classify(status, code, reason, retry_after)
    }
}

/// Maps a Twilio error to what the outbox should do (DESIGN §3).
pub fn classify(
    http_status: u16,
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
        _ if http_status == 429 || http_status >= 500 => SendOutcome::Retry { reason, after },
        _ => SendOutcome::Failed { reason },
    }
}
