use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rand::{Rng, SeedableRng};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use std::time::Duration;

use super::outgoing::error_message;
use super::*;
use crate::channel::{InboundKind, InboundMessage};
use crate::domain::MessageStatus;
use crate::domain::phone::PhoneNumber;
use serde_json::Value;

const KEY: &str = "Qz8pD4sTgW1";
const NOW: i64 = 1_750_000_000;

fn sign(body: &[u8], timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(body);
    mac.update(timestamp.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::parse(s).unwrap()
}

const RECEIVED: &str = r#"{
    "deviceId": "ffffffffceb0b1db0000018e937c815b",
    "event": "sms:received",
    "id": "Ey6ECgOkVVFjz3CL48B8C",
    "payload": {
        "messageId": "abc123",
        "message": "Halo, saya butuh bantuan",
        "sender": "081234567890",
        "recipient": "+6281100000000",
        "simNumber": 1,
        "receivedAt": "2024-06-22T15:46:11.000+07:00"
    },
    "webhookId": "kabar-received"
}"#;

/// Through the route these are answered 200 with nothing stored (the harness's
/// `gateway_incoming.json`); the reason, for the logs, is only visible here.
#[test]
fn carrier_promotions_are_ignored_with_a_reason_without_the_sender() {
    let body = r#"{"id":"ev14","event":"sms:received","deviceId":"d1","webhookId":"w1","payload":{"messageId":"m14","message":"Promo!","sender":"TELKOMSEL","receivedAt":"2024-06-22T15:46:11.000+07:00"}}"#;
    assert_eq!(
        parse_event(body.as_bytes()).unwrap().kind,
        EventKind::Other(
            "sms:received ignored: payload.sender is not a phone number: it has characters other than digits (an alphanumeric sender id?)".into()
        )
    );
    let parsed = parse_event(RECEIVED.as_bytes()).unwrap();
    assert_eq!(
        parsed.kind,
        EventKind::Received(InboundMessage {
            profile: Default::default(),
            from: crate::domain::ContactId::from(phone("+6281234567890")),
            external_id: "abc123".into(),
            text: "Halo, saya butuh bantuan".into(),
            kind: InboundKind::Text,
        })
    );
}

/// The clock rule at its edges, which a test through the route cannot pin to the second.
#[test]
fn five_minutes_either_way_is_the_limit() {
    let body = RECEIVED.as_bytes();
    for (ago, ok) in [(300, true), (-300, true), (301, false), (-301, false)] {
        let ts = (NOW - ago).to_string();
        let result = verify(KEY, body, Some(&ts), Some(&sign(body, &ts)), NOW);
        assert_eq!(result.is_ok(), ok, "{ago} s: {result:?}");
    }
}

#[test]
fn envelope_id_is_kept_for_dedupe() {
    let event = parse_event(RECEIVED.as_bytes()).unwrap();
    assert_eq!(event.id, "Ey6ECgOkVVFjz3CL48B8C");
    // The phone resends the same event: same envelope id, same messageId.
    assert_eq!(parse_event(RECEIVED.as_bytes()).unwrap(), event);
}

/// Computed independently with the docs' Python recipe:
/// `hmac.new(key, (payload + timestamp).encode(), hashlib.sha256).hexdigest()`.
#[test]
fn signature_matches_the_documented_recipe() {
    let body = r#"{"deviceId":"ffffffffceb0b1db0000018e937c815b","event":"sms:received","id":"Ey6ECgOkVVFjz3CL48B8C","payload":{"messageId":"abc123","message":"Android is always a sweet treat!","phoneNumber":"6505551212","simNumber":1,"receivedAt":"2024-06-22T15:46:11.000+07:00"},"webhookId":"LreFUt-Z3sSq0JufY9uWB"}"#;
    let sig = "c1eac82d3f8183ca4a6bd5bc7b239f2776ca7a0e6813a348c6ee2a1a1c0463b8";
    let ok = verify(
        "the-signing-key",
        body.as_bytes(),
        Some("1719046000"),
        Some(sig),
        1_719_046_100,
    );
    assert_eq!(ok, Ok(()));
    // The docs' sample sender is a US number without its +: not one we can answer.
    assert!(matches!(
        parse_event(body.as_bytes()),
        Ok(Event { kind: EventKind::Other(m), .. }) if m.contains("payload.phoneNumber is not a phone number")
    ));
}

