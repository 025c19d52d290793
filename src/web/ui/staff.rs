//! Pages for staff and admins: the payment schedule, contacts (with the import of up to
//! 100,000 rows) and the directory of useful contacts per city.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};

use super::layout::{encode_query, page};
use crate::domain::{DirectoryKind, PaymentEntry, Role, now_ms};
use crate::import::RowError;
use crate::web::auth::Principal;
use crate::web::contacts::ContactsImportError;
use crate::web::error::{PageError, PageResult};
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{AppState, assets, rfc3339};

/// Staff and admins only.
const STAFF: &[Role] = &[Role::Staff, Role::Admin];
const MANAGE: &str = "manage staff data";

/// What happened, shown above the page.
enum Outcome {
    Done(String),
    Refused(String),
    Rows(Vec<RowError>),
    /// A contacts import that went ahead (invalid rows skipped on request).
    Summary {
        imported: usize,
        new: usize,
        skipped: Vec<RowError>,
    },
}

fn outcome_markup(outcome: &Option<Outcome>) -> Markup {
    html! {
        @match outcome {
            Some(Outcome::Done(text)) => p.notice role="status" { (text) },
            Some(Outcome::Refused(text)) => p.error role="alert" { (text) },
            Some(Outcome::Rows(rows)) => div.error role="alert" {
                p { (rows.len()) " invalid row(s); nothing was imported. Fix them and import again:" }
                ul { @for e in rows.iter().take(100) { li { "line " (e.line) ": " (e.reason) } } }
                @if rows.len() > 100 { p { "… and " (rows.len() - 100) " more." } }
            },
            Some(Outcome::Summary { imported, new, skipped }) => (contacts_summary(*imported, *new, skipped)),
            None => {},
        }
    }
}

fn import_form(action: &str, csrf: &str, columns: &str) -> Markup {
    html! {
        form.panel method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            h2 { "Import" }
            p { "Paste the CSV file (first line: " code { (columns) } "). Every row is checked first; nothing is imported if any row is invalid." }
            p { textarea name="csv" rows="8" cols="80" required {} }
            button { "Import" }
        }
    }
}

