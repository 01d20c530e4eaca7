//! CheckIntegrity's answer: stored columns versus columns recomputed from
//! the transfers, double entry per currency, and overdue reservations.

use std::collections::BTreeMap;

use bank_proto::bank::common::v1::Money;
use bank_proto::bank::transfer::v1 as pb;

use crate::convert::timestamp;
use crate::store::{IntegrityReport, IntegrityRow};

/// Most inconsistent accounts listed in one answer.
const MISMATCHES_LISTED_MAX: usize = 1_000;

fn money(minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        amount_minor: minor,
        currency: currency.to_owned(),
    })
}

fn balance(id: &str, currency: &str, dp: i64, cp: i64, dpend: i64, cpend: i64) -> pb::Balance {
    pb::Balance {
        account_id: id.to_owned(),
        currency: currency.to_owned(),
        posted: money(cp - dp, currency),
        pending_debits: money(dpend, currency),
        pending_credits: money(cpend, currency),
        available: money(cp - dp - dpend, currency),
        debits_posted: money(dp, currency),
        credits_posted: money(cp, currency),
        read_time: None,
    }
}

fn account(row: &IntegrityRow) -> pb::AccountIntegrity {
    let id = row.id.to_string();
    pb::AccountIntegrity {
        account_id: id.clone(),
        kind: i32::from(row.kind),
        stored: Some(balance(
            &id,
            &row.currency,
            row.stored_dp,
            row.stored_cp,
            row.stored_dpend,
            row.stored_cpend,
        )),
        recomputed: Some(balance(&id, &row.currency, row.dp, row.cp, row.dpend, row.cpend)),
        consistent: row.consistent(),
    }
}

/// The response for `report`; `single` when one account was asked for.
pub fn response(report: &IntegrityReport, single: bool) -> pb::CheckIntegrityResponse {
    let mismatches: Vec<&IntegrityRow> = report.rows.iter().filter(|r| !r.consistent()).collect();
    let mut totals: BTreeMap<&str, (i128, i128)> = BTreeMap::new();
    for row in &report.rows {
        let entry = totals.entry(row.currency.as_str()).or_default();
        entry.0 += i128::from(row.stored_dp);
        entry.1 += i128::from(row.stored_cp);
    }
    let totals: Vec<pb::CurrencyTotals> = if single {
        Vec::new()
    } else {
        totals
            .into_iter()
            .map(|(currency, (debits, credits))| pb::CurrencyTotals {
                currency: currency.to_owned(),
                debits_posted: money(i64::try_from(debits).unwrap_or(i64::MAX), currency),
                credits_posted: money(i64::try_from(credits).unwrap_or(i64::MAX), currency),
                balanced: debits == credits,
            })
            .collect()
    };
    let accounts: Vec<pb::AccountIntegrity> = if single {
        report.rows.iter().map(account).collect()
    } else {
        mismatches
            .iter()
            .take(MISMATCHES_LISTED_MAX)
            .map(|r| account(r))
            .collect()
    };
    let consistent = mismatches.is_empty() && totals.iter().all(|t| t.balanced) && report.overdue_pending == 0;
    pb::CheckIntegrityResponse {
        consistent,
        accounts_checked: i64::try_from(report.rows.len()).unwrap_or(i64::MAX),
        entries_checked: report.rows.iter().map(|r| r.entries).sum::<i64>(),
        accounts,
        mismatch_count: i64::try_from(mismatches.len()).unwrap_or(i64::MAX),
        totals,
        overdue_pending_count: report.overdue_pending,
        check_time: Some(timestamp(report.checked_at)),
    }
}
