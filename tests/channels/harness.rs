//! The shared channel harness, after courier's `handlers/test.go`: every provider's webhooks
//! and sends are described by JSON cases in `testdata/<provider>_{incoming,outgoing}.json`,
//! taken from the providers' documented formats, and run by the same two runners.
//!
//! Incoming cases go through the real router and the real store of a running app (`spawn_app`
//! with the fake providers). From the first case answered 200 the runner derives two more by
//! itself: the same request to an app without that provider is 404, and with a wrong signature
//! it is refused (403) with nothing stored.
//!
//! Outgoing cases send one outbox item through the provider against a mock server that
//! records each request and answers as scripted, then check the requests and the outcome.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::common::*;
use kabar::channel::{Delivery, Provider, SendOutcome};
use kabar::domain::ContactId;
use kabar::domain::{Direction, MessageStatus, OutboxItem};

/// The providers the harness knows how to sign for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Twilio,
    Whatsapp,
    Gateway,
}

impl Kind {
    fn file(self, direction: &str) -> String {
        let name = match self {
            Kind::Twilio => "twilio",
            Kind::Whatsapp => "whatsapp",
            Kind::Gateway => "gateway",
        };
        format!("{name}_{direction}.json")
    }

    /// A test app with every provider on, or with this one off.
    fn setup(self, on: bool) -> Setup {
        let mut setup = Setup {
            twilio: true,
            whatsapp: true,
            gateway: true,
            ..Setup::default()
        };
        match self {
            Kind::Twilio => setup.twilio = on,
            Kind::Whatsapp => setup.whatsapp = on,
            Kind::Gateway => setup.gateway = on,
        }
        setup
    }
}

