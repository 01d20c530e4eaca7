//! The services finance calls over mTLS: the ledger (Transfer's internal
//! API: disbursements, repayments) and Account's internal API (who owns an
//! account, its currency and status). Every call here is idempotent (by
//! request id, or read-only), so a call that fails with UNAVAILABLE or a
//! timeout is retried a bounded number of times with backoff.

use std::time::Duration;

use bank_mtls::MeshChannel;
use bank_proto::bank::account::v1 as account;
use bank_proto::bank::account::v1::account_internal_service_client::AccountInternalServiceClient;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as pb;
use bank_proto::bank::transfer::v1::transfer_internal_service_client::TransferInternalServiceClient;
use bank_server::REQUEST_ID_HEADER;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use crate::errors;

/// Attempts of one call before giving up with UNAVAILABLE.
pub const PEER_ATTEMPTS_MAX: u32 = 3;
/// Backoff before the first retry; doubled for each further one.
const PEER_BACKOFF_INITIAL_MS: u64 = 100;
/// Deadline of one attempt.
pub const PEER_CALL_TIMEOUT_MS: u64 = 5_000;
/// Statement text of a disbursement.
pub const DISBURSEMENT_DESCRIPTION: &str = "Loan disbursement";
/// Statement text of a repayment's principal part.
pub const REPAYMENT_DESCRIPTION: &str = "Loan repayment";
/// Statement text of a repayment's interest part.
pub const INTEREST_DESCRIPTION: &str = "Loan interest";

fn retryable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown
    ) && status.get_error_details().error_info().is_none()
}

/// Whether a peer failure means "not reached" (retry later with the same
/// request id) rather than an answer.
pub fn unreachable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::ResourceExhausted | Code::Cancelled
    )
}

/// A ledger decline (FAILED_PRECONDITION with a reason) re-issued in this
/// service's words with the ledger's reason and metadata, or `None` for any
/// other status.
pub fn decline(status: &Status) -> Option<Status> {
    if status.code() != Code::FailedPrecondition {
        return None;
    }
    let details = status.get_error_details();
    let info = details.error_info()?;
    let metadata: Vec<(&str, String)> = info.metadata.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    Some(errors::with_reason(
        Code::FailedPrecondition,
        &info.reason,
        status.message(),
        &metadata,
    ))
}

/// The answer of a ledger call that moved nothing and never will under its
/// request id: a decline, or a refusal of the request itself
/// (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED: nothing is written, but
/// the services disagree, so the caller gets INTERNAL and the cause is
/// logged). `None` for anything else, after which money may have moved (or
/// may still move) under the request id: the work must stay in flight.
pub fn definitive(context: &str, status: &Status) -> Option<Status> {
    if let Some(decline) = decline(status) {
        return Some(decline);
    }
    match status.code() {
        Code::InvalidArgument | Code::NotFound | Code::PermissionDenied => Some(bank_server::internal(
            context,
            format!("ledger refused: {:?}: {}", status.code(), status.message()),
        )),
        _ => None,
    }
}

/// A peer failure as this service's status: UNAVAILABLE when the peer was
/// not reached, the decline when it declined, INTERNAL (logged) otherwise:
/// the services disagree, which the caller cannot fix.
pub fn relay(context: &str, status: Status) -> Status {
    if unreachable(&status) {
        return bank_server::unavailable(context, status.message());
    }
    decline(&status)
        .unwrap_or_else(|| bank_server::internal(context, format!("{:?}: {}", status.code(), status.message())))
}

fn request<T>(message: T, request_id: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(Duration::from_millis(PEER_CALL_TIMEOUT_MS));
    if let Some(id) = request_id.and_then(|id| id.parse().ok()) {
        request.metadata_mut().insert(REQUEST_ID_HEADER, id);
    }
    request
}

async fn retry<C: Clone, T, F, Fut>(client: &C, mut call: F) -> Result<T, Status>
where
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let mut backoff = Duration::from_millis(PEER_BACKOFF_INITIAL_MS);
    let mut attempt = 1;
    loop {
        match call(client.clone()).await {
            Ok(response) => return Ok(response.into_inner()),
            Err(status) if retryable(&status) && attempt < PEER_ATTEMPTS_MAX => {
                tracing::debug!(code = ?status.code(), attempt, "peer call failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            Err(status) => return Err(status),
        }
    }
}

fn by_id(id: Uuid) -> Option<pb::LedgerAccountRef> {
    Some(pb::LedgerAccountRef {
        target: Some(pb::ledger_account_ref::Target::LedgerAccountId(id.to_string())),
    })
}

fn system(kind: pb::LedgerAccountKind, currency: &str) -> Option<pb::LedgerAccountRef> {
    Some(pb::LedgerAccountRef {
        target: Some(pb::ledger_account_ref::Target::System(pb::SystemAccountRef {
            kind: kind as i32,
            currency: currency.to_owned(),
        })),
    })
}

fn money(minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: currency.to_owned(),
    })
}

