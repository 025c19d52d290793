-- Coordination between replicas on one database.

-- Which replica answers a person right now (see PgStore::take_contact_lease): one at a time,
-- so a person's messages are answered in order and side effects (alerts, media fetches,
-- live events) happen once. `until` is ms on the database's clock.
CREATE TABLE contact_leases (
    contact text COLLATE "C" PRIMARY KEY,
    replica text NOT NULL,
    until   bigint NOT NULL
);

-- Failed logins, counted by every replica (five in fifteen minutes, then wait).
CREATE TABLE login_failures (
    name text NOT NULL,
    at   bigint NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, at);

-- Keys every replica signs with (the login form's CSRF token): created by the first replica.
CREATE TABLE shared_keys (
    purpose text PRIMARY KEY,
    key     bytea NOT NULL CHECK (length(key) = 32)
);
