//! A voice note, image or document a person sent, as the provider names it.

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MediaRef {
    pub kind: MediaKind,
    /// The provider's media id (fetched later through its API).
    pub id: String,
    pub mime_type: Option<String>,
    /// A caption the person wrote with it, if any.
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaKind {
    Audio,
    Image,
    Video,
    Document,
}
