//! Opening, reading, finding and (admin) freezing, unfreezing and closing
//! accounts.

use bank_authn::{caller, require_admin};
use bank_proto::bank::account::v1 as pb;
use bank_proto::bank::transfer::v1::LedgerAccountStatus;
use bank_server::{FieldViolations, internal};
use prost::Message;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use super::paging::{
    LIST_ACCOUNTS_PAGE_SIZE_DEFAULT, LIST_ACCOUNTS_PAGE_SIZE_MAX, LIST_ALL_ACCOUNTS_PAGE_SIZE_DEFAULT,
    LIST_ALL_ACCOUNTS_PAGE_SIZE_MAX, Page,
};
use super::{AppState, account_to_proto, currency_list, parse_uuid, parsed, store_error};
use crate::domain::{
    AccountKind, AccountNumber, AccountNumberError, AccountState, Currency, DISPLAY_NAME_MAX_CHARS, RequestId,
    STATUS_REASON_MAX_CHARS, bounded_text, name_hint,
};
use crate::errors;
use crate::idempotency::{Fingerprint, MacField as _, Rpc};
use crate::ledger::{reason_of, relay};
use crate::lookup_limit::LookupRefused;
use crate::store::{AccountFilter, IdempotencyKey, Mirror, OpenError, StatusChange, StatusChangeError};

/// Parses an account number into `violations`; a check-digit failure
/// also sets `*check_digit` so the status carries INVALID_CHECK_DIGIT.
pub(super) fn parse_number(
    violations: &mut FieldViolations,
    field: &str,
    value: &str,
    check_digit: &mut bool,
) -> Option<AccountNumber> {
    match AccountNumber::parse(value) {
        Ok(number) => Some(number),
        Err(error) => {
            if error == AccountNumberError::CheckDigit {
                *check_digit = true;
            }
            violations.add(field, error.to_string());
            None
        }
    }
}

/// `violations` as a status, with INVALID_CHECK_DIGIT when a number's check
/// digits failed.
pub(super) fn into_result(violations: FieldViolations, check_digit: bool) -> Result<(), Status> {
    violations.into_result().map_err(|status| {
        if check_digit {
            errors::add_reason(status, "INVALID_CHECK_DIGIT")
        } else {
            status
        }
    })
}

