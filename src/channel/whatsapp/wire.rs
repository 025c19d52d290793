//! Meta's webhook body as typed structs (courier's `handlers/meta/whatsapp/api.go`).
//!
//! Every field is read leniently: a field of the wrong type reads as absent, and lists keep
//! their items as raw JSON so that each item is read on its own: one item we cannot read is
//! skipped with a reason and the rest of the batch is kept.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A field that is `None` when absent or of another type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lenient<T>(pub Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Ok(Lenient(T::deserialize(value).ok()))
    }
}

impl<T> Lenient<T> {
    pub fn as_ref(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

impl Lenient<String> {
    /// The string, unless absent or blank.
    pub fn non_empty(&self) -> Option<&str> {
        self.0.as_deref().filter(|s| !s.trim().is_empty())
    }
}

/// An object field: `None` when absent or not a JSON object (serde would otherwise read a
/// struct from an array, position by position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obj<T>(pub Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Obj(object(Value::deserialize(d)?)))
    }
}

impl<T> Obj<T> {
    pub fn as_ref(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

/// `value` as `T`, only if it is a JSON object.
pub fn object<T: DeserializeOwned>(value: Value) -> Option<T> {
    match value {
        Value::Object(_) => serde_json::from_value(value).ok(),
        _ => None,
    }
}

/// A field kept as it came, present even when `null` (skip reasons quote it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Raw(pub Option<Value>);

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Raw(Some(Value::deserialize(d)?)))
    }
}

/// A list whose items are read one by one.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum List {
    #[default]
    Absent,
    Items(Vec<Value>),
    /// Present but not an array.
    NotAList,
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => List::Items(items),
            _ => List::NotAList,
        })
    }
}

/// An error code, a number or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub u64);

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
            .map(Code)
            .ok_or_else(|| serde::de::Error::custom("not an error code"))
    }
}

/// `{"object": "whatsapp_business_account", "entry": [...]}`.
#[derive(Debug, Default, Deserialize)]
pub struct Notification {
    #[serde(default)]
    pub object: Raw,
    #[serde(default)]
    pub entry: List,
}

/// `entry[]`: `{"id": …, "changes": [...]}`.
#[derive(Debug, Default, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: List,
}

/// `changes[]`: `{"field": "messages", "value": {...}}`.
#[derive(Debug, Default, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: Raw,
    #[serde(default)]
    pub value: Obj<ChangeValue>,
}

/// `changes[].value`: the messages, delivery reports and account errors of one change.
#[derive(Debug, Default, Deserialize)]
pub struct ChangeValue {
    #[serde(default)]
    pub messages: List,
    #[serde(default)]
    pub statuses: List,
    #[serde(default)]
    pub errors: List,
    /// Who wrote: `wa_id` (the number, or for a username user the user id), `user_id` and
    /// `profile {name, username}`.
    #[serde(default)]
    pub contacts: List,
}

/// One `contacts[]` item.
#[derive(Debug, Default, Deserialize)]
pub struct WaContact {
    #[serde(default)]
    pub wa_id: Lenient<String>,
    #[serde(default)]
    pub user_id: Lenient<String>,
    #[serde(default)]
    pub profile: Obj<WaProfile>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaProfile {
    #[serde(default)]
    pub name: Lenient<String>,
    #[serde(default)]
    pub username: Lenient<String>,
}

/// `messages[]`.
#[derive(Debug, Default, Deserialize)]
pub struct WaMessage {
    #[serde(default)]
    pub id: Lenient<String>,
    /// The sender's WhatsApp id: the number in international form without `+`.
    #[serde(default)]
    pub from: Lenient<String>,
    /// The sender's business-scoped user id (WhatsApp usernames); `from` may then be absent or
    /// hold the user id itself.
    #[serde(default)]
    pub from_user_id: Lenient<String>,
    #[serde(default, rename = "type")]
    pub kind: Lenient<String>,
    #[serde(default)]
    pub text: Obj<WaText>,
    #[serde(default)]
    pub interactive: Obj<WaInteractive>,
    #[serde(default)]
    pub button: Obj<WaButton>,
    #[serde(default)]
    pub audio: Obj<WaMedia>,
    #[serde(default)]
    pub voice: Obj<WaMedia>,
    #[serde(default)]
    pub image: Obj<WaMedia>,
    #[serde(default)]
    pub video: Obj<WaMedia>,
    #[serde(default)]
    pub document: Obj<WaMedia>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaText {
    #[serde(default)]
    pub body: Lenient<String>,
}

/// A tapped list row or reply button.
#[derive(Debug, Default, Deserialize)]
pub struct WaInteractive {
    #[serde(default, rename = "type")]
    pub kind: Lenient<String>,
    #[serde(default)]
    pub list_reply: Obj<WaReply>,
    #[serde(default)]
    pub button_reply: Obj<WaReply>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaReply {
    #[serde(default)]
    pub id: Lenient<String>,
    #[serde(default)]
    pub title: Lenient<String>,
}

/// A template's quick-reply button.
#[derive(Debug, Default, Deserialize)]
pub struct WaButton {
    #[serde(default)]
    pub payload: Lenient<String>,
    #[serde(default)]
    pub text: Lenient<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaMedia {
    #[serde(default)]
    pub id: Lenient<String>,
    #[serde(default)]
    pub mime_type: Lenient<String>,
    #[serde(default)]
    pub caption: Lenient<String>,
}

/// `statuses[]`: a delivery report for a message we sent.
#[derive(Debug, Default, Deserialize)]
pub struct WaStatus {
    #[serde(default)]
    pub id: Lenient<String>,
    #[serde(default)]
    pub status: Raw,
    #[serde(default)]
    pub errors: List,
}

/// `errors[]` of a status or of a change.
#[derive(Debug, Default, Deserialize)]
pub struct WaError {
    #[serde(default)]
    pub code: Lenient<Code>,
    #[serde(default)]
    pub title: Lenient<String>,
    #[serde(default)]
    pub message: Lenient<String>,
}
