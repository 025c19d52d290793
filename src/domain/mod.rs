//! The records kabar keeps. How they are encoded and keyed is the store's business.

use serde::{Deserialize, Serialize};

pub mod clock;
pub mod contact_field;
pub mod contact_id;
pub mod digits;
pub mod inbound;
pub mod lang;
pub mod media;
pub mod phone;
pub mod quiet_hours;

pub use contact_field::ContactField;
pub use contact_id::{ContactId, WhatsappProfile, WhatsappUserId};
pub use lang::Lang;
pub use media::{MediaKind, MediaRef};
pub use phone::PhoneNumber;

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The route a message took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// SMS through Twilio.
    TwilioSms,
    /// WhatsApp through Twilio (`whatsapp:+…` addresses).
    TwilioWhatsapp,
    /// The web phone simulator.
    Simulator,
    /// Meta WhatsApp Cloud API.
    Whatsapp,
    /// SMS through an Android phone (capcom6/android-sms-gateway).
    Gateway,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::TwilioSms,
        Channel::TwilioWhatsapp,
        Channel::Simulator,
        Channel::Whatsapp,
        Channel::Gateway,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Channel::TwilioSms => "twilio-sms",
            Channel::TwilioWhatsapp => "twilio-whatsapp",
            Channel::Simulator => "simulator",
            Channel::Whatsapp => "whatsapp",
            Channel::Gateway => "gateway",
        }
    }

    /// Whether it can reach someone known only by a WhatsApp user id (every other channel
    /// needs a phone number).
    pub fn reaches_user_ids(self) -> bool {
        matches!(self, Channel::Whatsapp | Channel::Simulator)
    }

    /// WhatsApp allows free-form messages only within 24 hours of the person's last message.
    pub fn has_session_window(self) -> bool {
        matches!(self, Channel::Whatsapp | Channel::TwilioWhatsapp)
    }
}

/// How long after a person's last message WhatsApp accepts free-form messages.
pub const WHATSAPP_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;

