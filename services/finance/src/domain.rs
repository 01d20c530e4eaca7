//! Validated domain values: what a handler works with after parsing the wire
//! input. Constructors validate; fields stay private. Also the application
//! state machine, the one place that says which status change is legal.

use bank_proto::bank::common::v1::Money;
use bank_proto::bank::finance::v1 as pb;

/// Longest request id (AIP-155 idempotency key), in characters.
pub const REQUEST_ID_MAX_CHARS: usize = 64;
/// Largest principal of an application or option, in minor units.
pub const AMOUNT_MAX_MINOR: i64 = 1_000_000_000_000;
/// Longest financing option name, in characters.
pub const OPTION_NAME_MAX_CHARS: usize = 100;
/// Longest financing option description, in characters.
pub const OPTION_DESCRIPTION_MAX_CHARS: usize = 2_000;
/// Highest annual rate, in basis points (100 %).
pub const RATE_MAX_BPS: i32 = 10_000;
/// Longest term, in months (40 years).
pub const TERM_MAX_MONTHS: i32 = 480;
/// Longest purpose of an application, in characters.
pub const PURPOSE_MAX_CHARS: usize = 500;
/// Longest reason of a decision, in characters.
pub const DECISION_REASON_MAX_CHARS: usize = 500;
/// Longest note of a resubmission, in characters.
pub const RESUBMIT_NOTE_MAX_CHARS: usize = 2_000;
/// Longest note of a withdrawal, in characters.
pub const WITHDRAW_NOTE_MAX_CHARS: usize = 500;

/// A client-chosen idempotency key: 1..64 characters from `[A-Za-z0-9_-]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Validates `value`.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("is required".to_owned());
        }
        if value.len() > REQUEST_ID_MAX_CHARS
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "must be 1..{REQUEST_ID_MAX_CHARS} characters from [A-Za-z0-9_-]"
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO-4217 alphabetic code: three upper-case ASCII letters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(String);

impl Currency {
    /// Validates the format.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be an ISO-4217 code: three upper-case letters".to_owned())
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A positive amount of at most [`AMOUNT_MAX_MINOR`] minor units in one
/// currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

impl Amount {
    /// Validates a wire amount: present, 1..=[`AMOUNT_MAX_MINOR`], ISO code.
    pub fn parse(value: Option<&Money>) -> Result<Self, String> {
        let money = value.ok_or_else(|| "is required".to_owned())?;
        let currency = Currency::parse(&money.currency).map_err(|e| format!("currency {e}"))?;
        if !(1..=AMOUNT_MAX_MINOR).contains(&money.amount_minor) {
            return Err(format!("amount_minor must be 1..{AMOUNT_MAX_MINOR}"));
        }
        Ok(Self {
            minor: money.amount_minor,
            currency,
        })
    }

    /// Minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> &Currency {
        &self.currency
    }
}

/// `value` when it has `min..=max` characters.
pub fn bounded_text(value: &str, min: usize, max: usize) -> Result<String, String> {
    let chars = value.chars().count();
    if chars < min {
        return Err(if min == 1 {
            "is required".to_owned()
        } else {
            format!("must have at least {min} characters")
        });
    }
    if chars > max {
        return Err(format!("must have at most {max} characters"));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("must not contain control characters".to_owned());
    }
    Ok(value.to_owned())
}

/// A product type other than UNSPECIFIED, as its stored number.
pub fn product_type(value: i32) -> Result<i16, String> {
    match pb::ProductType::try_from(value) {
        Ok(pb::ProductType::Unspecified) | Err(_) => Err("must be a ProductType other than UNSPECIFIED".to_owned()),
        Ok(kind) => i16::try_from(kind as i32).map_err(|_| "is out of range".to_owned()),
    }
}

/// An application's status (bank.finance.v1.ApplicationStatus numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for a decision.
    Submitted,
    /// An admin asked for more information.
    MoreInfoRequested,
    /// Approved, disbursed, loan created. Final.
    Approved,
    /// Rejected. Final.
    Rejected,
    /// Withdrawn by the applicant. Final.
    Withdrawn,
}

impl Status {
    /// Every status, in enum order.
    pub const ALL: [Self; 5] = [
        Self::Submitted,
        Self::MoreInfoRequested,
        Self::Approved,
        Self::Rejected,
        Self::Withdrawn,
    ];

    /// The stored value (the enum number).
    pub fn code(self) -> i16 {
        match self {
            Self::Submitted => 1,
            Self::MoreInfoRequested => 2,
            Self::Approved => 3,
            Self::Rejected => 4,
            Self::Withdrawn => 5,
        }
    }

    /// From the stored value.
    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// From the wire; UNSPECIFIED and unknown numbers are `None`.
    pub fn from_proto(value: i32) -> Option<Self> {
        i16::try_from(value).ok().and_then(Self::from_code)
    }

    /// To the wire.
    pub fn to_proto(self) -> pb::ApplicationStatus {
        match self {
            Self::Submitted => pb::ApplicationStatus::Submitted,
            Self::MoreInfoRequested => pb::ApplicationStatus::MoreInfoRequested,
            Self::Approved => pb::ApplicationStatus::Approved,
            Self::Rejected => pb::ApplicationStatus::Rejected,
            Self::Withdrawn => pb::ApplicationStatus::Withdrawn,
        }
    }

