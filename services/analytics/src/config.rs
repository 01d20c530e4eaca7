//! What an operator can tune: how the event consumer reads the streams and
//! the thresholds of the fraud rules. Every value has a default that works
//! for `bank up`, and every one is checked at start-up.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Largest `consumer.batch_size`: entries read per stream per round.
pub const CONSUMER_BATCH_MAX: usize = 1_000;
/// Longest `consumer.block_ms` a read may wait for new entries.
pub const CONSUMER_BLOCK_MAX_MS: u64 = 10_000;
/// Shortest `consumer.claim_min_idle_ms`: below it a slow but live
/// consumer's entries would be claimed away while it works on them.
pub const CLAIM_MIN_IDLE_FLOOR_MS: u64 = 100;
/// Longest `fraud.velocity_window_secs` (one week).
pub const VELOCITY_WINDOW_MAX_SECS: u64 = 7 * 24 * 3600;
/// Longest consumer or group name, in bytes.
const NAME_MAX_LEN: usize = 128;

/// How the consumer reads `<prefix>:events:<producer>`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ConsumerConfig {
    /// Consumer group on every stream; replicas share it and split the work.
    pub group: String,
    /// This consumer's name in the group; empty means `analytics-<random>`,
    /// new for each process (a dead one's entries are claimed by the
    /// others after `claim_min_idle_ms`).
    pub name: String,
    /// Entries read, and entries claimed, per stream per round:
    /// 1..=[`CONSUMER_BATCH_MAX`].
    pub batch_size: usize,
    /// How long one read waits for new entries, in milliseconds:
    /// 1..=[`CONSUMER_BLOCK_MAX_MS`]. Also bounds how late shutdown is noticed.
    pub block_ms: u64,
    /// Entries delivered to a consumer and not acknowledged for this long,
    /// in milliseconds, are claimed by another (the first is presumed dead).
    pub claim_min_idle_ms: u64,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            group: "analytics".to_owned(),
            name: String::new(),
            batch_size: 100,
            block_ms: 1_000,
            claim_min_idle_ms: 30_000,
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

impl ConsumerConfig {
    /// Refuses values outside their documented ranges.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            valid_name(&self.group),
            "consumer.group must be 1..{NAME_MAX_LEN} of [A-Za-z0-9-_.:]"
        );
        anyhow::ensure!(
            self.name.is_empty() || valid_name(&self.name),
            "consumer.name must be empty or 1..{NAME_MAX_LEN} of [A-Za-z0-9-_.:]"
        );
        anyhow::ensure!(
            (1..=CONSUMER_BATCH_MAX).contains(&self.batch_size),
            "consumer.batch_size must be 1..={CONSUMER_BATCH_MAX}"
        );
        anyhow::ensure!(
            (1..=CONSUMER_BLOCK_MAX_MS).contains(&self.block_ms),
            "consumer.block_ms must be 1..={CONSUMER_BLOCK_MAX_MS}"
        );
        anyhow::ensure!(
            self.claim_min_idle_ms >= CLAIM_MIN_IDLE_FLOOR_MS,
            "consumer.claim_min_idle_ms must be at least {CLAIM_MIN_IDLE_FLOOR_MS}"
        );
        Ok(())
    }
}

/// Thresholds of the fraud rules (see `bank.analytics.v1.FraudRule`).
/// Amounts are per ISO-4217 currency in minor units; a currency that is not
/// listed is not checked by that rule (minor units differ too much between
/// currencies for one default to make sense).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct FraudConfig {
    /// RULE_LARGE_AMOUNT: a transfer of more than this is flagged.
    pub large_amount_minor: BTreeMap<String, i64>,
    /// RULE_HIGH_VELOCITY: more than this many transfers debiting one
    /// account within `velocity_window_secs` flag every transfer past it.
    pub velocity_max_transfers: u32,
    /// RULE_HIGH_VELOCITY's sliding window, in seconds.
    pub velocity_window_secs: u64,
    /// RULE_NEW_ACCOUNT_LARGE_TRANSFER: a transfer of more than this from an
    /// account opened less than 24 hours earlier is flagged (lower than
    /// `large_amount_minor`).
    pub new_account_amount_minor: BTreeMap<String, i64>,
}

fn per_currency(amount_minor: i64) -> BTreeMap<String, i64> {
    ["USD", "EUR", "GBP"]
        .into_iter()
        .map(|currency| (currency.to_owned(), amount_minor))
        .collect()
}

impl Default for FraudConfig {
    fn default() -> Self {
        Self {
            // 10,000.00 in a two-decimal currency.
            large_amount_minor: per_currency(1_000_000),
            velocity_max_transfers: 5,
            velocity_window_secs: 600,
            // 1,000.00 in a two-decimal currency.
            new_account_amount_minor: per_currency(100_000),
        }
    }
}

fn valid_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

impl FraudConfig {
    /// Refuses values outside their documented ranges.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (field, thresholds) in [
            ("large_amount_minor", &self.large_amount_minor),
            ("new_account_amount_minor", &self.new_account_amount_minor),
        ] {
            for (currency, amount) in thresholds {
                anyhow::ensure!(
                    valid_currency(currency),
                    "fraud.{field}: {currency:?} is not an ISO-4217 code"
                );
                anyhow::ensure!(*amount > 0, "fraud.{field}.{currency} must be positive");
            }
        }
        anyhow::ensure!(
            self.velocity_max_transfers >= 1,
            "fraud.velocity_max_transfers must be at least 1"
        );
        anyhow::ensure!(
            (1..=VELOCITY_WINDOW_MAX_SECS).contains(&self.velocity_window_secs),
            "fraud.velocity_window_secs must be 1..={VELOCITY_WINDOW_MAX_SECS}"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        ConsumerConfig::default().validate().expect("default consumer");
        FraudConfig::default().validate().expect("default fraud");
        let bad = ConsumerConfig {
            batch_size: 0,
            ..ConsumerConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = ConsumerConfig {
            name: "has space".to_owned(),
            ..ConsumerConfig::default()
        };
        assert!(bad.validate().is_err());
        let mut fraud = FraudConfig::default();
        fraud.large_amount_minor.insert("usd".to_owned(), 5);
        assert!(fraud.validate().is_err());
        let fraud = FraudConfig {
            velocity_window_secs: 0,
            ..FraudConfig::default()
        };
        assert!(fraud.validate().is_err());
    }
}
