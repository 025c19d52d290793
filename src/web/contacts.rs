//! The one contacts import, behind the CLI, `POST /api/contacts/import` and the contacts page:
//! checked rows, written in batches through the storage port, put in the audit trail.

use crate::domain::ContactId;
use crate::store::Store;

/// How staff see a person, wherever a phone number used to be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The number, or for someone known only by a WhatsApp user id `@username` or their
    /// WhatsApp name ([`Contact::label`](crate::domain::Contact::label)).
    pub label: String,
    /// The phone number, when kabar knows one.
    pub phone: Option<String>,
}

/// How staff see the person filed under `id` (a number needs no lookup).
pub async fn shown(store: &Store, id: &ContactId) -> Result<Shown, crate::store::StoreError> {
    if let ContactId::Phone(phone) = id {
        return Ok(Shown {
            label: phone.to_string(),
            phone: Some(phone.to_string()),
        });
    }
    let contact = store.contact(id).await?;
    Ok(Shown {
        label: contact
            .as_ref()
            .map_or_else(|| id.to_string(), |c| c.label()),
        phone: contact.and_then(|c| c.phone().map(|p| p.to_string())),
    })
}

/// Contacts are written in batches of this many rows: each transaction stays small and a
/// large file shows progress.
pub const CONTACTS_BATCH: usize = 1000;

/// Writes contact rows in batches; `progress(done, total)` hears after each batch. Returns
/// how many were new. The one write loop behind the CLI, the API and the contacts page.
pub async fn write_contacts(
    store: &Store,
    rows: &[crate::import::ContactRow],
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, crate::store::StoreError> {
    let mut new = 0;
    let mut done = 0;
    for batch in rows.chunks(CONTACTS_BATCH) {
        new += store.upsert_contacts(batch).await?;
        done += batch.len();
        progress(done, rows.len());
    }
    Ok(new)
}

/// What a finished contacts import did.
#[derive(Debug)]
pub struct ContactsImported {
    pub imported: usize,
    pub new: usize,
    /// Invalid rows left out (only with `skip_invalid`).
    pub skipped: Vec<crate::import::RowError>,
}

/// Why a contacts import did not go ahead; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ContactsImportError {
    #[error(transparent)]
    File(#[from] crate::import::ImportError),
    #[error("{} invalid row(s); nothing was imported", .0.len())]
    InvalidRows(Vec<crate::import::RowError>),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the import task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A contacts import from the server (API and page alike): parse and check every row off the
/// async threads (100,000 rows take seconds), refuse the file while any row is invalid unless
/// `skip_invalid`, write in batches, make it durable, and put it in the audit trail under
/// `user` (a failed audit write is an error, never dropped).
pub async fn import_contacts(
    store: &Store,
    csv: Vec<u8>,
    skip_invalid: bool,
    user: &str,
) -> Result<ContactsImported, ContactsImportError> {
    let parsed =
        tokio::task::spawn_blocking(move || crate::import::parse_contacts(&csv[..])).await??;
    if !parsed.errors.is_empty() && !skip_invalid {
        return Err(ContactsImportError::InvalidRows(parsed.errors));
    }
    let rows = parsed.rows;
    let new = write_contacts(store, &rows, |_, _| {}).await?;
    let imported = rows.len();
    store
        .audit(
            user,
            "contacts-import",
            None,
            &format!("{imported} contacts, {new} new"),
        )
        .await?;
    Ok(ContactsImported {
        imported,
        new,
        skipped: parsed.errors,
    })
}
