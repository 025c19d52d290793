//! Everything about languages: tags, the localizer (Fluent bundles), input normalisation,
//! language detection and SMS segment counting.

pub mod detect;
pub mod normalize;
pub mod safeguarding;
pub mod segments;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fluent_bundle::concurrent::FluentBundle;

use crate::content::ContentDir;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

pub use crate::domain::lang::{self, Lang};

/// A problem in a locale file, with where it is.
#[derive(Debug, thiserror::Error)]
pub enum LocaleError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {problem}")]
    Syntax {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("{path}: missing locale folder for {lang}")]
    MissingLocale { path: PathBuf, lang: Lang },
    #[error(transparent)]
    List(#[from] safeguarding::ListError),
}

/// The line (1-based) of byte offset `pos` in `text`.
pub fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Where a message is defined, for error messages.
#[derive(Debug, Clone)]
pub struct Origin {
    pub path: PathBuf,
    pub line: usize,
}

struct Locale {
    bundle: FluentBundle<FluentResource>,
    /// Every message id in this locale and where it is defined.
    ids: BTreeMap<String, Origin>,
}

/// The localized keywords for global commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Command {
    Menu,
    Language,
    Agent,
    Stop,
    Start,
    Privacy,
    Delete,
}

impl Command {
    pub const ALL: [Command; 7] = [
        Command::Menu,
        Command::Language,
        Command::Agent,
        Command::Stop,
        Command::Start,
        Command::Privacy,
        Command::Delete,
    ];

    pub fn message_id(self) -> &'static str {
        match self {
            Command::Menu => "keyword-menu",
            Command::Language => "keyword-language",
            Command::Agent => "keyword-agent",
            Command::Stop => "keyword-stop",
            Command::Start => "keyword-start",
            Command::Privacy => "keyword-privacy",
            Command::Delete => "keyword-delete",
        }
    }
}

/// All six locales, built once at start-up and shared read-only.
pub struct Localizer {
    locales: BTreeMap<Lang, Locale>,
    /// Normalised keyword → command, per language (English words are added to every language).
    keywords: BTreeMap<Lang, BTreeMap<String, Command>>,
    /// Normalised phrase lists of `route-*` messages, per language and id.
    phrases: BTreeMap<(Lang, String), Vec<String>>,
    /// The safeguarding lists of every locale (`safeguarding.txt`).
    safeguarding: safeguarding::Safeguarding,
    /// Numbers from the configuration every message may use (e.g. `$retain_days` in the
    /// privacy notice), so texts state what the server really does.
    constants: BTreeMap<String, i64>,
}

/// Message ids whose values are comma-separated phrases matched inside messages.
fn is_phrase_list(id: &str) -> bool {
    id.starts_with("route-")
}

/// Splits a comma-separated list (Latin or Arabic comma) into normalised entries.
fn split_list(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split([',', '،'])
        .map(normalize::normalize)
        .filter(|w| !w.is_empty())
}

/// Whether normalised `text` contains normalised `phrase`. Latin-script phrases must start a
/// word ("rape" must not fire on "grape") but may take suffixes (Somali "maraykan-ka", English
/// "class-es"); in Arabic and Ethiopic script prefixes attach to words, so a substring is enough.
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let latin = phrase.chars().all(|c| c.is_ascii() || !c.is_alphabetic());
    if !latin {
        return text.contains(phrase);
    }
    text.match_indices(phrase).any(|(i, _)| {
        !text[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
    })
}

