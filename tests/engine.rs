//! The flow engine with the real flows and locales: what a person experiences step by step.

mod common;

use common::*;
use kabar::flow::engine::GENERAL_TOPIC;
use kabar::flow::model::ContactField;
use kabar::flow::{Effect, Engine, Facts, Flows, Input, Reply, Session, State};
use kabar::i18n::{Lang, Localizer};

struct Chat {
    localizer: Localizer,
    flows: Flows,
    session: Session,
    lang: Option<Lang>,
    consented: bool,
    city: Option<String>,
    facts: Facts,
}

impl Chat {
    fn new() -> Chat {
        let localizer = localizer();
        let flows = kabar::flow::load::load(&manifest_dir().join("flows"), &localizer).unwrap();
        let mut facts = Facts::default();
        for (city, date) in [("Makassar", "05/12/2026"), ("Medan", "08/12/2026")] {
            facts.cities.push(city.into());
            facts.payment_dates.insert(city.into(), date.into());
        }
        facts.cities.push("Kupang".into()); // in the list, no date yet
        Chat {
            localizer,
            flows,
            session: Session::default(),
            lang: None,
            consented: false,
            city: None,
            facts,
        }
    }

    /// A person who chose `lang` and agreed to the privacy notice, at the main menu.
    fn at_main_menu(lang: Lang) -> Chat {
        let mut chat = Chat::new();
        chat.lang = Some(lang);
        chat.consented = true;
        chat.session.state = State::At {
            at: chat.flows.main_menu(),
        };
        chat
    }

    /// Sends `text`; returns the effects and applies language changes like the processor does.
    fn send(&mut self, text: &str) -> Vec<Effect> {
        let engine = Engine {
            flows: &self.flows,
            localizer: &self.localizer,
        };
        let input = Input {
            text,
            lang: self.lang,
            consented: self.consented,
            city: self.city.as_deref(),
            facts: &self.facts,
            attachment: Default::default(),
            reopenable: None,
        };
        let (session, effects) = engine.step(&self.session, &input);
        self.session = session;
        for e in &effects {
            match e {
                Effect::SetLanguage(l) => self.lang = Some(*l),
                Effect::SetField {
                    field: ContactField::Consent,
                    ..
                } => self.consented = true,
                Effect::SetField {
                    field: ContactField::City,
                    value,
                } => self.city = Some(value.clone()),
                _ => {}
            }
        }
        effects
    }
}

fn replies(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply {
                reply: Reply::Text { id, .. },
                ..
            } => Some(id.clone()),
            Effect::Reply {
                reply: Reply::Menu { header, .. },
                ..
            } => Some(header.clone()),
            Effect::Reply {
                reply: Reply::LanguageMenu { .. },
                ..
            } => Some("language-menu".into()),
            Effect::Reply {
                reply: Reply::Choices { header, .. },
                ..
            } => Some(header.clone()),
            _ => None,
        })
        .collect()
}

/// Language chosen (English) and privacy notice agreed: at the main menu.
fn english_at_menu() -> Chat {
    let mut chat = Chat::new();
    chat.send("hello");
    assert_eq!(replies(&chat.send("1")), ["consent-notice"]);
    assert_eq!(replies(&chat.send("1")), ["welcome", "main-menu"]);
    chat
}

fn escalations(effects: &[Effect]) -> Vec<(String, bool, bool)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Escalate {
                topic,
                urgent,
                handoff,
                ..
            } => Some((topic.clone(), *urgent, *handoff)),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_is_asked_before_the_person_agrees() {
    let mut chat = Chat::new();
    chat.send("hello");
    assert_eq!(replies(&chat.send("1")), ["consent-notice"]);
    // "Tell me more" shows the privacy details and comes back to the notice.
    assert_eq!(
        replies(&chat.send("2")),
        ["privacy-info", "privacy-rights", "consent-notice"]
    );
    // The menu keyword and topic words don't skip the notice.
    assert_eq!(replies(&chat.send("menu")), ["consent-notice"]);
    assert_eq!(
        replies(&chat.send("when will I be resettled")),
        ["not-understood", "consent-notice"]
    );
    assert!(!chat.consented);
    // Agreeing answers the question asked at the notice instead of dropping it.
    assert_eq!(replies(&chat.send("1")), ["welcome", "resettlement-when"]);
    assert!(chat.consented);
    assert_eq!(chat.session.first_question, None);
}

