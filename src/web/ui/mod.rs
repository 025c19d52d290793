//! The browser pages, one file per resource: login, the interpreter queue, a conversation,
//! media, canned replies, figures, the audit trail, broadcasts, staff data, users and tokens,
//! backups. Server-rendered (maud escapes everything people wrote), small, usable on a slow
//! connection; live updates come as server-sent events ([`super::sse`]). Errors are the same
//! values as the API's ([`super::error`]), rendered as pages by [`super::pages::finish`].
//! Nothing here imports the API (`api/`): what both use lives in the service modules.

pub mod admin;
pub mod audit;
pub mod backup;
pub mod broadcasts;
pub mod canned;
pub mod figures;
pub mod layout;
pub mod login;
pub mod media;
pub mod queue;
pub mod staff;
pub mod ticket;

use axum::Router;
use axum::routing::{get, post};

pub use layout::page;

use super::AppState;

/// Every page but the contacts upload (mounted with its own body limit and timeout).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/queue", get(queue::queue_page))
        .route("/queue/list", get(queue::queue_fragment))
        .route("/events", get(queue::events))
        .route("/tickets/{id}", get(ticket::ticket_page))
        .route("/tickets/{id}/messages", get(ticket::messages_fragment))
        .route("/tickets/{id}/{action}", post(ticket::ticket_action))
        .route("/media/{message_id}", get(media::media))
        .route("/canned", get(canned::canned_page).post(canned::canned_add))
        .route("/canned/{id}/delete", post(canned::canned_delete))
        .route("/audit", get(audit::audit_page))
        .route("/audit.csv", get(audit::audit_csv))
        .route("/figures", get(figures::figures_page))
        .route("/broadcasts", get(broadcasts::list_page))
        .route(
            "/broadcasts/new",
            get(broadcasts::new_page).post(broadcasts::create),
        )
        .route("/broadcasts/events", get(broadcasts::events))
        .route("/broadcasts/{id}", get(broadcasts::detail_page))
        .route("/broadcasts/{id}/{action}", post(broadcasts::action))
        .route(
            "/admin/users",
            get(admin::users_page).post(admin::users_add),
        )
        .route("/admin/users/{name}", post(admin::users_change))
        .route(
            "/admin/tokens",
            get(admin::tokens_page).post(admin::tokens_create),
        )
        .route("/admin/tokens/{id}/revoke", post(admin::tokens_revoke))
        .route("/staff/payments", get(staff::payments_page))
        .route("/staff/payments/import", post(staff::payments_import))
        .route("/staff/payments/edit", post(staff::payments_edit))
        .route("/staff/contacts", get(staff::contacts_page))
        .route("/staff/directory", get(staff::directory_page))
        .route("/staff/directory/import", post(staff::directory_import))
        .route("/staff/directory/edit", post(staff::directory_edit))
        .route(
            "/backup",
            get(backup::backup_page).post(backup::backup_form),
        )
}
