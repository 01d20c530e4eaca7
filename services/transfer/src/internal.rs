//! `bank.transfer.v1.TransferInternalService`: what other services may ask
//! of the ledger. The service-level allow-list admits account and finance;
//! each RPC narrows it further.

use std::sync::Arc;

use bank_mtls::peer_identity;
use bank_proto::bank::transfer::v1 as pb;
use bank_server::{FieldViolations, already_exists, failed_precondition, not_found, permission_denied};
use chrono::Utc;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::api::{LedgerState, decode_cursor, encode_cursor};
use crate::convert::{self, account_not_found, store_error};
use crate::domain::{Amount, Currency, RequestId, parse_description, parse_id, parse_reference};
use crate::ledger::{AccountKind, AccountStatus, system_account_id};
use crate::store::{NewTransfer, Operation, Outcome, StatusChange, st};

/// Most legs of one internal transfer.
pub const INTERNAL_LEGS_MAX: usize = 16;
/// Default ListLedgerEntries page.
pub const LIST_ENTRIES_PAGE_SIZE_DEFAULT: i32 = 1_000;
/// Largest ListLedgerEntries page.
pub const LIST_ENTRIES_PAGE_SIZE_MAX: i32 = 10_000;

/// The internal service.
#[derive(Clone, Debug)]
pub struct TransferInternalApi {
    state: Arc<LedgerState>,
    currencies: Arc<[Currency]>,
}

impl TransferInternalApi {
    /// Handlers over `state`; ledger accounts may use `currencies` only.
    pub fn new(state: Arc<LedgerState>, currencies: Arc<[Currency]>) -> Self {
        Self { state, currencies }
    }
}

fn caller_name<T>(request: &Request<T>) -> String {
    peer_identity(request)
        .map(|id| id.name().to_owned())
        .unwrap_or_default()
}

fn only<T>(request: &Request<T>, allowed: &[&str], rpc: &str) -> Result<String, Status> {
    let name = caller_name(request);
    if allowed.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(permission_denied(
            "CALLER_NOT_ALLOWED",
            format!("{name} may not call {rpc}"),
        ))
    }
}

/// Which TransferKind numbers each service may move money for.
fn kinds_allowed(service: &str) -> &'static [i16] {
    match service {
        // Card purchases.
        "account" => &[4],
        // Loan disbursement, repayment, interest.
        "finance" => &[5, 6, 7],
        _ => &[],
    }
}

fn kind_of(value: i32) -> Option<AccountKind> {
    i16::try_from(value).ok().and_then(AccountKind::from_i16)
}

impl TransferInternalApi {
    fn resolve_ref(
        &self,
        violations: &mut FieldViolations,
        field: &str,
        reference: Option<&pb::LedgerAccountRef>,
    ) -> Option<Uuid> {
        match reference.and_then(|r| r.target.as_ref()) {
            Some(pb::ledger_account_ref::Target::LedgerAccountId(id)) => violations.check(field, parse_id(id)),
            Some(pb::ledger_account_ref::Target::System(system)) => {
                let kind = kind_of(system.kind).filter(|k| *k != AccountKind::Customer);
                let currency = Currency::parse(&system.currency);
                match (kind, currency) {
                    (Some(kind), Ok(currency)) => Some(system_account_id(kind, currency)),
                    (None, _) => {
                        violations.add(&format!("{field}.system.kind"), "must be a system account kind");
                        None
                    }
                    (_, Err(e)) => {
                        violations.add(&format!("{field}.system.currency"), e);
                        None
                    }
                }
            }
            None => {
                violations.add(field, "is required");
                None
            }
        }
    }
}

