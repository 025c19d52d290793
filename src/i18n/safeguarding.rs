//! Safeguarding: does a message speak of violence, abuse, self-harm, a child in danger or a
//! threat to life? Two tiers: **urgent** (the emergency reply and an urgent ticket) and
//! **concern** (a supervisor's ticket, no emergency reply).
//!
//! The phrase lists are data, one phrase a line, in `locales/<tag>/safeguarding.txt`, so that a
//! native speaker can review them line by line:
//!
//! ```text
//! [urgent]
//! beats me            # a comment: the gloss for reviewers
//! ^kill myself        # ^ : must start a word (Latin phrases always do)
//! ^لت$                # $ : must end a word
//! خودم .. بکشم        # .. : up to three words in between, in this order
//! [concern]
//! ...
//! [not]
//! حمله انتحاری        # harmless text that contains an alert phrase: a match inside it is ignored
//! ```
//!
//! Matching survives how people type: the input normaliser (digits, Arabic/Persian letter
//! variants, ZWNJ, «می» joined or spaced, ة typed as ه, hamza forms) plus, for alerts only,
//! Ethiopic syllables folded to their consonant (a Tigrinya suffix changes the last vowel:
//! ክቐትል "to kill" and ክቐትሉኒ "they will kill me"), Latin letters repeated for emphasis folded
//! ("pleeease", "amoot") and apostrophes dropped ("don't" = "dont"). The lists of every locale
//! are checked for every person: people mix languages and scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Lang;
use super::normalize::normalize;

/// File name of the phrase list in each locale folder.
pub const FILE_NAME: &str = "safeguarding.txt";
/// Words allowed between the parts of a `..` phrase.
const MAX_GAP_WORDS: usize = 3;

/// How serious a safeguarding match is. `Concern < Urgent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Worrying but not an emergency: a supervisor's ticket, no emergency reply.
    Concern,
    /// Violence, abuse, self-harm, a threat to life: the emergency number and an urgent ticket.
    Urgent,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Concern => "concern",
            Tier::Urgent => "urgent",
        }
    }
}

/// A problem in a phrase list, with where it is.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {problem}")]
pub struct ListError {
    pub path: PathBuf,
    pub line: usize,
    pub problem: String,
}

/// One part of a phrase, folded, with its word-boundary anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    text: String,
    starts_word: bool,
    ends_word: bool,
}

/// One line of a list.
#[derive(Debug, Clone)]
pub struct Phrase {
    parts: Vec<Part>,
    /// Marked `~`: Latin letters matched without their vowels.
    loose: bool,
    /// As written in the file, for `kabar check` and tests.
    pub source: String,
    pub line: usize,
}

/// The three sections of one locale's list.
#[derive(Debug, Clone, Default)]
pub struct AlertList {
    pub urgent: Vec<Phrase>,
    pub concern: Vec<Phrase>,
    /// Harmless text that contains an alert phrase.
    pub not: Vec<Phrase>,
}

/// What matched, for logs (never the message) and `kabar check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub tier: Tier,
    /// The list the phrase is in.
    pub list: Lang,
    pub phrase: String,
}

/// Folds a message for alert matching (see the module comment).
pub fn fold(text: &str) -> String {
    let normalized = normalize(text);
    let chars: Vec<char> = normalized
        .chars()
        .filter(|c| !matches!(c, '\'' | '’' | '`' | 'ʼ'))
        .map(fold_ethiopic)
        .collect();
    collapse_emphasis(chars)
}

/// Runs of three or more of one Latin letter become one ("pleeease", "heeelp": emphasis). Two
/// are kept: Somali spells with doubled letters ("ii" is "to me", "i" is "me").
fn collapse_emphasis(chars: Vec<char>) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let run = j - i;
        let keep = if c.is_ascii_alphabetic() && run >= 3 {
            1
        } else {
            run
        };
        out.extend(std::iter::repeat_n(c, keep));
        i = j;
    }
    out
}

/// Latin letters without their vowels, for transliterations whose vowels nobody agrees on
/// (Finglish "mizane"/"mezana", Arabizi "yadrubni"/"ydrobni"): phrases marked `~`.
fn skeleton(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if matches!(c, 'a' | 'e' | 'i' | 'o' | 'u') {
            continue;
        }
        if (c.is_ascii_alphabetic() || c == ' ') && out.ends_with(c) {
            continue;
        }
        out.push(c);
    }
    out.trim().to_string()
}

