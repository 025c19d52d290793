//! What every page shares: the layout with the menu of the signed-in person's role, and the
//! small formatting helpers (names, times, query strings).

use axum::response::Html;
use maud::{DOCTYPE, Markup, html};

use crate::domain::{Millis, Role, now_ms};
use crate::i18n::Lang;
use crate::web::AppState;
use crate::web::assets;
use crate::web::auth::Principal;
use crate::web::broadcasts::may_broadcast;
use crate::web::tickets::works_tickets;

/// A whole page: [`layout`] around `body`.
pub fn page(title: &str, principal: Option<&Principal>, body: Markup) -> Html<String> {
    Html(layout(title, principal, body).into_string())
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Interpreter => "interpreter",
        Role::Supervisor => "supervisor",
        Role::Staff => "staff",
        Role::Admin => "admin",
    }
}

pub fn lang_name(lang: Lang) -> &'static str {
    lang.english_name()
}

/// "5 min", "2 h 10 min", "3 d".
pub fn ago(since: Millis) -> String {
    let mins = now_ms().saturating_sub(since) / 60_000;
    match mins {
        0 => "just now".into(),
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

/// A time as staff read it: in the helpdesk time zone.
pub fn local_time(state: &AppState, at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at as i64)
        .map(|t| {
            t.with_timezone(&state.hours.timezone())
                .format("%d %b %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

pub fn encode_query(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub fn secure_cookies(state: &AppState) -> bool {
    state.config.server.public_url.scheme() == "https"
}

/// The page around `body`: the menu of the signed-in person's role (or the login link).
pub fn layout(title: &str, principal: Option<&Principal>, body: Markup) -> Markup {
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
                        @if may_broadcast(&p.user) { a href="/broadcasts" { "Broadcasts" } }
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
                    p.storage-warning role="alert" { (warning) }
                }
                main { (body) }
            }
        }
    }
}
