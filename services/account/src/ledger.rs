//! The ledger as this service sees it: the Transfer service's internal RPCs
//! over mTLS. Every call here is idempotent (by ledger account id, by
//! request id, or read-only), so a call that fails with UNAVAILABLE or a
//! timeout is retried a bounded number of times with backoff.

use std::time::Duration;

use bank_mtls::MeshChannel;
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as pb;
use bank_proto::bank::transfer::v1::transfer_internal_service_client::TransferInternalServiceClient;
use bank_server::REQUEST_ID_HEADER;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use crate::domain::Amount;
use crate::errors;

/// Attempts of one ledger call before giving up with UNAVAILABLE.
pub const LEDGER_ATTEMPTS_MAX: u32 = 3;
/// Backoff before the first retry; doubled for each further one.
const LEDGER_BACKOFF_INITIAL_MS: u64 = 100;
/// Deadline of one attempt.
pub const LEDGER_CALL_TIMEOUT_MS: u64 = 5_000;

/// The Transfer service's internal API.
#[derive(Clone, Debug)]
pub struct Ledger {
    client: TransferInternalServiceClient<MeshChannel>,
}

fn retryable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown
    ) && status.get_error_details().error_info().is_none()
}

/// The ErrorInfo reason of a ledger status, if any.
pub fn reason_of(status: &Status) -> Option<String> {
    status.get_error_details().error_info().map(|info| info.reason.clone())
}

/// A ledger refusal the caller can act on (FAILED_PRECONDITION with a
/// reason: a decline, BALANCE_NOT_ZERO...), re-issued with the ledger's
/// reason, message and metadata. A ledger that cannot be reached is
/// UNAVAILABLE (retry with the same request id); anything else means the
/// two services disagree, which is INTERNAL (logged), not the caller's fault.
pub fn relay(context: &str, status: Status) -> Status {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::ResourceExhausted => {
            bank_server::unavailable(context, status.message())
        }
        Code::FailedPrecondition => match status.get_error_details().error_info() {
            Some(info) => {
                let metadata: Vec<(&str, String)> =
                    info.metadata.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                errors::with_reason(status.code(), &info.reason, status.message(), &metadata)
            }
            None => bank_server::internal(context, format!("ledger {:?}: {}", status.code(), status.message())),
        },
        code => bank_server::internal(context, format!("ledger {code:?}: {}", status.message())),
    }
}

fn request<T>(message: T, request_id: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(Duration::from_millis(LEDGER_CALL_TIMEOUT_MS));
    if let Some(id) = request_id.and_then(|id| id.parse().ok()) {
        request.metadata_mut().insert(REQUEST_ID_HEADER, id);
    }
    request
}

/// A reference to a ledger account by id.
fn by_id(id: Uuid) -> pb::LedgerAccountRef {
    pb::LedgerAccountRef {
        target: Some(pb::ledger_account_ref::Target::LedgerAccountId(id.to_string())),
    }
}

/// What a card purchase asks the ledger to do.
#[derive(Debug)]
pub struct Purchase<'a> {
    /// The ledger request id (derived from the caller's).
    pub request_id: &'a str,
    /// The member paying.
    pub user_id: Uuid,
    /// The card's account.
    pub account_id: Uuid,
    /// The amount, in the account's currency.
    pub amount: &'a Amount,
    /// The merchant (statement description).
    pub merchant_name: &'a str,
    /// The merchant category code (statement reference), maybe empty.
    pub merchant_category_code: &'a str,
}

impl Ledger {
    /// A ledger client over `channel` (mTLS, identity `account`).
    pub fn new(channel: MeshChannel) -> Self {
        Self {
            client: TransferInternalServiceClient::new(channel),
        }
    }

