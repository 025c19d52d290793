//! The browser pages: login, the interpreter queue, a conversation, canned replies, figures and
//! the audit trail. Server-rendered (maud escapes everything people wrote), small, usable on a
//! slow connection; live updates come as server-sent events that trigger a fragment reload.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};

use super::AppState;
use super::assets;
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
        .route("/audit.csv", get(audit_csv))
        .route("/figures", get(figures_page))
}

pub(crate) fn page(title: &str, principal: Option<&Principal>, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · kabar" }
                    link rel="stylesheet" href=(assets::url("style.css"));
                }
                body {
                    @if principal.is_none() {
                        nav { a href="/" { strong { "kabar" } } a href="/login" { "Log in" } }
                    }
                    @if let Some(p) = principal {
                        nav {
                            a href="/" { strong { "kabar" } }
                            @if works_tickets(&p.user) { a href="/queue" { "Queue" } }
                            @if p.user.role != Role::Interpreter { a href="/canned" { "Canned replies" } }
                            @if matches!(p.user.role, Role::Supervisor | Role::Admin) { a href="/figures" { "Figures" } }
                            @if super::broadcasts::may_broadcast(&p.user) { a href="/broadcasts" { "Broadcasts" } }
                            @if matches!(p.user.role, Role::Staff | Role::Admin) { a href="/staff/payments" { "Payments" } a href="/staff/contacts" { "Contacts" } a href="/staff/directory" { "Directory" } }
                            @if p.user.role == Role::Admin { a href="/admin/users" { "Users" } }
                            a href="/admin/tokens" { "API tokens" }
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
                .format("%d %b %H:%M %Z")
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
            NotSignedIn::Unavailable => store_failed(None, "cannot read the session"),
        }
    }
}

/// The logged-in person, or a redirect to the login page.
pub(super) fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Principal, NotSignedIn> {
    match auth::principal(&state.store, headers, state.clock.now()) {
        Ok(Some(p)) if p.csrf.is_some() => Ok(p),
        Ok(_) => Err(NotSignedIn::Login),
        Err(e) => {
            tracing::error!(error = %e, "cannot read session");
            Err(NotSignedIn::Unavailable)
        }
    }
}

/// [`signed_in`] for other page modules: the person, or the redirect/error response.
pub(super) fn signed_in_page(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Principal, Box<Response>> {
    signed_in(state, headers).map_err(|r| Box::new(r.into_response()))
}

/// The signed-in caller of a page, refused as a page: not signed in → the login, a role not in
/// `roles` (when given) → 403 naming `what`, a form without its CSRF token → "form expired".
pub(super) fn page_caller(
    state: &AppState,
    headers: &HeaderMap,
    roles: Option<&[Role]>,
    what: &str,
    form: Option<&HashMap<String, String>>,
) -> Result<Principal, Box<Response>> {
    let p = signed_in_page(state, headers)?;
    if roles.is_some_and(|roles| !roles.contains(&p.user.role)) {
        return Err(Box::new(forbidden(&p, what)));
    }
    if let Some(form) = form {
        if !p.csrf_ok(form.get("csrf").map(String::as_str)) {
            return Err(Box::new(csrf_refused(&p)));
        }
    }
    Ok(p)
}

pub(super) fn forbidden_page(principal: &Principal, what: &str) -> Response {
    forbidden(principal, what)
}

pub(super) fn csrf_refused_page(principal: &Principal) -> Response {
    csrf_refused(principal)
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

/// A store error as a page: 503 with the reason, never an empty list that looks like
/// "nothing here".
fn store_failed(principal: Option<&Principal>, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "store error behind a page");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            "Unavailable",
            principal,
            html! {
                h1 { "The data store is unavailable" }
                p.error role="alert" { "kabar could not read or write its data: " (e.to_string()) }
                p { "Nothing was changed. Try again in a moment; if it keeps failing, tell the administrator." }
            },
        ),
    )
        .into_response()
}

pub(crate) fn encode_query(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn secure_cookies(state: &AppState) -> bool {
    state.config.server.public_url.scheme() == "https"
}

// ---- login ----

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let next = super::pages::safe_next(query.get("next").map(String::as_str));
    if let Ok(Some(p)) = auth::principal(&state.store, &headers, state.clock.now()) {
        return Redirect::to(next.unwrap_or(home_of(&p.user))).into_response();
    }
    let expired = query.contains_key("expired").then_some(
        "Your session ended. Log in again to go on: a reply you were typing is kept in this browser.",
    );
    login_form(&state, expired, next)
}

