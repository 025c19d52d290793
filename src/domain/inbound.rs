//! What a provider's webhook carried, in the provider-neutral shape the intake stores.

use super::{Channel, ContactId, MediaRef, MessageStatus, WhatsappProfile};

/// An inbound message as a channel parsed it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewInbound {
    pub channel: Channel,
    /// The address it came from: the phone number, or the WhatsApp user id when the person
    /// hides their number.
    pub from: ContactId,
    /// What WhatsApp said about the sender besides `from` (user id, number, names): the intake
    /// files every address it names under one contact.
    #[serde(default, skip_serializing_if = "WhatsappProfile::is_empty")]
    pub profile: WhatsappProfile,
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
    /// The phone number, or the WhatsApp user id when Meta sent no number.
    pub from: ContactId,
    /// What WhatsApp said about the sender (empty for SMS).
    pub profile: WhatsappProfile,
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
