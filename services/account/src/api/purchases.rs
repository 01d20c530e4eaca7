//! Card purchases: verify the card by recomputation, then debit its account
//! into MERCHANT_SETTLEMENT through the ledger. The request id is claimed
//! first; a purchase is marked "submitted" before the ledger is asked, and
//! from then on every retry asks the ledger again (with the same derived
//! request id, so money moves at most once) instead of re-deciding. Declines
//! are recorded and replayed like successes.

use std::time::Duration;

use bank_authn::{Caller, caller};
use bank_proto::bank::account::v1 as pb;
use bank_server::{FieldViolations, internal};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use prost::Message;
use sha2::{Digest, Sha256};
use tonic::codegen::Bytes;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use super::{AppState, parsed, store_error, timestamp};
use crate::domain::{
    Amount, Cvv, Expiry, MERCHANT_NAME_MAX_CHARS, Pan, RequestId, bounded_text, merchant_category_code,
};
use crate::errors;
use crate::idempotency::{Fingerprint, MacField as _, Rpc};
use crate::ledger::{Purchase, relay};
use crate::store::{
    AccountRow, CARD_ACTIVE, CARD_BLOCKED, CardRow, IdempotencyKey, IdempotencyRow, Outcome, STATE_CLAIMED,
    STATE_COMPLETED, STATE_SUBMITTED,
};

/// CARD_INVALID declines of one caller within the window before further
/// purchases are refused.
pub const CARD_INVALID_ATTEMPTS_MAX: i64 = 5;
/// The window of [`CARD_INVALID_ATTEMPTS_MAX`], in seconds.
pub const CARD_INVALID_WINDOW_SECS: i64 = 24 * 3600;

/// A validated purchase request. Holds card secrets: never log it.
struct PurchaseInput {
    request_id: RequestId,
    pan: Pan,
    expiry: Expiry,
    cvv: Cvv,
    merchant_name: String,
    merchant_category_code: String,
    amount: Amount,
}

/// The ledger request id of a purchase: derived from the caller and their
/// request id (the ledger scopes keys to this service, not to the member),
/// so retries map to the same ledger request.
fn ledger_request_id(user: Uuid, request_id: &RequestId) -> String {
    let mut hasher = Sha256::new();
    hasher.update(user.as_bytes());
    hasher.update(b":");
    hasher.update(request_id.as_str().as_bytes());
    format!("cp-{}", URL_SAFE_NO_PAD.encode(hasher.finalize()))
}

/// A decline: FAILED_PRECONDITION with a reason, in this service's domain.
fn decline(reason: &str, message: &str, metadata: &[(&str, String)]) -> Status {
    errors::with_reason(Code::FailedPrecondition, reason, message, metadata)
}

fn outcome_of_decline(status: &Status, reason: &str) -> Outcome {
    Outcome::Error {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: status.details().to_vec(),
        reason: reason.to_owned(),
    }
}

/// The answer a completed record stands for.
fn replay(record: &IdempotencyRow) -> Result<pb::CreateCardPurchaseResponse, Status> {
    if let Some(response) = &record.response {
        return pb::CreateCardPurchaseResponse::decode(response.as_slice())
            .map_err(|e| internal("decoding stored purchase", e));
    }
    match (record.error_code, &record.error_message) {
        (Some(code), Some(message)) => Err(Status::with_details(
            Code::from_i32(code),
            message.clone(),
            Bytes::from(record.error_details.clone().unwrap_or_default()),
        )),
        _ => Err(internal("replaying purchase", "completed record without outcome")),
    }
}

/// What verifying the card decided.
enum Verified {
    /// Go ahead with this card of this account.
    Approved(CardRow),
    /// A decline to record.
    Declined(&'static str, &'static str),
}

