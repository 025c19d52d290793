-- Records both halves of kabar write: the conversation (intake, outbox) and staff (tickets,
-- audit). Each row keeps the domain record as jsonb (`data`) beside the columns PostgreSQL
-- must index, order or constrain. Contact ids compare byte-wise (COLLATE "C") so pages and
-- ordering match sled's everywhere.

-- Every id (messages, tickets, broadcasts, canned replies, audit rows) comes from here, as
-- sled's generate_id did: monotonic across kinds, so "newer" is "larger".
CREATE SEQUENCE kabar_ids START 1;

CREATE TABLE contacts (
    id   text COLLATE "C" PRIMARY KEY,
    data jsonb NOT NULL
);

-- Every address that leads to a contact (its own id, a linked number or WhatsApp user id).
CREATE TABLE contact_addresses (
    address text COLLATE "C" PRIMARY KEY,
    contact text COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE
);
CREATE INDEX contact_addresses_contact ON contact_addresses (contact);

CREATE TABLE messages (
    id         bigint PRIMARY KEY,
    contact    text COLLATE "C" NOT NULL,
    direction  text NOT NULL,            -- 'in' | 'out'
    status     text NOT NULL,
    created_at bigint NOT NULL,          -- ms since the epoch
    data       jsonb NOT NULL            -- MessageRecord
);
CREATE INDEX messages_history ON messages (contact, id);
CREATE INDEX messages_created ON messages (created_at);

CREATE TABLE tickets (
    id         bigint PRIMARY KEY,
    contact    text COLLATE "C" NOT NULL,
    open       boolean NOT NULL,
    closed_at  bigint,                   -- ms, when closed
    data       jsonb NOT NULL            -- Ticket
);
-- At most one open ticket per person, across every replica.
CREATE UNIQUE INDEX tickets_one_open ON tickets (contact) WHERE open;
CREATE INDEX tickets_contact ON tickets (contact, id);

CREATE TABLE audit (
    id     bigint PRIMARY KEY,
    at     bigint NOT NULL,
    ticket bigint,
    data   jsonb NOT NULL                -- AuditEntry
);
CREATE INDEX audit_newest ON audit (id DESC);
