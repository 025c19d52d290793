//! Language quality checks over every message of every locale.

mod common;

use common::*;
use kabar::i18n::Lang;
use kabar::i18n::segments::{Encoding, count};

/// The locales, loaded once.
fn shared() -> &'static kabar::i18n::Localizer {
    static L: std::sync::OnceLock<kabar::i18n::Localizer> = std::sync::OnceLock::new();
    L.get_or_init(localizer)
}

/// Word lists matched against what people send; never sent themselves.
fn is_word_list(id: &str) -> bool {
    id.starts_with("keyword-") || id.starts_with("alert-") || id.starts_with("route-")
}

/// Rendered text of every message id in every locale, with realistic variables.
fn all_messages() -> Vec<(Lang, String, String)> {
    use fluent_bundle::FluentValue;
    let l = shared();
    let args = [
        ("city", FluentValue::from("Tanjung Pinang")),
        ("date", FluentValue::from("05/12/2026")),
        ("time", FluentValue::from("08:00")),
        // [privacy] retain_days (the default), rendered as a number like the server does.
        ("retain_days", FluentValue::from(365)),
        // Directory entries are shown as staff typed them (any script): a number here.
        ("contacts", FluentValue::from("0771-123456")),
    ];
    let mut out = Vec::new();
    for lang in Lang::ALL {
        for id in l.ids(lang) {
            let text = l.text(lang, &id, &args).expect("renders");
            out.push((lang, id, text));
        }
    }
    out
}

#[test]
fn every_locale_has_every_message() {
    let l = localizer();
    let english = l.ids(Lang::English);
    for lang in Lang::ALL {
        assert_eq!(l.ids(lang), english, "{lang}");
    }
}

#[test]
fn sms_text_has_no_bidi_isolation_marks() {
    for (lang, id, text) in all_messages() {
        assert!(
            !text.contains(['\u{2068}', '\u{2069}', '\u{2066}', '\u{2067}']),
            "{lang} {id}: FSI/PDI turn SMS into UCS-2 and show as boxes"
        );
    }
}

