//! Rows of the finance schema as the code reads them, and their wire form.

use bank_proto::bank::common::v1::{CalendarDate, Money};
use bank_proto::bank::finance::v1 as pb;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::{Status, loan_status};
use crate::schema::{
    application_history, applications, financing_options, idempotency_keys, installments, loans, repayments,
};

/// `repayments.state`: sent to the ledger, outcome not recorded yet.
pub const REPAYMENT_PENDING: i16 = 1;
/// Money moved and applied to the schedule.
pub const REPAYMENT_RECEIVED: i16 = 2;
/// Declined by the ledger; nothing moved.
pub const REPAYMENT_DECLINED: i16 = 3;

/// `idempotency_keys.state`: waits for a ledger outcome.
pub const KEY_SUBMITTED: i16 = 2;
/// Finished: the stored outcome is the answer forever.
pub const KEY_COMPLETED: i16 = 3;

/// A wire timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A wire timestamp as a time, refusing out-of-range values.
pub fn from_timestamp(value: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    u32::try_from(value.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
}

/// Now, to the microsecond the database keeps, so a response built before
/// an insert equals what a later read returns.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// A wire date.
pub fn date(day: NaiveDate) -> CalendarDate {
    CalendarDate {
        year: day.year(),
        month: i32::try_from(day.month()).unwrap_or(0),
        day: i32::try_from(day.day()).unwrap_or(0),
    }
}

/// Wire money.
pub fn money(minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: currency.to_owned(),
    })
}

/// A financing option.
#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = financing_options)]
pub struct OptionRow {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// ProductType number.
    pub product_type: i16,
    /// ISO-4217 code.
    pub currency: String,
    /// Annual rate, basis points.
    pub annual_rate_bps: i32,
    /// Shortest term.
    pub min_term_months: i32,
    /// Longest term.
    pub max_term_months: i32,
    /// Smallest principal.
    pub min_amount_minor: i64,
    /// Largest principal.
    pub max_amount_minor: i64,
    /// Visible to members.
    pub active: bool,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl OptionRow {
    /// The wire form.
    pub fn to_proto(&self) -> pb::FinancingOption {
        pb::FinancingOption {
            option_id: self.id.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            product_type: i32::from(self.product_type),
            currency: self.currency.clone(),
            annual_rate_bps: self.annual_rate_bps,
            min_term_months: self.min_term_months,
            max_term_months: self.max_term_months,
            min_amount: money(self.min_amount_minor, &self.currency),
            max_amount: money(self.max_amount_minor, &self.currency),
            active: self.active,
            create_time: Some(timestamp(self.created_at)),
            update_time: Some(timestamp(self.updated_at)),
        }
    }
}

/// An application.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = applications)]
pub struct ApplicationRow {
    /// Id (also the first disbursement's ledger request id).
    pub id: Uuid,
    /// The applicant.
    pub applicant_user_id: Uuid,
    /// ProductType number.
    pub product_type: i16,
    /// Principal requested.
    pub amount_minor: i64,
    /// Its currency.
    pub currency: String,
    /// Term requested.
    pub term_months: i32,
    /// What the money is for.
    pub purpose: String,
    /// The account paid into.
    pub disbursement_account_id: Uuid,
    /// ApplicationStatus number.
    pub status: i16,
    /// Reason of the latest REJECT or REQUEST_INFO.
    pub status_reason: String,
    /// Selected option.
    pub option_id: Option<Uuid>,
    /// Its name when selected.
    pub option_name: Option<String>,
    /// Its rate when selected.
    pub option_rate_bps: Option<i32>,
    /// When selected.
    pub selected_at: Option<DateTime<Utc>>,
    /// Disbursement attempts started.
    pub approval_attempt: i32,
    /// An approval is in flight.
    pub approval_pending: bool,
    /// The admin approving.
    pub approval_admin_id: Option<Uuid>,
    /// Their reason.
    pub approval_reason: Option<String>,
    /// When the approval started.
    pub approval_started_at: Option<DateTime<Utc>>,
    /// The loan, once approved.
    pub loan_id: Option<Uuid>,
    /// Submission.
    pub submitted_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl ApplicationRow {
    /// Its status (CHECK constraints make the fallback unreachable).
    pub fn state(&self) -> Status {
        Status::from_code(self.status).unwrap_or(Status::Rejected)
    }

    /// The ledger request id of disbursement attempt `attempt`: the
    /// application id for the first, derived from it for later ones (a new
    /// attempt starts only after the previous one was declined).
    pub fn disbursement_request_id(&self, attempt: i32) -> String {
        if attempt <= 1 {
            self.id.to_string()
        } else {
            format!("{}-{attempt}", self.id)
        }
    }
}

/// One status change.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = application_history)]
pub struct HistoryRow {
    /// The application.
    pub application_id: Uuid,
    /// Before (0 for the submission).
    pub from_status: i16,
    /// After.
    pub to_status: i16,
    /// Who.
    pub actor_user_id: Uuid,
    /// Reason or note.
    pub note: String,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// An application with its history.
#[derive(Debug, Clone)]
pub struct ApplicationView {
    /// The row.
    pub row: ApplicationRow,
    /// Its status changes, oldest first.
    pub history: Vec<HistoryRow>,
}

impl ApplicationView {
    /// The wire form.
    pub fn to_proto(&self) -> pb::Application {
        let row = &self.row;
        let selection = match (row.option_id, &row.option_name, row.option_rate_bps, row.selected_at) {
            (Some(id), Some(name), Some(rate), Some(at)) => Some(pb::OptionSelection {
                option_id: id.to_string(),
                option_name: name.clone(),
                annual_rate_bps: rate,
                select_time: Some(timestamp(at)),
            }),
            _ => None,
        };
        pb::Application {
            application_id: row.id.to_string(),
            applicant_user_id: row.applicant_user_id.to_string(),
            product_type: i32::from(row.product_type),
            amount: money(row.amount_minor, &row.currency),
            term_months: row.term_months,
            purpose: row.purpose.clone(),
            disbursement_account_id: row.disbursement_account_id.to_string(),
            selection,
            status: i32::from(row.status),
            status_reason: row.status_reason.clone(),
            loan_id: row.loan_id.map(|id| id.to_string()).unwrap_or_default(),
            history: self
                .history
                .iter()
                .map(|h| pb::StatusChange {
                    from_status: i32::from(h.from_status),
                    to_status: i32::from(h.to_status),
                    actor_user_id: h.actor_user_id.to_string(),
                    note: h.note.clone(),
                    change_time: Some(timestamp(h.changed_at)),
                })
                .collect(),
            submit_time: Some(timestamp(row.submitted_at)),
            update_time: Some(timestamp(row.updated_at)),
        }
    }
}

/// A loan.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = loans)]
pub struct LoanRow {
    /// Id.
    pub id: Uuid,
    /// The application.
    pub application_id: Uuid,
    /// The borrower.
    pub borrower_user_id: Uuid,
    /// The option used.
    pub option_id: Uuid,
    /// ProductType number.
    pub product_type: i16,
    /// ISO-4217 code.
    pub currency: String,
    /// Principal disbursed.
    pub principal_minor: i64,
    /// Annual rate, basis points.
    pub annual_rate_bps: i32,
    /// Installments.
    pub term_months: i32,
    /// Level payment A.
    pub installment_amount_minor: i64,
    /// Sum of scheduled interest.
    pub total_interest_minor: i64,
    /// principal + total interest.
    pub total_payable_minor: i64,
    /// Principal repaid.
    pub principal_paid_minor: i64,
    /// Interest repaid.
    pub interest_paid_minor: i64,
    /// The account paid into.
    pub disbursement_account_id: Uuid,
    /// The disbursement transfer.
    pub disbursement_transfer_id: Uuid,
    /// LoanStatus number.
    pub status: i16,
    /// When disbursed.
    pub disbursed_at: DateTime<Utc>,
    /// When paid off.
    pub paid_off_at: Option<DateTime<Utc>>,
    /// Creation (listing order).
    pub created_at: DateTime<Utc>,
}

impl LoanRow {
    /// Repaid so far.
    pub fn amount_paid(&self) -> i64 {
        self.principal_paid_minor + self.interest_paid_minor
    }