/// Where a user lands after logging in.
fn home_of(user: &User) -> &'static str {
    if works_tickets(user) {
        "/queue"
    } else {
        // Staff: notices are their daily work; the menu has the schedule, contacts, directory.
        "/broadcasts"
    }
}

/// The login page with a fresh CSRF token in its cookie and its form.
fn login_form(state: &AppState, error: Option<&str>, next: Option<&str>) -> Response {
    let token = state.login_csrf.issue(now_ms());
    let html = page(
        "Log in",
        None,
        html! {
            h1 { "kabar — log in" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form.panel method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                p { label { "User name " input name="name" autocomplete="username" required; } }
                p { label { "Password " input type="password" name="password" autocomplete="current-password" required; } }
                button { "Log in" }
            }
        },
    );
    (
        [(
            header::SET_COOKIE,
            auth::login_cookie(&token, secure_cookies(state)),
        )],
        html,
    )
        .into_response()
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let cookie = auth::cookie_value(&headers, auth::LOGIN_COOKIE);
    let sent = form.get("csrf").map(String::as_str);
    let next = super::pages::safe_next(form.get("next").map(String::as_str));
    if !state.login_csrf.check(sent, cookie.as_deref(), now_ms()) {
        let mut refused = login_form(
            &state,
            Some("This login form expired. Please try again."),
            next,
        );
        *refused.status_mut() = StatusCode::FORBIDDEN;
        return refused;
    }
    let name = form
        .get("name")
        .map(|s| s.trim())
        .unwrap_or_default()
        .to_string();
    let password = form.get("password").cloned().unwrap_or_default();
    if let Some(wait) = state.login_limiter.blocked(&name) {
        let minutes = wait.as_secs().div_ceil(60);
        let mut refused = login_form(
            &state,
            Some(&format!(
                "Too many failed attempts. Try again in {minutes} minute(s)."
            )),
            next,
        );
        *refused.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return refused;
    }
    // A store error is not a wrong password: say so, and do not count it as a failed attempt.
    let user = match state.store.user(&name) {
        Ok(u) => u,
        Err(e) => return store_failed(None, e),
    };
    // Verify even for unknown names so timing does not tell which names exist.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        state.login_limiter.failed(&name);
        // Failed logins are in the trail (the name as typed, cut short: never a password).
        let typed: String = name.chars().take(64).collect();
        if let Err(e) = state.store.audit(&typed, "login-failed", None, "") {
            return store_failed(None, e);
        }
        let mut refused = login_form(&state, Some("Wrong user name or password."), next);
        *refused.status_mut() = StatusCode::UNAUTHORIZED;
        return refused;
    };
    state.login_limiter.succeeded(&name);
    let token = auth::new_token();
    let csrf = auth::new_token();
    // No session without its audit row: the trail never misses a login.
    if let Err(e) = state.store.audit(&user.name, "login", None, "") {
        return store_failed(None, e);
    }
    if let Err(e) = state.store.create_web_session(
        &user.name,
        &auth::token_hash(&token),
        &csrf,
        state.clock.now() + auth::SESSION_MS,
    ) {
        return store_failed(None, e);
    }
    let home = next.unwrap_or(home_of(&user)).to_string();
    (
        [
            (
                header::SET_COOKIE,
                auth::session_cookie(&token, secure_cookies(&state)),
            ),
            (header::LOCATION, home),
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
        if let Err(e) = state.store.end_web_session(&auth::token_hash(&token)) {
            return store_failed(Some(&principal), e);
        }
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

pub(super) fn csrf_refused(principal: &Principal) -> Response {
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

async fn queue_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if !works_tickets(&p.user) {
        return forbidden(&p, "see the interpreter queue");
    }
    let list = match queue_list(&state, &p.user) {
        Ok(l) => l,
        Err(e) => return store_failed(Some(&p), e),
    };
    page(
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
    .into_response()
}

async fn queue_fragment(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers) {
        Ok(p) if works_tickets(&p.user) => match queue_list(&state, &p.user) {
            Ok(list) => Html(list.into_string()).into_response(),
            Err(e) => store_failed(Some(&p), e),
        },
        Ok(p) => forbidden(&p, "see the interpreter queue"),
        Err(r) => r.into_response(),
    }
}

fn queue_list(state: &AppState, user: &User) -> Result<Markup, crate::store::StoreError> {
    let mut tickets: Vec<Ticket> = state
        .store
        .tickets()?
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
        (ticket_table(state, user, &waiting)?)
        h2 { "Mine (" (mine.len()) ")" }
        (ticket_table(state, user, &mine)?)
        @if !others.is_empty() {
            h2 { "Claimed by others (" (others.len()) ")" }
            (ticket_table(state, user, &others)?)
        }
    })
}

