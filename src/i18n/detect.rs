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
    if arabic_script >= latin {
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
    if count(SOMALI_WORDS) > 0 || looks_somali(&folded) {
        return Some(Lang::Somali);
    }
    Some(Lang::English)
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
            .any(|w| w.starts_with("ال") || *w == "في" || *w == "هل")
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
