//! The fraud rules over posted transfers, as pure functions of the
//! transfer and the facts the store looked up (the debit account's opening
//! time, its transfers in the window). The store decides when to evaluate
//! them and records each raised flag once per (transfer, rule).
//!
//! The rules watch money leaving a member's account: a transfer that
//! debits one of the bank's system accounts (cash for deposits, loan
//! funding for disbursements, ...) is never flagged, since those are moved
//! by the bank's own processes and would flag every deposit and loan.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::FraudConfig;
use crate::events::Posted;

/// RULE_NEW_ACCOUNT_LARGE_TRANSFER: an account younger than this is new.
pub const NEW_ACCOUNT_AGE_HOURS: i64 = 24;

/// The system ledger account kinds (bank.transfer.v1.LedgerAccountKind
/// names without prefix).
const SYSTEM_KINDS: [&str; 4] = ["CASH", "MERCHANT_SETTLEMENT", "LOAN_FUNDING", "INTEREST_INCOME"];

/// A fraud rule (bank.analytics.v1.FraudRule numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// One transfer above the per-currency threshold.
    LargeAmount = 1,
    /// Too many transfers from one account within the window.
    HighVelocity = 2,
    /// A large transfer from an account opened less than 24 hours earlier.
    NewAccountLargeTransfer = 3,
}

impl Rule {
    /// The stored and wire number.
    pub fn code(self) -> i16 {
        self as i16
    }
}

/// A flag a rule raised on a transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raised {
    /// The rule.
    pub rule: Rule,
    /// Human-readable explanation.
    pub detail: String,
}

/// The id every service computes for the system account of `kind` in
/// `currency`: UUIDv5 of `https://bank.local/system/<KIND>/<CURRENCY>` in
/// the URL namespace (see bank.transfer.v1.LedgerAccountKind).
fn system_account_id(kind: &str, currency: &str) -> Uuid {
    let name = format!("https://bank.local/system/{kind}/{currency}");
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
}

/// Whether `account` is one of the bank's system accounts in `currency`.
pub fn is_system_account(account: Uuid, currency: &str) -> bool {
    SYSTEM_KINDS
        .iter()
        .any(|kind| system_account_id(kind, currency) == account)
}

fn duration_text(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs % 3600 == 0 {
        plural(secs / 3600, "hour")
    } else if secs % 60 == 0 {
        plural(secs / 60, "minute")
    } else {
        plural(secs, "second")
    }
}

/// The configured rules.
#[derive(Clone, Debug)]
pub struct FraudRules {
    large_amount_minor: BTreeMap<String, i64>,
    velocity_max_transfers: i64,
    velocity_window_secs: i64,
    new_account_amount_minor: BTreeMap<String, i64>,
}

impl FraudRules {
    /// The rules of a (validated) configuration.
    pub fn from_config(config: &FraudConfig) -> anyhow::Result<Self> {
        config.validate()?;
        Ok(Self {
            large_amount_minor: config.large_amount_minor.clone(),
            velocity_max_transfers: i64::from(config.velocity_max_transfers),
            velocity_window_secs: i64::try_from(config.velocity_window_secs)?,
            new_account_amount_minor: config.new_account_amount_minor.clone(),
        })
    }

    /// Whether the rules look at `transfer` at all (it debits a member's
    /// account, not a system account).
    pub fn watches(&self, transfer: &Posted) -> bool {
        !is_system_account(transfer.debit_account_id, &transfer.currency)
    }