impl std::fmt::Debug for Localizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Localizer")
            .field("locales", &self.locales.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Localizer {
    /// Loads `dir/<tag>/*.ftl` for every language.
    pub fn load(dir: &Path) -> Result<Localizer, Vec<LocaleError>> {
        Localizer::load_from(&ContentDir::Folder(dir.to_path_buf()))
    }

    /// Loads `<tag>/*.ftl` for every language from a folder or the built-in locales.
    pub fn load_from(dir: &ContentDir) -> Result<Localizer, Vec<LocaleError>> {
        let mut errors = Vec::new();
        let mut locales = BTreeMap::new();
        let mut alert_lists = BTreeMap::new();
        for lang in Lang::ALL {
            match load_locale(dir, lang) {
                Ok(locale) => {
                    locales.insert(lang, locale);
                }
                Err(mut e) => errors.append(&mut e),
            }
            match load_alert_list(dir, lang) {
                Ok(list) => {
                    alert_lists.insert(lang, list);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut localizer = Localizer {
            locales,
            keywords: BTreeMap::new(),
            phrases: BTreeMap::new(),
            safeguarding: safeguarding::Safeguarding::new(alert_lists),
            constants: BTreeMap::new(),
        };
        localizer.keywords = Lang::ALL
            .iter()
            .map(|&lang| (lang, localizer.keyword_table(lang)))
            .collect();
        let mut phrases = BTreeMap::new();
        for lang in Lang::ALL {
            for id in localizer.ids(lang) {
                if is_phrase_list(&id) {
                    let value = localizer.text(lang, &id, &[]).unwrap_or_default();
                    phrases.insert((lang, id), split_list(&value).collect());
                }
            }
        }
        localizer.phrases = phrases;
        Ok(localizer)
    }

    /// Whether `text` contains a phrase of list `id` in any of `langs`.
    pub fn mentions(&self, langs: &[Lang], id: &str, text: &str) -> bool {
        let text = normalize::normalize(text);
        langs.iter().any(|&lang| {
            self.phrases
                .get(&(lang, id.to_string()))
                .is_some_and(|list| list.iter().any(|p| contains_phrase(&text, p)))
        })
    }

    /// The most serious safeguarding alert in `text`, against the lists of every locale.
    pub fn safeguarding(&self, text: &str) -> Option<safeguarding::Alert> {
        self.safeguarding.assess(text)
    }

    /// The safeguarding lists, for `kabar check` and tests.
    pub fn safeguarding_lists(&self) -> &safeguarding::Safeguarding {
        &self.safeguarding
    }

    fn keyword_table(&self, lang: Lang) -> BTreeMap<String, Command> {
        let mut table = BTreeMap::new();
        // Own language last so that its words win a clash with an English word.
        for source in [Lang::English, lang] {
            for command in Command::ALL {
                let Some(words) = self.text(source, command.message_id(), &[]) else {
                    continue;
                };
                for word in split_list(&words) {
                    table.insert(word, command);
                }
            }
        }
        table
    }

    /// The command `text` is, in language `lang` (or in English), if it is one.
    pub fn command(&self, lang: Lang, text: &str) -> Option<Command> {
        let word = normalize::normalize(text);
        self.keywords.get(&lang)?.get(&word).copied()
    }

    /// The keywords of every language for `command`, normalised (used before a language is known).
    pub fn command_any(&self, text: &str) -> Option<Command> {
        Lang::ALL.iter().find_map(|&lang| self.command(lang, text))
    }

    /// Formats message `id` in `lang`. `None` when the id does not exist in that locale
    /// (`kabar check` and start-up validation make that a configuration error).
    /// Makes the whole number `value` available to every message as `{ $name }` (a Fluent
    /// integer: an f64 would select Arabic plurals as fractions). Arguments given at render time take precedence.
    pub fn with_number(mut self, name: &str, value: i64) -> Localizer {
        self.constants.insert(name.to_string(), value);
        self
    }

    pub fn text(&self, lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> Option<String> {
        let locale = self.locales.get(&lang)?;
        let message = locale.bundle.get_message(id)?;
        let pattern = message.value()?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in &self.constants {
            fluent_args.set(name.as_str(), FluentValue::from(*value));
        }
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        let text = locale
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(lang = %lang, id, ?errors, "message formatted with errors");
        }
        Some(text.into_owned())
    }

    /// Like [`text`](Self::text), falling back to English and finally to the id itself, so a
    /// person always gets something readable.
    pub fn render(&self, lang: Lang, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        self.text(lang, id, args)
            .or_else(|| {
                tracing::warn!(lang = %lang, id, "message missing, falling back to English");
                self.text(Lang::English, id, args)
            })
            .unwrap_or_else(|| id.to_string())
    }

    pub fn has(&self, lang: Lang, id: &str) -> bool {
        self.locales
            .get(&lang)
            .is_some_and(|l| l.ids.contains_key(id))
    }

    /// Every message id defined in `lang`.
    pub fn ids(&self, lang: Lang) -> BTreeSet<String> {
        self.locales
            .get(&lang)
            .map(|l| l.ids.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn origin(&self, lang: Lang, id: &str) -> Option<&Origin> {
        self.locales.get(&lang)?.ids.get(id)
    }
}

/// The line on which message `id` is defined (`id =` at the start of a line).
fn definition_line(source: &str, id: &str) -> Option<usize> {
    source
        .lines()
        .position(|line| {
            line.strip_prefix(id)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

fn load_alert_list(
    dir: &ContentDir,
    lang: Lang,
) -> Result<safeguarding::AlertList, Vec<LocaleError>> {
    let relative = Path::new(lang.tag()).join(safeguarding::FILE_NAME);
    let path = dir.path_of(&relative);
    let source = dir.read(&relative).map_err(|source| {
        vec![LocaleError::Read {
            path: path.clone(),
            source,
        }]
    })?;
    safeguarding::AlertList::parse(&source, &path)
        .map_err(|errors| errors.into_iter().map(LocaleError::from).collect())
}

fn load_locale(dir: &ContentDir, lang: Lang) -> Result<Locale, Vec<LocaleError>> {
    let files = dir.files(Path::new(lang.tag()), "ftl").map_err(|_| {
        vec![LocaleError::MissingLocale {
            path: dir.path_of(Path::new(lang.tag())),
            lang,
        }]
    })?;
    let langid: unic_langid::LanguageIdentifier = match lang.tag().parse() {
        Ok(id) => id,
        Err(_) => unic_langid::langid!("en"),
    };
    let mut bundle = FluentBundle::new_concurrent(vec![langid]);
    // SMS text must not carry FSI/PDI marks: they turn GSM-7 into UCS-2 and show as boxes.
    bundle.set_use_isolating(false);
    let mut ids = BTreeMap::new();
    let mut errors = Vec::new();
    for relative in files {
        let path = dir.path_of(&relative);
        let source = match dir.read(&relative) {
            Ok(s) => s,
            Err(source) => {
                errors.push(LocaleError::Read { path, source });
                continue;
            }
        };
        let resource = match FluentResource::try_new(source.clone()) {
            Ok(r) => r,
            Err((_, parse_errors)) => {
                for e in parse_errors {
                    errors.push(LocaleError::Syntax {
                        path: path.clone(),
                        line: line_of(&source, e.pos.start),
                        problem: format!("{:?}", e.kind),
                    });
                }
                continue;
            }
        };
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                let line = definition_line(&source, m.id.name).unwrap_or(1);
                if let Some(previous) = ids.insert(
                    m.id.name.to_string(),
                    Origin {
                        path: path.clone(),
                        line,
                    },
                ) {
                    errors.push(LocaleError::Syntax {
                        path: path.clone(),
                        line,
                        problem: format!(
                            "message {} is defined twice (first at {}:{})",
                            m.id.name,
                            previous.path.display(),
                            previous.line
                        ),
                    });
                }
            }
        }
        if let Err(clashes) = bundle.add_resource(resource) {
            for e in clashes {
                errors.push(LocaleError::Syntax {
                    path: path.clone(),
                    line: 1,
                    problem: e.to_string(),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(Locale { bundle, ids })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod constant_tests {
    use super::*;

    #[test]
    fn configured_numbers_select_arabic_plural_forms() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        for (days, word) in [
            (3, "3 أيام"),
            (11, "11 يوما"),
            (365, "365 يوما"),
            (1, "يوم واحد"),
        ] {
            let Ok(l) = Localizer::load(&dir) else {
                panic!("locales load");
            };
            let l = l.with_number("retain_days", days);
            let text = l
                .text(Lang::Arabic, "privacy-info", &[])
                .unwrap_or_default();
            assert!(text.contains(word), "{days}: {text}");
            let english = l
                .text(Lang::English, "privacy-info", &[])
                .unwrap_or_default();
            assert!(english.contains(&format!("for {days} days")), "{english}");
        }
    }
}
