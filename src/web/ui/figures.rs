//! The figures page for supervisors and admins ([`crate::helpdesk::figures`]).

use axum::extract::State;
use axum::response::IntoResponse;
use maud::html;

use super::layout::{lang_name, page};
use crate::domain::Role;
use crate::helpdesk::figures::figures;
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::extract::SignedIn;

fn duration(seconds: Option<u64>) -> String {
    match seconds {
        None => "—".into(),
        Some(s) if s < 3600 => format!("{} min", s / 60),
        Some(s) => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

pub async fn figures_page(State(state): State<AppState>, p: SignedIn) -> PageResult {
    let p = p.require(&[Role::Supervisor, Role::Admin], "see the figures")?;
    let rows = figures(&state.store.tickets().await?);
    Ok(page(
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
    .into_response())
}