/// A numbered menu as a WhatsApp list: body, button label, rows (id = the number to send).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Interactive {
    pub body: String,
    pub button: String,
    pub rows: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contact {
    /// The address the contact was first created under (see [`ContactId`]); every record about
    /// the person is filed under it. Data from before user ids called it `phone`.
    #[serde(alias = "phone")]
    pub id: ContactId,
    pub language: Option<Lang>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub case_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Asked not to receive notices (STOP), or the provider reported the number opted out.
    #[serde(default)]
    pub opted_out: bool,
    /// When the person agreed to the privacy notice.
    #[serde(default)]
    pub consent_at: Option<Millis>,
    pub created_at: Millis,
    pub last_inbound_at: Option<Millis>,
    /// The person's last WhatsApp message: free-form WhatsApp replies are allowed for 24 hours
    /// after it.
    #[serde(default)]
    pub last_whatsapp_at: Option<Millis>,
    /// Replies go back on the channel the person last used.
    pub last_channel: Option<Channel>,
    /// Staff labels from the contacts CSV (`parents;batam-school`), for broadcast audiences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The phone number learnt after the contact was created under a WhatsApp user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_phone: Option<PhoneNumber>,
    /// The WhatsApp user id learnt for a contact created under a phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_whatsapp_user: Option<WhatsappUserId>,
    /// The name the person set in WhatsApp (shown when there is no phone number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_name: Option<String>,
    /// The person's WhatsApp username, without `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl Contact {
    /// Which of the contacts a message's addresses lead to it is filed under: the one created
    /// first (two contacts turn out to be one person when they wrote by number and,
    /// separately, with a WhatsApp username only; the other keeps its past history). With
    /// none, a new contact under `from`.
    pub fn filed_under(
        mut owners: Vec<(ContactId, Option<Contact>)>,
        from: &ContactId,
    ) -> (ContactId, Option<Contact>) {
        if owners.len() > 1 {
            tracing::warn!(
                contacts = owners.len(),
                "one person had two contacts: their addresses now lead to the older one"
            );
            owners.sort_by_key(|(_, c)| c.as_ref().map_or(Millis::MAX, |c| c.created_at));
        }
        owners
            .into_iter()
            .next()
            .unwrap_or_else(|| (from.clone(), None))
    }

    pub fn new(id: ContactId, now: Millis) -> Contact {
        Contact {
            id,
            language: None,
            city: None,
            case_id: None,
            name: None,
            opted_out: false,
            consent_at: None,
            created_at: now,
            last_inbound_at: None,
            last_whatsapp_at: None,
            last_channel: None,
            tags: Vec::new(),
            linked_phone: None,
            linked_whatsapp_user: None,
            whatsapp_name: None,
            username: None,
        }
    }

    /// The person's phone number, if kabar knows one: only then can SMS reach them.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        self.id.phone().or(self.linked_phone.as_ref())
    }

    /// The person's WhatsApp user id, if they wrote with one.
    pub fn whatsapp_user(&self) -> Option<WhatsappUserId> {
        self.id
            .whatsapp_user()
            .or_else(|| self.linked_whatsapp_user.clone())
    }

    /// Every address that reaches this person, the id first.
    pub fn addresses(&self) -> Vec<ContactId> {
        let mut out = vec![self.id.clone()];
        if let Some(phone) = &self.linked_phone {
            out.push(ContactId::Phone(phone.clone()));
        }
        if let Some(user) = &self.linked_whatsapp_user {
            out.push(ContactId::from(user.clone()));
        }
        out
    }

    /// What staff see for the person: the phone number, or for someone who hides it behind a
    /// WhatsApp username, `@username` or their WhatsApp name.
    pub fn label(&self) -> String {
        if let Some(phone) = self.phone() {
            return phone.to_string();
        }
        if let Some(username) = &self.username {
            return format!("@{username}");
        }
        if let Some(name) = &self.whatsapp_name {
            return name.clone();
        }
        match self.whatsapp_user() {
            Some(id) => format!("WhatsApp {id}"),
            None => self.id.to_string(),
        }
    }

    /// Takes in what WhatsApp said about the person: names, and the addresses not known yet
    /// (the store files those under this contact's id itself).
    pub fn learn(&mut self, profile: &WhatsappProfile) {
        if let Some(user) = &profile.user_id
            && self.whatsapp_user().is_none()
        {
            self.linked_whatsapp_user = Some(user.clone());
        }
        if let Some(phone) = &profile.phone
            && self.phone().is_none()
        {
            self.linked_phone = Some(phone.clone());
        }
        if profile.name.is_some() {
            self.whatsapp_name.clone_from(&profile.name);
        }
        if profile.username.is_some() {
            self.username.clone_from(&profile.username);
        }
    }

    /// Whether `other` has the same addresses and WhatsApp names.
    pub fn same_addresses(&self, other: &Contact) -> bool {
        self.linked_phone == other.linked_phone
            && self.linked_whatsapp_user == other.linked_whatsapp_user
            && self.whatsapp_name == other.whatsapp_name
            && self.username == other.username
    }

    /// Takes the addresses and WhatsApp names from `other` (a newer copy of this contact).
    pub fn take_addresses(&mut self, other: &Contact) {
        self.linked_phone.clone_from(&other.linked_phone);
        self.linked_whatsapp_user
            .clone_from(&other.linked_whatsapp_user);
        self.whatsapp_name.clone_from(&other.whatsapp_name);
        self.username.clone_from(&other.username);
    }

    /// Whether `needle` (what staff typed in a search box) names this person: any part of their
    /// phone number, user id, username or WhatsApp name.
    pub fn matches(&self, needle: &str) -> bool {
        let needle = needle.trim().trim_start_matches('@').to_lowercase();
        if needle.is_empty() {
            return false;
        }
        let digits: String = needle.chars().filter(|c| c.is_ascii_digit()).collect();
        let phone_hit = |p: &PhoneNumber| digits.len() >= 3 && p.as_str().contains(&digits);
        self.phone().is_some_and(phone_hit)
            || self
                .whatsapp_user()
                .is_some_and(|u| u.as_str().to_lowercase().contains(&needle))
            || [&self.username, &self.whatsapp_name, &self.name]
                .into_iter()
                .flatten()
                .any(|v| v.to_lowercase().contains(&needle))
    }

    pub fn set_field(&mut self, field: ContactField, value: String, now: Millis) {
        let slot = match field {
            ContactField::City => &mut self.city,
            ContactField::CaseId => &mut self.case_id,
            ContactField::Name => &mut self.name,
            ContactField::Consent => {
                self.consent_at.get_or_insert(now);
                return;
            }
        };
        *slot = Some(value).filter(|v| !v.is_empty());
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    In,
    Out,
}

