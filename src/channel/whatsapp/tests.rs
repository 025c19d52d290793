use super::*;
use crate::channel::http::{Limited, read_limited};
use crate::channel::{
    InboundEvent, InboundKind, InboundMessage, MediaKind, MediaRef, StatusReport,
};
use crate::domain::MessageStatus;
use serde_json::{Value, json};

fn phone(s: &str) -> ContactId {
    ContactId::parse(s).unwrap()
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
        profile: Default::default(),
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
    assert!(parsed.skipped[2].contains("neither a WhatsApp phone number nor a user id"));
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
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
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
    let response = |len: usize| reqwest::Response::from(axum::http::Response::new(vec![1u8; len]));
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
