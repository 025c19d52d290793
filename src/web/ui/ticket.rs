//! A conversation: the whole history across channels, the reply form (with canned replies and
//! the SMS segment counter of `ticket.js`), notes, and the ticket's actions. The rules are in
//! [`crate::web::tickets`], shared with the API.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::layout::{encode_query, lang_name, local_time, page, role_name};
use crate::domain::{Direction, Role, TicketStatus, User};
use crate::i18n::Lang;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::tickets::{self, Action, MessageView, works_tickets};
use crate::web::{AppState, assets};

pub async fn ticket_page(
    State(state): State<AppState>,
    p: SignedIn,
    Path(id): Path<u64>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let detail = tickets::view(&state, &p, id).await?;
    let canned = state.store.canned_replies(Some(detail.language)).await?;
    let users: Vec<User> = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(works_tickets)
        .collect();
    let csrf = p.csrf_token();
    let action = |name: &str, label: &str, confirm: Option<&str>| {
        html! {
            form method="post" action={ "/tickets/" (id) "/" (name) } data-confirm=[confirm] {
                input type="hidden" name="csrf" value=(csrf);
                button { (label) }
            }
        }
    };
    let open = detail.status == TicketStatus::Open;
    let may = match state.store.ticket(id).await? {
        Some(t) => crate::helpdesk::allowed(&p.user, &t),
        None => crate::helpdesk::Allowed::default(),
    };
    let holder = detail.claimed_by.clone();
    let notice = query.get("error").or(query.get("done"));
    Ok(page(
        &format!("Ticket {id}"),
        Some(&p),
        html! {
            h1 { "Ticket #" (id) " · " (lang_name(detail.language)) " · " (detail.topic)
                @if detail.urgent { " " span.badge.red { "URGENT" } } }
            @if let Some(e) = query.get("error") { p.error.panel role="alert" { (e) } }
            @else if let Some(d) = notice { p.panel role="status" { (d) } }
            div.ticket {
                section.talk {
                    // The layout stays left to right for the interpreter; each message takes its
                    // own direction from its text (dir=auto), isolated from the rest of the page.
                    // The newest message is at the bottom, in view (ticket.js scrolls there).
                    ol.conversation #messages lang=(detail.language.tag()) data-rtl=(detail.rtl) data-ticket=(id) { (conversation(&state, &detail.messages)) }
                    @if open && may.reply {
                        form.panel #reply-form method="post" action={ "/tickets/" (id) "/reply" } {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="reply" { "Reply to the person (sent on " (detail.channel.unwrap_or("their channel")) ")" }
                            @if !canned.is_empty() {
                                p { select #canned aria-label="Canned replies" {
                                    option value="" { "Insert a canned reply at the cursor…" }
                                    @for c in &canned { option value=(c.text) { (c.title) } }
                                } }
                            }
                            textarea #reply name="text" dir="auto" required {}
                            p.row { output #segments { "0 characters" } button { "Send" } }
                            p.note #draft-note hidden { "Your unsent reply was kept and put back." }
                        }
                    } @else if open {
                        p.panel { "Claimed by " strong { (holder.clone().unwrap_or_default()) } ": only they can reply. You can add a private note below" @if may.release { ", or release the ticket" } "." }
                    }
                }
                aside.side {
                    div.panel {
                        p {
                            bdi { (detail.contact) } " · channel " (detail.channel.unwrap_or("-"))
                            " · " @if open { "open" } @else { "closed" }
                            " · claimed by " (holder.clone().unwrap_or_else(|| "nobody".into()))
                        }
                        @if let Some(open_window) = detail.whatsapp_window_open {
                            p #window { @if open_window { "WhatsApp 24-hour window: open — free replies are possible." }
                                @else { "WhatsApp 24-hour window: closed — your reply goes as a template or SMS, or waits until they write." } }
                        }
                        @for (k, v) in &detail.details { p { strong { (k) } ": " bdi { (v) } } }
                        @if !detail.also.is_empty() { p { "Also asked: " (detail.also.join(", ")) } }
                        @if open {
                            div.row {
                                @if may.claim { (action("claim", "Claim", None)) }
                                @if may.release { (action("release", "Release", None)) }
                                @if may.close { (action("close", "Close…", Some("Close this ticket? The person is told it is closed and the bot answers them again."))) }
                            }
                        }
                        @if detail.erasable && matches!(p.user.role, Role::Supervisor | Role::Admin) {
                            form.row method="post" action={ "/tickets/" (id) "/erase" } {
                                input type="hidden" name="csrf" value=(csrf);
                                span { "This person asked for their data to be deleted. Erasing removes their messages, media, session, contact record and queued messages for good; this ticket stays, anonymised, for the figures." }
                                button { "Erase their data" }
                            }
                        }
                    }
                    div.panel {
                        h2 { "Notes" }
                        @if detail.notes.is_empty() { p { "No notes yet." } }
                        @for n in &detail.notes { p { strong { (n.author) } " · " (local_time(&state, n.at)) ": " bdi { (n.text) } } }
                        @if open {
                            form method="post" action={ "/tickets/" (id) "/note" } {
                                input type="hidden" name="csrf" value=(csrf);
                                label for="note" { "Private note (never sent)" }
                                textarea #note name="text" dir="auto" required {}
                                button { "Add note" }
                            }
                        }
                    }
                    @if open && may.transfer {
                        form.panel method="post" action={ "/tickets/" (id) "/transfer" } {
                            input type="hidden" name="csrf" value=(csrf);
                            span { "Transfer to " }
                            select name="to_user" aria-label="Person" {
                                option value="" { "(the queue)" }
                                @for u in &users { option value=(u.name) { (u.name) " (" (role_name(u.role)) ")" } }
                            }
                            " in " select name="to_language" aria-label="Language" {
                                option value="" { "(same language)" }
                                @for l in Lang::ALL { option value=(l.tag()) { (lang_name(l)) } }
                            }
                            " " button { "Transfer" }
                        }
                    }
                }
            }
            script src=(assets::url("ticket.js")) {}
        },
    )
    .into_response())
}