/// Delivery status of a message. Inbound messages are `Received`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageStatus {
    Received,
    /// In the outbox, not yet accepted by the provider.
    Queued,
    /// Accepted by the provider.
    Accepted,
    Sent,
    Delivered,
    Read,
    Undelivered,
    Failed,
}

impl MessageStatus {
    pub fn name(self) -> &'static str {
        match self {
            MessageStatus::Received => "received",
            MessageStatus::Queued => "queued",
            MessageStatus::Accepted => "accepted",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Undelivered => "undelivered",
            MessageStatus::Failed => "failed",
        }
    }

    /// How far along delivery is; a late callback never moves a status backwards.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Received | MessageStatus::Queued => 0,
            MessageStatus::Accepted => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Delivered | MessageStatus::Undelivered | MessageStatus::Failed => 3,
            MessageStatus::Read => 4,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum Author {
    /// The person texting us.
    Contact,
    /// The flows.
    Bot,
    /// A staff member or interpreter, by user name.
    User(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: u64,
    /// The contact it belongs to (`phone` in data from before user ids).
    #[serde(alias = "phone")]
    pub contact: ContactId,
    pub direction: Direction,
    pub channel: Channel,
    pub author: Author,
    pub text: String,
    /// The provider's id (Twilio MessageSid, …) once known.
    pub external_id: Option<String>,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// A voice note, image or document the person sent (WhatsApp).
    #[serde(default)]
    pub media: Option<MediaRef>,
    /// Where the fetched media file is, under the data folder.
    #[serde(default)]
    pub media_file: Option<String>,
    /// A kind of message we cannot read (location, sticker…), by its provider name.
    #[serde(default)]
    pub unsupported: Option<String>,
    /// The staff broadcast this message belongs to (shown as such in the history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<u64>,
}

/// A message waiting to be accepted by its provider.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutboxItem {
    pub message_id: u64,
    pub channel: Channel,
    /// The contact it goes to: per-contact order follows it; WhatsApp sends to it (`to` for a
    /// number, `recipient` for a user id).
    pub to: ContactId,
    pub text: String,
    pub attempts: u32,
    pub next_attempt_at: Millis,
    pub last_error: Option<String>,
    /// The menu as a WhatsApp list, when the reply is one (`text` is the plain version).
    #[serde(default)]
    pub interactive: Option<Interactive>,
    /// The contact's language, for the template used outside the WhatsApp window.
    #[serde(default)]
    pub language: Option<Lang>,
    /// Why the message waits for staff instead of being sent (e.g. outside the WhatsApp
    /// window with no template and no SMS route). Held messages are not retried by themselves.
    #[serde(default)]
    pub held: Option<String>,
    /// Interactive replies go before bulk (broadcast) messages for every provider's send slot.
    #[serde(default, skip_serializing_if = "Lane::is_interactive")]
    pub lane: Lane,
    /// The staff broadcast it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<u64>,
    /// The contact's phone number when `to` is a WhatsApp user id and a number is known: SMS
    /// goes there. Without one, an SMS-only send is held, never guessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_phone: Option<PhoneNumber>,
}

impl OutboxItem {
    /// Where SMS for this item goes, if anywhere.
    pub fn sms_number(&self) -> Option<&PhoneNumber> {
        self.to.phone().or(self.sms_phone.as_ref())
    }
}

/// Which queue an outbox item waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lane {
    /// Replies to people who wrote and interpreters' answers: sent first.
    #[default]
    Interactive,
    /// Broadcasts: only with the send capacity interactive traffic leaves.
    Bulk,
}