impl AppState {
    pub(super) async fn create_card_purchase(
        &self,
        request: Request<pb::CreateCardPurchaseRequest>,
    ) -> Result<pb::CreateCardPurchaseResponse, Status> {
        let caller = caller(&request)?.clone();
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let input = parse(request.into_inner())?;
        let fingerprint = Fingerprint::new()
            .field(&self.vault, "card_number", input.pan.expose())
            .field(&self.vault, "expiry_month", input.expiry.month().to_string())
            .field(&self.vault, "expiry_year", input.expiry.year().to_string())
            .field(&self.vault, "cvv", input.cvv.expose())
            .field(&self.vault, "merchant_name", &input.merchant_name)
            .field(&self.vault, "merchant_category_code", &input.merchant_category_code)
            .field(
                &self.vault,
                "amount",
                format!("{}:{}", input.amount.minor(), input.amount.currency().as_str()),
            );
        let key = IdempotencyKey {
            caller: caller.user_id,
            rpc: Rpc::CreateCardPurchase,
            request_id: input.request_id.as_str(),
        };
        let existing = self
            .store
            .claim(key, &fingerprint)
            .await
            .map_err(|e| store_error("claiming request id", e))?;
        if let Some(record) = &existing
            && let Some(field) = fingerprint.first_mismatch(&record.fingerprint)
        {
            return Err(errors::key_reused(&field));
        }
        let card = match existing {
            Some(record) if record.state == STATE_COMPLETED => return replay(&record),
            Some(record) if record.state == STATE_SUBMITTED => self.submitted_card(&record).await?,
            _ => {
                self.check_attempts(caller.user_id).await?;
                match self.verify(&caller, &input).await? {
                    Verified::Approved(card) => {
                        if !self
                            .store
                            .submit(key, card.id)
                            .await
                            .map_err(|e| store_error("recording purchase", e))?
                        {
                            // A concurrent call with this key finished first.
                            let record = self.record(key).await?;
                            return replay(&record);
                        }
                        card
                    }
                    Verified::Declined(reason, message) => {
                        tracing::info!(user_id = %caller.user_id, reason, "card purchase declined");
                        let status = decline(reason, message, &[]);
                        let record = self
                            .store
                            .complete(key, &[STATE_CLAIMED], &outcome_of_decline(&status, reason))
                            .await
                            .map_err(|e| store_error("recording decline", e))?;
                        return match record.state {
                            STATE_COMPLETED => replay(&record),
                            // A concurrent call with this key got to the
                            // ledger first: its outcome is the answer.
                            _ => {
                                let card = self.submitted_card(&record).await?;
                                self.charge(&caller, key, &input, &card, rid.as_deref()).await
                            }
                        };
                    }
                }
            }
        };
        self.charge(&caller, key, &input, &card, rid.as_deref()).await
    }

    async fn record(&self, key: IdempotencyKey<'_>) -> Result<IdempotencyRow, Status> {
        self.store
            .record(key)
            .await
            .map_err(|e| store_error("reading purchase record", e))
    }

    async fn submitted_card(&self, record: &IdempotencyRow) -> Result<CardRow, Status> {
        let card_id = record
            .resource_id
            .ok_or_else(|| internal("resuming purchase", "submitted record without card"))?;
        self.store
            .card(card_id)
            .await
            .map_err(|e| store_error("reading card", e))?
            .ok_or_else(|| internal("resuming purchase", "card of a submitted purchase missing"))
    }

