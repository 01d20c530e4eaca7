//! The account service's errors as rich gRPC statuses: google.rpc.ErrorInfo
//! with the bank's error domain and a machine-readable reason (with
//! metadata where the contract names some), RetryInfo where a retry can
//! help. Internal and dependency failures use `bank_server`'s helpers,
//! which log the cause once and hide it from the caller.

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use bank_server::ERROR_DOMAIN;

/// A status with an ErrorInfo `reason` and `metadata`.
pub fn with_reason(code: Code, reason: &str, message: impl Into<String>, metadata: &[(&str, String)]) -> Status {
    let metadata: HashMap<String, String> = metadata.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    Status::with_error_details(
        code,
        message,
        ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata),
    )
}

/// Adds an ErrorInfo `reason` to a status that already carries details
/// (an INVALID_ARGUMENT with field violations that also has a reason, such
/// as INVALID_CHECK_DIGIT or UNSUPPORTED_CURRENCY).
pub fn add_reason(status: Status, reason: &str) -> Status {
    let mut details = status.get_error_details();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(status.code(), status.message(), details)
}

/// RESOURCE_EXHAUSTED with a reason and, when known, when to retry.
pub fn exhausted(reason: &str, message: impl Into<String>, retry_after: Option<Duration>) -> Status {
    let mut details = ErrorDetails::new();
    if let Some(delay) = retry_after {
        details.set_retry_info(Some(delay));
    }
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

/// NOT_FOUND for an account that does not exist or that the caller may
/// not see (the two are indistinguishable on purpose).
pub fn account_not_found() -> Status {
    with_reason(Code::NotFound, "ACCOUNT_NOT_FOUND", "account not found", &[])
}

/// NOT_FOUND for a card.
pub fn card_not_found() -> Status {
    with_reason(Code::NotFound, "CARD_NOT_FOUND", "card not found", &[])
}

/// PERMISSION_DENIED for an admin acting on an account they do not own:
/// the admin role adds read access only.
pub fn not_account_owner() -> Status {
    with_reason(
        Code::PermissionDenied,
        "NOT_ACCOUNT_OWNER",
        "only the account's owner may do this; the admin role grants read access only",
        &[],
    )
}

/// FAILED_PRECONDITION with a reason.
pub fn precondition(reason: &str, message: impl Into<String>) -> Status {
    with_reason(Code::FailedPrecondition, reason, message, &[])
}

/// ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED naming the first mismatched field.
pub fn key_reused(field: &str) -> Status {
    with_reason(
        Code::AlreadyExists,
        "IDEMPOTENCY_KEY_REUSED",
        format!("request_id was already used with a different request ({field} differs)"),
        &[("field", field.to_owned())],
    )
}
