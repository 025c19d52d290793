//! Staff broadcasts: the rules, without I/O. What a broadcast is, who it reaches (audience
//! filter and exclusions), how each person's text is filled in, and the preview arithmetic
//! (recipients, languages, channels, SMS segments, the WhatsApp window). The store keeps the
//! records; `web::broadcasts` speaks HTTP; the dispatcher sends.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::ContactId;
use crate::domain::{Channel, Contact, Millis, WHATSAPP_WINDOW_MS};
use crate::i18n::Lang;
use crate::i18n::segments::{self, Encoding};

pub use crate::domain::quiet_hours::{self as quiet, QuietHours};

/// Longest broadcast text in SMS parts; longer notices belong on paper or in two messages.
pub const MAX_PARTS: usize = 10;
/// Past this many parts the composer warns (DESIGN: refugee-facing SMS ≤ 2 segments).
pub const WARN_PARTS: usize = 2;
/// The placeholders a text may hold.
pub const PLACEHOLDERS: [&str; 3] = ["name", "city", "next_payment_date"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    AwaitingApproval,
    Scheduled,
    Sending,
    Paused,
    Sent,
    Cancelled,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::AwaitingApproval => "awaiting_approval",
            Status::Scheduled => "scheduled",
            Status::Sending => "sending",
            Status::Paused => "paused",
            Status::Sent => "sent",
            Status::Cancelled => "cancelled",
        }
    }

    /// The audience is frozen (recipients are being or were enqueued).
    pub fn is_released(self) -> bool {
        matches!(
            self,
            Status::Scheduled | Status::Sending | Status::Paused | Status::Sent
        )
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Status::Sent | Status::Cancelled)
    }
}

/// The route family staff choose an audience by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Sms,
    Whatsapp,
    Simulator,
}

impl Route {
    pub fn of(channel: Channel) -> Route {
        match channel {
            Channel::TwilioSms | Channel::Gateway => Route::Sms,
            Channel::TwilioWhatsapp | Channel::Whatsapp => Route::Whatsapp,
            Channel::Simulator => Route::Simulator,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Route::Sms => "sms",
            Route::Whatsapp => "whatsapp",
            Route::Simulator => "simulator",
        }
    }
}

/// Who a broadcast is for. Every filter given narrows it; within one filter any value matches.
/// Empty = every contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Lang>,
    /// Compared without regard to case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Route>,
    /// A contact with any of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ContactId>,
}

/// A broadcast as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broadcast {
    pub id: u64,
    pub name: String,
    pub texts: BTreeMap<Lang, String>,
    pub fallback: Option<Lang>,
    pub audience: Audience,
    pub send_at: Option<Millis>,
    pub status: Status,
    pub created_by: String,
    pub created_at: Millis,
    pub approved_by: Option<String>,
    /// Who asked for it to go out, and when.
    #[serde(default)]
    pub sent_by: Option<String>,
    #[serde(default)]
    pub released_at: Option<Millis>,
    /// The preview as it was when the audience was frozen (what the approver saw).
    #[serde(default)]
    pub frozen: Option<Preview>,
    pub updated_at: Millis,
}

impl Broadcast {
    /// A new draft from what staff wrote (already validated), as every backend stores it.
    pub fn draft(id: u64, valid: Valid, user: &str, now: Millis) -> Broadcast {
        Broadcast {
            id,
            name: valid.name,
            texts: valid.texts,
            fallback: valid.fallback,
            audience: valid.audience,
            send_at: valid.send_at,
            status: Status::Draft,
            created_by: user.to_string(),
            created_at: now,
            approved_by: None,
            sent_by: None,
            released_at: None,
            frozen: None,
            updated_at: now,
        }
    }

    /// The text `lang` gets: its own, else the fallback's; `None` = nothing to send them.
    pub fn text_for(&self, lang: Option<Lang>) -> Option<(Lang, &str)> {
        lang.and_then(|l| self.texts.get(&l).map(|t| (l, t.as_str())))
            .or_else(|| {
                self.fallback
                    .and_then(|f| self.texts.get(&f).map(|t| (f, t.as_str())))
            })
    }

