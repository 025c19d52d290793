//! Input normalisation: what a person typed, folded so that keywords and numbers match
//! whatever keyboard they used. The original text is always kept for humans.

pub use crate::domain::digits::fold_digit;

fn is_harakat_or_tatweel(c: char) -> bool {
    matches!(c, '\u{0640}' | '\u{064B}'..='\u{0652}' | '\u{0670}')
}

/// Folds Arabic letter variants to their Persian forms (ي ى → ی, ك → ک) so that either keyboard
/// matches, alef with hamza or madda to bare alef (people often type it bare), the other hamza
/// forms to their bare letters (ئ → ی, ؤ → و, ء dropped), final ة and ۀ to ه (phones without
/// the letter, and people in a hurry, type ه), and strips tatweel and harakat.
fn fold_letter(c: char) -> Option<char> {
    if is_harakat_or_tatweel(c) || c == 'ء' {
        return None;
    }
    Some(match c {
        '\u{064A}' | '\u{0649}' | 'ئ' => '\u{06CC}',
        '\u{0643}' => '\u{06A9}',
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ؤ' => 'و',
        'ة' | 'ۀ' => 'ه',
        _ => c,
    })
}

/// The Persian verb prefixes people write joined to the verb, spaced, or with a ZWNJ
/// («میزنه», «می زنه», «می‌زنه»): normalised text always has them joined.
const JOINED_PREFIXES: [&str; 2] = ["می", "نمی"];

fn join_verb_prefixes(text: String) -> String {
    if !text.contains("می ") {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut words = text.split(' ').peekable();
    while let Some(word) = words.next() {
        out.push_str(word);
        let joins = JOINED_PREFIXES.contains(&word) && words.peek().is_some();
        if !joins && words.peek().is_some() {
            out.push(' ');
        }
    }
    out
}

/// Normalises a message for matching: digits to ASCII, letters folded, lower case, whitespace
/// collapsed, surrounding punctuation and symbols removed. ZWNJ is treated as a space, and the
/// Persian prefixes «می»/«نمی» are joined to the word they precede.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        let c = match fold_digit(c) {
            Some(d) => d,
            None => match fold_letter(c) {
                Some(l) => l,
                None => continue,
            },
        };
        if c.is_whitespace() || c == '\u{200C}' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    join_verb_prefixes(out.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
}

/// The number a person sent, if the whole message (after normalisation) is a number.
pub fn parse_number(text: &str) -> Option<u32> {
    let n = normalize(text);
    if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_every_script_become_ascii() {
        assert_eq!(normalize("٣"), "3");
        assert_eq!(normalize("۴۵"), "45");
        assert_eq!(normalize("፩"), "1");
        assert_eq!(normalize("፱"), "9");
        assert_eq!(parse_number(" ۲. "), Some(2));
        assert_eq!(parse_number("١٢٣٤"), Some(1234));
        assert_eq!(parse_number("12a"), None);
        assert_eq!(parse_number(""), None);
    }

    #[test]
    fn arabic_and_persian_letters_fold_both_ways() {
        // كمك typed on an Arabic keyboard matches کمک typed on a Persian one.
        assert_eq!(normalize("كمك"), normalize("کمک"));
        assert_eq!(normalize("زبان ي"), normalize("زبان ی"));
        assert_eq!(normalize("موسى"), "موسی");
        assert_eq!(normalize("ابدأ"), normalize("ابدا"));
        // tatweel and harakat are stripped
        assert_eq!(normalize("مـنـو"), "منو");
        assert_eq!(normalize("مَنُو"), "منو");
    }

    #[test]
    fn case_spaces_and_surrounding_punctuation_are_ignored() {
        assert_eq!(normalize("  MENU!! "), "menu");
        assert_eq!(normalize("«منو»"), "منو");
        assert_eq!(normalize("main   menu."), "main menu");
        assert_eq!(normalize("?!"), "");
    }

    #[test]
    fn persian_verb_prefixes_join_however_they_were_typed() {
        assert_eq!(normalize("می\u{200C}خواهم"), "میخواهم");
        assert_eq!(normalize("می خواهم"), "میخواهم");
        assert_eq!(normalize("او نمی زند"), "او نمیزند");
        assert_eq!(normalize("مرا میزنه"), "مرا میزنه");
        // «می» at the very end has nothing to join
        assert_eq!(normalize("تو می"), "تو می");
    }

    #[test]
    fn hamza_forms_and_final_ta_marbuta_fold() {
        assert_eq!(normalize("القائمة"), normalize("القايمه"));
        assert_eq!(normalize("مسئول"), normalize("مسیول"));
        assert_eq!(normalize("مؤتمر"), "موتمر");
        assert_eq!(normalize("شيء"), normalize("شی"));
    }
}