fn status_of(outcome: &Option<Outcome>) -> StatusCode {
    match outcome {
        Some(Outcome::Rows(_)) | Some(Outcome::Refused(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    }
}

// payments

async fn payments_answer(state: &AppState, p: &Principal, outcome: Option<Outcome>) -> PageResult {
    let entries = state.store.payments().await?;
    let csrf = p.csrf.clone().unwrap_or_default();
    let body = html! {
        h1 { "Payment schedule" }
        (outcome_markup(&outcome))
        p { "The allowance flow tells people the next date for their city." }
        table {
            thead { tr { th { "City" } th { "Next date" } th { "Note (staff only)" } th { "Updated" } } }
            tbody { @for e in &entries { tr {
                td { bdi { (e.city) } }
                td { form method="post" action="/staff/payments/edit" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="city" value=(e.city);
                    input type="date" name="date" value=(e.next_payment_date.to_string()) required;
                    " " button { "Save" }
                } }
                td { (e.note.clone().unwrap_or_default()) }
                td { (rfc3339(e.updated_at)) }
            } } }
        }
        (import_form("/staff/payments/import", &csrf, "city,next_payment_date,note"))
    };
    Ok((status_of(&outcome), page("Payment schedule", Some(p), body)).into_response())
}

pub async fn payments_page(
    State(state): State<AppState>,
    p: SignedIn,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let p = p.require(STAFF, MANAGE)?;
    // After an edit the form redirects here; the notice shows the stored date of a city in
    // the schedule, never text taken from the address.
    let saved = match query.get("saved") {
        Some(city) => state
            .store
            .payments()
            .await?
            .into_iter()
            .find(|e| &e.city == city),
        None => None,
    };
    let outcome =
        saved.map(|e| Outcome::Done(format!("{}: next date {}.", e.city, e.next_payment_date)));
    payments_answer(&state, &p, outcome).await
}

pub async fn payments_import(
    State(state): State<AppState>,
    CsrfForm { signed_in, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let p = signed_in.require(STAFF, MANAGE)?;
    let csv = form.get("csv").cloned().unwrap_or_default();
    let outcome = match crate::import::parse_payments(csv.as_bytes()) {
        Err(e) => Outcome::Refused(e.to_string()),
        Ok(parsed) if !parsed.errors.is_empty() => Outcome::Rows(parsed.errors),
        Ok(parsed) => {
            let entries = crate::import::payment_entries(&parsed.rows, now_ms());
            state.store.upsert_payments(&entries).await?;
            state
                .store
                .audit(
                    &p.user.name,
                    "payments-import",
                    None,
                    &format!("{} cities", entries.len()),
                )
                .await?;
            Outcome::Done(format!("{} cities updated.", entries.len()))
        }
    };
    payments_answer(&state, &p, Some(outcome)).await
}

pub async fn payments_edit(
    State(state): State<AppState>,
    CsrfForm { signed_in, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let p = signed_in.require(STAFF, MANAGE)?;
    let city = form.get("city").map(|c| c.trim()).unwrap_or_default();
    let date = form.get("date").map(|d| d.trim()).unwrap_or_default();
    let existing = state
        .store
        .payments()
        .await?
        .into_iter()
        .find(|e| e.city.eq_ignore_ascii_case(city));
    let outcome = match (existing, crate::import::parse_date(date)) {
        (None, _) => Outcome::Refused(format!("{city:?} is not in the schedule; import it first")),
        (Some(_), Err(reason)) => Outcome::Refused(reason),
        (Some(old), Ok(next_payment_date)) => {
            let entry = PaymentEntry {
                next_payment_date,
                updated_at: now_ms(),
                ..old.clone()
            };
            state
                .store
                .upsert_payments(std::slice::from_ref(&entry))
                .await?;
            state
                .store
                .audit(
                    &p.user.name,
                    "payment-edit",
                    None,
                    &format!(
                        "{}: {} -> {}",
                        entry.city, old.next_payment_date, next_payment_date
                    ),
                )
                .await?;
            // A redirect: a reload of the answer sends nothing again.
            let to = format!("/staff/payments?saved={}", encode_query(&entry.city));
            return Ok(Redirect::to(&to).into_response());
        }
    };
    payments_answer(&state, &p, Some(outcome)).await
}

// contacts

pub async fn contacts_page(
    State(state): State<AppState>,
    p: SignedIn,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let p = p.require(STAFF, MANAGE)?;
    contacts_answer(&state, &p, &query, None).await
}

/// At most this many contacts are listed; the search narrows it down.
const CONTACTS_SHOWN: usize = 200;

async fn contacts_answer(
    state: &AppState,
    p: &Principal,
    query: &HashMap<String, String>,
    outcome: Option<Outcome>,
) -> PageResult {
    let get = |name: &str| query.get(name).map(|v| v.trim()).unwrap_or_default();
    let (q, language, city, opted_out) = (get("q"), get("language"), get("city"), get("opted_out"));
    let tag = get("tag").to_lowercase();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let contacts = state.store.contacts().await?;
    let matching: Vec<_> = contacts
        .iter()
        .filter(|c| {
            q.is_empty()
                || (!digits.is_empty() && c.id.as_str().contains(&digits))
                || c.matches(q)
                || c.case_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(q))
        })
        .filter(|c| language.is_empty() || c.language.is_some_and(|l| l.tag() == language))
        .filter(|c| {
            city.is_empty()
                || c.city
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(city))
        })
        .filter(|c| tag.is_empty() || c.tags.iter().any(|t| t.to_lowercase() == tag))
        .filter(|c| opted_out != "yes" || c.opted_out)
        .collect();
    let csrf = p.csrf.clone().unwrap_or_default();
    let body = html! {
        h1 { "Contacts" }
        (outcome_markup(&outcome))
        form method="get" action="/staff/contacts" {
            label { "Phone, username or case id " input name="q" value=(q); }
            " "
            label { "Language " select name="language" {
                option value="" { "any" }
                @for l in crate::i18n::Lang::ALL { option value=(l.tag()) selected[l.tag() == language] { (l.english_name()) } } } }
            " "
            label { "City " input name="city" value=(city) size="12"; }
            " "
            label { "Tag " input name="tag" value=(tag) size="12"; }
            " "
            label { input type="checkbox" name="opted_out" value="yes" checked[opted_out == "yes"]; " opted out only" }
            " " button { "Search" }
        }
        p { (matching.len()) " of " (contacts.len()) " contact(s)"
            @if matching.len() > CONTACTS_SHOWN { "; the first " (CONTACTS_SHOWN) " are shown" } "." }
        table {
            thead { tr { th { "Phone" } th { "Language" } th { "City" } th { "Case id" } th { "Name" } th { "Tags" } th { "Notices" } } }
            tbody { @for c in matching.iter().take(CONTACTS_SHOWN) { tr {
                td { bdi { (c.label()) } }
                td { (c.language.map(|l| l.tag()).unwrap_or("")) }
                td { bdi { (c.city.clone().unwrap_or_default()) } }
                td { (c.case_id.clone().unwrap_or_default()) }
                td { bdi { (c.name.clone().unwrap_or_default()) } }
                td { (c.tags.join(", ")) }
                td { @if c.opted_out { strong { "opted out" } } @else { "yes" } }
            } } }
        }
        div #import-outcome {}
        (contacts_import_form(&csrf))
        script src=(assets::url("contacts.js")) {}
    };
    Ok((status_of(&outcome), page("Contacts", Some(p), body)).into_response())
}

/// The contacts import form: a file (uploaded by `contacts.js` to `/api/contacts/import` with a
/// progress bar) or pasted text; without JavaScript it is a plain multipart POST here.
fn contacts_import_form(csrf: &str) -> Markup {
    html! {
        form.panel #contacts-import method="post" action="/staff/contacts/import" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            h2 { "Import" }
            p { "A CSV file (first line: " code { "phone,language,city,case_id,name,tags" } "; tags separated by " code { ";" } "). Every row is checked first. 100,000 contacts (about 5 MB) take a minute at most." }
            p { label { "CSV file " input #contacts-file type="file" name="file" accept=".csv,text/csv,text/plain"; } }
            details {
                summary { "or paste the CSV" }
                p { textarea name="csv" rows="8" cols="80" {} }
            }
            p { label { input type="checkbox" name="skip_invalid" value="on"; " import the valid rows and list the invalid ones (otherwise nothing is imported while any row is invalid)" } }
            p #import-progress-line hidden {
                progress #import-progress max="100" value="0" {}
                " " output #import-status {}
            }
            button { "Import" }
        }
    }
}

/// An import's summary, as the page shows it (`contacts.js` builds the same from the API's JSON).
fn contacts_summary(imported: usize, new: usize, skipped: &[RowError]) -> Markup {
    html! {
        div.notice #import-summary role="status" {
            p { (imported) " contact(s) imported: " (new) " new, " (imported - new) " updated." }
            @if !skipped.is_empty() {
                p { (skipped.len()) " invalid row(s) skipped:" }
                ul { @for e in skipped.iter().take(100) { li { "line " (e.line) ": " (e.reason) } } }
                @if skipped.len() > 100 { p { "… and " (skipped.len() - 100) " more." } }
            }
        }
    }
}