/// What a disbursement asks the ledger to do. Every field is frozen when
/// the approval starts, so a retry sends the very same request.
#[derive(Debug)]
pub struct Disbursement<'a> {
    /// The ledger request id (the application id, or derived from it).
    pub request_id: &'a str,
    /// The application (statement reference).
    pub application_id: Uuid,
    /// The account paid into.
    pub account_id: Uuid,
    /// The principal.
    pub amount_minor: i64,
    /// Its currency.
    pub currency: &'a str,
}

/// What a repayment asks the ledger to do.
#[derive(Debug)]
pub struct RepaymentLegs<'a> {
    /// The ledger request id (the repayment id).
    pub request_id: &'a str,
    /// The loan (statement reference).
    pub loan_id: Uuid,
    /// The borrower, on whose behalf finance acts.
    pub borrower: Uuid,
    /// The account debited.
    pub account_id: Uuid,
    /// Principal part (may be 0).
    pub principal_minor: i64,
    /// Interest part (may be 0).
    pub interest_minor: i64,
    /// Currency of both.
    pub currency: &'a str,
}

/// The Transfer service's internal API.
#[derive(Clone, Debug)]
pub struct Ledger {
    client: TransferInternalServiceClient<MeshChannel>,
}

impl Ledger {
    /// A ledger client over `channel` (mTLS, identity `finance`).
    pub fn new(channel: MeshChannel) -> Self {
        Self {
            client: TransferInternalServiceClient::new(channel),
        }
    }

    /// Pays a loan's principal from LOAN_FUNDING into the borrower's
    /// account. Bank-initiated: no member on whose behalf.
    pub async fn disburse(&self, d: &Disbursement<'_>, trace: Option<&str>) -> Result<pb::Transfer, Status> {
        let message = pb::CreateInternalTransferRequest {
            request_id: d.request_id.to_owned(),
            legs: vec![pb::InternalTransferLeg {
                from_account: system(pb::LedgerAccountKind::LoanFunding, d.currency),
                to_account: by_id(d.account_id),
                amount: money(d.amount_minor, d.currency),
                kind: pb::TransferKind::LoanDisbursement as i32,
                description: DISBURSEMENT_DESCRIPTION.to_owned(),
                reference: d.application_id.to_string(),
            }],
            on_behalf_of_user_id: String::new(),
        };
        let response = retry(&self.client, |mut client| {
            let message = message.clone();
            async move { client.create_internal_transfer(request(message, trace)).await }
        })
        .await?;
        response
            .transfers
            .into_iter()
            .next()
            .ok_or_else(|| Status::internal("ledger returned no transfer"))
    }

    /// Moves a repayment: principal to LOAN_FUNDING and interest to
    /// INTEREST_INCOME, one leg per non-zero part, all or nothing.
    pub async fn repay(&self, r: &RepaymentLegs<'_>, trace: Option<&str>) -> Result<Vec<pb::Transfer>, Status> {
        let mut legs = Vec::with_capacity(2);
        if r.interest_minor > 0 {
            legs.push(pb::InternalTransferLeg {
                from_account: by_id(r.account_id),
                to_account: system(pb::LedgerAccountKind::InterestIncome, r.currency),
                amount: money(r.interest_minor, r.currency),
                kind: pb::TransferKind::LoanInterest as i32,
                description: INTEREST_DESCRIPTION.to_owned(),
                reference: r.loan_id.to_string(),
            });
        }
        if r.principal_minor > 0 {
            legs.push(pb::InternalTransferLeg {
                from_account: by_id(r.account_id),
                to_account: system(pb::LedgerAccountKind::LoanFunding, r.currency),
                amount: money(r.principal_minor, r.currency),
                kind: pb::TransferKind::LoanRepayment as i32,
                description: REPAYMENT_DESCRIPTION.to_owned(),
                reference: r.loan_id.to_string(),
            });
        }
        let message = pb::CreateInternalTransferRequest {
            request_id: r.request_id.to_owned(),
            legs,
            on_behalf_of_user_id: r.borrower.to_string(),
        };
        let response = retry(&self.client, |mut client| {
            let message = message.clone();
            async move { client.create_internal_transfer(request(message, trace)).await }
        })
        .await?;
        Ok(response.transfers)
    }
}

/// Account's internal API.
#[derive(Clone, Debug)]
pub struct Accounts {
    client: AccountInternalServiceClient<MeshChannel>,
}

impl Accounts {
    /// A client over `channel` (mTLS, identity `finance`).
    pub fn new(channel: MeshChannel) -> Self {
        Self {
            client: AccountInternalServiceClient::new(channel),
        }
    }

    /// The facts of account `id`, or `None` when it does not exist.
    pub async fn facts(&self, id: Uuid, trace: Option<&str>) -> Result<Option<account::AccountFacts>, Status> {
        let message = account::BatchGetAccountFactsRequest {
            account_ids: vec![id.to_string()],
            account_numbers: Vec::new(),
        };
        let response = retry(&self.client, |mut client| {
            let message = message.clone();
            async move { client.batch_get_account_facts(request(message, trace)).await }
        })
        .await
        .map_err(|status| relay("reading the account", status))?;
        let wanted = id.to_string();
        Ok(response.accounts.into_iter().find(|a| a.account_id == wanted))
    }
}