fn conversation(state: &AppState, messages: &[MessageView]) -> Markup {
    html! {
        @for m in messages {
            @let class = match (m.direction, m.bot) { (Direction::In, _) => "msg in", (_, true) => "msg out bot", _ => "msg out" };
            li class=(class) dir="auto" data-id=(m.id) {
                span.text dir="auto" { (m.text) }
                @if let Some(url) = &m.media {
                    @match m.media_kind {
                        Some(crate::channel::MediaKind::Audio) => { audio controls src=(url) {} }
                        Some(crate::channel::MediaKind::Image) => { img.media-image src=(url) alt="Image the person sent"; }
                        _ => { a href=(url) { "Open the file" } }
                    }
                } @else if m.media_kind.is_some() { em { "(media not fetched yet)" } }
                span.meta dir="ltr" {
                    (local_time(state, m.at)) " · " (m.channel) " · "
                    @if m.bot { "bot" } @else { (m.author) }
                    @if let Some(b) = m.broadcast { " · " a.badge href={ "/broadcasts/" (b) } { "broadcast" } }
                    @if m.direction == Direction::Out { " · " (m.status) }
                    @if let Some(e) = &m.error { " · " span.error { (e) } }
                }
            }
        }
    }
}

pub async fn messages_fragment(
    State(state): State<AppState>,
    p: SignedIn,
    Path(id): Path<u64>,
) -> PageResult {
    let detail = tickets::view(&state, &p, id).await?;
    Ok(Html(conversation(&state, &detail.messages).into_string()).into_response())
}

pub async fn ticket_action(
    State(state): State<AppState>,
    Path((id, name)): Path<(u64, String)>,
    CsrfForm { signed_in: p, form }: CsrfForm<HashMap<String, String>>,
) -> Response {
    let text = || form.get("text").cloned().unwrap_or_default();
    let action = match name.as_str() {
        "claim" => Action::Claim,
        "release" => Action::Release,
        "close" => Action::Close,
        "erase" => Action::Erase,
        "reply" => Action::Reply { text: text() },
        "note" => Action::Note { text: text() },
        "transfer" => Action::Transfer {
            to_user: form.get("to_user").cloned(),
            to_language: form.get("to_language").cloned(),
        },
        _ => return ApiError::not_found("no such action").into_response(),
    };
    // After every form, a redirect to the ticket page: a reload never sends it again.
    match tickets::act(&state, &p, id, action).await {
        Ok(_) if name == "reply" => Redirect::to(&format!("/tickets/{id}?sent=1")).into_response(),
        Ok(_) => Redirect::to(&format!("/tickets/{id}")).into_response(),
        // A ticket they may no longer see (transferred away, closed by a supervisor): the queue.
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN => {
            let to = format!("/queue?error={}", encode_query(&e.detail));
            Redirect::to(&to).into_response()
        }
        Err(e) => {
            let to = format!("/tickets/{id}?error={}", encode_query(&e.detail));
            Redirect::to(&to).into_response()
        }
    }
}