impl AppState {
    pub(super) async fn open_account(
        &self,
        request: Request<pb::OpenAccountRequest>,
    ) -> Result<pb::OpenAccountResponse, Status> {
        let user = caller(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&req.request_id));
        let kind = match AccountKind::from_proto(req.r#type) {
            Some(kind) if kind.is_member_account() => Some(kind),
            _ => {
                violations.add("type", "must be ACCOUNT_TYPE_CHECKING or ACCOUNT_TYPE_SAVINGS");
                None
            }
        };
        let mut unsupported = false;
        let currency = match Currency::parse(&req.currency) {
            Ok(currency) if self.currencies.contains(&currency) => Some(currency),
            Ok(_) => {
                unsupported = true;
                violations.add(
                    "currency",
                    format!(
                        "the bank keeps no accounts in this currency; supported: {}",
                        currency_list(&self.currencies)
                    ),
                );
                None
            }
            Err(error) => {
                violations.add("currency", error);
                None
            }
        };
        let display_name = violations.check(
            "display_name",
            bounded_text(&req.display_name, false, DISPLAY_NAME_MAX_CHARS),
        );
        violations.into_result().map_err(|status| {
            if unsupported {
                errors::add_reason(status, "UNSUPPORTED_CURRENCY")
            } else {
                status
            }
        })?;
        let (request_id, kind, currency, display_name) = (
            parsed(request_id, "open-account")?,
            parsed(kind, "open-account")?,
            parsed(currency, "open-account")?,
            parsed(display_name, "open-account")?,
        );
        let fingerprint = Fingerprint::new()
            .field(&self.vault, "type", kind.code().to_string())
            .field(&self.vault, "currency", currency.as_str())
            .field(&self.vault, "display_name", &display_name);
        let key = IdempotencyKey {
            caller: user,
            rpc: Rpc::OpenAccount,
            request_id: request_id.as_str(),
        };
        let opened = self
            .store
            .open_account(key, &fingerprint, kind, &currency, &display_name)
            .await
            .map_err(|error| match error {
                OpenError::KeyReused(field) => errors::key_reused(&field),
                OpenError::LimitReached => errors::exhausted(
                    "ACCOUNT_LIMIT_REACHED",
                    format!(
                        "a member may hold at most {} accounts that are not closed",
                        crate::store::ACCOUNTS_PER_MEMBER_MAX
                    ),
                    None,
                ),
                OpenError::Store(e) => store_error("opening account", e),
            })?;
        if let Some(response) = opened.response {
            return pb::OpenAccountResponse::decode(response.as_slice())
                .map_err(|e| internal("decoding stored open-account response", e));
        }
        // The account row exists; its ledger account may not (first call, or
        // a retry after a crash or UNAVAILABLE). Creating it is idempotent.
        let account = opened.account;
        self.ledger
            .create_customer_account(account.id, &account.currency, rid.as_deref())
            .await
            .map_err(|status| relay("creating the ledger account", status))?;
        let response = pb::OpenAccountResponse {
            account: Some(account_to_proto(&account)),
        };
        self.store
            .mark_ready(account.id, Some((key, response.encode_to_vec())))
            .await
            .map_err(|e| store_error("finishing account opening", e))?;
        tracing::info!(user_id = %user, account_id = %account.id, "account opened");
        Ok(response)
    }

    pub(super) async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Result<pb::ListAccountsResponse, Status> {
        let user = caller(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let page = Page::parse(
            &mut violations,
            req.page_size,
            &req.page_token,
            LIST_ACCOUNTS_PAGE_SIZE_DEFAULT,
            LIST_ACCOUNTS_PAGE_SIZE_MAX,
            &format!("include_closed={}", req.include_closed),
        );
        violations.into_result()?;
        let mut rows = self
            .store
            .accounts_of(user, req.include_closed, page.after, page.fetch())
            .await
            .map_err(|e| store_error("listing accounts", e))?;
        let next_page_token = page.finish(&mut rows, |a| (a.opened_at, a.id));
        Ok(pb::ListAccountsResponse {
            accounts: rows.iter().map(account_to_proto).collect(),
            next_page_token,
        })
    }

    pub(super) async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<pb::GetAccountResponse, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "account_id", &req.account_id);
        violations.into_result()?;
        let account = self.readable_account(&caller, parsed(id, "get-account")?).await?;
        Ok(pb::GetAccountResponse {
            account: Some(account_to_proto(&account)),
        })
    }

    pub(super) async fn lookup_account(
        &self,
        request: Request<pb::LookupAccountRequest>,
    ) -> Result<pb::LookupAccountResponse, Status> {
        let user = caller(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let mut check_digit = false;
        let number = parse_number(&mut violations, "account_number", &req.account_number, &mut check_digit);
        into_result(violations, check_digit)?;
        let number = parsed(number, "lookup-account")?;
        match self.lookups.check(user).await {
            Ok(()) => {}
            Err(LookupRefused::Limited(retry_after)) => {
                tracing::info!(user_id = %user, "account lookups rate-limited");
                return Err(errors::exhausted(
                    "LOOKUP_RATE_LIMITED",
                    "too many account lookups; try again later",
                    Some(retry_after),
                ));
            }
            Err(LookupRefused::Unavailable(error)) => {
                return Err(bank_server::unavailable("counting account lookups", error));
            }
        }
        let account = self
            .store
            .account_by_number(&number)
            .await
            .map_err(|e| store_error("looking up account", e))?
            .filter(|a| a.kind() != AccountKind::System && a.state() != AccountState::Closed)
            .ok_or_else(errors::account_not_found)?;
        let hint = match account.owner_user_id {
            Some(owner) => self
                .store
                .profile(owner)
                .await
                .map_err(|e| store_error("reading holder name", e))?
                .map(|p| name_hint(&p.full_name))
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(pb::LookupAccountResponse {
            account_id: account.id.to_string(),
            account_number: account.number.clone(),
            currency: account.currency.clone(),
            holder_name_hint: hint,
        })
    }

    pub(super) async fn list_all_accounts(
        &self,
        request: Request<pb::ListAllAccountsRequest>,
    ) -> Result<pb::ListAllAccountsResponse, Status> {
        require_admin(&request)?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let owner = if req.owner_user_id.is_empty() {
            None
        } else {
            parse_uuid(&mut violations, "owner_user_id", &req.owner_user_id)
        };
        let mut types = Vec::new();
        for (i, value) in req.types.iter().enumerate() {
            match AccountKind::from_proto(*value) {
                Some(kind) => types.push(kind.code()),
                None => violations.add(&format!("types[{i}]"), "is not a valid account type"),
            }
        }
        let mut statuses = Vec::new();
        for (i, value) in req.statuses.iter().enumerate() {
            match AccountState::from_proto(*value) {
                Some(state) => statuses.push(state.code()),
                None => violations.add(&format!("statuses[{i}]"), "is not a valid account status"),
            }
        }
        let currency = if req.currency.is_empty() {
            None
        } else {
            violations.check("currency", Currency::parse(&req.currency))
        };
        let mut check_digit = false;
        let number = if req.account_number.is_empty() {
            None
        } else {
            parse_number(&mut violations, "account_number", &req.account_number, &mut check_digit)
        };
        let filters = format!(
            "{}|{:?}|{:?}|{}|{}",
            req.owner_user_id, req.types, req.statuses, req.currency, req.account_number
        );
        let page = Page::parse(
            &mut violations,
            req.page_size,
            &req.page_token,
            LIST_ALL_ACCOUNTS_PAGE_SIZE_DEFAULT,
            LIST_ALL_ACCOUNTS_PAGE_SIZE_MAX,
            &filters,
        );
        into_result(violations, check_digit)?;
        let filter = AccountFilter {
            owner,
            types,
            statuses,
            currency: currency.map(|c| c.as_str().to_owned()),
            number: number.map(|n| n.as_str().to_owned()),
        };
        let mut rows = self
            .store
            .all_accounts(&filter, page.after, page.fetch())
            .await
            .map_err(|e| store_error("listing all accounts", e))?;
        let next_page_token = page.finish(&mut rows, |a| (a.opened_at, a.id));
        Ok(pb::ListAllAccountsResponse {
            accounts: rows.iter().map(account_to_proto).collect(),
            next_page_token,
        })
    }

    /// Freeze, unfreeze or close (admin): the ledger first, then this
    /// service's row, with the row locked throughout.
    pub(super) async fn change_status(
        &self,
        admin: Uuid,
        account_id: &str,
        reason: &str,
        reason_required: bool,
        change: StatusChange,
        rid: Option<String>,
    ) -> Result<pb::Account, Status> {
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "account_id", account_id);
        let reason = violations.check(
            "reason",
            crate::domain::bounded_text(reason, reason_required, STATUS_REASON_MAX_CHARS),
        );
        violations.into_result()?;
        let (id, reason) = (parsed(id, "change-status")?, parsed(reason, "change-status")?);
        let ledger = self.ledger.clone();
        let target = change.target();
        let mirror = move |account: &crate::store::AccountRow| -> Mirror {
            let account_id = account.id;
            Box::pin(async move { mirror_status(&ledger, account_id, target.to_ledger(), rid.as_deref()).await })
        };
        let (account, changed) = self
            .store
            .change_status(id, change, &reason, admin, mirror)
            .await
            .map_err(|error| match error {
                StatusChangeError::NotFound => errors::account_not_found(),
                StatusChangeError::System => {
                    errors::precondition("SYSTEM_ACCOUNT", "system accounts are never frozen or closed")
                }
                StatusChangeError::Closed => {
                    errors::precondition("ACCOUNT_CLOSED", "the account is closed; closing is final")
                }
                StatusChangeError::Mirror(status) => status,
                StatusChangeError::Store(e) => store_error("changing account status", e),
            })?;
        if changed {
            tracing::info!(admin_id = %admin, account_id = %id, status = ?target, "account status changed");
        }
        Ok(account_to_proto(&account))
    }
}

