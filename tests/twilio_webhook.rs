//! Table-driven tests of the Twilio channel (courier's style): each row is a request as Twilio
//! (or an attacker) would send it, and what must be answered and stored.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use http_body_util::BodyExt;
use kabar::domain::phone::PhoneNumber;
use kabar::domain::{Channel, Direction};
use tower::ServiceExt;

enum Sig {
    Valid,
    /// Signed over the URL with its port removed (twilio-python accepts both forms).
    ValidWithoutPort,
    Wrong,
    Missing,
}

struct Row {
    name: &'static str,
    params: Vec<(String, String)>,
    /// Raw body instead of the encoded params (still signed over `params`).
    raw_body: Option<Vec<u8>>,
    sig: Sig,
    status: u16,
    /// The sender whose history is checked, and how many inbound messages it must hold.
    stored: Option<(&'static str, usize)>,
    channel: Option<Channel>,
    text: Option<&'static str>,
}

fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn rows() -> Vec<Row> {
    let base = |sid: &str, from: &str, body: &str| inbound_params(sid, from, body);
    let mut unknown = base(
        "SM00000000000000000000000000000005",
        "+6281200009005",
        "salam",
    );
    unknown.extend(p(&[
        ("ProfileName", "Ahmad"),
        ("SomeParameterTwilioAddsLater", "x"),
        ("FromCity", "MAKASSAR"),
    ]));
    vec![
        Row {
            name: "valid SMS",
            params: base(
                "SM00000000000000000000000000000001",
                "+6281200009001",
                "hello",
            ),
            raw_body: None,
            sig: Sig::Valid,
            status: 200,
            stored: Some(("+6281200009001", 1)),
            channel: Some(Channel::TwilioSms),
            text: Some("hello"),
        },
        Row {
            name: "signed over the URL without its port",
            params: base("SM00000000000000000000000000000002", "+6281200009002", "hi"),
            raw_body: None,
            sig: Sig::ValidWithoutPort,
            status: 200,
            stored: Some(("+6281200009002", 1)),
            channel: Some(Channel::TwilioSms),
            text: Some("hi"),
        },
        Row {
            name: "wrong signature",
            params: base("SM00000000000000000000000000000003", "+6281200009003", "x"),
            raw_body: None,
            sig: Sig::Wrong,
            status: 403,
            stored: Some(("+6281200009003", 0)),
            channel: None,
            text: None,
        },
        Row {
            name: "missing signature",
            params: base("SM00000000000000000000000000000004", "+6281200009004", "x"),
            raw_body: None,
            sig: Sig::Missing,
            status: 403,
            stored: Some(("+6281200009004", 0)),
            channel: None,
            text: None,
        },
        Row {
            name: "unknown extra parameters",
            params: unknown,
            raw_body: None,
            sig: Sig::Valid,
            status: 200,
            stored: Some(("+6281200009005", 1)),
            channel: Some(Channel::TwilioSms),
            text: Some("salam"),
        },
        Row {
            name: "WhatsApp through Twilio",
            params: base(
                "SM00000000000000000000000000000006",
                "whatsapp:+93701234567",
                "سلام",
            ),
            raw_body: None,
            sig: Sig::Valid,
            status: 200,
            stored: Some(("+93701234567", 1)),
            channel: Some(Channel::TwilioWhatsapp),
            text: Some("سلام"),
        },
        Row {
            name: "duplicate MessageSid (Twilio retry)",
            params: base(
                "SM00000000000000000000000000000001",
                "+6281200009001",
                "hello",
            ),
            raw_body: None,
            sig: Sig::Valid,
            status: 200,
            stored: Some(("+6281200009001", 1)),
            channel: None,
            text: None,
        },
        Row {
            name: "malformed: no From",
            params: p(&[
                ("MessageSid", "SM00000000000000000000000000000007"),
                ("Body", "x"),
            ]),
            raw_body: None,
            sig: Sig::Valid,
            status: 400,
            stored: None,
            channel: None,
            text: None,
        },
        Row {
            name: "malformed: From is not a number",
            params: base("SM00000000000000000000000000000008", "client:alice", "x"),
            raw_body: None,
            sig: Sig::Valid,
            status: 400,
            stored: None,
            channel: None,
            text: None,
        },
        Row {
            name: "malformed: JSON instead of a form",
            params: vec![],
            raw_body: Some(br#"{"From":"+6281200009009","Body":"x"}"#.to_vec()),
            sig: Sig::Valid,
            status: 400,
            stored: Some(("+6281200009009", 0)),
            channel: None,
            text: None,
        },
        Row {
            name: "malformed: not UTF-8",
            params: vec![],
            raw_body: Some(vec![0xff, 0xfe, b'=', 0x80]),
            sig: Sig::Valid,
            status: 400,
            stored: None,
            channel: None,
            text: None,
        },
        Row {
            name: "70 KiB body",
            params: base(
                "SM00000000000000000000000000000010",
                "+6281200009010",
                &"a".repeat(70 * 1024),
            ),
            raw_body: None,
            sig: Sig::Valid,
            status: 413,
            stored: Some(("+6281200009010", 0)),
            channel: None,
            text: None,
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_inbound_table() {
    let app = spawn_app().await;
    for row in rows() {
        let url = app.url("/webhooks/twilio");
        // Twilio signs the parameters it sent; for a raw body, whatever that body parses to.
        let signed_params = match &row.raw_body {
            Some(raw) => form_urlencoded::parse(raw).into_owned().collect(),
            None => row.params.clone(),
        };
        let signature = match row.sig {
            Sig::Valid => Some(app.sign("/webhooks/twilio", &signed_params)),
            Sig::ValidWithoutPort => Some(kabar::channel::twilio::compute_signature(
                AUTH_TOKEN,
                "http://127.0.0.1/webhooks/twilio",
                &signed_params,
            )),
            Sig::Wrong => Some(kabar::channel::twilio::compute_signature(
                "not-the-token",
                &url,
                &signed_params,
            )),
            Sig::Missing => None,
        };
        let body = row
            .raw_body
            .clone()
            .unwrap_or_else(|| encode_form(&row.params).into_bytes());
        let mut request = Request::post("/webhooks/twilio")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(s) = signature {
            request = request.header("x-twilio-signature", s);
        }
        let response = app
            .app_router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(status, row.status, "{}: {:?}", row.name, bytes);
        if status == 200 {
            assert_eq!(&bytes[..], b"<Response/>", "{}", row.name);
            assert_eq!(content_type.as_deref(), Some("text/xml"), "{}", row.name);
        } else {
            assert!(!bytes.is_empty(), "{}: a reason is given", row.name);
        }
        if let Some((phone, count)) = row.stored {
            app.intake_settled().await;
            let history = app
                .store
                .history(&PhoneNumber::parse(phone).unwrap())
                .unwrap();
            let inbound: Vec<_> = history
                .iter()
                .filter(|m| m.direction == Direction::In)
                .collect();
            assert_eq!(inbound.len(), count, "{}: stored messages", row.name);
            if let (Some(channel), Some(text)) = (row.channel, row.text) {
                assert_eq!(inbound[0].channel, channel, "{}", row.name);
                assert_eq!(inbound[0].text, text, "{}", row.name);
                let sid = row
                    .params
                    .iter()
                    .find(|(k, _)| k == "MessageSid")
                    .map(|(_, v)| v.as_str());
                assert_eq!(inbound[0].external_id.as_deref(), sid, "{}", row.name);
            }
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_callback_requires_a_signature() {
    let app = spawn_app().await;
    let params = p(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]);
    let r = app
        .http
        .post(app.url("/webhooks/twilio/status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(&params))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .post_twilio(
            "/webhooks/twilio/status",
            &p(&[("MessageStatus", "delivered")]),
        )
        .await;
    assert_eq!(r.status(), 400, "no MessageSid");
    app.stop().await;
}