/// The fields of the import form, from a multipart upload or a urlencoded form.
#[derive(Default)]
struct ImportForm {
    csrf: Option<String>,
    csv: Vec<u8>,
    skip_invalid: bool,
}

async fn read_import_form(
    request: axum::extract::Request,
    state: &AppState,
) -> Result<ImportForm, (StatusCode, String)> {
    use axum::extract::FromRequest;
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let mut form = ImportForm::default();
    if !multipart {
        let Form(fields) = Form::<HashMap<String, String>>::from_request(request, state)
            .await
            .map_err(|e| (e.status(), e.body_text()))?;
        form.csrf = fields.get("csrf").cloned();
        form.skip_invalid = fields.get("skip_invalid").is_some_and(|v| v == "on");
        form.csv = fields.get("csv").cloned().unwrap_or_default().into_bytes();
        return Ok(form);
    }
    let mut parts = axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|e| (e.status(), e.body_text()))?;
    let (mut file, mut pasted) = (Vec::new(), Vec::new());
    // Over the body limit is a 413, a broken upload a 400.
    let failed = |e: axum::extract::multipart::MultipartError| (e.status(), e.body_text());
    while let Some(field) = parts.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(failed)?;
        match name.as_str() {
            "csrf" => form.csrf = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "skip_invalid" => form.skip_invalid = &bytes[..] == b"on",
            "file" => file = bytes.to_vec(),
            "csv" => pasted = bytes.to_vec(),
            _ => {}
        }
    }
    form.csv = if file.is_empty() { pasted } else { file };
    Ok(form)
}

