//! Broadcasts for the API and the pages (DESIGN §2 "Broadcasts"): who may do what to a
//! broadcast, its state changes, its live preview and test sends are decided here once;
//! `api/broadcasts.rs` and `ui/broadcasts.rs` only speak HTTP.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, err, unavailable};
use super::{AppState, rfc3339};
use crate::broadcast::{
    self, Audience, Broadcast, Delivery, FieldError, Preview, Progress, Route, Routes, Status,
};
use crate::domain::ContactId;
use crate::domain::{Contact, User};
use crate::store::BroadcastError;

/// Staff and admins use broadcasts; interpreters and supervisors do not.
pub fn may_broadcast(user: &User) -> bool {
    crate::helpdesk::may(user, crate::helpdesk::Permission::Broadcast)
}

/// 422 naming every invalid field.
pub fn invalid_fields(errors: &[FieldError]) -> ApiError {
    let detail = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.reason))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::invalid(detail).with("fields", errors)
}

/// A broadcast as the API shows it.
#[derive(Debug, Serialize)]
pub struct BroadcastView {
    pub id: u64,
    pub name: String,
    pub status: &'static str,
    pub created_by: String,
    pub created_at: String,
    pub approved_by: Option<String>,
    pub send_at: Option<String>,
    /// `send_at` in the helpdesk time zone, as staff read it.
    pub send_at_local: Option<String>,
    pub texts: std::collections::BTreeMap<String, String>,
    pub fallback: Option<String>,
    pub audience: Audience,
    pub needs_approval: bool,
    /// Broadcasts are held back now by `[broadcasts] quiet_hours`.
    pub quiet_now: bool,
    #[serde(flatten)]
    pub preview: Preview,
    pub progress: Progress,
}

fn routes(state: &AppState) -> Routes {
    Routes::from_channels(&state.channels, state.clock.now())
}

/// The live preview of a broadcast over every contact.
pub async fn live_preview(state: &AppState, b: &Broadcast) -> Result<Preview, ApiError> {
    let routes = routes(state);
    let schedule = crate::dispatch::bulk::schedule(&state.store)
        .await
        .map_err(unavailable)?;
    let mut preview = Preview::new(b);
    let mut named: std::collections::BTreeSet<ContactId> =
        b.audience.phones.iter().cloned().collect();
    // Page through everyone: a preview over 100,000 contacts holds one page at a time.
    let mut after: Option<ContactId> = None;
    loop {
        let (contacts, more) = state
            .store
            .contacts_after(after.as_ref(), crate::dispatch::bulk::ENQUEUE_BATCH)
            .await
            .map_err(unavailable)?;
        for c in &contacts {
            if !broadcast::in_audience(&b.audience, c, &routes) {
                continue;
            }
            named.remove(&c.id);
            match broadcast::plan(b, c, &routes, &schedule) {
                Ok(d) => preview.add(&d),
                Err(reason) => preview.exclude(reason),
            }
        }
        after = contacts.last().map(|c| c.id.clone());
        if !more || after.is_none() {
            break;
        }
    }
    if !named.is_empty() {
        preview
            .excluded
            .insert("unknown_phone".into(), named.len() as u64);
    }
    Ok(preview.finish())
}

pub async fn view(state: &AppState, b: Broadcast) -> Result<BroadcastView, ApiError> {
    let preview = match &b.frozen {
        Some(frozen) if b.status != Status::Draft => frozen.clone(),
        _ => live_preview(state, &b).await?,
    };
    let progress = if b.status.is_released() || b.status == Status::Cancelled {
        state
            .store
            .broadcast_progress(b.id)
            .await
            .map_err(unavailable)?
    } else {
        Progress::default()
    };
    let tz = state.hours.timezone();
    Ok(BroadcastView {
        id: b.id,
        name: b.name,
        status: b.status.name(),
        created_by: b.created_by,
        created_at: rfc3339(b.created_at),
        approved_by: b.approved_by,
        send_at: b.send_at.map(rfc3339),
        send_at_local: b.send_at.and_then(|ms| {
            chrono::DateTime::from_timestamp_millis(ms as i64)
                .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        }),
        texts: b
            .texts
            .into_iter()
            .map(|(l, t)| (l.tag().to_string(), t))
            .collect(),
        fallback: b.fallback.map(|l| l.tag().to_string()),
        audience: b.audience,
        needs_approval: preview.recipients > state.config.broadcasts.approval_over,
        quiet_now: state.dispatcher.is_quiet(),
        preview,
        progress,
    })
}

