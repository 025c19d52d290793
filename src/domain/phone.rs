//! Phone numbers in E.164, parsed once at the edge (parse, don't validate).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::digits::fold_digit;

/// The reserved range of simulator numbers (see [`PhoneNumber::is_simulated`]).
pub const SIMULATOR_PREFIX: &str = "+999";

/// The number anonymised tickets carry (see [`PhoneNumber::erased`]).
const ERASED: &str = "+999000000000000";

/// A phone number in E.164 form: `+` and 8 to 15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error(
        "phone number {0:?} has characters other than digits, spaces, dashes, dots and brackets"
    )]
    BadCharacter(String),
    #[error(
        "phone number {0:?} is not in international form: write +<country><number>, e.g. +6281234567890"
    )]
    NotInternational(String),
    #[error("phone number {0:?} has {1} digits; E.164 numbers have 8 to 15")]
    BadLength(String, usize),
}

impl PhoneNumber {
    /// Parses international forms (`+62 812-3456-7890`, `0062…`) and Indonesian national forms
    /// (`0812…` → `+62812…`). Digits of any script are accepted.
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits = String::with_capacity(raw.len());
        let mut plus = false;
        for (i, c) in raw.chars().enumerate() {
            if let Some(d) = fold_digit(c) {
                digits.push(d);
            } else if c == '+' && i == 0 {
                plus = true;
            } else if !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{00A0}') {
                return Err(PhoneError::BadCharacter(raw.to_string()));
            }
        }
        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else if let Some(rest) = digits.strip_prefix('0') {
            // Indonesian national number: the country code is 62.
            format!("62{rest}")
        } else if digits.starts_with("62") && digits.len() >= 10 {
            digits
        } else {
            return Err(PhoneError::NotInternational(raw.to_string()));
        };
        if international.starts_with('0') {
            return Err(PhoneError::NotInternational(raw.to_string()));
        }
        if !(8..=15).contains(&international.len()) {
            return Err(PhoneError::BadLength(raw.to_string(), international.len()));
        }
        Ok(PhoneNumber(format!("+{international}")))
    }

    /// Numbers of the web phone simulator: `+999…`, a country code the ITU has not assigned, so
    /// no real channel can ever deliver a message from one. The simulator accepts only these and
    /// real channels never carry them, so simulated conversations never touch a real person.
    pub fn is_simulated(&self) -> bool {
        self.0.starts_with(SIMULATOR_PREFIX)
    }

    /// What an erased or anonymised ticket shows instead of the person's number: in the
    /// reserved range, and refused by the simulator, so it never reaches anyone.
    pub fn erased() -> PhoneNumber {
        PhoneNumber(ERASED.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with most digits hidden, for logs (`+62812…90`).
    pub fn redacted(&self) -> String {
        let keep_end: String = self
            .0
            .chars()
            .rev()
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{}…{keep_end}", &self.0[..self.0.len().min(4)])
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_international_and_indonesian_forms() {
        for (input, want) in [
            ("+6281234567890", "+6281234567890"),
            ("+62 812-3456-7890", "+6281234567890"),
            ("081234567890", "+6281234567890"),
            ("006281234567890", "+6281234567890"),
            ("6281234567890", "+6281234567890"),
            ("+93 70 123 4567", "+93701234567"),
            ("۰۸۱۲۳۴۵۶۷۸۹۰", "+6281234567890"),
        ] {
            assert_eq!(
                PhoneNumber::parse(input).map(|p| p.0),
                Ok(want.into()),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        for input in [
            "",
            "abc",
            "+0123456789",
            "+12",
            "+1234567890123456",
            "12345",
            "+62 81x",
        ] {
            assert!(PhoneNumber::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn only_the_reserved_range_is_simulated() {
        assert!(PhoneNumber::parse("+99900000001").unwrap().is_simulated());
        assert!(
            PhoneNumber::parse("00999 1234 5678")
                .unwrap()
                .is_simulated()
        );
        for real in [
            "+6281234567890",
            "+9647701234567",
            "+99812345678",
            "+9989999999",
        ] {
            assert!(!PhoneNumber::parse(real).unwrap().is_simulated(), "{real}");
        }
    }

    #[test]
    fn redaction_hides_the_middle() {
        let p = PhoneNumber::parse("+6281234567890").unwrap();
        assert_eq!(p.redacted(), "+628…90");
    }
}