    /// The most a repayment may be.
    pub fn outstanding(&self) -> i64 {
        self.total_payable_minor - self.amount_paid()
    }

    /// Whether every installment is paid.
    pub fn is_paid_off(&self) -> bool {
        self.status == loan_status::PAID_OFF
    }
}

/// One installment.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = installments)]
pub struct InstallmentRow {
    /// The loan.
    pub loan_id: Uuid,
    /// 1..=n.
    pub number: i32,
    /// Due date (UTC).
    pub due_date: NaiveDate,
    /// Scheduled payment.
    pub payment_minor: i64,
    /// Principal part.
    pub principal_minor: i64,
    /// Interest part.
    pub interest_minor: i64,
    /// Principal outstanding after it.
    pub balance_after_minor: i64,
    /// Paid so far.
    pub paid_minor: i64,
}

impl InstallmentRow {
    /// The wire form.
    pub fn to_proto(&self, currency: &str) -> pb::Installment {
        let status = if self.paid_minor == 0 {
            pb::InstallmentStatus::Unpaid
        } else if self.paid_minor < self.payment_minor {
            pb::InstallmentStatus::PartiallyPaid
        } else {
            pb::InstallmentStatus::Paid
        };
        pb::Installment {
            number: self.number,
            due_date: Some(date(self.due_date)),
            payment: money(self.payment_minor, currency),
            principal: money(self.principal_minor, currency),
            interest: money(self.interest_minor, currency),
            balance_after: money(self.balance_after_minor, currency),
            paid: money(self.paid_minor, currency),
            status: status as i32,
        }
    }
}

/// A loan with what is due next.
#[derive(Debug, Clone)]
pub struct LoanView {
    /// The row.
    pub loan: LoanRow,
    /// The first installment not fully paid: due date and amount still due.
    pub next_due: Option<(NaiveDate, i64)>,
}

impl LoanView {
    /// The next due installment among `installments` (in order).
    pub fn new(loan: LoanRow, installments: &[InstallmentRow]) -> Self {
        let next_due = installments
            .iter()
            .find(|i| i.paid_minor < i.payment_minor)
            .map(|i| (i.due_date, i.payment_minor - i.paid_minor));
        Self { loan, next_due }
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::Loan {
        let l = &self.loan;
        let c = l.currency.as_str();
        pb::Loan {
            loan_id: l.id.to_string(),
            application_id: l.application_id.to_string(),
            borrower_user_id: l.borrower_user_id.to_string(),
            option_id: l.option_id.to_string(),
            product_type: i32::from(l.product_type),
            principal: money(l.principal_minor, c),
            annual_rate_bps: l.annual_rate_bps,
            term_months: l.term_months,
            installment_amount: money(l.installment_amount_minor, c),
            total_interest: money(l.total_interest_minor, c),
            total_payable: money(l.total_payable_minor, c),
            amount_paid: money(l.amount_paid(), c),
            outstanding: money(l.outstanding(), c),
            outstanding_principal: money(l.principal_minor - l.principal_paid_minor, c),
            disbursement_account_id: l.disbursement_account_id.to_string(),
            disbursement_transfer_id: l.disbursement_transfer_id.to_string(),
            status: i32::from(l.status),
            next_due_date: self.next_due.map(|(day, _)| date(day)),
            next_due_amount: self.next_due.and_then(|(_, amount)| money(amount, c)),
            disburse_time: Some(timestamp(l.disbursed_at)),
            paid_off_time: l.paid_off_at.map(timestamp),
        }
    }
}

/// A repayment.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = repayments)]
pub struct RepaymentRow {
    /// Id (also its ledger request id).
    pub id: Uuid,
    /// The loan.
    pub loan_id: Uuid,
    /// The borrower.
    pub borrower_user_id: Uuid,
    /// The account debited.
    pub from_account_id: Uuid,
    /// ISO-4217 code.
    pub currency: String,
    /// Amount.
    pub amount_minor: i64,
    /// Part applied to principal.
    pub principal_part_minor: i64,
    /// Part applied to interest.
    pub interest_part_minor: i64,
    /// Pending, received or declined.
    pub state: i16,
    /// Ledger transfers, interest leg first.
    pub transfer_ids: Vec<Uuid>,
    /// When asked for.
    pub created_at: DateTime<Utc>,
    /// When received.
    pub received_at: Option<DateTime<Utc>>,
}

impl RepaymentRow {
    /// The wire form.
    pub fn to_proto(&self) -> pb::Repayment {
        let c = self.currency.as_str();
        pb::Repayment {
            repayment_id: self.id.to_string(),
            loan_id: self.loan_id.to_string(),
            from_account_id: self.from_account_id.to_string(),
            amount: money(self.amount_minor, c),
            principal_part: money(self.principal_part_minor, c),
            interest_part: money(self.interest_part_minor, c),
            transfer_ids: self.transfer_ids.iter().map(Uuid::to_string).collect(),
            receive_time: Some(timestamp(self.received_at.unwrap_or(self.created_at))),
        }
    }
}

/// An idempotency record.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    /// `field:hash` lines.
    pub fingerprint: String,
    /// Submitted or completed.
    pub state: i16,
    /// What the request created or acted on.
    pub resource_id: Uuid,
    /// Encoded response message.
    pub response: Option<Vec<u8>>,
    /// Recorded error: gRPC code.
    pub error_code: Option<i32>,
    /// Recorded error: message.
    pub error_message: Option<String>,
    /// Recorded error: encoded google.rpc.Status details.
    pub error_details: Option<Vec<u8>>,
}

impl IdempotencyRow {
    /// Whether the outcome is recorded.
    pub fn is_completed(&self) -> bool {
        self.state == KEY_COMPLETED
    }

    /// The recorded outcome: the decoded response or the recorded error.
    pub fn replay<M: prost::Message + Default>(&self) -> Result<M, tonic::Status> {
        if let Some(response) = &self.response {
            return M::decode(response.as_slice()).map_err(|e| bank_server::internal("decoding stored response", e));
        }
        match (self.error_code, &self.error_message) {
            (Some(code), Some(message)) => Err(tonic::Status::with_details(
                tonic::Code::from_i32(code),
                message.clone(),
                self.error_details.clone().unwrap_or_default().into(),
            )),
            _ => Err(bank_server::internal("replaying request", "record without outcome")),
        }
    }
}