#[tonic::async_trait]
impl pb::transfer_internal_service_server::TransferInternalService for TransferInternalApi {
    async fn create_ledger_account(
        &self,
        request: Request<pb::CreateLedgerAccountRequest>,
    ) -> Result<Response<pb::CreateLedgerAccountResponse>, Status> {
        only(&request, &["account"], "CreateLedgerAccount")?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = violations.check("ledger_account_id", parse_id(&req.ledger_account_id));
        let kind = kind_of(req.kind);
        if kind.is_none() {
            violations.add("kind", "must be a LedgerAccountKind other than UNSPECIFIED");
        }
        let currency = violations.check("currency", Currency::parse(&req.currency));
        if let Some(currency) = currency
            && !self.currencies.contains(&currency)
        {
            violations.add("currency", "is not a currency this bank keeps accounts in");
        }
        violations.into_result()?;
        let (Some(id), Some(kind), Some(currency)) = (id, kind, currency) else {
            return Err(Status::internal("parsed values missing"));
        };
        let conflict = || already_exists("LEDGER_ACCOUNT_CONFLICT", "a ledger account with this id differs");
        if kind != AccountKind::Customer && id != system_account_id(kind, currency) {
            return Err(conflict());
        }
        let (row, created) = self
            .state
            .store
            .create_account(id, kind, currency)
            .await
            .map_err(|e| store_error("creating ledger account", e))?;
        if row.kind != kind as i16 || row.currency != currency.as_str() {
            return Err(conflict());
        }
        if created {
            tracing::info!(ledger_account_id = %id, kind = kind.name(), "ledger account created");
        }
        Ok(Response::new(pb::CreateLedgerAccountResponse {
            ledger_account: Some(convert::ledger_account_row(&row)),
            created,
        }))
    }

    async fn set_ledger_account_status(
        &self,
        request: Request<pb::SetLedgerAccountStatusRequest>,
    ) -> Result<Response<pb::SetLedgerAccountStatusResponse>, Status> {
        only(&request, &["account"], "SetLedgerAccountStatus")?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = violations.check("ledger_account_id", parse_id(&req.ledger_account_id));
        let status = i16::try_from(req.status).ok().and_then(AccountStatus::from_i16);
        if status.is_none() {
            violations.add("status", "must be OPEN, FROZEN or CLOSED");
        }
        violations.into_result()?;
        let (Some(id), Some(status)) = (id, status) else {
            return Err(Status::internal("parsed values missing"));
        };
        let change = self
            .state
            .store
            .set_status(id, status)
            .await
            .map_err(|e| store_error("changing status", e))?;
        let row = match change {
            StatusChange::Done(row) => row,
            StatusChange::NotFound => return Err(account_not_found("ledger_account_id")),
            StatusChange::NotCustomer => {
                let mut v = FieldViolations::new();
                v.add("ledger_account_id", "system accounts have no status");
                return Err(v
                    .into_result()
                    .err()
                    .unwrap_or_else(|| Status::invalid_argument("system")));
            }
            StatusChange::AlreadyClosed => {
                return Err(failed_precondition(
                    "ACCOUNT_CLOSED",
                    "a closed account never reopens",
                    Vec::new(),
                ));
            }
            StatusChange::BalanceNotZero => {
                return Err(failed_precondition(
                    "BALANCE_NOT_ZERO",
                    "only an account with a zero balance can be closed",
                    Vec::new(),
                ));
            }
            StatusChange::PendingOpen => {
                return Err(failed_precondition(
                    "PENDING_TRANSFERS_OPEN",
                    "the account has open reservations; post or void them first",
                    Vec::new(),
                ));
            }
        };
        tracing::info!(ledger_account_id = %id, status = status as i16, "ledger account status set");
        Ok(Response::new(pb::SetLedgerAccountStatusResponse {
            ledger_account: Some(convert::ledger_account_row(&row)),
        }))
    }