/// `POST /staff/contacts/import` (multipart or urlencoded): mounted beside
/// `/api/contacts/import` with the same body limit and timeout (a 100,000-row file).
pub async fn contacts_import(
    State(state): State<AppState>,
    p: SignedIn,
    request: axum::extract::Request,
) -> PageResult {
    // Who it is first: nothing of the upload is read for a stranger.
    let p = p.require(STAFF, MANAGE)?;
    let none = HashMap::new();
    let form = match read_import_form(request, &state).await {
        Ok(f) => f,
        Err((status, reason)) => {
            let outcome = Outcome::Refused(format!("the upload could not be read: {reason}"));
            let mut r = contacts_answer(&state, &p, &none, Some(outcome)).await?;
            *r.status_mut() = status;
            return Ok(r);
        }
    };
    p.check_csrf(form.csrf.as_deref())?;
    if form.csv.iter().all(u8::is_ascii_whitespace) {
        let outcome = Outcome::Refused("choose a CSV file or paste one".into());
        return contacts_answer(&state, &p, &none, Some(outcome)).await;
    }
    let outcome = match crate::web::contacts::import_contacts(
        &state.store,
        form.csv,
        form.skip_invalid,
        &p.user.name,
    )
    .await
    {
        Ok(done) => Outcome::Summary {
            imported: done.imported,
            new: done.new,
            skipped: done.skipped,
        },
        Err(ContactsImportError::File(e)) => Outcome::Refused(e.to_string()),
        Err(ContactsImportError::InvalidRows(rows)) => Outcome::Rows(rows),
        Err(ContactsImportError::Store(e)) => return Err(PageError::from(e)),
        Err(ContactsImportError::Task(e)) => return Err(PageError::from(e)),
    };
    contacts_answer(&state, &p, &none, Some(outcome)).await
}

// directory

async fn directory_answer(state: &AppState, p: &Principal, outcome: Option<Outcome>) -> PageResult {
    let entries = state.store.directory().await?;
    let csrf = p.csrf.clone().unwrap_or_default();
    let body = html! {
        h1 { "Directory" }
        (outcome_markup(&outcome))
        p { "People who ask how to reach UNHCR get the entries of their city, exactly as written here. Leave a field empty to drop it; a phone or an address is needed." }
        table {
            thead { tr { th { "City" } th { "Kind" } th { "Name" } th { "Phone" } th { "Address" } th { "Hours" } th {} } }
            // A form cannot wrap a table row: each row's fields name their form instead.
            tbody { @for (i, e) in entries.iter().enumerate() { @let id = format!("entry-{i}"); tr {
                td { input form=(id) name="city" value=(e.city) size="10" required; }
                td { select form=(id) name="kind" { @for k in DirectoryKind::ALL { option value=(k.name()) selected[k == e.kind] { (k.name()) } } } }
                td { input form=(id) name="name" value=(e.name) dir="auto" required; }
                td { input form=(id) name="phone" value=(e.phone.clone().unwrap_or_default()) size="14"; }
                td { input form=(id) name="address" value=(e.address.clone().unwrap_or_default()) dir="auto"; }
                td { input form=(id) name="hours" value=(e.hours.clone().unwrap_or_default()) size="14"; }
                td { form id=(id) method="post" action="/staff/directory/edit" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="old_city" value=(e.city);
                    input type="hidden" name="old_kind" value=(e.kind.name());
                    input type="hidden" name="old_name" value=(e.name);
                    button name="do" value="save" { "Save" } " " button name="do" value="delete" { "Delete" }
                } }
            } } }
        }
        (import_form("/staff/directory/import", &csrf, "city,kind,name,phone,address,hours"))
    };
    Ok((status_of(&outcome), page("Directory", Some(p), body)).into_response())
}

