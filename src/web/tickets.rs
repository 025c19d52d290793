//! Ticket actions for interpreters, shared by the JSON API and the browser pages: who may do
//! what is decided here, once.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, err, unavailable};
use crate::domain::{
    Author, Direction, MessageRecord, Millis, Ticket, TicketStatus, WHATSAPP_WINDOW_MS,
};
use crate::helpdesk::{TicketEvent, can_see};
use crate::i18n::Lang;
use crate::store::Actor;

/// Roles that work tickets: interpreters (their languages), supervisors, admins.
pub fn works_tickets(user: &crate::domain::User) -> bool {
    crate::helpdesk::may(user, crate::helpdesk::Permission::WorkTickets)
}

/// The ticket, if `user` may see it; 404 otherwise (don't reveal what exists).
pub async fn visible_ticket(
    state: &AppState,
    user: &crate::domain::User,
    id: u64,
) -> Result<Ticket, ApiError> {
    let ticket = state.store.ticket(id).await.map_err(unavailable)?;
    match ticket {
        Some(t) if can_see(user, &t) => Ok(t),
        _ => Err(err(
            StatusCode::NOT_FOUND,
            "not found",
            format!("there is no ticket {id} for you"),
        )),
    }
}

pub fn notify(state: &AppState, ticket: &Ticket, kind: &'static str) {
    state.events.send(TicketEvent {
        ticket: ticket.id,
        language: ticket.language,
        kind,
        relayed: false,
    });
}

/// One message as interpreters see it.
#[derive(Debug, Serialize)]
pub struct MessageView {
    pub id: u64,
    pub direction: Direction,
    pub author: String,
    pub bot: bool,
    pub channel: &'static str,
    pub text: String,
    pub status: &'static str,
    pub at: Millis,
    pub media: Option<String>,
    pub media_kind: Option<crate::channel::MediaKind>,
    pub error: Option<String>,
    /// The staff broadcast this message was part of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<u64>,
}