    pub fn uses(&self, placeholder: &str) -> bool {
        let needle = format!("{{{placeholder}}}");
        self.texts.values().any(|t| t.contains(&needle))
    }
}

/// Where one recipient stands. Stored per recipient; the report and the progress read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientStatus {
    /// Waiting to be sent (in the bulk queue or the outbox).
    Queued,
    /// Accepted by the provider.
    Sent,
    Delivered,
    Failed,
    /// The broadcast was cancelled before it reached them.
    Cancelled,
}

impl RecipientStatus {
    pub fn name(self) -> &'static str {
        match self {
            RecipientStatus::Queued => "queued",
            RecipientStatus::Sent => "sent",
            RecipientStatus::Delivered => "delivered",
            RecipientStatus::Failed => "failed",
            RecipientStatus::Cancelled => "cancelled",
        }
    }

    /// What a message status means for the broadcast's progress.
    pub fn from_message(status: crate::domain::MessageStatus) -> RecipientStatus {
        use crate::domain::MessageStatus as M;
        match status {
            M::Received | M::Queued => RecipientStatus::Queued,
            M::Accepted | M::Sent => RecipientStatus::Sent,
            M::Delivered | M::Read => RecipientStatus::Delivered,
            M::Undelivered | M::Failed => RecipientStatus::Failed,
        }
    }
}

/// One recipient of a released broadcast, compact (100,000 of them are written at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    #[serde(rename = "l")]
    pub language: Lang,
    #[serde(rename = "c")]
    pub channel: Channel,
    #[serde(rename = "s")]
    pub status: RecipientStatus,
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<u64>,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Counts per recipient status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub queued: u64,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl Progress {
    pub fn add(&mut self, status: RecipientStatus) {
        match status {
            RecipientStatus::Queued => self.queued += 1,
            RecipientStatus::Sent => self.sent += 1,
            RecipientStatus::Delivered => self.delivered += 1,
            RecipientStatus::Failed => self.failed += 1,
            RecipientStatus::Cancelled => self.cancelled += 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// A broadcast as the API receives it (tags and phones as text, checked here).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub texts: BTreeMap<String, String>,
    #[serde(default)]
    pub fallback: Option<String>,
    #[serde(default)]
    pub audience: DraftAudience,
    #[serde(default)]
    pub send_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftAudience {
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub cities: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub phones: Vec<String>,
}

/// A draft that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub name: String,
    pub texts: BTreeMap<Lang, String>,
    pub fallback: Option<Lang>,
    pub audience: Audience,
    pub send_at: Option<Millis>,
}

/// One invalid field and why, e.g. `texts.xx`: "unknown language".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

fn field_error(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Placeholders in `text` that kabar does not know (`{nmae}`), or a stray brace.
pub fn unknown_placeholders(text: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if !PLACEHOLDERS.contains(&name) {
                    unknown.push(format!("{{{name}}}"));
                }
                rest = &after[close + 1..];
            }
            None => {
                unknown.push("{ without }".into());
                break;
            }
        }
    }
    unknown
}

/// Values as long as a typical recipient's, for counting the parts of a text before the
/// audience is known.
fn sample_values(lang: Lang) -> Values {
    Values {
        name: "Abdulrahman".into(),
        city: "Tanjung Pinang".into(),
        next_payment_date: Some(format_date(
            lang,
            NaiveDate::from_ymd_opt(2026, 12, 28).unwrap_or_default(),
        )),
    }
}

