//! A first guess at the language of a message, from its script and a few marker words
//! (DESIGN §4). It only orders the language menu: the person's choice always wins.

use super::Lang;
use super::normalize::normalize;

/// Words that tell Dari from Farsi (everyday vocabulary that differs, DESIGN §4).
const DARI_WORDS: &[&str] = &[
    "پیسه",
    "مکتب",
    "تشکر",
    "داکتر",
    "شفاخانه",
    "بلی",
    "تلفون",
    "استم",
    "هستم",
    "چطور",
];
const FARSI_WORDS: &[&str] = &[
    "پول",
    "مدرسه",
    "ممنون",
    "مرسی",
    "دکتر",
    "بیمارستان",
    "بله",
    "تلفن",
    "چطوری",
    "هستید",
];
/// Words that are Somali and not English.
const SOMALI_WORDS: &[&str] = &[
    "waxaan",
    "maxaa",
    "lacag",
    "lacagta",
    "iskuul",
    "salaan",
    "mahadsanid",
    "haa",
    "maya",
    "waa",
    "iyo",
    "ma",
    "aan",
    "caawimaad",
    "nabad",
    "subax",
    "fiid",
    "sidee",
    "tahay",
    "wax",
];

/// Latin-letter markers of languages people here often type in Latin letters: Dari and Farsi
/// (Finglish), Arabic (Arabizi), Tigrinya, Somali. Greetings shared by several of them count
/// less than words only one of them uses.
const DARI_LATIN: &[&str] = &[
    "astum",
    "astom",
    "astem",
    "asti",
    "asten",
    "astin",
    "mekhayum",
    "mekhayom",
    "mekhaham",
    "mekhayam",
    "paisa",
    "paysa",
    "tashakor",
    "tashakur",
    "kumak",
    "chetor",
    "chetur",
    "khub",
    "kay",
    "meya",
    "miya",
    "afghanistan",
    "afghan",
    "bale",
    "kabul",
    "hazara",
    "mara",
    "mera",
];
const FARSI_LATIN: &[&str] = &[
    "khoobin",
    "khoobi",
    "khobi",
    "chetori",
    "chetorin",
    "mikham",
    "mikhastam",
    "mamnoon",
    "mamnun",
    "merci",
    "mersi",
    "hastam",
    "hastid",
    "misham",
    "mishe",
    "konid",
    "shodam",
    "bozorg",
    "iran",
    "ro",
    "payam",
    "payamtoon",
    "didam",
    "vaght",
    "bekheir",
    "alan",
    "hamin",
    "rahnamayi",
    "afghaniam",
    "too",
    "baleh",
    "komak",
    "lotfan",
];
const ARABIC_LATIN: &[&str] = &[
    "marhaba", "marhaban", "ahlan", "hala", "ana", "min", "el", "fi", "bdi", "badi", "abi",
    "abgha", "shukran", "wallah", "habibi", "keef", "kif", "kifak", "shlonak", "shlon", "wein",
    "feen", "iraq", "sudan", "yemen", "suriya", "3an", "flous", "fulus",
];
const TIGRINYA_LATIN: &[&str] = &[
    "kemey",
    "kemay",
    "aleka",
    "aleki",
    "alekum",
    "hagez",
    "hagaz",
    "yedelyeni",
    "yedelieni",
    "delye",
    "deleye",
    "dehan",
    "dikum",
    "dehankum",
    "yekenyeley",
    "yekenyelna",
    "eritrea",
    "ertra",
    "asmara",
    "alo",
    "alewo",
];
/// Greetings several of these languages share: they tip the balance only when nothing else
/// does, towards Dari (most people writing here are Afghan).
const DARI_GREETINGS: &[&str] = &["salam", "slm", "salaam", "salamu", "jan"];
const ARABIC_GREETINGS: &[&str] = &["alaikum", "alaykum", "aleikum", "3likom", "3alaikum"];
const TIGRINYA_GREETINGS: &[&str] = &["selam"];
const SOMALI_LATIN: &[&str] = &[
    "asc",
    "warran",
    "waran",
    "iska",
    "walaal",
    "calaykum",
    "haye",
    "wanaagsan",
    "subax",
    "galab",
    "soomaali",
    "baahanahay",
    "qabaa",
    "goorma",
];
/// Words that say the person writes English.
const ENGLISH_WORDS: &[&str] = &[
    "hello",
    "hi",
    "hey",
    "hlo",
    "helo",
    "help",
    "please",
    "pls",
    "when",
    "what",
    "where",
    "how",
    "i",
    "need",
    "my",
    "is",
    "the",
    "payment",
    "school",
    "good",
    "morning",
    "evening",
    "afternoon",
    "thank",
    "thanks",
    "you",
    "can",
    "want",
    "question",
    "sir",
    "madam",
    "dear",
    "speak",
    "english",
    "call",
    "me",
    "do",
    "this",
    "about",
    "there",
    "have",
    "are",
];

/// A Latin-letter word with the digits Arabizi uses for Arabic letters (2 ء, 3 ع, 5 خ, 7 ح).
fn is_arabizi(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_alphabetic())
        && word.chars().any(|c| matches!(c, '2' | '3' | '5' | '7'))
}