/// An Ethiopic syllable to its sixth-order (consonant) form, and the Tigrinya spirants ቐ and ኸ
/// to ቀ and ከ (they alternate with them inside one word's forms).
fn fold_ethiopic(c: char) -> char {
    let code = c as u32;
    if !(0x1200..=0x135A).contains(&code) {
        return c;
    }
    let row = match code & !7 {
        0x1250 => 0x1240, // ቐ → ቀ
        0x12B8 => 0x12A8, // ኸ → ከ
        row => row,
    };
    char::from_u32(row + 5).unwrap_or(c)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

fn is_latin(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii() || !c.is_alphabetic())
}

impl Part {
    fn parse(raw: &str, loose: bool) -> Option<Part> {
        let raw = raw.trim();
        let (starts, raw) = match raw.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (ends, raw) = match raw.strip_suffix('$') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let text = if loose {
            skeleton(&fold(raw))
        } else {
            fold(raw)
        };
        if text.is_empty() {
            return None;
        }
        // A Latin phrase always starts a word: "rape" must not fire on "grape".
        let starts_word = starts || is_latin(&text);
        Some(Part {
            text,
            starts_word,
            ends_word: ends,
        })
    }

    /// Byte ranges where this part occurs in folded `text`, from byte `from` on.
    fn find(&self, text: &str, from: usize) -> Vec<(usize, usize)> {
        let Some(tail) = text.get(from..) else {
            return Vec::new();
        };
        tail.match_indices(&self.text)
            .map(|(i, m)| (from + i, from + i + m.len()))
            .filter(|&(start, end)| {
                let before_ok = !self.starts_word
                    || !text[..start].chars().next_back().is_some_and(is_word_char);
                let after_ok =
                    !self.ends_word || !text[end..].chars().next().is_some_and(is_word_char);
                before_ok && after_ok
            })
            .collect()
    }
}

/// Words between byte `a` and byte `b` of `text`.
fn words_between(text: &str, a: usize, b: usize) -> usize {
    text.get(a..b)
        .map(|s| s.split_whitespace().count())
        .unwrap_or(usize::MAX)
}

impl Phrase {
    fn parse(raw: &str, line: usize) -> Result<Phrase, String> {
        let (loose, body) = match raw.trim().strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if loose && !is_latin(body) {
            return Err(format!(
                "«{raw}»: `~` (vowels ignored) is for Latin transliterations only"
            ));
        }
        let parts: Vec<Part> = body
            .split("..")
            .filter_map(|p| Part::parse(p, loose))
            .collect();
        if parts.is_empty() {
            return Err(format!("«{raw}» has nothing left to match after folding"));
        }
        if body.split("..").count() != parts.len() {
            return Err(format!("«{raw}»: an empty part around `..`"));
        }
        Ok(Phrase {
            parts,
            loose,
            source: raw.trim().to_string(),
            line,
        })
    }

    /// Byte ranges of folded `text` where the whole phrase occurs.
    fn find(&self, text: &str) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        let Some((first, rest)) = self.parts.split_first() else {
            return found;
        };
        for (start, mut end) in first.find(text, 0) {
            let mut whole = true;
            for part in rest {
                let next = part
                    .find(text, end)
                    .into_iter()
                    .find(|&(s, _)| words_between(text, end, s) <= MAX_GAP_WORDS);
                match next {
                    Some((_, e)) => end = e,
                    None => {
                        whole = false;
                        break;
                    }
                }
            }
            if whole {
                found.push((start, end));
            }
        }
        found
    }
}

impl AlertList {
    /// Parses a list file. Every problem is reported with its line.
    pub fn parse(source: &str, path: &Path) -> Result<AlertList, Vec<ListError>> {
        let mut list = AlertList::default();
        let mut errors = Vec::new();
        let mut section: Option<&str> = None;
        for (i, raw) in source.lines().enumerate() {
            let line = i + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            if let Some(name) = content
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
            {
                match name.trim() {
                    s @ ("urgent" | "concern" | "not") => section = Some(s),
                    other => errors.push(ListError {
                        path: path.to_path_buf(),
                        line,
                        problem: format!(
                            "unknown section [{other}]: use [urgent], [concern] or [not]"
                        ),
                    }),
                }
                continue;
            }
            let target = match section {
                Some("urgent") => &mut list.urgent,
                Some("concern") => &mut list.concern,
                Some(_) => &mut list.not,
                None => {
                    errors.push(ListError {
                        path: path.to_path_buf(),
                        line,
                        problem: "a phrase before any [urgent], [concern] or [not] line".into(),
                    });
                    continue;
                }
            };
            match Phrase::parse(content, line) {
                Ok(phrase) => target.push(phrase),
                Err(problem) => errors.push(ListError {
                    path: path.to_path_buf(),
                    line,
                    problem,
                }),
            }
        }
        if list.urgent.is_empty() {
            errors.push(ListError {
                path: path.to_path_buf(),
                line: 1,
                problem: "no [urgent] phrases: every locale needs them".into(),
            });
        }
        if errors.is_empty() {
            Ok(list)
        } else {
            Err(errors)
        }
    }
}