/// Checks every field, collecting every problem (a staff member fixes them all at once).
pub fn validate(draft: Draft, now: Millis) -> Result<Valid, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = draft.name.trim().to_string();
    if name.is_empty() {
        errors.push(field_error(
            "name",
            "give the broadcast a name staff will recognise",
        ));
    } else if name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.push(field_error("name", "at most 100 characters on one line"));
    }
    let mut texts = BTreeMap::new();
    if draft.texts.is_empty() {
        errors.push(field_error(
            "texts",
            "write the text in at least one language",
        ));
    }
    for (tag, text) in draft.texts {
        let field = format!("texts.{tag}");
        let Some(lang) = Lang::parse(&tag) else {
            errors.push(field_error(
                field,
                format!("unknown language tag {tag:?}: use en, fa-AF, fa, so, ar or ti"),
            ));
            continue;
        };
        let text = text.trim().to_string();
        if text.is_empty() {
            errors.push(field_error(field, "the text is empty"));
            continue;
        }
        let unknown = unknown_placeholders(&text);
        if !unknown.is_empty() {
            errors.push(field_error(
                field,
                format!(
                    "unknown placeholder {}: use {{name}}, {{city}} or {{next_payment_date}}",
                    unknown.join(", ")
                ),
            ));
            continue;
        }
        let parts = segments::count(&fill(&text, &sample_values(lang))).segments;
        if parts > MAX_PARTS {
            errors.push(field_error(
                field,
                format!("{parts} SMS parts: at most {MAX_PARTS} are allowed"),
            ));
            continue;
        }
        if texts.insert(lang, text).is_some() {
            errors.push(field_error(field, format!("{lang} is given twice")));
        }
    }
    let fallback = match draft.fallback.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(tag) => match Lang::parse(tag) {
            Some(lang) if texts.contains_key(&lang) => Some(lang),
            Some(lang) => {
                errors.push(field_error(
                    "fallback",
                    format!("there is no text in {lang} to fall back to"),
                ));
                None
            }
            None => {
                errors.push(field_error(
                    "fallback",
                    format!("unknown language tag {tag:?}"),
                ));
                None
            }
        },
    };
    let audience = validate_audience(draft.audience, &mut errors);
    let send_at = match draft.send_at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(value) => match chrono::DateTime::parse_from_rfc3339(value) {
            Ok(at) => {
                let at = at.timestamp_millis().max(0) as Millis;
                // A minute of grace for the time it takes to press the button.
                if at + 60_000 < now {
                    errors.push(field_error("send_at", "this time is in the past"));
                }
                Some(at)
            }
            Err(_) => {
                errors.push(field_error(
                    "send_at",
                    format!("{value:?} is not an RFC 3339 time (2026-12-05T09:00:00+07:00)"),
                ));
                None
            }
        },
    };
    if errors.is_empty() {
        Ok(Valid {
            name,
            texts,
            fallback,
            audience,
            send_at,
        })
    } else {
        Err(errors)
    }
}

fn validate_audience(draft: DraftAudience, errors: &mut Vec<FieldError>) -> Audience {
    let mut audience = Audience::default();
    for tag in draft.languages {
        match Lang::parse(&tag) {
            Some(l) if !audience.languages.contains(&l) => audience.languages.push(l),
            Some(_) => {}
            None => errors.push(field_error(
                "audience.languages",
                format!("unknown language tag {tag:?}"),
            )),
        }
    }
    for city in draft.cities {
        let city = city.trim();
        if city.is_empty() || city.chars().count() > 60 {
            errors.push(field_error(
                "audience.cities",
                "a city has 1 to 60 characters",
            ));
        } else {
            audience.cities.push(city.to_string());
        }
    }
    for channel in draft.channels {
        match channel.trim() {
            "sms" => audience.channels.push(Route::Sms),
            "whatsapp" => audience.channels.push(Route::Whatsapp),
            other => errors.push(field_error(
                "audience.channels",
                format!("unknown channel {other:?}: use sms or whatsapp"),
            )),
        }
    }
    for tag in draft.tags {
        match crate::import::normalize_tag(&tag) {
            Ok(t) => audience.tags.push(t),
            Err(reason) => errors.push(field_error("audience.tags", reason)),
        }
    }
    for phone in draft.phones {
        match ContactId::parse(&phone) {
            Ok(p) => audience.phones.push(p),
            Err(e) => errors.push(field_error("audience.phones", e.to_string())),
        }
    }
    audience
}

// ---------------------------------------------------------------------------------------------
// Filling in
// ---------------------------------------------------------------------------------------------

/// One recipient's values for the placeholders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    pub name: String,
    pub city: String,
    /// `None` when their city has no date in the payment schedule.
    pub next_payment_date: Option<String>,
}

