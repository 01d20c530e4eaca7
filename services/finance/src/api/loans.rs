//! Loans: list, read, the schedule, and repayments. A repayment is checked
//! and split (interest first, in due order) against the locked loan and
//! recorded as pending before the ledger is asked; at most one repayment
//! of a loan is in flight, so the split stays right until it is applied.
//! Whoever finds a repayment in flight (its retry, the next repayment, the
//! healer) finishes it with the same ledger request id (the repayment id).

use bank_authn::caller;
use bank_proto::bank::finance::v1 as pb;
use bank_server::FieldViolations;
use tonic::{Code, Request, Status};
use uuid::Uuid;

use super::paging::{LIST_LOANS_PAGE_SIZE_MAX, Page};
use super::{AppState, SETTLE_ROUNDS_MAX, aborted, is_admin, parse_uuid, parsed, store_error};
use crate::domain::{Amount, RequestId, loan_status};
use crate::errors;
use crate::idempotency::{Fingerprint, HashField as _, Rpc};
use crate::peers::{self, RepaymentLegs};
use crate::rows::{IdempotencyRow, LoanView, REPAYMENT_PENDING, RepaymentRow};
use crate::store::{Cursor, IdempotencyKey, RepayError, RepayRequest, RepayStart};

fn not_borrower() -> Status {
    errors::with_reason(
        Code::PermissionDenied,
        "NOT_BORROWER",
        "only the borrower may do this; the admin role grants read access only",
        &[],
    )
}

