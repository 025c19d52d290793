//! Staff data from CSV: contacts (`phone,language,city,case_id,name,tags`), the payment schedule
//! (`city,next_payment_date[,note]`) and the directory of useful contacts per city
//! (`city,kind,name,phone,address,hours`). Every row is validated before anything is written; errors
//! name the line. Parsing is pure; the caller writes the accepted rows.

use std::collections::HashMap;
use std::io::Read;

use chrono::NaiveDate;

use crate::domain::ContactId;
use crate::i18n::Lang;

/// A row that cannot be imported, by its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The file as a whole cannot be read (no header, wrong columns, not CSV).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the CSV file: {0}")]
    Csv(#[from] csv::Error),
    #[error("{0}")]
    Columns(String),
}

/// A valid contact row. `None` fields leave what is stored unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub line: u64,
    pub phone: ContactId,
    pub language: Option<Lang>,
    pub city: Option<String>,
    pub case_id: Option<String>,
    pub name: Option<String>,
    /// Tags separated by `;` in the file; `None` keeps the stored tags.
    pub tags: Option<Vec<String>>,
}

impl ContactRow {
    /// Writes the row's fields over a stored contact's: what the row leaves empty stays.
    pub fn apply_to(&self, contact: &mut crate::domain::Contact) {
        if let Some(l) = self.language {
            contact.language = Some(l);
        }
        for (slot, value) in [
            (&mut contact.city, &self.city),
            (&mut contact.case_id, &self.case_id),
            (&mut contact.name, &self.name),
        ] {
            if value.is_some() {
                slot.clone_from(value);
            }
        }
        if let Some(tags) = &self.tags {
            contact.tags.clone_from(tags);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub line: u64,
    pub city: String,
    pub next_payment_date: NaiveDate,
    pub note: Option<String>,
}

/// Rows that passed, rows that did not.
#[derive(Debug)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    pub errors: Vec<RowError>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed {
            rows: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// Maps header names to column positions; refuses unknown or missing required columns.
fn columns(
    headers: &csv::StringRecord,
    known: &[&str],
    required: &[&str],
) -> Result<HashMap<String, usize>, ImportError> {
    let mut map = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        if !known.contains(&name.as_str()) {
            return Err(ImportError::Columns(format!(
                "line 1: unknown column {name:?}; the columns are {}",
                known.join(",")
            )));
        }
        if map.insert(name.clone(), i).is_some() {
            return Err(ImportError::Columns(format!(
                "line 1: column {name:?} appears twice"
            )));
        }
    }
    for r in required {
        if !map.contains_key(*r) {
            return Err(ImportError::Columns(format!(
                "line 1: the header needs a {r:?} column (columns: {})",
                known.join(",")
            )));
        }
    }
    Ok(map)
}

fn field<'r>(
    record: &'r csv::StringRecord,
    cols: &HashMap<String, usize>,
    name: &str,
) -> Option<&'r str> {
    cols.get(name)
        .and_then(|&i| record.get(i))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input)
}

/// Free text from staff: bounded, one line, no control characters.
fn clean_text(value: &str, what: &str, max: usize) -> Result<String, String> {
    if value.chars().count() > max {
        return Err(format!("{what} is longer than {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} contains control characters"));
    }
    Ok(value.to_string())
}

