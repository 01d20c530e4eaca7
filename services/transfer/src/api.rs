//! `bank.transfer.v1.TransferService`: member and admin RPCs. Each handler
//! parses the request into domain values, authorizes the caller against
//! the account facts, then lets the store apply the ledger rules.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bank_authn::{Caller, Role, caller, require_admin};
use bank_proto::bank::transfer::v1 as pb;
use bank_server::{FieldViolations, failed_precondition, not_found, permission_denied};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::convert::{self, account_not_found, lookup_error, store_error};
use crate::domain::{AccountNumber, Amount, RequestId, parse_description, parse_id, parse_reference};
use crate::facts::{Destination, Directory, Facts};
use crate::ledger::{AccountKind, system_account_id};
use crate::store::{NewTransfer, Operation, Outcome, Resolution, Store, TransferFilter, TransferRow, st, ty};

/// Largest CreateTransfers batch.
pub const TRANSFER_BATCH_MAX: usize = 1_000;
/// Default and largest ListTransfers page.
pub const LIST_TRANSFERS_PAGE_SIZE_DEFAULT: i32 = 100;
/// Largest ListTransfers page.
pub const LIST_TRANSFERS_PAGE_SIZE_MAX: i32 = 1_000;
/// Default reservation timeout.
pub const PENDING_TIMEOUT_DEFAULT_SECS: i32 = 3_600;
/// Longest reservation timeout (7 days).
pub const PENDING_TIMEOUT_MAX_SECS: i32 = 604_800;

/// TransferKind numbers.
pub mod kind {
    /// Member to member.
    pub const TRANSFER: i16 = 1;
    /// Cash in.
    pub const DEPOSIT: i16 = 2;
    /// Cash out.
    pub const WITHDRAWAL: i16 = 3;
}

/// Shared by the handlers.
#[derive(Debug)]
pub struct LedgerState {
    /// The database.
    pub store: Store,
    /// Account facts.
    pub directory: Directory,
}

/// The public service.
#[derive(Clone, Debug)]
pub struct TransferApi {
    state: Arc<LedgerState>,
}

impl TransferApi {
    /// Handlers over `state`.
    pub fn new(state: Arc<LedgerState>) -> Self {
        Self { state }
    }
}

fn initiator_of(caller: &Caller) -> String {
    format!("user:{}", caller.user_id)
}

/// The owner check of a money-moving RPC: members who do not own the
/// account learn nothing (NOT_FOUND); admins are told the admin role moves
/// nothing.
fn require_owner(caller: &Caller, facts: &Facts, field: &str) -> Result<(), Status> {
    if facts.owner == Some(caller.user_id) {
        return Ok(());
    }
    if caller.has_role(Role::Admin) {
        return Err(permission_denied(
            "NOT_ACCOUNT_OWNER",
            "the admin role reads accounts but moves no money from accounts it does not own",
        ));
    }
    Err(account_not_found(field))
}

/// The read check: the owner or an admin; others get NOT_FOUND.
fn require_reader(caller: &Caller, facts: Option<&Facts>, field: &str) -> Result<(), Status> {
    match facts {
        Some(facts) if facts.owner == Some(caller.user_id) || caller.has_role(Role::Admin) => Ok(()),
        None if caller.has_role(Role::Admin) => Ok(()),
        _ => Err(account_not_found(field)),
    }
}

struct ParsedTransfer {
    request_id: RequestId,
    from: Uuid,
    to: Destination,
    amount: Amount,
    description: String,
    reference: String,
}

fn parse_destination(
    violations: &mut FieldViolations,
    prefix: &str,
    to_id: Option<&str>,
    to_number: Option<&str>,
) -> Option<Destination> {
    match (to_id, to_number) {
        (Some(id), None) => violations
            .check(&format!("{prefix}to_account_id"), parse_id(id))
            .map(Destination::Id),
        (None, Some(number)) => match AccountNumber::parse(number) {
            Ok(number) => Some(Destination::Number(number)),
            Err(error) => {
                violations.add(&format!("{prefix}to_account_number"), error.to_string());
                None
            }
        },
        _ => {
            violations.add(
                &format!("{prefix}to_account_id"),
                "exactly one of to_account_id and to_account_number is required",
            );
            None
        }
    }
}

