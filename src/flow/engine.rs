//! The conversation engine: a pure function of (flows, localizer keywords, session, input) to
//! (session, effects). It does no I/O: the caller stores the session and carries out the effects.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{ContactField, Flows, Node, Target, Validate};
use crate::i18n::normalize::{normalize, parse_number};
use crate::i18n::{Command, Lang, Localizer, detect};

/// Message ids the engine itself uses; every locale must have them.
pub const REQUIRED_MESSAGES: &[&str] = &[
    "language-name",
    "language-menu",
    "welcome",
    "not-understood",
    "offer-human",
    "human-waiting",
    "stopped",
    "started",
    "keyword-menu",
    "keyword-language",
    "keyword-agent",
    "keyword-stop",
    "keyword-start",
];

/// Misunderstood inputs in a row before a person is offered.
const MISSES_BEFORE_HUMAN: u8 = 2;
/// Topic of tickets opened by the `agent` keyword outside any topic flow.
pub const GENERAL_TOPIC: &str = "general";

/// Where a conversation stands. Stored per contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Session {
    pub state: State,
    /// Answers saved by `ask` nodes, by name.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Inputs in a row the engine did not understand.
    #[serde(default)]
    pub misses: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum State {
    /// Never talked to us.
    #[default]
    New,
    /// The language menu was shown in this order; `first` when this is the first contact.
    ChoosingLanguage { order: Vec<Lang>, first: bool },
    /// Waiting for an answer at a menu or question.
    At { at: Target },
    /// Offered a person after repeated misunderstandings; `at` is where we were.
    OfferingHuman { at: Target },
    /// A person handles the conversation; the bot is quiet.
    Human { topic: String },
}

/// One message from the person, with what we know about them.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub text: &'a str,
    /// The contact's language, if chosen (or imported by staff).
    pub lang: Option<Lang>,
}

/// Something for the caller to send, still as message ids: rendering needs the localizer and
/// the channel (plain text for SMS, interactive lists for WhatsApp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Reply {
    Text {
        id: String,
    },
    Menu {
        header: String,
        options: Vec<String>,
    },
    /// The language menu in this order, each language named in its own words.
    LanguageMenu {
        order: Vec<Lang>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Reply {
        lang: Lang,
        reply: Reply,
    },
    SetLanguage(Lang),
    SetField {
        field: ContactField,
        value: String,
    },
    OptOut,
    OptIn,
    /// Open a ticket (or reuse the open one) with this topic; the message joins it.
    Escalate {
        topic: String,
    },
    /// The message belongs to the open ticket (human mode).
    AttachToTicket,
}

/// The engine: validated flows plus the keyword tables of every locale.
pub struct Engine<'a> {
    pub flows: &'a Flows,
    pub localizer: &'a Localizer,
}

struct Step<'a> {
    engine: &'a Engine<'a>,
    session: Session,
    lang: Option<Lang>,
    effects: Vec<Effect>,
}

impl Engine<'_> {
    /// Handles one message. Never panics, whatever the input or stored session.
    pub fn step(&self, session: &Session, input: &Input<'_>) -> (Session, Vec<Effect>) {
        let mut step = Step {
            engine: self,
            session: session.clone(),
            lang: input.lang,
            effects: Vec::new(),
        };
        step.handle(input.text);
        (step.session, step.effects)
    }
}

