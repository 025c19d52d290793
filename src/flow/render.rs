//! Turns engine replies (message ids) into text for plain-text channels (SMS, simulator).

use fluent_bundle::FluentValue;

use super::engine::Reply;
use crate::i18n::{Lang, Localizer};

/// Renders `reply` in `lang` as one plain-text message.
pub fn render_text(localizer: &Localizer, lang: Lang, reply: &Reply) -> String {
    match reply {
        Reply::Text { id, args } => {
            let args: Vec<(&str, FluentValue<'_>)> = args
                .iter()
                .map(|(k, v)| (k.as_str(), FluentValue::from(v.as_str())))
                .collect();
            localizer.render(lang, id, &args)
        }
        Reply::Menu { header, options } => numbered(
            localizer.render(lang, header, &[]),
            options.iter().map(|o| localizer.render(lang, o, &[])),
        ),
        Reply::Choices { header, items } => {
            numbered(localizer.render(lang, header, &[]), items.iter().cloned())
        }
        Reply::LanguageMenu { order } => numbered(
            localizer.render(lang, "language-menu", &[]),
            // Each language named in its own words, so a person finds theirs whatever the header.
            order
                .iter()
                .map(|l| localizer.render(*l, "language-name", &[])),
        ),
    }
}

fn numbered(header: String, options: impl Iterator<Item = String>) -> String {
    let mut text = header;
    for (i, option) in options.enumerate() {
        text.push('\n');
        text.push_str(&format!("{}. {option}", i + 1));
    }
    text
}