#[allow(clippy::too_many_arguments, reason = "the shared fields of three request messages")]
fn parse_transfer(
    violations: &mut FieldViolations,
    prefix: &str,
    request_id: &str,
    from: &str,
    to_id: Option<&str>,
    to_number: Option<&str>,
    amount: Option<&bank_proto::bank::common::v1::Money>,
    description: &str,
    reference: &str,
) -> Option<ParsedTransfer> {
    let request_id = violations.check(&format!("{prefix}request_id"), RequestId::parse(request_id));
    let from = violations.check(&format!("{prefix}from_account_id"), parse_id(from));
    let to = parse_destination(violations, prefix, to_id, to_number);
    let amount = violations.check(&format!("{prefix}amount"), Amount::parse(amount));
    let description = violations.check(&format!("{prefix}description"), parse_description(description));
    let reference = violations.check(&format!("{prefix}reference"), parse_reference(reference));
    if let (Some(from), Some(Destination::Id(to))) = (from, &to)
        && from == *to
    {
        violations.add(
            &format!("{prefix}to_account_id"),
            "must differ from from_account_id (SAME_ACCOUNT)",
        );
        return None;
    }
    Some(ParsedTransfer {
        request_id: request_id?,
        from: from?,
        to: to?,
        amount: amount?,
        description: description?,
        reference: reference?,
    })
}

fn same_account() -> Status {
    let mut violations = FieldViolations::new();
    violations.add(
        "to_account_number",
        "must name another account than from_account_id (SAME_ACCOUNT)",
    );
    violations
        .into_result()
        .err()
        .unwrap_or_else(|| Status::invalid_argument("SAME_ACCOUNT"))
}

fn currency_mismatch(facts: &Facts) -> Status {
    failed_precondition(
        "CURRENCY_MISMATCH",
        format!("the amount's currency differs from the account's ({})", facts.currency),
        vec![("account_id".to_owned(), facts.account_id.to_string())],
    )
}

fn page_size(violations: &mut FieldViolations, value: i32, default: i32, max: i32) -> i64 {
    match value {
        0 => i64::from(default),
        n if (1..=max).contains(&n) => i64::from(n),
        _ => {
            violations.add("page_size", format!("must be between 0 and {max}"));
            i64::from(default)
        }
    }
}

/// Page tokens: base64url of `micros:uuid:bound:fingerprint`, where
/// `bound` is an optional time fixed by the first page (or `-`). Not
/// secret; a token from other filters is refused instead of paging wrongly.
pub fn encode_cursor(at: DateTime<Utc>, id: Uuid, bound: Option<DateTime<Utc>>, fingerprint: &str) -> String {
    let bound = bound.map_or_else(|| "-".to_owned(), |b| b.timestamp_micros().to_string());
    URL_SAFE_NO_PAD.encode(format!("{}:{id}:{bound}:{fingerprint}", at.timestamp_micros()))
}

/// The cursor and bound of a page token issued for the same `fingerprint`.
pub fn decode_cursor(token: &str, fingerprint: &str) -> Option<(DateTime<Utc>, Uuid, Option<DateTime<Utc>>)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.splitn(4, ':');
    let micros: i64 = parts.next()?.parse().ok()?;
    let id = Uuid::parse_str(parts.next()?).ok()?;
    let bound = match parts.next()? {
        "-" => None,
        b => Some(DateTime::from_timestamp_micros(b.parse().ok()?)?),
    };
    (parts.next()? == fingerprint).then_some(())?;
    Some((DateTime::from_timestamp_micros(micros)?, id, bound))
}

