//! Loan applications as members see them: submit, list, read, choose a
//! financing option, answer a request for information, withdraw; the
//! dashboard; and the admins' work queue.

use bank_authn::{caller, require_admin};
use bank_proto::bank::account::v1 as account;
use bank_proto::bank::finance::v1 as pb;
use bank_server::FieldViolations;
use tonic::{Code, Request, Status};
use uuid::Uuid;

use super::paging::{LIST_ALL_APPLICATIONS_PAGE_SIZE_MAX, LIST_MY_APPLICATIONS_PAGE_SIZE_MAX, Page};
use super::{AppState, SETTLE_ROUNDS_MAX, aborted, is_admin, parse_uuid, parsed, store_error};
use crate::domain::{
    Action, Amount, PURPOSE_MAX_CHARS, RESUBMIT_NOTE_MAX_CHARS, RequestId, Status as AppStatus, TERM_MAX_MONTHS,
    WITHDRAW_NOTE_MAX_CHARS, bounded_text, product_type,
};
use crate::errors;
use crate::idempotency::{Fingerprint, HashField as _, Rpc};
use crate::rows::{ApplicationRow, ApplicationView, InstallmentRow, date, from_timestamp, money, now};
use crate::schedule;
use crate::store::{
    ApplicationFilter, Change, ChangeError, Changed, Created, Cursor, IdempotencyKey, OPEN_APPLICATIONS_MAX,
    SubmitError,
};

/// Parses `statuses` (each a status other than UNSPECIFIED).
fn parse_statuses(violations: &mut FieldViolations, statuses: &[i32]) -> Vec<i16> {
    let mut codes = Vec::with_capacity(statuses.len());
    for (i, value) in statuses.iter().enumerate() {
        match AppStatus::from_proto(*value) {
            Some(status) => codes.push(status.code()),
            None => violations.add(&format!("statuses[{i}]"), "is not a valid application status"),
        }
    }
    codes
}

/// The common errors of a change of an application.
pub(super) fn change_error(context: &str, error: ChangeError) -> Status {
    match error {
        ChangeError::NotFound => errors::application_not_found(),
        ChangeError::Illegal(change) => errors::illegal(change),
        ChangeError::Final => errors::precondition(
            "APPLICATION_FINAL",
            "the application is approved, rejected or withdrawn",
        ),
        ChangeError::Refused("FINANCING_OPTION_NOT_FOUND", _) => errors::option_not_found(),
        ChangeError::Refused(reason, message) => errors::precondition(reason, message),
        ChangeError::Schedule(error) => errors::schedule_not_representable("option_id", error),
        ChangeError::NotSelected => errors::precondition(
            "FINANCING_OPTION_NOT_SELECTED",
            "the applicant has not selected a financing option",
        ),
        ChangeError::Pending => bank_server::internal(context, "approval in flight not settled"),
        ChangeError::Store(e) => store_error(context, e),
    }
}

/// The schedule `application` would get with `rate` if disbursed today.
fn projected(application: &ApplicationRow, rate: i32) -> Result<Vec<pb::Installment>, Status> {
    let plan = schedule::schedule(application.amount_minor, rate, application.term_months)
        .map_err(|e| errors::schedule_not_representable("option_id", e))?;
    let today = now().date_naive();
    plan.installments
        .iter()
        .map(|i| {
            let due_date = schedule::due_date(today, i.number)
                .ok_or_else(|| bank_server::internal("projecting schedule", "due date out of range"))?;
            Ok(InstallmentRow {
                loan_id: Uuid::nil(),
                number: i.number,
                due_date,
                payment_minor: i.payment,
                principal_minor: i.principal,
                interest_minor: i.interest,
                balance_after_minor: i.balance_after,
                paid_minor: 0,
            }
            .to_proto(&application.currency))
        })
        .collect()
}

