//! PostgreSQL: the Desk port. A ticket action takes the person's lock (the same one the
//! conversation takes before answering them), loads the ticket `FOR UPDATE`, runs the shared
//! rule (`crate::helpdesk::rules`) on what it loaded and writes the ticket, its audit row and
//! any message to the person in one transaction: of two interpreters claiming at once on two
//! replicas exactly one wins, and the other learns who.

use sqlx::Row;

use super::*;
use crate::helpdesk::rules::{self, Change};

/// Rows the audit search reads per query while looking for rows its filter keeps.
const AUDIT_PAGE: i64 = 500;

impl From<sqlx::Error> for TicketError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::from(e).into()
    }
}

/// The person's last closed ticket (the one a message within a day reopens), if any. Erased
/// and purged tickets name nobody, so they are never found here.
pub(crate) async fn last_closed_ticket(
    conn: &mut sqlx::PgConnection,
    contact: &ContactId,
) -> Result<Option<Ticket>, StoreError> {
    let row: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT data FROM tickets WHERE contact = $1 AND NOT open \
         ORDER BY closed_at DESC NULLS LAST, id DESC LIMIT 1",
    )
    .bind(contact.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|v| from_json(v, "a closed ticket")).transpose()
}

/// One new id from `kabar_ids`.
pub(crate) async fn next_id(
    store: &PgStore,
    conn: &mut sqlx::PgConnection,
) -> Result<u64, StoreError> {
    store
        .next_ids(conn, 1)
        .await?
        .first()
        .copied()
        .ok_or_else(|| StoreError::Database("the id sequence gave no id".into()))
}

/// How many of a ticket's messages `user` has seen.
pub(crate) async fn write_seen(
    conn: &mut sqlx::PgConnection,
    user: &str,
    ticket: u64,
    count: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO seen (user_name, ticket, count) VALUES ($1, $2, $3) \
         ON CONFLICT (user_name, ticket) DO UPDATE SET count = EXCLUDED.count",
    )
    .bind(user)
    .bind(db_id(ticket))
    .bind(count.min(i64::MAX as u64) as i64)
    .execute(conn)
    .await?;
    Ok(())
}

fn audit_from_row(row: &sqlx::postgres::PgRow) -> Result<(i64, i64, AuditEntry), StoreError> {
    let at: i64 = row.try_get("at")?;
    let id: i64 = row.try_get("id")?;
    let data: serde_json::Value = row.try_get("data")?;
    Ok((at, id, from_json(data, format_args!("audit row {id}"))?))
}

impl PgStore {
    /// Opens the transaction of an action on ticket `id`: the person's lock first, then the
    /// ticket's row.
    async fn begin_ticket(&self, id: u64) -> Result<(Tx, Ticket), TicketError> {
        let mut tx = self.begin().await?;
        let Some(unlocked) = load_ticket(&mut tx, id, false).await? else {
            return Err(TicketError::NotFound(id));
        };
        let contact = unlocked.contact;
        lock_contact(&mut tx, &contact).await?;
        let Some(ticket) = load_ticket(&mut tx, id, true).await? else {
            return Err(TicketError::NotFound(id));
        };
        Ok((tx, ticket))
    }

