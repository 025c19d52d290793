//! The interpreter queue: waiting, mine and claimed by others, urgent first, with a live
//! refresh over server-sent events (`/events`).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::sse::Event;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};

use super::layout::{ago, lang_name, page};
use crate::domain::{Direction, Role, Ticket, TicketStatus, User};
use crate::helpdesk::can_see;
use crate::web::error::PageResult;
use crate::web::extract::SignedIn;
use crate::web::tickets::works_tickets;
use crate::web::{AppState, assets, sse};

const SEE_THE_QUEUE: &str = "see the interpreter queue";

pub async fn queue_page(
    State(state): State<AppState>,
    p: SignedIn,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let p = p.require_that(works_tickets, SEE_THE_QUEUE)?;
    let list = queue_list(&state, &p.user).await?;
    Ok(page(
        "Queue",
        Some(&p),
        html! {
            h1 { "Queue" }
            @if let Some(e) = query.get("error") { p.error.panel role="alert" { (e) } }
            p { "Your languages: "
                @if matches!(p.user.role, Role::Supervisor | Role::Admin) { "all (you see every ticket, protection and return too)" }
                @else { (p.user.languages.iter().map(|l| lang_name(*l)).collect::<Vec<_>>().join(", ")) } }
            p.note { "Times are " (state.hours.timezone().name()) "." }
            div #queue { (list) }
            script src=(assets::url("queue.js")) {}
        },
    )
    .into_response())
}

pub async fn queue_fragment(State(state): State<AppState>, p: SignedIn) -> PageResult {
    let p = p.require_that(works_tickets, SEE_THE_QUEUE)?;
    Ok(Html(queue_list(&state, &p.user).await?.into_string()).into_response())
}

/// Ticket events the signed-in person may see, live; a `reload` when some were missed.
pub async fn events(State(state): State<AppState>, p: SignedIn) -> Response {
    let user = p.0.user;
    let receiver = state.events.subscribe();
    let shutdown = state.shutdown.clone();
    sse::from_broadcast(
        receiver,
        shutdown,
        move |event: crate::helpdesk::TicketEvent| {
            let (store, user) = (state.store.clone(), user.clone());
            async move {
                // Only what this person may see (a store error hides the event: the page's
                // next reload shows the error).
                let visible = store
                    .ticket(event.ticket)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|t| can_see(&user, &t));
                visible.then(|| {
                    let data = serde_json::json!({"ticket": event.ticket, "kind": event.kind});
                    Event::default().event("ticket").data(data.to_string())
                })
            }
        },
        || {
            Event::default()
                .event("ticket")
                .data("{\"ticket\":0,\"kind\":\"reload\"}")
        },
    )
}

async fn queue_list(state: &AppState, user: &User) -> Result<Markup, crate::store::StoreError> {
    let mut tickets: Vec<Ticket> = state
        .store
        .tickets()
        .await?
        .into_iter()
        .filter(|t| t.status == TicketStatus::Open && can_see(user, t))
        .collect();
    tickets.sort_by_key(|t| t.queue_order());
    let (mine, rest): (Vec<_>, Vec<_>) = tickets
        .into_iter()
        .partition(|t| t.claimed_by.as_deref() == Some(user.name.as_str()));
    let (waiting, others): (Vec<_>, Vec<_>) =
        rest.into_iter().partition(|t| t.claimed_by.is_none());
    let urgent: Vec<&Ticket> = waiting.iter().filter(|t| t.urgent).collect();
    Ok(html! {
        // An urgent ticket nobody has claimed must reach a person at once (the on-call phones
        // are alerted too): say it at the top, live, until someone claims it.
        @if !urgent.is_empty() {
            p.alert-urgent role="alert" #urgent-alert {
                (urgent.len()) " urgent ticket" @if urgent.len() > 1 { "s" } " waiting for a supervisor: "
                @for (i, t) in urgent.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={ "/tickets/" (t.id) } { "#" (t.id) " (" (lang_name(t.language)) ")" }
                }
            }
        }
        h2 { "Waiting (" (waiting.len()) ")" }
        (ticket_table(state, user, &waiting).await?)
        h2 { "Mine (" (mine.len()) ")" }
        (ticket_table(state, user, &mine).await?)
        @if !others.is_empty() {
            h2 { "Claimed by others (" (others.len()) ")" }
            (ticket_table(state, user, &others).await?)
        }
    })
}

async fn ticket_table(
    state: &AppState,
    user: &User,
    tickets: &[Ticket],
) -> Result<Markup, crate::store::StoreError> {
    // Read before rendering, so a store error shows as an error, not as "0 new" or "-".
    let mut rows = Vec::with_capacity(tickets.len());
    for t in tickets {
        // "New" counts what the person wrote since this user last looked, not the bot's lines.
        let seen = state.store.seen(&user.name, t.id).await?;
        let mut unread = 0;
        for &message in t.message_ids.iter().skip(seen) {
            if state
                .store
                .message(message)
                .await?
                .is_some_and(|m| m.direction == Direction::In)
            {
                unread += 1;
            }
        }
        let channel = state
            .store
            .contact(&t.contact)
            .await?
            .and_then(|c| c.last_channel)
            .map(|c| c.name())
            .unwrap_or("-");
        rows.push((t, unread, channel));
    }
    Ok(html! {
        @if tickets.is_empty() { p { "Nothing here." } } @else {
            div.scroll { table.queue {
                thead { tr { th { "#" } th { "Language" } th { "Topic" } th { "Channel" } th { "Waiting" } th { "Claimed by" } th { "New" } } }
                tbody {
                    @for (t, unread, channel) in &rows {
                        @let (unread, channel) = (*unread, *channel);
                        tr class=(if t.urgent { "urgent" } else { "" }) data-ticket=(t.id) {
                            td data-label="#" { a href={ "/tickets/" (t.id) } { "#" (t.id) } }
                            td data-label="Language" { (lang_name(t.language)) }
                            td data-label="Topic" { @if t.urgent { span.badge.red { "URGENT" } " " } (t.topic) }
                            td data-label="Channel" { (channel) }
                            td data-label="Waiting" { @if let Some(w) = t.waiting_since { (ago(w)) } @else { "answered" } }
                            td data-label="Claimed by" { (t.claimed_by.clone().unwrap_or_else(|| "—".into())) }
                            td data-label="New" { @if unread > 0 { span.badge.unread { (unread) } } }
                        }
                    }
                }
            } }
        }
    })
}