fn parse_draft(body: &[u8]) -> Result<broadcast::Draft, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| err(StatusCode::BAD_REQUEST, "bad json", e.to_string()))
}

/// Why a draft body was refused: unreadable (400) or invalid fields (422).
#[derive(Debug)]
pub enum Refused {
    Body(ApiError),
    Fields(Vec<FieldError>),
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> ApiError {
        match refused {
            Refused::Body(e) => e,
            Refused::Fields(errors) => invalid_fields(&errors),
        }
    }
}

/// Validates a draft body.
pub fn validated(state: &AppState, body: &[u8]) -> Result<broadcast::Valid, Refused> {
    let draft = parse_draft(body).map_err(Refused::Body)?;
    broadcast::validate(draft, state.clock.now()).map_err(Refused::Fields)
}

/// What a draft would do, without saving it (the composer's live preview).
pub async fn draft_preview(state: &AppState, valid: broadcast::Valid) -> Result<Preview, ApiError> {
    let draft = Broadcast::draft(0, valid, "", 0);
    live_preview(state, &draft).await
}

pub async fn create_draft(
    state: &AppState,
    user: &User,
    valid: broadcast::Valid,
) -> Result<BroadcastView, ApiError> {
    let b = state
        .store
        .create_broadcast(valid, &user.name)
        .await
        .map_err(unavailable)?;
    state
        .store
        .audit(
            &user.name,
            "broadcast-create",
            None,
            &format!("broadcast {} {:?}", b.id, b.name),
        )
        .await
        .map_err(unavailable)?;
    tracing::info!(user = %user.name, broadcast = b.id, "broadcast drafted");
    view(state, b).await
}

pub async fn list_views(state: &AppState) -> Result<Vec<BroadcastView>, ApiError> {
    let all = state.store.broadcasts().await.map_err(unavailable)?;
    let mut views = Vec::with_capacity(all.len());
    for b in all {
        views.push(view(state, b).await?);
    }
    Ok(views)
}

pub async fn found(state: &AppState, id: u64) -> Result<Broadcast, ApiError> {
    state
        .store
        .broadcast(id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "not found",
                format!("there is no broadcast {id}"),
            )
        })
}

/// What one can do to a broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Send,
    Approve,
    Pause,
    Resume,
    Cancel,
}

impl Action {
    pub fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "send" => Action::Send,
            "approve" => Action::Approve,
            "pause" => Action::Pause,
            "resume" => Action::Resume,
            "cancel" => Action::Cancel,
            _ => return None,
        })
    }

    fn audit_name(self) -> &'static str {
        match self {
            Action::Send => "broadcast-send",
            Action::Approve => "broadcast-approve",
            Action::Pause => "broadcast-pause",
            Action::Resume => "broadcast-resume",
            Action::Cancel => "broadcast-cancel",
        }
    }
}

/// Lets the broadcast go (after send without approval, or after approval): scheduled when
/// its time is later, else sending; the preview is frozen as it was shown.
fn release(b: &mut Broadcast, preview: &Preview, now: crate::domain::Millis) {
    b.status = match b.send_at {
        Some(at) if at > now => Status::Scheduled,
        _ => Status::Sending,
    };
    b.frozen = Some(preview.clone());
    b.released_at = Some(now);
}

