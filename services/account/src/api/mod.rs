//! The gRPC handlers of `bank.account.v1.AccountService` and
//! `AccountInternalService`: parse the wire input into domain values, check
//! who may do what, act, and answer. Every failure becomes a status a
//! client can act on; handlers log ids, never card data.

mod accounts;
mod cards;
mod internal;
mod paging;
mod profile;
mod purchases;
mod statements;

use std::sync::Arc;

use bank_authn::{Caller, Role};
use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::account::v1::account_service_server::AccountService;
use bank_server::{FieldViolations, internal, unavailable};
use chrono::{DateTime, Utc};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::directory::Directory;
use crate::domain::{AccountKind, Currency};
use crate::errors;
use crate::ledger::Ledger;
use crate::lookup_limit::LookupLimiter;
use crate::store::{AccountRow, CardRow, ProfileRow, Store, StoreError};
use crate::vault::CardVault;

pub use internal::AccountInternalApi;
pub use paging::{LIST_ACCOUNTS_PAGE_SIZE_MAX, LIST_ALL_ACCOUNTS_PAGE_SIZE_MAX, LIST_CARDS_PAGE_SIZE_MAX};
pub use purchases::{CARD_INVALID_ATTEMPTS_MAX, CARD_INVALID_WINDOW_SECS};
pub use statements::{EXPORT_PAGE_SIZE, STATEMENT_ENTRIES_MAX};

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Card keys.
    pub vault: CardVault,
    /// The Transfer service's internal API.
    pub ledger: Ledger,
    /// The Auth service's internal API.
    pub directory: Directory,
    /// LookupAccount's rate limit.
    pub lookups: LookupLimiter,
    /// Currencies accounts may be opened in.
    pub currencies: Vec<Currency>,
}

/// The public service.
#[derive(Clone, Debug)]
pub struct AccountApi {
    state: Arc<AppState>,
}