fn ticket_table(
    state: &AppState,
    user: &User,
    tickets: &[Ticket],
) -> Result<Markup, crate::store::StoreError> {
    // Read before rendering, so a store error shows as an error, not as "0 new" or "-".
    let mut rows = Vec::with_capacity(tickets.len());
    for t in tickets {
        // "New" counts what the person wrote since this user last looked, not the bot's lines.
        let seen = state.store.seen(&user.name, t.id)?;
        let mut unread = 0;
        for &message in t.message_ids.iter().skip(seen) {
            if state
                .store
                .message(message)?
                .is_some_and(|m| m.direction == Direction::In)
            {
                unread += 1;
            }
        }
        let channel = state
            .store
            .contact(&t.phone)?
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

// ---- a conversation ----

async fn ticket_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let detail = match tickets::view(&state, &p, id) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let canned = match state.store.canned_replies(Some(detail.language)) {
        Ok(c) => c,
        Err(e) => return store_failed(Some(&p), e),
    };
    let users: Vec<User> = match state.store.users() {
        Ok(u) => u,
        Err(e) => return store_failed(Some(&p), e),
    }
    .into_iter()
    .filter(works_tickets)
    .collect();
    let csrf = p.csrf.clone().unwrap_or_default();
    let action = |name: &str, label: &str, confirm: Option<&str>| {
        html! {
            form method="post" action={ "/tickets/" (id) "/" (name) } data-confirm=[confirm] {
                input type="hidden" name="csrf" value=(csrf);
                button { (label) }
            }
        }
    };
    let open = detail.status == TicketStatus::Open;
    let may = match state.store.ticket(id) {
        Ok(Some(t)) => crate::helpdesk::allowed(&p.user, &t),
        Ok(None) => crate::helpdesk::Allowed::default(),
        Err(e) => return store_failed(Some(&p), e),
    };
    let holder = detail.claimed_by.clone();
    let notice = query.get("error").or(query.get("done"));
    page(
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
                            (detail.phone) " · channel " (detail.channel.unwrap_or("-"))
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
        "erase" => Action::Erase,
        "reply" => Action::Reply { text: text() },
        "note" => Action::Note { text: text() },
        "transfer" => Action::Transfer {
            to_user: form.get("to_user").cloned(),
            to_language: form.get("to_language").cloned(),
        },
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
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
    let p = match auth::principal(&state.store, &headers, state.clock.now()) {
        Ok(Some(p)) => p,
        _ => return StatusCode::UNAUTHORIZED.into_response(),
    };
    let message = match state.store.message(message_id) {
        Ok(Some(m)) => m,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return store_failed(None, e),
    };
    // Visible only to someone who may see a ticket of this person.
    let tickets = match state.store.tickets() {
        Ok(t) => t,
        Err(e) => return store_failed(None, e),
    };
    let allowed = works_tickets(&p.user)
        && tickets
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
            // Nobody sees a person's voice note or picture without it being in the trail.
            if let Err(e) = state.store.audit(
                &p.user.name,
                "media",
                None,
                &format!("message {message_id}"),
            ) {
                return store_failed(None, e);
            }
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
    let replies = match state.store.canned_replies(None) {
        Ok(r) => r,
        Err(e) => return store_failed(Some(&p), e),
    };
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
    crate::helpdesk::may(user, crate::helpdesk::Permission::ManageCanned)
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
    match state
        .store
        .add_canned_audited(lang, title, text, &p.user.name)
    {
        Ok(_) => Redirect::to("/canned").into_response(),
        Err(e) => store_failed(Some(&p), e),
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
    match state.store.remove_canned_audited(id, &p.user.name) {
        Ok(_) => Redirect::to("/canned").into_response(),
        Err(e) => store_failed(Some(&p), e),
    }
}

// ---- audit and figures ----

/// The audit trail's filters, as typed in the form (all optional).
#[derive(Debug, Default, serde::Deserialize)]
struct AuditFilter {
    #[serde(default)]
    user: String,
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    action: String,
    /// Days in the helpdesk time zone, `2026-12-01`.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl AuditFilter {
    /// A predicate over rows, or the reason the filter cannot be read.
    fn predicate(
        &self,
        tz: chrono_tz::Tz,
    ) -> Result<impl Fn(&crate::domain::AuditEntry) -> bool + use<>, String> {
        use chrono::TimeZone;
        let day = |text: &str, end: bool| -> Result<Option<Millis>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| format!("{text:?} is not a date like 2026-12-01"))?;
            let date = if end {
                date.succ_opt().unwrap_or(date)
            } else {
                date
            };
            let start = date
                .and_hms_opt(0, 0, 0)
                .and_then(|t| tz.from_local_datetime(&t).earliest())
                .ok_or_else(|| format!("{text:?} is not a day in {}", tz.name()))?;
            Ok(Some(start.timestamp_millis().max(0) as Millis))
        };
        let ticket = match self.ticket.trim().trim_start_matches('#') {
            "" => None,
            t => Some(
                t.parse::<u64>()
                    .map_err(|_| format!("{t:?} is not a ticket number"))?,
            ),
        };
        let (from, to) = (day(&self.from, false)?, day(&self.to, true)?);
        let user = self.user.trim().to_string();
        let action = self.action.trim().to_string();
        Ok(move |e: &crate::domain::AuditEntry| {
            (user.is_empty() || e.user == user)
                && (action.is_empty() || e.action.contains(action.as_str()))
                && ticket.is_none_or(|t| e.ticket == Some(t))
                && from.is_none_or(|f| e.at >= f)
                && to.is_none_or(|t| e.at < t)
        })
    }
}

/// Rows shown on the page; the CSV has up to [`AUDIT_CSV_ROWS`].
const AUDIT_PAGE_ROWS: usize = 500;
const AUDIT_CSV_ROWS: usize = 100_000;

async fn audit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if p.user.role != Role::Admin {
        return forbidden(&p, "read the audit trail");
    }
    let (rows, problem) = match filter.predicate(state.hours.timezone()) {
        Ok(keep) => match state.store.audit_search(keep, AUDIT_PAGE_ROWS) {
            Ok(r) => (r, None),
            Err(e) => return store_failed(Some(&p), e),
        },
        Err(why) => (Vec::new(), Some(why)),
    };
    let query = serde_urlencoded_query(&filter);
    page(
        "Audit",
        Some(&p),
        html! {
            h1 { "Audit trail" }
            form.panel.row method="get" action="/audit" {
                label { "Who " input name="user" value=(filter.user) size="10"; }
                label { "Ticket " input name="ticket" value=(filter.ticket) size="6"; }
                label { "Action " input name="action" value=(filter.action) size="10" placeholder="view, claim, login-failed…"; }
                label { "From " input type="date" name="from" value=(filter.from); }
                label { "To " input type="date" name="to" value=(filter.to); }
                button { "Filter" }
                a href={ "/audit.csv?" (query) } { "Download CSV" }
            }
            @if let Some(why) = problem { p.error role="alert" { (why) } }
            p.note { "Newest first, at most " (AUDIT_PAGE_ROWS) " rows; times are " (state.hours.timezone().name()) "." }
            div.scroll { table {
                thead { tr { th { "When" } th { "Who" } th { "What" } th { "Ticket" } th { "Detail" } } }
                tbody { @for r in &rows { tr {
                    td { (local_time(&state, r.at)) } td { (r.user) } td { (r.action) }
                    td { @if let Some(t) = r.ticket { a href={ "/tickets/" (t) } { "#" (t) } } }
                    td { (r.detail) }
                } } }
            } }
        },
    )
    .into_response()
}