pub fn load<T: serde::de::DeserializeOwned>(kind: Kind, direction: &str) -> Vec<T> {
    let path = manifest_dir()
        .join("tests/channels/testdata")
        .join(kind.file(direction));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Incoming
// ---------------------------------------------------------------------------------------------

/// How a case's request is signed.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Signature {
    #[default]
    Valid,
    /// Twilio: over the URL without its port (twilio-python accepts both forms).
    ValidWithoutPort,
    /// Gateway: the hex in capitals.
    ValidUppercase,
    /// With another key.
    Wrong,
    /// Over other bytes than the body.
    OtherBytes,
    Missing,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomingCase {
    pub label: String,
    pub path: String,
    #[serde(default = "post")]
    pub method: String,
    /// Form parameters (Twilio), encoded as the body. A value `{{N x c}}` is N times `c`.
    #[serde(default)]
    pub form: Option<Vec<(String, String)>>,
    /// A JSON body (Meta, the gateway phone), sent as written here.
    #[serde(default)]
    pub json: Option<Value>,
    /// A raw body.
    #[serde(default)]
    pub text: Option<String>,
    /// A raw body in hex (bytes that are not UTF-8).
    #[serde(default)]
    pub hex: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub signature: Signature,
    /// Gateway: `X-Timestamp` this many seconds before now (negative: ahead).
    #[serde(default)]
    pub timestamp_ago: i64,
    /// Gateway: `X-Timestamp` exactly this text; `""` sends none.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Before the request, this person writes `salam` through the same provider and gets a
    /// reply; `{{reply_id}}` in the body stands for the provider's id of that reply.
    #[serde(default)]
    pub after_reply_to: Option<String>,
    pub status: u16,
    #[serde(default)]
    pub body_contains: Option<String>,
    /// The whole answer (a handshake's challenge).
    #[serde(default)]
    pub body_is: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// Each sender's inbound messages once the case ran, exactly (per sender named here).
    #[serde(default)]
    pub messages: Vec<ExpectedMessage>,
    /// Senders who must have no inbound message.
    #[serde(default)]
    pub nothing_from: Vec<String>,
    /// The status of the reply made by `after_reply_to`, once the case ran.
    #[serde(default)]
    pub reply_status: Option<ExpectedStatus>,
}

fn post() -> String {
    "POST".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedMessage {
    pub from: String,
    pub text: String,
    pub external_id: String,
    #[serde(default)]
    pub channel: Option<String>,
    /// `audio`, `image`…: the media kind kept for interpreters.
    #[serde(default)]
    pub media: Option<String>,
    /// The provider's name of a kind we cannot read (`location`).
    #[serde(default)]
    pub unsupported: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedStatus {
    pub status: MessageStatus,
    #[serde(default)]
    pub error_contains: Option<String>,
}

/// `{{N x c}}` → c repeated N times.
fn expand(value: &str) -> String {
    let inner = value
        .strip_prefix("{{")
        .and_then(|v| v.strip_suffix("}}"))
        .and_then(|v| v.split_once(" x "));
    match inner.and_then(|(n, c)| Some((n.parse::<usize>().ok()?, c))) {
        Some((n, c)) => c.repeat(n),
        None => value.to_string(),
    }
}

impl IncomingCase {
    fn body(&self, reply_id: Option<&str>) -> Vec<u8> {
        let fill = |s: String| match reply_id {
            Some(id) => s.replace("{{reply_id}}", id),
            None => s,
        };
        if let Some(form) = &self.form {
            let pairs: Vec<(String, String)> = form
                .iter()
                .map(|(k, v)| (k.clone(), fill(expand(v))))
                .collect();
            return encode_form(&pairs).into_bytes();
        }
        if let Some(json) = &self.json {
            return fill(json.to_string()).into_bytes();
        }
        if let Some(text) = &self.text {
            return fill(text.clone()).into_bytes();
        }
        if let Some(hex) = &self.hex {
            return hex::decode(hex).expect("hex body");
        }
        Vec::new()
    }
}

/// The signature headers `kind` puts on `body` sent to `path` of `app`.
fn sign(
    kind: Kind,
    app: &TestApp,
    case: &IncomingCase,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    match kind {
        Kind::Twilio => {
            // Twilio signs the parameters it sent; for a raw body, whatever that body parses to.
            let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
            let path = &case.path;
            let signature = match case.signature {
                Signature::Valid | Signature::ValidUppercase => app.sign(path, &params),
                Signature::ValidWithoutPort => kabar::channel::twilio::compute_signature(
                    AUTH_TOKEN,
                    &format!("http://127.0.0.1{path}"),
                    &params,
                ),
                Signature::Wrong => kabar::channel::twilio::compute_signature(
                    "not-the-token",
                    &app.url(path),
                    &params,
                ),
                Signature::OtherBytes => app.sign(path, &[]),
                Signature::Missing => return headers,
            };
            headers.push(("x-twilio-signature", signature));
        }
        Kind::Whatsapp => {
            let signature = match case.signature {
                Signature::Valid | Signature::ValidWithoutPort => whatsapp_signature(body),
                Signature::ValidUppercase => {
                    format!("sha256={}", whatsapp_signature(body)[7..].to_uppercase())
                }
                Signature::Wrong => kabar::channel::whatsapp::sign("not-the-secret", body),
                Signature::OtherBytes => whatsapp_signature(b"{}"),
                Signature::Missing => return headers,
            };
            headers.push(("x-hub-signature-256", signature));
        }
        Kind::Gateway => {
            let now = chrono::Utc::now().timestamp();
            let sent = match &case.timestamp {
                Some(text) => text.clone(),
                None => (now - case.timestamp_ago).to_string(),
            };
            // Signed over the timestamp sent, or over a plausible one when none is sent.
            let signed_ts = if sent.is_empty() {
                now.to_string()
            } else {
                sent.clone()
            };
            if !sent.is_empty() {
                headers.push(("x-timestamp", sent));
            }
            let good = gateway_signature(body, &signed_ts);
            let signature = match case.signature {
                Signature::Valid | Signature::ValidWithoutPort => good,
                Signature::ValidUppercase => good.to_ascii_uppercase(),
                Signature::Wrong => {
                    use hmac::Mac;
                    let mut mac =
                        hmac::Hmac::<sha2::Sha256>::new_from_slice(b"not-the-key").unwrap();
                    mac.update(body);
                    mac.update(signed_ts.as_bytes());
                    hex::encode(mac.finalize().into_bytes())
                }
                Signature::OtherBytes => gateway_signature(b"another body", &signed_ts),
                Signature::Missing => return headers,
            };
            headers.push(("x-signature", signature));
        }
    }
    headers
}

/// Makes `phone` write `salam` through `kind` and waits for kabar's reply; returns the
/// provider's id of that reply and its message id.
async fn provoke_reply(kind: Kind, app: &TestApp, phone: &str) -> (String, u64) {
    let from = ContactId::parse(phone).unwrap();
    match kind {
        Kind::Twilio => {
            assert_eq!(app.sms(phone, "salam").await.status(), 200);
            app.twilio.wait_for(phone, 1).await;
        }
        Kind::Whatsapp => {
            app.whatsapp_text(phone.trim_start_matches('+'), "salam")
                .await;
            app.graph.wait_for(phone, 1).await;
        }
        Kind::Gateway => {
            app.gateway_sms(phone, "salam").await;
            app.gateway.wait_for(phone, 1).await;
        }
    }
    for _ in 0..200 {
        let reply = app
            .store
            .history(&from)
            .unwrap()
            .into_iter()
            .find(|m| m.direction == Direction::Out && m.external_id.is_some());
        if let Some(reply) = reply {
            return (reply.external_id.unwrap(), reply.id);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no reply to {phone} with a provider id");
}

/// The answer to one request: status, content type, body.
async fn call(
    kind: Kind,
    app: &TestApp,
    case: &IncomingCase,
    reply_id: Option<&str>,
) -> (u16, Option<String>, String) {
    let body = case.body(reply_id);
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut request = app.http.request(method, app.url(&case.path));
    if case.form.is_some() {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    } else if case.json.is_some() {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in &case.headers {
        request = request.header(name, value);
    }
    if case.method == "POST" {
        for (name, value) in sign(kind, app, case, &body) {
            request = request.header(name, value);
        }
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    (status, content_type, response.text().await.unwrap())
}

fn inbound_of(app: &TestApp, phone: &str) -> Vec<kabar::domain::MessageRecord> {
    app.store
        .history(&ContactId::parse(phone).unwrap())
        .unwrap()
        .into_iter()
        .filter(|m| m.direction == Direction::In)
        .collect()
}

/// Runs every case against one app, in order (a case may rely on an earlier one: a retry of
/// the same message id is stored once), then the derived cases.
pub async fn run_incoming(kind: Kind) {
    let cases: Vec<IncomingCase> = load(kind, "incoming");
    assert!(!cases.is_empty());
    let app = spawn_setup(kind.setup(true)).await;
    for case in &cases {
        let label = &case.label;
        let reply = match &case.after_reply_to {
            Some(phone) => Some(provoke_reply(kind, &app, phone).await),
            None => None,
        };
        let reply_id = reply.as_ref().map(|(id, _)| id.as_str());
        let (status, content_type, body) = call(kind, &app, case, reply_id).await;
        assert_eq!(status, case.status, "{label}: answered {body:?}");
        if status != 200 {
            assert!(!body.trim().is_empty(), "{label}: a reason is given");
        }
        if let Some(part) = &case.body_contains {
            assert!(body.contains(part), "{label}: {body:?} lacks {part:?}");
        }
        if let Some(expected) = &case.body_is {
            assert_eq!(&body, expected, "{label}");
        }
        if let Some(expected) = &case.content_type {
            assert_eq!(content_type.as_ref(), Some(expected), "{label}");
        }
        app.intake_settled().await;
        let mut senders: Vec<&str> = case.messages.iter().map(|m| m.from.as_str()).collect();
        senders.dedup();
        for sender in senders {
            let stored = inbound_of(&app, sender);
            // The message that provoked the reply is not the case's business.
            let stored: Vec<_> = stored
                .into_iter()
                .filter(|m| case.after_reply_to.as_deref() != Some(sender) || m.text != "salam")
                .collect();
            let expected: Vec<_> = case.messages.iter().filter(|m| m.from == sender).collect();
            assert_eq!(
                stored.len(),
                expected.len(),
                "{label}: messages stored from {sender}: {:?}",
                stored.iter().map(|m| &m.text).collect::<Vec<_>>()
            );
            for (got, want) in stored.iter().zip(expected) {
                assert_eq!(got.text, want.text, "{label}: text");
                assert_eq!(
                    got.external_id.as_deref(),
                    Some(want.external_id.as_str()),
                    "{label}: external id"
                );
                if let Some(channel) = &want.channel {
                    assert_eq!(got.channel.name(), channel, "{label}: channel");
                }
                let media = got.media.as_ref().map(|m| {
                    serde_json::to_value(m.kind)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string()
                });
                assert_eq!(media, want.media, "{label}: media");
                assert_eq!(got.unsupported, want.unsupported, "{label}: unsupported");
            }
        }
        for sender in &case.nothing_from {
            let stored = inbound_of(&app, sender);
            assert!(stored.is_empty(), "{label}: stored {stored:?}");
        }
        if let Some(want) = &case.reply_status {
            let (_, message_id) = reply.expect("reply_status needs after_reply_to");
            let message = app.store.message(message_id).unwrap().unwrap();
            assert_eq!(message.status, want.status, "{label}: status of the reply");
            if let Some(part) = &want.error_contains {
                let error = message.error.unwrap_or_default();
                assert!(
                    error.contains(part),
                    "{label}: error {error:?} lacks {part:?}"
                );
            }
        }
    }

    // Derived from the first case answered 200: the same request with a wrong signature is
    // refused and stores nothing.
    let first = cases
        .iter()
        .find(|c| c.status == 200 && c.method == "POST" && c.after_reply_to.is_none())
        .expect("a valid case")
        .clone();
    let mut forged = first.clone();
    forged.signature = Signature::Wrong;
    let (status, _, body) = call(kind, &app, &forged, None).await;
    assert_eq!(status, 403, "{}, wrongly signed: {body:?}", first.label);
    app.stop().await;

    // …and an app without this provider does not know the route's provider: 404.
    let without = spawn_setup(kind.setup(false)).await;
    let (status, _, body) = call(kind, &without, &first, None).await;
    assert_eq!(
        status, 404,
        "{}, provider not configured: {body:?}",
        first.label
    );
    assert!(body.contains("not configured"), "{body:?}");
    for message in &first.messages {
        assert!(inbound_of(&without, &message.from).is_empty());
    }
    without.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Outgoing
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutgoingCase {
    pub label: String,
    /// The outbox item (`attempts` and `next_attempt_at` may be left out).
    pub item: Value,
    /// `{"template": {"name", "language"}}` to send the locale's template.
    #[serde(default)]
    pub template: Option<kabar::config::TemplateConfig>,
    /// The mock provider's answers, in order; without one it answers 200 `{}`.
    #[serde(default)]
    pub responses: Vec<MockResponse>,
    /// Instead of answering, the provider is not there at all.
    #[serde(default)]
    pub unreachable: bool,
    #[serde(default)]
    pub requests: Vec<ExpectedRequest>,
    pub outcome: ExpectedOutcome,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockResponse {
    pub status: u16,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequest {
    pub method: String,
    pub path: String,
    /// The whole form, in order.
    #[serde(default)]
    pub form: Option<Vec<(String, String)>>,
    /// The whole JSON body.
    #[serde(default)]
    pub json: Option<Value>,
    /// Headers that must be there with these values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExpectedOutcome {
    Accepted {
        /// Exactly, or `*` for any (an id made up when the answer is unreadable).
        external_id: String,
        status: MessageStatus,
    },
    Retry {
        reason_contains: String,
        #[serde(default)]
        after_secs: Option<u64>,
    },
    Failed {
        reason_contains: String,
    },
    OptedOut {
        reason_contains: String,
    },
    OutsideWindow {
        reason_contains: String,
    },
}

/// One request the mock provider received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Default)]
struct Mock {
    requests: Mutex<Vec<Recorded>>,
    responses: Mutex<VecDeque<MockResponse>>,
}

async fn mock_answer(
    axum::extract::State(mock): axum::extract::State<Arc<Mock>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    mock.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        headers: parts.headers,
        body: body.to_vec(),
    });
    let answer = mock.responses.lock().unwrap().pop_front();
    let answer = answer.unwrap_or(MockResponse {
        status: 200,
        body: "{}".into(),
        headers: BTreeMap::new(),
    });
    let mut response = (StatusCode::from_u16(answer.status).unwrap(), answer.body).into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    for (name, value) in answer.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

async fn start_mock(mock: Arc<Mock>) -> SocketAddr {
    let app = axum::Router::new().fallback(mock_answer).with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// The provider `kind` as configured for the tests, talking to `addr`.
fn provider(kind: Kind, addr: SocketAddr) -> Box<dyn Provider> {
    let setup = kind.setup(true);
    let data = std::env::temp_dir();
    let public = "127.0.0.1:8080".parse().unwrap();
    let config = config_with(public, &data, addr, Some(addr), Some(addr), setup);
    let http = reqwest::Client::new();
    match kind {
        Kind::Twilio => Box::new(kabar::channel::twilio::TwilioSender::new(
            config.twilio.unwrap(),
            &config.server.public_url,
            http,
        )),
        Kind::Whatsapp => Box::new(kabar::channel::whatsapp::WhatsappSender::new(
            config.whatsapp.unwrap(),
            http,
        )),
        Kind::Gateway => Box::new(kabar::channel::gateway::GatewaySender::new(
            config.gateway.unwrap(),
            http,
        )),
    }
}

pub async fn run_outgoing(kind: Kind) {
    let cases: Vec<OutgoingCase> = load(kind, "outgoing");
    assert!(!cases.is_empty());
    for case in cases {
        let label = &case.label;
        let mock = Arc::new(Mock::default());
        mock.responses
            .lock()
            .unwrap()
            .extend(case.responses.iter().cloned());
        let addr = if case.unreachable {
            // A port nobody listens on.
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        } else {
            start_mock(mock.clone()).await
        };
        let mut item = case.item.clone();
        for (field, default) in [("attempts", 0), ("next_attempt_at", 0)] {
            if item.get(field).is_none() {
                item[field] = default.into();
            }
        }
        let item: OutboxItem =
            serde_json::from_value(item).unwrap_or_else(|e| panic!("{label}: {e}"));
        let delivery = match &case.template {
            Some(template) => Delivery::Template(template.clone()),
            None => Delivery::FreeForm,
        };
        let outcome = provider(kind, addr).send(&item, &delivery).await;

        let requests = mock.requests.lock().unwrap().clone();
        assert_eq!(
            requests.len(),
            case.requests.len(),
            "{label}: requests {requests:?}"
        );
        for (got, want) in requests.iter().zip(&case.requests) {
            assert_eq!(got.method, want.method, "{label}");
            assert_eq!(got.path, want.path, "{label}");
            if let Some(form) = &want.form {
                let sent: Vec<(String, String)> =
                    form_urlencoded::parse(&got.body).into_owned().collect();
                assert_eq!(&sent, form, "{label}: form");
            }
            if let Some(json) = &want.json {
                let sent: Value = serde_json::from_slice(&got.body).unwrap();
                assert_eq!(&sent, json, "{label}: JSON body");
            }
            for (name, value) in &want.headers {
                let sent = got.headers.get(name).map(|v| v.to_str().unwrap());
                assert_eq!(sent, Some(value.as_str()), "{label}: header {name}");
            }
        }
        check_outcome(label, &outcome, &case.outcome);
    }
}

fn check_outcome(label: &str, got: &SendOutcome, want: &ExpectedOutcome) {
    let contains = |reason: &str, part: &str| {
        assert!(reason.contains(part), "{label}: {reason:?} lacks {part:?}");
        // Reasons end up in logs and the API: never a whole phone number.
        assert!(
            !reason.contains("6281234567890"),
            "{label}: number in {reason:?}"
        );
    };
    match (got, want) {
        (
            SendOutcome::Accepted {
                external_id,
                status,
            },
            ExpectedOutcome::Accepted {
                external_id: want_id,
                status: want_status,
            },
        ) => {
            if want_id != "*" {
                assert_eq!(external_id, want_id, "{label}");
            }
            assert!(!external_id.is_empty(), "{label}");
            assert_eq!(status, want_status, "{label}");
        }
        (
            SendOutcome::Retry { reason, after },
            ExpectedOutcome::Retry {
                reason_contains,
                after_secs,
            },
        ) => {
            contains(reason, reason_contains);
            assert_eq!(
                after.map(|a| a.as_secs()),
                *after_secs,
                "{label}: retry after"
            );
        }
        (SendOutcome::Failed { reason }, ExpectedOutcome::Failed { reason_contains })
        | (SendOutcome::OptedOut { reason }, ExpectedOutcome::OptedOut { reason_contains })
        | (
            SendOutcome::OutsideWindow { reason },
            ExpectedOutcome::OutsideWindow { reason_contains },
        ) => contains(reason, reason_contains),
        (got, want) => panic!("{label}: got {got:?}, expected {want:?}"),
    }
}
