-- Accounts, desk, directory, broadcasts (the staff half). Keys compare byte-wise
-- (COLLATE "C") so listings come in the order sled's keys gave them.

-- Staff accounts, by name.
CREATE TABLE users (
    name text COLLATE "C" PRIMARY KEY,
    data jsonb NOT NULL                  -- User
);

-- API tokens, by the hash of the token (the token itself is never stored). `token_id` is the
-- hash's first 16 hex digits, the name admins see and revoke by.
CREATE TABLE api_tokens (
    hash       text COLLATE "C" PRIMARY KEY,
    token_id   text COLLATE "C" NOT NULL,
    user_name  text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    created_by text NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_name);
CREATE INDEX api_tokens_id ON api_tokens (token_id);

-- Browser sessions, by the hash of the cookie's token; any replica reads them.
CREATE TABLE web_sessions (
    hash       text COLLATE "C" PRIMARY KEY,
    user_name  text COLLATE "C" NOT NULL,
    csrf       text NOT NULL,
    expires_at bigint NOT NULL           -- ms
);
CREATE INDEX web_sessions_user ON web_sessions (user_name);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

-- How many of a ticket's messages each interpreter has seen.
CREATE TABLE seen (
    user_name text COLLATE "C" NOT NULL,
    ticket    bigint NOT NULL,
    count     bigint NOT NULL,
    PRIMARY KEY (user_name, ticket)
);

CREATE TABLE canned_replies (
    id       bigint PRIMARY KEY,
    language text COLLATE "C" NOT NULL,  -- the language's tag
    data     jsonb NOT NULL              -- CannedReply
);
CREATE INDEX canned_replies_language ON canned_replies (language, id);

-- The audit trail in sled's order: by time, then id.
CREATE INDEX audit_at ON audit (at DESC, id DESC);
CREATE INDEX audit_ticket ON audit (ticket) WHERE ticket IS NOT NULL;

-- Payment dates, one row per city (compared without regard to case: the key is lowercased).
CREATE TABLE payments (
    city_key text COLLATE "C" PRIMARY KEY,
    data     jsonb NOT NULL              -- PaymentEntry
);

-- Offices and clinics, one per city, kind and name (city and name lowercased in the key).
CREATE TABLE directory (
    city_key text COLLATE "C" NOT NULL,
    kind     text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL,
    data     jsonb NOT NULL,             -- DirectoryEntry
    PRIMARY KEY (city_key, kind, name_key)
);

CREATE TABLE broadcasts (
    id     bigint PRIMARY KEY,
    status text NOT NULL,
    data   jsonb NOT NULL                -- Broadcast
);
CREATE INDEX broadcasts_status ON broadcasts (status);

-- How far enqueueing a broadcast's audience got (EnqueueCursor).
CREATE TABLE broadcast_cursors (
    broadcast bigint PRIMARY KEY REFERENCES broadcasts (id) ON DELETE CASCADE,
    after     text COLLATE "C",
    done      boolean NOT NULL,
    written   bigint NOT NULL,
    chunks    bigint NOT NULL
);

-- The frozen audience: one row per person, numbered (chunk, idx) in the order it was
-- enqueued, which is contact order. A person is in an audience once; the unique key leads
-- with the contact so erasure finds a person's rows by it too. The table that takes 100,000
-- rows at a send has no foreign key (its check per row was a third of the insert) and one
-- index besides its primary key; broadcasts are never deleted.
CREATE TABLE broadcast_audience (
    broadcast bigint NOT NULL,
    chunk     bigint NOT NULL,
    idx       integer NOT NULL,
    contact   text COLLATE "C" NOT NULL,
    language  text NOT NULL,             -- Lang as serde names it
    channel   text NOT NULL,             -- Channel as serde names it
    PRIMARY KEY (broadcast, chunk, idx),
    UNIQUE (contact, broadcast)
);

-- The dispatcher's position in the audience: the last person dealt with.
CREATE TABLE broadcast_positions (
    broadcast bigint PRIMARY KEY REFERENCES broadcasts (id) ON DELETE CASCADE,
    chunk     bigint NOT NULL,
    idx       integer NOT NULL
);

-- One row per person once dealt with (queued as a message, skipped): the guard that nobody
-- gets a broadcast twice, across replicas (the primary key), and what progress counts.
CREATE TABLE broadcast_recipients (
    broadcast  bigint NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    contact    text COLLATE "C" NOT NULL,
    language   text NOT NULL,
    channel    text NOT NULL,
    status     text NOT NULL,            -- RecipientStatus as serde names it
    message_id bigint,
    error      text,
    PRIMARY KEY (broadcast, contact)
);
CREATE INDEX broadcast_recipients_contact ON broadcast_recipients (contact);
CREATE INDEX broadcast_recipients_message ON broadcast_recipients (message_id)
    WHERE message_id IS NOT NULL;

