//! The browser pages: login, the interpreter queue, a conversation, canned replies, figures and
//! the audit trail. Server-rendered (maud escapes everything people wrote), small, usable on a
//! slow connection; live updates come as server-sent events that trigger a fragment reload.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::AppState;
use super::auth::{self, Principal};
use super::tickets::{self, Action, MessageView, works_tickets};
use crate::domain::{Direction, Millis, Role, Ticket, TicketStatus, User, now_ms};
use crate::helpdesk::can_see;
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/queue", get(queue_page))
        .route("/queue/list", get(queue_fragment))
        .route("/tickets/{id}", get(ticket_page))
        .route("/tickets/{id}/messages", get(messages_fragment))
        .route("/tickets/{id}/{action}", post(ticket_action))
        .route("/events", get(events))
        .route("/media/{message_id}", get(media))
        .route("/canned", get(canned_page).post(canned_add))
        .route("/canned/{id}/delete", post(canned_delete))
        .route("/audit", get(audit_page))
        .route("/figures", get(figures_page))
}

const STYLE: &str = r#"
:root { font-family: system-ui, "Noto Sans", "Noto Naskh Arabic", "Noto Sans Ethiopic", sans-serif; color: #1d2433; }
body { margin: 0; background: #f4f6f8; }
nav { background: #1d3b5c; color: #fff; padding: .5rem 1rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
nav a { color: #fff; } nav form { margin-left: auto; }
main { max-width: 60rem; margin: 1rem auto; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: start; padding: .4rem .6rem; border-bottom: 1px solid #e3e7ec; }
.urgent { background: #fde8e8; font-weight: 600; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .4rem; background: #e3e7ec; font-size: .85rem; }
.badge.unread { background: #1d3b5c; color: #fff; }
.badge.red { background: #b42318; color: #fff; }
ol.conversation { list-style: none; padding: 0; display: flex; flex-direction: column; gap: .5rem; }
.msg { max-width: 75%; padding: .5rem .75rem; border-radius: .6rem; background: #fff; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.in { align-self: flex-start; background: #fff; border: 1px solid #d0d7de; }
.msg.out { align-self: flex-end; background: #dcf1e5; }
.msg.bot { background: #eef0f3; color: #424a57; }
.msg .text { unicode-bidi: isolate; display: block; }
.msg .meta { font-size: .75rem; color: #5b6472; margin-top: .25rem; unicode-bidi: isolate; }
.panel { background: #fff; padding: .75rem 1rem; border-radius: .5rem; margin: .75rem 0; }
textarea { width: 100%; min-height: 5rem; font: inherit; box-sizing: border-box; }
.row { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
.error { color: #b42318; }
"#;

pub(super) fn page(title: &str, principal: Option<&Principal>, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · kabar" }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    @if let Some(p) = principal {
                        nav {
                            strong { "kabar" }
                            @if works_tickets(&p.user) { a href="/queue" { "Queue" } }
                            @if p.user.role != Role::Interpreter { a href="/canned" { "Canned replies" } }
                            @if matches!(p.user.role, Role::Supervisor | Role::Admin) { a href="/figures" { "Figures" } }
                            @if p.user.role == Role::Admin { a href="/audit" { "Audit" } a href="/backup" { "Backup" } }
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(p.csrf.clone().unwrap_or_default());
                                span { (p.user.name) " · " (role_name(p.user.role)) " " }
                                button { "Log out" }
                            }
                        }
                    }
                    @if let (Some(_), Some(warning)) = (principal, crate::ops::storage_warning()) {
                        p role="alert" style="background:#fdecea;border:1px solid #c62828;padding:.5rem 1rem;margin:0" { (warning) }
                    }
                    main { (body) }
                }
            }
        }
        .into_string(),
    )
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Interpreter => "interpreter",
        Role::Supervisor => "supervisor",
        Role::Staff => "staff",
        Role::Admin => "admin",
    }
}

fn lang_name(lang: Lang) -> &'static str {
    lang.english_name()
}

/// "5 min", "2 h 10 min", "3 d".
fn ago(since: Millis) -> String {
    let mins = now_ms().saturating_sub(since) / 60_000;
    match mins {
        0 => "just now".into(),
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

fn local_time(state: &AppState, at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at as i64)
        .map(|t| {
            t.with_timezone(&state.hours.timezone())
                .format("%d %b %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// Why a page can't be shown to the caller.
pub(super) enum NotSignedIn {
    Login,
    Unavailable,
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Login => Redirect::to("/login").into_response(),
            NotSignedIn::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
            }
        }
    }
}

/// The logged-in person, or a redirect to the login page.
pub(super) fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Principal, NotSignedIn> {
    match auth::principal(&state.store, headers) {
        Ok(Some(p)) if p.csrf.is_some() => Ok(p),
        Ok(_) => Err(NotSignedIn::Login),
        Err(e) => {
            tracing::error!(error = %e, "cannot read session");
            Err(NotSignedIn::Unavailable)
        }
    }
}

pub(super) fn forbidden(principal: &Principal, what: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        page(
            "Not allowed",
            Some(principal),
            html! { h1 { "Not allowed" } p { "Your role (" (role_name(principal.user.role)) ") cannot " (what) "." } },
        ),
    )
        .into_response()
}

fn secure_cookies(state: &AppState) -> bool {
    state.config.server.public_url.scheme() == "https"
}

// ---- login ----

async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = auth::principal(&state.store, &headers) {
        return Redirect::to("/queue").into_response();
    }
    login_form(None).into_response()
}

fn login_form(error: Option<&str>) -> Html<String> {
    page(
        "Log in",
        None,
        html! {
            h1 { "kabar — log in" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form.panel method="post" action="/login" {
                p { label { "User name " input name="name" autocomplete="username" required; } }
                p { label { "Password " input type="password" name="password" autocomplete="current-password" required; } }
                button { "Log in" }
            }
        },
    )
}

async fn login(
    State(state): State<AppState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let name = form
        .get("name")
        .map(|s| s.trim())
        .unwrap_or_default()
        .to_string();
    let password = form.get("password").cloned().unwrap_or_default();
    if let Some(wait) = state.login_limiter.blocked(&name) {
        let minutes = wait.as_secs().div_ceil(60);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            login_form(Some(&format!(
                "Too many failed attempts. Try again in {minutes} minute(s)."
            ))),
        )
            .into_response();
    }
    let user = state.store.user(&name).ok().flatten();
    // Verify even for unknown names so timing does not tell which names exist.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        state.login_limiter.failed(&name);
        return (
            StatusCode::UNAUTHORIZED,
            login_form(Some("Wrong user name or password.")),
        )
            .into_response();
    };
    state.login_limiter.succeeded(&name);
    let token = auth::new_token();
    let csrf = auth::new_token();
    if let Err(e) = state
        .store
        .create_web_session(&user.name, &auth::token_hash(&token), &csrf)
    {
        tracing::error!(error = %e, "cannot create session");
        return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
    }
    let _ = state.store.audit(&user.name, "login", None, "");
    let home = if works_tickets(&user) {
        "/queue"
    } else {
        "/canned"
    };
    (
        [
            (
                header::SET_COOKIE,
                auth::session_cookie(&token, secure_cookies(&state)),
            ),
            (header::LOCATION, home.to_string()),
        ],
        StatusCode::SEE_OTHER,
    )
        .into_response()
}

/// An argon2 hash of a random password, to spend the same time on unknown user names.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0YkH1cmd7ZQvz7cPZ9yPOHdr7RuB2pJOcuhr6GtYSQ8";

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Ok(principal) = signed_in(&state, &headers) else {
        return Redirect::to("/login").into_response();
    };
    if !principal.csrf_ok(form.get("csrf").map(String::as_str)) {
        return csrf_refused(&principal);
    }
    if let Some(token) = auth::session_token(&headers) {
        let _ = state.store.end_web_session(&auth::token_hash(&token));
    }
    (
        [
            (
                header::SET_COOKIE,
                auth::clear_cookie(secure_cookies(&state)),
            ),
            (header::LOCATION, "/login".to_string()),
        ],
        StatusCode::SEE_OTHER,
    )
        .into_response()
}

fn csrf_refused(principal: &Principal) -> Response {
    (
        StatusCode::FORBIDDEN,
        page(
            "Form expired",
            Some(principal),
            html! { h1 { "This form expired" } p { "Reload the page and try again." } },
        ),
    )
        .into_response()
}

// ---- queue ----

async fn queue_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if !works_tickets(&p.user) {
        return forbidden(&p, "see the interpreter queue");
    }
    let list = queue_list(&state, &p.user);
    page(
        "Queue",
        Some(&p),
        html! {
            h1 { "Queue" }
            p { "Your languages: " (p.user.languages.iter().map(|l| lang_name(*l)).collect::<Vec<_>>().join(", ")) }
            div #queue { (list) }
            script { (PreEscaped(r#"
const source = new EventSource('/events');
source.addEventListener('ticket', async () => {
  const r = await fetch('/queue/list');
  if (r.ok) document.getElementById('queue').innerHTML = await r.text();
});
"#)) }
        },
    )
    .into_response()
}

async fn queue_fragment(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers) {
        Ok(p) if works_tickets(&p.user) => {
            Html(queue_list(&state, &p.user).into_string()).into_response()
        }
        Ok(p) => forbidden(&p, "see the interpreter queue"),
        Err(r) => r.into_response(),
    }
}

fn queue_list(state: &AppState, user: &User) -> Markup {
    let mut tickets: Vec<Ticket> = state
        .store
        .tickets()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.status == TicketStatus::Open && can_see(user, t))
        .collect();
    tickets.sort_by_key(|t| t.queue_order());
    let (mine, rest): (Vec<_>, Vec<_>) = tickets
        .into_iter()
        .partition(|t| t.claimed_by.as_deref() == Some(user.name.as_str()));
    let (waiting, others): (Vec<_>, Vec<_>) =
        rest.into_iter().partition(|t| t.claimed_by.is_none());
    html! {
        h2 { "Waiting (" (waiting.len()) ")" }
        (ticket_table(state, user, &waiting))
        h2 { "Mine (" (mine.len()) ")" }
        (ticket_table(state, user, &mine))
        @if !others.is_empty() {
            h2 { "Claimed by others (" (others.len()) ")" }
            (ticket_table(state, user, &others))
        }
    }
}

fn ticket_table(state: &AppState, user: &User, tickets: &[Ticket]) -> Markup {
    html! {
        @if tickets.is_empty() { p { "Nothing here." } } @else {
            table {
                thead { tr { th { "#" } th { "Language" } th { "Topic" } th { "Channel" } th { "Waiting" } th { "Claimed by" } th { "New" } } }
                tbody {
                    @for t in tickets {
                        @let unread = t.message_ids.len().saturating_sub(state.store.seen(&user.name, t.id).unwrap_or(0));
                        @let channel = state.store.contact(&t.phone).ok().flatten().and_then(|c| c.last_channel).map(|c| c.name()).unwrap_or("-");
                        tr class=(if t.urgent { "urgent" } else { "" }) data-ticket=(t.id) {
                            td { a href={ "/tickets/" (t.id) } { "#" (t.id) } }
                            td { (lang_name(t.language)) }
                            td { @if t.urgent { span.badge.red { "URGENT" } " " } (t.topic) }
                            td { (channel) }
                            td { @if let Some(w) = t.waiting_since { (ago(w)) } @else { "answered" } }
                            td { (t.claimed_by.clone().unwrap_or_else(|| "—".into())) }
                            td { @if unread > 0 { span.badge.unread { (unread) } } }
                        }
                    }
                }
            }
        }
    }
}

// ---- a conversation ----

async fn ticket_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let detail = match tickets::view(&state, &p, id) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let canned = state
        .store
        .canned_replies(Some(detail.language))
        .unwrap_or_default();
    let users: Vec<User> = state
        .store
        .users()
        .unwrap_or_default()
        .into_iter()
        .filter(works_tickets)
        .collect();
    let csrf = p.csrf.clone().unwrap_or_default();
    let action = |name: &str, label: &str| {
        html! {
            form method="post" action={ "/tickets/" (id) "/" (name) } {
                input type="hidden" name="csrf" value=(csrf);
                button { (label) }
            }
        }
    };
    let open = detail.status == TicketStatus::Open;
    page(
        &format!("Ticket {id}"),
        Some(&p),
        html! {
            h1 { "Ticket #" (id) " · " (lang_name(detail.language)) " · " (detail.topic)
                @if detail.urgent { " " span.badge.red { "URGENT" } } }
            div.panel {
                p {
                    (detail.phone) " · channel " (detail.channel.unwrap_or("-"))
                    " · " @if open { "open" } @else { "closed" }
                    " · claimed by " (detail.claimed_by.clone().unwrap_or_else(|| "nobody".into()))
                }
                @if let Some(open_window) = detail.whatsapp_window_open {
                    p #window { @if open_window { "WhatsApp 24-hour window: open — free replies are possible." }
                        @else { "WhatsApp 24-hour window: closed — your reply goes as a template or SMS, or waits until they write." } }
                }
                @for (k, v) in &detail.details { p { strong { (k) } ": " bdi { (v) } } }
                @if !detail.also.is_empty() { p { "Also asked: " (detail.also.join(", ")) } }
                @if open {
                    div.row {
                        @if detail.claimed_by.as_deref() != Some(p.user.name.as_str()) { (action("claim", "Claim")) }
                        @if detail.claimed_by.is_some() { (action("release", "Release")) }
                        (action("close", "Close"))
                    }
                }
            }
            // The layout stays left to right for the interpreter; each message takes its own
            // direction from its text (dir=auto), isolated from the rest of the page.
            ol.conversation #messages lang=(detail.language.tag()) data-rtl=(detail.rtl) { (conversation(&state, &detail.messages)) }
            @if open {
                form.panel method="post" action={ "/tickets/" (id) "/reply" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="reply" { "Reply to the person (sent on " (detail.channel.unwrap_or("their channel")) ")" }
                    @if !canned.is_empty() {
                        p { select #canned aria-label="Canned replies" {
                            option value="" { "Insert a canned reply…" }
                            @for c in &canned { option value=(c.text) { (c.title) } }
                        } }
                    }
                    textarea #reply name="text" dir="auto" required {}
                    p.row { output #segments { "0 characters" } button { "Send" } }
                }
                form.panel method="post" action={ "/tickets/" (id) "/note" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="note" { "Private note (never sent)" }
                    textarea #note name="text" dir="auto" required {}
                    button { "Add note" }
                }
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
            @if !detail.notes.is_empty() {
                div.panel { h2 { "Notes" }
                    @for n in &detail.notes { p { strong { (n.author) } " · " (local_time(&state, n.at)) ": " bdi { (n.text) } } } }
            }
            script { (PreEscaped(TICKET_JS.replace("TICKET_ID", &id.to_string()))) }
        },
    )
    .into_response()
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
                        Some(crate::channel::MediaKind::Image) => { img src=(url) alt="Image the person sent" style="max-width:100%"; }
                        _ => { a href=(url) { "Open the file" } }
                    }
                } @else if m.media_kind.is_some() { em { "(media not fetched yet)" } }
                span.meta dir="ltr" {
                    (local_time(state, m.at)) " · " (m.channel) " · "
                    @if m.bot { "bot" } @else { (m.author) }
                    @if m.direction == Direction::Out { " · " (m.status) }
                    @if let Some(e) = &m.error { " · " span.error { (e) } }
                }
            }
        }
    }
}

