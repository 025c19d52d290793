//! The six languages kabar speaks, with the tags and aliases people and providers use.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language kabar has texts for. The tag is the folder name under `locales/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lang {
    #[serde(rename = "fa-AF")]
    Dari,
    #[serde(rename = "fa")]
    Farsi,
    #[serde(rename = "so")]
    Somali,
    #[serde(rename = "ar")]
    Arabic,
    #[serde(rename = "ti")]
    Tigrinya,
    #[serde(rename = "en")]
    English,
}

impl Lang {
    /// All languages in the order of the language menu when nothing was detected.
    pub const ALL: [Lang; 6] = [
        Lang::Dari,
        Lang::Farsi,
        Lang::Somali,
        Lang::Arabic,
        Lang::Tigrinya,
        Lang::English,
    ];

    /// The canonical BCP 47 tag, also the locale folder name.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Dari => "fa-AF",
            Lang::Farsi => "fa",
            Lang::Somali => "so",
            Lang::Arabic => "ar",
            Lang::Tigrinya => "ti",
            Lang::English => "en",
        }
    }

    /// The language's name in English, for staff pages and alerts.
    pub fn english_name(self) -> &'static str {
        match self {
            Lang::Dari => "Dari",
            Lang::Farsi => "Farsi",
            Lang::Somali => "Somali",
            Lang::Arabic => "Arabic",
            Lang::Tigrinya => "Tigrinya",
            Lang::English => "English",
        }
    }

    /// Accepts the canonical tags and the aliases from DESIGN §4 (`prs`, `prs-AF`, `fa-IR`,
    /// `ti-ER`), case-insensitively and with `_` for `-`.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
        Some(match tag.as_str() {
            "fa-af" | "prs" | "prs-af" => Lang::Dari,
            "fa" | "fa-ir" => Lang::Farsi,
            "so" | "so-so" => Lang::Somali,
            "ar" => Lang::Arabic,
            "ti" | "ti-er" | "ti-et" => Lang::Tigrinya,
            "en" | "en-us" | "en-gb" => Lang::English,
            _ => return None,
        })
    }

    /// Arabic-script languages are written right to left.
    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Dari | Lang::Farsi | Lang::Arabic)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown language {0:?}: use one of en, fa-AF (prs), fa (fa-IR), so, ar, ti (ti-ER)")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::parse(s).ok_or_else(|| UnknownLang(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_the_canonical_language() {
        for (alias, lang) in [
            ("prs", Lang::Dari),
            ("prs-AF", Lang::Dari),
            ("fa_AF", Lang::Dari),
            ("fa-IR", Lang::Farsi),
            ("ti-ER", Lang::Tigrinya),
            ("EN", Lang::English),
        ] {
            assert_eq!(Lang::parse(alias), Some(lang), "{alias}");
        }
        assert_eq!(Lang::parse("am"), None);
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.tag()), Some(lang));
        }
    }
}