impl Values {
    pub fn of(contact: &Contact, lang: Lang, schedule: &Schedule) -> Values {
        Values {
            name: contact.name.clone().unwrap_or_default(),
            city: contact.city.clone().unwrap_or_default(),
            next_payment_date: contact
                .city
                .as_deref()
                .and_then(|c| schedule.get(&c.to_lowercase()))
                .map(|d| format_date(lang, *d)),
        }
    }
}

/// The payment schedule by city in lower case.
pub type Schedule = BTreeMap<String, NaiveDate>;

/// The text with the placeholders filled in; an empty value leaves no double space behind.
pub fn fill(text: &str, values: &Values) -> String {
    let filled = text
        .replace("{name}", &values.name)
        .replace("{city}", &values.city)
        .replace(
            "{next_payment_date}",
            values.next_payment_date.as_deref().unwrap_or(""),
        );
    if values.name.is_empty() || values.city.is_empty() {
        tidy_spaces(&filled)
    } else {
        filled
    }
}

fn tidy_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        if !out.is_empty() {
            out.push('\n');
        }
        let words: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
        out.push_str(&words.join(" ").replace(" ,", ",").replace(" ،", "،"));
    }
    out
}

/// A date as the locale writes it: day/month/year, in the digits its readers use (Persian
/// digits for Dari and Farsi, Arabic-Indic for Arabic). The flows write dd/mm/yyyy too.
pub fn format_date(lang: Lang, date: NaiveDate) -> String {
    let ascii = date.format("%d/%m/%Y").to_string();
    let zero = match lang {
        Lang::Dari | Lang::Farsi => '\u{06F0}',
        Lang::Arabic => '\u{0660}',
        Lang::Somali | Lang::Tigrinya | Lang::English => return ascii,
    };
    ascii
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(zero as u32 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Who gets what
// ---------------------------------------------------------------------------------------------

/// What the configured providers allow, as the preview needs it.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    /// Channels that are configured.
    pub available: BTreeSet<Channel>,
    /// Where SMS goes (and WhatsApp falls back to).
    pub sms: Option<Channel>,
    /// Languages with an approved WhatsApp template.
    pub templates: BTreeSet<Lang>,
    /// The time the WhatsApp window is judged by.
    pub now: Millis,
}

impl Routes {
    pub fn from_channels(channels: &crate::channel::Channels, now: Millis) -> Routes {
        let mut available = BTreeSet::new();
        if channels.twilio.is_some() {
            available.insert(Channel::TwilioSms);
            available.insert(Channel::TwilioWhatsapp);
        }
        if channels.whatsapp.is_some() {
            available.insert(Channel::Whatsapp);
        }
        if channels.gateway.is_some() {
            available.insert(Channel::Gateway);
        }
        if channels.simulator.is_some() {
            available.insert(Channel::Simulator);
        }
        let templates = Lang::ALL
            .into_iter()
            .filter(|l| channels.template_for(Channel::Whatsapp, Some(*l)).is_some())
            .collect();
        Routes {
            available,
            sms: channels.sms_route(),
            templates,
            now,
        }
    }

    /// The channel a broadcast reaches `contact` on: the one they last used, else SMS, else
    /// WhatsApp (by template), else the simulator. Someone known only by a WhatsApp user id is
    /// never given a channel that needs a number.
    pub fn channel_for(&self, contact: &Contact) -> Option<Channel> {
        let has_number = contact.phone().is_some();
        let reaches = |c: &Channel| has_number || c.reaches_user_ids();
        contact
            .last_channel
            .filter(|c| self.available.contains(c) && reaches(c))
            .or(self.sms.filter(|_| has_number))
            .or_else(|| {
                [Channel::Whatsapp, Channel::Simulator]
                    .into_iter()
                    .find(|c| self.available.contains(c))
            })
    }

    /// What a WhatsApp recipient gets (`None` inside the 24-hour window: the text itself).
    pub fn outside_window(
        &self,
        contact: &Contact,
        channel: Channel,
        lang: Lang,
    ) -> Option<Window> {
        if !channel.has_session_window() {
            return None;
        }
        let open = contact
            .last_whatsapp_at
            .is_some_and(|last| self.now.saturating_sub(last) < WHATSAPP_WINDOW_MS);
        if open {
            None
        } else if channel == Channel::Whatsapp && self.templates.contains(&lang) {
            Some(Window::Template)
        } else if self.sms.is_some() && contact.phone().is_some() {
            Some(Window::Sms)
        } else {
            Some(Window::Held)
        }
    }
}

/// What a WhatsApp recipient outside the 24-hour window gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The approved template carries the text.
    Template,
    /// It goes by SMS instead.
    Sms,
    /// It waits until they write again.
    Held,
}