/// Sets the ledger status; a refused close says the balance
/// (`balance_minor`), which the ledger may not include.
async fn mirror_status(
    ledger: &crate::ledger::Ledger,
    account_id: Uuid,
    status: LedgerAccountStatus,
    rid: Option<&str>,
) -> Result<(), Status> {
    let Err(refusal) = ledger.set_status(account_id, status, rid).await else {
        return Ok(());
    };
    if refusal.code() == Code::FailedPrecondition && reason_of(&refusal).as_deref() == Some("BALANCE_NOT_ZERO") {
        let info = refusal.get_error_details().error_info().cloned();
        let mut metadata: Vec<(&str, String)> = Vec::new();
        let known = info.as_ref().and_then(|i| i.metadata.get("balance_minor").cloned());
        let balance = match known {
            Some(balance) => balance,
            None => ledger
                .balance(account_id, rid)
                .await
                .ok()
                .and_then(|b| b.ledger_account)
                .and_then(|a| a.balance)
                .and_then(|b| b.posted)
                .map(|m| m.amount_minor.to_string())
                .unwrap_or_default(),
        };
        if let Some(info) = &info {
            metadata.extend(info.metadata.iter().map(|(k, v)| (k.as_str(), v.clone())));
        }
        metadata.retain(|(k, _)| *k != "balance_minor");
        metadata.push(("balance_minor", balance));
        return Err(errors::with_reason(
            Code::FailedPrecondition,
            "BALANCE_NOT_ZERO",
            "only an account with a posted balance of zero can be closed",
            &metadata,
        ));
    }
    Err(relay("mirroring the account status into the ledger", refusal))
}