    async fn create_internal_transfer(
        &self,
        request: Request<pb::CreateInternalTransferRequest>,
    ) -> Result<Response<pb::CreateInternalTransferResponse>, Status> {
        let service = only(&request, &["account", "finance"], "CreateInternalTransfer")?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&req.request_id));
        if req.legs.is_empty() || req.legs.len() > INTERNAL_LEGS_MAX {
            violations.add("legs", format!("must have 1..{INTERNAL_LEGS_MAX} legs"));
        }
        let on_behalf = if req.on_behalf_of_user_id.is_empty() {
            None
        } else {
            violations.check("on_behalf_of_user_id", parse_id(&req.on_behalf_of_user_id))
        };
        let mut items = Vec::with_capacity(req.legs.len());
        for (i, leg) in req.legs.iter().enumerate() {
            let prefix = format!("legs[{i}]");
            let debit = self.resolve_ref(
                &mut violations,
                &format!("{prefix}.from_account"),
                leg.from_account.as_ref(),
            );
            let credit = self.resolve_ref(
                &mut violations,
                &format!("{prefix}.to_account"),
                leg.to_account.as_ref(),
            );
            let amount = violations.check(&format!("{prefix}.amount"), Amount::parse(leg.amount.as_ref()));
            let description = violations.check(&format!("{prefix}.description"), parse_description(&leg.description));
            let reference = violations.check(&format!("{prefix}.reference"), parse_reference(&leg.reference));
            let kind = i16::try_from(leg.kind).unwrap_or(0);
            if !(1..=7).contains(&kind) {
                violations.add(
                    &format!("{prefix}.kind"),
                    "must be a TransferKind other than UNSPECIFIED",
                );
            } else if !kinds_allowed(&service).contains(&kind) {
                return Err(permission_denied(
                    "TRANSFER_KIND_NOT_ALLOWED",
                    format!("{service} may not move money for this transfer kind"),
                ));
            }
            if let (Some(d), Some(c)) = (debit, credit)
                && d == c
            {
                violations.add(
                    &format!("{prefix}.to_account"),
                    "must differ from from_account (SAME_ACCOUNT)",
                );
            }
            if let (Some(debit), Some(credit), Some(amount), Some(description), Some(reference)) =
                (debit, credit, amount, description, reference)
            {
                items.push(NewTransfer {
                    request_id: String::new(),
                    leg: i16::try_from(i).unwrap_or(0),
                    kind,
                    expire_at: None,
                    debit,
                    credit,
                    amount: amount.minor(),
                    currency: amount.currency(),
                    description,
                    reference,
                    // All legs are one chain: all or nothing.
                    linked: i + 1 < req.legs.len(),
                    blocked: false,
                    initiator_user_id: on_behalf,
                    initiator_service: service.clone(),
                });
            }
        }
        violations.into_result()?;
        let request_id = request_id.ok_or_else(|| Status::internal("parsed values missing"))?;
        for item in &mut items {
            item.request_id = request_id.as_str().to_owned();
        }
        let outcomes = self
            .state
            .store
            .post(&format!("service:{service}"), Operation::Internal, &items)
            .await
            .map_err(|e| store_error("posting internal transfer", e))?;
        let mut transfers = Vec::with_capacity(outcomes.len());
        // Report the leg that failed for its own reason, not a linked one.
        let failing = outcomes.iter().enumerate().find(|(_, o)| match o {
            Outcome::Recorded(row) | Outcome::Replayed(row) => {
                row.status == st::DECLINED && row.decline_reason != crate::ledger::Decline::LinkedEventFailed as i16
            }
            _ => true,
        });
        if let Some((leg, outcome)) = failing {
            let status = match convert::outcome(outcome.clone()) {
                Err(status) => status,
                Ok(_) => Status::internal("leg failed without an error"),
            };
            tracing::info!(service, leg, code = ?status.code(), "internal transfer refused");
            return Err(with_leg(status, leg));
        }
        for outcome in outcomes {
            transfers.push(convert::transfer(&convert::outcome(outcome)?));
        }
        tracing::info!(service, legs = transfers.len(), "internal transfer posted");
        Ok(Response::new(pb::CreateInternalTransferResponse { transfers }))
    }

    async fn get_ledger_balance(
        &self,
        request: Request<pb::GetLedgerBalanceRequest>,
    ) -> Result<Response<pb::GetLedgerBalanceResponse>, Status> {
        only(&request, &["account", "finance"], "GetLedgerBalance")?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = self.resolve_ref(&mut violations, "account", req.account.as_ref());
        violations.into_result()?;
        let id = id.ok_or_else(|| Status::internal("parsed values missing"))?;
        let view = self
            .state
            .store
            .account_view(id)
            .await
            .map_err(|e| store_error("reading balance", e))?
            .ok_or_else(|| not_found("ACCOUNT_NOT_FOUND", "no such ledger account"))?;
        let open_pending_count = self
            .state
            .store
            .open_pending_count(id)
            .await
            .map_err(|e| store_error("counting reservations", e))?;
        Ok(Response::new(pb::GetLedgerBalanceResponse {
            ledger_account: Some(convert::ledger_account(&view)),
            open_pending_count,
        }))
    }

    async fn list_ledger_entries(
        &self,
        request: Request<pb::ListLedgerEntriesRequest>,
    ) -> Result<Response<pb::ListLedgerEntriesResponse>, Status> {
        only(&request, &["account"], "ListLedgerEntries")?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = violations.check("ledger_account_id", parse_id(&req.ledger_account_id));
        let limit = match req.page_size {
            0 => i64::from(LIST_ENTRIES_PAGE_SIZE_DEFAULT),
            n if (1..=LIST_ENTRIES_PAGE_SIZE_MAX).contains(&n) => i64::from(n),
            _ => {
                violations.add(
                    "page_size",
                    format!("must be between 0 and {LIST_ENTRIES_PAGE_SIZE_MAX}"),
                );
                0
            }
        };
        let start = req.start_time.as_ref().and_then(convert::from_timestamp);
        let requested_end = req.end_time.as_ref().and_then(convert::from_timestamp);
        // An open range ends at the first page's "now", carried in the
        // token, so every page and its summary describe the same range.
        let fingerprint = format!(
            "{}|{:?}|{:?}",
            req.ledger_account_id,
            start.map(|t| t.timestamp_micros()),
            requested_end.map(|t| t.timestamp_micros())
        );
        let (after, end) = if req.page_token.is_empty() {
            (None, requested_end.unwrap_or_else(Utc::now))
        } else {
            match decode_cursor(&req.page_token, &fingerprint).and_then(|(at, id, end)| Some(((at, id), end?))) {
                Some((cursor, end)) => (Some(cursor), end),
                None => {
                    violations.add("page_token", "is not a token from a previous call with the same range");
                    (None, Utc::now())
                }
            }
        };
        if start.is_some_and(|s| s > end) {
            violations.add("start_time", "must not be after end_time");
        }
        violations.into_result()?;
        let id = id.ok_or_else(|| Status::internal("parsed values missing"))?;
        let account = self
            .state
            .store
            .account(id)
            .await
            .map_err(|e| store_error("reading account", e))?
            .ok_or_else(|| account_not_found("ledger_account_id"))?;
        let (rows, summary) = self
            .state
            .store
            .entries(id, start, end, after, limit + 1)
            .await
            .map_err(|e| store_error("listing entries", e))?;
        let more = rows.len() > usize::try_from(limit).unwrap_or(0);
        let rows = &rows[..rows.len().min(usize::try_from(limit).unwrap_or(0))];
        let currency = account.currency.clone();
        let money = |minor: i64| {
            Some(bank_proto::bank::common::v1::Money {
                amount_minor: minor,
                currency: currency.clone(),
            })
        };
        let entries = rows
            .iter()
            .map(|row| {
                let is_debit = row.debit_account_id == id;
                let (sequence, balance_after, counterparty) = if is_debit {
                    (row.debit_sequence, row.debit_balance_after, row.credit_account_id)
                } else {
                    (row.credit_sequence, row.credit_balance_after, row.debit_account_id)
                };
                pb::LedgerEntry {
                    transfer_id: row.id.to_string(),
                    ledger_account_id: id.to_string(),
                    sequence: sequence.unwrap_or(0),
                    direction: if is_debit {
                        pb::EntryDirection::Debit as i32
                    } else {
                        pb::EntryDirection::Credit as i32
                    },
                    amount: money(row.amount),
                    balance_after: balance_after.and_then(money),
                    counterparty_account_id: counterparty.to_string(),
                    kind: i32::from(row.kind),
                    description: row.description.clone(),
                    reference: row.reference.clone(),
                    post_time: Some(convert::timestamp(row.created_at)),
                }
            })
            .collect();
        let next_page_token = match (more, rows.last()) {
            (true, Some(last)) => encode_cursor(last.created_at, last.id, Some(end), &fingerprint),
            _ => String::new(),
        };
        let closing = summary.opening + summary.credits - summary.debits;
        Ok(Response::new(pb::ListLedgerEntriesResponse {
            entries,
            next_page_token,
            opening_balance: money(summary.opening),
            closing_balance: money(closing),
            total_credits: money(summary.credits),
            total_debits: money(summary.debits),
            entry_count: summary.count,
        }))
    }
}

fn with_leg(status: Status, leg: usize) -> Status {
    use tonic_types::{ErrorDetails, StatusExt};
    let details = status.get_error_details();
    match details.error_info() {
        Some(info) => {
            let mut metadata = info.metadata.clone();
            metadata.insert("leg".to_owned(), leg.to_string());
            Status::with_error_details(
                status.code(),
                status.message(),
                ErrorDetails::with_error_info(info.reason.clone(), info.domain.clone(), metadata),
            )
        }
        None => status,
    }
}
