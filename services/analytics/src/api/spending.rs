//! GetMySpending: the caller's own money in and out by month. Only the
//! caller's data: the user id comes from the verified token, never from
//! the request.

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::common::v1::Money;
use bank_server::FieldViolations;
use chrono::{Datelike, Months, NaiveDate, NaiveTime, Utc};
use tonic::{Request, Status};

use super::{AppState, parse_month, parsed, store_error, year_month};
use crate::events::timestamp;
use crate::store::{SpendingRow, saturate};

/// Longest range: `end_month` at most this many months after `start_month`.
pub const SPENDING_MONTHS_MAX: i32 = 24;
/// Months before `end_month` that an unset `start_month` starts.
const SPENDING_DEFAULT_MONTHS_BACK: u32 = 11;

fn month_index(first_day: NaiveDate) -> i32 {
    first_day.year() * 12 + i32::try_from(first_day.month0()).unwrap_or(0)
}

fn money(amount_minor: i64, currency: &str) -> Money {
    Money {
        amount_minor,
        currency: currency.to_owned(),
    }
}

/// Folds rows (ordered by month, currency, kind) into one message per
/// month and currency.
fn fold(rows: Vec<SpendingRow>) -> Vec<pb::MonthlySpending> {
    #[derive(Default)]
    struct Acc {
        spent: i128,
        received: i128,
        spent_count: i64,
        received_count: i64,
        kinds: Vec<pb::KindTotal>,
    }
    let mut out: Vec<pb::MonthlySpending> = Vec::new();
    let mut current: Option<(NaiveDate, String, Acc)> = None;
    let flush = |out: &mut Vec<pb::MonthlySpending>, (month, currency, mut acc): (NaiveDate, String, Acc)| {
        acc.kinds.sort_by(|a, b| {
            let amount = |k: &pb::KindTotal| k.amount.as_ref().map_or(0, |m| m.amount_minor);
            amount(b).cmp(&amount(a)).then(a.kind.cmp(&b.kind))
        });
        out.push(pb::MonthlySpending {
            month: Some(year_month(month)),
            spent: Some(money(saturate(acc.spent), &currency)),
            received: Some(money(saturate(acc.received), &currency)),
            spent_count: acc.spent_count,
            received_count: acc.received_count,
            spent_by_kind: acc.kinds,
            currency,
        });
    };
    for row in rows {
        let same = current
            .as_ref()
            .is_some_and(|(month, currency, _)| *month == row.month && *currency == row.currency);
        if !same && let Some(done) = current.take() {
            flush(&mut out, done);
        }
        let (_, _, acc) = current.get_or_insert_with(|| (row.month, row.currency.clone(), Acc::default()));
        if row.outgoing {
            acc.spent += i128::from(row.amount);
            acc.spent_count += row.count;
            acc.kinds.push(pb::KindTotal {
                kind: row.kind,
                amount: Some(money(row.amount, &row.currency)),
                count: row.count,
            });
        } else {
            acc.received += i128::from(row.amount);
            acc.received_count += row.count;
        }
    }
    if let Some(done) = current.take() {
        flush(&mut out, done);
    }
    out
}

impl AppState {
    pub(super) async fn get_my_spending(
        &self,
        request: Request<pb::GetMySpendingRequest>,
    ) -> Result<pb::GetMySpendingResponse, Status> {
        let user = bank_authn::caller(&request)?.user_id;
        let req = request.into_inner();
        let today = Utc::now().date_naive();
        let this_month = today.with_day(1).unwrap_or(today);
        let mut violations = FieldViolations::new();
        let end = match req.end_month.as_ref() {
            Some(month) => violations.check("end_month", parse_month(month)),
            None => Some(this_month),
        };
        let start = match (req.start_month.as_ref(), end) {
            (Some(month), _) => violations.check("start_month", parse_month(month)),
            (None, Some(end)) => Some(
                end.checked_sub_months(Months::new(SPENDING_DEFAULT_MONTHS_BACK))
                    .unwrap_or(end),
            ),
            (None, None) => None,
        };
        if let (Some(start), Some(end)) = (start, end) {
            let span = month_index(end) - month_index(start);
            if span < 0 {
                violations.add("end_month", "must not be before start_month");
            } else if span > SPENDING_MONTHS_MAX {
                violations.add(
                    "end_month",
                    format!("must be at most {SPENDING_MONTHS_MAX} months after start_month"),
                );
            }
        }
        violations.into_result()?;
        let (start, end) = (parsed(start, "spending")?, parsed(end, "spending")?);
        let from = start.and_time(NaiveTime::MIN).and_utc();
        let until = end
            .checked_add_months(Months::new(1))
            .unwrap_or(end)
            .and_time(NaiveTime::MIN)
            .and_utc();
        let rows = self
            .store
            .spending(user, from, until)
            .await
            .map_err(|e| store_error("reading spending", e))?;
        let data_as_of = self
            .store
            .data_as_of()
            .await
            .map_err(|e| store_error("reading spending", e))?;
        Ok(pb::GetMySpendingResponse {
            months: fold(rows),
            data_as_of: data_as_of.map(timestamp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(month: (i32, u32), currency: &str, kind: i32, outgoing: bool, amount: i64) -> SpendingRow {
        SpendingRow {
            month: NaiveDate::from_ymd_opt(month.0, month.1, 1).expect("date"),
            currency: currency.to_owned(),
            kind,
            outgoing,
            amount,
            count: 1,
        }
    }

    #[test]
    fn rows_fold_per_month_and_currency_with_kinds_largest_first() {
        let months = fold(vec![
            row((2025, 1), "EUR", 1, true, 100),
            row((2025, 1), "EUR", 2, false, 700),
            row((2025, 1), "EUR", 4, true, 300),
            row((2025, 1), "USD", 1, true, 5),
            row((2025, 2), "EUR", 3, true, i64::MAX),
            row((2025, 2), "EUR", 4, true, 1),
        ]);
        assert_eq!(months.len(), 3);
        let jan = &months[0];
        assert_eq!(
            (jan.currency.as_str(), jan.spent_count, jan.received_count),
            ("EUR", 2, 1)
        );
        assert_eq!(jan.spent.as_ref().map(|m| m.amount_minor), Some(400));
        assert_eq!(jan.received.as_ref().map(|m| m.amount_minor), Some(700));
        assert_eq!(jan.spent_by_kind.iter().map(|k| k.kind).collect::<Vec<_>>(), [4, 1]);
        assert_eq!(months[1].currency, "USD");
        assert_eq!(
            months[2].spent.as_ref().map(|m| m.amount_minor),
            Some(i64::MAX),
            "saturates"
        );
    }
}