#[test]
fn two_misunderstandings_offer_a_person() {
    let mut chat = english_at_menu();
    assert_eq!(
        replies(&chat.send("banana")),
        ["not-understood", "main-menu"]
    );
    assert_eq!(replies(&chat.send("what?")), ["offer-human"]);
    let effects = chat.send("1");
    assert_eq!(replies(&effects), ["human-waiting"]);
    assert_eq!(
        escalations(&effects),
        [(GENERAL_TOPIC.to_string(), false, true)]
    );
    assert!(matches!(chat.session.state, State::Human { .. }));
}

#[test]
fn a_good_answer_resets_the_count() {
    let mut chat = english_at_menu();
    chat.send("banana");
    assert_eq!(replies(&chat.send("2")), ["schooling-menu"]);
    assert_eq!(replies(&chat.send("1")), ["schooling-children"]);
    // One miss after the good answer: said and repeated, no person offered yet.
    assert_eq!(
        replies(&chat.send("banana")),
        ["not-understood", "schooling-children"]
    );
}

#[test]
fn language_can_be_changed_any_time_without_asking_consent_again() {
    let mut chat = english_at_menu();
    assert_eq!(chat.lang, Some(Lang::English));
    assert_eq!(replies(&chat.send("LANGUAGE")), ["language-menu"]);
    // English is listed first now; "Soomaali" typed by name works too.
    let effects = chat.send("soomaali");
    assert_eq!(replies(&effects), ["main-menu"]);
    assert!(effects.contains(&Effect::SetLanguage(Lang::Somali)));
    // The localized keyword works in the new language, and English still works.
    assert_eq!(replies(&chat.send("luqadda")), ["language-menu"]);
}

#[test]
fn keywords_match_whatever_keyboard_was_used() {
    let mut chat = Chat::at_main_menu(Lang::Dari);
    // کارمند typed with the Arabic kaf and a tatweel still means "a person".
    let effects = chat.send("«كارمـند»");
    assert_eq!(replies(&effects), ["human-waiting"]);
    // In human mode the bot is quiet…
    let effects = chat.send("کمک لازم دارم");
    assert_eq!(effects, vec![Effect::AttachToTicket]);
    // …until the person asks for the menu.
    assert_eq!(replies(&chat.send("٠")), ["main-menu"]);
}

#[test]
fn stop_and_start_work_everywhere_and_keep_the_place() {
    let mut chat = Chat::new();
    let effects = chat.send("STOP");
    assert!(effects.contains(&Effect::OptOut));
    assert_eq!(replies(&effects), ["stopped"]);
    assert_eq!(
        chat.session.state,
        State::New,
        "stop does not start a conversation"
    );
    let mut chat = english_at_menu();
    chat.send("1");
    let before = chat.session.state.clone();
    let effects = chat.send("start");
    assert!(effects.contains(&Effect::OptIn));
    assert_eq!(replies(&effects), ["started"]);
    assert_eq!(chat.session.state, before);
}

#[test]
fn privacy_and_delete_work_from_anywhere() {
    let mut chat = english_at_menu();
    chat.send("3");
    assert_eq!(
        replies(&chat.send("Privacy")),
        ["privacy-info", "privacy-rights"]
    );
    assert_eq!(
        replies(&chat.send("1")),
        ["payments-menu"],
        "back at the main menu"
    );
    let effects = chat.send("delete");
    assert_eq!(replies(&effects), ["delete-requested"]);
    assert_eq!(
        escalations(&effects),
        [("data-deletion".to_string(), false, false)],
        "a ticket for staff; the bot carries on"
    );
    assert!(!matches!(chat.session.state, State::Human { .. }));
}