impl MessageView {
    pub fn from(m: MessageRecord) -> MessageView {
        let (author, bot) = match &m.author {
            Author::Contact => ("person".to_string(), false),
            Author::Bot => ("bot".to_string(), true),
            Author::User(name) => (name.clone(), false),
        };
        MessageView {
            id: m.id,
            direction: m.direction,
            author,
            bot,
            channel: m.channel.name(),
            text: m.text,
            status: m.status.name(),
            at: m.created_at,
            media: m.media_file.as_ref().map(|_| format!("/media/{}", m.id)),
            media_kind: m.media.as_ref().map(|r| r.kind),
            error: m.error,
            broadcast: m.broadcast,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TicketDetail {
    pub id: u64,
    /// The person as staff see them: the number, or `@username` / WhatsApp name.
    pub contact: String,
    /// The id the person is filed under (`+…` or `wa:…`).
    pub contact_id: String,
    /// Their phone number; `None` for someone known only by a WhatsApp username.
    pub phone: Option<String>,
    pub language: Lang,
    pub rtl: bool,
    pub topic: String,
    pub urgent: bool,
    pub status: TicketStatus,
    pub claimed_by: Option<String>,
    pub channel: Option<&'static str>,
    /// WhatsApp only: whether free-form replies are possible now.
    pub whatsapp_window_open: Option<bool>,
    pub details: std::collections::BTreeMap<String, String>,
    pub also: Vec<String>,
    pub notes: Vec<crate::domain::Note>,
    pub messages: Vec<MessageView>,
    /// A data-deletion request whose person has not been erased yet.
    pub erasable: bool,
}

pub async fn detail(state: &AppState, ticket: &Ticket) -> Result<TicketDetail, ApiError> {
    let contact = state
        .store
        .contact(&ticket.contact)
        .await
        .map_err(unavailable)?;
    let channel = contact.as_ref().and_then(|c| c.last_channel);
    let window = channel.filter(|c| c.has_session_window()).map(|_| {
        contact
            .as_ref()
            .and_then(|c| c.last_whatsapp_at)
            .is_some_and(|t| state.clock.now().saturating_sub(t) < WHATSAPP_WINDOW_MS)
    });
    // The whole history across channels, not only the ticket's part.
    let messages = state
        .store
        .history(&ticket.contact)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(MessageView::from)
        .collect();
    Ok(TicketDetail {
        id: ticket.id,
        contact: contact
            .as_ref()
            .map_or_else(|| ticket.contact.to_string(), |c| c.label()),
        contact_id: ticket.contact.to_string(),
        phone: contact
            .as_ref()
            .and_then(|c| c.phone().map(|p| p.to_string()))
            .or_else(|| ticket.contact.phone().map(|p| p.to_string())),
        language: ticket.language,
        rtl: ticket.language.is_rtl(),
        topic: ticket.topic.clone(),
        urgent: ticket.urgent,
        status: ticket.status,
        claimed_by: ticket.claimed_by.clone(),
        channel: channel.map(|c| c.name()),
        whatsapp_window_open: window,
        details: ticket.details.clone(),
        also: ticket.also.clone(),
        notes: ticket.notes.clone(),
        messages,
        erasable: (ticket.topic == crate::flow::engine::DELETION_TOPIC
            || ticket
                .also
                .iter()
                .any(|t| t == crate::flow::engine::DELETION_TOPIC))
            && ticket.contact != crate::domain::ContactId::erased(),
    })
}

/// Views a ticket: marks its messages as seen, and is recorded in the audit trail once per
/// user and ticket in [`VIEW_AGAIN_AFTER`] (the live refresh of an open page is not a new view).
pub async fn view(
    state: &AppState,
    principal: &Principal,
    id: u64,
) -> Result<TicketDetail, ApiError> {
    let user = &principal.user;
    if !works_tickets(user) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role does not work tickets",
        ));
    }
    let ticket = visible_ticket(state, user, id).await?;
    if state.views.first_in_a_while(&user.name, id) {
        if let Err(e) = state.store.audit(&user.name, "view", Some(id), "").await {
            state.views.forget(&user.name, id);
            return Err(unavailable(e));
        }
    }
    state
        .store
        .mark_seen(&user.name, id, ticket.message_ids.len())
        .await
        .map_err(unavailable)?;
    detail(state, &ticket).await
}

/// A view of the same ticket by the same user within this time is the same view.
pub const VIEW_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Who looked at which ticket when, to write one "view" row per look rather than per refresh.
#[derive(Debug, Default)]
pub struct ViewLog {
    seen: std::sync::Mutex<std::collections::HashMap<(String, u64), std::time::Instant>>,
}

impl ViewLog {
    /// True (and remembered) when `user` has not viewed ticket `id` within [`VIEW_AGAIN_AFTER`].
    pub fn first_in_a_while(&self, user: &str, id: u64) -> bool {
        let now = std::time::Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        // Forget old looks so the map stays small.
        if seen.len() > 10_000 {
            seen.retain(|_, at| now.duration_since(*at) < VIEW_AGAIN_AFTER);
        }
        match seen.get(&(user.to_string(), id)) {
            Some(at) if now.duration_since(*at) < VIEW_AGAIN_AFTER => false,
            _ => {
                seen.insert((user.to_string(), id), now);
                true
            }
        }
    }

    fn forget(&self, user: &str, id: u64) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(&(user.to_string(), id));
        }
    }
}

/// The actions interpreters take on a ticket.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    Claim,
    Release,
    Transfer {
        to_user: Option<String>,
        to_language: Option<String>,
    },
    Reply {
        text: String,
    },
    Note {
        text: String,
    },
    Close,
    /// Completes a data-deletion request: erases the person (supervisors and admins only).
    Erase,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Claim => "claim",
            Action::Release => "release",
            Action::Transfer { .. } => "transfer",
            Action::Reply { .. } => "reply",
            Action::Note { .. } => "note",
            Action::Close => "close",
            Action::Erase => "erase",
        }
    }
}

/// Longest reply or note (ten SMS segments of Arabic text and then some).
const MAX_TEXT: usize = 1600;

fn checked_text(text: &str, what: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "empty",
            format!("the {what} is empty"),
        ));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too long",
            format!("the {what} is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(text.to_string())
}