    /// Whether nothing can change it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Approved | Self::Rejected | Self::Withdrawn)
    }

    /// The enum value name, for error metadata.
    pub fn name(self) -> &'static str {
        self.to_proto().as_str_name()
    }
}

/// What someone does to an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Admin: DECISION_REQUEST_INFO.
    RequestInfo,
    /// Applicant: ResubmitApplication.
    Resubmit,
    /// Admin: DECISION_APPROVE.
    Approve,
    /// Admin: DECISION_REJECT.
    Reject,
    /// Applicant: WithdrawApplication.
    Withdraw,
}

impl Action {
    /// The status the action leads to.
    pub fn target(self) -> Status {
        match self {
            Self::RequestInfo => Status::MoreInfoRequested,
            Self::Resubmit => Status::Submitted,
            Self::Approve => Status::Approved,
            Self::Reject => Status::Rejected,
            Self::Withdraw => Status::Withdrawn,
        }
    }
}

/// What the state machine allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Change to this status.
    To(Status),
    /// Already there; answer with the application as it is (APPROVE on
    /// APPROVED, withdraw on WITHDRAWN).
    Unchanged,
}

/// An illegal status change: from `from` by an action leading to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Illegal {
    /// The current status.
    pub from: Status,
    /// The status the action leads to.
    pub to: Status,
}

/// The state machine of bank.finance.v1.FinanceService:
/// SUBMITTED -> MORE_INFO_REQUESTED | APPROVED | REJECTED | WITHDRAWN;
/// MORE_INFO_REQUESTED -> SUBMITTED | REJECTED | WITHDRAWN; the rest final.
pub fn transition(from: Status, action: Action) -> Result<Transition, Illegal> {
    use Status::{Approved, MoreInfoRequested, Submitted, Withdrawn};
    let to = action.target();
    let legal = match action {
        Action::RequestInfo | Action::Approve => from == Submitted,
        Action::Resubmit => from == MoreInfoRequested,
        Action::Reject | Action::Withdraw => matches!(from, Submitted | MoreInfoRequested),
    };
    if legal {
        return Ok(Transition::To(to));
    }
    match (from, action) {
        (Approved, Action::Approve) | (Withdrawn, Action::Withdraw) => Ok(Transition::Unchanged),
        _ => Err(Illegal { from, to }),
    }
}

/// A loan's status (bank.finance.v1.LoanStatus numbers).
pub mod loan_status {
    /// Disbursed, with an outstanding amount.
    pub const ACTIVE: i16 = 1;
    /// Every installment paid.
    pub const PAID_OFF: i16 = 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine_allows_exactly_the_documented_changes() {
        use Action::*;
        use Status::*;
        let legal = [
            (Submitted, RequestInfo, MoreInfoRequested),
            (MoreInfoRequested, Resubmit, Submitted),
            (Submitted, Approve, Approved),
            (Submitted, Reject, Rejected),
            (MoreInfoRequested, Reject, Rejected),
            (Submitted, Withdraw, Withdrawn),
            (MoreInfoRequested, Withdraw, Withdrawn),
        ];
        let unchanged = [(Approved, Approve), (Withdrawn, Withdraw)];
        for from in Status::ALL {
            for action in [RequestInfo, Resubmit, Approve, Reject, Withdraw] {
                let got = transition(from, action);
                if let Some((_, _, to)) = legal.iter().find(|(f, a, _)| *f == from && *a == action) {
                    assert_eq!(got, Ok(Transition::To(*to)), "{from:?} {action:?}");
                } else if unchanged.contains(&(from, action)) {
                    assert_eq!(got, Ok(Transition::Unchanged), "{from:?} {action:?}");
                } else {
                    assert_eq!(
                        got,
                        Err(Illegal {
                            from,
                            to: action.target()
                        }),
                        "{from:?} {action:?}"
                    );
                }
            }
        }
        for status in [Approved, Rejected, Withdrawn] {
            assert!(status.is_final());
        }
    }

    #[test]
    fn inputs_are_validated() {
        assert!(RequestId::parse("a-b_C9").is_ok());
        assert!(RequestId::parse("").is_err());
        assert!(RequestId::parse("has space").is_err());
        assert!(RequestId::parse(&"x".repeat(65)).is_err());
        assert!(Currency::parse("usd").is_err());
        let money = |minor, currency: &str| Money {
            amount_minor: minor,
            currency: currency.to_owned(),
        };
        assert!(Amount::parse(Some(&money(1, "USD"))).is_ok());
        assert!(Amount::parse(Some(&money(0, "USD"))).is_err());
        assert!(Amount::parse(Some(&money(AMOUNT_MAX_MINOR + 1, "USD"))).is_err());
        assert!(Amount::parse(None).is_err());
        assert!(bounded_text("", 1, 5).is_err());
        assert!(bounded_text("abcdef", 1, 5).is_err());
        assert!(bounded_text("ab\u{0}", 0, 5).is_err());
        assert_eq!(product_type(2), Ok(2));
        assert!(product_type(0).is_err());
        assert!(product_type(99).is_err());
    }
}
