//! The finance schema's queries. Every change runs in one transaction
//! together with its history rows, its outbox events and its idempotency
//! record. The row that decides a race is locked first: the application
//! for status changes and approvals, the loan for repayments, an advisory
//! lock per member for the open-application limit.

use bank_db::{Pool, PooledConnection};
use bank_proto::bank::finance::v1 as pb;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use prost::Message as _;
use uuid::Uuid;

use crate::domain::{Action, Illegal, Status, Transition, loan_status, transition};
use crate::events::{self, OUTBOX};
use crate::idempotency::{Fingerprint, Rpc};
use crate::rows::{
    ApplicationRow, ApplicationView, HistoryRow, IdempotencyRow, InstallmentRow, KEY_COMPLETED, KEY_SUBMITTED, LoanRow,
    LoanView, OptionRow, REPAYMENT_DECLINED, REPAYMENT_PENDING, REPAYMENT_RECEIVED, RepaymentRow, now,
};
use crate::schedule::{self, Due, ScheduleError};
use crate::schema::{
    application_history, applications, financing_options, idempotency_keys, installments, loans, repayments,
};

/// Applications a member may have that are not final.
pub const OPEN_APPLICATIONS_MAX: i64 = 5;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had in time: the caller may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    /// Stored data broke an invariant the code relies on.
    #[error("inconsistent data: {0}")]
    Inconsistent(&'static str),
}

/// The key of an idempotency record.
#[derive(Clone, Copy, Debug)]
pub struct IdempotencyKey<'a> {
    /// The caller (user id).
    pub caller: Uuid,
    /// The RPC.
    pub rpc: Rpc,
    /// The client's request id.
    pub request_id: &'a str,
}

/// How an idempotent call finished.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Success: the encoded response.
    Response(Vec<u8>),
    /// A recorded error (a ledger decline).
    Error {
        /// gRPC code.
        code: i32,
        /// Message.
        message: String,
        /// Encoded google.rpc.Status details.
        details: Vec<u8>,
    },
}

impl Outcome {
    /// The outcome of answering with `status`.
    pub fn error(status: &tonic::Status) -> Self {
        Self::Error {
            code: status.code() as i32,
            message: status.message().to_owned(),
            details: status.details().to_vec(),
        }
    }
}

/// What a creating call found or made.
#[derive(Debug)]
pub enum Created<T> {
    /// Made by this call.
    New(T),
    /// An earlier call with the same key: its record.
    Existing(IdempotencyRow),
}

/// A page position: the last row's (time, id).
pub type Cursor = (DateTime<Utc>, Uuid);
/// A page position in the options catalogue: (product type, name, id).
pub type OptionCursor = (i16, String, Uuid);

/// Filters of ListFinancingOptions.
#[derive(Debug, Default, Clone)]
pub struct OptionFilter {
    /// Only this ProductType number.
    pub product_type: Option<i16>,
    /// Only this currency.
    pub currency: Option<String>,
    /// Inactive options too.
    pub include_inactive: bool,
}

/// Filters of ListAllApplications (and ListMyApplications).
#[derive(Debug, Default, Clone)]
pub struct ApplicationFilter {
    /// Only these ApplicationStatus numbers (empty: all).
    pub statuses: Vec<i16>,
    /// Only this ProductType number.
    pub product_type: Option<i16>,
    /// Only this applicant.
    pub applicant: Option<Uuid>,
    /// Submitted at or after.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before.
    pub submitted_before: Option<DateTime<Utc>>,
}

/// Why SubmitApplication refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The member has [`OPEN_APPLICATIONS_MAX`] applications that are not final.
    #[error("too many open applications")]
    TooMany,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for SubmitError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// Why a change of an application was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No such application, or not the caller's.
    #[error("application not found")]
    NotFound,
    /// An approval is in flight: finish it first.
    #[error("approval in flight")]
    Pending,
    /// The state machine forbids it.
    #[error("illegal status transition")]
    Illegal(Illegal),
    /// The application is final (selection).
    #[error("application final")]
    Final,
    /// A selection refused (reason, message).
    #[error("{0}")]
    Refused(&'static str, String),
    /// The selection's schedule is not representable.
    #[error("schedule: {0}")]
    Schedule(ScheduleError),
    /// No financing option selected (approval).
    #[error("no financing option selected")]
    NotSelected,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ChangeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// A status change asked for.
#[derive(Debug)]
pub struct Change<'a> {
    /// The application.
    pub application_id: Uuid,
    /// Who asks.
    pub actor: Uuid,
    /// What they do.
    pub action: Action,
    /// Reason or note.
    pub note: &'a str,
    /// For admin decisions: the idempotency key, fingerprint and decision.
    pub decision: Option<(IdempotencyKey<'a>, &'a Fingerprint, pb::Decision)>,
}

/// What a status change did.
#[derive(Debug)]
pub enum Changed {
    /// The application after the change (or unchanged).
    Done(Box<ApplicationView>),
    /// An earlier decision with the same key exists: answer from its record.
    Existing,
}

/// What starting an approval did.
#[derive(Debug)]
pub enum ApprovalStart {
    /// The approval is in flight as attempt `attempt` of `application`.
    Started {
        /// The application (with its frozen terms).
        application: ApplicationRow,
        /// The disbursement attempt.
        attempt: i32,
    },
    /// An earlier decision with the same key exists: answer from its record.
    Existing,
    /// Another approval is in flight: finish it first.
    Pending,
    /// Already approved: the recorded unchanged answer.
    AlreadyApproved(IdempotencyRow),
}

