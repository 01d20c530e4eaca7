//! Diesel table definitions of the `analytics` schema (see `migrations/`)
//! for the tables queried through the DSL; the aggregates are written and
//! read with SQL (upserts and sums read better that way).

diesel::table! {
    analytics.flags (flag_id) {
        flag_id -> Uuid,
        transfer_id -> Uuid,
        rule -> Int2,
        detail -> Text,
        debit_account_id -> Uuid,
        credit_account_id -> Uuid,
        amount_minor -> Int8,
        currency -> Text,
        transfer_time -> Timestamptz,
        flag_time -> Timestamptz,
        review_status -> Int2,
        review_outcome -> Int2,
        review_note -> Text,
        reviewer_user_id -> Nullable<Uuid>,
        review_time -> Nullable<Timestamptz>,
    }
}
