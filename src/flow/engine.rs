//! The conversation engine: a pure function of (flows, localizer keywords, session, input) to
//! (session, effects). It does no I/O: the caller stores the session and carries out the effects.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{ContactField, DataList, Fact, Flows, MenuOption, Node, Target, Validate};
use crate::i18n::normalize::{normalize, parse_number};
use crate::i18n::safeguarding::Tier;
use crate::i18n::{Command, Lang, Localizer, detect};

/// Message ids the engine itself uses; every locale must have them.
pub const REQUIRED_MESSAGES: &[&str] = &[
    "language-name",
    "language-menu",
    "not-understood",
    "offer-human",
    "human-waiting",
    "stopped",
    "started",
    "safeguarding-reply",
    "safeguarding-concern",
    "delete-requested",
    "media-received",
    "unsupported-message",
    "menu-button",
    "after-hours",
    "ticket-closed",
    "keyword-menu",
    "keyword-language",
    "keyword-agent",
    "keyword-stop",
    "keyword-start",
    "keyword-privacy",
    "keyword-delete",
];

/// Misunderstood inputs in a row before a person is offered.
const MISSES_BEFORE_HUMAN: u8 = 2;
/// Longest first question kept for routing after consent (characters); longer texts are for a
/// person anyway and stay in the message history.
const FIRST_QUESTION_MAX_CHARS: usize = 500;
/// Topic of tickets opened by the `agent` keyword outside any topic flow.
pub const GENERAL_TOPIC: &str = "general";
/// Urgent tickets for supervisors: violence, abuse, self-harm, a child in danger.
pub const PROTECTION_TOPIC: &str = "protection";
/// A request to erase the person's data, for staff.
pub const DELETION_TOPIC: &str = "data-deletion";

/// Where a conversation stands. Stored per contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Session {
    pub state: State,
    /// Answers saved by `ask` nodes and menus with `save`, by name.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Inputs in a row the engine did not understand.
    #[serde(default)]
    pub misses: u8,
    /// What the person asked before the language and privacy steps were done (for example
    /// "when does the money come?" as a first message). Kept only until the main menu is
    /// reached after consent: then it is routed with the topic words instead of being dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_question: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum State {
    /// Never talked to us.
    #[default]
    New,
    /// The language menu was shown in this order; `first` when this is the first contact.
    ChoosingLanguage { order: Vec<Lang>, first: bool },
    /// Waiting for an answer at a menu, question or pick.
    At { at: Target },
    /// Offered a person after repeated misunderstandings; `at` is where we were.
    OfferingHuman { at: Target },
    /// A person handles the conversation; the bot is quiet.
    Human { topic: String },
}

/// Data staff maintain that the flows may show.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Cities of the payment schedule, in menu order.
    pub cities: Vec<String>,
    /// Next payment date per city, already formatted for people.
    pub payment_dates: BTreeMap<String, String>,
    /// Cities of the directory staff keep, in menu order.
    pub directory_cities: Vec<String>,
    /// Directory entries per city (lower case), each as one line for people.
    pub directory: BTreeMap<String, Vec<(crate::domain::DirectoryKind, String)>>,
}

impl Facts {
    /// At most this many entries go into one answer (an SMS is read on a small phone).
    pub const CONTACTS_SHOWN: usize = 3;

    /// The lines of one kind for a city, matched without regard to case.
    pub fn contacts(&self, city: &str, kind: crate::domain::DirectoryKind) -> Vec<&str> {
        self.directory
            .get(&city.trim().to_lowercase())
            .map(|entries| {
                entries
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, line)| line.as_str())
                    .take(Self::CONTACTS_SHOWN)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// One message from the person, with what we know about them.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub text: &'a str,
    /// The contact's language, if chosen (or imported by staff).
    pub lang: Option<Lang>,
    /// Whether the person agreed to the privacy notice.
    pub consented: bool,
    /// The contact's city, if known.
    pub city: Option<&'a str>,
    pub facts: &'a Facts,
    /// What came besides text: a voice note or picture for a person, or something unreadable.
    pub attachment: Attachment,
    /// A person closed this contact's ticket less than a day ago: anything but a command goes
    /// back to them (topic of that ticket).
    pub reopenable: Option<String>,
}

/// Non-text content of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Attachment {
    #[default]
    None,
    /// A voice note, image or document: a person will listen or look.
    Media,
    /// A location, sticker, contact card…: we can't read it.
    Unsupported,
}

