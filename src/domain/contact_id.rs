//! Who a person is to kabar, and how they can be reached.
//!
//! A person writes from an address: an E.164 phone number, or, on WhatsApp, a business-scoped
//! user id when they hide their number behind a username. [`ContactId`] is the address their
//! contact was first created under: it never changes, and every record about them is filed under
//! it. Addresses learnt later (the phone behind a username, or the user id of a number) are kept
//! on the contact and point to the same id, so one person keeps one history, language and ticket.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::phone::{PhoneError, PhoneNumber};

/// How a contact id that is a WhatsApp user id starts when written out (keys, CSV, API).
const WHATSAPP_PREFIX: &str = "wa:";

/// User ids of the simulator: `ZZ` is an ISO 3166 code reserved for private use, so Meta never
/// assigns it and no real WhatsApp user can have one.
pub const SIMULATOR_COUNTRY: &str = "ZZ";

/// A WhatsApp business-scoped user id (`US.13491208655302741918`): a country code, a dot and
/// letters or digits. Meta sends it for people who hide their number behind a username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WhatsappUserId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactIdError {
    #[error(transparent)]
    Phone(#[from] PhoneError),
    #[error(
        "WhatsApp user id {0:?} is not in Meta's form: two capital letters, a dot, then letters or digits (e.g. US.13491208655302741918)"
    )]
    BadUserId(String),
}

impl WhatsappUserId {
    /// The longest id accepted (Meta's ids are about 25 characters; this leaves room).
    const MAX_LEN: usize = 128;

    pub fn parse(input: &str) -> Result<WhatsappUserId, ContactIdError> {
        let id = input.trim();
        let bad = || ContactIdError::BadUserId(id.chars().take(40).collect());
        let (country, rest) = id.split_once('.').ok_or_else(bad)?;
        let country_ok = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
        let rest_ok = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric());
        if !country_ok || !rest_ok || id.len() > Self::MAX_LEN {
            return Err(bad());
        }
        Ok(WhatsappUserId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The simulator's user ids (`ZZ.…`), which no real person can have.
    pub fn is_simulated(&self) -> bool {
        self.0.starts_with(SIMULATOR_COUNTRY) && self.0.as_bytes().get(2) == Some(&b'.')
    }
}

impl fmt::Display for WhatsappUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for WhatsappUserId {
    type Error = ContactIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        WhatsappUserId::parse(&s)
    }
}

impl From<WhatsappUserId> for String {
    fn from(id: WhatsappUserId) -> String {
        id.0
    }
}

/// The id a contact is filed under: the first address they wrote from. Written out as the phone
/// number (`+6281234567890`) or as `wa:` and the WhatsApp user id (`wa:US.1234`), so data from
/// before user ids existed (phone numbers only) reads unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ContactId {
    Phone(PhoneNumber),
    Whatsapp(WhatsappUserKey),
}

/// A WhatsApp user id as a contact id: keeps the `wa:` form so it can be borrowed as one string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WhatsappUserKey {
    /// `wa:` + the user id.
    written: String,
}

impl WhatsappUserKey {
    pub fn user_id(&self) -> WhatsappUserId {
        WhatsappUserId(self.written[WHATSAPP_PREFIX.len()..].to_string())
    }
}

impl ContactId {
    /// Parses what staff or an API client typed: a phone number in any form
    /// [`PhoneNumber::parse`] takes, `wa:` and a user id, or a bare user id (`US.1234`).
    pub fn parse(input: &str) -> Result<ContactId, ContactIdError> {
        let raw = input.trim();
        if let Some(id) = raw.strip_prefix(WHATSAPP_PREFIX) {
            return Ok(ContactId::from(WhatsappUserId::parse(id)?));
        }
        if raw.bytes().any(|b| b.is_ascii_alphabetic()) && raw.contains('.') {
            return Ok(ContactId::from(WhatsappUserId::parse(raw)?));
        }
        Ok(ContactId::Phone(PhoneNumber::parse(raw)?))
    }

    /// The id as written in keys, CSV and the API.
    pub fn as_str(&self) -> &str {
        match self {
            ContactId::Phone(phone) => phone.as_str(),
            ContactId::Whatsapp(key) => &key.written,
        }
    }

