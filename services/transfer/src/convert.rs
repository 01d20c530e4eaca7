//! Rows to wire messages, and outcomes to statuses.

use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as pb;
use bank_server::{already_exists, failed_precondition, internal, not_found, unavailable};
use chrono::{DateTime, Utc};
use tonic::Status;
use uuid::Uuid;

use crate::facts::LookupError;
use crate::ledger::Decline;
use crate::store::{AccountRow, AccountView, Outcome, StoreError, TransferRow, st};

/// A timestamp on the wire.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A wire timestamp as UTC time.
pub fn from_timestamp(ts: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
}

fn money(minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: currency.to_owned(),
    })
}

fn id_or_empty(id: Option<Uuid>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

/// A transfer row on the wire.
pub fn transfer(row: &TransferRow) -> pb::Transfer {
    pb::Transfer {
        transfer_id: row.id.to_string(),
        request_id: row.request_id.clone(),
        r#type: i32::from(row.type_),
        kind: i32::from(row.kind),
        status: i32::from(row.status),
        debit_account_id: row.debit_account_id.to_string(),
        credit_account_id: row.credit_account_id.to_string(),
        amount: money(row.amount, &row.currency),
        description: row.description.clone(),
        reference: row.reference.clone(),
        pending_transfer_id: id_or_empty(row.pending_transfer_id),
        resolving_transfer_id: id_or_empty(row.resolving_transfer_id),
        decline_reason: i32::from(row.decline_reason),
        initiator_user_id: id_or_empty(row.initiator_user_id),
        initiator_service: row.initiator_service.clone(),
        create_time: Some(timestamp(row.created_at)),
        expire_time: row.expire_at.map(timestamp),
        resolve_time: row.resolved_at.map(timestamp),
    }
}

/// A balance on the wire.
pub fn balance(view: &AccountView) -> pb::Balance {
    let c = &view.columns;
    let currency = &view.row.currency;
    let posted = c.credits_posted - c.debits_posted;
    pb::Balance {
        account_id: view.row.id.to_string(),
        currency: currency.clone(),
        posted: money(posted, currency),
        pending_debits: money(c.debits_pending, currency),
        pending_credits: money(c.credits_pending, currency),
        available: money(posted - c.debits_pending, currency),
        debits_posted: money(c.debits_posted, currency),
        credits_posted: money(c.credits_posted, currency),
        read_time: Some(timestamp(view.read_at)),
    }
}

/// A ledger account on the wire.
pub fn ledger_account(view: &AccountView) -> pb::LedgerAccount {
    pb::LedgerAccount {
        ledger_account_id: view.row.id.to_string(),
        kind: i32::from(view.row.kind),
        currency: view.row.currency.clone(),
        balance: Some(balance(view)),
        create_time: Some(timestamp(view.row.created_at)),
        status: i32::from(view.row.status),
    }
}

/// A ledger account row (without fresh balance) on the wire.
pub fn ledger_account_row(row: &AccountRow) -> pb::LedgerAccount {
    let view = AccountView {
        row: row.clone(),
        columns: crate::store::Columns {
            debits_posted: row.debits_posted,
            credits_posted: row.credits_posted,
            debits_pending: row.debits_pending,
            credits_pending: row.credits_pending,
        },
        read_at: Utc::now(),
    };
    ledger_account(&view)
}

/// The status of a store failure.
pub fn store_error(context: &str, error: StoreError) -> Status {
    match error {
        StoreError::Unavailable(e) => unavailable(context, e),
        // The connection died under us (a database restart): nothing was
        // committed, so the client may retry with the same request id.
        StoreError::Query(e) if bank_db::is_connection_error(&e) => unavailable(context, e),
        StoreError::Query(e) => internal(context, e),
    }
}

/// The status of a directory failure.
pub fn lookup_error(error: LookupError) -> Status {
    match error {
        LookupError::NotFound { field } => account_not_found(field),
        LookupError::Upstream(status) if status.code() == tonic::Code::InvalidArgument => status,
        LookupError::Upstream(status) => unavailable("account service", status.message()),
    }
}

/// NOT_FOUND ACCOUNT_NOT_FOUND naming the request field.
pub fn account_not_found(field: &str) -> Status {
    let mut status = not_found("ACCOUNT_NOT_FOUND", format!("{field}: no such account"));
    with_metadata(&mut status, &[("field", field)]);
    status
}

fn with_metadata(status: &mut Status, pairs: &[(&str, &str)]) {
    // Rebuild the ErrorInfo with metadata; tonic-types has no in-place edit.
    use tonic_types::{ErrorDetails, StatusExt};
    let details = status.get_error_details();
    if let Some(info) = details.error_info() {
        let mut metadata = info.metadata.clone();
        for (k, v) in pairs {
            metadata.insert((*k).to_owned(), (*v).to_owned());
        }
        *status = Status::with_error_details(
            status.code(),
            status.message(),
            ErrorDetails::with_error_info(info.reason.clone(), info.domain.clone(), metadata),
        );
    }
}

/// FAILED_PRECONDITION for a recorded decline.
pub fn declined(row: &TransferRow) -> Status {
    let decline = Decline::from_i16(row.decline_reason);
    let reason = decline.map_or("DECLINED", Decline::reason);
    let message = match decline {
        Some(Decline::InsufficientFunds) => "declined: insufficient funds".to_owned(),
        Some(Decline::AccountFrozen) => "declined: an account of the transfer is frozen".to_owned(),
        Some(Decline::AccountClosed) => "declined: an account of the transfer is closed".to_owned(),
        Some(Decline::BalanceOverflow) => "declined: a balance would overflow".to_owned(),
        Some(Decline::PendingPosted) => "declined: the pending transfer was already posted".to_owned(),
        Some(Decline::PendingVoided) => "declined: the pending transfer was already voided".to_owned(),
        Some(Decline::PendingExpired) => "declined: the pending transfer has expired".to_owned(),
        Some(Decline::LinkedEventFailed) => "declined: another transfer of its linked chain failed".to_owned(),
        Some(Decline::LinkedChainOpen) => "declined: the batch ended inside this linked chain".to_owned(),
        None => "declined".to_owned(),
    };
    let mut metadata = vec![("transfer_id".to_owned(), row.id.to_string())];
    if decline == Some(Decline::InsufficientFunds) {
        metadata.push(("account_id".to_owned(), row.debit_account_id.to_string()));
    }
    failed_precondition(reason, message, metadata)
}

/// ALREADY_EXISTS for a reused idempotency key.
pub fn key_reused(field: &str) -> Status {
    let mut status = already_exists(
        "IDEMPOTENCY_KEY_REUSED",
        format!("request_id was already used for a different request ({field} differs)"),
    );
    with_metadata(&mut status, &[("field", field)]);
    status
}

/// The transfer of an outcome, or its error.
pub fn outcome(outcome: Outcome) -> Result<TransferRow, Status> {
    match outcome {
        Outcome::Recorded(row) | Outcome::Replayed(row) if row.status == st::DECLINED => Err(declined(&row)),
        Outcome::Recorded(row) | Outcome::Replayed(row) => Ok(row),
        Outcome::KeyReused { field } => Err(key_reused(field)),
        Outcome::AccountNotFound(_) => Err(not_found("ACCOUNT_NOT_FOUND", "no such account")),
        Outcome::CurrencyMismatch(id) => Err(failed_precondition(
            "CURRENCY_MISMATCH",
            "the amount's currency differs from the account's currency",
            vec![("account_id".to_owned(), id.to_string())],
        )),
    }
}

/// google.rpc.Status of a batch item's error.
pub fn rpc_status(status: &Status) -> bank_proto::google::rpc::Status {
    use prost::Message as _;
    let details = bank_proto::google::rpc::Status::decode(status.details()).unwrap_or_default();
    bank_proto::google::rpc::Status {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: details.details,
    }
}