/// The lists of every locale.
#[derive(Debug, Clone, Default)]
pub struct Safeguarding {
    lists: BTreeMap<Lang, AlertList>,
}

impl Safeguarding {
    pub fn new(lists: BTreeMap<Lang, AlertList>) -> Safeguarding {
        Safeguarding { lists }
    }

    pub fn list(&self, lang: Lang) -> Option<&AlertList> {
        self.lists.get(&lang)
    }

    /// The most serious alert in `text`, checked against every locale's lists.
    pub fn assess(&self, text: &str) -> Option<Alert> {
        let folded = fold(text);
        if folded.is_empty() {
            return None;
        }
        let views = View::of(&folded, self.lists.values().flat_map(|l| &l.not));
        let mut best: Option<Alert> = None;
        for (&lang, list) in &self.lists {
            for (tier, phrases) in [(Tier::Urgent, &list.urgent), (Tier::Concern, &list.concern)] {
                if best.as_ref().is_some_and(|b| b.tier >= tier) {
                    continue;
                }
                if let Some(p) = phrases
                    .iter()
                    .find(|p| !p.find(views.for_phrase(p)).is_empty())
                {
                    best = Some(Alert {
                        tier,
                        list: lang,
                        phrase: p.source.clone(),
                    });
                }
            }
            if best.as_ref().is_some_and(|b| b.tier == Tier::Urgent) {
                break;
            }
        }
        best
    }
}

/// A folded message as alert phrases see it: plain, and with Latin vowels dropped for `~`
/// phrases; in both, harmless text of the `[not]` sections is blanked out first.
struct View {
    plain: String,
    skeleton: String,
}

impl View {
    fn of<'a>(folded: &str, harmless: impl Iterator<Item = &'a Phrase> + Clone) -> View {
        let plain = mask(folded, harmless.clone().filter(|p| !p.loose));
        let skeleton = mask(&skeleton(&plain), harmless.filter(|p| p.loose));
        View { plain, skeleton }
    }

    fn for_phrase(&self, phrase: &Phrase) -> &str {
        if phrase.loose {
            &self.skeleton
        } else {
            &self.plain
        }
    }
}