#[test]
fn each_locale_is_written_in_its_own_script() {
    for (lang, id, text) in all_messages() {
        let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
        if is_word_list(&id) {
            continue; // may list Latin transliterations people type
        }
        let latin_names = [
            "IOM",
            "UNHCR",
            "START",
            "STOP",
            "DELETE",
            "PRIVACY",
            "AGENT",
            "Tanjung Pinang",
        ];
        let mut stripped = text.clone();
        for n in latin_names {
            stripped = stripped.replace(n, "");
        }
        match lang {
            Lang::English | Lang::Somali => assert!(
                letters.iter().all(|c| c.is_ascii_alphabetic()),
                "{lang} {id}: {text}"
            ),
            Lang::Tigrinya => assert!(
                stripped
                    .chars()
                    .filter(|c| c.is_alphabetic())
                    .all(|c| ('\u{1200}'..='\u{137F}').contains(&c)),
                "{lang} {id}: {text}"
            ),
            Lang::Dari | Lang::Farsi => {
                assert!(
                    !text.contains(['ي', 'ى', 'ك']),
                    "{lang} {id}: Arabic letters instead of Persian ی ک: {text}"
                );
            }
            Lang::Arabic => assert!(
                !text.contains(['پ', 'چ', 'ژ', 'گ', 'ی', 'ک']),
                "{lang} {id}: Persian letters in Arabic: {text}"
            ),
        }
        if matches!(lang, Lang::Dari | Lang::Farsi | Lang::Arabic) {
            assert!(
                stripped
                    .chars()
                    .filter(|c| c.is_alphabetic())
                    .all(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                "{lang} {id}: {text}"
            );
        }
    }
}

/// The words of every sent message of `lang` (word lists excluded).
fn words(lang: Lang) -> std::collections::BTreeSet<String> {
    all_messages()
        .into_iter()
        .filter(|(l, id, _)| *l == lang && !is_word_list(id))
        .flat_map(|(_, _, text)| {
            text.split(|c: char| !c.is_alphabetic())
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn dari_is_written_as_dari() {
    let (dari, farsi) = (words(Lang::Dari), words(Lang::Farsi));
    // (Dari, Farsi) for the everyday words that differ (DESIGN §4).
    let pairs = [
        ("پیسه", "پول"),
        ("مکتب", "مدرسه"),
        ("تشکر", "ممنون"),
        ("داکتر", "دکتر"),
        ("شفاخانه", "بیمارستان"),
        ("تلفون", "تلفن"),
        ("بلی", "بله"),
    ];
    let mut used = 0;
    for (d, f) in pairs {
        assert!(
            !dari.contains(f),
            "Dari uses the Farsi word {f} (Dari: {d})"
        );
        assert!(
            !farsi.contains(d),
            "Farsi uses the Dari word {d} (Farsi: {f})"
        );
        if dari.contains(d) && farsi.contains(f) {
            used += 1;
        }
    }
    // Money, school, thanks and doctor appear in the texts, each in its own language's word.
    for (d, f) in &pairs[..4] {
        assert!(dari.contains(*d) && farsi.contains(*f), "{d} / {f}");
    }
    assert!(used >= 5, "only {used} of the differing words are in use");
}

#[test]
fn every_variable_is_filled_in_every_locale() {
    for (lang, id, text) in all_messages() {
        assert!(
            !text.contains("{$") && !text.contains("{ $"),
            "{lang} {id}: {text}"
        );
        let english = shared().text(Lang::English, &id, &[]).unwrap_or_default();
        // Unfilled, Fluent shows `{$city}`: the English text uses the city.
        if english.contains("{$city}") {
            assert!(
                text.contains("Tanjung Pinang"),
                "{lang} {id} lost $city: {text}"
            );
        }
    }
}

/// Arabic has six plural forms; any message choosing by a number must give all of them.
#[test]
fn arabic_plural_selectors_have_all_six_forms() {
    let dir = manifest_dir().join("locales/ar");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let resource = fluent_syntax::parser::parse(source.as_str()).unwrap_or_else(|(r, _)| r);
        for entry in resource.body {
            let fluent_syntax::ast::Entry::Message(m) = entry else {
                continue;
            };
            let Some(value) = m.value else { continue };
            for element in value.elements {
                if let fluent_syntax::ast::PatternElement::Placeable {
                    expression: fluent_syntax::ast::Expression::Select { variants, .. },
                } = element
                {
                    let keys: Vec<String> = variants
                        .iter()
                        .map(|v| match &v.key {
                            fluent_syntax::ast::VariantKey::Identifier { name } => name.to_string(),
                            fluent_syntax::ast::VariantKey::NumberLiteral { value } => {
                                value.to_string()
                            }
                        })
                        .collect();
                    // A selector on a word (e.g. the day in after-hours) is not a plural.
                    let plural_forms = ["zero", "one", "two", "few", "many"];
                    if !keys.iter().any(|k| plural_forms.contains(&k.as_str())) {
                        continue;
                    }
                    for form in ["zero", "one", "two", "few", "many", "other"] {
                        assert!(
                            keys.iter().any(|k| k == form),
                            "{}: {} lacks the plural form {form}",
                            path.display(),
                            m.id.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn flow_messages_fit_in_two_sms_segments() {
    for (lang, id, text) in all_messages() {
        if is_word_list(&id) {
            continue;
        }
        let s = count(&text);
        if matches!(lang, Lang::English | Lang::Somali) {
            assert_eq!(
                s.encoding,
                Encoding::Gsm7,
                "{lang} {id} must stay GSM-7: {text}"
            );
        }
        assert!(
            s.segments <= 2,
            "{lang} {id}: {} segments: {text}",
            s.segments
        );
    }
}

/// Menus as sent (header and numbered options) fit in two SMS segments in every locale: the
/// main menu is the most-sent SMS, so a third segment would cost on nearly every conversation.
/// No menu is allowed a third segment any more (the review of 2026-12-01 §0.5 found fa-AF, fa
/// and ar main menus at three; dropping the "Main menu." header brought them to two).
#[test]
fn rendered_menus_fit_in_two_segments() {
    use kabar::flow::Reply;
    use kabar::flow::model::Node;
    use kabar::flow::render::render_text;
    let l = localizer();
    let flows = kabar::flow::load::load(&manifest_dir().join("flows"), &l).unwrap();
    let mut checked = 0;
    for lang in Lang::ALL {
        let mut menus: Vec<(String, Reply)> = vec![(
            "language".into(),
            Reply::LanguageMenu {
                order: Lang::ALL.to_vec(),
            },
        )];
        for (flow_id, flow) in &flows.flows {
            for (node_id, node) in &flow.nodes {
                if let Node::Menu { say, options, .. } = node {
                    menus.push((
                        format!("{flow_id}.{node_id}"),
                        Reply::Menu {
                            header: say.clone(),
                            options: options.iter().map(|o| o.label.clone()).collect(),
                        },
                    ));
                }
            }
        }
        for (name, reply) in menus {
            let text = render_text(&l, lang, &reply);
            let s = count(&text);
            assert!(
                s.segments <= 2,
                "{lang} {name}: {} segments; shorten the header or a label:\n{text}",
                s.segments
            );
            checked += 1;
        }
    }
    assert!(checked >= 6 * 10, "only {checked} menus checked");
}

#[test]
fn plain_messages_keep_ascii_digits_and_no_smart_quotes_in_gsm_locales() {
    for (lang, id, text) in all_messages() {
        if is_word_list(&id) || !matches!(lang, Lang::English | Lang::Somali) {
            continue;
        }
        assert!(
            !text.contains([
                '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2013}', '\u{2014}'
            ]),
            "{lang} {id}: smart punctuation turns the SMS into UCS-2: {text}"
        );
    }
}

/// WhatsApp cuts list-row titles at 24 characters, so a menu sent as a list would show a broken
/// label (or, with our limits check, fall back to plain text). Every label a menu uses as a row,
/// every `*-menu-*` message and every language name must fit in 24 characters, in every locale.
#[test]
fn list_row_labels_fit_whatsapps_24_characters() {
    use kabar::flow::model::Node;
    const WHATSAPP_ROW_TITLE: usize = 24;
    let l = localizer();
    let flows = kabar::flow::load::load(&manifest_dir().join("flows"), &l).unwrap();
    let mut labels = std::collections::BTreeSet::from(["language-name".to_string()]);
    for flow in flows.flows.values() {
        for node in flow.nodes.values() {
            if let Node::Menu { options, .. } = node {
                labels.extend(options.iter().map(|o| o.label.clone()));
            }
        }
    }
    labels.extend(
        l.ids(Lang::English)
            .into_iter()
            .filter(|id| id.contains("-menu-")),
    );
    assert!(labels.len() > 25, "only {} labels found", labels.len());
    let mut too_long = Vec::new();
    for lang in Lang::ALL {
        for id in &labels {
            let text = l.text(lang, id, &[]).expect("label exists");
            let chars = text.chars().count();
            if chars > WHATSAPP_ROW_TITLE {
                too_long.push(format!("{lang} {id}: {chars} characters: {text}"));
            }
        }
    }
    assert!(too_long.is_empty(), "{}", too_long.join("\n"));
}