/// Reads every row: blank lines are skipped, each row becomes a value or a located error,
/// and a row whose `key` repeats an earlier row's is an error naming both lines.
fn parse_rows<R: Read, T>(
    input: R,
    known: &[&str],
    required: &[&str],
    row: impl Fn(&csv::StringRecord, &HashMap<String, usize>, u64) -> Result<T, String>,
    key: impl Fn(&T) -> (String, String),
) -> Result<Parsed<T>, ImportError> {
    let mut rdr = reader(input);
    let cols = columns(rdr.headers()?, known, required)?;
    let mut parsed = Parsed::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in rdr.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                parsed.errors.push(RowError {
                    line,
                    reason: format!("not valid CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|v| v.trim().is_empty()) {
            continue; // blank lines are harmless
        }
        match row(&record, &cols, line) {
            Ok(value) => {
                let (key, label) = key(&value);
                match seen.insert(key, line) {
                    Some(first) => parsed.errors.push(RowError {
                        line,
                        reason: format!("{label} is also on line {first}"),
                    }),
                    None => parsed.rows.push(value),
                }
            }
            Err(reason) => parsed.errors.push(RowError { line, reason }),
        }
    }
    Ok(parsed)
}

pub fn parse_contacts<R: Read>(input: R) -> Result<Parsed<ContactRow>, ImportError> {
    parse_rows(
        input,
        &["phone", "language", "city", "case_id", "name", "tags"],
        &["phone"],
        contact_row,
        |r: &ContactRow| (r.phone.to_string(), format!("phone {}", r.phone)),
    )
}

fn contact_row(
    record: &csv::StringRecord,
    cols: &HashMap<String, usize>,
    line: u64,
) -> Result<ContactRow, String> {
    let phone = field(record, cols, "phone").ok_or("phone is empty")?;
    let phone = ContactId::parse(phone).map_err(|e| e.to_string())?;
    let language = match field(record, cols, "language") {
        Some(l) => Some(Lang::parse(l).ok_or_else(|| {
            format!("unknown language {l:?}: use en, fa-AF (prs), fa (fa-IR), so, ar or ti")
        })?),
        None => None,
    };
    let city = field(record, cols, "city")
        .map(|c| clean_text(c, "city", 60))
        .transpose()?;
    let case_id = field(record, cols, "case_id")
        .map(|c| clean_text(c, "case_id", 40))
        .transpose()?;
    let name = field(record, cols, "name")
        .map(|c| clean_text(c, "name", 100))
        .transpose()?;
    let tags = field(record, cols, "tags").map(parse_tags).transpose()?;
    Ok(ContactRow {
        line,
        phone,
        language,
        city,
        case_id,
        name,
        tags,
    })
}

/// Longest tag, and most tags on one contact.
const TAG_MAX_CHARS: usize = 40;
const TAGS_MAX: usize = 20;

/// `parents; Batam-School` → `["parents", "batam-school"]`: lower case, so that staff
/// choosing an audience need not remember how a tag was typed.
pub fn parse_tags(value: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in value.split(';').map(str::trim).filter(|t| !t.is_empty()) {
        let tag = normalize_tag(tag)?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(format!("more than {TAGS_MAX} tags"));
    }
    Ok(tags)
}

/// One tag: letters, digits, `-` and `_`, at most 40 characters, compared in lower case.
pub fn normalize_tag(tag: &str) -> Result<String, String> {
    let tag = tag.trim().to_lowercase();
    if tag.is_empty() || tag.chars().count() > TAG_MAX_CHARS {
        return Err(format!(
            "tag {tag:?} must have 1 to {TAG_MAX_CHARS} characters"
        ));
    }
    if !tag
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "tag {tag:?} may hold only letters, digits, - and _ (separate tags with ;)"
        ));
    }
    Ok(tag)
}

/// Dates as staff write them: 2026-12-05 or 05/12/2026 (day first, as in Indonesia).
pub fn parse_date(value: &str) -> Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%d/%m/%Y"))
        .map_err(|_| format!("date {value:?} is not a date: write 2026-12-05 or 05/12/2026"))?;
    if !(2020..=2100).contains(&chrono::Datelike::year(&date)) {
        return Err(format!("date {value:?} is out of range"));
    }
    Ok(date)
}

pub fn parse_payments<R: Read>(input: R) -> Result<Parsed<PaymentRow>, ImportError> {
    parse_rows(
        input,
        &["city", "next_payment_date", "note"],
        &["city", "next_payment_date"],
        payment_row,
        |r: &PaymentRow| (r.city.to_lowercase(), format!("city {}", r.city)),
    )
}

fn payment_row(
    record: &csv::StringRecord,
    cols: &HashMap<String, usize>,
    line: u64,
) -> Result<PaymentRow, String> {
    let city = field(record, cols, "city").ok_or("city is empty")?;
    let city = clean_text(city, "city", 60)?;
    let date = field(record, cols, "next_payment_date").ok_or("next_payment_date is empty")?;
    let next_payment_date = parse_date(date)?;
    let note = field(record, cols, "note")
        .map(|n| clean_text(n, "note", 200))
        .transpose()?;
    Ok(PaymentRow {
        line,
        city,
        next_payment_date,
        note,
    })
}

/// A valid row of the directory staff keep (`city,kind,name,phone,address,hours`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRow {
    pub line: u64,
    pub city: String,
    pub kind: crate::domain::DirectoryKind,
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub hours: Option<String>,
}

pub fn parse_directory<R: Read>(input: R) -> Result<Parsed<DirectoryRow>, ImportError> {
    parse_rows(
        input,
        &["city", "kind", "name", "phone", "address", "hours"],
        &["city", "kind", "name"],
        directory_row,
        |r: &DirectoryRow| {
            (
                format!(
                    "{}/{}/{}",
                    r.city.to_lowercase(),
                    r.kind.name(),
                    r.name.to_lowercase()
                ),
                format!("{} {} in {}", r.kind.name(), r.name, r.city),
            )
        },
    )
}