/// Applies `action` by `user`; the state rules (409s, the four-eyes rule) live here.
pub async fn act(
    state: &AppState,
    user: &User,
    id: u64,
    action: Action,
) -> Result<BroadcastView, ApiError> {
    let current = found(state, id).await?;
    let now = state.clock.now();
    // The preview is computed outside the transaction (it reads every contact); the
    // transaction re-checks the state so two clicks cannot both send.
    let preview = match action {
        Action::Send => Some(live_preview(state, &current).await?),
        Action::Approve => Some(match &current.frozen {
            Some(p) => p.clone(),
            None => live_preview(state, &current).await?,
        }),
        _ => None,
    };
    let approval_over = state.config.broadcasts.approval_over;
    let name = user.name.clone();
    let updated = state
        .store
        .change_broadcast(
            id,
            &user.name,
            action.audit_name(),
            Box::new(move |b| {
                let conflict = |what: &str| {
                    Err(BroadcastError::Conflict(format!(
                        "broadcast {id} is {}: it cannot be {what}",
                        b.status.name()
                    )))
                };
                match action {
                    Action::Send => {
                        if b.status != Status::Draft {
                            return conflict("sent again");
                        }
                        let preview = preview
                            .as_ref()
                            .ok_or_else(|| BroadcastError::Unprocessable("no preview".into()))?;
                        if preview.recipients == 0 {
                            return Err(BroadcastError::Unprocessable(
                                "nobody to send to: the audience is empty after exclusions".into(),
                            ));
                        }
                        if b.send_at.is_some_and(|at| at + 60_000 < now) {
                            return Err(BroadcastError::Unprocessable(
                                "send_at is in the past: change it or send now".into(),
                            ));
                        }
                        b.sent_by = Some(name.clone());
                        if preview.recipients > approval_over {
                            b.status = Status::AwaitingApproval;
                            b.frozen = Some(preview.clone());
                        } else {
                            release(b, preview, now);
                        }
                    }
                    Action::Approve => {
                        if b.status != Status::AwaitingApproval {
                            return conflict("approved");
                        }
                        if b.created_by == name || b.sent_by.as_deref() == Some(name.as_str()) {
                            return Err(BroadcastError::Forbidden(
                            "a broadcast needs a second person's approval: you created or sent it"
                                .into(),
                        ));
                        }
                        let preview = preview
                            .as_ref()
                            .ok_or_else(|| BroadcastError::Unprocessable("no preview".into()))?;
                        b.approved_by = Some(name.clone());
                        release(b, preview, now);
                    }
                    Action::Pause => {
                        if !matches!(b.status, Status::Sending | Status::Scheduled) {
                            return conflict("paused");
                        }
                        b.status = Status::Paused;
                    }
                    Action::Resume => {
                        if b.status != Status::Paused {
                            return conflict("resumed");
                        }
                        b.status = match b.send_at {
                            Some(at) if at > now => Status::Scheduled,
                            _ => Status::Sending,
                        };
                    }
                    Action::Cancel => {
                        if b.status.is_finished() {
                            return conflict("cancelled");
                        }
                        b.status = Status::Cancelled;
                    }
                }
                Ok(())
            }),
        )
        .await?;
    if action == Action::Cancel {
        let cancelled = state.store.cancel_queued(id).await.map_err(unavailable)?;
        state.metrics.broadcast("cancelled", cancelled);
    }
    state.dispatcher.broadcasts_changed();
    tracing::info!(
        user = %user.name,
        broadcast = id,
        status = updated.status.name(),
        "broadcast {:?}",
        action
    );
    view(state, updated).await
}

#[derive(Deserialize)]
pub struct TestRequest {
    pub phone: String,
}

#[derive(Debug, Serialize)]
pub struct TestSent {
    pub message_id: u64,
    pub language: String,
    pub channel: &'static str,
    pub text: String,
}

/// Sends the broadcast now to one number, in their language (or the fallback, or the first
/// text when kabar does not know them), on the channel they would get it on.
pub async fn test_send(
    state: &AppState,
    user: &User,
    id: u64,
    phone: &str,
) -> Result<TestSent, ApiError> {
    let b = found(state, id).await?;
    let phone = ContactId::parse(phone).map_err(|e| {
        err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("phone: {e}"),
        )
    })?;
    let contact = state
        .store
        .contact(&phone)
        .await
        .map_err(unavailable)?
        .unwrap_or_else(|| Contact::new(phone.clone(), 0));
    if contact.opted_out {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "opted out",
            "this number asked not to receive messages",
        ));
    }
    let routes = routes(state);
    let schedule = crate::dispatch::bulk::schedule(&state.store)
        .await
        .map_err(unavailable)?;
    let (language, text) = b
        .text_for(contact.language)
        .or_else(|| b.texts.iter().next().map(|(l, t)| (*l, t.as_str())))
        .ok_or_else(|| {
            err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "the broadcast has no text",
            )
        })?;
    let values = broadcast::Values::of(&contact, language, &schedule);
    let channel = routes.channel_for(&contact).ok_or_else(|| {
        err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no channel",
            "no configured channel reaches this number",
        )
    })?;
    let delivery = Delivery {
        language,
        channel,
        text: broadcast::fill(text, &values),
        window: None,
    };
    let message_id = state
        .store
        .queue_test_send(&b, &phone, &delivery, &user.name)
        .await
        .map_err(unavailable)?;
    state
        .store
        .audit(
            &user.name,
            "broadcast-test",
            None,
            &format!("broadcast {id} test send to {}", phone.redacted()),
        )
        .await
        .map_err(unavailable)?;
    state.dispatcher.wake();
    Ok(TestSent {
        message_id,
        language: language.tag().to_string(),
        channel: Route::of(channel).name(),
        text: delivery.text,
    })
}