#[test]
fn signature_covers_body_and_timestamp() {
    let body = RECEIVED.as_bytes();
    let ts = NOW.to_string();
    let sig = sign(body, &ts);
    assert_eq!(verify(KEY, body, Some(&ts), Some(&sig), NOW), Ok(()));
    // Another timestamp with the same signature: refused.
    let other = (NOW - 1).to_string();
    assert_eq!(
        verify(KEY, body, Some(&other), Some(&sig), NOW),
        Err(WebhookError::BadSignature)
    );
    // Another key, a truncated or non-hex signature: refused.
    assert_eq!(
        verify("other", body, Some(&ts), Some(&sig), NOW),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify(KEY, body, Some(&ts), Some(&sig[..62]), NOW),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify(KEY, body, Some(&ts), Some("zz"), NOW),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        verify(KEY, body, Some(&ts), Some(""), NOW),
        Err(WebhookError::BadSignature)
    );
    // A forged request with an old timestamp is a bad signature, not merely stale.
    let old = (NOW - 3600).to_string();
    assert_eq!(
        verify(KEY, body, Some(&old), Some(&sig), NOW),
        Err(WebhookError::BadSignature)
    );
    // Extreme timestamps do not overflow.
    for t in [i64::MIN.to_string(), i64::MAX.to_string()] {
        let s = sign(body, &t);
        assert!(matches!(
            verify(KEY, body, Some(&t), Some(&s), NOW),
            Err(WebhookError::Stale(_))
        ));
    }
}

#[test]
fn errors_read_well() {
    assert_eq!(
        WebhookError::MissingSignature.to_string(),
        "missing X-Signature header"
    );
    assert_eq!(
        WebhookError::Malformed("payload.message is missing".into()).to_string(),
        "malformed webhook body: payload.message is missing"
    );
    // The reason never repeats the sender's number.
    let body = r#"{"id":"e","event":"sms:received","payload":{"messageId":"m","message":"x","sender":"+62812345678901234"}}"#;
    let Ok(Event {
        kind: EventKind::Other(m),
        ..
    }) = parse_event(body.as_bytes())
    else {
        panic!("accepted an overlong number");
    };
    assert!(!m.contains("812345678901234"), "{m}");
    assert!(m.contains("17 digits"), "{m}");
}

#[test]
fn request_body_is_exact() {
    let body = GatewaySender::request_body("kabar-17", &phone("0812 3456 7890"), "Halo");
    assert_eq!(
        body,
        serde_json::json!({
            "id": "kabar-17",
            "textMessage": { "text": "Halo" },
            "phoneNumbers": ["+6281234567890"],
            "withDeliveryReport": true
        })
    );
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"id":"kabar-17","phoneNumbers":["+6281234567890"],"textMessage":{"text":"Halo"},"withDeliveryReport":true}"#
    );
}