/// Live refresh, SMS segment counter (GSM-7 or UCS-2), canned replies.
const TICKET_JS: &str = r##"
const GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXT = "^{}\\[]~|€";
function segments(text) {
  let gsm = true, units = 0;
  for (const ch of text) {
    if (GSM.includes(ch)) units += 1; else if (GSM_EXT.includes(ch)) units += 2; else { gsm = false; break; }
  }
  if (!gsm) { units = 0; for (let i = 0; i < text.length; i++) units += 1; }
  const single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
  const count = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / multi);
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, count };
}
const reply = document.getElementById('reply');
const out = document.getElementById('segments');
function update() {
  if (!reply) return;
  const s = segments(reply.value);
  out.textContent = s.units + ' characters · ' + s.count + ' SMS segment' + (s.count === 1 ? '' : 's') + ' · ' + s.encoding;
}
if (reply) { reply.addEventListener('input', update); update(); }
const canned = document.getElementById('canned');
if (canned) canned.addEventListener('change', () => { if (canned.value) { reply.value = canned.value; update(); canned.value = ''; } });
const source = new EventSource('/events');
source.addEventListener('ticket', async (e) => {
  const data = JSON.parse(e.data);
  if (data.ticket !== TICKET_ID) return;
  const r = await fetch('/tickets/TICKET_ID/messages');
  if (r.ok) document.getElementById('messages').innerHTML = await r.text();
});
"##;