/// Why a repayment was refused before reaching the ledger.
#[derive(Debug, thiserror::Error)]
pub enum RepayError {
    /// No such loan, or not the caller's.
    #[error("loan not found")]
    NotFound,
    /// Nothing is owed any more.
    #[error("loan paid off")]
    PaidOff,
    /// More than the outstanding amount (which it carries).
    #[error("overpayment")]
    Overpayment(i64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for RepayError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

/// A repayment asked for.
#[derive(Debug)]
pub struct RepayRequest<'a> {
    /// The idempotency key.
    pub key: IdempotencyKey<'a>,
    /// Its fingerprint.
    pub fingerprint: &'a Fingerprint,
    /// The loan.
    pub loan_id: Uuid,
    /// The borrower (the caller).
    pub borrower: Uuid,
    /// The account debited.
    pub account_id: Uuid,
    /// The amount, in the loan's currency.
    pub amount_minor: i64,
}

/// What starting a repayment did.
#[derive(Debug)]
pub enum RepayStart {
    /// Recorded as pending: now ask the ledger.
    Started(RepaymentRow),
    /// An earlier call with the same key exists: answer from its record.
    Existing,
    /// Another repayment of the loan is in flight: finish it first.
    Pending(RepaymentRow),
}

/// A member's finance summary.
#[derive(Debug, Default)]
pub struct Dashboard {
    /// (ApplicationStatus number, count).
    pub by_status: Vec<(i16, i64)>,
    /// (currency, sum) of every application.
    pub requested: Vec<(String, i64)>,
    /// (currency, sum) of approved applications.
    pub approved: Vec<(String, i64)>,
    /// (currency, principal not yet repaid) of active loans.
    pub outstanding_principal: Vec<(String, i64)>,
    /// Active loans.
    pub active_loans: i64,
    /// Earliest due date of an unpaid installment.
    pub next_due: Option<NaiveDate>,
}

/// The finance database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

async fn record_in(
    conn: &mut AsyncPgConnection,
    key: IdempotencyKey<'_>,
) -> Result<Option<IdempotencyRow>, diesel::result::Error> {
    idempotency_keys::table
        .filter(idempotency_keys::caller_id.eq(key.caller))
        .filter(idempotency_keys::rpc.eq(key.rpc.as_str()))
        .filter(idempotency_keys::request_id.eq(key.request_id))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Inserts a record in `state` with `outcome` (none while submitted).
/// `false` when the key already exists.
async fn insert_key(
    conn: &mut AsyncPgConnection,
    key: IdempotencyKey<'_>,
    fingerprint: &Fingerprint,
    resource_id: Uuid,
    outcome: Option<&Outcome>,
) -> Result<bool, diesel::result::Error> {
    let (response, code, message, details) = split(outcome);
    let state = if outcome.is_some() {
        KEY_COMPLETED
    } else {
        KEY_SUBMITTED
    };
    let completed_at = outcome.map(|_| now());
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::caller_id.eq(key.caller),
            idempotency_keys::rpc.eq(key.rpc.as_str()),
            idempotency_keys::request_id.eq(key.request_id),
            idempotency_keys::fingerprint.eq(fingerprint.encode()),
            idempotency_keys::state.eq(state),
            idempotency_keys::resource_id.eq(resource_id),
            idempotency_keys::response.eq(response),
            idempotency_keys::error_code.eq(code),
            idempotency_keys::error_message.eq(message),
            idempotency_keys::error_details.eq(details),
            idempotency_keys::completed_at.eq(completed_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

type Split = (Option<Vec<u8>>, Option<i32>, Option<String>, Option<Vec<u8>>);

fn split(outcome: Option<&Outcome>) -> Split {
    match outcome {
        None => (None, None, None, None),
        Some(Outcome::Response(bytes)) => (Some(bytes.clone()), None, None, None),
        Some(Outcome::Error { code, message, details }) => {
            (None, Some(*code), Some(message.clone()), Some(details.clone()))
        }
    }
}

/// Completes every record of `rpc` that waits on `resource_id`.
async fn complete_waiting(
    conn: &mut AsyncPgConnection,
    rpc: Rpc,
    resource_id: Uuid,
    outcome: &Outcome,
) -> Result<usize, diesel::result::Error> {
    let (response, code, message, details) = split(Some(outcome));
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::rpc.eq(rpc.as_str()))
            .filter(idempotency_keys::resource_id.eq(resource_id))
            .filter(idempotency_keys::state.eq(KEY_SUBMITTED)),
    )
    .set((
        idempotency_keys::state.eq(KEY_COMPLETED),
        idempotency_keys::response.eq(response),
        idempotency_keys::error_code.eq(code),
        idempotency_keys::error_message.eq(message),
        idempotency_keys::error_details.eq(details),
        idempotency_keys::completed_at.eq(now()),
    ))
    .execute(conn)
    .await
}

async fn lock_application(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<ApplicationRow>, diesel::result::Error> {
    applications::table
        .filter(applications::id.eq(id))
        .for_update()
        .select(ApplicationRow::as_select())
        .first(conn)
        .await
        .optional()
}

async fn history_of(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<HistoryRow>, diesel::result::Error> {
    application_history::table
        .filter(application_history::application_id.eq_any(ids))
        .order(application_history::id)
        .select(HistoryRow::as_select())
        .load(conn)
        .await
}

async fn views(
    conn: &mut AsyncPgConnection,
    rows: Vec<ApplicationRow>,
) -> Result<Vec<ApplicationView>, diesel::result::Error> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let history = history_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let history = history.iter().filter(|h| h.application_id == row.id).cloned().collect();
            ApplicationView { row, history }
        })
        .collect())
}

async fn view_in(conn: &mut AsyncPgConnection, id: Uuid) -> Result<ApplicationView, StoreError> {
    let row = applications::table
        .filter(applications::id.eq(id))
        .select(ApplicationRow::as_select())
        .first(conn)
        .await?;
    views(conn, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::Inconsistent("application vanished"))
}

