-- The auth service's own schema: users, their roles, sessions (refresh-token
-- families) and the refresh tokens themselves (stored only as SHA-256 hashes).
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE auth.users (
    id            uuid        PRIMARY KEY,
    -- Normalised at the edge (lower case); the CHECK makes a bypass impossible.
    email         text        NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    -- PHC string of an argon2id hash; never the password.
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- 1 = active, 2 = disabled (bank.auth.v1.UserStatus numbers).
    status        smallint    NOT NULL DEFAULT 1 CHECK (status IN (1, 2)),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON auth.users (email);
-- Keyset pagination of ListUsers: newest first.
CREATE INDEX users_created_idx ON auth.users (created_at DESC, id DESC);

CREATE TABLE auth.user_roles (
    user_id    uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    role       text        NOT NULL CHECK (role IN ('member', 'admin')),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role_idx ON auth.user_roles (role, user_id);

-- A session is one refresh-token family: created at log-in, ended by logout,
-- by expiry, or by the reuse of one of its used refresh tokens.
CREATE TABLE auth.sessions (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text CHECK (revoke_reason IN ('logout', 'logout_all', 'refresh_token_reuse', 'password_change', 'role_change', 'user_disabled')),
    CHECK (expires_at > created_at),
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX sessions_user_live_idx ON auth.sessions (user_id) WHERE revoked_at IS NULL;
-- Revocations still relevant to access tokens are re-published from here.
CREATE INDEX sessions_revoked_idx ON auth.sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE auth.refresh_tokens (
    token_hash bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    session_id uuid        NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON auth.refresh_tokens (session_id);