/// Why someone in the audience will not get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exclusion {
    OptedOut,
    /// No text in their language and no fallback.
    NoText,
    /// The text names their payment date and their city has none.
    NoPaymentDate,
    /// No configured channel reaches them.
    NoChannel,
}

impl Exclusion {
    pub fn name(self) -> &'static str {
        match self {
            Exclusion::OptedOut => "opted_out",
            Exclusion::NoText => "no_text",
            Exclusion::NoPaymentDate => "no_payment_date",
            Exclusion::NoChannel => "no_channel",
        }
    }
}

/// Whether `contact` is in the audience at all (before exclusions).
pub fn in_audience(audience: &Audience, contact: &Contact, routes: &Routes) -> bool {
    let language_ok = audience.languages.is_empty()
        || contact
            .language
            .is_some_and(|l| audience.languages.contains(&l));
    let city_ok = audience.cities.is_empty()
        || contact
            .city
            .as_deref()
            .is_some_and(|c| audience.cities.iter().any(|a| a.eq_ignore_ascii_case(c)));
    let channel_ok = audience.channels.is_empty()
        || routes
            .channel_for(contact)
            .is_some_and(|c| audience.channels.contains(&Route::of(c)));
    let tags_ok =
        audience.tags.is_empty() || contact.tags.iter().any(|t| audience.tags.contains(t));
    let phone_ok = audience.phones.is_empty() || audience.phones.contains(&contact.id);
    language_ok && city_ok && channel_ok && tags_ok && phone_ok
}

/// What one contact of the audience gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub language: Lang,
    pub channel: Channel,
    pub text: String,
    pub window: Option<Window>,
}

/// The message for `contact` (in the audience), or why they are left out.
pub fn plan(
    broadcast: &Broadcast,
    contact: &Contact,
    routes: &Routes,
    schedule: &Schedule,
) -> Result<Delivery, Exclusion> {
    if contact.opted_out {
        return Err(Exclusion::OptedOut);
    }
    let (language, text) = broadcast
        .text_for(contact.language)
        .ok_or(Exclusion::NoText)?;
    let values = Values::of(contact, language, schedule);
    if values.next_payment_date.is_none() && text.contains("{next_payment_date}") {
        return Err(Exclusion::NoPaymentDate);
    }
    let channel = routes.channel_for(contact).ok_or(Exclusion::NoChannel)?;
    Ok(Delivery {
        language,
        channel,
        text: fill(text, &values),
        window: routes.outside_window(contact, channel, language),
    })
}

// ---------------------------------------------------------------------------------------------
// Preview
// ---------------------------------------------------------------------------------------------

/// SMS encoding and parts of one language's text (the longest once filled in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parts {
    pub encoding: &'static str,
    pub parts: usize,
}

impl Parts {
    fn of(text: &str) -> Parts {
        let s = segments::count(text);
        Parts {
            encoding: match s.encoding {
                Encoding::Gsm7 => "GSM-7",
                Encoding::Ucs2 => "UCS-2",
            },
            parts: s.segments,
        }
    }
}

/// WhatsApp recipients outside the 24-hour window, by what they will get.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideWindow {
    pub template: u64,
    pub sms: u64,
    pub held: u64,
}