    /// Refuses when the caller had too many CARD_INVALID declines lately.
    async fn check_attempts(&self, user: Uuid) -> Result<(), Status> {
        let window = chrono::Duration::seconds(CARD_INVALID_WINDOW_SECS);
        let now = Utc::now();
        let (count, oldest) = self
            .store
            .declines_since(user, "CARD_INVALID", now - window)
            .await
            .map_err(|e| store_error("counting declines", e))?;
        if count < CARD_INVALID_ATTEMPTS_MAX {
            return Ok(());
        }
        let reopens: DateTime<Utc> = oldest.unwrap_or(now) + window;
        let wait = (reopens - now)
            .to_std()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_secs(1));
        tracing::warn!(user_id = %user, count, "card purchases refused: too many invalid card attempts");
        Err(errors::exhausted(
            "CARD_ATTEMPTS_EXCEEDED",
            "too many purchases with wrong card details; try again later",
            Some(wait),
        ))
    }

    /// Checks number, owner, expiry and CVV (one indistinguishable
    /// CARD_INVALID for all), then the card's state and the currency.
    async fn verify(&self, caller: &Caller, input: &PurchaseInput) -> Result<Verified, Status> {
        let invalid = Verified::Declined("CARD_INVALID", "the card details are not valid");
        let found = self
            .store
            .card_by_pan_index(&self.vault.pan_index(&input.pan))
            .await
            .map_err(|e| store_error("finding card", e))?;
        let Some((card, account)) = found else {
            return Ok(invalid);
        };
        if card.owner_user_id != caller.user_id {
            if super::is_admin(caller) {
                return Err(errors::not_account_owner());
            }
            return Ok(invalid);
        }
        if card.expiry() != input.expiry || !self.vault.verify_cvv(&input.pan, card.expiry(), &input.cvv) {
            return Ok(invalid);
        }
        let now = Utc::now();
        match card.effective_status(now) {
            CARD_ACTIVE => {}
            CARD_BLOCKED => return Ok(Verified::Declined("CARD_BLOCKED", "the card is blocked")),
            _ => return Ok(Verified::Declined("CARD_EXPIRED", "the card has expired")),
        }
        if !currency_matches(&account, &input.amount) {
            return Ok(Verified::Declined(
                "CURRENCY_MISMATCH",
                "the amount's currency is not the card account's currency",
            ));
        }
        Ok(Verified::Approved(card))
    }

    /// Asks the ledger to move the money and records the outcome (a decline
    /// included). A ledger that cannot be reached leaves the purchase
    /// submitted: the client retries with the same request id.
    async fn charge(
        &self,
        caller: &Caller,
        key: IdempotencyKey<'_>,
        input: &PurchaseInput,
        card: &CardRow,
        rid: Option<&str>,
    ) -> Result<pb::CreateCardPurchaseResponse, Status> {
        let ledger_request_id = ledger_request_id(caller.user_id, &input.request_id);
        let purchase = Purchase {
            request_id: &ledger_request_id,
            user_id: caller.user_id,
            account_id: card.account_id,
            amount: &input.amount,
            merchant_name: &input.merchant_name,
            merchant_category_code: &input.merchant_category_code,
        };
        let outcome = match self.ledger.card_purchase(&purchase, rid).await {
            Ok(transfer) => {
                tracing::info!(
                    user_id = %caller.user_id,
                    card_id = %card.id,
                    account_id = %card.account_id,
                    transfer_id = %transfer.transfer_id,
                    "card purchase approved"
                );
                let response = pb::CreateCardPurchaseResponse {
                    purchase: Some(pb::CardPurchase {
                        transfer_id: transfer.transfer_id.clone(),
                        card_id: card.id.to_string(),
                        card_last_four: card.last_four.clone(),
                        account_id: card.account_id.to_string(),
                        merchant_name: input.merchant_name.clone(),
                        merchant_category_code: input.merchant_category_code.clone(),
                        amount: Some(input.amount.to_proto()),
                        approve_time: transfer.create_time.or_else(|| Some(timestamp(Utc::now()))),
                    }),
                };
                Outcome::Response(response.encode_to_vec())
            }
            Err(status) if status.code() == Code::FailedPrecondition => {
                let details = status.get_error_details();
                let Some(info) = details.error_info() else {
                    return Err(relay("card purchase", status));
                };
                tracing::info!(
                    user_id = %caller.user_id,
                    card_id = %card.id,
                    reason = %info.reason,
                    "card purchase declined by the ledger"
                );
                let metadata: Vec<(&str, String)> =
                    info.metadata.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                let declined = decline(&info.reason, status.message(), &metadata);
                outcome_of_decline(&declined, &info.reason)
            }
            Err(status) => return Err(relay("card purchase", status)),
        };
        let record = self
            .store
            .complete(key, &[STATE_SUBMITTED], &outcome)
            .await
            .map_err(|e| store_error("recording purchase", e))?;
        replay(&record)
    }
}

fn currency_matches(account: &AccountRow, amount: &Amount) -> bool {
    account.currency == amount.currency().as_str()
}

fn parse(req: pb::CreateCardPurchaseRequest) -> Result<PurchaseInput, Status> {
    let mut violations = FieldViolations::new();
    let request_id = violations.check("request_id", RequestId::parse(&req.request_id));
    let pan = violations.check("card_number", Pan::parse(&req.card_number));
    let expiry = match Expiry::new(req.expiry_month, req.expiry_year) {
        Ok(expiry) => Some(expiry),
        Err(_) => {
            if !(1..=12).contains(&req.expiry_month) {
                violations.add("expiry_month", "must be 1..12");
            }
            if !(1000..=9999).contains(&req.expiry_year) {
                violations.add("expiry_year", "must have four digits");
            }
            None
        }
    };
    let cvv = violations.check("cvv", Cvv::parse(&req.cvv));
    let merchant_name = violations.check(
        "merchant_name",
        bounded_text(&req.merchant_name, true, MERCHANT_NAME_MAX_CHARS),
    );
    let mcc = violations.check(
        "merchant_category_code",
        merchant_category_code(&req.merchant_category_code),
    );
    let amount = violations.check("amount", Amount::parse(req.amount.as_ref()));
    violations.into_result()?;
    Ok(PurchaseInput {
        request_id: parsed(request_id, "card-purchase")?,
        pan: parsed(pan, "card-purchase")?,
        expiry: parsed(expiry, "card-purchase")?,
        cvv: parsed(cvv, "card-purchase")?,
        merchant_name: parsed(merchant_name, "card-purchase")?,
        merchant_category_code: parsed(mcc, "card-purchase")?,
        amount: parsed(amount, "card-purchase")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_request_ids_are_stable_short_and_per_member() {
        let request_id = RequestId::parse("abc").expect("id");
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let id = ledger_request_id(a, &request_id);
        assert_eq!(id, ledger_request_id(a, &request_id));
        assert_ne!(id, ledger_request_id(b, &request_id));
        assert!(RequestId::parse(&id).is_ok(), "{id} is a valid ledger request id");
    }
}