#[test]
fn safeguarding_words_reach_a_supervisor_from_anywhere() {
    // Before any language, in the middle of a question, and in human mode.
    for setup in 0..3 {
        let mut chat = match setup {
            0 => Chat::new(),
            1 => {
                let mut c = english_at_menu();
                c.send("5");
                c.send("3"); // describing a housing problem
                c
            }
            _ => {
                let mut c = english_at_menu();
                c.send("agent");
                c
            }
        };
        let effects = chat.send("my husband beat me last night");
        assert_eq!(replies(&effects), ["safeguarding-reply"], "setup {setup}");
        assert_eq!(
            escalations(&effects),
            [("protection".to_string(), true, true)],
            "setup {setup}"
        );
    }
    // Words from another locale count too, and whole words only for Latin script.
    let mut chat = Chat::at_main_menu(Lang::Somali);
    assert_eq!(
        replies(&chat.send("I want to kill myself")),
        ["safeguarding-reply"]
    );
    let mut chat = english_at_menu();
    assert_eq!(
        replies(&chat.send("grapes")),
        ["not-understood", "main-menu"]
    );
}

#[test]
fn payment_date_comes_from_the_schedule_for_the_persons_city() {
    let mut chat = english_at_menu();
    chat.send("1");
    assert_eq!(replies(&chat.send("1")), ["payments-city"]);
    let effects = chat.send("2"); // Medan
    assert_eq!(chat.city.as_deref(), Some("Medan"));
    let date = effects.iter().find_map(|e| match e {
        Effect::Reply {
            reply: Reply::Text { id, args },
            ..
        } if id == "payments-date" => Some(args.clone()),
        _ => None,
    });
    let args = date.expect("payments-date");
    assert_eq!(args["city"], "Medan");
    assert_eq!(args["date"], "08/12/2026");
    // Remembered: the next time no city question.
    chat.send("0");
    chat.send("1");
    assert_eq!(replies(&chat.send("1")), ["payments-date"]);
    // A city without a date yet gets an honest answer.
    let mut chat = english_at_menu();
    chat.send("1");
    chat.send("1");
    assert_eq!(replies(&chat.send("kupang")), ["payments-date-unknown"]);
}

#[test]
fn a_case_number_in_any_digits_opens_a_payments_ticket_after_two_tries_at_most() {
    let mut chat = english_at_menu();
    chat.send("1");
    assert_eq!(replies(&chat.send("2")), ["payments-case"]);
    assert_eq!(
        replies(&chat.send("I don't know")),
        ["payments-case-invalid"]
    );
    let effects = chat.send("۱۲۳-۴۵۶");
    assert_eq!(replies(&effects), ["payments-problem-sent"]);
    let details = effects.iter().find_map(|e| match e {
        Effect::Escalate { topic, details, .. } if topic == "payments" => Some(details.clone()),
        _ => None,
    });
    assert_eq!(details.unwrap()["case_number"], "123456");
    assert!(effects.contains(&Effect::SetField {
        field: ContactField::CaseId,
        value: "123456".into()
    }));
    // Two wrong answers: a person is offered, and takes the payments topic.
    let mut chat = english_at_menu();
    chat.send("1");
    chat.send("2");
    chat.send("x");
    assert_eq!(replies(&chat.send("y")), ["offer-human"]);
    assert_eq!(
        escalations(&chat.send("1")),
        [("payments".to_string(), false, true)]
    );
}

#[test]
fn schooling_registration_records_the_childs_age() {
    let mut chat = english_at_menu();
    chat.send("2");
    assert_eq!(replies(&chat.send("5")), ["schooling-register-who"]);
    assert_eq!(replies(&chat.send("1")), ["schooling-child-age"]);
    assert_eq!(replies(&chat.send("40")), ["schooling-child-age-invalid"]);
    let effects = chat.send("፰");
    assert_eq!(replies(&effects), ["schooling-registered"]);
    let details = effects.iter().find_map(|e| match e {
        Effect::Escalate { details, .. } => Some(details.clone()),
        _ => None,
    });
    assert_eq!(details.unwrap()["child_age"], "8");
}

