//! Diesel table definitions of the `account` schema (see `migrations/`).

diesel::table! {
    account.accounts (id) {
        id -> Uuid,
        number -> Text,
        owner_user_id -> Nullable<Uuid>,
        account_type -> Int2,
        status -> Int2,
        currency -> Text,
        display_name -> Text,
        system_kind -> Int2,
        status_reason -> Text,
        ledger_ready -> Bool,
        opened_at -> Timestamptz,
        status_changed_at -> Timestamptz,
    }
}

diesel::table! {
    account.profiles (user_id) {
        user_id -> Uuid,
        full_name -> Text,
        phone -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    account.cards (id) {
        id -> Uuid,
        account_id -> Uuid,
        owner_user_id -> Uuid,
        pan_index -> Bytea,
        pan_ciphertext -> Bytea,
        pan_key_id -> Text,
        last_four -> Text,
        expiry_month -> Int2,
        expiry_year -> Int2,
        cardholder_name -> Text,
        status -> Int2,
        block_reason -> Int2,
        issued_at -> Timestamptz,
        blocked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    account.idempotency_keys (caller_id, rpc, request_id) {
        caller_id -> Uuid,
        rpc -> Text,
        request_id -> Text,
        fingerprint -> Text,
        state -> Int2,
        resource_id -> Nullable<Uuid>,
        response -> Nullable<Bytea>,
        error_code -> Nullable<Int4>,
        error_message -> Nullable<Text>,
        error_details -> Nullable<Bytea>,
        decline_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(cards -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, profiles, cards, idempotency_keys);