    /// The phone number, when the contact is filed under one.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            ContactId::Phone(phone) => Some(phone),
            ContactId::Whatsapp(_) => None,
        }
    }

    /// The WhatsApp user id, when the contact is filed under one.
    pub fn whatsapp_user(&self) -> Option<WhatsappUserId> {
        match self {
            ContactId::Phone(_) => None,
            ContactId::Whatsapp(key) => Some(key.user_id()),
        }
    }

    /// The simulator's people (`+999…` numbers and `ZZ.…` user ids): never a real person.
    pub fn is_simulated(&self) -> bool {
        match self {
            ContactId::Phone(phone) => phone.is_simulated(),
            ContactId::Whatsapp(key) => key.user_id().is_simulated(),
        }
    }

    /// What an erased or anonymised record carries instead of the person's id.
    pub fn erased() -> ContactId {
        ContactId::Phone(PhoneNumber::erased())
    }

    /// The id with most of it hidden, for logs (`+628…90`, `wa:US.…18`).
    pub fn redacted(&self) -> String {
        match self {
            ContactId::Phone(phone) => phone.redacted(),
            ContactId::Whatsapp(key) => {
                let id = key.user_id();
                let tail: String = id.as_str().chars().rev().take(2).collect();
                let tail: String = tail.chars().rev().collect();
                format!("{WHATSAPP_PREFIX}{}…{tail}", &id.as_str()[..3])
            }
        }
    }
}

impl From<PhoneNumber> for ContactId {
    fn from(phone: PhoneNumber) -> ContactId {
        ContactId::Phone(phone)
    }
}

impl From<WhatsappUserId> for ContactId {
    fn from(id: WhatsappUserId) -> ContactId {
        ContactId::Whatsapp(WhatsappUserKey {
            written: format!("{WHATSAPP_PREFIX}{}", id.0),
        })
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for ContactId {
    type Error = ContactIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        // Stored ids are exactly as written: only `wa:` marks a user id.
        match s.strip_prefix(WHATSAPP_PREFIX) {
            Some(id) => Ok(ContactId::from(WhatsappUserId::parse(id)?)),
            None => Ok(ContactId::Phone(PhoneNumber::parse(&s)?)),
        }
    }
}

impl From<ContactId> for String {
    fn from(id: ContactId) -> String {
        match id {
            ContactId::Phone(phone) => phone.into(),
            ContactId::Whatsapp(key) => key.written,
        }
    }
}

/// What WhatsApp told us about who wrote, besides the address (`contacts[]` of the webhook).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsappProfile {
    /// The business-scoped user id, when Meta sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<WhatsappUserId>,
    /// The phone number, when Meta sent one beside the user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    /// The name the person set in WhatsApp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their WhatsApp username, without the `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl WhatsappProfile {
    /// The longest profile name or username kept (Meta allows far less; this bounds hostile input).
    pub const MAX_NAME: usize = 100;

    /// Every address this profile names, the user id first.
    pub fn addresses(&self) -> Vec<ContactId> {
        let mut out = Vec::new();
        if let Some(id) = &self.user_id {
            out.push(ContactId::from(id.clone()));
        }
        if let Some(phone) = &self.phone {
            out.push(ContactId::Phone(phone.clone()));
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self == &WhatsappProfile::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_in_meta_form_are_accepted() {
        for ok in ["US.13491208655302741918", "ID.1234", "AF.abc123"] {
            assert_eq!(WhatsappUserId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "foo_bar", "", "US.", "us.1234", "USA.1234", "US.12-34", "6281234",
        ] {
            assert!(WhatsappUserId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_round_trip_through_their_written_form() {
        for written in ["+6281234567890", "wa:US.1234"] {
            let id = ContactId::try_from(written.to_string()).unwrap();
            assert_eq!(id.as_str(), written);
            assert_eq!(String::from(id), written);
        }
        let id = ContactId::try_from("wa:US.1234".to_string()).unwrap();
        assert_eq!(id.whatsapp_user().unwrap().as_str(), "US.1234");
        assert!(id.phone().is_none());
        // A stored id is never guessed at: a bare user id without `wa:` is not one.
        assert!(ContactId::try_from("US.1234".to_string()).is_err());
    }

    #[test]
    fn staff_may_type_either_kind() {
        assert_eq!(
            ContactId::parse("0812 3456 7890").unwrap().as_str(),
            "+6281234567890"
        );
        assert_eq!(ContactId::parse("US.1234").unwrap().as_str(), "wa:US.1234");
        assert_eq!(
            ContactId::parse(" wa:US.1234 ").unwrap().as_str(),
            "wa:US.1234"
        );
        assert!(ContactId::parse("wa:nobody").is_err());
    }

    #[test]
    fn simulated_and_redacted() {
        assert!(ContactId::parse("ZZ.1").unwrap().is_simulated());
        assert!(!ContactId::parse("US.1").unwrap().is_simulated());
        assert!(ContactId::parse("+99900000001").unwrap().is_simulated());
        let id = ContactId::parse("US.13491208655302741918").unwrap();
        assert_eq!(id.redacted(), "wa:US.…18");
        assert!(!id.redacted().contains("134912"));
    }
}
