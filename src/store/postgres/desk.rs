//! PostgreSQL: the Desk port.

use super::*;

#[async_trait]
impl Desk for PgStore {
    async fn release(&self, id: u64, actor: Actor<'_>, now: Millis) -> Result<Ticket, TicketError> {
        todo!("postgres: release")
    }

    async fn transfer(
        &self,
        id: u64,
        actor: Actor<'_>,
        to_user: Option<&str>,
        to_language: Option<Lang>,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        todo!("postgres: transfer")
    }

    async fn close_ticket(
        &self,
        id: u64,
        actor: Actor<'_>,
        closing: &str,
        session: &Session,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        todo!("postgres: close_ticket")
    }

    async fn audit_search(
        &self,
        keep: AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        todo!("postgres: audit_search")
    }

    async fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        todo!("postgres: ticket")
    }

    async fn recently_closed(
        &self,
        phone: &ContactId,
        now: Millis,
    ) -> Result<Option<Ticket>, StoreError> {
        todo!("postgres: recently_closed")
    }

    async fn audit(
        &self,
        user: &str,
        action: &str,
        ticket: Option<u64>,
        detail: &str,
    ) -> Result<(), StoreError> {
        todo!("postgres: audit")
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        todo!("postgres: audit_log")
    }

    async fn claim(&self, id: u64, user: &str, now: Millis) -> Result<Ticket, TicketError> {
        todo!("postgres: claim")
    }

    async fn add_note(
        &self,
        id: u64,
        user: &str,
        text: &str,
        now: Millis,
    ) -> Result<Ticket, TicketError> {
        todo!("postgres: add_note")
    }

    async fn reply(
        &self,
        id: u64,
        user: &str,
        text: &str,
        now: Millis,
    ) -> Result<u64, TicketError> {
        todo!("postgres: reply")
    }

    async fn seen(&self, user: &str, ticket: u64) -> Result<usize, StoreError> {
        todo!("postgres: seen")
    }

    async fn mark_seen(&self, user: &str, ticket: u64, count: usize) -> Result<(), StoreError> {
        todo!("postgres: mark_seen")
    }

    async fn canned_replies(&self, language: Option<Lang>) -> Result<Vec<CannedReply>, StoreError> {
        todo!("postgres: canned_replies")
    }

    async fn add_canned(
        &self,
        language: Lang,
        title: &str,
        text: &str,
    ) -> Result<CannedReply, StoreError> {
        todo!("postgres: add_canned")
    }

    async fn add_canned_audited(
        &self,
        language: Lang,
        title: &str,
        text: &str,
        user: &str,
    ) -> Result<CannedReply, StoreError> {
        todo!("postgres: add_canned_audited")
    }

    async fn remove_canned_audited(&self, id: u64, user: &str) -> Result<bool, StoreError> {
        todo!("postgres: remove_canned_audited")
    }

    async fn remove_canned(&self, id: u64) -> Result<bool, StoreError> {
        todo!("postgres: remove_canned")
    }

    async fn tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        todo!("postgres: tickets")
    }

    async fn open_ticket_of(&self, phone: &ContactId) -> Result<Option<Ticket>, StoreError> {
        todo!("postgres: open_ticket_of")
    }
}
