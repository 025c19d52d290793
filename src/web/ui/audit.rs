//! The audit trail for admins: filtered by who, ticket, action and days, as a page and as CSV.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use maud::html;

use super::layout::{local_time, page};
use crate::domain::{Millis, Role};
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::SignedIn;

const READ: &str = "read the audit trail";

/// The audit trail's filters, as typed in the form (all optional).
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditFilter {
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
    ) -> Result<impl Fn(&crate::domain::AuditEntry) -> bool + Send + Sync + use<>, String> {
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

pub async fn audit_page(
    State(state): State<AppState>,
    p: SignedIn,
    Query(filter): Query<AuditFilter>,
) -> PageResult {
    let p = p.require(&[Role::Admin], READ)?;
    let (rows, problem) = match filter.predicate(state.hours.timezone()) {
        Ok(keep) => (
            state
                .store
                .audit_search(Box::new(keep), AUDIT_PAGE_ROWS)
                .await?,
            None,
        ),
        Err(why) => (Vec::new(), Some(why)),
    };
    let query = serde_urlencoded_query(&filter);
    Ok(page(
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
    .into_response())
}

pub async fn audit_csv(
    State(state): State<AppState>,
    p: SignedIn,
    Query(filter): Query<AuditFilter>,
) -> PageResult {
    let p = p.require(&[Role::Admin], READ)?;
    let keep = filter
        .predicate(state.hours.timezone())
        .map_err(|why| ApiError::bad_request("bad filter", why))?;
    let rows = state
        .store
        .audit_search(Box::new(keep), AUDIT_CSV_ROWS)
        .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ApiError::unavailable(e);
    out.write_record(["at", "user", "action", "ticket", "detail"])
        .map_err(failed)?;
    for r in &rows {
        let at = chrono::DateTime::from_timestamp_millis(r.at as i64)
            .map(|t| t.with_timezone(&state.hours.timezone()).to_rfc3339())
            .unwrap_or_default();
        let ticket = r.ticket.map(|t| t.to_string()).unwrap_or_default();
        out.write_record([at.as_str(), &r.user, &r.action, &ticket, &r.detail])
            .map_err(failed)?;
    }
    let body = out.into_inner().map_err(ApiError::unavailable)?;
    // Reading the trail is itself in the trail.
    state
        .store
        .audit(
            &p.user.name,
            "audit-export",
            None,
            &format!("{} rows", rows.len()),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        body,
    )
        .into_response())
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