impl LedgerState {
    /// Resolves and authorizes a member transfer, then returns the item.
    async fn member_item(
        &self,
        caller: &Caller,
        parsed: ParsedTransfer,
        expire_at: Option<DateTime<Utc>>,
    ) -> Result<NewTransfer, Status> {
        let (source, destination) = self
            .directory
            .transfer_pair(caller.user_id, parsed.from, &parsed.to)
            .await
            .map_err(lookup_error)?;
        require_owner(caller, &source, "from_account_id")?;
        if source.account_id == destination.account_id {
            return Err(same_account());
        }
        for facts in [&source, &destination] {
            if facts.currency != parsed.amount.currency().as_str() {
                return Err(currency_mismatch(facts));
            }
        }
        Ok(NewTransfer {
            request_id: parsed.request_id.as_str().to_owned(),
            leg: 0,
            kind: kind::TRANSFER,
            expire_at,
            debit: source.account_id,
            credit: destination.account_id,
            amount: parsed.amount.minor(),
            currency: parsed.amount.currency(),
            description: parsed.description,
            reference: parsed.reference,
            linked: false,
            blocked: false,
            initiator_user_id: Some(caller.user_id),
            initiator_service: String::new(),
        })
    }

    async fn post_one(&self, caller: &Caller, operation: Operation, item: NewTransfer) -> Result<TransferRow, Status> {
        let outcome = self
            .store
            .post(&initiator_of(caller), operation, std::slice::from_ref(&item))
            .await
            .map_err(|e| store_error("posting transfer", e))?
            .pop()
            .ok_or_else(|| Status::internal("no outcome"))?;
        let row = convert::outcome(outcome)?;
        tracing::info!(
            transfer_id = %row.id, operation = operation as i16, status = row.status,
            "transfer recorded"
        );
        Ok(row)
    }

