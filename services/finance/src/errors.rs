//! The finance service's errors as rich gRPC statuses: google.rpc.ErrorInfo
//! with the bank's error domain and a machine-readable reason (with
//! metadata where the contract names some). Internal and dependency
//! failures use `bank_server`'s helpers, which log the cause once and hide
//! it from the caller.

use std::collections::HashMap;

use bank_server::ERROR_DOMAIN;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::Illegal;

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
/// (an INVALID_ARGUMENT with field violations and a reason, such as
/// SCHEDULE_NOT_REPRESENTABLE).
pub fn add_reason(status: Status, reason: &str) -> Status {
    let mut details = status.get_error_details();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(status.code(), status.message(), details)
}

/// FAILED_PRECONDITION with a reason.
pub fn precondition(reason: &str, message: impl Into<String>) -> Status {
    with_reason(Code::FailedPrecondition, reason, message, &[])
}

/// FAILED_PRECONDITION ILLEGAL_STATUS_TRANSITION with "from" and "to".
pub fn illegal(change: Illegal) -> Status {
    with_reason(
        Code::FailedPrecondition,
        "ILLEGAL_STATUS_TRANSITION",
        format!(
            "an application cannot go from {} to {}",
            change.from.name(),
            change.to.name()
        ),
        &[
            ("from", change.from.name().to_owned()),
            ("to", change.to.name().to_owned()),
        ],
    )
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

/// NOT_FOUND for an application that does not exist or that the caller
/// may not see (the two are indistinguishable on purpose).
pub fn application_not_found() -> Status {
    with_reason(Code::NotFound, "APPLICATION_NOT_FOUND", "application not found", &[])
}

/// NOT_FOUND for a loan.
pub fn loan_not_found() -> Status {
    with_reason(Code::NotFound, "LOAN_NOT_FOUND", "loan not found", &[])
}

/// NOT_FOUND for a financing option.
pub fn option_not_found() -> Status {
    with_reason(
        Code::NotFound,
        "FINANCING_OPTION_NOT_FOUND",
        "financing option not found",
        &[],
    )
}

/// NOT_FOUND for an account that does not exist or is not the caller's.
pub fn account_not_found() -> Status {
    with_reason(Code::NotFound, "ACCOUNT_NOT_FOUND", "account not found", &[])
}

/// INVALID_ARGUMENT SCHEDULE_NOT_REPRESENTABLE, with a field violation.
pub fn schedule_not_representable(field: &str, detail: impl std::fmt::Display) -> Status {
    let mut violations = bank_server::FieldViolations::new();
    violations.add(
        field,
        format!("no amortization schedule without a zero or negative payment exists for these terms ({detail})"),
    );
    match violations.into_result() {
        Err(status) => add_reason(status, "SCHEDULE_NOT_REPRESENTABLE"),
        Ok(()) => Status::invalid_argument("schedule not representable"),
    }
}