#[test]
fn first_contact_detects_the_language_and_lists_it_first() {
    for (text, lang) in [
        ("ሰላም", Lang::Tigrinya),
        ("مرحبا، هل يمكنكم المساعدة؟", Lang::Arabic),
        ("Salaan, waxaan rabaa caawimaad", Lang::Somali),
        ("سلام، ممنون", Lang::Farsi),
    ] {
        let mut chat = Chat::new();
        let effects = chat.send(text);
        let order = effects.iter().find_map(|e| match e {
            Effect::Reply {
                lang: shown_in,
                reply: Reply::LanguageMenu { order },
            } => Some((*shown_in, order.clone())),
            _ => None,
        });
        let (shown_in, order) = order.expect("language menu");
        assert_eq!(order[0], lang, "{text}");
        assert_eq!(shown_in, lang, "menu header in the detected language");
        assert_eq!(order.len(), 6);
    }
}

#[test]
fn an_unknown_choice_at_the_language_menu_shows_it_again() {
    let mut chat = Chat::new();
    chat.send("hello");
    assert_eq!(replies(&chat.send("9")), ["language-menu"]);
    assert_eq!(chat.lang, None);
    assert_eq!(replies(&chat.send("2")), ["consent-notice"]);
    assert_eq!(chat.lang, Some(Lang::Dari), "English first, then Dari");
}

#[derive(serde::Deserialize)]
struct Fixture {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    expect: String,
}

/// Free text in every language reaches the right place from the main menu (fixtures written
/// with the translations, tests/fixtures/routing/<tag>.toml).
#[test]
fn free_text_routing_in_every_language() {
    let dir = manifest_dir().join("tests/fixtures/routing");
    let mut checked = 0;
    for lang in Lang::ALL {
        let path = dir.join(format!("{}.toml", lang.tag()));
        let Ok(text) = std::fs::read_to_string(&path) else {
            assert_eq!(lang, Lang::English, "fixture missing for {lang}");
            continue;
        };
        let fixture: Fixture = toml::from_str(&text).unwrap();
        for case in fixture.case {
            let mut chat = Chat::at_main_menu(lang);
            let effects = chat.send(&case.text);
            let got = replies(&effects);
            let want: &[&str] = match case.expect.as_str() {
                "safeguarding" => &["safeguarding-reply"],
                "resettlement" => &["resettlement-when"],
                "payments" => &["payments-menu"],
                "schooling" => &["schooling-menu"],
                "return" => &["return-menu"],
                "health" => &["health-menu"],
                "none" => &["not-understood", "main-menu"],
                other => panic!("{}: unknown expectation {other}", path.display()),
            };
            assert_eq!(got, want, "{lang}: {:?}", case.text);
            checked += 1;
        }
    }
    assert!(checked >= 5 * 15, "only {checked} routing cases");
}

#[test]
fn english_free_text_routing() {
    for (text, want) in [
        ("When will I be resettled to Canada?", "resettlement-when"),
        ("my payment did not come", "payments-menu"),
        ("is there english class", "schooling-menu"),
        ("I want to go home", "return-menu"),
        ("my son is sick", "health-menu"),
    ] {
        let mut chat = Chat::at_main_menu(Lang::English);
        assert_eq!(replies(&chat.send(text)), [want], "{text}");
    }
}