impl Step<'_> {
    fn lang(&self) -> Lang {
        self.lang.unwrap_or(Lang::English)
    }

    fn say(&mut self, id: &str) {
        let lang = self.lang();
        self.effects.push(Effect::Reply {
            lang,
            reply: Reply::Text { id: id.to_string() },
        });
    }

    fn command(&self, text: &str) -> Option<Command> {
        match self.lang {
            Some(lang) => self.engine.localizer.command(lang, text),
            None => self.engine.localizer.command_any(text),
        }
    }

    fn handle(&mut self, text: &str) {
        let command = self.command(text);
        // stop/start work in every state and never move the conversation.
        match command {
            Some(Command::Stop) => {
                self.effects.push(Effect::OptOut);
                if self.lang.is_none() {
                    self.lang = detect::detect(text);
                }
                self.say("stopped");
                self.attach_if_human();
                return;
            }
            Some(Command::Start) if self.lang.is_some() => {
                self.effects.push(Effect::OptIn);
                self.say("started");
                self.attach_if_human();
                return;
            }
            _ => {}
        }
        match self.session.state.clone() {
            State::New => self.show_language_menu(detect::detect(text), true),
            State::ChoosingLanguage { order, first } => self.choose_language(text, &order, first),
            _ if self.lang.is_none() => self.show_language_menu(detect::detect(text), true),
            State::Human { topic } => match command {
                Some(Command::Menu) => self.go_main_menu(),
                Some(Command::Language) => self.show_language_menu(self.lang, false),
                Some(Command::Agent) => self.effects.push(Effect::Escalate { topic }),
                _ => self.effects.push(Effect::AttachToTicket),
            },
            State::OfferingHuman { at } => match command {
                Some(Command::Menu) => self.go_main_menu(),
                Some(Command::Language) => self.show_language_menu(self.lang, false),
                Some(Command::Agent) => self.escalate(&topic_of(&at)),
                _ if parse_number(text) == Some(1) => self.escalate(&topic_of(&at)),
                _ => self.say("offer-human"),
            },
            State::At { at } => match command {
                Some(Command::Menu) => self.go_main_menu(),
                Some(Command::Language) => self.show_language_menu(self.lang, false),
                Some(Command::Agent) => self.escalate(&topic_of(&at)),
                _ => self.answer(&at, text),
            },
        }
    }

    fn attach_if_human(&mut self) {
        if matches!(self.session.state, State::Human { .. }) {
            self.effects.push(Effect::AttachToTicket);
        }
    }

    fn show_language_menu(&mut self, detected: Option<Lang>, first: bool) {
        let mut order = Lang::ALL.to_vec();
        if let Some(lang) = detected.or(self.lang) {
            order.retain(|l| *l != lang);
            order.insert(0, lang);
        }
        let lang = order[0];
        self.effects.push(Effect::Reply {
            lang,
            reply: Reply::LanguageMenu {
                order: order.clone(),
            },
        });
        self.session.state = State::ChoosingLanguage { order, first };
    }

    fn choose_language(&mut self, text: &str, order: &[Lang], first: bool) {
        let chosen = parse_number(text)
            .and_then(|n| order.get((n as usize).checked_sub(1)?).copied())
            .or_else(|| self.language_named(text));
        let Some(lang) = chosen else {
            if !first && self.command(text) == Some(Command::Menu) {
                return self.go_main_menu();
            }
            let detected = detect::detect(text).or(order.first().copied());
            return self.show_language_menu(detected, first);
        };
        self.lang = Some(lang);
        self.effects.push(Effect::SetLanguage(lang));
        if first {
            self.say("welcome");
        }
        self.go_main_menu();
    }

    /// A language typed by name ("English", "دری") or tag ("so").
    fn language_named(&self, text: &str) -> Option<Lang> {
        let typed = normalize(text);
        Lang::ALL.into_iter().find(|&lang| {
            let own_name = self
                .engine
                .localizer
                .text(lang, "language-name", &[])
                .map(|n| normalize(&n));
            own_name.as_deref() == Some(typed.as_str()) || typed == lang.tag().to_lowercase()
        })
    }

    fn go_main_menu(&mut self) {
        self.session.misses = 0;
        self.enter(self.engine.flows.main_menu());
    }

    fn escalate(&mut self, topic: &str) {
        self.session.misses = 0;
        self.effects.push(Effect::Escalate {
            topic: topic.to_string(),
        });
        self.say("human-waiting");
        self.session.state = State::Human {
            topic: topic.to_string(),
        };
    }

    /// Runs nodes from `target` until one waits for the person (or the conversation ends).
    fn enter(&mut self, target: Target) {
        let mut at = target;
        // The loader rejects loops that never wait; the bound only protects against a bad store.
        for _ in 0..64 {
            let Some(node) = self.engine.flows.node(&at).cloned() else {
                break;
            };
            let next = match node {
                Node::Menu { say, options } => {
                    self.reply_menu(&say, options.iter().map(|o| o.label.clone()).collect());
                    self.session.state = State::At { at };
                    return;
                }
                Node::Ask { say, .. } => {
                    self.say(&say);
                    self.session.state = State::At { at };
                    return;
                }
                Node::Say { say, next } => {
                    self.say(&say);
                    next
                }
                Node::Escalate { topic, say } => {
                    self.session.misses = 0;
                    self.effects.push(Effect::Escalate {
                        topic: topic.clone(),
                    });
                    self.say(say.as_deref().unwrap_or("human-waiting"));
                    self.session.state = State::Human { topic };
                    return;
                }
                Node::Set { field, value, next } => {
                    let value = match value.strip_prefix('$') {
                        Some(var) => self.session.vars.get(var).cloned().unwrap_or_default(),
                        None => value,
                    };
                    self.effects.push(Effect::SetField { field, value });
                    Some(next)
                }
                Node::Goto { next } => Some(next),
            };
            match next {
                Some(next) => at = next,
                None => break,
            }
        }
        // An answer ends here: wait quietly at the main menu so a number picks from it.
        self.session.state = State::At {
            at: self.engine.flows.main_menu(),
        };
    }

    fn reply_menu(&mut self, header: &str, options: Vec<String>) {
        let lang = self.lang();
        self.effects.push(Effect::Reply {
            lang,
            reply: Reply::Menu {
                header: header.to_string(),
                options,
            },
        });
    }

    /// Input at a waiting node.
    fn answer(&mut self, at: &Target, text: &str) {
        match self.engine.flows.node(at).cloned() {
            Some(Node::Menu { say, options }) => {
                let choice = parse_number(text)
                    .and_then(|n| options.get((n as usize).checked_sub(1)?))
                    .or_else(|| self.option_named(&options, text));
                match choice {
                    Some(option) => {
                        self.session.misses = 0;
                        self.enter(option.goto.clone());
                    }
                    None => self.miss(at, || {
                        Some(Reply::Menu {
                            header: say,
                            options: options.iter().map(|o| o.label.clone()).collect(),
                        })
                    }),
                }
            }
            Some(Node::Ask {
                save,
                validate,
                invalid,
                next,
                say,
            }) => match accept(validate, text) {
                Some(value) => {
                    self.session.misses = 0;
                    self.session.vars.insert(save, value);
                    self.enter(next);
                }
                None => {
                    let retry = invalid.unwrap_or(say);
                    self.miss(at, || Some(Reply::Text { id: retry }))
                }
            },
            // A stored position that no longer exists (flows changed): start over at the menu.
            _ => self.go_main_menu(),
        }
    }

    /// An option typed by its label ("Monthly payment") instead of its number.
    fn option_named<'o>(
        &self,
        options: &'o [super::model::MenuOption],
        text: &str,
    ) -> Option<&'o super::model::MenuOption> {
        let typed = normalize(text);
        if typed.is_empty() {
            return None;
        }
        let lang = self.lang();
        options.iter().find(|o| {
            self.engine
                .localizer
                .text(lang, &o.label, &[])
                .is_some_and(|label| normalize(&label) == typed)
        })
    }

    /// Not understood: say so and repeat, or after repeated misses offer a person.
    fn miss(&mut self, at: &Target, repeat: impl FnOnce() -> Option<Reply>) {
        self.session.misses = self.session.misses.saturating_add(1);
        if self.session.misses >= MISSES_BEFORE_HUMAN {
            self.say("offer-human");
            self.session.state = State::OfferingHuman { at: at.clone() };
            return;
        }
        let repeat = repeat();
        if matches!(repeat, Some(Reply::Menu { .. })) {
            self.say("not-understood");
        }
        if let Some(reply) = repeat {
            let lang = self.lang();
            self.effects.push(Effect::Reply { lang, reply });
        }
    }
}

/// The topic of a ticket opened from `at`: the flow's name, or general from the main menu.
fn topic_of(at: &Target) -> String {
    if at.flow == Flows::MAIN {
        GENERAL_TOPIC.to_string()
    } else {
        at.flow.clone()
    }
}

/// Validates a free-text answer.
fn accept(validate: Validate, text: &str) -> Option<String> {
    match validate {
        Validate::Text => {
            let t = text.trim();
            (!t.is_empty() && t.chars().count() <= 500).then(|| t.to_string())
        }
        Validate::Number => {
            let n = normalize(text);
            let digits: String = n
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '/'))
                .collect();
            (!digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then_some(digits)
        }
    }
}
