//! Debit cards: issue (the one response with the full PAN and the CVV),
//! list, get and block.

use bank_authn::caller;
use bank_proto::bank::account::v1 as pb;
use bank_server::{FieldViolations, internal};
use chrono::Utc;
use prost::Message;
use tonic::{Code, Request, Status};

use super::paging::{LIST_CARDS_PAGE_SIZE_DEFAULT, LIST_CARDS_PAGE_SIZE_MAX, Page};
use super::{AppState, card_to_proto, is_admin, parse_uuid, parsed, store_error};
use crate::domain::{CardholderName, RequestId};
use crate::errors;
use crate::idempotency::{Fingerprint, MacField as _, Rpc};
use crate::store::{CardRequest, IdempotencyKey, IssueError};

impl AppState {
    pub(super) async fn issue_card(
        &self,
        request: Request<pb::IssueCardRequest>,
    ) -> Result<pb::IssueCardResponse, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&req.request_id));
        let account_id = parse_uuid(&mut violations, "account_id", &req.account_id);
        let name = if req.cardholder_name.is_empty() {
            None
        } else {
            violations.check("cardholder_name", CardholderName::parse(&req.cardholder_name))
        };
        violations.into_result()?;
        let (request_id, account_id) = (parsed(request_id, "issue-card")?, parsed(account_id, "issue-card")?);
        let fingerprint = Fingerprint::new()
            .field(&self.vault, "account_id", account_id.as_bytes())
            .field(
                &self.vault,
                "cardholder_name",
                name.as_ref().map(CardholderName::as_str).unwrap_or(""),
            );
        let key = IdempotencyKey {
            caller: caller.user_id,
            rpc: Rpc::IssueCard,
            request_id: request_id.as_str(),
        };
        let now = Utc::now();
        let issued = self
            .store
            .issue_card(
                CardRequest {
                    key,
                    fingerprint: &fingerprint,
                    caller_is_admin: is_admin(&caller),
                    account_id,
                    name,
                    now,
                },
                &self.vault,
                |card| card_to_proto(card, now).encode_to_vec(),
            )
            .await
            .map_err(|error| match error {
                IssueError::KeyReused(field) => errors::key_reused(&field),
                IssueError::NotFound => errors::account_not_found(),
                IssueError::NotOwner => errors::not_account_owner(),
                IssueError::Frozen => errors::precondition("ACCOUNT_FROZEN", "the account is frozen"),
                IssueError::Closed => errors::precondition("ACCOUNT_CLOSED", "the account is closed"),
                IssueError::NotEligible => errors::precondition(
                    "ACCOUNT_TYPE_NOT_ELIGIBLE",
                    "cards are issued for checking and savings accounts only",
                ),
                IssueError::AlreadyIssued => errors::with_reason(
                    Code::AlreadyExists,
                    "CARD_ALREADY_ISSUED",
                    "the account already has an active card; block it to get a new one",
                    &[],
                ),
                IssueError::NoName => {
                    let mut violations = FieldViolations::new();
                    violations.add(
                        "cardholder_name",
                        "is required: the profile has no name that can be embossed (A-Z, space, . ' -)",
                    );
                    violations
                        .into_result()
                        .err()
                        .unwrap_or_else(|| Status::invalid_argument("cardholder_name"))
                }
                IssueError::Vault(e) => internal("encrypting card number", e),
                IssueError::Store(e) => store_error("issuing card", e),
            })?;
        let (card, pan) = match (issued.pan, issued.response) {
            (Some(pan), _) => {
                tracing::info!(user_id = %caller.user_id, account_id = %account_id, card_id = %issued.card.id, "card issued");
                (card_to_proto(&issued.card, now), pan)
            }
            (None, Some(response)) => {
                // A retry: the stored card without secrets, the PAN decrypted
                // and the CVV recomputed.
                let card = pb::Card::decode(response.as_slice()).map_err(|e| internal("decoding stored card", e))?;
                let pan = self
                    .vault
                    .decrypt(issued.card.id, &issued.card.pan_key_id, &issued.card.pan_ciphertext)
                    .map_err(|e| internal("decrypting card number", e))?;
                (card, pan)
            }
            (None, None) => return Err(internal("issuing card", "completed record without response")),
        };
        let cvv = self.vault.cvv(&pan, issued.card.expiry());
        Ok(pb::IssueCardResponse {
            card: Some(card),
            pan: pan.expose().to_owned(),
            cvv: cvv.expose().to_owned(),
        })
    }

    pub(super) async fn list_cards(
        &self,
        request: Request<pb::ListCardsRequest>,
    ) -> Result<pb::ListCardsResponse, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let account_id = parse_uuid(&mut violations, "account_id", &req.account_id);
        let page = Page::parse(
            &mut violations,
            req.page_size,
            &req.page_token,
            LIST_CARDS_PAGE_SIZE_DEFAULT,
            LIST_CARDS_PAGE_SIZE_MAX,
            &req.account_id,
        );
        violations.into_result()?;
        let account = self
            .readable_account(&caller, parsed(account_id, "list-cards")?)
            .await?;
        let mut rows = self
            .store
            .cards_of(account.id, page.after, page.fetch())
            .await
            .map_err(|e| store_error("listing cards", e))?;
        let next_page_token = page.finish(&mut rows, |c| (c.issued_at, c.id));
        let now = Utc::now();
        Ok(pb::ListCardsResponse {
            cards: rows.iter().map(|c| card_to_proto(c, now)).collect(),
            next_page_token,
        })
    }

    pub(super) async fn get_card(&self, request: Request<pb::GetCardRequest>) -> Result<pb::GetCardResponse, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let account_id = parse_uuid(&mut violations, "account_id", &req.account_id);
        let card_id = parse_uuid(&mut violations, "card_id", &req.card_id);
        violations.into_result()?;
        let (account_id, card_id) = (parsed(account_id, "get-card")?, parsed(card_id, "get-card")?);
        // One answer for "no such account", "not yours" and "not on it".
        self.readable_account(&caller, account_id).await.map_err(|status| {
            if status.code() == Code::NotFound {
                errors::card_not_found()
            } else {
                status
            }
        })?;
        let card = self
            .store
            .card(card_id)
            .await
            .map_err(|e| store_error("reading card", e))?
            .filter(|c| c.account_id == account_id)
            .ok_or_else(errors::card_not_found)?;
        Ok(pb::GetCardResponse {
            card: Some(card_to_proto(&card, Utc::now())),
        })
    }

    pub(super) async fn block_card(
        &self,
        request: Request<pb::BlockCardRequest>,
    ) -> Result<pb::BlockCardResponse, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let account_id = parse_uuid(&mut violations, "account_id", &req.account_id);
        let card_id = parse_uuid(&mut violations, "card_id", &req.card_id);
        let reason = match pb::CardBlockReason::try_from(req.reason) {
            Ok(
                reason @ (pb::CardBlockReason::Lost
                | pb::CardBlockReason::Stolen
                | pb::CardBlockReason::Damaged
                | pb::CardBlockReason::Other),
            ) => Some(reason),
            _ => {
                violations.add("reason", "must be LOST, STOLEN, DAMAGED or OTHER");
                None
            }
        };
        violations.into_result()?;
        let (account_id, card_id, reason) = (
            parsed(account_id, "block-card")?,
            parsed(card_id, "block-card")?,
            parsed(reason, "block-card")?,
        );
        let account = self
            .store
            .account(account_id)
            .await
            .map_err(|e| store_error("reading account", e))?
            .ok_or_else(errors::card_not_found)?;
        if !account.is_owned_by(caller.user_id) {
            return Err(if is_admin(&caller) {
                errors::not_account_owner()
            } else {
                errors::card_not_found()
            });
        }
        let card = self
            .store
            .block_card(account_id, card_id, i16::try_from(reason as i32).unwrap_or(5))
            .await
            .map_err(|e| store_error("blocking card", e))?
            .ok_or_else(errors::card_not_found)?;
        tracing::info!(user_id = %caller.user_id, card_id = %card.id, reason = ?reason, "card blocked");
        Ok(pb::BlockCardResponse {
            card: Some(card_to_proto(&card, Utc::now())),
        })
    }
}