pub async fn directory_page(
    State(state): State<AppState>,
    p: SignedIn,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let p = p.require(STAFF, MANAGE)?;
    // Fixed notices after an edit's redirect, never text from the address.
    let outcome = match query.get("done").map(String::as_str) {
        Some("saved") => Some(Outcome::Done("Entry saved.".into())),
        Some("deleted") => Some(Outcome::Done("Entry deleted.".into())),
        _ => None,
    };
    directory_answer(&state, &p, outcome).await
}

pub async fn directory_import(
    State(state): State<AppState>,
    CsrfForm { signed_in, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let p = signed_in.require(STAFF, MANAGE)?;
    let csv = form.get("csv").cloned().unwrap_or_default();
    let outcome = match crate::import::parse_directory(csv.as_bytes()) {
        Err(e) => Outcome::Refused(e.to_string()),
        Ok(parsed) if !parsed.errors.is_empty() => Outcome::Rows(parsed.errors),
        Ok(parsed) => {
            let entries = crate::import::directory_entries(&parsed.rows, now_ms());
            state.store.upsert_directory(&entries).await?;
            state
                .store
                .audit(
                    &p.user.name,
                    "directory-import",
                    None,
                    &format!("{} entr(y/ies)", entries.len()),
                )
                .await?;
            Outcome::Done(format!("{} entr(y/ies) imported.", entries.len()))
        }
    };
    directory_answer(&state, &p, Some(outcome)).await
}

pub async fn directory_edit(
    State(state): State<AppState>,
    CsrfForm { signed_in, form }: CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let p = signed_in.require(STAFF, MANAGE)?;
    let f = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let (Some(old_city), Some(old_kind), Some(old_name)) = (
        f("old_city"),
        f("old_kind").and_then(DirectoryKind::parse),
        f("old_name"),
    ) else {
        return directory_answer(
            &state,
            &p,
            Some(Outcome::Refused(
                "that entry form is incomplete; reload the page".into(),
            )),
        )
        .await;
    };
    let delete = f("do") == Some("delete");
    let replacement = if delete {
        None
    } else {
        match crate::import::directory_fields(
            0,
            f("city"),
            f("kind"),
            f("name"),
            f("phone"),
            f("address"),
            f("hours"),
        ) {
            Ok(row) => crate::import::directory_entries(&[row], now_ms()).pop(),
            Err(reason) => {
                return directory_answer(&state, &p, Some(Outcome::Refused(reason))).await;
            }
        }
    };
    let replaced = state
        .store
        .replace_directory_entry(old_city, old_kind, old_name, replacement.as_ref())
        .await?;
    match replaced {
        false => {
            directory_answer(
                &state,
                &p,
                Some(Outcome::Refused(format!(
                    "{old_name} in {old_city} is no longer in the directory"
                ))),
            )
            .await
        }
        true => {
            let detail = match &replacement {
                Some(e) => format!(
                    "{} {old_name} in {old_city} -> {}",
                    old_kind.name(),
                    e.line()
                ),
                None => format!("{} {old_name} in {old_city} deleted", old_kind.name()),
            };
            // Like every staff change: a failed audit write is an error, never dropped.
            state
                .store
                .audit(&p.user.name, "directory-edit", None, &detail)
                .await?;
            // A redirect: a reload of the answer sends nothing again.
            let done = if delete { "deleted" } else { "saved" };
            Ok(Redirect::to(&format!("/staff/directory?done={done}")).into_response())
        }
    }
}