async fn messages_fragment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    match tickets::view(&state, &p, id) {
        Ok(d) => Html(conversation(&state, &d.messages).into_string()).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn ticket_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name)): Path<(u64, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if !p.csrf_ok(form.get("csrf").map(String::as_str)) {
        return csrf_refused(&p);
    }
    let text = || form.get("text").cloned().unwrap_or_default();
    let action = match name.as_str() {
        "claim" => Action::Claim,
        "release" => Action::Release,
        "close" => Action::Close,
        "reply" => Action::Reply { text: text() },
        "note" => Action::Note { text: text() },
        "transfer" => Action::Transfer {
            to_user: form.get("to_user").cloned(),
            to_language: form.get("to_language").cloned(),
        },
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    match tickets::act(&state, &p, id, action).await {
        Ok(_) => Redirect::to(&format!("/tickets/{id}")).into_response(),
        Err(e) => (
            e.status,
            page(
                "Could not do that",
                Some(&p),
                html! { h1 { "Could not do that" } p.error role="alert" { (e.detail) } p { a href={ "/tickets/" (id) } { "Back to the ticket" } } },
            ),
        )
            .into_response(),
    }
}

// ---- live events ----

async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let receiver = state.events.subscribe();
    let shutdown = state.shutdown.clone();
    let stream = futures_util::stream::unfold(
        (receiver, shutdown, state, p.user),
        |(mut receiver, mut shutdown, state, user)| async move {
            loop {
                if *shutdown.borrow() {
                    return None;
                }
                tokio::select! {
                    _ = shutdown.changed() => return None,
                    got = receiver.recv() => match got {
                        Ok(event) => {
                            // Only what this person may see.
                            let visible = state.store.ticket(event.ticket).ok().flatten().is_some_and(|t| can_see(&user, &t));
                            if !visible { continue; }
                            let data = serde_json::json!({"ticket": event.ticket, "kind": event.kind});
                            let item: Result<Event, Infallible> = Ok(Event::default().event("ticket").data(data.to_string()));
                            return Some((item, (receiver, shutdown, state, user)));
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            let item: Result<Event, Infallible> = Ok(Event::default().event("ticket").data("{\"ticket\":0,\"kind\":\"reload\"}"));
                            return Some((item, (receiver, shutdown, state, user)));
                        }
                        Err(_) => return None,
                    }
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

// ---- media ----

async fn media(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(message_id): Path<u64>,
) -> Response {
    let p = match auth::principal(&state.store, &headers) {
        Ok(Some(p)) => p,
        _ => return StatusCode::UNAUTHORIZED.into_response(),
    };
    let Ok(Some(message)) = state.store.message(message_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Visible only to someone who may see a ticket of this person.
    let allowed = works_tickets(&p.user)
        && state
            .store
            .tickets()
            .unwrap_or_default()
            .iter()
            .any(|t| t.phone == message.phone && can_see(&p.user, t));
    let Some(file) = message.media_file.filter(|_| allowed) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if file.contains('/') || file.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = state.config.server.data_dir.join("media").join(&file);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mime = message
                .media
                .and_then(|m| m.mime_type)
                .unwrap_or_else(|| "application/octet-stream".into());
            let _ = state.store.audit(
                &p.user.name,
                "media",
                None,
                &format!("message {message_id}"),
            );
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "private, no-store".to_string()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                ],
                bytes,
            )
                .into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

// ---- canned replies ----

async fn canned_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if p.user.role == Role::Interpreter {
        return forbidden(&p, "manage canned replies");
    }
    let replies = state.store.canned_replies(None).unwrap_or_default();
    let csrf = p.csrf.clone().unwrap_or_default();
    page(
        "Canned replies",
        Some(&p),
        html! {
            h1 { "Canned replies" }
            table {
                thead { tr { th { "Language" } th { "Title" } th { "Text" } th {} } }
                tbody { @for c in &replies { tr {
                    td { (lang_name(c.language)) } td { bdi { (c.title) } } td dir="auto" { (c.text) }
                    td { form method="post" action={ "/canned/" (c.id) "/delete" } {
                        input type="hidden" name="csrf" value=(csrf); button { "Delete" } } }
                } } }
            }
            form.panel method="post" action="/canned" {
                input type="hidden" name="csrf" value=(csrf);
                h2 { "Add" }
                p { label { "Language " select name="language" { @for l in Lang::ALL { option value=(l.tag()) { (lang_name(l)) } } } } }
                p { label { "Title " input name="title" required maxlength="60"; } }
                p { label { "Text " textarea name="text" dir="auto" required {} } }
                button { "Add" }
            }
        },
    )
    .into_response()
}

fn may_manage_canned(user: &User) -> bool {
    matches!(user.role, Role::Staff | Role::Supervisor | Role::Admin)
}

async fn canned_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if !may_manage_canned(&p.user) {
        return forbidden(&p, "manage canned replies");
    }
    if !p.csrf_ok(form.get("csrf").map(String::as_str)) {
        return csrf_refused(&p);
    }
    let lang = form.get("language").and_then(|l| Lang::parse(l));
    let title = form.get("title").map(|t| t.trim()).unwrap_or_default();
    let text = form.get("text").map(|t| t.trim()).unwrap_or_default();
    let (Some(lang), false, false) = (lang, title.is_empty(), text.is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            "a canned reply needs a language, a title and a text",
        )
            .into_response();
    };
    if title.chars().count() > 60 || text.chars().count() > 1600 {
        return (StatusCode::BAD_REQUEST, "title or text too long").into_response();
    }
    match state.store.add_canned(lang, title, text) {
        Ok(c) => {
            let _ = state.store.audit(
                &p.user.name,
                "canned-add",
                None,
                &format!("{} {}", c.id, lang),
            );
            Redirect::to("/canned").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot add canned reply");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}

async fn canned_delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if !may_manage_canned(&p.user) {
        return forbidden(&p, "manage canned replies");
    }
    if !p.csrf_ok(form.get("csrf").map(String::as_str)) {
        return csrf_refused(&p);
    }
    let _ = state.store.remove_canned(id);
    let _ = state
        .store
        .audit(&p.user.name, "canned-delete", None, &id.to_string());
    Redirect::to("/canned").into_response()
}

// ---- audit and figures ----

async fn audit_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if p.user.role != Role::Admin {
        return forbidden(&p, "read the audit trail");
    }
    let rows = state.store.audit_log(500).unwrap_or_default();
    page(
        "Audit",
        Some(&p),
        html! {
            h1 { "Audit trail" }
            table {
                thead { tr { th { "When" } th { "Who" } th { "What" } th { "Ticket" } th { "Detail" } } }
                tbody { @for r in &rows { tr {
                    td { (local_time(&state, r.at)) } td { (r.user) } td { (r.action) }
                    td { @if let Some(t) = r.ticket { a href={ "/tickets/" (t) } { "#" (t) } } }
                    td { (r.detail) }
                } } }
            }
        },
    )
    .into_response()
}

/// Per-language figures for supervisors: how long people wait for a first answer and for a
/// resolution.
pub fn figures(tickets: &[Ticket]) -> Vec<LanguageFigures> {
    Lang::ALL
        .iter()
        .map(|&lang| {
            let of_lang: Vec<&Ticket> = tickets.iter().filter(|t| t.language == lang).collect();
            let mut first: Vec<u64> = of_lang
                .iter()
                .filter_map(|t| {
                    t.first_response_at
                        .map(|f| f.saturating_sub(t.opened_at) / 1000)
                })
                .collect();
            let mut resolution: Vec<u64> = of_lang
                .iter()
                .filter_map(|t| t.closed_at.map(|c| c.saturating_sub(t.opened_at) / 1000))
                .collect();
            LanguageFigures {
                language: lang,
                open: of_lang
                    .iter()
                    .filter(|t| t.status == TicketStatus::Open)
                    .count(),
                waiting: of_lang
                    .iter()
                    .filter(|t| t.waiting_since.is_some() && t.status == TicketStatus::Open)
                    .count(),
                closed: of_lang
                    .iter()
                    .filter(|t| t.status == TicketStatus::Closed)
                    .count(),
                median_first_response_seconds: median(&mut first),
                median_resolution_seconds: median(&mut resolution),
            }
        })
        .collect()
}

#[derive(Debug, serde::Serialize)]
pub struct LanguageFigures {
    pub language: Lang,
    pub open: usize,
    pub waiting: usize,
    pub closed: usize,
    pub median_first_response_seconds: Option<u64>,
    pub median_resolution_seconds: Option<u64>,
}

fn median(values: &mut [u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() / 2])
}

fn duration(seconds: Option<u64>) -> String {
    match seconds {
        None => "—".into(),
        Some(s) if s < 3600 => format!("{} min", s / 60),
        Some(s) => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

async fn figures_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if !matches!(p.user.role, Role::Supervisor | Role::Admin) {
        return forbidden(&p, "see the figures");
    }
    let rows = figures(&state.store.tickets().unwrap_or_default());
    page(
        "Figures",
        Some(&p),
        html! {
            h1 { "Figures per language" }
            table {
                thead { tr { th { "Language" } th { "Open" } th { "Waiting" } th { "Closed" } th { "Median first response" } th { "Median resolution" } } }
                tbody { @for r in &rows { tr {
                    td { (lang_name(r.language)) } td { (r.open) } td { (r.waiting) } td { (r.closed) }
                    td { (duration(r.median_first_response_seconds)) } td { (duration(r.median_resolution_seconds)) }
                } } }
            }
        },
    )
    .into_response()
}
