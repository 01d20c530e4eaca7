//! Diesel table definitions of the `transfer` schema (see `migrations/`).

diesel::table! {
    transfer.ledger_accounts (id) {
        id -> Uuid,
        kind -> Int2,
        currency -> Text,
        status -> Int2,
        debits_posted -> Int8,
        credits_posted -> Int8,
        debits_pending -> Int8,
        credits_pending -> Int8,
        entry_count -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    transfer.system_slots (account_id, slot) {
        account_id -> Uuid,
        slot -> Int2,
        debits_posted -> Int8,
        credits_posted -> Int8,
    }
}

diesel::table! {
    transfer.transfers (id) {
        id -> Uuid,
        initiator -> Text,
        operation -> Int2,
        request_id -> Text,
        leg -> Int2,
        #[sql_name = "type"]
        type_ -> Int2,
        kind -> Int2,
        status -> Int2,
        debit_account_id -> Uuid,
        credit_account_id -> Uuid,
        amount -> Int8,
        currency -> Text,
        description -> Text,
        reference -> Text,
        pending_transfer_id -> Nullable<Uuid>,
        resolving_transfer_id -> Nullable<Uuid>,
        decline_reason -> Int2,
        initiator_user_id -> Nullable<Uuid>,
        initiator_service -> Text,
        debit_sequence -> Nullable<Int8>,
        debit_balance_after -> Nullable<Int8>,
        credit_sequence -> Nullable<Int8>,
        credit_balance_after -> Nullable<Int8>,
        created_at -> Timestamptz,
        expire_at -> Nullable<Timestamptz>,
        resolved_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(system_slots -> ledger_accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(ledger_accounts, system_slots, transfers);