async fn add_history(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    from: Option<Status>,
    to: Status,
    actor: Uuid,
    note: &str,
    at: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    diesel::insert_into(application_history::table)
        .values((
            application_history::application_id.eq(id),
            application_history::from_status.eq(from.map_or(0, Status::code)),
            application_history::to_status.eq(to.code()),
            application_history::actor_user_id.eq(actor),
            application_history::note.eq(note),
            application_history::changed_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

async fn installments_of(
    conn: &mut AsyncPgConnection,
    loan_id: Uuid,
) -> Result<Vec<InstallmentRow>, diesel::result::Error> {
    installments::table
        .filter(installments::loan_id.eq(loan_id))
        .order(installments::number)
        .select(InstallmentRow::as_select())
        .load(conn)
        .await
}

async fn loan_view_in(conn: &mut AsyncPgConnection, loan_id: Uuid) -> Result<LoanView, StoreError> {
    let loan = loans::table
        .filter(loans::id.eq(loan_id))
        .select(LoanRow::as_select())
        .first(conn)
        .await?;
    let rows = installments_of(conn, loan_id).await?;
    Ok(LoanView::new(loan, &rows))
}

/// The approved answer: the application and its loan.
async fn approved_response(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Vec<u8>, StoreError> {
    let view = view_in(conn, id).await?;
    let loan = match view.row.loan_id {
        Some(loan_id) => Some(loan_view_in(conn, loan_id).await?.to_proto()),
        None => None,
    };
    Ok(pb::DecideApplicationResponse {
        application: Some(view.to_proto()),
        loan,
    }
    .encode_to_vec())
}

fn dues(rows: &[InstallmentRow]) -> Vec<Due> {
    rows.iter()
        .map(|i| Due {
            payment: i.payment_minor,
            interest: i.interest_minor,
            paid: i.paid_minor,
        })
        .collect()
}

async fn lock_loan(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<LoanRow>, diesel::result::Error> {
    loans::table
        .filter(loans::id.eq(id))
        .for_update()
        .select(LoanRow::as_select())
        .first(conn)
        .await
        .optional()
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::SmallInt)]
    status: i16,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct SumRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    currency: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct NextDueRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    due: Option<NaiveDate>,
}

impl Store {
    /// A store over `pool`.
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// The record of `key`, if any.
    pub async fn record(&self, key: IdempotencyKey<'_>) -> Result<Option<IdempotencyRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(record_in(&mut conn, key).await?)
    }

    /// Records `outcome` under `key` (a new key only: an existing record
    /// is returned instead).
    pub async fn record_outcome(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &Fingerprint,
        resource_id: Uuid,
        outcome: &Outcome,
    ) -> Result<Option<IdempotencyRow>, StoreError> {
        let mut conn = self.conn().await?;
        if insert_key(&mut conn, key, fingerprint, resource_id, Some(outcome)).await? {
            return Ok(None);
        }
        Ok(record_in(&mut conn, key).await?)
    }

    // ---- financing options ----

    /// Adds `option` under `key`.
    pub async fn create_option(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &Fingerprint,
        option: OptionRow,
    ) -> Result<Created<OptionRow>, StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StoreError, _>(async |conn| {
            let response = pb::CreateFinancingOptionResponse {
                financing_option: Some(option.to_proto()),
            }
            .encode_to_vec();
            if !insert_key(conn, key, fingerprint, option.id, Some(&Outcome::Response(response))).await? {
                let record = record_in(conn, key)
                    .await?
                    .ok_or(StoreError::Inconsistent("conflicting key vanished"))?;
                return Ok(Created::Existing(record));
            }
            diesel::insert_into(financing_options::table)
                .values(&option)
                .execute(conn)
                .await?;
            Ok(Created::New(option))
        })
        .await
    }

    /// The option `id`.
    pub async fn option(&self, id: Uuid) -> Result<Option<OptionRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(financing_options::table
            .filter(financing_options::id.eq(id))
            .select(OptionRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Replaces the mutable fields of `option` when it was last changed at
    /// `seen` (optimistic: `Ok(false)` when someone changed it since).
    pub async fn update_option(&self, option: &OptionRow, seen: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let updated = diesel::update(
            financing_options::table
                .filter(financing_options::id.eq(option.id))
                .filter(financing_options::updated_at.eq(seen)),
        )
        .set((
            financing_options::name.eq(&option.name),
            financing_options::description.eq(&option.description),
            financing_options::annual_rate_bps.eq(option.annual_rate_bps),
            financing_options::min_term_months.eq(option.min_term_months),
            financing_options::max_term_months.eq(option.max_term_months),
            financing_options::min_amount_minor.eq(option.min_amount_minor),
            financing_options::max_amount_minor.eq(option.max_amount_minor),
            financing_options::active.eq(option.active),
            financing_options::updated_at.eq(option.updated_at),
        ))
        .execute(&mut conn)
        .await?;
        Ok(updated == 1)
    }

    /// Options by product type, then name, then id, after `after`.
    pub async fn options(
        &self,
        filter: &OptionFilter,
        after: Option<OptionCursor>,
        limit: i64,
    ) -> Result<Vec<OptionRow>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = financing_options::table.into_boxed();
        if let Some(kind) = filter.product_type {
            query = query.filter(financing_options::product_type.eq(kind));
        }
        if let Some(currency) = &filter.currency {
            query = query.filter(financing_options::currency.eq(currency.clone()));
        }
        if !filter.include_inactive {
            query = query.filter(financing_options::active.eq(true));
        }
        if let Some((kind, name, id)) = after {
            query = query.filter(
                financing_options::product_type
                    .gt(kind)
                    .or(financing_options::product_type.eq(kind).and(
                        financing_options::name
                            .gt(name.clone())
                            .or(financing_options::name.eq(name).and(financing_options::id.gt(id))),
                    )),
            );
        }
        Ok(query
            .order((
                financing_options::product_type,
                financing_options::name,
                financing_options::id,
            ))
            .limit(limit)
            .select(OptionRow::as_select())
            .load(&mut conn)
            .await?)
    }

    // ---- applications ----

    /// Submits `application` under `key`, within the open-application limit.
    pub async fn submit(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &Fingerprint,
        application: ApplicationRow,
    ) -> Result<Created<ApplicationView>, SubmitError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, SubmitError, _>(async |conn| {
            // Serializes one member's submissions, so the limit holds.
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
                .bind::<diesel::sql_types::Uuid, _>(application.applicant_user_id)
                .execute(conn)
                .await?;
            if let Some(record) = record_in(conn, key).await? {
                return Ok(Created::Existing(record));
            }
            let open: i64 = applications::table
                .filter(applications::applicant_user_id.eq(application.applicant_user_id))
                .filter(applications::status.eq_any([Status::Submitted.code(), Status::MoreInfoRequested.code()]))
                .count()
                .get_result(conn)
                .await?;
            if open >= OPEN_APPLICATIONS_MAX {
                return Err(SubmitError::TooMany);
            }
            diesel::insert_into(applications::table)
                .values(&application)
                .execute(conn)
                .await?;
            add_history(
                conn,
                application.id,
                None,
                Status::Submitted,
                application.applicant_user_id,
                "",
                application.submitted_at,
            )
            .await?;
            OUTBOX.append(conn, &[events::submitted(&application)]).await?;
            let view = view_in(conn, application.id).await?;
            let response = pb::SubmitApplicationResponse {
                application: Some(view.to_proto()),
            }
            .encode_to_vec();
            if !insert_key(
                conn,
                key,
                fingerprint,
                application.id,
                Some(&Outcome::Response(response)),
            )
            .await?
            {
                // Unreachable under the advisory lock; refuse to write twice.
                return Err(StoreError::Inconsistent("idempotency key appeared under the member lock").into());
            }
            Ok(Created::New(view))
        })
        .await
    }

    /// The application `id` with its history.
    pub async fn application(&self, id: Uuid) -> Result<Option<ApplicationView>, StoreError> {
        let mut conn = self.conn().await?;
        let row = applications::table
            .filter(applications::id.eq(id))
            .select(ApplicationRow::as_select())
            .first(&mut conn)
            .await
            .optional()?;
        match row {
            Some(row) => Ok(views(&mut conn, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// Applications matching `filter`, newest first (`newest_first`) or
    /// oldest first, after `after`.
    pub async fn applications(
        &self,
        filter: &ApplicationFilter,
        newest_first: bool,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<ApplicationView>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = applications::table.into_boxed();
        if !filter.statuses.is_empty() {
            query = query.filter(applications::status.eq_any(filter.statuses.clone()));
        }
        if let Some(kind) = filter.product_type {
            query = query.filter(applications::product_type.eq(kind));
        }
        if let Some(applicant) = filter.applicant {
            query = query.filter(applications::applicant_user_id.eq(applicant));
        }
        if let Some(from) = filter.submitted_from {
            query = query.filter(applications::submitted_at.ge(from));
        }
        if let Some(before) = filter.submitted_before {
            query = query.filter(applications::submitted_at.lt(before));
        }
        query = match (after, newest_first) {
            (Some((at, id)), true) => query.filter(
                applications::submitted_at
                    .lt(at)
                    .or(applications::submitted_at.eq(at).and(applications::id.lt(id))),
            ),
            (Some((at, id)), false) => query.filter(
                applications::submitted_at
                    .gt(at)
                    .or(applications::submitted_at.eq(at).and(applications::id.gt(id))),
            ),
            (None, _) => query,
        };
        query = if newest_first {
            query.order((applications::submitted_at.desc(), applications::id.desc()))
        } else {
            query.order((applications::submitted_at.asc(), applications::id.asc()))
        };
        let rows = query
            .limit(limit)
            .select(ApplicationRow::as_select())
            .load(&mut conn)
            .await?;
        Ok(views(&mut conn, rows).await?)
    }

    /// Applies a status change (not an approval, see [`Store::start_approval`]).
    pub async fn change(&self, change: Change<'_>) -> Result<Changed, ChangeError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, ChangeError, _>(async |conn| {
            let app = lock_application(conn, change.application_id)
                .await?
                .ok_or(ChangeError::NotFound)?;
            let member_action = matches!(change.action, Action::Resubmit | Action::Withdraw);
            if member_action && app.applicant_user_id != change.actor {
                return Err(ChangeError::NotFound);
            }
            if let Some((key, _, _)) = &change.decision
                && record_in(conn, *key).await?.is_some()
            {
                return Ok(Changed::Existing);
            }
            if app.approval_pending {
                return Err(ChangeError::Pending);
            }
            let from = app.state();
            let to = match transition(from, change.action).map_err(ChangeError::Illegal)? {
                Transition::Unchanged => return Ok(Changed::Done(Box::new(view_in(conn, app.id).await?))),
                Transition::To(to) => to,
            };
            let at = now();
            let reason = if matches!(change.action, Action::Reject | Action::RequestInfo) {
                change.note.to_owned()
            } else {
                app.status_reason.clone()
            };
            diesel::update(applications::table.filter(applications::id.eq(app.id)))
                .set((
                    applications::status.eq(to.code()),
                    applications::status_reason.eq(reason),
                    applications::updated_at.eq(at),
                ))
                .execute(conn)
                .await?;
            add_history(conn, app.id, Some(from), to, change.actor, change.note, at).await?;
            if change.decision.is_none() {
                // The applicant's own move (resubmit, withdraw): analytics
                // keeps applications by status from these too.
                OUTBOX.append(conn, &[events::status_changed(&app, from, to)]).await?;
            }
            if let Some((key, fingerprint, decision)) = change.decision {
                OUTBOX
                    .append(conn, &[events::decided(&app, change.actor, decision, from, to)])
                    .await?;
                let view = view_in(conn, app.id).await?;
                let response = pb::DecideApplicationResponse {
                    application: Some(view.to_proto()),
                    loan: None,
                }
                .encode_to_vec();
                if !insert_key(conn, key, fingerprint, app.id, Some(&Outcome::Response(response))).await? {
                    return Err(StoreError::Inconsistent("idempotency key appeared under the row lock").into());
                }
                return Ok(Changed::Done(Box::new(view)));
            }
            Ok(Changed::Done(Box::new(view_in(conn, app.id).await?)))
        })
        .await
    }

    /// Records `option` as the selection of application `id` of `applicant`
    /// after checking it fits (the checks that need no database were done
    /// by `check`, which runs under the row lock).
    pub async fn select_option(
        &self,
        id: Uuid,
        applicant: Uuid,
        option_id: Uuid,
        check: impl Fn(&ApplicationRow, &OptionRow) -> Result<(), ChangeError> + Send + Sync,
    ) -> Result<ApplicationView, ChangeError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, ChangeError, _>(async |conn| {
            let app = lock_application(conn, id).await?.ok_or(ChangeError::NotFound)?;
            if app.applicant_user_id != applicant {
                return Err(ChangeError::NotFound);
            }
            if app.approval_pending {
                return Err(ChangeError::Pending);
            }
            let option = financing_options::table
                .filter(financing_options::id.eq(option_id))
                .select(OptionRow::as_select())
                .first(conn)
                .await
                .optional()?
                .ok_or(ChangeError::Refused("FINANCING_OPTION_NOT_FOUND", String::new()))?;
            if app.state().is_final() {
                return Err(ChangeError::Final);
            }
            check(&app, &option)?;
            let at = now();
            diesel::update(applications::table.filter(applications::id.eq(app.id)))
                .set((
                    applications::option_id.eq(option.id),
                    applications::option_name.eq(&option.name),
                    applications::option_rate_bps.eq(option.annual_rate_bps),
                    applications::selected_at.eq(at),
                    applications::updated_at.eq(at),
                ))
                .execute(conn)
                .await?;
            OUTBOX
                .append(
                    conn,
                    &[events::option_selected(
                        &app,
                        option.id,
                        option.product_type,
                        option.annual_rate_bps,
                    )],
                )
                .await?;
            Ok(view_in(conn, app.id).await?)
        })
        .await
    }

    /// Starts approving application `id` by `admin`: records the approval
    /// as in flight (with a new disbursement attempt) and the request as
    /// waiting for it, in one transaction.
    pub async fn start_approval(
        &self,
        key: IdempotencyKey<'_>,
        fingerprint: &Fingerprint,
        id: Uuid,
        admin: Uuid,
        reason: &str,
    ) -> Result<ApprovalStart, ChangeError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, ChangeError, _>(async |conn| {
            let app = lock_application(conn, id).await?.ok_or(ChangeError::NotFound)?;
            if record_in(conn, key).await?.is_some() {
                return Ok(ApprovalStart::Existing);
            }
            if app.approval_pending {
                return Ok(ApprovalStart::Pending);
            }
            match transition(app.state(), Action::Approve).map_err(ChangeError::Illegal)? {
                Transition::Unchanged => {
                    let response = approved_response(conn, id).await?;
                    let outcome = Outcome::Response(response);
                    insert_key(conn, key, fingerprint, id, Some(&outcome)).await?;
                    let record = record_in(conn, key)
                        .await?
                        .ok_or(StoreError::Inconsistent("record vanished"))?;
                    return Ok(ApprovalStart::AlreadyApproved(record));
                }
                Transition::To(_) => {}
            }
            let rate = app.option_rate_bps.ok_or(ChangeError::NotSelected)?;
            schedule::schedule(app.amount_minor, rate, app.term_months).map_err(ChangeError::Schedule)?;
            let attempt = app.approval_attempt + 1;
            let at = now();
            diesel::update(applications::table.filter(applications::id.eq(id)))
                .set((
                    applications::approval_pending.eq(true),
                    applications::approval_attempt.eq(attempt),
                    applications::approval_admin_id.eq(admin),
                    applications::approval_reason.eq(reason),
                    applications::approval_started_at.eq(at),
                ))
                .execute(conn)
                .await?;
            insert_key(conn, key, fingerprint, id, None).await?;
            let application = applications::table
                .filter(applications::id.eq(id))
                .select(ApplicationRow::as_select())
                .first(conn)
                .await?;
            Ok(ApprovalStart::Started { application, attempt })
        })
        .await
    }

    /// Finishes approval `attempt` of application `id` after the ledger
    /// paid out `transfer_id` at `disbursed_at`: loan, schedule, status,
    /// history, events and every waiting request's answer, at once.
    /// `Ok(false)` when that attempt was already finished.
    pub async fn complete_approval(
        &self,
        id: Uuid,
        attempt: i32,
        transfer_id: Uuid,
        disbursed_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StoreError, _>(async |conn| {
            let Some(app) = lock_application(conn, id).await? else {
                return Err(StoreError::Inconsistent("approved application vanished"));
            };
            if !app.approval_pending || app.approval_attempt != attempt {
                return Ok(false);
            }
            let (Some(option_id), Some(rate), Some(admin)) =
                (app.option_id, app.option_rate_bps, app.approval_admin_id)
            else {
                return Err(StoreError::Inconsistent("approval without selection or admin"));
            };
            let plan = schedule::schedule(app.amount_minor, rate, app.term_months)
                .map_err(|_| StoreError::Inconsistent("approved terms have no schedule"))?;
            let at = now();
            let loan = LoanRow {
                id: Uuid::new_v4(),
                application_id: app.id,
                borrower_user_id: app.applicant_user_id,
                option_id,
                product_type: app.product_type,
                currency: app.currency.clone(),
                principal_minor: app.amount_minor,
                annual_rate_bps: rate,
                term_months: app.term_months,
                installment_amount_minor: plan.level_payment.max(1),
                total_interest_minor: plan.total_interest,
                total_payable_minor: app.amount_minor + plan.total_interest,
                principal_paid_minor: 0,
                interest_paid_minor: 0,
                disbursement_account_id: app.disbursement_account_id,
                disbursement_transfer_id: transfer_id,
                status: loan_status::ACTIVE,
                disbursed_at,
                paid_off_at: None,
                created_at: at,
            };
            let disbursed_on = disbursed_at.date_naive();
            let mut rows = Vec::with_capacity(plan.installments.len());
            for i in &plan.installments {
                rows.push(InstallmentRow {
                    loan_id: loan.id,
                    number: i.number,
                    due_date: schedule::due_date(disbursed_on, i.number)
                        .ok_or(StoreError::Inconsistent("due date out of range"))?,
                    payment_minor: i.payment,
                    principal_minor: i.principal,
                    interest_minor: i.interest,
                    balance_after_minor: i.balance_after,
                    paid_minor: 0,
                });
            }
            diesel::insert_into(loans::table).values(&loan).execute(conn).await?;
            diesel::insert_into(installments::table)
                .values(&rows)
                .execute(conn)
                .await?;
            diesel::update(applications::table.filter(applications::id.eq(id)))
                .set((
                    applications::status.eq(Status::Approved.code()),
                    applications::loan_id.eq(loan.id),
                    applications::approval_pending.eq(false),
                    applications::approval_admin_id.eq(None::<Uuid>),
                    applications::approval_reason.eq(None::<String>),
                    applications::approval_started_at.eq(None::<DateTime<Utc>>),
                    applications::updated_at.eq(at),
                ))
                .execute(conn)
                .await?;
            let note = app.approval_reason.clone().unwrap_or_default();
            add_history(conn, id, Some(Status::Submitted), Status::Approved, admin, &note, at).await?;
            OUTBOX
                .append(
                    conn,
                    &[
                        events::decided(&app, admin, pb::Decision::Approve, Status::Submitted, Status::Approved),
                        events::disbursed(&loan, admin),
                    ],
                )
                .await?;
            let response = approved_response(conn, id).await?;
            complete_waiting(conn, Rpc::DecideApplication, id, &Outcome::Response(response)).await?;
            Ok(true)
        })
        .await
    }

    /// Ends approval `attempt` of application `id`, which the ledger
    /// declined with `status` (nothing moved): the application stays
    /// SUBMITTED and every waiting request gets the decline. `Ok(false)`
    /// when that attempt was already finished.
    pub async fn fail_approval(&self, id: Uuid, attempt: i32, status: &tonic::Status) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StoreError, _>(async |conn| {
            let Some(app) = lock_application(conn, id).await? else {
                return Err(StoreError::Inconsistent("declined application vanished"));
            };
            if !app.approval_pending || app.approval_attempt != attempt {
                return Ok(false);
            }
            diesel::update(applications::table.filter(applications::id.eq(id)))
                .set((
                    applications::approval_pending.eq(false),
                    applications::approval_admin_id.eq(None::<Uuid>),
                    applications::approval_reason.eq(None::<String>),
                    applications::approval_started_at.eq(None::<DateTime<Utc>>),
                    applications::updated_at.eq(now()),
                ))
                .execute(conn)
                .await?;
            complete_waiting(conn, Rpc::DecideApplication, id, &Outcome::error(status)).await?;
            Ok(true)
        })
        .await
    }

    /// Applications whose approval has been in flight since before `before`.
    pub async fn stale_approvals(&self, before: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(applications::table
            .filter(applications::approval_pending.eq(true))
            .filter(applications::approval_started_at.lt(before))
            .order(applications::approval_started_at)
            .limit(limit)
            .select(applications::id)
            .load(&mut conn)
            .await?)
    }

    /// A member's summary.
    pub async fn dashboard(&self, user: Uuid) -> Result<Dashboard, StoreError> {
        let mut conn = self.conn().await?;
        let counts: Vec<CountRow> = diesel::sql_query(
            "SELECT status, count(*)::bigint AS n FROM finance.applications \
             WHERE applicant_user_id = $1 GROUP BY status",
        )
        .bind::<diesel::sql_types::Uuid, _>(user)
        .load(&mut conn)
        .await?;
        let sums = |filter: &'static str| {
            format!(
                "SELECT currency, sum(amount_minor)::bigint AS total FROM finance.applications \
                 WHERE applicant_user_id = $1 {filter} GROUP BY currency ORDER BY currency"
            )
        };
        let requested: Vec<SumRow> = diesel::sql_query(sums(""))
            .bind::<diesel::sql_types::Uuid, _>(user)
            .load(&mut conn)
            .await?;
        let approved: Vec<SumRow> = diesel::sql_query(sums("AND status = 3"))
            .bind::<diesel::sql_types::Uuid, _>(user)
            .load(&mut conn)
            .await?;
        let outstanding: Vec<SumRow> = diesel::sql_query(
            "SELECT currency, sum(principal_minor - principal_paid_minor)::bigint AS total FROM finance.loans \
             WHERE borrower_user_id = $1 AND status = 1 GROUP BY currency ORDER BY currency",
        )
        .bind::<diesel::sql_types::Uuid, _>(user)
        .load(&mut conn)
        .await?;
        let active_loans: i64 = loans::table
            .filter(loans::borrower_user_id.eq(user))
            .filter(loans::status.eq(loan_status::ACTIVE))
            .count()
            .get_result(&mut conn)
            .await?;
        let next: Vec<NextDueRow> = diesel::sql_query(
            "SELECT min(i.due_date) AS due FROM finance.installments i JOIN finance.loans l ON l.id = i.loan_id \
             WHERE l.borrower_user_id = $1 AND l.status = 1 AND i.paid_minor < i.payment_minor",
        )
        .bind::<diesel::sql_types::Uuid, _>(user)
        .load(&mut conn)
        .await?;
        let pairs = |rows: Vec<SumRow>| rows.into_iter().map(|r| (r.currency, r.total)).collect();
        Ok(Dashboard {
            by_status: counts.into_iter().map(|c| (c.status, c.n)).collect(),
            requested: pairs(requested),
            approved: pairs(approved),
            outstanding_principal: pairs(outstanding),
            active_loans,
            next_due: next.into_iter().next().and_then(|r| r.due),
        })
    }

    // ---- loans ----

    /// Loan `id` with its installments.
    pub async fn loan(&self, id: Uuid) -> Result<Option<(LoanRow, Vec<InstallmentRow>)>, StoreError> {
        let mut conn = self.conn().await?;
        let loan = loans::table
            .filter(loans::id.eq(id))
            .select(LoanRow::as_select())
            .first(&mut conn)
            .await
            .optional()?;
        match loan {
            Some(loan) => {
                let rows = installments_of(&mut conn, id).await?;
                Ok(Some((loan, rows)))
            }
            None => Ok(None),
        }
    }

    /// Loans newest first, of `borrower` (or all), in `status` (or any).
    pub async fn loans(
        &self,
        borrower: Option<Uuid>,
        status: Option<i16>,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<LoanView>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = loans::table.into_boxed();
        if let Some(borrower) = borrower {
            query = query.filter(loans::borrower_user_id.eq(borrower));
        }
        if let Some(status) = status {
            query = query.filter(loans::status.eq(status));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                loans::created_at
                    .lt(at)
                    .or(loans::created_at.eq(at).and(loans::id.lt(id))),
            );
        }
        let rows: Vec<LoanRow> = query
            .order((loans::created_at.desc(), loans::id.desc()))
            .limit(limit)
            .select(LoanRow::as_select())
            .load(&mut conn)
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|l| l.id).collect();
        // The first installment not fully paid of each loan.
        let next: Vec<InstallmentRow> = installments::table
            .filter(installments::loan_id.eq_any(&ids))
            .filter(installments::paid_minor.lt(installments::payment_minor))
            .distinct_on(installments::loan_id)
            .order((installments::loan_id, installments::number))
            .select(InstallmentRow::as_select())
            .load(&mut conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|loan| {
                let mine: Vec<InstallmentRow> = next.iter().filter(|i| i.loan_id == loan.id).cloned().collect();
                LoanView::new(loan, &mine)
            })
            .collect())
    }

    /// Repayments received for `loan_id`, oldest first.
    pub async fn repayments(&self, loan_id: Uuid) -> Result<Vec<RepaymentRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(repayments::table
            .filter(repayments::loan_id.eq(loan_id))
            .filter(repayments::state.eq(REPAYMENT_RECEIVED))
            .order((repayments::received_at, repayments::id))
            .select(RepaymentRow::as_select())
            .load(&mut conn)
            .await?)
    }

    /// Repayment `id`.
    pub async fn repayment(&self, id: Uuid) -> Result<Option<RepaymentRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(repayments::table
            .filter(repayments::id.eq(id))
            .select(RepaymentRow::as_select())
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Records a repayment as pending after checking it against the loan
    /// (locked): at most one repayment of a loan is in flight, so the split
    /// computed here is the one applied when the ledger has moved the money.
    pub async fn start_repayment(&self, request: &RepayRequest<'_>) -> Result<RepayStart, RepayError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, RepayError, _>(async |conn| {
            let loan = lock_loan(conn, request.loan_id).await?.ok_or(RepayError::NotFound)?;
            if loan.borrower_user_id != request.borrower {
                return Err(RepayError::NotFound);
            }
            if record_in(conn, request.key).await?.is_some() {
                return Ok(RepayStart::Existing);
            }
            let pending = repayments::table
                .filter(repayments::loan_id.eq(loan.id))
                .filter(repayments::state.eq(REPAYMENT_PENDING))
                .select(RepaymentRow::as_select())
                .first(conn)
                .await
                .optional()?;
            if let Some(pending) = pending {
                return Ok(RepayStart::Pending(pending));
            }
            if loan.is_paid_off() {
                return Err(RepayError::PaidOff);
            }
            let rows = installments_of(conn, loan.id).await?;
            let allocation = schedule::allocate(&dues(&rows), request.amount_minor).map_err(RepayError::Overpayment)?;
            let repayment = RepaymentRow {
                id: Uuid::new_v4(),
                loan_id: loan.id,
                borrower_user_id: request.borrower,
                from_account_id: request.account_id,
                currency: loan.currency.clone(),
                amount_minor: request.amount_minor,
                principal_part_minor: allocation.principal,
                interest_part_minor: allocation.interest,
                state: REPAYMENT_PENDING,
                transfer_ids: Vec::new(),
                created_at: now(),
                received_at: None,
            };
            diesel::insert_into(repayments::table)
                .values(&repayment)
                .execute(conn)
                .await?;
            if !insert_key(conn, request.key, request.fingerprint, repayment.id, None).await? {
                return Err(StoreError::Inconsistent("idempotency key appeared under the loan lock").into());
            }
            Ok(RepayStart::Started(repayment))
        })
        .await
    }

    /// Applies pending repayment `id`, which the ledger moved as
    /// `transfer_ids`: installments, loan totals and status, the repayment,
    /// its event and its request's answer, at once. `Ok(false)` when it was
    /// already finished.
    pub async fn complete_repayment(&self, id: Uuid, transfer_ids: &[Uuid]) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StoreError, _>(async |conn| {
            let Some((mut repayment, mut loan)) = lock_repayment(conn, id).await? else {
                return Ok(false);
            };
            let mut rows = installments_of(conn, loan.id).await?;
            let allocation = schedule::allocate(&dues(&rows), repayment.amount_minor)
                .map_err(|_| StoreError::Inconsistent("pending repayment exceeds the outstanding amount"))?;
            if allocation.principal != repayment.principal_part_minor
                || allocation.interest != repayment.interest_part_minor
            {
                return Err(StoreError::Inconsistent("schedule changed under a pending repayment"));
            }
            for (index, part) in &allocation.per_installment {
                let row = rows
                    .get_mut(*index)
                    .ok_or(StoreError::Inconsistent("allocation out of range"))?;
                row.paid_minor += part;
                diesel::update(
                    installments::table
                        .filter(installments::loan_id.eq(loan.id))
                        .filter(installments::number.eq(row.number)),
                )
                .set(installments::paid_minor.eq(row.paid_minor))
                .execute(conn)
                .await?;
            }
            let at = now();
            loan.principal_paid_minor += allocation.principal;
            loan.interest_paid_minor += allocation.interest;
            if loan.outstanding() == 0 {
                loan.status = loan_status::PAID_OFF;
                loan.paid_off_at = Some(at);
            }
            debug_assert!(loan.outstanding() >= 0);
            diesel::update(loans::table.filter(loans::id.eq(loan.id)))
                .set((
                    loans::principal_paid_minor.eq(loan.principal_paid_minor),
                    loans::interest_paid_minor.eq(loan.interest_paid_minor),
                    loans::status.eq(loan.status),
                    loans::paid_off_at.eq(loan.paid_off_at),
                ))
                .execute(conn)
                .await?;
            repayment.state = REPAYMENT_RECEIVED;
            repayment.transfer_ids = transfer_ids.to_vec();
            repayment.received_at = Some(at);
            diesel::update(repayments::table.filter(repayments::id.eq(id)))
                .set((
                    repayments::state.eq(REPAYMENT_RECEIVED),
                    repayments::transfer_ids.eq(&repayment.transfer_ids),
                    repayments::received_at.eq(at),
                ))
                .execute(conn)
                .await?;
            OUTBOX.append(conn, &[events::repaid(&repayment, &loan)]).await?;
            let response = pb::RepayLoanResponse {
                repayment: Some(repayment.to_proto()),
                loan: Some(LoanView::new(loan, &rows).to_proto()),
            }
            .encode_to_vec();
            complete_waiting(conn, Rpc::RepayLoan, id, &Outcome::Response(response)).await?;
            Ok(true)
        })
        .await
    }

    /// Ends pending repayment `id`, which the ledger declined with
    /// `status`: nothing moved, the schedule is untouched, its request gets
    /// the decline. `Ok(false)` when it was already finished.
    pub async fn fail_repayment(&self, id: Uuid, status: &tonic::Status) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, StoreError, _>(async |conn| {
            if lock_repayment(conn, id).await?.is_none() {
                return Ok(false);
            }
            diesel::update(repayments::table.filter(repayments::id.eq(id)))
                .set(repayments::state.eq(REPAYMENT_DECLINED))
                .execute(conn)
                .await?;
            complete_waiting(conn, Rpc::RepayLoan, id, &Outcome::error(status)).await?;
            Ok(true)
        })
        .await
    }

    /// Repayments pending since before `before`.
    pub async fn stale_repayments(&self, before: DateTime<Utc>, limit: i64) -> Result<Vec<RepaymentRow>, StoreError> {
        let mut conn = self.conn().await?;
        Ok(repayments::table
            .filter(repayments::state.eq(REPAYMENT_PENDING))
            .filter(repayments::created_at.lt(before))
            .order(repayments::created_at)
            .limit(limit)
            .select(RepaymentRow::as_select())
            .load(&mut conn)
            .await?)
    }
}

/// Locks the loan of repayment `id`, then the repayment; `None` unless it
/// is still pending.
async fn lock_repayment(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<(RepaymentRow, LoanRow)>, StoreError> {
    let loan_id: Option<Uuid> = repayments::table
        .filter(repayments::id.eq(id))
        .select(repayments::loan_id)
        .first(conn)
        .await
        .optional()?;
    let Some(loan_id) = loan_id else {
        return Ok(None);
    };
    let loan = lock_loan(conn, loan_id)
        .await?
        .ok_or(StoreError::Inconsistent("repayment without loan"))?;
    let repayment = repayments::table
        .filter(repayments::id.eq(id))
        .for_update()
        .select(RepaymentRow::as_select())
        .first(conn)
        .await?;
    if repayment.state != REPAYMENT_PENDING {
        return Ok(None);
    }
    Ok(Some((repayment, loan)))
}