impl Lane {
    pub fn is_interactive(&self) -> bool {
        *self == Lane::Interactive
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ticket {
    pub id: u64,
    /// The person it is about (`phone` in data from before user ids).
    #[serde(alias = "phone")]
    pub contact: ContactId,
    pub language: Lang,
    pub topic: String,
    pub status: TicketStatus,
    pub opened_at: Millis,
    /// Since when the person has been waiting for a human answer.
    pub waiting_since: Option<Millis>,
    /// The conversation: messages before the escalation and every one after it.
    pub message_ids: Vec<u64>,
    /// Protection cases: shown first, to supervisors.
    #[serde(default)]
    pub urgent: bool,
    /// Answers the flow collected (case number, child's age, …).
    #[serde(default)]
    pub details: std::collections::BTreeMap<String, String>,
    /// Further requests made while the ticket was open (e.g. data deletion).
    #[serde(default)]
    pub also: Vec<String>,
    /// The interpreter handling it.
    #[serde(default)]
    pub claimed_by: Option<String>,
    #[serde(default)]
    pub claimed_at: Option<Millis>,
    /// When a person first answered (for first-response figures).
    #[serde(default)]
    pub first_response_at: Option<Millis>,
    #[serde(default)]
    pub closed_at: Option<Millis>,
    /// Private notes for colleagues; never sent.
    #[serde(default)]
    pub notes: Vec<Note>,
}

impl Ticket {
    /// Urgent first, then the longest waiting.
    pub fn queue_order(&self) -> (bool, Millis, u64) {
        (
            !self.urgent,
            self.waiting_since.unwrap_or(Millis::MAX),
            self.id,
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Note {
    pub at: Millis,
    pub author: String,
    pub text: String,
}

/// Who did what to which ticket, when: the audit trail admins read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Millis,
    pub user: String,
    pub action: String,
    pub ticket: Option<u64>,
    pub detail: String,
}

/// A prepared answer interpreters can insert, per language.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CannedReply {
    pub id: u64,
    pub language: Lang,
    pub title: String,
    pub text: String,
}

/// One city's next payment, as staff import it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// As staff typed it ("Makassar"); matched to a person's city without regard to case.
    pub city: String,
    pub kind: DirectoryKind,
    pub name: String,
    /// Shown as typed (a hotline may be "129" or "+62 21 …").
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub hours: Option<String>,
    pub updated_at: Millis,
}

impl DirectoryEntry {
    /// One line for people, exactly as staff wrote the parts: "UNHCR Makassar 0411-123, Jl. X 1 (Mon-Fri 8-16)".
    pub fn line(&self) -> String {
        let mut line = self.name.clone();
        if let Some(phone) = &self.phone {
            line.push(' ');
            line.push_str(phone);
        }
        if let Some(address) = &self.address {
            line.push_str(", ");
            line.push_str(address);
        }
        if let Some(hours) = &self.hours {
            line.push_str(" (");
            line.push_str(hours);
            line.push(')');
        }
        line
    }
}

/// What a directory entry is for; the flows show the kind the person asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirectoryKind {
    /// UNHCR office or hotline.
    Unhcr,
    Iom,
    Clinic,
    Legal,
    Police,
}

impl DirectoryKind {
    pub const ALL: [DirectoryKind; 5] = [
        DirectoryKind::Unhcr,
        DirectoryKind::Iom,
        DirectoryKind::Clinic,
        DirectoryKind::Legal,
        DirectoryKind::Police,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DirectoryKind::Unhcr => "unhcr",
            DirectoryKind::Iom => "iom",
            DirectoryKind::Clinic => "clinic",
            DirectoryKind::Legal => "legal",
            DirectoryKind::Police => "police",
        }
    }

    pub fn parse(text: &str) -> Option<DirectoryKind> {
        let text = text.trim().to_ascii_lowercase();
        DirectoryKind::ALL.into_iter().find(|k| k.name() == text)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PaymentEntry {
    pub city: String,
    pub next_payment_date: chrono::NaiveDate,
    /// For staff (shown in the API, not sent to people: it is written in one language).
    #[serde(default)]
    pub note: Option<String>,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Interpreter,
    Supervisor,
    Staff,
    Admin,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "interpreter" => Ok(Role::Interpreter),
            "supervisor" => Ok(Role::Supervisor),
            "staff" => Ok(Role::Staff),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: use interpreter, supervisor, staff or admin"
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub languages: Vec<Lang>,
    /// argon2 PHC string.
    pub password_hash: String,
    pub created_at: Millis,
    /// A disabled user cannot log in, and their sessions and tokens stop working at once
    /// (every request reads the user afresh). Absent in records written before it existed.
    #[serde(default)]
    pub disabled: bool,
}