/// Something for the caller to send, still as message ids: rendering needs the localizer and
/// the channel (plain text for SMS, interactive lists for WhatsApp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Reply {
    Text {
        id: String,
        #[serde(default)]
        args: BTreeMap<String, String>,
    },
    /// A numbered menu of message ids.
    Menu {
        header: String,
        options: Vec<String>,
    },
    /// A numbered list of data items (city names), shown as they are.
    Choices { header: String, items: Vec<String> },
    /// The language menu in this order, each language named in its own words.
    LanguageMenu { order: Vec<Lang> },
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
    /// Open a ticket (or add to the open one) for a person to handle. `handoff`: the bot goes
    /// quiet and the conversation is the person's; otherwise the bot carries on.
    Escalate {
        topic: String,
        urgent: bool,
        handoff: bool,
        details: BTreeMap<String, String>,
    },
    /// The message belongs to the open ticket (human mode).
    AttachToTicket,
    /// Reopen the ticket closed recently, for the same interpreter; the message joins it.
    Reopen,
}

/// The engine: validated flows plus the keyword tables of every locale.
pub struct Engine<'a> {
    pub flows: &'a Flows,
    pub localizer: &'a Localizer,
}

struct Step<'a> {
    engine: &'a Engine<'a>,
    input: &'a Input<'a>,
    session: Session,
    lang: Option<Lang>,
    consented: bool,
    city: Option<String>,
    effects: Vec<Effect>,
}

