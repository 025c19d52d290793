//! Messages we send through the Cloud API: text, interactive lists (within WhatsApp's limits)
//! and approved templates, and the request body of each.

use serde_json::{Value, json};

use super::errors::{api_error, classify};
use super::{SEND_TIMEOUT, WhatsappSender};
use crate::channel::{SendOutcome, http};
use crate::domain::{ContactId, MessageStatus};

/// Limits of an interactive list message.
const LIST_MAX_ROWS: usize = 10;
const LIST_MAX_ROW_TITLE: usize = 24;
const LIST_MAX_ROW_ID: usize = 200;
const LIST_MAX_BUTTON: usize = 20;
const LIST_MAX_BODY: usize = 1024;

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

/// The JSON body for `POST {api_base}/{phone_number_id}/messages`: a number goes in `to`
/// (digits without `+`), a user id of someone who hides their number in `recipient`.
pub fn request_body(to: &ContactId, message: &Outbound) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
    });
    match to {
        ContactId::Phone(phone) => body["to"] = json!(phone.as_str().trim_start_matches('+')),
        ContactId::Whatsapp(key) => body["recipient"] = json!(key.user_id().as_str()),
    }
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

impl WhatsappSender {
    /// Sends `message` to `to`. A 200 with `messages[0].id` is accepted; network trouble is
    /// retried; Graph errors go through [`classify`].
    pub async fn send(&self, to: &ContactId, message: &Outbound) -> SendOutcome {
        let url = format!(
            "{}/{}/messages",
            self.api_base(),
            self.config.phone_number_id
        );
        let request = self
            .http
            .post(url)
            .bearer_auth(&self.config.access_token)
            .json(&request_body(to, message))
            .timeout(SEND_TIMEOUT);
        let answer = match http::send(request, "whatsapp unreachable").await {
            Ok(answer) => answer,
            Err(retry) => return retry,
        };
        let (status, retry_after, body) = (answer.status, answer.retry_after, answer.body);
        if (200..300).contains(&status) {
            let id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                v.pointer("/messages/0/id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.trim().is_empty())
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
            Some(code) => format!("whatsapp {} error {code}: {message}", status),
            None => format!("whatsapp {}: {message}", status),
        };
        match classify(status, code, reason) {
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
}