impl AppState {
    pub(super) async fn submit(
        &self,
        request: Request<pb::SubmitApplicationRequest>,
    ) -> Result<pb::SubmitApplicationResponse, Status> {
        let user = caller(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&req.request_id));
        let kind = violations.check("product_type", product_type(req.product_type));
        let amount = violations.check("amount", Amount::parse(req.amount.as_ref()));
        if !(1..=TERM_MAX_MONTHS).contains(&req.term_months) {
            violations.add("term_months", format!("must be 1..{TERM_MAX_MONTHS}"));
        }
        let purpose = violations.check("purpose", bounded_text(&req.purpose, 1, PURPOSE_MAX_CHARS));
        let account_id = parse_uuid(&mut violations, "disbursement_account_id", &req.disbursement_account_id);
        violations.into_result()?;
        let (request_id, kind, amount, purpose, account_id) = (
            parsed(request_id, "submit")?,
            parsed(kind, "submit")?,
            parsed(amount, "submit")?,
            parsed(purpose, "submit")?,
            parsed(account_id, "submit")?,
        );
        let fingerprint = Fingerprint::new()
            .field("product_type", kind.to_string())
            .field("amount", format!("{}:{}", amount.minor(), amount.currency().as_str()))
            .field("term_months", req.term_months.to_string())
            .field("purpose", &purpose)
            .field("disbursement_account_id", account_id.to_string());
        let key = IdempotencyKey {
            caller: user,
            rpc: Rpc::SubmitApplication,
            request_id: request_id.as_str(),
        };
        let replay = |record: crate::rows::IdempotencyRow| -> Result<pb::SubmitApplicationResponse, Status> {
            if let Some(field) = fingerprint.first_mismatch(&record.fingerprint) {
                return Err(errors::key_reused(&field));
            }
            record.replay()
        };
        // A retry is answered from the record, without asking Account again.
        if let Some(record) = self
            .store
            .record(key)
            .await
            .map_err(|e| store_error("reading request record", e))?
        {
            return replay(record);
        }
        let facts = self
            .accounts
            .facts(account_id, rid.as_deref())
            .await?
            .filter(|f| f.owner_user_id == user.to_string())
            .ok_or_else(errors::account_not_found)?;
        let eligible = [
            account::AccountType::Checking as i32,
            account::AccountType::Savings as i32,
        ];
        if !eligible.contains(&facts.r#type) {
            return Err(errors::precondition(
                "ACCOUNT_TYPE_NOT_ELIGIBLE",
                "loans are paid into a checking or savings account",
            ));
        }
        if facts.status != account::AccountStatus::Open as i32 {
            return Err(errors::precondition("ACCOUNT_NOT_OPEN", "the account is not open"));
        }
        if facts.currency != amount.currency().as_str() {
            return Err(errors::precondition(
                "CURRENCY_MISMATCH",
                "the amount's currency is not the account's currency",
            ));
        }
        let at = now();
        let row = ApplicationRow {
            id: Uuid::new_v4(),
            applicant_user_id: user,
            product_type: kind,
            amount_minor: amount.minor(),
            currency: amount.currency().as_str().to_owned(),
            term_months: req.term_months,
            purpose,
            disbursement_account_id: account_id,
            status: AppStatus::Submitted.code(),
            status_reason: String::new(),
            option_id: None,
            option_name: None,
            option_rate_bps: None,
            selected_at: None,
            approval_attempt: 0,
            approval_pending: false,
            approval_admin_id: None,
            approval_reason: None,
            approval_started_at: None,
            loan_id: None,
            submitted_at: at,
            updated_at: at,
        };
        match self.store.submit(key, &fingerprint, row).await {
            Ok(Created::New(view)) => {
                tracing::info!(user_id = %user, application_id = %view.row.id, "application submitted");
                Ok(pb::SubmitApplicationResponse {
                    application: Some(view.to_proto()),
                })
            }
            Ok(Created::Existing(record)) => replay(record),
            Err(SubmitError::TooMany) => Err(errors::with_reason(
                Code::ResourceExhausted,
                "TOO_MANY_OPEN_APPLICATIONS",
                format!("a member may have at most {OPEN_APPLICATIONS_MAX} applications that are not decided"),
                &[],
            )),
            Err(SubmitError::Store(e)) => Err(store_error("submitting application", e)),
        }
    }

    pub(super) async fn list_my_applications(
        &self,
        request: Request<pb::ListMyApplicationsRequest>,
    ) -> Result<pb::ListMyApplicationsResponse, Status> {
        let user = caller(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let statuses = parse_statuses(&mut violations, &req.statuses);
        let page: Page<Cursor> = Page::parse(
            &mut violations,
            req.page_size,
            &req.page_token,
            LIST_MY_APPLICATIONS_PAGE_SIZE_MAX,
            &format!("{:?}", req.statuses),
        );
        violations.into_result()?;
        let filter = ApplicationFilter {
            statuses,
            applicant: Some(user),
            ..ApplicationFilter::default()
        };
        let mut rows = self
            .store
            .applications(&filter, true, page.after, page.fetch())
            .await
            .map_err(|e| store_error("listing applications", e))?;
        let next_page_token = page.finish(&mut rows, |a| (a.row.submitted_at, a.row.id));
        Ok(pb::ListMyApplicationsResponse {
            applications: rows.iter().map(ApplicationView::to_proto).collect(),
            next_page_token,
        })
    }

    pub(super) async fn get_application(
        &self,
        request: Request<pb::GetApplicationRequest>,
    ) -> Result<pb::GetApplicationResponse, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "application_id", &req.application_id);
        violations.into_result()?;
        let view = self
            .store
            .application(parsed(id, "get-application")?)
            .await
            .map_err(|e| store_error("reading application", e))?
            .filter(|v| v.row.applicant_user_id == caller.user_id || is_admin(&caller))
            .ok_or_else(errors::application_not_found)?;
        Ok(pb::GetApplicationResponse {
            application: Some(view.to_proto()),
        })
    }

    pub(super) async fn select_option(
        &self,
        request: Request<pb::SelectFinancingOptionRequest>,
    ) -> Result<pb::SelectFinancingOptionResponse, Status> {
        let user = caller(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "application_id", &req.application_id);
        let option_id = parse_uuid(&mut violations, "option_id", &req.option_id);
        violations.into_result()?;
        let (id, option_id) = (parsed(id, "select")?, parsed(option_id, "select")?);
        let check = |app: &ApplicationRow, option: &crate::rows::OptionRow| -> Result<(), ChangeError> {
            let refuse = |reason, message: &str| Err(ChangeError::Refused(reason, message.to_owned()));
            if !option.active {
                return refuse("OPTION_INACTIVE", "the financing option is not offered any more");
            }
            if option.product_type != app.product_type {
                return refuse("PRODUCT_TYPE_MISMATCH", "the option is for another product type");
            }
            if option.currency != app.currency {
                return refuse("CURRENCY_MISMATCH", "the option is in another currency");
            }
            if !(option.min_amount_minor..=option.max_amount_minor).contains(&app.amount_minor) {
                return refuse("AMOUNT_OUT_OF_RANGE", "the amount is outside the option's range");
            }
            if !(option.min_term_months..=option.max_term_months).contains(&app.term_months) {
                return refuse("TERM_OUT_OF_RANGE", "the term is outside the option's range");
            }
            schedule::schedule(app.amount_minor, option.annual_rate_bps, app.term_months)
                .map(|_| ())
                .map_err(ChangeError::Schedule)
        };
        for _ in 0..SETTLE_ROUNDS_MAX {
            match self.store.select_option(id, user, option_id, check).await {
                Ok(view) => {
                    let rate = view.row.option_rate_bps.unwrap_or_default();
                    tracing::info!(user_id = %user, application_id = %id, option_id = %option_id, "financing option selected");
                    return Ok(pb::SelectFinancingOptionResponse {
                        projected_schedule: projected(&view.row, rate)?,
                        application: Some(view.to_proto()),
                    });
                }
                Err(ChangeError::Pending) => {
                    self.finish_approval(id, rid.as_deref()).await?;
                }
                Err(error) => return Err(change_error("selecting financing option", error)),
            }
        }
        Err(aborted())
    }

    /// Resubmit or withdraw (the applicant's own status changes).
    async fn member_change(
        &self,
        user: Uuid,
        id: Uuid,
        action: Action,
        note: &str,
        rid: Option<&str>,
    ) -> Result<pb::Application, Status> {
        for _ in 0..SETTLE_ROUNDS_MAX {
            let change = Change {
                application_id: id,
                actor: user,
                action,
                note,
                decision: None,
            };
            match self.store.change(change).await {
                Ok(Changed::Done(view)) => {
                    tracing::info!(user_id = %user, application_id = %id, ?action, "application changed by applicant");
                    return Ok(view.to_proto());
                }
                Ok(Changed::Existing) => {
                    return Err(bank_server::internal("changing application", "record without key"));
                }
                Err(ChangeError::Pending) => {
                    self.finish_approval(id, rid).await?;
                }
                Err(error) => return Err(change_error("changing application", error)),
            }
        }
        Err(aborted())
    }

    pub(super) async fn resubmit(
        &self,
        request: Request<pb::ResubmitApplicationRequest>,
    ) -> Result<pb::ResubmitApplicationResponse, Status> {
        let user = caller(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "application_id", &req.application_id);
        let note = violations.check("note", bounded_text(&req.note, 1, RESUBMIT_NOTE_MAX_CHARS));
        violations.into_result()?;
        let application = self
            .member_change(
                user,
                parsed(id, "resubmit")?,
                Action::Resubmit,
                &parsed(note, "resubmit")?,
                rid.as_deref(),
            )
            .await?;
        Ok(pb::ResubmitApplicationResponse {
            application: Some(application),
        })
    }

    pub(super) async fn withdraw(
        &self,
        request: Request<pb::WithdrawApplicationRequest>,
    ) -> Result<pb::WithdrawApplicationResponse, Status> {
        let user = caller(&request)?.user_id;
        let rid = bank_server::request_id(&request).map(str::to_owned);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "application_id", &req.application_id);
        let note = violations.check("note", bounded_text(&req.note, 0, WITHDRAW_NOTE_MAX_CHARS));
        violations.into_result()?;
        let application = self
            .member_change(
                user,
                parsed(id, "withdraw")?,
                Action::Withdraw,
                &parsed(note, "withdraw")?,
                rid.as_deref(),
            )
            .await?;
        Ok(pb::WithdrawApplicationResponse {
            application: Some(application),
        })
    }

    pub(super) async fn dashboard(
        &self,
        request: Request<pb::GetDashboardRequest>,
    ) -> Result<pb::GetDashboardResponse, Status> {
        let user = caller(&request)?.user_id;
        let d = self
            .store
            .dashboard(user)
            .await
            .map_err(|e| store_error("reading dashboard", e))?;
        let totals = |pairs: &[(String, i64)]| pairs.iter().filter_map(|(c, n)| money(*n, c)).collect();
        Ok(pb::GetDashboardResponse {
            applications_by_status: AppStatus::ALL
                .iter()
                .map(|status| pb::StatusCount {
                    status: status.to_proto() as i32,
                    count: d
                        .by_status
                        .iter()
                        .find(|(code, _)| *code == status.code())
                        .map_or(0, |(_, n)| *n),
                })
                .collect(),
            total_requested: totals(&d.requested),
            total_approved: totals(&d.approved),
            outstanding_principal: totals(&d.outstanding_principal),
            active_loan_count: i32::try_from(d.active_loans).unwrap_or(i32::MAX),
            next_due_date: d.next_due.map(date),
        })
    }

    pub(super) async fn list_all_applications(
        &self,
        request: Request<pb::ListAllApplicationsRequest>,
    ) -> Result<pb::ListAllApplicationsResponse, Status> {
        require_admin(&request)?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let statuses = parse_statuses(&mut violations, &req.statuses);
        let kind = if req.product_type == 0 {
            None
        } else {
            violations.check("product_type", product_type(req.product_type))
        };
        let applicant = if req.applicant_user_id.is_empty() {
            None
        } else {
            parse_uuid(&mut violations, "applicant_user_id", &req.applicant_user_id)
        };
        let mut time = |field: &str, value: Option<&prost_types::Timestamp>| {
            value.and_then(|t| {
                let parsed = from_timestamp(t);
                if parsed.is_none() {
                    violations.add(field, "is not a valid timestamp");
                }
                parsed
            })
        };
        let from = time("submitted_start_time", req.submitted_start_time.as_ref());
        let before = time("submitted_end_time", req.submitted_end_time.as_ref());
        if let (Some(from), Some(before)) = (from, before)
            && from > before
        {
            violations.add("submitted_end_time", "must not be before submitted_start_time");
        }
        let filters = format!(
            "{:?}|{}|{}|{:?}|{:?}",
            req.statuses,
            req.product_type,
            req.applicant_user_id,
            from.map(|t| t.timestamp_micros()),
            before.map(|t| t.timestamp_micros())
        );
        let page: Page<Cursor> = Page::parse(
            &mut violations,
            req.page_size,
            &req.page_token,
            LIST_ALL_APPLICATIONS_PAGE_SIZE_MAX,
            &filters,
        );
        violations.into_result()?;
        let filter = ApplicationFilter {
            statuses,
            product_type: kind,
            applicant,
            submitted_from: from,
            submitted_before: before,
        };
        let mut rows = self
            .store
            .applications(&filter, false, page.after, page.fetch())
            .await
            .map_err(|e| store_error("listing all applications", e))?;
        let next_page_token = page.finish(&mut rows, |a| (a.row.submitted_at, a.row.id));
        Ok(pb::ListAllApplicationsResponse {
            applications: rows.iter().map(ApplicationView::to_proto).collect(),
            next_page_token,
        })
    }
}