/// `text` with every occurrence of the `harmless` phrases replaced by a neutral mark, so a
/// phrase that only occurs inside them does not match (and one outside them still does).
fn mask<'a>(text: &str, harmless: impl Iterator<Item = &'a Phrase>) -> String {
    let mut spans: Vec<(usize, usize)> = harmless.flat_map(|p| p.find(text)).collect();
    if spans.is_empty() {
        return text.to_string();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if start < at {
            at = at.max(end);
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(" · ");
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// Realistic messages per locale, written independently of the lists, that tell what the lists
/// do (tests/fixtures/safeguarding/<tag>.toml).
#[derive(Debug, Clone, Deserialize)]
pub struct Samples {
    #[serde(default)]
    pub harm: Vec<HarmSample>,
    #[serde(default)]
    pub harmless: Vec<HarmlessSample>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HarmSample {
    pub text: String,
    pub tier: Tier,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HarmlessSample {
    pub text: String,
    #[serde(default)]
    pub note: String,
}

/// The samples shipped with kabar, so `kabar check` can show what edited lists do.
pub fn builtin_samples() -> Vec<(Lang, Result<Samples, String>)> {
    macro_rules! sample {
        ($lang:expr, $file:literal) => {
            (
                $lang,
                toml::from_str::<Samples>(include_str!(concat!(
                    "../../tests/fixtures/safeguarding/",
                    $file
                )))
                .map_err(|e| format!("tests/fixtures/safeguarding/{}: {e}", $file)),
            )
        };
    }
    vec![
        sample!(Lang::Dari, "fa-AF.toml"),
        sample!(Lang::Farsi, "fa.toml"),
        sample!(Lang::Somali, "so.toml"),
        sample!(Lang::Arabic, "ar.toml"),
        sample!(Lang::Tigrinya, "ti.toml"),
        sample!(Lang::English, "en.toml"),
    ]
}

/// How the lists do on one locale's samples.
#[derive(Debug, Clone)]
pub struct Score {
    pub lang: Lang,
    pub harm: usize,
    /// Harm samples that got at least their tier.
    pub caught: usize,
    /// Urgent samples that only got the concern tier.
    pub urgent_as_concern: usize,
    pub harmless: usize,
    /// Harmless samples that got any alert.
    pub false_alarms: usize,
    /// Harmless samples that got the emergency reply.
    pub false_urgent: usize,
    /// Texts missed (with their note) and false alarms (with the phrase that fired).
    pub missed: Vec<(String, String)>,
    pub fired: Vec<(String, String)>,
}

impl Score {
    pub fn recall(&self) -> f64 {
        ratio(self.caught, self.harm)
    }
    pub fn false_alarm_rate(&self) -> f64 {
        ratio(self.false_alarms, self.harmless)
    }
}

fn ratio(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// Scores the lists against one locale's samples.
pub fn score(safeguarding: &Safeguarding, lang: Lang, samples: &Samples) -> Score {
    let mut s = Score {
        lang,
        harm: samples.harm.len(),
        caught: 0,
        urgent_as_concern: 0,
        harmless: samples.harmless.len(),
        false_alarms: 0,
        false_urgent: 0,
        missed: Vec::new(),
        fired: Vec::new(),
    };
    for sample in &samples.harm {
        match safeguarding.assess(&sample.text) {
            Some(a) if a.tier >= sample.tier => s.caught += 1,
            Some(_) => {
                s.urgent_as_concern += 1;
                s.missed.push((
                    sample.text.clone(),
                    format!("only concern; {}", sample.note),
                ));
            }
            None => s.missed.push((sample.text.clone(), sample.note.clone())),
        }
    }
    for sample in &samples.harmless {
        if let Some(a) = safeguarding.assess(&sample.text) {
            s.false_alarms += 1;
            if a.tier == Tier::Urgent {
                s.false_urgent += 1;
            }
            s.fired.push((
                sample.text.clone(),
                format!("{} «{}» ({})", a.tier.name(), a.phrase, a.list.tag()),
            ));
        }
    }
    s
}

/// The goals every locale's lists must meet on its samples.
pub const MIN_RECALL: f64 = 0.95;
pub const MAX_FALSE_ALARMS: f64 = 0.05;

impl Score {
    pub fn meets_goals(&self) -> bool {
        self.recall() >= MIN_RECALL && self.false_alarm_rate() <= MAX_FALSE_ALARMS
    }
}

/// The table `kabar check` and the tests print.
pub fn table(scores: &[Score]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "safeguarding lists on the sample messages (goal: recall >= {:.0}%, false alarms <= {:.0}%):",
        MIN_RECALL * 100.0,
        MAX_FALSE_ALARMS * 100.0
    );
    let _ = writeln!(
        out,
        "  {:<6} {:>5} {:>7} {:>8} {:>9} {:>13} {:>9}  ",
        "locale", "harm", "caught", "recall", "harmless", "false alarms", "urgent"
    );
    for s in scores {
        let _ = writeln!(
            out,
            "  {:<6} {:>5} {:>7} {:>7.1}% {:>9} {:>6} {:>5.1}% {:>9}  {}",
            s.lang.tag(),
            s.harm,
            s.caught,
            s.recall() * 100.0,
            s.harmless,
            s.false_alarms,
            s.false_alarm_rate() * 100.0,
            s.false_urgent,
            if s.meets_goals() { "ok" } else { "BELOW GOAL" }
        );
    }
    for s in scores {
        for (text, why) in &s.missed {
            let _ = writeln!(out, "  {} missed: {text}   ({why})", s.lang.tag());
        }
        for (text, why) in &s.fired {
            let _ = writeln!(out, "  {} false alarm: {text}   ({why})", s.lang.tag());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(source: &str) -> Safeguarding {
        let list = AlertList::parse(source, Path::new("test.txt")).unwrap();
        Safeguarding::new([(Lang::English, list)].into_iter().collect())
    }

    #[test]
    fn persian_mi_joined_spaced_or_with_zwnj_match_alike() {
        let s = lists("[urgent]\nمرا می زند\n");
        for text in [
            "شوهرم مرا میزند",
            "شوهرم مرا می زند",
            "شوهرم مرا می\u{200C}زند",
        ] {
            assert!(s.assess(text).is_some(), "{text}");
        }
    }

    #[test]
    fn arabic_letter_variants_match() {
        let s = lists("[urgent]\nفي خطر\nالقتل\n");
        assert!(s.assess("انا فى خطر").is_some());
        // ة typed as ه, and hamza forms dropped, fold both ways
        let s = lists("[urgent]\nمهددة بالقتل\n");
        assert!(s.assess("انا مهدده بالقتل").is_some());
    }

    #[test]
    fn ethiopic_suffixes_fold_to_the_consonant() {
        let s = lists("[urgent]\nክቐትል\n");
        assert!(s.assess("ክቐትሉኒ እዮም").is_some());
        assert!(s.assess("ሰላም").is_none());
    }

    #[test]
    fn latin_phrases_start_a_word_and_repetition_folds() {
        let s = lists("[urgent]\nrape\nwant to die\ndont want to live\n");
        assert!(s.assess("grapes are cheap").is_none());
        assert_eq!(
            fold("ii garaac"),
            "ii garaac",
            "Somali doubled letters are kept"
        );
        assert!(s.assess("i was raped").is_some());
        assert!(s.assess("i waaant to dieee").is_some());
        assert!(s.assess("I don't want to live anymore").is_some());
    }

    #[test]
    fn loose_transliterations_ignore_vowels() {
        let s = lists("[urgent]\n~mara mizana\n~yadrubni\n[not]\n~mara mizanad zang\n");
        for text in [
            "shoharam mara mezana",
            "mra mizane har roz",
            "abuya ydrobni",
        ] {
            assert!(s.assess(text).is_some(), "{text}");
        }
        assert!(s.assess("hello how are you").is_none());
        assert!(s.assess("mara mizanad zang").is_none());
        assert!(AlertList::parse("[urgent]\n~مرا\n", Path::new("x")).is_err());
    }

    #[test]
    fn anchors_and_gaps() {
        let s = lists("[urgent]\n^لت$\nخودم .. بکشم\n");
        assert!(s.assess("دولت کمک نمی کند").is_none(), "لت inside دولت");
        assert!(s.assess("مرا لت کرد").is_some());
        assert!(s.assess("میخواهم خودم را بکشم").is_some());
        assert!(s.assess("خودم میروم و بعدا یک سوال دارم که بکشم").is_none());
        // exceptions blank out the harmless words between the parts of a gap phrase too
        let s = lists("[urgent]\nمرا .. میزن\n[not]\nزنگ میزن\n");
        assert!(s.assess("لطفا مرا زنگ بزنید").is_none());
        assert!(s.assess("مرا زنگ میزنید").is_none());
        assert!(s.assess("شوهرم مرا هر شب میزند").is_some());
    }

    #[test]
    fn exceptions_cover_harmless_text_only() {
        let s = lists("[urgent]\nانتحار\n[not]\nحمله انتحاری\n");
        assert!(s.assess("یک حمله انتحاری در کابل شد").is_none());
        assert!(s.assess("فکر انتحار دارم").is_some());
        // a harmless mention does not hide a real one in the same message
        assert!(s.assess("بعد از حمله انتحاری فکر انتحار دارم").is_some());
    }

    #[test]
    fn urgent_wins_over_concern() {
        let s = lists("[urgent]\nkill me\n[concern]\nfollowing me\n");
        assert_eq!(s.assess("he is following me").unwrap().tier, Tier::Concern);
        assert_eq!(
            s.assess("he is following me and will kill me")
                .unwrap()
                .tier,
            Tier::Urgent
        );
    }

    #[test]
    fn bad_lists_are_reported_with_their_line() {
        let e =
            AlertList::parse("beats me\n[urgnt]\n[urgent]\n ..\n", Path::new("x.txt")).unwrap_err();
        let lines: Vec<usize> = e.iter().map(|e| e.line).collect();
        // line 1: a phrase before a section; 2: a misspelt section; 4: nothing to match;
        // and (reported at line 1) no urgent phrase at all.
        assert_eq!(lines, vec![1, 2, 4, 1], "{e:?}");
    }

    #[test]
    fn hostile_input_never_panics() {
        let s = lists("[urgent]\nا .. ب\n^x$\n");
        for text in ["", "..", "^$", "\u{0640}\u{064B}", "ا ب ا ب", "\u{10FFFF}x"] {
            let _ = s.assess(text);
        }
    }
}