impl AccountApi {
    /// Handlers over `state`.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

fn store_error(context: &str, error: StoreError) -> Status {
    match error {
        StoreError::Unavailable(e) => unavailable(context, e),
        other => internal(context, other),
    }
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A wire timestamp as a time, refusing out-of-range values.
fn from_timestamp(value: &prost_types::Timestamp) -> Result<DateTime<Utc>, String> {
    u32::try_from(value.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
        .ok_or_else(|| "is not a valid timestamp".to_owned())
}

fn parse_uuid(violations: &mut FieldViolations, field: &str, value: &str) -> Option<Uuid> {
    if value.is_empty() {
        violations.add(field, "is required");
        return None;
    }
    violations.check(field, Uuid::parse_str(value).map_err(|_| "must be a UUID"))
}

/// Turns "every value is `Some` after validation" into values, or an
/// internal error if validation let a `None` through.
fn parsed<T>(value: Option<T>, context: &str) -> Result<T, Status> {
    value.ok_or_else(|| internal(context, "validated value missing"))
}

/// The ISO 4217 codes of `currencies`, for messages.
fn currency_list(currencies: &[Currency]) -> String {
    currencies.iter().map(Currency::as_str).collect::<Vec<_>>().join(", ")
}

fn is_admin(caller: &Caller) -> bool {
    caller.has_role(Role::Admin)
}

/// Whether `caller` may read `account`: its owner, or an admin.
fn may_read(caller: &Caller, account: &AccountRow) -> bool {
    account.is_owned_by(caller.user_id) || is_admin(caller)
}

fn account_to_proto(row: &AccountRow) -> pb::Account {
    pb::Account {
        account_id: row.id.to_string(),
        account_number: row.number.clone(),
        owner_user_id: row.owner_user_id.map(|u| u.to_string()).unwrap_or_default(),
        r#type: row.kind().to_proto() as i32,
        status: row.state().to_proto() as i32,
        currency: row.currency.clone(),
        display_name: row.display_name.clone(),
        system_kind: i32::from(row.system_kind),
        status_reason: row.status_reason.clone(),
        open_time: Some(timestamp(row.opened_at)),
        status_change_time: Some(timestamp(row.status_changed_at)),
    }
}

fn account_facts(row: &AccountRow) -> pb::AccountFacts {
    pb::AccountFacts {
        account_id: row.id.to_string(),
        account_number: row.number.clone(),
        owner_user_id: row.owner_user_id.map(|u| u.to_string()).unwrap_or_default(),
        r#type: row.kind().to_proto() as i32,
        status: row.state().to_proto() as i32,
        currency: row.currency.clone(),
        ledger_account_id: row.id.to_string(),
        system_kind: if row.kind() == AccountKind::System {
            i32::from(row.system_kind)
        } else {
            0
        },
        open_time: Some(timestamp(row.opened_at)),
    }
}

fn card_to_proto(row: &CardRow, now: DateTime<Utc>) -> pb::Card {
    pb::Card {
        card_id: row.id.to_string(),
        account_id: row.account_id.to_string(),
        last_four: row.last_four.clone(),
        expiry_month: i32::from(row.expiry_month),
        expiry_year: i32::from(row.expiry_year),
        cardholder_name: row.cardholder_name.clone(),
        status: i32::from(row.effective_status(now)),
        block_reason: i32::from(row.block_reason),
        issue_time: Some(timestamp(row.issued_at)),
        block_time: row.blocked_at.map(timestamp),
    }
}

fn profile_to_proto(user: Uuid, row: Option<&ProfileRow>, email: String) -> pb::HolderProfile {
    pb::HolderProfile {
        user_id: user.to_string(),
        full_name: row.map(|r| r.full_name.clone()).unwrap_or_default(),
        phone: row.map(|r| r.phone.clone()).unwrap_or_default(),
        email,
        update_time: row.map(|r| timestamp(r.updated_at)),
    }
}

impl AppState {
    /// The ready account `id` when `caller` may read it; NOT_FOUND
    /// otherwise (a member never learns another member's account exists).
    async fn readable_account(&self, caller: &Caller, id: Uuid) -> Result<AccountRow, Status> {
        match self
            .store
            .account(id)
            .await
            .map_err(|e| store_error("reading account", e))?
        {
            Some(account) if may_read(caller, &account) => Ok(account),
            _ => Err(errors::account_not_found()),
        }
    }
}

#[tonic::async_trait]
impl AccountService for AccountApi {
    async fn open_account(
        &self,
        request: Request<pb::OpenAccountRequest>,
    ) -> Result<Response<pb::OpenAccountResponse>, Status> {
        self.state.open_account(request).await.map(Response::new)
    }

    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        self.state.list_accounts(request).await.map(Response::new)
    }

    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::GetAccountResponse>, Status> {
        self.state.get_account(request).await.map(Response::new)
    }

    async fn lookup_account(
        &self,
        request: Request<pb::LookupAccountRequest>,
    ) -> Result<Response<pb::LookupAccountResponse>, Status> {
        self.state.lookup_account(request).await.map(Response::new)
    }

    async fn list_all_accounts(
        &self,
        request: Request<pb::ListAllAccountsRequest>,
    ) -> Result<Response<pb::ListAllAccountsResponse>, Status> {
        self.state.list_all_accounts(request).await.map(Response::new)
    }

    async fn freeze_account(
        &self,
        request: Request<pb::FreezeAccountRequest>,
    ) -> Result<Response<pb::FreezeAccountResponse>, Status> {
        let admin = bank_authn::require_admin(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let account = self
            .state
            .change_status(
                admin,
                &req.account_id,
                &req.reason,
                true,
                crate::store::StatusChange::Freeze,
                rid,
            )
            .await?;
        Ok(Response::new(pb::FreezeAccountResponse { account: Some(account) }))
    }

    async fn unfreeze_account(
        &self,
        request: Request<pb::UnfreezeAccountRequest>,
    ) -> Result<Response<pb::UnfreezeAccountResponse>, Status> {
        let admin = bank_authn::require_admin(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let account = self
            .state
            .change_status(
                admin,
                &req.account_id,
                &req.reason,
                false,
                crate::store::StatusChange::Unfreeze,
                rid,
            )
            .await?;
        Ok(Response::new(pb::UnfreezeAccountResponse { account: Some(account) }))
    }

    async fn close_account(
        &self,
        request: Request<pb::CloseAccountRequest>,
    ) -> Result<Response<pb::CloseAccountResponse>, Status> {
        let admin = bank_authn::require_admin(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let account = self
            .state
            .change_status(
                admin,
                &req.account_id,
                &req.reason,
                true,
                crate::store::StatusChange::Close,
                rid,
            )
            .await?;
        Ok(Response::new(pb::CloseAccountResponse { account: Some(account) }))
    }

    async fn get_profile(
        &self,
        request: Request<pb::GetProfileRequest>,
    ) -> Result<Response<pb::GetProfileResponse>, Status> {
        self.state.get_profile(request).await.map(Response::new)
    }

    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Result<Response<pb::UpdateProfileResponse>, Status> {
        self.state.update_profile(request).await.map(Response::new)
    }

    async fn issue_card(
        &self,
        request: Request<pb::IssueCardRequest>,
    ) -> Result<Response<pb::IssueCardResponse>, Status> {
        self.state.issue_card(request).await.map(Response::new)
    }

    async fn list_cards(
        &self,
        request: Request<pb::ListCardsRequest>,
    ) -> Result<Response<pb::ListCardsResponse>, Status> {
        self.state.list_cards(request).await.map(Response::new)
    }

    async fn get_card(&self, request: Request<pb::GetCardRequest>) -> Result<Response<pb::GetCardResponse>, Status> {
        self.state.get_card(request).await.map(Response::new)
    }

    async fn block_card(
        &self,
        request: Request<pb::BlockCardRequest>,
    ) -> Result<Response<pb::BlockCardResponse>, Status> {
        self.state.block_card(request).await.map(Response::new)
    }

    async fn create_card_purchase(
        &self,
        request: Request<pb::CreateCardPurchaseRequest>,
    ) -> Result<Response<pb::CreateCardPurchaseResponse>, Status> {
        self.state.create_card_purchase(request).await.map(Response::new)
    }

    async fn get_statement(
        &self,
        request: Request<pb::GetStatementRequest>,
    ) -> Result<Response<pb::GetStatementResponse>, Status> {
        self.state.get_statement(request).await.map(Response::new)
    }

    type ExportStatementStream = statements::ExportStream;

    async fn export_statement(
        &self,
        request: Request<pb::ExportStatementRequest>,
    ) -> Result<Response<Self::ExportStatementStream>, Status> {
        self.state.export_statement(request).await.map(Response::new)
    }
}
