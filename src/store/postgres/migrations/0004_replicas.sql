-- Coordination between replicas on one database.

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
