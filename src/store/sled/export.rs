//! Reading the whole store out as [`Record`]s, for a move into PostgreSQL (`kabar
//! migrate-store`). Records come in an order a database with foreign keys can take them in:
//! accounts, contacts and messages before what points at messages, broadcasts before their
//! audiences, and last what the intake journal holds that sled does not have yet.
//!
//! Keys that are indexes of other records (`h/`, `od/`, `odb/`, `or/`, `orb/`, `bo/`, `to/`,
//! `tc/`, `ad/`) and counters (`meta/`) are not read: the other store rebuilds them from the
//! records.

use super::broadcasts::AudienceEntry;
use super::helpdesk::WebSession;
use super::{Store, StoreError, decode, keys};
use crate::domain::*;
use crate::flow::Session;
use crate::store::migrate::Record;

/// Where a record goes; an error stops the export.
pub type Emit<'a> = dyn FnMut(Record) -> Result<(), StoreError> + 'a;

fn corrupt(key: &[u8], reason: &str) -> StoreError {
    StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: reason.to_string(),
    }
}

/// The part of `key` after `prefix`, as text.
fn suffix<'k>(key: &'k [u8], prefix: &str) -> Result<&'k str, StoreError> {
    key.strip_prefix(prefix.as_bytes())
        .and_then(|rest| std::str::from_utf8(rest).ok())
        .ok_or_else(|| corrupt(key, "unexpected key"))
}

fn hex_id(key: &[u8], text: &str) -> Result<u64, StoreError> {
    u64::from_str_radix(text, 16).map_err(|_| corrupt(key, "id is not hex"))
}

fn contact_id(key: &[u8], text: &str) -> Result<ContactId, StoreError> {
    ContactId::parse(text).map_err(|e| corrupt(key, &e.to_string()))
}

/// A message id stored as 8 big-endian bytes (the values of `x/`, `i/` and `xf/`).
fn id_value(key: &[u8], value: &[u8]) -> Result<u64, StoreError> {
    value
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt(key, "not a message id"))
}

impl Store {
    /// Calls `emit` with every record, in the order described above. Blocking.
    pub(crate) fn export(&self, emit: &mut Emit<'_>) -> Result<(), StoreError> {
        self.export_staff(emit)?;
        let media = self.export_conversations(emit)?;
        self.export_media(media, emit)?;
        self.export_desk(emit)?;
        self.export_broadcasts(emit)?;
        self.export_journal(emit)
    }

