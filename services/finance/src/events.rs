//! Finance's domain events, appended to `finance.outbox` in the transaction
//! of the change they describe. They carry ids, enums and amounts only: no
//! purpose text and no decision reason (free text about a member stays in
//! this service), and nothing about a member but their user id.

use bank_outbox::{Outbox, event};
use bank_proto::bank::events::v1::{
    ApplicationDecided, ApplicationStatusChanged, ApplicationSubmitted, Event, EventType, FinancingOptionSelected,
    LoanDisbursed, RepaymentReceived, event::Payload,
};
use bank_proto::bank::finance::v1 as pb;
use uuid::Uuid;

use crate::domain::Status;
use crate::rows::{ApplicationRow, LoanRow, RepaymentRow, money};

/// The producer name and the stream suffix.
pub const PRODUCER: &str = "finance";
/// Finance's outbox.
pub const OUTBOX: Outbox = Outbox::new("finance.outbox", PRODUCER);

/// A member submitted `app`.
pub fn submitted(app: &ApplicationRow) -> Event {
    event(
        PRODUCER,
        EventType::ApplicationSubmitted,
        "application",
        app.id,
        Some(app.applicant_user_id),
        Payload::ApplicationSubmitted(ApplicationSubmitted {
            application_id: app.id.to_string(),
            applicant_user_id: app.applicant_user_id.to_string(),
            product_type: i32::from(app.product_type),
            amount: money(app.amount_minor, &app.currency),
            term_months: app.term_months,
        }),
    )
}

/// `admin` decided `app` (`decision`), moving it `from` -> `to`.
pub fn decided(app: &ApplicationRow, admin: Uuid, decision: pb::Decision, from: Status, to: Status) -> Event {
    event(
        PRODUCER,
        EventType::ApplicationDecided,
        "application",
        app.id,
        Some(admin),
        Payload::ApplicationDecided(ApplicationDecided {
            application_id: app.id.to_string(),
            applicant_user_id: app.applicant_user_id.to_string(),
            decision: decision as i32,
            from_status: from.to_proto() as i32,
            to_status: to.to_proto() as i32,
            reason: String::new(),
            decided_by_user_id: admin.to_string(),
        }),
    )
}

/// The applicant of `app` moved it `from` -> `to` (resubmit, withdraw).
pub fn status_changed(app: &ApplicationRow, from: Status, to: Status) -> Event {
    event(
        PRODUCER,
        EventType::ApplicationStatusChanged,
        "application",
        app.id,
        Some(app.applicant_user_id),
        Payload::ApplicationStatusChanged(ApplicationStatusChanged {
            application_id: app.id.to_string(),
            applicant_user_id: app.applicant_user_id.to_string(),
            from_status: from.to_proto() as i32,
            to_status: to.to_proto() as i32,
        }),
    )
}

/// The applicant of `app` selected option `option_id` of `product_type` at
/// `rate_bps`.
pub fn option_selected(app: &ApplicationRow, option_id: Uuid, product_type: i16, rate_bps: i32) -> Event {
    event(
        PRODUCER,
        EventType::FinancingOptionSelected,
        "application",
        app.id,
        Some(app.applicant_user_id),
        Payload::FinancingOptionSelected(FinancingOptionSelected {
            application_id: app.id.to_string(),
            applicant_user_id: app.applicant_user_id.to_string(),
            option_id: option_id.to_string(),
            product_type: i32::from(product_type),
            annual_rate_bps: rate_bps,
        }),
    )
}

/// `loan` was paid out (approved by `admin`).
pub fn disbursed(loan: &LoanRow, admin: Uuid) -> Event {
    event(
        PRODUCER,
        EventType::LoanDisbursed,
        "loan",
        loan.id,
        Some(admin),
        Payload::LoanDisbursed(LoanDisbursed {
            loan_id: loan.id.to_string(),
            application_id: loan.application_id.to_string(),
            borrower_user_id: loan.borrower_user_id.to_string(),
            principal: money(loan.principal_minor, &loan.currency),
            annual_rate_bps: loan.annual_rate_bps,
            term_months: loan.term_months,
            disbursement_account_id: loan.disbursement_account_id.to_string(),
            transfer_id: loan.disbursement_transfer_id.to_string(),
        }),
    )
}

/// `repayment` was received; `loan` is the loan after it.
pub fn repaid(repayment: &RepaymentRow, loan: &LoanRow) -> Event {
    event(
        PRODUCER,
        EventType::RepaymentReceived,
        "loan",
        loan.id,
        Some(repayment.borrower_user_id),
        Payload::RepaymentReceived(RepaymentReceived {
            repayment_id: repayment.id.to_string(),
            loan_id: loan.id.to_string(),
            borrower_user_id: repayment.borrower_user_id.to_string(),
            from_account_id: repayment.from_account_id.to_string(),
            amount: money(repayment.amount_minor, &repayment.currency),
            principal_part: money(repayment.principal_part_minor, &repayment.currency),
            interest_part: money(repayment.interest_part_minor, &repayment.currency),
            outstanding_after: money(loan.outstanding(), &loan.currency),
            paid_off: loan.is_paid_off(),
        }),
    )
}
