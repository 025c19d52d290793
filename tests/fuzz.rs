//! Property tests: no webhook body and no conversation input makes kabar panic or answer 5xx.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use kabar::flow::{Attachment, Engine, Input, Session, State, Target};
use kabar::i18n::Lang;
use proptest::prelude::*;
use tower::ServiceExt;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Arbitrary bodies, validly signed over whatever they parse to: 200, 400 or 413, never 5xx.
    #[test]
    fn twilio_webhook_never_fails_on_any_body(
        bodies in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..512),
                "[a-zA-Z%=&+:0-9]{0,200}".prop_map(String::into_bytes),
                ("[A-Za-z]{1,12}", "\\PC{0,40}", "\\PC{0,40}").prop_map(|(sid, from, body)| {
                    encode_form(&inbound_params(&format!("SM{sid}"), &from, &body)).into_bytes()
                }),
            ],
            1..8,
        )
    ) {
        let rt = runtime();
        rt.block_on(async {
            let app = spawn_app().await;
            for body in bodies {
                let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
                for path in ["/webhooks/twilio", "/webhooks/twilio/status"] {
                    let request = Request::post(path)
                        .header("x-twilio-signature", app.sign(path, &params))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(Body::from(body.clone()))
                        .unwrap();
                    let status = app.app_router.clone().oneshot(request).await.unwrap().status();
                    prop_assert!(
                        [200, 400, 413].contains(&status.as_u16()),
                        "{path}: {status} for {:?}", String::from_utf8_lossy(&body)
                    );
                }
            }
            app.stop().await;
            Ok(())
        })?;
    }
}

/// Locales and flows, loaded once for all cases.
fn content() -> &'static (kabar::i18n::Localizer, kabar::flow::Flows) {
    static CONTENT: std::sync::OnceLock<(kabar::i18n::Localizer, kabar::flow::Flows)> =
        std::sync::OnceLock::new();
    CONTENT.get_or_init(|| {
        let localizer = localizer();
        let flows = kabar::flow::load::load(&manifest_dir().join("flows"), &localizer).unwrap();
        (localizer, flows)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// WhatsApp and gateway webhooks, validly signed, with arbitrary or mangled bodies:
    /// 200 or 400, never 5xx.
    #[test]
    fn whatsapp_and_gateway_webhooks_never_fail_on_any_body(
        bodies in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..400),
                (0usize..2000).prop_map(|cut| {
                    let full = serde_json::to_vec(&whatsapp_message(
                        "93700000001", "wamid.F", serde_json::json!({"type": "text", "text": {"body": "salam"}}),
                    )).unwrap();
                    full[..cut.min(full.len())].to_vec()
                }),
                ("\\PC{0,30}", "[a-z:_]{0,16}").prop_map(|(text, event)| serde_json::to_vec(&serde_json::json!({
                    "id": "e", "event": event, "payload": {"messageId": "m", "message": text, "sender": text}
                })).unwrap()),
            ],
            1..6,
        )
    ) {
        let rt = runtime();
        rt.block_on(async {
            let app = spawn_setup(Setup { twilio: false, whatsapp: true, gateway: true, ..Setup::default() }).await;
            for body in bodies {
                let ts = chrono::Utc::now().timestamp().to_string();
                let requests = [
                    Request::post("/webhooks/whatsapp")
                        .header("x-hub-signature-256", whatsapp_signature(&body))
                        .body(Body::from(body.clone()))
                        .unwrap(),
                    Request::post("/webhooks/gateway")
                        .header("x-timestamp", ts.clone())
                        .header("x-signature", gateway_signature(&body, &ts))
                        .body(Body::from(body.clone()))
                        .unwrap(),
                ];
                for request in requests {
                    let path = request.uri().path().to_string();
                    let status = app.app_router.clone().oneshot(request).await.unwrap().status();
                    prop_assert!(
                        [200, 400].contains(&status.as_u16()),
                        "{path}: {status} for {:?}", String::from_utf8_lossy(&body)
                    );
                }
            }
            app.stop().await;
            Ok(())
        })?;
    }
}

fn arbitrary_state() -> impl Strategy<Value = State> {
    let target = ("[a-z]{1,8}", "[a-z]{1,8}").prop_map(|(flow, node)| Target { flow, node });
    let langs = proptest::sample::subsequence(Lang::ALL.to_vec(), 0..6);
    prop_oneof![
        Just(State::New),
        (langs, any::<bool>()).prop_map(|(order, first)| State::ChoosingLanguage { order, first }),
        target.clone().prop_map(|at| State::At { at }),
        Just(State::At {
            at: Target {
                flow: "main".into(),
                node: "menu".into()
            }
        }),
        target.prop_map(|at| State::OfferingHuman { at }),
        "[a-z-]{0,10}".prop_map(|topic| State::Human { topic }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    /// The engine never panics, whatever the stored session and the text, and always says
    /// something unless a person has the conversation.
    #[test]
    fn engine_never_panics_and_never_leaves_a_person_without_answer(
        state in arbitrary_state(),
        misses in any::<u8>(),
        lang in proptest::option::of(proptest::sample::select(Lang::ALL.to_vec())),
        consented in any::<bool>(),
        attachment in 0usize..3,
        reopen in any::<bool>(),
        text in prop_oneof!["\\PC{0,60}", "[0-9٠-٩۰-۹፩-፱]{1,3}", Just("menu".to_string()), Just("language".to_string())],
    ) {
        let (localizer, flows) = content();
        let engine = Engine { flows, localizer };
        let session = Session { state, misses, ..Session::default() };
        let facts = kabar::flow::Facts {
            cities: vec!["Makassar".into()],
            ..Default::default()
        };
        let attachment = [Attachment::None, Attachment::Media, Attachment::Unsupported][attachment % 3];
        let reopenable = reopen.then(|| "general".to_string());
        let input = Input { text: &text, lang, consented, city: None, facts: &facts, attachment, reopenable };
        let (after, effects) = engine.step(&session, &input);
        let replied = effects.iter().any(|e| matches!(e, kabar::flow::Effect::Reply { .. }));
        let human = matches!(after.state, State::Human { .. });
        prop_assert!(replied || human, "no answer to {text:?} from {session:?}");
    }

    #[test]
    fn parsers_never_panic(text in "\\PC{0,80}") {
        let _ = kabar::domain::phone::PhoneNumber::parse(&text);
        let _ = kabar::i18n::normalize::normalize(&text);
        let _ = kabar::i18n::normalize::parse_number(&text);
        let _ = kabar::i18n::detect::detect(&text);
        let _ = kabar::i18n::segments::count(&text);
        let _ = kabar::channel::twilio::url_variants(&text);
    }
}