/// The language of a message in Latin letters: the one whose marker words score highest, if
/// they outscore the English words; English otherwise.
fn detect_latin(folded: &str, words: &[&str]) -> Lang {
    let count = |list: &[&str]| words.iter().filter(|w| list.contains(w)).count();
    let arabizi = words.iter().filter(|w| is_arabizi(w)).count();
    let somali =
        2 * count(SOMALI_WORDS) + 2 * count(SOMALI_LATIN) + usize::from(looks_somali(folded));
    let scores = [
        (Lang::Dari, 2 * count(DARI_LATIN) + count(DARI_GREETINGS)),
        (Lang::Farsi, 2 * count(FARSI_LATIN)),
        (
            Lang::Arabic,
            2 * count(ARABIC_LATIN) + 2 * arabizi + count(ARABIC_GREETINGS),
        ),
        (
            Lang::Tigrinya,
            2 * count(TIGRINYA_LATIN) + 2 * count(TIGRINYA_GREETINGS),
        ),
        (Lang::Somali, somali),
    ];
    // The first of the best wins a tie: Dari before Farsi, and so on.
    let (best, score) =
        scores.iter().fold(
            (Lang::English, 0),
            |(bl, bs), &(l, s)| if s > bs { (l, s) } else { (bl, bs) },
        );
    if score > 2 * count(ENGLISH_WORDS) {
        best
    } else {
        Lang::English
    }
}

/// Arabic words a Persian speaker would not write (greetings and everyday words), as
/// `normalize` spells them (ي → ی, ك → ک, ة → ه).
const ARABIC_WORDS: &[&str] = &[
    "مرحبا",
    "مرحبه",
    "هلا",
    "اهلا",
    "شکرا",
    "ابغی",
    "ارید",
    "عندی",
    "لیش",
    "شلون",
    "وین",
    "انا",
    "متی",
    "ماذا",
    "لماذا",
    "نعم",
];

/// Detects the language of `text`, or `None` when there is nothing to go on.
pub fn detect(text: &str) -> Option<Lang> {
    let mut ethiopic = 0usize;
    let mut arabic_script = 0usize;
    let mut latin = 0usize;
    let mut persian_marks = 0usize;
    for c in text.chars() {
        match c {
            '\u{1200}'..='\u{137F}' => ethiopic += 1,
            'پ' | 'چ' | 'ژ' | 'گ' | '\u{200C}' => {
                persian_marks += 1;
                arabic_script += 1
            }
            '\u{0600}'..='\u{06FF}' => arabic_script += 1,
            c if c.is_ascii_alphabetic() => latin += 1,
            _ => {}
        }
    }
    if ethiopic == 0 && arabic_script == 0 && latin == 0 {
        return None;
    }
    if ethiopic >= arabic_script && ethiopic >= latin {
        return Some(Lang::Tigrinya);
    }
    let folded = normalize(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let count = |list: &[&str]| words.iter().filter(|w| list.contains(w)).count();
    if arabic_script > latin {
        let dari = count(DARI_WORDS);
        let farsi = count(FARSI_WORDS);
        if dari + farsi + persian_marks > 0 || has_persian_only_letters(text) {
            // Most Persian speakers here are Afghan: Dari unless Farsi words outnumber.
            return Some(if farsi > dari {
                Lang::Farsi
            } else {
                Lang::Dari
            });
        }
        return Some(if is_arabic(text, &words) {
            Lang::Arabic
        } else {
            Lang::Dari
        });
    }
    Some(detect_latin(&folded, &words))
}

/// Persian ی and ک, typed on a Persian keyboard (an Arabic keyboard gives ي and ك).
fn has_persian_only_letters(text: &str) -> bool {
    text.chars().any(|c| matches!(c, '\u{06CC}' | '\u{06A9}'))
}

fn is_arabic(text: &str, words: &[&str]) -> bool {
    text.contains('ة')
        || text.contains('ي')
        || text.contains('ك')
        || words
            .iter()
            .any(|w| w.starts_with("ال") || *w == "فی" || *w == "هل" || ARABIC_WORDS.contains(w))
}

/// Somali spelling: doubled vowels and the letters x, c, dh used in ways English rarely does.
fn looks_somali(folded: &str) -> bool {
    let doubled = ["aa", "ii", "uu"]
        .iter()
        .filter(|d| folded.contains(*d))
        .count();
    let marks = folded
        .split_whitespace()
        .filter(|w| w.contains('x') || w.starts_with("dh") || w.contains("aa"))
        .count();
    doubled > 0 && marks > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_language_from_a_typical_first_message() {
        let cases = [
            ("سلام، پیسه ماهانه کی میایه؟", Lang::Dari),
            ("سلام، پول ماهانه کی واریز میشه؟ ممنون", Lang::Farsi),
            ("Salaan, waxaan rabaa inaan ogaado lacagta", Lang::Somali),
            ("مرحبا، متى تصل المساعدة الشهرية؟", Lang::Arabic),
            ("ሰላም፡ ናይ ወርሒ ገንዘብ መዓስ ኣሎ?", Lang::Tigrinya),
            ("Hello, when is the payment?", Lang::English),
        ];
        for (text, lang) in cases {
            assert_eq!(detect(text), Some(lang), "{text}");
        }
    }

    #[test]
    fn nothing_to_go_on_gives_none() {
        assert_eq!(detect("123 ?!"), None);
        assert_eq!(detect(""), None);
    }
}