/// First messages as people open a conversation (tests/fixtures/first-messages/<tag>.toml,
/// written independently of the detector): the detected language, listed first in the
/// language menu, is one the person may well speak.
#[test]
fn first_messages_are_detected_as_a_language_the_person_may_speak() {
    #[derive(serde::Deserialize)]
    struct Case {
        text: String,
        expect: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Fixture {
        case: Vec<Case>,
    }
    let mut wrong = Vec::new();
    let mut total = 0;
    for lang in Lang::ALL {
        let path = manifest_dir()
            .join("tests/fixtures/first-messages")
            .join(format!("{}.toml", lang.tag()));
        let fixture: Fixture = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in fixture.case {
            total += 1;
            let got = kabar::i18n::detect::detect(&case.text);
            let ok = got.is_some_and(|g| case.expect.iter().any(|e| e == g.tag()));
            if !ok {
                wrong.push(format!(
                    "{}: {:?} detected as {:?}, expected one of {:?}",
                    lang.tag(),
                    case.text,
                    got.map(|g| g.tag()),
                    case.expect
                ));
            }
        }
    }
    println!(
        "{} of {total} first messages detected as expected",
        total - wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// First contact with a question: language, notice, then the answer to that question.
fn first_contact(first: &str, language_choice: &str) -> (Chat, Vec<String>) {
    let mut chat = Chat::new();
    assert_eq!(replies(&chat.send(first)), ["language-menu"], "{first}");
    assert_eq!(replies(&chat.send(language_choice)), ["consent-notice"]);
    let after_consent = replies(&chat.send("1"));
    (chat, after_consent)
}

#[test]
fn a_question_asked_before_consent_is_answered_after_it() {
    for (first, choice, lang, answer) in [
        // Dari: "when does the monthly money come?", Dari listed first (detected), "۱" picks it.
        (
            "سلام، پیسه ماهوار کی میایه؟",
            "۱",
            Lang::Dari,
            "payments-menu",
        ),
        (
            "ما کی به کشور سوم می رویم؟",
            "۱",
            Lang::Dari,
            "resettlement-when",
        ),
        (
            "متى سيعاد توطيننا في كندا؟",
            "1",
            Lang::Arabic,
            "resettlement-when",
        ),
        (
            "Iskuul ma jiraa carruurta?",
            "1",
            Lang::Somali,
            "schooling-menu",
        ),
        ("ሓኪም የድልየኒ", "1", Lang::Tigrinya, "health-menu"),
        (
            "When is the next payment?",
            "1",
            Lang::English,
            "payments-menu",
        ),
    ] {
        let (chat, after_consent) = first_contact(first, choice);
        assert_eq!(chat.lang, Some(lang), "{first}");
        assert_eq!(after_consent, ["welcome", answer], "{first}");
        assert_eq!(
            chat.session.first_question, None,
            "the question does not stay in the session once answered"
        );
    }
}

#[test]
fn the_first_question_is_routed_by_the_language_it_was_written_in() {
    // A Dari question («پیسه») from someone who then picks Farsi («فارسی (ایران)», number 2).
    let (chat, after_consent) = first_contact("پیسه ماهوار کی میایه؟", "۲");
    assert_eq!(chat.lang, Some(Lang::Farsi));
    assert_eq!(after_consent, ["welcome", "payments-menu"]);
}

#[test]
fn a_greeting_or_a_number_first_leads_to_the_main_menu_and_is_not_kept() {
    for first in ["سلام", "Salaamu calaykum", "5", "   "] {
        let mut chat = Chat::new();
        chat.send(first);
        if first.trim().is_empty() || first == "5" {
            assert_eq!(chat.session.first_question, None, "{first:?}");
        }
        assert_eq!(replies(&chat.send("1")), ["consent-notice"], "{first:?}");
        assert_eq!(
            replies(&chat.send("1")),
            ["welcome", "main-menu"],
            "{first:?}"
        );
        assert_eq!(chat.session.first_question, None, "{first:?}");
    }
}

#[test]
fn a_question_typed_at_the_language_menu_is_kept_too() {
    let mut chat = Chat::new();
    chat.send("salam");
    // The menu is ignored; the question comes in a second message.
    assert_eq!(
        replies(&chat.send("ما کی به کشور سوم می رویم؟")),
        ["language-menu"]
    );
    assert_eq!(replies(&chat.send("۱")), ["consent-notice"]);
    assert_eq!(chat.lang, Some(Lang::Dari));
    assert_eq!(replies(&chat.send("۱")), ["welcome", "resettlement-when"]);
}

#[test]
fn the_first_question_is_answered_once_only() {
    let (mut chat, after_consent) = first_contact("پیسه ماهوار کی میایه؟", "۱");
    assert_eq!(after_consent, ["welcome", "payments-menu"]);
    // Back to the menu later: the plain main menu, not the old question again.
    assert_eq!(replies(&chat.send("0")), ["main-menu"]);
    assert_eq!(replies(&chat.send("زبان")), ["language-menu"]);
    assert_eq!(replies(&chat.send("1")), ["main-menu"]);
}

#[test]
fn asking_for_a_place_after_the_school_answers_really_registers() {
    for (topic_option, answer) in [("1", "schooling-children"), ("4", "schooling-english")] {
        let mut chat = english_at_menu();
        chat.send("2");
        assert_eq!(replies(&chat.send(topic_option)), [answer]);
        // The answer says "send 1": that opens registration, not main-menu option 1.
        assert_eq!(replies(&chat.send("1")), ["schooling-register-who"]);
        assert_eq!(replies(&chat.send("2")), ["schooling-interest"]);
        let effects = chat.send("1");
        assert_eq!(replies(&effects), ["schooling-registered"]);
        assert_eq!(escalations(&effects)[0].0, "schooling");
    }
}

#[test]
fn a_language_can_be_typed_by_its_name_without_the_country() {
    for (typed, lang) in [
        ("دری", Lang::Dari),
        ("دری (افغانستان)", Lang::Dari),
        ("فارسی", Lang::Farsi),
        ("Soomaali", Lang::Somali),
    ] {
        let mut chat = Chat::new();
        chat.send("hello");
        assert_eq!(replies(&chat.send(typed)), ["consent-notice"], "{typed}");
        assert_eq!(chat.lang, Some(lang), "{typed}");
    }
}

/// The command `text` triggers for a person of `lang` at the main menu, seen from its effects.
fn command_effect(lang: Lang, text: &str) -> &'static str {
    let mut chat = Chat::at_main_menu(lang);
    let effects = chat.send(text);
    let said = replies(&effects);
    if effects.contains(&Effect::OptOut) {
        "stop"
    } else if effects.contains(&Effect::OptIn) {
        "start"
    } else if said == ["language-menu"] {
        "language"
    } else if said == ["main-menu"] {
        "menu"
    } else if said == ["privacy-info", "privacy-rights"] {
        "privacy"
    } else if said == ["delete-requested"] {
        "delete"
    } else if said == ["human-waiting"] {
        "agent"
    } else {
        "none"
    }
}

/// Command messages as people type them in each language (review 2026-12-01 §6 "Commands").
#[test]
fn commands_people_type_in_each_language_are_recognised() {
    let cases: &[(Lang, &str, &str)] = &[
        // Dari: Afghan spellings of the English words, polite forms, Finglish.
        (Lang::Dari, "ستاپ", "stop"),
        (Lang::Dari, "استارت", "start"),
        (Lang::Dari, "حذف کنید", "delete"),
        (Lang::Dari, "پاک کنید", "delete"),
        (Lang::Dari, "مترجم میخواهم", "agent"),
        (Lang::Dari, "ترجمان می خواهم", "agent"),
        (Lang::Dari, "komak", "agent"),
        (Lang::Dari, "Karmand", "agent"),
        (Lang::Dari, "tarjuman", "agent"),
        (Lang::Dari, "hazf", "delete"),
        (Lang::Dari, "مینو", "menu"),
        (Lang::Dari, "محرمیت", "privacy"),
        // Farsi.
        (Lang::Farsi, "استاپ", "stop"),
        (Lang::Farsi, "لغو", "stop"),
        (Lang::Farsi, "استارت", "start"),
        (Lang::Farsi, "حذف کنید", "delete"),
        (Lang::Farsi, "پاک کنید", "delete"),
        (Lang::Farsi, "کارشناس", "agent"),
        (Lang::Farsi, "komak", "agent"),
        (Lang::Farsi, "hazf", "delete"),
        (Lang::Farsi, "مترجم میخوام", "agent"),
        // Somali: the double-u spelling, the everyday word for interpreter, help.
        (Lang::Somali, "luuqad", "language"),
        (Lang::Somali, "Luuqadda", "language"),
        (Lang::Somali, "luqada", "language"),
        (Lang::Somali, "dilmaaj", "agent"),
        (Lang::Somali, "caawimaad", "agent"),
        (Lang::Somali, "i caawi", "agent"),
        (Lang::Somali, "Caawi!", "agent"),
        // Arabic: final ة typed as ه, يـ for ئ, Iraqi/Gulf "menu", help, stop.
        (Lang::Arabic, "القائمه", "menu"),
        (Lang::Arabic, "القايمة", "menu"),
        (Lang::Arabic, "منيو", "menu"),
        (Lang::Arabic, "اللغه", "language"),
        (Lang::Arabic, "الخصوصيه", "privacy"),
        (Lang::Arabic, "مساعدة", "agent"),
        (Lang::Arabic, "مساعده", "agent"),
        (Lang::Arabic, "موظفة", "agent"),
        (Lang::Arabic, "مترجمه", "agent"),
        (Lang::Arabic, "وقف", "stop"),
        // Tigrinya, polite plural as the texts say it.
        (Lang::Tigrinya, "ጀምሩ", "start"),
        (Lang::Tigrinya, "ኣቋርጹ", "stop"),
        (Lang::Tigrinya, "ደምስሱ", "delete"),
        // English words work in every locale.
        (Lang::Dari, "STOP", "stop"),
        (Lang::Tigrinya, "menu", "menu"),
    ];
    for (lang, text, want) in cases {
        assert_eq!(command_effect(*lang, text), *want, "{lang}: {text:?}");
    }
}

/// "That's all", "enough", "finished" are what people say to an interpreter or at the end of a
/// chat: they must never switch off payment notices.
#[test]
fn that_is_all_never_stops_notices() {
    for (lang, text) in [
        (Lang::Dari, "بس"),
        (Lang::Dari, "بس است"),
        (Lang::Dari, "خلاص"),
        (Lang::Farsi, "بسه"),
        (Lang::Farsi, "بس"),
        (Lang::Farsi, "خلاص"),
        (Lang::Arabic, "بس"),
        (Lang::Arabic, "خلاص"),
        (Lang::Arabic, "كفى"),
        (Lang::Arabic, "خلاص شكرا"),
    ] {
        // At the menu…
        let mut chat = Chat::at_main_menu(lang);
        assert!(
            !chat.send(text).contains(&Effect::OptOut),
            "{lang}: {text:?} at the menu stopped notices"
        );
        // …and in a conversation with a person, where it just joins the ticket.
        let mut chat = Chat::at_main_menu(lang);
        chat.send("6");
        assert!(matches!(chat.session.state, State::Human { .. }));
        assert_eq!(
            chat.send(text),
            vec![Effect::AttachToTicket],
            "{lang}: {text:?} in a chat with a person"
        );
    }
}

#[test]
fn a_delete_request_forgets_the_remembered_question() {
    let mut chat = Chat::new();
    chat.send("پیسه ماهوار کی میایه؟");
    assert!(chat.session.first_question.is_some());
    assert_eq!(replies(&chat.send("حذف")), ["delete-requested"]);
    assert_eq!(chat.session.first_question, None);
    // A command as the first message is not a question to answer later.
    let mut chat = Chat::new();
    assert_eq!(replies(&chat.send("language")), ["language-menu"]);
    assert_eq!(chat.session.first_question, None);
}
