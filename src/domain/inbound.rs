//! What a provider's webhook carried, in the provider-neutral shape the intake stores.

use super::{Channel, MediaRef, MessageStatus, PhoneNumber};

/// An inbound message as a channel parsed it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewInbound {
    pub channel: Channel,
    pub from: PhoneNumber,
    pub text: String,
    /// The provider's id, used to drop retries of the same message.
    pub external_id: String,
    /// A voice note, image or document to fetch for interpreters.
    pub media: Option<MediaRef>,
    /// A kind of message we cannot read (location, sticker…).
    pub unsupported: Option<String>,
}

/// What a provider webhook carried: messages and delivery reports, in payload order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEvent {
    Message(InboundMessage),
    Status(StatusReport),
}

/// One message from a person, as the provider described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub from: PhoneNumber,
    /// The provider's id (wamid…, messageId): dedupe key.
    pub external_id: String,
    /// What the person typed, or the id of the list row / button they tapped.
    pub text: String,
    pub kind: InboundKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundKind {
    Text,
    /// A tapped list row or button: `text` holds its id (the menu number we gave it).
    Choice,
    /// A voice note, image, document… to fetch by id for interpreters.
    Media(MediaRef),
    /// Location, contacts, stickers, reactions…: answered with a friendly message.
    Unsupported(String),
}

/// A delivery report for a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// The provider's id of our message.
    pub external_id: String,
    pub status: MessageStatus,
    pub error: Option<String>,
}