    /// Writes what the rule returned and its audit row, and commits.
    async fn finish_ticket(
        &self,
        mut tx: Tx,
        change: &Change,
        user: &str,
        action: &str,
        now: Millis,
    ) -> Result<(), TicketError> {
        save_ticket(&mut tx, &change.ticket).await?;
        insert_audit(
            &mut tx,
            &AuditEntry {
                at: now,
                user: user.to_string(),
                action: action.to_string(),
                ticket: Some(change.ticket.id),
                detail: change.detail.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs a rule that writes nothing but the ticket.
    async fn ticket_action(
        &self,
        id: u64,
        user: &str,
        action: &str,
        now: Millis,
        rule: impl FnOnce(Ticket) -> Result<Change, TicketError>,
    ) -> Result<Ticket, TicketError> {
        let (tx, ticket) = self.begin_ticket(id).await?;
        let change = rule(ticket)?;
        self.finish_ticket(tx, &change, user, action, now).await?;
        Ok(change.ticket)
    }
}

/// Queues `text` from `user` to the ticket's person as message `message_id`, on the channel
/// they last used, inside the action's transaction.
async fn queue_to_person(
    store: &PgStore,
    tx: &mut Tx,
    t: &Ticket,
    message_id: u64,
    user: &str,
    text: &str,
    now: Millis,
) -> Result<(), StoreError> {
    let contact = load_contact(tx, &t.contact).await?;
    let reply = crate::store::Outgoing {
        text: text.to_string(),
        interactive: None,
    };
    let (record, item) = crate::store::sled::new_outbound(
        message_id,
        &t.contact,
        rules::reply_channel(contact.as_ref()),
        Author::User(user.to_string()),
        &reply,
        Some(t.language),
        now,
    );
    super::outbox::put_outbound(store, tx, &record, &item).await
}

#[async_trait]
impl Desk for PgStore {
    /// Gives a claimed ticket back to the queue (only its claimant or a supervisor).
    async fn release(&self, id: u64, actor: Actor<'_>, now: Millis) -> Result<Ticket, TicketError> {
        self.ticket_action(id, actor.name, "release", now, |t| rules::release(t, actor))
            .await
    }

    async fn transfer(
        &self,
        id: u64,
        actor: Actor<'_>,
        to_user: Option<&str>,
        to_language: Option<Lang>,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        rules::transfer_wanted(to_user, to_language)?;
        let receiver = match to_user {
            Some(name) => Some(rules::receiver(name, self.user(name).await?)?),
            None => None,
        };
        self.ticket_action(id, actor.name, "transfer", now, |t| {
            rules::transfer(t, actor, receiver.as_ref(), to_language, now)
        })
        .await
    }

    /// Closes a ticket: the person gets `closing`, the bot takes over again with `session`,
    /// and a message within 24 hours reopens it for the same interpreter.
    async fn close_ticket(
        &self,
        id: u64,
        actor: Actor<'_>,
        closing: &str,
        session: &Session,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        let (mut tx, ticket) = self.begin_ticket(id).await?;
        let message_id = next_id(self, &mut tx).await?;
        let change = rules::close(ticket, actor, message_id, now)?;
        let t = &change.ticket;
        queue_to_person(self, &mut tx, t, message_id, actor.name, closing, now).await?;
        super::people::save_session(&mut tx, &t.contact, session).await?;
        self.finish_ticket(tx, &change, actor.name, "close", now)
            .await?;
        Ok(change.ticket)
    }

    /// The newest audit rows `keep` accepts, newest first (by time, then id, as sled).
    async fn audit_search(
        &self,
        keep: AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        let mut before: Option<(i64, i64)> = None;
        while out.len() < limit {
            let rows = match before {
                None => {
                    sqlx::query("SELECT at, id, data FROM audit ORDER BY at DESC, id DESC LIMIT $1")
                        .bind(AUDIT_PAGE)
                        .fetch_all(self.pool())
                        .await?
                }
                Some((at, id)) => {
                    sqlx::query(
                        "SELECT at, id, data FROM audit WHERE (at, id) < ($1, $2) \
                         ORDER BY at DESC, id DESC LIMIT $3",
                    )
                    .bind(at)
                    .bind(id)
                    .bind(AUDIT_PAGE)
                    .fetch_all(self.pool())
                    .await?
                }
            };
            let last_page = (rows.len() as i64) < AUDIT_PAGE;
            for row in &rows {
                let (at, id, entry) = audit_from_row(row)?;
                before = Some((at, id));
                if keep(&entry) {
                    out.push(entry);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            if last_page {
                break;
            }
        }
        Ok(out)
    }

    async fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load_ticket(&mut conn, id, false).await
    }

    /// The ticket closed for `phone` within the last 24 hours, if any.
    async fn recently_closed(
        &self,
        phone: &ContactId,
        now: Millis,
    ) -> Result<Option<Ticket>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        Ok(last_closed_ticket(&mut conn, phone)
            .await?
            .filter(|t| rules::reopenable(t, now)))
    }

    /// Records that `user` did something (looked at a ticket, exported…).
    async fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<u64>,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        super::accounts::audit_now(&mut tx, user, action, ticket, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT at, id, data FROM audit ORDER BY at DESC, id DESC LIMIT $1")
            .bind(limit.min(i64::MAX as usize) as i64)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| audit_from_row(row).map(|(_, _, e)| e))
            .collect()
    }

    /// Takes a ticket. Of two interpreters claiming at once exactly one wins.
    async fn claim(&self, id: u64, user: &str, now: Millis) -> Result<Ticket, TicketError> {
        self.ticket_action(id, user, "claim", now, |t| rules::claim(t, user, now))
            .await
    }

    /// A private note on the ticket (never sent to the person).
    async fn add_note(
        &self,
        id: u64,
        user: &str,
        text: &str,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        self.ticket_action(id, user, "note", now, |t| {
            Ok(rules::note(t, user, text, now))
        })
        .await
    }

    /// A reply to the person: queued on the channel they last used, added to the ticket.
    async fn reply(
        &self,
        id: u64,
        user: &str,
        text: &str,
        now: Millis,
    ) -> Result<u64, TicketError> {
        let (mut tx, ticket) = self.begin_ticket(id).await?;
        let message_id = next_id(self, &mut tx).await?;
        let change = rules::reply(ticket, user, message_id, now)?;
        queue_to_person(self, &mut tx, &change.ticket, message_id, user, text, now).await?;
        self.finish_ticket(tx, &change, user, "reply", now).await?;
        Ok(message_id)
    }

    async fn seen(&self, user: &str, ticket: u64) -> Result<usize, StoreError> {
        let count: Option<i64> =
            sqlx::query_scalar("SELECT count FROM seen WHERE user_name = $1 AND ticket = $2")
                .bind(user)
                .bind(db_id(ticket))
                .fetch_optional(self.pool())
                .await?;
        Ok(count.unwrap_or(0).max(0) as usize)
    }

    async fn mark_seen(&self, user: &str, ticket: u64, count: usize) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        write_seen(&mut conn, user, ticket, count as u64).await
    }

    /// Canned replies of one language (or all), by language tag, then oldest first.
    async fn canned_replies(&self, language: Option<Lang>) -> Result<Vec<CannedReply>, StoreError> {
        let rows: Vec<serde_json::Value> = match language {
            Some(l) => {
                sqlx::query_scalar(
                    "SELECT data FROM canned_replies WHERE language = $1 ORDER BY language, id",
                )
                .bind(l.tag())
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT data FROM canned_replies ORDER BY language, id")
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.into_iter()
            .map(|v| from_json(v, "a canned reply"))
            .collect()
    }

    async fn add_canned(
        &self,
        language: Lang,
        title: &str,
        text: &str,
    ) -> Result<CannedReply, StoreError> {
        let mut tx = self.begin().await?;
        let reply = insert_canned(self, &mut tx, language, title, text).await?;
        tx.commit().await?;
        Ok(reply)
    }

    /// Adds a canned reply and its audit row in one transaction: both or neither.
    async fn add_canned_audited(
        &self,
        language: Lang,
        title: &str,
        text: &str,
        user: &str,
    ) -> Result<CannedReply, StoreError> {
        let mut tx = self.begin().await?;
        let reply = insert_canned(self, &mut tx, language, title, text).await?;
        super::accounts::audit_now(
            &mut tx,
            user,
            "canned-add",
            None,
            &format!("{} {language}", reply.id),
        )
        .await?;
        tx.commit().await?;
        Ok(reply)
    }

    async fn remove_canned_audited(&self, id: u64, user: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let removed = sqlx::query("DELETE FROM canned_replies WHERE id = $1")
            .bind(db_id(id))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            return Ok(false);
        }
        super::accounts::audit_now(&mut tx, user, "canned-delete", None, &id.to_string()).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn remove_canned(&self, id: u64) -> Result<bool, StoreError> {
        let removed = sqlx::query("DELETE FROM canned_replies WHERE id = $1")
            .bind(db_id(id))
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(removed > 0)
    }

    /// Every ticket, by number.
    async fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT data FROM tickets ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        rows.into_iter().map(|v| from_json(v, "a ticket")).collect()
    }

    async fn open_ticket_of(&self, phone: &ContactId) -> Result<Option<Ticket>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        open_ticket(&mut conn, phone).await
    }
}

async fn insert_canned(
    store: &PgStore,
    tx: &mut Tx,
    language: Lang,
    title: &str,
    text: &str,
) -> Result<CannedReply, StoreError> {
    let reply = CannedReply {
        id: next_id(store, tx).await?,
        language,
        title: title.to_string(),
        text: text.to_string(),
    };
    sqlx::query("INSERT INTO canned_replies (id, language, data) VALUES ($1, $2, $3)")
        .bind(db_id(reply.id))
        .bind(language.tag())
        .bind(to_json(&reply)?)
        .execute(&mut **tx)
        .await?;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::accounts::replicas;

    async fn open_ticket_for(store: &PgStore, contact: &ContactId) -> u64 {
        let mut tx = store.begin().await.unwrap();
        let id = next_id(store, &mut tx).await.unwrap();
        let now = now_ms();
        let ticket = Ticket {
            id,
            contact: contact.clone(),
            language: Lang::Dari,
            topic: "human".into(),
            status: TicketStatus::Open,
            opened_at: now,
            waiting_since: Some(now),
            message_ids: Vec::new(),
            urgent: false,
            details: Default::default(),
            also: Vec::new(),
            claimed_by: None,
            claimed_at: None,
            first_response_at: None,
            closed_at: None,
            notes: Vec::new(),
        };
        save_ticket(&mut tx, &ticket).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// Interpreters on two replicas click "claim" and "reply" on the same ticket at once:
    /// one holds it, the others learn who; one reply is queued, and the trail has one claim.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn claims_and_replies_on_two_replicas_have_one_winner() {
        let Some((a, b)) = replicas::two("desk_race").await else {
            return;
        };
        let amina = ContactId::parse("+6281200000001").unwrap();
        let id = open_ticket_for(&a, &amina).await;
        let mut tasks = Vec::new();
        for (i, store) in [&a, &b, &a, &b, &a, &b].into_iter().enumerate() {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.claim(id, &format!("ina{i}"), now_ms()).await
            }));
        }
        let mut winners = Vec::new();
        let mut refused = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(t) => winners.push(t.claimed_by.unwrap()),
                Err(TicketError::ClaimedBy(who)) => refused.push(who),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        assert!(refused.iter().all(|who| *who == winners[0]), "{refused:?}");
        let claims = a
            .audit_search(Box::new(|e| e.action == "claim"), 10)
            .await
            .unwrap();
        assert_eq!(claims.len(), 1);

        // An unclaimed ticket, replied to from both replicas at once.
        let bashir = ContactId::parse("+6281200000002").unwrap();
        let id = open_ticket_for(&b, &bashir).await;
        let (ra, rb) = tokio::join!(
            a.reply(id, "omar", "salam", now_ms()),
            b.reply(id, "sara", "salam", now_ms())
        );
        assert_eq!(
            [ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(),
            1,
            "{ra:?} {rb:?}"
        );
        assert_eq!(a.outbox_of(&bashir).await.unwrap().len(), 1);
        a.close().await.unwrap();
        b.close().await.unwrap();
    }
}
