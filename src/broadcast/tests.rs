use super::*;

fn contact(phone: &str, lang: Option<Lang>, city: &str) -> Contact {
    let mut c = Contact::new(ContactId::parse(phone).unwrap(), 0);
    c.language = lang;
    c.city = Some(city.to_string()).filter(|c| !c.is_empty());
    c
}

fn broadcast(texts: &[(Lang, &str)], fallback: Option<Lang>, audience: Audience) -> Broadcast {
    Broadcast {
        id: 1,
        name: "t".into(),
        texts: texts.iter().map(|(l, t)| (*l, t.to_string())).collect(),
        fallback,
        audience,
        send_at: None,
        status: Status::Draft,
        created_by: "staff".into(),
        created_at: 0,
        approved_by: None,
        sent_by: None,
        released_at: None,
        frozen: None,
        updated_at: 0,
    }
}

fn sms_routes() -> Routes {
    Routes {
        available: [
            Channel::TwilioSms,
            Channel::TwilioWhatsapp,
            Channel::Whatsapp,
        ]
        .into_iter()
        .collect(),
        sms: Some(Channel::TwilioSms),
        templates: [Lang::Somali].into_iter().collect(),
        now: 10 * WHATSAPP_WINDOW_MS,
    }
}

fn draft(json: serde_json::Value) -> Draft {
    serde_json::from_value(json).unwrap()
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn every_invalid_field_is_named() {
    let errors = validate(
        draft(serde_json::json!({
            "name": "",
            "texts": {"xx": "hi", "so": "  ", "fa": "سلام {nmae}", "en": "a".repeat(1600)},
            "fallback": "ar",
            "audience": {"channels": ["fax"], "phones": ["12"], "languages": ["zz"]},
            "send_at": "2020-01-01T00:00:00Z",
        })),
        crate::domain::now_ms(),
    )
    .unwrap_err();
    let f = fields(&errors);
    for expected in [
        "name",
        "texts.xx",
        "texts.so",
        "texts.fa",
        "texts.en",
        "fallback",
        "audience.channels",
        "audience.phones",
        "audience.languages",
        "send_at",
    ] {
        assert!(f.contains(&expected), "{expected} missing from {errors:#?}");
    }
    let fa = errors.iter().find(|e| e.field == "texts.fa").unwrap();
    assert!(fa.reason.contains("{nmae}"), "{fa:?}");
    let en = errors.iter().find(|e| e.field == "texts.en").unwrap();
    assert!(en.reason.contains("11 SMS parts"), "{en:?}");
}

#[test]
fn a_good_draft_passes_with_aliases_resolved() {
    let valid = validate(
        draft(serde_json::json!({
            "name": " Office closed ",
            "texts": {"prs": "دفتر روز جمعه بسته است {name}", "so": "Xafiiska waa xiran yahay Jimcaha"},
            "fallback": "so",
            "audience": {"cities": ["Batam"], "tags": ["Parents"], "channels": ["sms"]},
            "send_at": "2099-01-01T09:00:00+07:00",
        })),
        0,
    )
    .unwrap();
    assert_eq!(valid.name, "Office closed");
    assert!(valid.texts.contains_key(&Lang::Dari));
    assert_eq!(valid.fallback, Some(Lang::Somali));
    assert_eq!(valid.audience.tags, ["parents"]);
    assert_eq!(valid.audience.channels, [Route::Sms]);
    assert_eq!(valid.send_at, Some(4_070_916_000_000));
}

#[test]
fn placeholders_are_filled_per_recipient_and_dates_in_local_digits() {
    let date = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    assert_eq!(format_date(Lang::Somali, date), "05/12/2026");
    assert_eq!(format_date(Lang::Dari, date), "۰۵/۱۲/۲۰۲۶");
    assert_eq!(format_date(Lang::Arabic, date), "٠٥/١٢/٢٠٢٦");
    let schedule: Schedule = [("makassar".to_string(), date)].into_iter().collect();
    let mut c = contact("+6281200000001", Some(Lang::Somali), "Makassar");
    c.name = Some("Hodan".into());
    let values = Values::of(&c, Lang::Somali, &schedule);
    assert_eq!(
        fill(
            "Salaan {name}, {city}: lacagta {next_payment_date}.",
            &values
        ),
        "Salaan Hodan, Makassar: lacagta 05/12/2026."
    );
    // No name: no stray space before the comma.
    c.name = None;
    let values = Values::of(&c, Lang::Somali, &schedule);
    assert_eq!(fill("Salaan {name}, ok", &values), "Salaan, ok");
    assert_eq!(
        unknown_placeholders("{name} {city} {x} {"),
        ["{x}", "{ without }"]
    );
}

#[test]
fn filters_narrow_and_exclusions_have_reasons() {
    let routes = sms_routes();
    let schedule = Schedule::new();
    let mut stopped = contact("+6281200000002", Some(Lang::Somali), "Batam");
    stopped.opted_out = true;
    let mut tagged = contact("+6281200000003", Some(Lang::Dari), "batam");
    tagged.tags = vec!["parents".into()];
    let contacts = [
        contact("+6281200000001", Some(Lang::Somali), "Batam"),
        stopped,
        tagged,
        contact("+6281200000004", Some(Lang::Tigrinya), "Batam"),
        contact("+6281200000005", Some(Lang::Somali), "Medan"),
    ];
    let b = broadcast(
        &[
            (Lang::Somali, "Xafiiska waa xiran yahay"),
            (Lang::Dari, "دفتر بسته است"),
        ],
        None,
        Audience {
            cities: vec!["BATAM".into()],
            ..Audience::default()
        },
    );
    let p = preview(&b, &contacts, &routes, &schedule);
    assert_eq!(p.recipients, 2);
    assert_eq!(p.excluded["opted_out"], 1);
    assert_eq!(p.excluded["no_text"], 1);
    assert_eq!(p.by_language["so"], 1);
    assert_eq!(p.by_language["fa-AF"], 1);
    assert_eq!(p.segments["so"].encoding, "GSM-7");
    assert_eq!(p.segments["fa-AF"].encoding, "UCS-2");
    assert_eq!(p.total_segments, 2);
    // With a fallback the Tigrinya speaker gets the Somali text.
    let with_fallback = Broadcast {
        fallback: Some(Lang::Somali),
        ..b.clone()
    };
    let p = preview(&with_fallback, &contacts, &routes, &schedule);
    assert_eq!(p.recipients, 3);
    assert_eq!(p.by_language["so"], 2);
    // Tags, languages and explicit phones narrow further.
    let tags = Broadcast {
        audience: Audience {
            tags: vec!["parents".into()],
            ..Audience::default()
        },
        ..b.clone()
    };
    assert_eq!(preview(&tags, &contacts, &routes, &schedule).recipients, 1);
    let phones = Broadcast {
        audience: Audience {
            phones: vec![
                ContactId::parse("+6281200000005").unwrap(),
                ContactId::parse("+6281299999999").unwrap(),
            ],
            ..Audience::default()
        },
        ..b.clone()
    };
    let p = preview(&phones, &contacts, &routes, &schedule);
    assert_eq!(p.recipients, 1);
    assert_eq!(p.excluded["unknown_phone"], 1);
}

#[test]
fn whatsapp_outside_the_window_gets_a_template_or_sms() {
    let routes = sms_routes();
    let mut so = contact("+6281200000001", Some(Lang::Somali), "");
    so.last_channel = Some(Channel::Whatsapp);
    let mut fa = contact("+6281200000002", Some(Lang::Farsi), "");
    fa.last_channel = Some(Channel::Whatsapp);
    let mut recent = contact("+6281200000003", Some(Lang::Farsi), "");
    recent.last_channel = Some(Channel::Whatsapp);
    recent.last_whatsapp_at = Some(routes.now - 1000);
    let b = broadcast(
        &[(Lang::Somali, "Fariin"), (Lang::Farsi, "پیام")],
        None,
        Audience {
            channels: vec![Route::Whatsapp],
            ..Audience::default()
        },
    );
    let p = preview(&b, &[so, fa, recent], &routes, &Schedule::new());
    assert_eq!(p.recipients, 3);
    assert_eq!(p.whatsapp_outside_window.template, 1);
    assert_eq!(p.whatsapp_outside_window.sms, 1);
    assert_eq!(p.whatsapp_messages, 2);
    assert_eq!(p.total_segments, 1);
}

#[test]
fn a_missing_payment_date_excludes_rather_than_sends_a_blank() {
    let b = broadcast(
        &[(Lang::Somali, "Lacagta: {next_payment_date}")],
        None,
        Audience::default(),
    );
    let p = preview(
        &b,
        &[contact("+6281200000001", Some(Lang::Somali), "Kupang")],
        &sms_routes(),
        &Schedule::new(),
    );
    assert_eq!(p.recipients, 0);
    assert_eq!(p.excluded["no_payment_date"], 1);
}

#[test]
fn long_texts_warn_past_two_parts() {
    let b = broadcast(
        &[(Lang::Arabic, &"س".repeat(140))],
        None,
        Audience::default(),
    );
    let p = Preview::new(&b).finish();
    assert_eq!(p.segments["ar"].parts, 3);
    assert_eq!(p.warnings.len(), 1);
}

#[test]
fn someone_known_only_by_a_whatsapp_user_id_is_never_routed_to_sms() {
    let routes = sms_routes();
    // Wrote with a username only, more than 24 hours ago, in a language without a template.
    let mut hidden = contact("wa:US.13491208655302741918", Some(Lang::Farsi), "");
    hidden.last_channel = Some(Channel::Whatsapp);
    hidden.last_whatsapp_at = Some(0);
    // Imported without a channel: SMS would be the default, but there is no number.
    let imported = contact("wa:ID.1234", Some(Lang::Farsi), "");
    assert_eq!(routes.channel_for(&hidden), Some(Channel::Whatsapp));
    assert_eq!(routes.channel_for(&imported), Some(Channel::Whatsapp));
    assert_eq!(
        routes.outside_window(&hidden, Channel::Whatsapp, Lang::Farsi),
        Some(Window::Held)
    );
    // Once their number is known, SMS is a way to reach them again.
    hidden.linked_phone = Some(crate::domain::PhoneNumber::parse("+93700000777").unwrap());
    assert_eq!(
        routes.outside_window(&hidden, Channel::Whatsapp, Lang::Farsi),
        Some(Window::Sms)
    );
    let only_sms = Routes {
        available: [Channel::TwilioSms].into_iter().collect(),
        ..sms_routes()
    };
    assert_eq!(
        only_sms.channel_for(&imported),
        None,
        "no channel reaches them"
    );
}