    /// RULE_HIGH_VELOCITY's window.
    pub fn velocity_window(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.velocity_window_secs)
    }

    /// RULE_LARGE_AMOUNT.
    pub fn large_amount(&self, transfer: &Posted) -> Option<Raised> {
        let threshold = *self.large_amount_minor.get(&transfer.currency)?;
        (transfer.amount_minor > threshold).then(|| Raised {
            rule: Rule::LargeAmount,
            detail: format!(
                "amount {} {} above the threshold of {} (minor units)",
                transfer.amount_minor, transfer.currency, threshold
            ),
        })
    }

    /// RULE_HIGH_VELOCITY, given how many transfers (this one included)
    /// debited the account within the window ending at this one.
    pub fn high_velocity(&self, recent_transfers: i64) -> Option<Raised> {
        (recent_transfers > self.velocity_max_transfers).then(|| Raised {
            rule: Rule::HighVelocity,
            // The store counts at most `velocity_count_cap()` transfers.
            detail: format!(
                "at least {recent_transfers} transfers in {} (limit {})",
                duration_text(self.velocity_window_secs),
                self.velocity_max_transfers
            ),
        })
    }

    /// How many recent transfers the store needs to count at most for
    /// [`FraudRules::high_velocity`]: one past the limit.
    pub fn velocity_count_cap(&self) -> i64 {
        self.velocity_max_transfers.saturating_add(1)
    }

    /// RULE_NEW_ACCOUNT_LARGE_TRANSFER, for a transfer posted at
    /// `posted_at` from an account opened at `opened_at`.
    pub fn new_account(&self, transfer: &Posted, posted_at: DateTime<Utc>, opened_at: DateTime<Utc>) -> Option<Raised> {
        let threshold = *self.new_account_amount_minor.get(&transfer.currency)?;
        let age = posted_at - opened_at;
        (transfer.amount_minor > threshold && age < chrono::Duration::hours(NEW_ACCOUNT_AGE_HOURS)).then(|| {
            let minutes = age.num_minutes().max(0);
            Raised {
                rule: Rule::NewAccountLargeTransfer,
                detail: format!(
                    "amount {} {} above the new-account threshold of {} (minor units), {} h {} min after the account was opened",
                    transfer.amount_minor,
                    transfer.currency,
                    threshold,
                    minutes / 60,
                    minutes % 60
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> FraudRules {
        FraudRules::from_config(&FraudConfig::default()).expect("defaults")
    }

    fn transfer(amount_minor: i64, currency: &str) -> Posted {
        Posted {
            transfer_id: Uuid::new_v4(),
            kind: 1,
            debit_account_id: Uuid::new_v4(),
            credit_account_id: Uuid::new_v4(),
            amount_minor,
            currency: currency.to_owned(),
            initiator: None,
        }
    }

    #[test]
    fn thresholds_are_strict_and_per_currency() {
        let rules = rules();
        assert!(rules.large_amount(&transfer(1_000_000, "USD")).is_none());
        assert_eq!(
            rules.large_amount(&transfer(1_000_001, "USD")).map(|r| r.rule),
            Some(Rule::LargeAmount)
        );
        assert!(
            rules.large_amount(&transfer(i64::MAX, "JPY")).is_none(),
            "unlisted currency"
        );
        assert!(rules.high_velocity(5).is_none());
        assert_eq!(
            rules.high_velocity(6).map(|r| r.detail),
            Some("at least 6 transfers in 10 minutes (limit 5)".to_owned())
        );
    }

    #[test]
    fn new_accounts_are_young_for_24_hours() {
        let rules = rules();
        let opened = Utc::now();
        let t = transfer(100_001, "EUR");
        assert!(
            rules
                .new_account(&t, opened + chrono::Duration::hours(23), opened)
                .is_some()
        );
        assert!(
            rules
                .new_account(&t, opened + chrono::Duration::hours(24), opened)
                .is_none()
        );
        assert!(rules.new_account(&transfer(100_000, "EUR"), opened, opened).is_none());
    }

    #[test]
    fn system_accounts_are_not_watched() {
        let rules = rules();
        let mut deposit = transfer(5_000_000, "USD");
        deposit.debit_account_id = system_account_id("CASH", "USD");
        assert!(!rules.watches(&deposit));
        // The documented example of bank.transfer.v1.LedgerAccountKind.
        assert_eq!(
            system_account_id("CASH", "USD"),
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://bank.local/system/CASH/USD")
        );
        assert!(rules.watches(&transfer(1, "USD")));
    }
}
