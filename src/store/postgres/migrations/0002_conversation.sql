-- The conversation half: what people sent and what waits to be answered (intake), what waits
-- to be sent (outbox), the conversation state (sessions) and the files people sent (media).
--
-- Tables (for the staff half's erasure and retention):
--   sessions        one row per contact: the flow's state (Session as jsonb)
--   external_ids    a provider's message id -> our message (dedupe and status look-up)
--   inbox           inbound messages not yet answered, in arrival order
--   outbox          messages waiting for the provider (OutboxItem as jsonb)
--   failed_messages messages that could not be delivered, for staff
--   media           the files people sent, by the name their message records
-- Rows of external_ids, inbox, failed_messages and media go with their message (ON DELETE
-- CASCADE): deleting a person's or an old message removes them too. Outbox rows do not (purge
-- keeps messages still queued); erasure calls outbox::remove_outbox_of.

CREATE TABLE sessions (
    contact text COLLATE "C" PRIMARY KEY,
    data    jsonb NOT NULL                -- Session
);

-- Provider retries are dropped by this key (INSERT … ON CONFLICT DO NOTHING). `space` is the
-- provider's id space: Twilio's SMS and WhatsApp share one (MessageSid).
CREATE TABLE external_ids (
    space       text NOT NULL,
    external_id text NOT NULL,
    -- Checked at commit: the intake files the key (and takes the id) before the message.
    message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE
                DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (space, external_id)
);
CREATE INDEX external_ids_message ON external_ids (message_id);

-- Taken while the contact's advisory lock is held, so a contact's order is commit order across
-- replicas. The row is deleted in the transaction that answers it. The replica answering a
-- contact leases its oldest row (`next_pending`), so the other replicas leave that contact to
-- it; a lease that runs out (the replica died) lets another one take over.
CREATE TABLE inbox (
    seq          bigserial PRIMARY KEY,
    contact      text COLLATE "C" NOT NULL,
    message_id   bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    leased_by    text,
    leased_until bigint                       -- ms
);
CREATE INDEX inbox_contact ON inbox (contact, seq);
CREATE INDEX inbox_message ON inbox (message_id);

CREATE TABLE outbox (
    message_id      bigint PRIMARY KEY,
    contact         text COLLATE "C" NOT NULL,   -- OutboxItem.to
    lane            text NOT NULL,               -- 'interactive' | 'bulk'
    next_attempt_at bigint NOT NULL,             -- ms
    held            boolean NOT NULL,            -- waits for staff or for the person
    broadcast       bigint,                      -- the broadcast it belongs to
    data            jsonb NOT NULL               -- OutboxItem
);
-- What the dispatcher may send now, per lane, by due time.
CREATE INDEX outbox_due ON outbox (lane, next_attempt_at, message_id) WHERE NOT held;
-- A person's queued messages in order, per lane.
CREATE INDEX outbox_recipient ON outbox (contact, lane, message_id);
-- A broadcast's messages still waiting (not held): is it drained?
CREATE INDEX outbox_broadcast ON outbox (broadcast) WHERE broadcast IS NOT NULL AND NOT held;

CREATE TABLE failed_messages (
    message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE
);

CREATE TABLE media (
    file       text PRIMARY KEY,               -- '<message id>.<ext>', MessageRecord.media_file
    message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    mime       text NOT NULL,
    bytes      bytea NOT NULL
);
CREATE INDEX media_message ON media (message_id);