    async fn cash(
        &self,
        request: Request<(String, String, Option<bank_proto::bank::common::v1::Money>, String)>,
        operation: Operation,
    ) -> Result<TransferRow, Status> {
        let caller = caller(&request)?.clone();
        let (request_id, account_id, amount, description) = request.into_inner();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&request_id));
        let account_id = violations.check("account_id", parse_id(&account_id));
        let amount = violations.check("amount", Amount::parse(amount.as_ref()));
        let description = violations.check("description", parse_description(&description));
        violations.into_result()?;
        let (Some(request_id), Some(account_id), Some(amount), Some(description)) =
            (request_id, account_id, amount, description)
        else {
            return Err(Status::internal("parsed values missing"));
        };
        let facts = self
            .directory
            .one(account_id)
            .await
            .map_err(|s| bank_server::unavailable("account service", s.message()))?
            .ok_or_else(|| account_not_found("account_id"))?;
        require_owner(&caller, &facts, "account_id")?;
        if facts.currency != amount.currency().as_str() {
            return Err(currency_mismatch(&facts));
        }
        let cash = system_account_id(AccountKind::Cash, amount.currency());
        let (debit, credit, kind) = if operation == Operation::Deposit {
            (cash, account_id, kind::DEPOSIT)
        } else {
            (account_id, cash, kind::WITHDRAWAL)
        };
        let item = NewTransfer {
            request_id: request_id.as_str().to_owned(),
            leg: 0,
            kind,
            expire_at: None,
            debit,
            credit,
            amount: amount.minor(),
            currency: amount.currency(),
            description,
            reference: String::new(),
            linked: false,
            blocked: false,
            initiator_user_id: Some(caller.user_id),
            initiator_service: String::new(),
        };
        self.post_one(&caller, operation, item).await
    }

    async fn resolve(
        &self,
        caller: &Caller,
        request_id: &str,
        transfer_id: &str,
        post: Option<Option<&bank_proto::bank::common::v1::Money>>,
    ) -> Result<(TransferRow, TransferRow), Status> {
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(request_id));
        let pending_id = violations.check("transfer_id", parse_id(transfer_id));
        let amount = match post {
            Some(Some(money)) => violations.check("amount", Amount::parse(Some(money))).map(Some),
            _ => Some(None),
        };
        violations.into_result()?;
        let (Some(request_id), Some(pending_id), Some(amount)) = (request_id, pending_id, amount) else {
            return Err(Status::internal("parsed values missing"));
        };
        let not_found = || not_found("TRANSFER_NOT_FOUND", "no such pending transfer");
        let pending = self
            .store
            .transfer(pending_id)
            .await
            .map_err(|e| store_error("reading pending transfer", e))?
            .filter(|row| row.type_ == ty::PENDING)
            .ok_or_else(not_found)?;
        let source = self
            .directory
            .one(pending.debit_account_id)
            .await
            .map_err(|s| bank_server::unavailable("account service", s.message()))?;
        match source {
            Some(facts) if facts.owner == Some(caller.user_id) => {}
            Some(_) if caller.has_role(Role::Admin) => {
                return Err(permission_denied(
                    "NOT_ACCOUNT_OWNER",
                    "the admin role reads transfers but resolves no reservation it does not own",
                ));
            }
            _ => return Err(not_found()),
        }
        if let Some(amount) = amount
            && amount.currency().as_str() != pending.currency
        {
            let mut v = FieldViolations::new();
            v.add("amount", "must be in the pending transfer's currency");
            v.into_result()?;
        }
        let resolution = self
            .store
            .resolve_pending(
                &initiator_of(caller),
                request_id.as_str(),
                pending_id,
                post.map(|_| amount.map(|a| a.minor())),
                Some(caller.user_id),
            )
            .await
            .map_err(|e| store_error("resolving pending transfer", e))?;
        match resolution {
            Resolution::Recorded { row, pending } | Resolution::Replayed { row, pending } => {
                if row.status == st::DECLINED {
                    return Err(convert::declined(&row));
                }
                Ok((row, pending))
            }
            Resolution::KeyReused { field } => Err(convert::key_reused(field)),
            Resolution::NotFound => Err(not_found()),
            Resolution::ExceedsPending => {
                let mut v = FieldViolations::new();
                v.add("amount", "exceeds the pending amount (POST_AMOUNT_EXCEEDS_PENDING)");
                Err(v
                    .into_result()
                    .err()
                    .unwrap_or_else(|| Status::invalid_argument("amount")))
            }
        }
    }
}

fn destination_of(oneof: Option<&pb::create_transfer_request::Destination>) -> (Option<&str>, Option<&str>) {
    match oneof {
        Some(pb::create_transfer_request::Destination::ToAccountId(id)) => (Some(id.as_str()), None),
        Some(pb::create_transfer_request::Destination::ToAccountNumber(n)) => (None, Some(n.as_str())),
        None => (None, None),
    }
}

