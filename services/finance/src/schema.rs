//! Diesel table definitions of the `finance` schema (see `migrations/`).

diesel::table! {
    finance.financing_options (id) {
        id -> Uuid,
        name -> Text,
        description -> Text,
        product_type -> Int2,
        currency -> Text,
        annual_rate_bps -> Int4,
        min_term_months -> Int4,
        max_term_months -> Int4,
        min_amount_minor -> Int8,
        max_amount_minor -> Int8,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    finance.applications (id) {
        id -> Uuid,
        applicant_user_id -> Uuid,
        product_type -> Int2,
        amount_minor -> Int8,
        currency -> Text,
        term_months -> Int4,
        purpose -> Text,
        disbursement_account_id -> Uuid,
        status -> Int2,
        status_reason -> Text,
        option_id -> Nullable<Uuid>,
        option_name -> Nullable<Text>,
        option_rate_bps -> Nullable<Int4>,
        selected_at -> Nullable<Timestamptz>,
        approval_attempt -> Int4,
        approval_pending -> Bool,
        approval_admin_id -> Nullable<Uuid>,
        approval_reason -> Nullable<Text>,
        approval_started_at -> Nullable<Timestamptz>,
        loan_id -> Nullable<Uuid>,
        submitted_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    finance.application_history (id) {
        id -> Int8,
        application_id -> Uuid,
        from_status -> Int2,
        to_status -> Int2,
        actor_user_id -> Uuid,
        note -> Text,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    finance.loans (id) {
        id -> Uuid,
        application_id -> Uuid,
        borrower_user_id -> Uuid,
        option_id -> Uuid,
        product_type -> Int2,
        currency -> Text,
        principal_minor -> Int8,
        annual_rate_bps -> Int4,
        term_months -> Int4,
        installment_amount_minor -> Int8,
        total_interest_minor -> Int8,
        total_payable_minor -> Int8,
        principal_paid_minor -> Int8,
        interest_paid_minor -> Int8,
        disbursement_account_id -> Uuid,
        disbursement_transfer_id -> Uuid,
        status -> Int2,
        disbursed_at -> Timestamptz,
        paid_off_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    finance.installments (loan_id, number) {
        loan_id -> Uuid,
        number -> Int4,
        due_date -> Date,
        payment_minor -> Int8,
        principal_minor -> Int8,
        interest_minor -> Int8,
        balance_after_minor -> Int8,
        paid_minor -> Int8,
    }
}

diesel::table! {
    finance.repayments (id) {
        id -> Uuid,
        loan_id -> Uuid,
        borrower_user_id -> Uuid,
        from_account_id -> Uuid,
        currency -> Text,
        amount_minor -> Int8,
        principal_part_minor -> Int8,
        interest_part_minor -> Int8,
        state -> Int2,
        transfer_ids -> Array<Uuid>,
        created_at -> Timestamptz,
        received_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    finance.idempotency_keys (caller_id, rpc, request_id) {
        caller_id -> Uuid,
        rpc -> Text,
        request_id -> Text,
        fingerprint -> Text,
        state -> Int2,
        resource_id -> Uuid,
        response -> Nullable<Bytea>,
        error_code -> Nullable<Int4>,
        error_message -> Nullable<Text>,
        error_details -> Nullable<Bytea>,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(application_history -> applications (application_id));
diesel::joinable!(installments -> loans (loan_id));
diesel::joinable!(repayments -> loans (loan_id));
diesel::allow_tables_to_appear_in_same_query!(
    financing_options,
    applications,
    application_history,
    loans,
    installments,
    repayments,
    idempotency_keys
);