    async fn retry<T, F, Fut>(&self, mut call: F) -> Result<T, Status>
    where
        F: FnMut(TransferInternalServiceClient<MeshChannel>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let mut backoff = Duration::from_millis(LEDGER_BACKOFF_INITIAL_MS);
        let mut attempt = 1;
        loop {
            match call(self.client.clone()).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if retryable(&status) && attempt < LEDGER_ATTEMPTS_MAX => {
                    tracing::debug!(code = ?status.code(), attempt, "ledger call failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
                Err(status) => return Err(status),
            }
        }
    }

    /// Creates (or finds) the customer ledger account `id` in `currency`.
    pub async fn create_customer_account(
        &self,
        id: Uuid,
        currency: &str,
        request_id: Option<&str>,
    ) -> Result<pb::LedgerAccount, Status> {
        let message = pb::CreateLedgerAccountRequest {
            ledger_account_id: id.to_string(),
            kind: pb::LedgerAccountKind::Customer as i32,
            currency: currency.to_owned(),
        };
        let response = self
            .retry(|mut client| {
                let message = message.clone();
                async move { client.create_ledger_account(request(message, request_id)).await }
            })
            .await?;
        response
            .ledger_account
            .ok_or_else(|| Status::internal("ledger returned no ledger account"))
    }

    /// Sets the status of ledger account `id`.
    pub async fn set_status(
        &self,
        id: Uuid,
        status: pb::LedgerAccountStatus,
        request_id: Option<&str>,
    ) -> Result<(), Status> {
        let message = pb::SetLedgerAccountStatusRequest {
            ledger_account_id: id.to_string(),
            status: status as i32,
        };
        self.retry(|mut client| {
            let message = message.clone();
            async move { client.set_ledger_account_status(request(message, request_id)).await }
        })
        .await?;
        Ok(())
    }

    /// The balance of ledger account `id`.
    pub async fn balance(&self, id: Uuid, request_id: Option<&str>) -> Result<pb::GetLedgerBalanceResponse, Status> {
        let message = pb::GetLedgerBalanceRequest {
            account: Some(by_id(id)),
        };
        self.retry(|mut client| {
            let message = message.clone();
            async move { client.get_ledger_balance(request(message, request_id)).await }
        })
        .await
    }

    /// Moves a card purchase from the account to MERCHANT_SETTLEMENT.
    pub async fn card_purchase(
        &self,
        purchase: &Purchase<'_>,
        request_id: Option<&str>,
    ) -> Result<pb::Transfer, Status> {
        let currency = purchase.amount.currency().as_str().to_owned();
        let message = pb::CreateInternalTransferRequest {
            request_id: purchase.request_id.to_owned(),
            legs: vec![pb::InternalTransferLeg {
                from_account: Some(by_id(purchase.account_id)),
                to_account: Some(pb::LedgerAccountRef {
                    target: Some(pb::ledger_account_ref::Target::System(pb::SystemAccountRef {
                        kind: pb::LedgerAccountKind::MerchantSettlement as i32,
                        currency: currency.clone(),
                    })),
                }),
                amount: Some(Money {
                    amount_minor: purchase.amount.minor(),
                    currency,
                }),
                kind: pb::TransferKind::CardPurchase as i32,
                description: purchase.merchant_name.to_owned(),
                reference: purchase.merchant_category_code.to_owned(),
            }],
            on_behalf_of_user_id: purchase.user_id.to_string(),
        };
        let response = self
            .retry(|mut client| {
                let message = message.clone();
                async move { client.create_internal_transfer(request(message, request_id)).await }
            })
            .await?;
        response
            .transfers
            .into_iter()
            .next()
            .ok_or_else(|| Status::internal("ledger returned no transfer"))
    }

    /// One page of the posted entries of ledger account `id` in
    /// [`start`, `end`).
    pub async fn entries(
        &self,
        id: Uuid,
        range: (prost_types::Timestamp, prost_types::Timestamp),
        page_size: i32,
        page_token: String,
        request_id: Option<&str>,
    ) -> Result<pb::ListLedgerEntriesResponse, Status> {
        let message = pb::ListLedgerEntriesRequest {
            ledger_account_id: id.to_string(),
            start_time: Some(range.0),
            end_time: Some(range.1),
            page_size,
            page_token,
        };
        self.retry(|mut client| {
            let message = message.clone();
            async move { client.list_ledger_entries(request(message, request_id)).await }
        })
        .await
    }
}
