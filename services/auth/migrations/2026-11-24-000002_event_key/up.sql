-- The key of LoginFailed.email_hash (HMAC-SHA-256 of the normalised email):
-- 32 random bytes, made once by the first Auth replica that starts and
-- shared by all, so equal emails hash equally across replicas and restarts.
-- It lives beside the users table, which holds the emails in clear anyway;
-- event consumers never see it, so they cannot recover an email.
CREATE TABLE auth.event_key (
    -- One row only.
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    secret     bytea       NOT NULL CHECK (length(secret) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
