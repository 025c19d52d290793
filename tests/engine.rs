//! The flow engine with the real flows and locales: what a person experiences step by step.

mod common;

use common::*;
use kabar::flow::engine::GENERAL_TOPIC;
use kabar::flow::{Effect, Engine, Flows, Input, Reply, Session, State};
use kabar::i18n::{Lang, Localizer};

struct Chat {
    localizer: Localizer,
    flows: Flows,
    session: Session,
    lang: Option<Lang>,
}

impl Chat {
    fn new() -> Chat {
        let localizer = localizer();
        let flows = kabar::flow::load::load(&manifest_dir().join("flows"), &localizer).unwrap();
        Chat {
            localizer,
            flows,
            session: Session::default(),
            lang: None,
        }
    }

    /// Sends `text`; returns the effects and applies language changes like the processor does.
    fn send(&mut self, text: &str) -> Vec<Effect> {
        let engine = Engine {
            flows: &self.flows,
            localizer: &self.localizer,
        };
        let (session, effects) = engine.step(
            &self.session,
            &Input {
                text,
                lang: self.lang,
            },
        );
        self.session = session;
        for e in &effects {
            if let Effect::SetLanguage(l) = e {
                self.lang = Some(*l);
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
                reply: Reply::Text { id },
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
            _ => None,
        })
        .collect()
}

#[test]
fn two_misunderstandings_offer_a_person() {
    let mut chat = Chat::new();
    chat.send("hello");
    chat.send("1");
    assert_eq!(
        replies(&chat.send("banana")),
        ["not-understood", "main-menu"]
    );
    assert_eq!(replies(&chat.send("what?")), ["offer-human"]);
    let effects = chat.send("1");
    assert_eq!(replies(&effects), ["human-waiting"]);
    assert!(effects.contains(&Effect::Escalate {
        topic: GENERAL_TOPIC.into()
    }));
    assert!(matches!(chat.session.state, State::Human { .. }));
}

#[test]
fn a_good_answer_resets_the_count() {
    let mut chat = Chat::new();
    chat.send("hello");
    chat.send("1");
    chat.send("banana");
    assert_eq!(replies(&chat.send("2")), ["schooling-info"]);
    assert_eq!(
        replies(&chat.send("banana")),
        ["not-understood", "main-menu"]
    );
}

#[test]
fn language_can_be_changed_any_time_without_a_second_welcome() {
    let mut chat = Chat::new();
    chat.send("hello");
    assert_eq!(replies(&chat.send("1")), ["welcome", "main-menu"]);
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
    let mut chat = Chat::new();
    chat.send("سلام");
    chat.send("۱"); // Dari, detected first
    assert_eq!(chat.lang, Some(Lang::Dari));
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
    chat.send("hello");
    chat.send("1");
    let before = chat.session.state.clone();
    let effects = chat.send("start");
    assert!(effects.contains(&Effect::OptIn));
    assert_eq!(replies(&effects), ["started"]);
    assert_eq!(chat.session.state, before);
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
    assert_eq!(replies(&chat.send("2")), ["welcome", "main-menu"]);
    assert_eq!(chat.lang, Some(Lang::Dari), "English first, then Dari");
}
