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