impl AppState {
    pub(super) async fn list_loans(
        &self,
        request: Request<pb::ListLoansRequest>,
    ) -> Result<pb::ListLoansResponse, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let named = if req.borrower_user_id.is_empty() {
            None
        } else {
            parse_uuid(&mut violations, "borrower_user_id", &req.borrower_user_id)
        };
        let status = match req.status {
            0 => None,
            s if s == i32::from(loan_status::ACTIVE) || s == i32::from(loan_status::PAID_OFF) => i16::try_from(s).ok(),
            _ => {
                violations.add("status", "is not a valid loan status");
                None
            }
        };
        let page: Page<Cursor> = Page::parse(
            &mut violations,
            req.page_size,
            &req.page_token,
            LIST_LOANS_PAGE_SIZE_MAX,
            &format!("{}|{}", req.borrower_user_id, req.status),
        );
        violations.into_result()?;
        let borrower = if is_admin(&caller) {
            named
        } else {
            match named {
                Some(other) if other != caller.user_id => return Err(not_borrower()),
                _ => Some(caller.user_id),
            }
        };
        let mut rows = self
            .store
            .loans(borrower, status, page.after, page.fetch())
            .await
            .map_err(|e| store_error("listing loans", e))?;
        let next_page_token = page.finish(&mut rows, |l| (l.loan.created_at, l.loan.id));
        Ok(pb::ListLoansResponse {
            loans: rows.iter().map(LoanView::to_proto).collect(),
            next_page_token,
        })
    }

    /// Loan `id` with its installments when `caller` may read it.
    async fn readable_loan(
        &self,
        caller: &bank_authn::Caller,
        id: &str,
    ) -> Result<(crate::rows::LoanRow, Vec<crate::rows::InstallmentRow>), Status> {
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "loan_id", id);
        violations.into_result()?;
        self.store
            .loan(parsed(id, "read-loan")?)
            .await
            .map_err(|e| store_error("reading loan", e))?
            .filter(|(loan, _)| loan.borrower_user_id == caller.user_id || is_admin(caller))
            .ok_or_else(errors::loan_not_found)
    }

    pub(super) async fn get_loan(&self, request: Request<pb::GetLoanRequest>) -> Result<pb::GetLoanResponse, Status> {
        let caller = caller(&request)?.clone();
        let (loan, installments) = self.readable_loan(&caller, &request.get_ref().loan_id).await?;
        Ok(pb::GetLoanResponse {
            loan: Some(LoanView::new(loan, &installments).to_proto()),
        })
    }

    pub(super) async fn repayment_schedule(
        &self,
        request: Request<pb::GetRepaymentScheduleRequest>,
    ) -> Result<pb::GetRepaymentScheduleResponse, Status> {
        let caller = caller(&request)?.clone();
        let (loan, installments) = self.readable_loan(&caller, &request.get_ref().loan_id).await?;
        let repayments = self
            .store
            .repayments(loan.id)
            .await
            .map_err(|e| store_error("reading repayments", e))?;
        Ok(pb::GetRepaymentScheduleResponse {
            installments: installments.iter().map(|i| i.to_proto(&loan.currency)).collect(),
            repayments: repayments.iter().map(RepaymentRow::to_proto).collect(),
            loan: Some(LoanView::new(loan, &installments).to_proto()),
        })
    }

    pub(super) async fn repay(&self, request: Request<pb::RepayLoanRequest>) -> Result<pb::RepayLoanResponse, Status> {
        let caller = caller(&request)?.clone();
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&req.request_id));
        let loan_id = parse_uuid(&mut violations, "loan_id", &req.loan_id);
        let account_id = parse_uuid(&mut violations, "from_account_id", &req.from_account_id);
        let amount = violations.check("amount", Amount::parse(req.amount.as_ref()));
        violations.into_result()?;
        let (request_id, loan_id, account_id, amount) = (
            parsed(request_id, "repay")?,
            parsed(loan_id, "repay")?,
            parsed(account_id, "repay")?,
            parsed(amount, "repay")?,
        );
        let fingerprint = Fingerprint::new()
            .field("loan_id", loan_id.to_string())
            .field("from_account_id", account_id.to_string())
            .field("amount", format!("{}:{}", amount.minor(), amount.currency().as_str()));
        let key = IdempotencyKey {
            caller: caller.user_id,
            rpc: Rpc::RepayLoan,
            request_id: request_id.as_str(),
        };
        // A retry is answered from the record (finishing it if needed).
        if let Some(answer) = self.replay_repayment(key, &fingerprint, rid.as_deref()).await? {
            return answer;
        }
        let (loan, _) = self
            .store
            .loan(loan_id)
            .await
            .map_err(|e| store_error("reading loan", e))?
            .ok_or_else(errors::loan_not_found)?;
        if loan.borrower_user_id != caller.user_id {
            return Err(if is_admin(&caller) {
                not_borrower()
            } else {
                errors::loan_not_found()
            });
        }
        if amount.currency().as_str() != loan.currency {
            return Err(errors::precondition(
                "CURRENCY_MISMATCH",
                "the amount's currency is not the loan's currency",
            ));
        }
        if loan.is_paid_off() {
            return Err(paid_off());
        }
        let facts = self
            .accounts
            .facts(account_id, rid.as_deref())
            .await?
            .filter(|f| f.owner_user_id == caller.user_id.to_string())
            .ok_or_else(errors::account_not_found)?;
        if facts.currency != loan.currency {
            return Err(errors::precondition(
                "CURRENCY_MISMATCH",
                "the account's currency is not the loan's currency",
            ));
        }
        let repay = RepayRequest {
            key,
            fingerprint: &fingerprint,
            loan_id,
            borrower: caller.user_id,
            account_id,
            amount_minor: amount.minor(),
        };
        for _ in 0..SETTLE_ROUNDS_MAX {
            match self.store.start_repayment(&repay).await {
                Ok(RepayStart::Started(row)) => {
                    tracing::info!(user_id = %caller.user_id, loan_id = %loan_id, repayment_id = %row.id, "repayment started");
                    self.finish_repayment(&row, rid.as_deref()).await?;
                }
                Ok(RepayStart::Pending(row)) => self.finish_repayment(&row, rid.as_deref()).await?,
                Ok(RepayStart::Existing) => {}
                Err(RepayError::NotFound) => return Err(errors::loan_not_found()),
                Err(RepayError::PaidOff) => return Err(paid_off()),
                Err(RepayError::Overpayment(outstanding)) => {
                    return Err(errors::with_reason(
                        Code::FailedPrecondition,
                        "OVERPAYMENT",
                        format!("the amount exceeds the outstanding {outstanding} minor units"),
                        &[("outstanding_minor", outstanding.to_string())],
                    ));
                }
                Err(RepayError::Store(e)) => return Err(store_error("starting repayment", e)),
            }
            if let Some(answer) = self.replay_repayment(key, &fingerprint, rid.as_deref()).await? {
                return answer;
            }
        }
        Err(aborted())
    }

    /// The recorded answer of `key`, finishing its repayment first when it
    /// is still in flight; `None` when there is no record.
    async fn replay_repayment(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &Fingerprint,
        rid: Option<&str>,
    ) -> Result<Option<Result<pb::RepayLoanResponse, Status>>, Status> {
        let Some(mut record) = self.record(key).await? else {
            return Ok(None);
        };
        if let Some(field) = fingerprint.first_mismatch(&record.fingerprint) {
            return Err(errors::key_reused(&field));
        }
        if !record.is_completed() {
            let row = self
                .store
                .repayment(record.resource_id)
                .await
                .map_err(|e| store_error("reading repayment", e))?
                .ok_or_else(|| bank_server::internal("resuming repayment", "record without repayment"))?;
            self.finish_repayment(&row, rid).await?;
            record = self
                .record(key)
                .await?
                .ok_or_else(|| bank_server::internal("resuming repayment", "record vanished"))?;
        }
        Ok(Some(record.replay()))
    }

    async fn record(&self, key: IdempotencyKey<'_>) -> Result<Option<IdempotencyRow>, Status> {
        self.store
            .record(key)
            .await
            .map_err(|e| store_error("reading request record", e))
    }

    /// Asks the ledger to move pending repayment `row` and records the
    /// outcome (a decline included). A ledger that cannot be reached leaves
    /// it pending: a retry or the healer finishes it.
    pub(crate) async fn finish_repayment(&self, row: &RepaymentRow, rid: Option<&str>) -> Result<(), Status> {
        if row.state != REPAYMENT_PENDING {
            return Ok(());
        }
        let request_id = row.id.to_string();
        let legs = RepaymentLegs {
            request_id: &request_id,
            loan_id: row.loan_id,
            borrower: row.borrower_user_id,
            account_id: row.from_account_id,
            principal_minor: row.principal_part_minor,
            interest_minor: row.interest_part_minor,
            currency: &row.currency,
        };
        match self.ledger.repay(&legs, rid).await {
            Ok(transfers) => {
                let ids = transfers
                    .iter()
                    .map(|t| Uuid::parse_str(&t.transfer_id))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bank_server::internal("reading the repayment transfers", e))?;
                if self
                    .store
                    .complete_repayment(row.id, &ids)
                    .await
                    .map_err(|e| store_error("recording repayment", e))?
                {
                    tracing::info!(loan_id = %row.loan_id, repayment_id = %row.id, "repayment received");
                }
                Ok(())
            }
            Err(status) => match peers::definitive("repaying the loan", &status) {
                Some(decline) => {
                    if self
                        .store
                        .fail_repayment(row.id, &decline)
                        .await
                        .map_err(|e| store_error("recording declined repayment", e))?
                    {
                        tracing::info!(loan_id = %row.loan_id, repayment_id = %row.id, "repayment declined by the ledger");
                    }
                    Ok(())
                }
                None => Err(peers::relay("repaying the loan", status)),
            },
        }
    }
}

fn paid_off() -> Status {
    errors::precondition("LOAN_PAID_OFF", "the loan is paid off; nothing is owed")
}