#[test]
fn answers_map_to_outbox_decisions() {
    assert!(matches!(
        classify(202, "", None),
        SendOutcome::Accepted { .. }
    ));
    assert_eq!(
        classify(401, "Unauthorized", None),
        SendOutcome::Failed {
            reason: "gateway refused the credentials".into()
        }
    );
    assert!(matches!(
        classify(403, "", None),
        SendOutcome::Failed { .. }
    ));
    assert_eq!(
        classify(429, "slow down", Some(Duration::from_secs(7))),
        SendOutcome::Retry {
            reason: "gateway 429: slow down".into(),
            after: Some(Duration::from_secs(7))
        }
    );
    assert!(matches!(classify(503, "", None), SendOutcome::Retry { .. }));
    assert_eq!(
        classify(400, "invalid phone number", None),
        SendOutcome::Failed {
            reason: "gateway 400: invalid phone number".into()
        }
    );
    assert_eq!(error_message(br#"{"message":"bad id"}"#), "bad id");
    assert_eq!(error_message(b"  plain text  "), "plain text");
    assert_eq!(error_message(b""), "(no message)");
}

#[test]
fn debug_hides_secrets() {
    let s = GatewaySender::new(config("http://127.0.0.1:1"), reqwest::Client::new());
    let d = format!("{s:?}");
    assert!(!d.contains("pa55word") && !d.contains(KEY), "{d}");
    assert_eq!(s.tps(), 1);
    assert_eq!(s.signing_key(), KEY);
}

#[test]
fn parse_never_panics() {
    // The bodies of the shared harness's cases: documented events and their malformed kin.
    let cases: Vec<Value> = serde_json::from_str(include_str!(
        "../../../tests/channels/testdata/gateway_incoming.json"
    ))
    .unwrap();
    let valid: Vec<String> = cases
        .iter()
        .filter_map(|c| match (&c["json"], &c["text"]) {
            (Value::Null, Value::String(text)) => Some(text.clone()),
            (Value::Null, _) => None,
            (json, _) => Some(json.to_string()),
        })
        .collect();
    assert!(valid.len() > 20);
    for body in &valid {
        let bytes = body.as_bytes();
        for cut in 0..=bytes.len() {
            let _ = parse_event(&bytes[..cut]);
            let _ = verify(KEY, &bytes[..cut], Some("1"), Some("00"), NOW);
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6b61626172);
    for _ in 0..5000 {
        let len = rng.gen_range(0..200);
        let noise: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        let _ = parse_event(&noise);
        // Flip a few bytes of a valid payload: mostly-valid JSON reaches deeper code.
        let mut mutated = valid[rng.gen_range(0..valid.len())].as_bytes().to_vec();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..mutated.len());
            mutated[i] = rng.r#gen();
        }
        let _ = parse_event(&mutated);
        let ts = String::from_utf8_lossy(&noise[..len.min(12)]).into_owned();
        let sig = String::from_utf8_lossy(&noise[len.min(12)..]).into_owned();
        let _ = verify(KEY, &mutated, Some(&ts), Some(&sig), rng.r#gen());
    }
    // Deep nesting and odd types.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse_event(deep.as_bytes()).is_err());
    for body in [
        r#"{"id":1,"event":"sms:received","payload":{}}"#,
        r#"{"id":"e","event":null,"payload":{}}"#,
        r#"{"id":"e","event":"sms:received","payload":[]}"#,
        r#"{"id":"e","event":"sms:received","payload":{"messageId":"m","message":7,"sender":"+6281234567890"}}"#,
        r#"{"id":"e","event":"sms:received","payload":{"messageId":"m","message":"x","sender":6281234567890}}"#,
        r#"{"id":"e","event":"sms:failed","payload":{"messageId":"m","reason":{"code":1}}}"#,
    ] {
        let _ = parse_event(body.as_bytes());
    }
}

fn config(url: &str) -> GatewayConfig {
    GatewayConfig {
        url: url::Url::parse(url).unwrap(),
        username: "sms".into(),
        password: "pa55word".into(),
        signing_key: KEY.into(),
        tps: 1,
    }
}

#[derive(Debug, Clone)]
struct Captured {
    authorization: Option<String>,
    content_type: Option<String>,
    body: Value,
}

/// A fake phone answering `POST /message` with `status` and `answer`.
async fn fake_gateway(status: u16, answer: &'static str) -> (String, Arc<Mutex<Vec<Captured>>>) {
    use axum::http::{HeaderMap, StatusCode, header};
    let captured: Arc<Mutex<Vec<Captured>>> = Arc::default();
    let log = captured.clone();
    let app = axum::Router::new().route(
        "/message",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let get = |h: header::HeaderName| {
                    headers
                        .get(h)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                log.lock().unwrap().push(Captured {
                    authorization: get(header::AUTHORIZATION),
                    content_type: get(header::CONTENT_TYPE),
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                });
                (
                    StatusCode::from_u16(status).unwrap(),
                    [(header::CONTENT_TYPE, "application/json")],
                    answer,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/"), captured)
}

#[tokio::test]
async fn send_posts_the_exact_json_with_basic_auth() {
    let (url, captured) = fake_gateway(
        202,
        r#"{"id":"kabar-17","state":"Pending","recipients":[{"phoneNumber":"+6281234567890","state":"Pending"}]}"#,
    )
    .await;
    let sender = GatewaySender::new(config(&url), reqwest::Client::new());
    let to = phone("081234567890");
    let outcome = sender.send("kabar-17", &to, "Halo 👋").await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            external_id: "kabar-17".into(),
            status: MessageStatus::Accepted
        }
    );
    let calls = captured.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    let want_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("sms:pa55word")
    );
    assert_eq!(calls[0].authorization.as_deref(), Some(want_auth.as_str()));
    assert_eq!(calls[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(
        calls[0].body,
        GatewaySender::request_body("kabar-17", &to, "Halo 👋")
    );
}

#[tokio::test]
async fn refusals_are_classified() {
    let to = phone("+6281234567890");
    let (url, _) = fake_gateway(401, r#"{"message":"Unauthorized"}"#).await;
    let outcome = GatewaySender::new(config(&url), reqwest::Client::new())
        .send("kabar-1", &to, "x")
        .await;
    assert_eq!(
        outcome,
        SendOutcome::Failed {
            reason: "gateway refused the credentials".into()
        }
    );
    let (url, _) = fake_gateway(400, r#"{"message":"invalid phone number"}"#).await;
    let outcome = GatewaySender::new(config(&url), reqwest::Client::new())
        .send("kabar-2", &to, "x")
        .await;
    assert_eq!(
        outcome,
        SendOutcome::Failed {
            reason: "gateway 400: invalid phone number".into()
        }
    );
    let (url, _) = fake_gateway(500, "oops").await;
    let outcome = GatewaySender::new(config(&url), reqwest::Client::new())
        .send("kabar-3", &to, "x")
        .await;
    assert!(matches!(outcome, SendOutcome::Retry { .. }), "{outcome:?}");
}

#[tokio::test]
async fn an_unreachable_phone_is_retried_without_leaking_credentials() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    // Credentials in the URL too: they must not reach the reason either.
    let sender = GatewaySender::new(
        config(&format!("http://sms:pa55word@{addr}")),
        reqwest::Client::new(),
    );
    let outcome = sender.send("kabar-9", &phone("+6281234567890"), "x").await;
    let SendOutcome::Retry { reason, after } = outcome else {
        panic!("expected Retry, got {outcome:?}");
    };
    assert!(
        reason.starts_with("gateway phone unreachable: "),
        "{reason}"
    );
    assert!(
        !reason.contains("pa55word") && !reason.contains(KEY),
        "{reason}"
    );
    assert_eq!(after, None);
}
