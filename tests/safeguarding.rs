//! Safeguarding lists against realistic messages written independently of them
//! (tests/fixtures/safeguarding/<tag>.toml): per locale, recall >= 95% and false alarms <= 5%.

mod common;

use kabar::i18n::Lang;
use kabar::i18n::safeguarding::{Score, builtin_samples, score, table};

fn scores() -> Vec<Score> {
    let localizer = common::localizer();
    builtin_samples()
        .into_iter()
        .map(|(lang, samples)| {
            let samples = samples.unwrap_or_else(|e| panic!("{e}"));
            assert!(
                samples.harm.len() >= 40 && samples.harmless.len() >= 20,
                "{lang}: the fixture needs at least 40 harm and 20 harmless messages"
            );
            score(localizer.safeguarding_lists(), lang, &samples)
        })
        .collect()
}

#[test]
fn every_locale_catches_harm_and_spares_everyday_messages() {
    let scores = scores();
    println!("{}", table(&scores));
    let below: Vec<&str> = scores
        .iter()
        .filter(|s| !s.meets_goals())
        .map(|s| s.lang.tag())
        .collect();
    assert!(
        below.is_empty(),
        "below goal: {below:?}\n{}",
        table(&scores)
    );
}

#[test]
fn every_locale_has_samples() {
    let langs: Vec<Lang> = builtin_samples().into_iter().map(|(l, _)| l).collect();
    assert_eq!(langs, Lang::ALL.to_vec());
}

/// An office schedule that is closed right now: open one hour on a weekday that is not today.
fn closed_now() -> &'static str {
    use chrono::Datelike;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .weekday();
    if today == chrono::Weekday::Wed {
        "Mon 08:00-09:00"
    } else {
        "Wed 08:00-09:00"
    }
}

const ON_CALL: &str = "+6281100000911";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_night_a_cry_for_help_gets_one_reply_and_wakes_the_on_call_phone() {
    use common::*;
    let app = spawn_setup(Setup {
        hours: closed_now(),
        on_call: ON_CALL,
        ..Setup::default()
    })
    .await;
    let phone = "+6281200007001";
    app.sms(phone, "pls help my husbnd is beating me again")
        .await;
    let alerts = app.twilio.wait_for(ON_CALL, 1).await;
    let sent = app.twilio.wait_for(phone, 1).await;
    // One coherent reply: the emergency number, never "the office is closed".
    let expected = localizer()
        .text(Lang::English, "safeguarding-reply", &[])
        .unwrap();
    assert_eq!(
        sent.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        [expected.as_str()]
    );
    let p = kabar::domain::ContactId::parse(phone).unwrap();
    let ticket = app
        .store
        .open_ticket_of(&p)
        .unwrap()
        .expect("urgent ticket");
    assert!(ticket.urgent);
    // The alert names the ticket and the language, nothing about the person.
    let alert = &alerts[0].body;
    assert!(alert.contains("URGENT"), "{alert}");
    assert!(alert.contains(&ticket.id.to_string()), "{alert}");
    assert!(alert.contains("English"), "{alert}");
    assert!(!alert.contains("8120000"), "phone in the alert: {alert}");
    assert!(
        !alert.contains("husb"),
        "the person's words in the alert: {alert}"
    );

    // Nobody claimed it: after the repeat interval the on-call phone is reminded.
    app.advance_hours(1);
    app.sms(phone, "he is still here").await;
    let alerts = app.twilio.wait_for(ON_CALL, 2).await;
    assert!(alerts[1].body.contains("reminder"), "{}", alerts[1].body);

    // A supervisor claims it: the reminders stop.
    let supervisor = app.token_for("sara", kabar::domain::Role::Supervisor, vec![]);
    let r = app
        .http
        .post(app.url(&format!("/api/tickets/{}/claim", ticket.id)))
        .bearer_auth(&supervisor)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    app.advance_hours(1);
    app.sms(phone, "hello?").await;
    app.intake_settled().await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(
        app.twilio.delivered_to(ON_CALL).len(),
        2,
        "alerted after the claim"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concern_gets_a_supervisor_without_the_emergency_number() {
    use common::*;
    let app = spawn_setup(Setup {
        on_call: ON_CALL,
        ..Setup::default()
    })
    .await;
    let phone = "+6281200007002";
    app.sms(phone, "a man keeps following me from the shop to my house")
        .await;
    let sent = app.twilio.wait_for(phone, 1).await;
    let expected = localizer()
        .text(Lang::English, "safeguarding-concern", &[])
        .unwrap();
    assert_eq!(sent[0].body, expected);
    assert!(!sent[0].body.contains("112"));
    let p = kabar::domain::ContactId::parse(phone).unwrap();
    let ticket = app.store.open_ticket_of(&p).unwrap().expect("ticket");
    assert_eq!(ticket.topic, "protection");
    assert!(!ticket.urgent, "a concern is not an emergency");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        app.twilio.delivered_to(ON_CALL).is_empty(),
        "on-call phones are for urgent tickets"
    );
    app.stop().await;
}

#[test]
fn after_hours_reply_names_the_day_in_every_locale_within_two_segments() {
    use fluent_bundle::FluentValue;
    let l = common::localizer();
    for lang in Lang::ALL {
        let mut seen = std::collections::BTreeSet::new();
        for day in [
            "today", "tomorrow", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
        ] {
            let text = l
                .text(
                    lang,
                    "after-hours",
                    &[
                        ("day", FluentValue::from(day)),
                        ("time", FluentValue::from("08:00")),
                    ],
                )
                .unwrap();
            assert!(text.contains("08:00"), "{lang} {day}: {text}");
            let s = kabar::i18n::segments::count(&text);
            assert!(
                s.segments <= 2,
                "{lang} {day}: {} segments: {text}",
                s.segments
            );
            seen.insert(text);
        }
        assert_eq!(seen.len(), 9, "{lang}: every day reads differently");
    }
}

/// Everyday messages written for other tests (the golden transcripts, the routing and
/// first-message fixtures) never raise a safeguarding alert: a list that fires on "Zarifa"
/// or "my payment is late" would send people the emergency number for nothing.
#[test]
fn everyday_messages_from_the_other_fixtures_raise_no_alert() {
    let l = common::localizer();
    let root = common::manifest_dir().join("tests");
    let mut texts: Vec<(String, String)> = Vec::new();
    for lang in Lang::ALL {
        let dir = root.join("transcripts").join(lang.tag());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_stem().is_some_and(|s| s == "safeguarding") {
                continue;
            }
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if let Some(text) = line.strip_prefix("> ") {
                    texts.push((path.display().to_string(), text.to_string()));
                }
            }
        }
        for fixture in ["routing", "first-messages"] {
            let path = root
                .join("fixtures")
                .join(fixture)
                .join(format!("{}.toml", lang.tag()));
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue; // no routing fixture for English
            };
            let value: toml::Value = toml::from_str(&source).unwrap();
            for case in value["case"].as_array().unwrap() {
                if case.get("expect").and_then(|e| e.as_str()) == Some("safeguarding") {
                    continue;
                }
                let text = case["text"].as_str().unwrap().to_string();
                texts.push((path.display().to_string(), text));
            }
        }
    }
    assert!(texts.len() > 300, "{} texts", texts.len());
    let fired: Vec<String> = texts
        .iter()
        .filter_map(|(file, text)| {
            l.safeguarding(text).map(|a| {
                format!(
                    "{file}: {text:?} fired {} «{}» ({})",
                    a.tier.name(),
                    a.phrase,
                    a.list.tag()
                )
            })
        })
        .collect();
    assert!(fired.is_empty(), "{}", fired.join("\n"));
}
