//! Diesel table definitions of the `auth` schema (see `migrations/`).

diesel::table! {
    auth.users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        status -> Int2,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    auth.user_roles (user_id, role) {
        user_id -> Uuid,
        role -> Text,
        granted_at -> Timestamptz,
    }
}

diesel::table! {
    auth.sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoke_reason -> Nullable<Text>,
    }
}

diesel::table! {
    auth.refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        issued_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(users, user_roles, sessions, refresh_tokens);

diesel::table! {
    auth.event_key (id) {
        id -> Bool,
        secret -> Bytea,
        created_at -> Timestamptz,
    }
}