/// Everything staff see before it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub recipients: u64,
    pub excluded: BTreeMap<String, u64>,
    pub by_language: BTreeMap<String, u64>,
    pub by_channel: BTreeMap<String, u64>,
    pub segments: BTreeMap<String, PartsView>,
    /// SMS parts over every recipient who gets an SMS: what it will cost.
    pub total_segments: u64,
    /// Messages that go by WhatsApp (priced per message, not per part).
    pub whatsapp_messages: u64,
    pub whatsapp_outside_window: OutsideWindow,
    /// Texts past two SMS parts.
    pub warnings: Vec<String>,
}

/// [`Parts`] as stored and shown (owned strings, so it can be read back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartsView {
    pub encoding: String,
    pub parts: usize,
}

impl Preview {
    /// Starts a preview with each language's parts for a typical recipient.
    pub fn new(broadcast: &Broadcast) -> Preview {
        let mut preview = Preview::default();
        for (lang, text) in &broadcast.texts {
            let p = Parts::of(&fill(text, &sample_values(*lang)));
            preview.segments.insert(
                lang.tag().to_string(),
                PartsView {
                    encoding: p.encoding.into(),
                    parts: p.parts,
                },
            );
        }
        for reason in [Exclusion::OptedOut, Exclusion::NoText] {
            preview.excluded.insert(reason.name().into(), 0);
        }
        preview
    }

    pub fn exclude(&mut self, reason: Exclusion) {
        *self.excluded.entry(reason.name().into()).or_default() += 1;
    }

    pub fn add(&mut self, delivery: &Delivery) {
        self.recipients += 1;
        *self
            .by_language
            .entry(delivery.language.tag().into())
            .or_default() += 1;
        let route = Route::of(delivery.channel);
        *self.by_channel.entry(route.name().into()).or_default() += 1;
        let parts = Parts::of(&delivery.text);
        if let Some(shown) = self.segments.get_mut(delivery.language.tag()) {
            if parts.parts > shown.parts || parts.encoding != shown.encoding {
                shown.parts = shown.parts.max(parts.parts);
                if parts.encoding == "UCS-2" {
                    shown.encoding = parts.encoding.into();
                }
            }
        }
        match (route, delivery.window) {
            (Route::Whatsapp, None) => self.whatsapp_messages += 1,
            (Route::Whatsapp, Some(Window::Template)) => {
                self.whatsapp_messages += 1;
                self.whatsapp_outside_window.template += 1;
            }
            (Route::Whatsapp, Some(Window::Sms)) => {
                self.whatsapp_outside_window.sms += 1;
                self.total_segments += parts.parts as u64;
            }
            (Route::Whatsapp, Some(Window::Held)) => self.whatsapp_outside_window.held += 1,
            (Route::Sms, _) => self.total_segments += parts.parts as u64,
            (Route::Simulator, _) => {}
        }
    }

    /// Adds the warnings once every recipient was counted.
    pub fn finish(mut self) -> Preview {
        self.warnings = self
            .segments
            .iter()
            .filter(|(_, p)| p.parts > WARN_PARTS)
            .map(|(tag, p)| {
                format!(
                    "{tag}: {} SMS parts ({}); people on cheap phones may get it in pieces — shorten it to {WARN_PARTS}",
                    p.parts, p.encoding
                )
            })
            .collect();
        self
    }
}

/// The preview of `broadcast` over `contacts`.
pub fn preview<'c>(
    broadcast: &Broadcast,
    contacts: impl IntoIterator<Item = &'c Contact>,
    routes: &Routes,
    schedule: &Schedule,
) -> Preview {
    let mut preview = Preview::new(broadcast);
    let mut named: BTreeSet<&ContactId> = broadcast.audience.phones.iter().collect();
    for contact in contacts {
        if !in_audience(&broadcast.audience, contact, routes) {
            continue;
        }
        named.remove(&contact.id);
        match plan(broadcast, contact, routes, schedule) {
            Ok(delivery) => preview.add(&delivery),
            Err(reason) => preview.exclude(reason),
        }
    }
    // A number staff typed that kabar has never seen: no language, no channel to trust.
    if !named.is_empty() {
        preview
            .excluded
            .insert("unknown_phone".into(), named.len() as u64);
    }
    preview.finish()
}

#[cfg(test)]
mod tests;
