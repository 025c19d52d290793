//! Turns engine replies (message ids) into text for plain-text channels (SMS, simulator).

use super::engine::Reply;
use crate::i18n::{Lang, Localizer};

/// Renders `reply` in `lang` as one plain-text message.
pub fn render_text(localizer: &Localizer, lang: Lang, reply: &Reply) -> String {
    match reply {
        Reply::Text { id } => localizer.render(lang, id, &[]),
        Reply::Menu { header, options } => numbered(
            localizer.render(lang, header, &[]),
            options.iter().map(|o| localizer.render(lang, o, &[])),
        ),
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
