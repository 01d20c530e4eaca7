//! `AccountInternalService`: facts about accounts for the other services.
//! The interceptor admits transfer, finance and analytics; the per-method
//! rules (transfer only for CheckTransferAccess and ResolveAccountNumber)
//! are checked here. Internal lookups are not rate-limited.

use std::collections::HashSet;
use std::sync::Arc;

use bank_mtls::peer_identity;
use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::account::v1::account_internal_service_server::AccountInternalService;
use bank_server::{FieldViolations, permission_denied};
use tonic::{Code, Request, Response, Status};
use uuid::Uuid;

use super::accounts::{into_result, parse_number};
use super::{AppState, account_facts, parse_uuid, parsed, store_error};
use crate::errors;
use crate::store::AccountRow;

/// Most ids and numbers one BatchGetAccountFacts may ask for.
pub const BATCH_FACTS_MAX: usize = 2_000;

/// The internal service.
#[derive(Clone, Debug)]
pub struct AccountInternalApi {
    state: Arc<AppState>,
}

impl AccountInternalApi {
    /// Handlers over `state`.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

/// Refuses callers other than `allowed` (the interceptor admitted a wider
/// set for the service as a whole).
fn require_peer<T>(request: &Request<T>, allowed: &[&str], method: &str) -> Result<(), Status> {
    match peer_identity(request) {
        Some(id) if allowed.contains(&id.name()) => Ok(()),
        Some(id) => {
            tracing::warn!(caller = %id, method, "internal RPC refused: caller not allowed for this method");
            Err(permission_denied(
                "CALLER_NOT_ALLOWED",
                format!("workload {id} may not call {method}"),
            ))
        }
        None => Err(permission_denied(
            "CALLER_NOT_ALLOWED",
            format!("{method} needs a mesh workload certificate"),
        )),
    }
}

fn not_found_field(field: &str) -> Status {
    errors::with_reason(
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
        format!("account not found ({field})"),
        &[("field", field.to_owned())],
    )
}

impl AppState {
    async fn account_or(&self, id: Uuid, field: &str) -> Result<AccountRow, Status> {
        self.store
            .account(id)
            .await
            .map_err(|e| store_error("reading account", e))?
            .ok_or_else(|| not_found_field(field))
    }
}

#[tonic::async_trait]
impl AccountInternalService for AccountInternalApi {
    async fn check_transfer_access(
        &self,
        request: Request<pb::CheckTransferAccessRequest>,
    ) -> Result<Response<pb::CheckTransferAccessResponse>, Status> {
        require_peer(&request, &["transfer"], "CheckTransferAccess")?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let mut check_digit = false;
        let user = parse_uuid(&mut violations, "user_id", &req.user_id);
        let from = parse_uuid(&mut violations, "from_account_id", &req.from_account_id);
        enum Destination {
            Id(Uuid),
            Number(crate::domain::AccountNumber),
        }
        use pb::check_transfer_access_request::Destination as Wire;
        let destination = match &req.destination {
            Some(Wire::ToAccountId(id)) => parse_uuid(&mut violations, "to_account_id", id).map(Destination::Id),
            Some(Wire::ToAccountNumber(number)) => {
                parse_number(&mut violations, "to_account_number", number, &mut check_digit).map(Destination::Number)
            }
            None => {
                violations.add(
                    "destination",
                    "exactly one of to_account_id and to_account_number is required",
                );
                None
            }
        };
        into_result(violations, check_digit)?;
        let (user, from, destination) = (
            parsed(user, "check-transfer-access")?,
            parsed(from, "check-transfer-access")?,
            parsed(destination, "check-transfer-access")?,
        );
        let state = &self.state;
        let source = state.account_or(from, "from_account_id").await?;
        let destination = match destination {
            Destination::Id(id) => state.account_or(id, "to_account_id").await?,
            Destination::Number(number) => state
                .store
                .account_by_number(&number)
                .await
                .map_err(|e| store_error("resolving account number", e))?
                .ok_or_else(|| not_found_field("to_account_number"))?,
        };
        Ok(Response::new(pb::CheckTransferAccessResponse {
            caller_owns_source: source.is_owned_by(user),
            source: Some(account_facts(&source)),
            destination: Some(account_facts(&destination)),
        }))
    }

    async fn batch_get_account_facts(
        &self,
        request: Request<pb::BatchGetAccountFactsRequest>,
    ) -> Result<Response<pb::BatchGetAccountFactsResponse>, Status> {
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let total = req.account_ids.len() + req.account_numbers.len();
        if total == 0 || total > BATCH_FACTS_MAX {
            violations.add(
                "account_ids",
                format!("account_ids and account_numbers together must hold 1..{BATCH_FACTS_MAX} items"),
            );
        }
        let mut check_digit = false;
        let mut ids = Vec::with_capacity(req.account_ids.len());
        let mut numbers = Vec::with_capacity(req.account_numbers.len());
        if total <= BATCH_FACTS_MAX {
            for (i, id) in req.account_ids.iter().enumerate() {
                if let Some(id) = parse_uuid(&mut violations, &format!("account_ids[{i}]"), id) {
                    ids.push(id);
                }
            }
            for (i, number) in req.account_numbers.iter().enumerate() {
                if let Some(number) = parse_number(
                    &mut violations,
                    &format!("account_numbers[{i}]"),
                    number,
                    &mut check_digit,
                ) {
                    numbers.push(number.as_str().to_owned());
                }
            }
        }
        into_result(violations, check_digit)?;
        let rows = self
            .state
            .store
            .accounts_by(&ids, &numbers)
            .await
            .map_err(|e| store_error("reading accounts", e))?;
        let found_ids: HashSet<Uuid> = rows.iter().map(|r| r.id).collect();
        let found_numbers: HashSet<&str> = rows.iter().map(|r| r.number.as_str()).collect();
        // Each missing id or number once, in request order.
        let mut reported: HashSet<String> = HashSet::new();
        let missing_account_ids: Vec<String> = ids
            .iter()
            .filter(|id| !found_ids.contains(id))
            .map(Uuid::to_string)
            .filter(|id| reported.insert(id.clone()))
            .collect();
        let missing_account_numbers: Vec<String> = numbers
            .iter()
            .filter(|n| !found_numbers.contains(n.as_str()))
            .filter(|n| reported.insert((*n).clone()))
            .cloned()
            .collect();
        Ok(Response::new(pb::BatchGetAccountFactsResponse {
            accounts: rows.iter().map(account_facts).collect(),
            missing_account_ids,
            missing_account_numbers,
        }))
    }

    async fn resolve_account_number(
        &self,
        request: Request<pb::ResolveAccountNumberRequest>,
    ) -> Result<Response<pb::ResolveAccountNumberResponse>, Status> {
        require_peer(&request, &["transfer"], "ResolveAccountNumber")?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let mut check_digit = false;
        let number = parse_number(&mut violations, "account_number", &req.account_number, &mut check_digit);
        into_result(violations, check_digit)?;
        let number = parsed(number, "resolve-account-number")?;
        let account = self
            .state
            .store
            .account_by_number(&number)
            .await
            .map_err(|e| store_error("resolving account number", e))?
            .ok_or_else(errors::account_not_found)?;
        Ok(Response::new(pb::ResolveAccountNumberResponse {
            account: Some(account_facts(&account)),
        }))
    }
}