/// Checks one directory entry's fields (CSV rows and the staff page alike).
pub fn directory_fields(
    line: u64,
    city: Option<&str>,
    kind: Option<&str>,
    name: Option<&str>,
    phone: Option<&str>,
    address: Option<&str>,
    hours: Option<&str>,
) -> Result<DirectoryRow, String> {
    use crate::domain::DirectoryKind;
    let city = clean_text(city.ok_or("city is empty")?, "city", 60)?;
    let kind_text = kind.ok_or("kind is empty")?;
    let kind = DirectoryKind::parse(kind_text).ok_or_else(|| {
        format!(
            "unknown kind {kind_text:?}: use {}",
            DirectoryKind::ALL.map(|k| k.name()).join(", ")
        )
    })?;
    let name = clean_text(name.ok_or("name is empty")?, "name", 80)?;
    let phone = phone.map(|p| clean_text(p, "phone", 40)).transpose()?;
    let address = address.map(|a| clean_text(a, "address", 120)).transpose()?;
    let hours = hours.map(|h| clean_text(h, "hours", 60)).transpose()?;
    if phone.is_none() && address.is_none() {
        return Err("give a phone or an address: a name alone does not help anyone".into());
    }
    Ok(DirectoryRow {
        line,
        city,
        kind,
        name,
        phone,
        address,
        hours,
    })
}

fn directory_row(
    record: &csv::StringRecord,
    cols: &HashMap<String, usize>,
    line: u64,
) -> Result<DirectoryRow, String> {
    let f = |name| field(record, cols, name);
    directory_fields(
        line,
        f("city"),
        f("kind"),
        f("name"),
        f("phone"),
        f("address"),
        f("hours"),
    )
}

/// Directory entries for the store.
pub fn directory_entries(
    rows: &[DirectoryRow],
    now: crate::domain::Millis,
) -> Vec<crate::domain::DirectoryEntry> {
    rows.iter()
        .map(|r| crate::domain::DirectoryEntry {
            city: r.city.clone(),
            kind: r.kind,
            name: r.name.clone(),
            phone: r.phone.clone(),
            address: r.address.clone(),
            hours: r.hours.clone(),
            updated_at: now,
        })
        .collect()
}

/// Schedule entries for the store.
pub fn payment_entries(
    rows: &[PaymentRow],
    now: crate::domain::Millis,
) -> Vec<crate::domain::PaymentEntry> {
    rows.iter()
        .map(|r| crate::domain::PaymentEntry {
            city: r.city.clone(),
            next_payment_date: r.next_payment_date,
            note: r.note.clone(),
            updated_at: now,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_validated_row_by_row() {
        let csv = "phone,language,city,case_id,name\n\
                   0812-3456-7890,prs,Makassar,123,Ahmad\n\
                   +93701234567,,,,\n\
                   12,en,,,\n\
                   +6281299999999,xx,,,\n\
                   081234567890,fa,,,\n\
                   \n";
        let parsed = parse_contacts(csv.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[0].phone.as_str(), "+6281234567890");
        assert_eq!(parsed.rows[0].language, Some(Lang::Dari));
        assert_eq!(parsed.rows[1].language, None);
        let lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [4, 5, 6]);
        assert!(parsed.errors[2].reason.contains("also on line 2"));
    }

    #[test]
    fn tags_are_split_on_semicolons_and_lower_cased() {
        let csv = "phone,tags\n\
                   +6281200000001,parents; Batam-School;parents\n\
                   +6281200000002,\n\
                   +6281200000003,bad tag\n";
        let parsed = parse_contacts(csv.as_bytes()).unwrap();
        assert_eq!(
            parsed.rows[0].tags.as_deref(),
            Some(&["parents".to_string(), "batam-school".to_string()][..])
        );
        assert_eq!(parsed.rows[1].tags, None);
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 4);
        assert!(
            parsed.errors[0].reason.contains("bad tag"),
            "{:?}",
            parsed.errors
        );
    }

    #[test]
    fn wrong_columns_are_refused_before_any_row() {
        let err = parse_contacts("telephone,language\n+6281200000000,en\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("unknown column"), "{err}");
        let err = parse_contacts("language\nen\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("\"phone\""), "{err}");
    }

    #[test]
    fn directory_rows_are_checked_with_their_line() {
        let csv = "city,kind,name,phone,address,hours\n\
                   Makassar,unhcr,UNHCR Makassar,0411-123456,Jl. Sudirman 1,Mon-Fri 08:00-16:00\n\
                   Makassar,embassy,Someone,0411-1,,\n\
                   Medan,clinic,Klinik Sehat,,,\n\
                   makassar,UNHCR,unhcr makassar,129,,\n\
                   Medan,legal,LBH Medan,,Jl. Hukum 2,\n";
        let parsed = parse_directory(csv.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rows[0].phone.as_deref(), Some("0411-123456"));
        let lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(parsed.errors[0].reason.contains("unknown kind"));
        assert!(parsed.errors[1].reason.contains("phone or an address"));
        assert!(parsed.errors[2].reason.contains("also on line 2"));
    }

    #[test]
    fn payment_dates_in_both_forms() {
        let csv = "city,next_payment_date,note\nMakassar,2026-12-05,\nMedan,05/12/2026,cash\nBatam,tomorrow,\n";
        let parsed = parse_payments(csv.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(
            parsed.rows[0].next_payment_date,
            parsed.rows[1].next_payment_date
        );
        assert_eq!(parsed.errors[0].line, 4);
    }
}