impl Engine<'_> {
    /// Handles one message. Never panics, whatever the input or stored session.
    pub fn step(&self, session: &Session, input: &Input<'_>) -> (Session, Vec<Effect>) {
        let mut step = Step {
            engine: self,
            input,
            session: session.clone(),
            lang: input.lang,
            consented: input.consented,
            city: input.city.map(str::to_string),
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
        self.say_with(id, BTreeMap::new());
    }

    fn say_with(&mut self, id: &str, args: BTreeMap<String, String>) {
        let lang = self.lang();
        self.effects.push(Effect::Reply {
            lang,
            reply: Reply::Text {
                id: id.to_string(),
                args,
            },
        });
    }

    fn command(&self, text: &str) -> Option<Command> {
        match self.lang {
            Some(lang) => self.engine.localizer.command(lang, text),
            None => self.engine.localizer.command_any(text),
        }
    }

    fn in_human_mode(&self) -> bool {
        matches!(self.session.state, State::Human { .. })
    }

    fn handle(&mut self, text: &str) {
        // Safety first, in every state and whatever else the message says.
        if let Some(alert) = self.engine.localizer.safeguarding(text) {
            return self.protect(text, alert.tier);
        }
        match self.input.attachment {
            Attachment::None => {}
            // A person answers voice notes and pictures; in human mode they just join the ticket.
            Attachment::Media | Attachment::Unsupported
                if self.input.reopenable.is_some() && !self.in_human_mode() =>
            {
                return self.reopen();
            }
            Attachment::Media if self.in_human_mode() => {
                return self.effects.push(Effect::AttachToTicket);
            }
            // Before a language is chosen there is nobody to route to: ask the language first;
            // the voice note stays in the history a ticket starts with.
            Attachment::Media | Attachment::Unsupported if self.lang.is_none() => {
                return self.show_language_menu(detect::detect(text), true);
            }
            Attachment::Media => {
                let topic = match &self.session.state {
                    State::At { at } | State::OfferingHuman { at } => topic_of(at),
                    _ => GENERAL_TOPIC.to_string(),
                };
                self.effects.push(Effect::Escalate {
                    topic: topic.clone(),
                    urgent: false,
                    handoff: true,
                    details: self.session.vars.clone(),
                });
                self.say("media-received");
                self.session.misses = 0;
                self.session.state = State::Human { topic };
                return;
            }
            Attachment::Unsupported if self.in_human_mode() => {
                return self.effects.push(Effect::AttachToTicket);
            }
            Attachment::Unsupported => return self.say("unsupported-message"),
        }
        let command = self.command(text);
        // Commands that never move the conversation.
        match command {
            Some(Command::Stop) => {
                self.effects.push(Effect::OptOut);
                self.lang = self.lang.or_else(|| detect::detect(text));
                self.say("stopped");
                return self.attach_if_human();
            }
            Some(Command::Start) if self.lang.is_some() => {
                self.effects.push(Effect::OptIn);
                self.say("started");
                return self.attach_if_human();
            }
            Some(Command::Delete) => {
                self.lang = self.lang.or_else(|| detect::detect(text));
                // Nothing of what they wrote stays in the conversation state either.
                self.session.first_question = None;
                self.effects.push(Effect::Escalate {
                    topic: DELETION_TOPIC.into(),
                    urgent: false,
                    handoff: false,
                    details: BTreeMap::new(),
                });
                self.say("delete-requested");
                return self.attach_if_human();
            }
            _ => {}
        }
        match self.session.state.clone() {
            State::New => {
                self.remember_first_question(text);
                self.show_language_menu(detect::detect(text), true)
            }
            State::ChoosingLanguage { order, first } => self.choose_language(text, &order, first),
            _ if self.lang.is_none() => {
                self.remember_first_question(text);
                self.show_language_menu(detect::detect(text), true)
            }
            State::Human { topic } => match command {
                Some(Command::Menu) => self.go_main_menu(),
                Some(Command::Language) => self.show_language_menu(self.lang, false),
                Some(Command::Privacy) => self.show_privacy(),
                Some(Command::Agent) => self.escalate(&topic, BTreeMap::new()),
                _ => self.effects.push(Effect::AttachToTicket),
            },
            State::OfferingHuman { at } => match command {
                Some(Command::Menu) => self.go_main_menu(),
                Some(Command::Language) => self.show_language_menu(self.lang, false),
                Some(Command::Privacy) => self.show_privacy(),
                Some(Command::Agent) => self.escalate(&topic_of(&at), self.session.vars.clone()),
                _ if parse_number(text) == Some(1) => {
                    self.escalate(&topic_of(&at), self.session.vars.clone())
                }
                _ => self.say("offer-human"),
            },
            State::At { .. } if command.is_none() && self.input.reopenable.is_some() => {
                self.reopen()
            }
            State::At { at } => match command {
                Some(Command::Menu) => self.go_main_menu(),
                Some(Command::Language) => self.show_language_menu(self.lang, false),
                Some(Command::Privacy) => self.show_privacy(),
                Some(Command::Agent) => self.escalate(&topic_of(&at), self.session.vars.clone()),
                _ => self.answer(&at, text),
            },
        }
    }

    /// Keeps a question asked before the language and consent steps, so it can be answered
    /// once they are done. Numbers and empty messages are not questions.
    fn remember_first_question(&mut self, text: &str) {
        let typed = text.trim();
        if typed.is_empty()
            || parse_number(typed).is_some()
            || self.command(typed).is_some()
            || typed.chars().count() > FIRST_QUESTION_MAX_CHARS
        {
            return;
        }
        self.session.first_question = Some(typed.to_string());
    }

    /// Where the remembered first question leads, by the topic words of the chosen language,
    /// of the language the question was written in, and of English. Taken once: a question is
    /// answered at most once, and the text does not stay in the session.
    fn route_first_question(&mut self) -> Option<Target> {
        let question = self.session.first_question.take()?;
        let mut langs = vec![self.lang()];
        if let Some(written_in) = detect::detect(&question) {
            langs.push(written_in);
        }
        langs.push(Lang::English);
        self.route_in(&langs, &question)
    }

    /// Back to the person who closed the ticket a moment ago; the bot stays quiet.
    fn reopen(&mut self) {
        let topic = self.input.reopenable.clone().unwrap_or_default();
        self.effects.push(Effect::Reopen);
        self.session.misses = 0;
        self.session.state = State::Human { topic };
    }

    /// A message about harm, in any state: a supervisor's ticket and no questions. Urgent
    /// (violence, abuse, self-harm, a child in danger): the emergency number now and an urgent
    /// ticket. A concern (harassment, being followed, hopelessness): a supervisor will write;
    /// no emergency number, which would frighten or mislead.
    fn protect(&mut self, text: &str, tier: Tier) {
        self.adopt_detected_language(text);
        self.effects.push(Effect::Escalate {
            topic: PROTECTION_TOPIC.into(),
            urgent: tier == Tier::Urgent,
            handoff: true,
            details: BTreeMap::new(),
        });
        self.say(match tier {
            Tier::Urgent => "safeguarding-reply",
            Tier::Concern => "safeguarding-concern",
        });
        self.session.misses = 0;
        self.session.state = State::Human {
            topic: PROTECTION_TOPIC.into(),
        };
    }

    /// Someone who writes about harm before choosing a language is not sent the language menu:
    /// the language of their message is theirs (they can change it with "language"), so the
    /// ticket reaches a supervisor who reads it and their next messages join it.
    fn adopt_detected_language(&mut self, text: &str) {
        if self.lang.is_none() {
            let detected = detect::detect(text).unwrap_or(Lang::English);
            self.lang = Some(detected);
            self.effects.push(Effect::SetLanguage(detected));
        }
    }

    fn attach_if_human(&mut self) {
        if self.in_human_mode() {
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
            if first {
                // The menu was ignored and the question asked (again): keep the latest one.
                self.remember_first_question(text);
            }
            let detected = detect::detect(text).or(order.first().copied());
            return self.show_language_menu(detected, first);
        };
        self.lang = Some(lang);
        self.effects.push(Effect::SetLanguage(lang));
        self.go_main_menu();
    }

    /// A language typed by name ("English", "دری (افغانستان)", or just "دری" without the
    /// country in brackets) or tag ("so").
    fn language_named(&self, text: &str) -> Option<Lang> {
        let typed = normalize(text);
        if typed.is_empty() {
            return None;
        }
        Lang::ALL.into_iter().find(|&lang| {
            let own_name = self
                .engine
                .localizer
                .text(lang, "language-name", &[])
                .map(|n| normalize(&n))
                .unwrap_or_default();
            let short_name = own_name.split(" (").next().unwrap_or_default().trim();
            own_name == typed || short_name == typed || typed == lang.tag().to_lowercase()
        })
    }

    /// The main menu, or the privacy notice first for someone who has not agreed yet.
    fn go_main_menu(&mut self) {
        self.session.misses = 0;
        match self.consent_start() {
            Some(consent) => self.enter(consent),
            None => self.enter(self.engine.flows.main_menu()),
        }
    }

    fn consent_start(&self) -> Option<Target> {
        if self.consented {
            return None;
        }
        self.engine.flows.start_of(Flows::CONSENT)
    }

    fn show_privacy(&mut self) {
        self.session.misses = 0;
        match self.engine.flows.start_of(Flows::PRIVACY) {
            Some(privacy) => self.enter(privacy),
            None => self.go_main_menu(),
        }
    }

    fn escalate(&mut self, topic: &str, details: BTreeMap<String, String>) {
        self.session.misses = 0;
        self.effects.push(Effect::Escalate {
            topic: topic.to_string(),
            urgent: false,
            handoff: true,
            details,
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
            // The main menu after consent: answer the question asked before it instead.
            if self.consented
                && self.session.first_question.is_some()
                && at == self.engine.flows.main_menu()
            {
                if let Some(goto) = self.route_first_question() {
                    at = goto;
                    continue;
                }
            }
            let Some(node) = self.engine.flows.node(&at).cloned() else {
                break;
            };
            let next = match node {
                Node::Menu { say, options, .. } => {
                    self.reply_menu(&say, options.iter().map(|o| o.label.clone()).collect());
                    self.session.state = State::At { at };
                    return;
                }
                Node::Ask { say, .. } => {
                    self.say(&say);
                    self.session.state = State::At { at };
                    return;
                }
                Node::Pick {
                    say,
                    from,
                    field,
                    empty,
                    next,
                } => {
                    if self.field_is_set(field) {
                        Some(next)
                    } else {
                        let items = self.data_list(from);
                        if items.is_empty() {
                            if let Some(empty) = empty {
                                self.say(&empty);
                            }
                            None
                        } else {
                            self.reply_choices(&say, items);
                            self.session.state = State::At { at };
                            return;
                        }
                    }
                }
                Node::Say {
                    say,
                    next,
                    needs,
                    otherwise,
                } => {
                    let (id, args) = self.with_facts(&say, needs, otherwise);
                    self.say_with(&id, args);
                    next
                }
                Node::Escalate { topic, say } => {
                    self.session.misses = 0;
                    self.effects.push(Effect::Escalate {
                        topic: topic.clone(),
                        urgent: false,
                        handoff: true,
                        details: self.session.vars.clone(),
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
                    self.set_field(field, value);
                    Some(next)
                }
                Node::Goto { next } => Some(next),
            };
            match next {
                Some(next) => at = next,
                None => break,
            }
        }
        // An answer ends here: wait quietly at the main menu so a number picks from it — or, for
        // someone who has not agreed yet, back at the privacy notice.
        match self.consent_start() {
            Some(consent) if at.flow != Flows::CONSENT => self.enter(consent),
            _ => {
                self.session.state = State::At {
                    at: self.engine.flows.main_menu(),
                }
            }
        }
    }

    fn set_field(&mut self, field: ContactField, value: String) {
        match field {
            ContactField::Consent => self.consented = true,
            ContactField::City => self.city = Some(value.clone()),
            _ => {}
        }
        self.effects.push(Effect::SetField { field, value });
    }

    fn field_is_set(&self, field: ContactField) -> bool {
        match field {
            ContactField::City => self.city.is_some(),
            ContactField::Consent => self.consented,
            // Not tracked in the step; ask again.
            ContactField::CaseId | ContactField::Name => false,
        }
    }

    fn data_list(&self, list: DataList) -> Vec<String> {
        match list {
            DataList::Cities => self.input.facts.cities.clone(),
            DataList::DirectoryCities => self.input.facts.directory_cities.clone(),
        }
    }

    /// The message to say and its arguments, or `otherwise` when a needed fact is missing.
    fn with_facts(
        &self,
        say: &str,
        needs: Option<Fact>,
        otherwise: Option<String>,
    ) -> (String, BTreeMap<String, String>) {
        let mut args = BTreeMap::new();
        if let Some(city) = &self.city {
            args.insert("city".to_string(), city.clone());
        }
        match needs {
            None => (say.to_string(), args),
            Some(Fact::PaymentDate) => {
                let date = self
                    .city
                    .as_ref()
                    .and_then(|c| self.input.facts.payment_dates.get(c));
                match (date, otherwise) {
                    (Some(date), _) => {
                        args.insert("date".to_string(), date.clone());
                        (say.to_string(), args)
                    }
                    (None, Some(otherwise)) => {
                        args.entry("city".to_string()).or_insert_with(|| "?".into());
                        (otherwise, args)
                    }
                    (None, None) => (say.to_string(), args),
                }
            }
            Some(fact) => {
                let lines = match (fact.directory_kind(), &self.city) {
                    (Some(kind), Some(city)) => self.input.facts.contacts(city, kind),
                    _ => Vec::new(),
                };
                match (lines.is_empty(), otherwise) {
                    (false, _) => {
                        args.insert("contacts".to_string(), lines.join("\n"));
                        (say.to_string(), args)
                    }
                    (true, Some(otherwise)) => {
                        args.entry("city".to_string()).or_insert_with(|| "?".into());
                        (otherwise, args)
                    }
                    (true, None) => (say.to_string(), args),
                }
            }
        }
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

    fn reply_choices(&mut self, header: &str, items: Vec<String>) {
        let lang = self.lang();
        self.effects.push(Effect::Reply {
            lang,
            reply: Reply::Choices {
                header: header.to_string(),
                items,
            },
        });
    }

    /// Input at a waiting node.
    fn answer(&mut self, at: &Target, text: &str) {
        match self.engine.flows.node(at).cloned() {
            Some(Node::Menu { say, options, save }) => {
                let choice = parse_number(text)
                    .and_then(|n| options.get((n as usize).checked_sub(1)?))
                    .or_else(|| self.option_named(&options, text))
                    .cloned();
                if let Some(option) = choice {
                    self.session.misses = 0;
                    if let Some(var) = save {
                        self.session.vars.insert(var, option.label.clone());
                    }
                    return self.enter(option.goto);
                }
                // Free text at a menu: a topic word leads to its answers. Not at the consent
                // notice: nothing is answered before the person agrees, but the question is
                // kept and answered right after.
                if at.flow != Flows::CONSENT {
                    if let Some(goto) = self.route(text) {
                        self.session.misses = 0;
                        return self.enter(goto);
                    }
                } else if self.route(text).is_some() {
                    self.session.first_question = Some(text.trim().to_string());
                }
                self.miss(
                    at,
                    Some(Reply::Menu {
                        header: say,
                        options: options.iter().map(|o| o.label.clone()).collect(),
                    }),
                );
            }
            Some(Node::Pick {
                say,
                from,
                field,
                next,
                ..
            }) => {
                let items = self.data_list(from);
                let typed = normalize(text);
                let choice = parse_number(text)
                    .and_then(|n| items.get((n as usize).checked_sub(1)?))
                    .or_else(|| items.iter().find(|i| normalize(i) == typed))
                    .cloned();
                match choice {
                    Some(item) => {
                        self.session.misses = 0;
                        self.set_field(field, item);
                        self.enter(next);
                    }
                    None => self.miss(at, Some(Reply::Choices { header: say, items })),
                }
            }
            Some(Node::Ask {
                save,
                validate,
                min,
                max,
                invalid,
                next,
                say,
            }) => match accept(validate, min, max, text) {
                Some(value) => {
                    self.session.misses = 0;
                    self.session.vars.insert(save, value);
                    self.enter(next);
                }
                None => {
                    let retry = invalid.unwrap_or(say);
                    self.miss(
                        at,
                        Some(Reply::Text {
                            id: retry,
                            args: BTreeMap::new(),
                        }),
                    )
                }
            },
            // A stored position that no longer exists (flows changed): start over at the menu.
            _ => self.go_main_menu(),
        }
    }

    /// The node a free-text message is about, from the routes' words (own language + English).
    fn route(&self, text: &str) -> Option<Target> {
        self.route_in(&[self.lang(), Lang::English], text)
    }

    /// The node `text` is about, by the topic words of `langs`.
    fn route_in(&self, langs: &[Lang], text: &str) -> Option<Target> {
        self.engine
            .flows
            .routes
            .iter()
            .find(|r| self.engine.localizer.mentions(langs, &r.words, text))
            .map(|r| r.goto.clone())
    }

    /// An option typed by its label ("Monthly allowance") instead of its number.
    fn option_named<'o>(&self, options: &'o [MenuOption], text: &str) -> Option<&'o MenuOption> {
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
    fn miss(&mut self, at: &Target, repeat: Option<Reply>) {
        self.session.misses = self.session.misses.saturating_add(1);
        if self.session.misses >= MISSES_BEFORE_HUMAN {
            self.say("offer-human");
            self.session.state = State::OfferingHuman { at: at.clone() };
            return;
        }
        if matches!(repeat, Some(Reply::Menu { .. } | Reply::Choices { .. })) {
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
    if [Flows::MAIN, Flows::CONSENT, Flows::PRIVACY].contains(&at.flow.as_str()) {
        GENERAL_TOPIC.to_string()
    } else {
        at.flow.clone()
    }
}

/// Validates a free-text answer.
fn accept(validate: Validate, min: Option<u64>, max: Option<u64>, text: &str) -> Option<String> {
    match validate {
        Validate::Text => {
            let t = text.trim();
            (!t.is_empty() && t.chars().count() <= 500).then(|| t.to_string())
        }
        Validate::Number => {
            let n = u64::from(parse_number(text)?);
            (min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)).then(|| n.to_string())
        }
        Validate::Digits => {
            let n = normalize(text);
            let digits: String = n
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '/'))
                .collect();
            let len = digits.len() as u64;
            let ok = digits.bytes().all(|b| b.is_ascii_digit())
                && len >= min.unwrap_or(1)
                && len <= max.unwrap_or(20);
            ok.then_some(digits)
        }
    }
}