async fn audit_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let p = match signed_in(&state, &headers) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if p.user.role != Role::Admin {
        return forbidden(&p, "read the audit trail");
    }
    let keep = match filter.predicate(state.hours.timezone()) {
        Ok(k) => k,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    let rows = match state.store.audit_search(keep, AUDIT_CSV_ROWS) {
        Ok(r) => r,
        Err(e) => return store_failed(Some(&p), e),
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(["at", "user", "action", "ticket", "detail"]);
    for r in &rows {
        let at = chrono::DateTime::from_timestamp_millis(r.at as i64)
            .map(|t| t.with_timezone(&state.hours.timezone()).to_rfc3339())
            .unwrap_or_default();
        let ticket = r.ticket.map(|t| t.to_string()).unwrap_or_default();
        let _ = out.write_record([at.as_str(), &r.user, &r.action, &ticket, &r.detail]);
    }
    let body = out.into_inner().unwrap_or_default();
    // Reading the trail is itself in the trail.
    if let Err(e) = state.store.audit(
        &p.user.name,
        "audit-export",
        None,
        &format!("{} rows", rows.len()),
    ) {
        return store_failed(Some(&p), e);
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// The filter again as a query string, for the CSV link.
fn serde_urlencoded_query(f: &AuditFilter) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("user", &f.user)
        .append_pair("ticket", &f.ticket)
        .append_pair("action", &f.action)
        .append_pair("from", &f.from)
        .append_pair("to", &f.to)
        .finish()
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
    let rows = match state.store.tickets() {
        Ok(t) => figures(&t),
        Err(e) => return store_failed(Some(&p), e),
    };
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