#[tonic::async_trait]
impl pb::transfer_service_server::TransferService for TransferApi {
    async fn create_transfer(
        &self,
        request: Request<pb::CreateTransferRequest>,
    ) -> Result<Response<pb::CreateTransferResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let (to_id, to_number) = destination_of(req.destination.as_ref());
        let parsed = parse_transfer(
            &mut violations,
            "",
            &req.request_id,
            &req.from_account_id,
            to_id,
            to_number,
            req.amount.as_ref(),
            &req.description,
            &req.reference,
        );
        violations.into_result()?;
        let parsed = parsed.ok_or_else(|| Status::internal("parsed values missing"))?;
        let item = self.state.member_item(&caller, parsed, None).await?;
        let row = self.state.post_one(&caller, Operation::Transfer, item).await?;
        Ok(Response::new(pb::CreateTransferResponse {
            transfer: Some(convert::transfer(&row)),
        }))
    }

    async fn create_transfers(
        &self,
        request: Request<pb::CreateTransfersRequest>,
    ) -> Result<Response<pb::CreateTransfersResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        if req.transfers.is_empty() {
            violations.add("transfers", "at least one transfer is required");
        }
        if req.transfers.len() > TRANSFER_BATCH_MAX {
            violations.add(
                "transfers",
                format!("at most {TRANSFER_BATCH_MAX} transfers per batch (BATCH_TOO_LARGE)"),
            );
            return Err(violations
                .into_result()
                .err()
                .unwrap_or_else(|| Status::invalid_argument("batch")));
        }
        let mut seen = HashSet::new();
        let mut parsed = Vec::with_capacity(req.transfers.len());
        for (i, item) in req.transfers.iter().enumerate() {
            let prefix = format!("transfers[{i}].");
            let (to_id, to_number) = match item.destination.as_ref() {
                Some(pb::transfer_item::Destination::ToAccountId(id)) => (Some(id.as_str()), None),
                Some(pb::transfer_item::Destination::ToAccountNumber(n)) => (None, Some(n.as_str())),
                None => (None, None),
            };
            if !seen.insert(item.request_id.as_str()) {
                violations.add(&format!("{prefix}request_id"), "repeats another item's request_id");
            }
            parsed.push(parse_transfer(
                &mut violations,
                &prefix,
                &item.request_id,
                &item.from_account_id,
                to_id,
                to_number,
                item.amount.as_ref(),
                &item.description,
                &item.reference,
            ));
        }
        violations.into_result()?;
        let parsed: Vec<ParsedTransfer> = parsed.into_iter().flatten().collect();
        if parsed.len() != req.transfers.len() {
            return Err(Status::internal("parsed values missing"));
        }

        // Facts for every account named, in as few calls as possible.
        let mut ids: Vec<Uuid> = parsed.iter().map(|p| p.from).collect();
        let mut numbers = Vec::new();
        for p in &parsed {
            match &p.to {
                Destination::Id(id) => ids.push(*id),
                Destination::Number(n) => numbers.push(n.clone()),
            }
        }
        let facts = self
            .state
            .directory
            .many(&ids, &numbers)
            .await
            .map_err(|s| bank_server::unavailable("account service", s.message()))?;
        let by_id: HashMap<Uuid, &Facts> = facts.iter().map(|f| (f.account_id, f)).collect();
        let by_number: HashMap<&str, &Facts> = facts.iter().map(|f| (f.number.as_str(), f)).collect();

        // Pre-checks that need no ledger: ownership, existence, currency.
        let mut early: Vec<Option<Status>> = vec![None; parsed.len()];
        let mut items: Vec<NewTransfer> = Vec::with_capacity(parsed.len());
        for (i, p) in parsed.iter().enumerate() {
            let source = by_id.get(&p.from).copied();
            let destination = match &p.to {
                Destination::Id(id) => by_id.get(id).copied(),
                Destination::Number(n) => by_number.get(n.as_str()).copied(),
            };
            let check = || -> Result<(Uuid, Uuid), Status> {
                let source = source.ok_or_else(|| account_not_found("from_account_id"))?;
                require_owner(&caller, source, "from_account_id")?;
                let destination = destination.ok_or_else(|| match p.to {
                    Destination::Id(_) => account_not_found("to_account_id"),
                    Destination::Number(_) => account_not_found("to_account_number"),
                })?;
                if source.account_id == destination.account_id {
                    return Err(same_account());
                }
                for facts in [source, destination] {
                    if facts.currency != p.amount.currency().as_str() {
                        return Err(currency_mismatch(facts));
                    }
                }
                Ok((source.account_id, destination.account_id))
            };
            let (debit, credit) = match check() {
                Ok(pair) => pair,
                Err(status) => {
                    early[i] = Some(status);
                    (Uuid::nil(), Uuid::nil())
                }
            };
            items.push(NewTransfer {
                request_id: p.request_id.as_str().to_owned(),
                leg: 0,
                kind: kind::TRANSFER,
                expire_at: None,
                debit,
                credit,
                amount: p.amount.minor(),
                currency: p.amount.currency(),
                description: p.description.clone(),
                reference: p.reference.clone(),
                linked: req.transfers[i].linked,
                blocked: false,
                initiator_user_id: Some(caller.user_id),
                initiator_service: String::new(),
            });
        }
        // A chain with an early failure fails as a whole.
        let mut start = 0;
        while start < items.len() {
            let mut end = start;
            while end + 1 < items.len() && items[end].linked {
                end += 1;
            }
            if (start..=end).any(|i| early[i].is_some()) {
                for item in &mut items[start..=end] {
                    item.blocked = true;
                }
            }
            start = end + 1;
        }
        let submit: Vec<usize> = (0..items.len()).filter(|&i| early[i].is_none()).collect();
        let submitted: Vec<NewTransfer> = submit.iter().map(|&i| items[i].clone()).collect();
        let outcomes = if submitted.is_empty() {
            Vec::new()
        } else {
            self.state
                .store
                .post(&initiator_of(&caller), Operation::Transfer, &submitted)
                .await
                .map_err(|e| store_error("posting batch", e))?
        };
        let mut by_index: HashMap<usize, Outcome> = submit.into_iter().zip(outcomes).collect();
        let mut results = Vec::with_capacity(items.len());
        let (mut posted, mut failed) = (0, 0);
        for (i, item) in items.iter().enumerate() {
            let (transfer, error) = match (early[i].take(), by_index.remove(&i)) {
                (Some(status), _) => (None, Some(convert::rpc_status(&status))),
                (None, Some(outcome)) => match &outcome {
                    Outcome::Recorded(row) | Outcome::Replayed(row) => {
                        let error = convert::outcome(outcome.clone()).err().map(|s| convert::rpc_status(&s));
                        (Some(convert::transfer(row)), error)
                    }
                    _ => (None, convert::outcome(outcome).err().map(|s| convert::rpc_status(&s))),
                },
                (None, None) => (None, Some(convert::rpc_status(&Status::internal("no outcome")))),
            };
            if error.is_none() {
                posted += 1;
            } else {
                failed += 1;
            }
            results.push(pb::TransferResult {
                index: i32::try_from(i).unwrap_or(i32::MAX),
                request_id: item.request_id.clone(),
                transfer,
                error,
            });
        }
        tracing::info!(items = items.len(), posted, failed, "batch applied");
        Ok(Response::new(pb::CreateTransfersResponse {
            results,
            posted_count: posted,
            failed_count: failed,
        }))
    }

    async fn deposit(&self, request: Request<pb::DepositRequest>) -> Result<Response<pb::DepositResponse>, Status> {
        let request = request.map(|r| (r.request_id, r.account_id, r.amount, r.description));
        let row = self.state.cash(request, Operation::Deposit).await?;
        Ok(Response::new(pb::DepositResponse {
            transfer: Some(convert::transfer(&row)),
        }))
    }

    async fn withdraw(&self, request: Request<pb::WithdrawRequest>) -> Result<Response<pb::WithdrawResponse>, Status> {
        let request = request.map(|r| (r.request_id, r.account_id, r.amount, r.description));
        let row = self.state.cash(request, Operation::Withdraw).await?;
        Ok(Response::new(pb::WithdrawResponse {
            transfer: Some(convert::transfer(&row)),
        }))
    }

    async fn create_pending_transfer(
        &self,
        request: Request<pb::CreatePendingTransferRequest>,
    ) -> Result<Response<pb::CreatePendingTransferResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let (to_id, to_number) = match req.destination.as_ref() {
            Some(pb::create_pending_transfer_request::Destination::ToAccountId(id)) => (Some(id.as_str()), None),
            Some(pb::create_pending_transfer_request::Destination::ToAccountNumber(n)) => (None, Some(n.as_str())),
            None => (None, None),
        };
        let parsed = parse_transfer(
            &mut violations,
            "",
            &req.request_id,
            &req.from_account_id,
            to_id,
            to_number,
            req.amount.as_ref(),
            &req.description,
            &req.reference,
        );
        let timeout = match req.timeout_seconds {
            0 => PENDING_TIMEOUT_DEFAULT_SECS,
            n if (1..=PENDING_TIMEOUT_MAX_SECS).contains(&n) => n,
            _ => {
                violations.add(
                    "timeout_seconds",
                    format!("must be between 0 and {PENDING_TIMEOUT_MAX_SECS}"),
                );
                PENDING_TIMEOUT_DEFAULT_SECS
            }
        };
        violations.into_result()?;
        let parsed = parsed.ok_or_else(|| Status::internal("parsed values missing"))?;
        let expire_at = Utc::now() + Duration::seconds(i64::from(timeout));
        let item = self.state.member_item(&caller, parsed, Some(expire_at)).await?;
        let row = self.state.post_one(&caller, Operation::Pending, item).await?;
        Ok(Response::new(pb::CreatePendingTransferResponse {
            transfer: Some(convert::transfer(&row)),
        }))
    }

    async fn post_pending_transfer(
        &self,
        request: Request<pb::PostPendingTransferRequest>,
    ) -> Result<Response<pb::PostPendingTransferResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let (row, pending) = self
            .state
            .resolve(&caller, &req.request_id, &req.transfer_id, Some(req.amount.as_ref()))
            .await?;
        Ok(Response::new(pb::PostPendingTransferResponse {
            transfer: Some(convert::transfer(&row)),
            pending_transfer: Some(convert::transfer(&pending)),
        }))
    }

    async fn void_pending_transfer(
        &self,
        request: Request<pb::VoidPendingTransferRequest>,
    ) -> Result<Response<pb::VoidPendingTransferResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let (row, pending) = self
            .state
            .resolve(&caller, &req.request_id, &req.transfer_id, None)
            .await?;
        Ok(Response::new(pb::VoidPendingTransferResponse {
            transfer: Some(convert::transfer(&row)),
            pending_transfer: Some(convert::transfer(&pending)),
        }))
    }

    async fn list_transfers(
        &self,
        request: Request<pb::ListTransfersRequest>,
    ) -> Result<Response<pb::ListTransfersResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let account = if req.account_id.is_empty() {
            if !caller.has_role(Role::Admin) {
                violations.add("account_id", "is required (an account you own)");
            }
            None
        } else {
            violations.check("account_id", parse_id(&req.account_id))
        };
        let limit = page_size(
            &mut violations,
            req.page_size,
            LIST_TRANSFERS_PAGE_SIZE_DEFAULT,
            LIST_TRANSFERS_PAGE_SIZE_MAX,
        );
        let statuses: Vec<i16> = req
            .statuses
            .iter()
            .filter_map(|s| match i16::try_from(*s) {
                Ok(v) if (1..=5).contains(&v) => Some(v),
                _ => {
                    violations.add("statuses", "unknown transfer status");
                    None
                }
            })
            .collect();
        let kinds: Vec<i16> = req
            .kinds
            .iter()
            .filter_map(|k| match i16::try_from(*k) {
                Ok(v) if (1..=7).contains(&v) => Some(v),
                _ => {
                    violations.add("kinds", "unknown transfer kind");
                    None
                }
            })
            .collect();
        let start = req.start_time.as_ref().and_then(convert::from_timestamp);
        let end = req.end_time.as_ref().and_then(convert::from_timestamp);
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            violations.add("start_time", "must not be after end_time");
        }
        let fingerprint = format!(
            "{}|{:?}|{:?}|{:?}|{:?}",
            req.account_id,
            req.statuses,
            req.kinds,
            start.map(|t| t.timestamp_micros()),
            end.map(|t| t.timestamp_micros())
        );
        let after = if req.page_token.is_empty() {
            None
        } else {
            let cursor = decode_cursor(&req.page_token, &fingerprint).map(|(at, id, _)| (at, id));
            if cursor.is_none() {
                violations.add(
                    "page_token",
                    "is not a token from a previous call with the same filters",
                );
            }
            cursor
        };
        violations.into_result()?;
        if let Some(account) = account {
            let facts = self
                .state
                .directory
                .one(account)
                .await
                .map_err(|s| bank_server::unavailable("account service", s.message()))?;
            require_reader(&caller, facts.as_ref(), "account_id")?;
        }
        let filter = TransferFilter {
            account,
            statuses,
            kinds,
            start,
            end,
            after,
        };
        let mut rows = self
            .state
            .store
            .list_transfers(&filter, limit + 1)
            .await
            .map_err(|e| store_error("listing transfers", e))?;
        let more = rows.len() > usize::try_from(limit).unwrap_or(0);
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_page_token = match (more, rows.last()) {
            (true, Some(last)) => encode_cursor(last.created_at, last.id, None, &fingerprint),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListTransfersResponse {
            transfers: rows.iter().map(convert::transfer).collect(),
            next_page_token,
        }))
    }

    async fn get_transfer(
        &self,
        request: Request<pb::GetTransferRequest>,
    ) -> Result<Response<pb::GetTransferResponse>, Status> {
        let caller = caller(&request)?.clone();
        let mut violations = FieldViolations::new();
        let id = violations.check("transfer_id", parse_id(&request.get_ref().transfer_id));
        violations.into_result()?;
        let id = id.ok_or_else(|| Status::internal("parsed values missing"))?;
        let not_found = || not_found("TRANSFER_NOT_FOUND", "no such transfer");
        let row = self
            .state
            .store
            .transfer(id)
            .await
            .map_err(|e| store_error("reading transfer", e))?
            .ok_or_else(not_found)?;
        if !caller.has_role(Role::Admin) {
            let facts = self
                .state
                .directory
                .many(&[row.debit_account_id, row.credit_account_id], &[])
                .await
                .map_err(|s| bank_server::unavailable("account service", s.message()))?;
            if !facts.iter().any(|f| f.owner == Some(caller.user_id)) {
                return Err(not_found());
            }
        }
        Ok(Response::new(pb::GetTransferResponse {
            transfer: Some(convert::transfer(&row)),
        }))
    }

    async fn get_balance(
        &self,
        request: Request<pb::GetBalanceRequest>,
    ) -> Result<Response<pb::GetBalanceResponse>, Status> {
        let caller = caller(&request)?.clone();
        let mut violations = FieldViolations::new();
        let id = violations.check("account_id", parse_id(&request.get_ref().account_id));
        violations.into_result()?;
        let id = id.ok_or_else(|| Status::internal("parsed values missing"))?;
        if !caller.has_role(Role::Admin) {
            let facts = self
                .state
                .directory
                .one(id)
                .await
                .map_err(|s| bank_server::unavailable("account service", s.message()))?;
            require_reader(&caller, facts.as_ref(), "account_id")?;
        }
        let view = self
            .state
            .store
            .account_view(id)
            .await
            .map_err(|e| store_error("reading balance", e))?
            .ok_or_else(|| account_not_found("account_id"))?;
        Ok(Response::new(pb::GetBalanceResponse {
            balance: Some(convert::balance(&view)),
        }))
    }

    async fn check_integrity(
        &self,
        request: Request<pb::CheckIntegrityRequest>,
    ) -> Result<Response<pb::CheckIntegrityResponse>, Status> {
        require_admin(&request)?;
        let mut violations = FieldViolations::new();
        let account = if request.get_ref().account_id.is_empty() {
            None
        } else {
            violations.check("account_id", parse_id(&request.get_ref().account_id))
        };
        violations.into_result()?;
        let report = self
            .state
            .store
            .integrity(account)
            .await
            .map_err(|e| store_error("checking integrity", e))?;
        if account.is_some() && report.rows.is_empty() {
            return Err(account_not_found("account_id"));
        }
        Ok(Response::new(crate::integrity::response(&report, account.is_some())))
    }
}