/// Carries out `action` for `principal` on ticket `id`. A refused action is in the audit
/// trail too (who tried what, and why it was refused).
pub async fn act(
    state: &AppState,
    principal: &Principal,
    id: u64,
    action: Action,
) -> Result<Ticket, ApiError> {
    let kind = action.name();
    let result = act_unchecked(state, principal, id, action).await;
    if let Err(e) = &result {
        if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
            state
                .store
                .audit(
                    &principal.user.name,
                    &format!("refused {kind}"),
                    Some(id),
                    &e.detail,
                )
                .await
                .map_err(unavailable)?;
        }
    }
    result
}

async fn act_unchecked(
    state: &AppState,
    principal: &Principal,
    id: u64,
    action: Action,
) -> Result<Ticket, ApiError> {
    let user = &principal.user;
    if !works_tickets(user) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role does not work tickets",
        ));
    }
    let ticket = visible_ticket(state, user, id).await?;
    let name = user.name.as_str();
    // Only the claimant (or a supervisor) may release, transfer or close a claimed ticket;
    // the store checks it inside the transaction that makes the change.
    let actor = Actor {
        name,
        overrides_claims: crate::helpdesk::may(user, crate::helpdesk::Permission::OverrideClaims),
    };
    let now = state.clock.now();
    let (updated, kind) = match action {
        Action::Claim => (state.store.claim(id, name, now).await?, "claim"),
        Action::Release => (state.store.release(id, actor, now).await?, "release"),
        Action::Transfer {
            to_user,
            to_language,
        } => {
            let to_language = match to_language.as_deref().filter(|l| !l.is_empty()) {
                Some(tag) => Some(Lang::parse(tag).ok_or_else(|| {
                    err(
                        StatusCode::BAD_REQUEST,
                        "invalid",
                        format!("unknown language {tag:?}"),
                    )
                })?),
                None => None,
            };
            let to_user = to_user.filter(|u| !u.is_empty());
            (
                state
                    .store
                    .transfer(id, actor, to_user.as_deref(), to_language, now)
                    .await?,
                "transfer",
            )
        }
        Action::Reply { text } => {
            let text = checked_text(&text, "reply")?;
            state.store.reply(id, name, &text, now).await?;
            state.processor.wake_dispatcher();
            (
                state
                    .store
                    .ticket(id)
                    .await
                    .map_err(unavailable)?
                    .unwrap_or(ticket),
                "reply",
            )
        }
        Action::Note { text } => {
            let text = checked_text(&text, "note")?;
            (state.store.add_note(id, name, &text, now).await?, "note")
        }
        Action::Erase => {
            if !actor.overrides_claims {
                return Err(err(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "only a supervisor or an admin may erase a person's data",
                ));
            }
            let deletion = crate::flow::engine::DELETION_TOPIC;
            if ticket.topic != deletion && !ticket.also.iter().any(|t| t == deletion) {
                return Err(err(
                    StatusCode::CONFLICT,
                    "not a deletion request",
                    "erase completes a data-deletion request; this ticket is not one",
                ));
            }
            if ticket.contact == crate::domain::ContactId::erased() {
                return Err(err(
                    StatusCode::CONFLICT,
                    "already erased",
                    "this person's data was already erased",
                ));
            }
            let report = state
                .store
                .erase_contact(&ticket.contact, name, id)
                .await
                .map_err(unavailable)?;
            tracing::info!(
                ticket = id,
                messages = report.messages,
                media_files = report.media_files,
                "a person's data was erased"
            );
            let erased = state
                .store
                .ticket(id)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| err(StatusCode::NOT_FOUND, "not found", "no such ticket"))?;
            (erased, "erase")
        }
        Action::Close => {
            let closing = state
                .localizer
                .render(ticket.language, "ticket-closed", &[]);
            let closed = state
                .store
                .close_ticket(id, actor, &closing, &state.processor.idle_session(), now)
                .await?;
            state.processor.wake_dispatcher();
            (closed, "close")
        }
    };
    notify(state, &updated, kind);
    Ok(updated)
}