    /// Decodes every record under `prefix` and hands key and record to `f`.
    fn each<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &str,
        mut f: impl FnMut(&[u8], T) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for kv in self.tree.scan_prefix(prefix.as_bytes()) {
            let (k, v) = kv?;
            f(&k, decode(&k, &v)?)?;
        }
        Ok(())
    }

    /// Every value under `prefix`, undecoded.
    fn each_raw(
        &self,
        prefix: &str,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for kv in self.tree.scan_prefix(prefix.as_bytes()) {
            let (k, v) = kv?;
            f(&k, &v)?;
        }
        Ok(())
    }

    fn export_staff(&self, emit: &mut Emit<'_>) -> Result<(), StoreError> {
        self.each("u/", |_, user: User| emit(Record::User(user)))?;
        for (hash, token) in self.tokens_by_hash()? {
            emit(Record::Token { hash, token })?;
        }
        let sessions = keys::web_session("");
        self.each(&sessions, |k, session: WebSession| {
            emit(Record::WebSession {
                hash: suffix(k, &sessions)?.to_string(),
                session,
            })
        })?;
        self.each("cr/", |_, reply: CannedReply| emit(Record::Canned(reply)))?;
        self.each("p/", |_, entry: PaymentEntry| emit(Record::Payment(entry)))?;
        self.each("d/", |_, entry: DirectoryEntry| {
            emit(Record::Directory(entry))
        })
    }

    /// Contacts, their conversation state, messages and queues; the media files messages name
    /// (message id, file, type), read afterwards.
    fn export_conversations(
        &self,
        emit: &mut Emit<'_>,
    ) -> Result<Vec<(u64, String, String)>, StoreError> {
        self.each("c/", |_, contact: Contact| emit(Record::Contact(contact)))?;
        self.each("s/", |k, session: Session| {
            emit(Record::Session {
                contact: contact_id(k, suffix(k, "s/")?)?,
                session,
            })
        })?;
        let mut media = Vec::new();
        self.each("m/", |_, message: MessageRecord| {
            if let Some(file) = &message.media_file {
                let mime = message
                    .media
                    .as_ref()
                    .and_then(|m| m.mime_type.clone())
                    .unwrap_or_else(|| "application/octet-stream".into());
                media.push((message.id, file.clone(), mime));
            }
            emit(Record::Message(message))
        })?;
        self.each_raw("x/", |k, v| {
            let (space, external_id) = suffix(k, "x/")?
                .split_once('/')
                .ok_or_else(|| corrupt(k, "no provider id space"))?;
            emit(Record::ExternalId {
                space: space.to_string(),
                external_id: external_id.to_string(),
                message_id: id_value(k, v)?,
            })
        })?;
        // `i/{contact}/{sequence}`: key order is each person's arrival order.
        self.each_raw("i/", |k, v| {
            let (contact, _) = suffix(k, "i/")?
                .rsplit_once('/')
                .ok_or_else(|| corrupt(k, "no sequence"))?;
            emit(Record::Pending {
                contact: contact_id(k, contact)?,
                message_id: id_value(k, v)?,
            })
        })?;
        self.each("o/", |_, item: OutboxItem| {
            emit(Record::Outbox(self.with_text(item)?))
        })?;
        self.each_raw("xf/", |k, v| {
            emit(Record::Failed {
                message_id: id_value(k, v)?,
            })
        })?;
        Ok(media)
    }

    /// The files people sent, one record each; a file already gone (purged) is left out.
    fn export_media(
        &self,
        media: Vec<(u64, String, String)>,
        emit: &mut Emit<'_>,
    ) -> Result<(), StoreError> {
        for (message_id, file, mime) in media {
            if let Some(bytes) = self.media_file(&file)? {
                emit(Record::Media {
                    file,
                    message_id,
                    mime,
                    bytes,
                })?;
            }
        }
        Ok(())
    }

    fn export_desk(&self, emit: &mut Emit<'_>) -> Result<(), StoreError> {
        self.each("t/", |_, ticket: Ticket| emit(Record::Ticket(ticket)))?;
        // `au/{time:016x}{id:016x}`.
        self.each("au/", |k, entry: AuditEntry| {
            let rest = suffix(k, "au/")?;
            let id = rest
                .get(16..)
                .ok_or_else(|| corrupt(k, "no audit id"))
                .and_then(|id| hex_id(k, id))?;
            emit(Record::Audit { id, entry })
        })?;
        // `sn/{user}/{ticket:016x}`.
        self.each("sn/", |k, count: usize| {
            let (user, ticket) = suffix(k, "sn/")?
                .rsplit_once('/')
                .ok_or_else(|| corrupt(k, "no ticket"))?;
            emit(Record::Seen {
                user: user.to_string(),
                ticket: hex_id(k, ticket)?,
                count: count as u64,
            })
        })
    }

    fn export_broadcasts(&self, emit: &mut Emit<'_>) -> Result<(), StoreError> {
        self.each("b/", |_, b: crate::broadcast::Broadcast| {
            emit(Record::Broadcast(b))
        })?;
        self.each("bc/", |k, cursor| {
            emit(Record::Cursor {
                broadcast: hex_id(k, suffix(k, "bc/")?)?,
                cursor,
            })
        })?;
        // `bq/{broadcast:016x}/{chunk:016x}`: places of erased people are empty.
        self.each(
            keys::BROADCAST_CHUNKS,
            |k, entries: Vec<Option<AudienceEntry>>| {
                let (broadcast, chunk) = suffix(k, keys::BROADCAST_CHUNKS)?
                    .split_once('/')
                    .ok_or_else(|| corrupt(k, "no chunk number"))?;
                let people = entries
                    .into_iter()
                    .enumerate()
                    .filter_map(|(place, e)| {
                        e.map(|e| (place as u32, e.phone, e.language, e.channel))
                    })
                    .collect();
                emit(Record::Audience {
                    broadcast: hex_id(k, broadcast)?,
                    chunk: hex_id(k, chunk)?,
                    people,
                })
            },
        )?;
        self.each("bp/", |k, position| {
            emit(Record::Position {
                broadcast: hex_id(k, suffix(k, "bp/")?)?,
                position,
            })
        })?;
        // `br/{broadcast:016x}/{contact}`.
        self.each("br/", |k, recipient| {
            let (broadcast, contact) = suffix(k, "br/")?
                .split_once('/')
                .ok_or_else(|| corrupt(k, "no contact"))?;
            emit(Record::Recipient {
                broadcast: hex_id(k, broadcast)?,
                contact: contact_id(k, contact)?,
                recipient,
            })
        })
    }

    /// What the journal holds that sled does not have yet: acknowledged messages the intake
    /// had not stored when the server stopped. The journal keeps an entry until sled has it
    /// on disk, so most entries are stored already (their provider id is in `x/`): those are
    /// left out here. The journal stays as it was.
    fn export_journal(&self, emit: &mut Emit<'_>) -> Result<(), StoreError> {
        let Some(mut reader) = self.take_intake() else {
            return Err(StoreError::Journal(
                "the intake journal is already being read".into(),
            ));
        };
        loop {
            let entries = reader.next_ready()?;
            if entries.is_empty() {
                return Ok(());
            }
            for durable in entries {
                let inbound = durable.entry.inbound;
                let key = keys::external(inbound.channel, &inbound.external_id);
                if self.tree.get(key.as_bytes())?.is_none() {
                    emit(Record::Accepted(inbound))?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewInbound;
    use crate::store::sled::journal::JournalEntry;

    fn sms(from: &ContactId, sid: &str, text: &str) -> NewInbound {
        NewInbound {
            profile: Default::default(),
            channel: Channel::TwilioSms,
            from: from.clone(),
            text: text.into(),
            external_id: sid.into(),
            media: None,
            unsupported: None,
        }
    }

    /// A server killed between acknowledging a message and storing it leaves it only in the
    /// journal: the export carries it, and leaves out what sled has already.
    #[tokio::test]
    async fn the_export_carries_the_journals_unstored_messages_and_only_those() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let person = ContactId::parse("+6281200000555").unwrap();
        let stored = sms(&person, "SM-stored", "salaam");
        let waiting = sms(&person, "SM-waiting", "my payment is late");
        store
            .accept_inbound(vec![stored.clone(), waiting.clone()])
            .await
            .unwrap();
        store
            .record_inbound(&JournalEntry {
                received_at: now_ms(),
                inbound: stored,
            })
            .unwrap();
        let mut records = Vec::new();
        store
            .export(&mut |r| {
                records.push(r);
                Ok(())
            })
            .unwrap();
        let accepted: Vec<&str> = records
            .iter()
            .filter_map(|r| match r {
                Record::Accepted(m) => Some(m.external_id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(accepted, vec![waiting.external_id.as_str()]);
        let messages: Vec<&str> = records
            .iter()
            .filter_map(|r| match r {
                Record::Message(m) => Some(m.text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(messages, vec!["salaam"]);
        // The stored one waits for its answer, in the person's order.
        assert!(records.iter().any(|r| matches!(r,
            Record::Pending { contact, .. } if contact == &person)));
    }
}
