//! GetMySpending: a member's money out and in by month and currency over
//! all their accounts, their own only, with transfers between their own
//! accounts counted as neither.

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::transfer::v1::TransferKind;
use chrono::{Datelike, Utc};
use uuid::Uuid;

use crate::helpers::*;

fn row<'a>(months: &'a [pb::MonthlySpending], year: i32, month: i32, currency: &str) -> &'a pb::MonthlySpending {
    months
        .iter()
        .find(|m| {
            let ym = m.month.as_ref().unwrap();
            (ym.year, ym.month, m.currency.as_str()) == (year, month, currency)
        })
        .unwrap_or_else(|| panic!("no row for {year}-{month} {currency} in {months:?}"))
}

fn amounts(m: &pb::MonthlySpending) -> (i64, i64, i64, i64) {
    (
        m.spent.as_ref().unwrap().amount_minor,
        m.spent_count,
        m.received.as_ref().unwrap().amount_minor,
        m.received_count,
    )
}

#[tokio::test]
async fn members_see_their_own_spending_by_month() {
    let mut a = spawn().await;
    let (m1, m2) = (a.member().await, a.member().await);
    let (a1, a2, e1, late) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let b1 = Uuid::new_v4();
    let stranger = Uuid::new_v4();
    let jan = |d, h| at(2025, 1, d, h, 0);
    let kind = |k: TransferKind, from, to, amount, currency: &str, when| {
        posted_kind(k, from, to, money(amount, currency), None, when)
    };
    // A transfer consumed before the opening of its account still counts
    // once the owner is known.
    a.streams
        .publish(&kind(TransferKind::Transfer, late, stranger, 400, "USD", jan(8, 9)))
        .await;
    for e in [
        opened(a1, m1.id(), jan(1, 9)),
        opened(a2, m1.id(), jan(1, 9)),
        opened(e1, m1.id(), jan(1, 9)),
        opened(b1, m2.id(), jan(1, 9)),
        opened(late, m1.id(), jan(1, 9)),
        kind(
            TransferKind::Deposit,
            system_account("CASH", "USD"),
            a1,
            10_000,
            "USD",
            jan(2, 9),
        ),
        kind(TransferKind::Transfer, a1, b1, 2_000, "USD", jan(5, 9)),
        // Between two of m1's own accounts: neither spending nor income.
        kind(TransferKind::Transfer, a1, a2, 3_000, "USD", jan(6, 9)),
        kind(
            TransferKind::CardPurchase,
            a1,
            system_account("MERCHANT_SETTLEMENT", "USD"),
            500,
            "USD",
            jan(7, 9),
        ),
        kind(TransferKind::Transfer, e1, stranger, 900, "EUR", jan(9, 9)),
        kind(
            TransferKind::Withdrawal,
            a2,
            system_account("CASH", "USD"),
            1_000,
            "USD",
            at(2025, 2, 1, 0, 0),
        ),
        kind(TransferKind::Transfer, b1, a1, 700, "USD", at(2025, 2, 28, 23, 59)),
        // Outside the asked months.
        kind(TransferKind::Transfer, a1, b1, 99, "USD", at(2025, 4, 1, 0, 0)),
        // This month, for the default range.
        kind(TransferKind::Transfer, a1, b1, 123, "USD", Utc::now()),
    ] {
        a.streams.publish(&e).await;
    }
    a.caught_up().await;

    let mine = a
        .spending(&m1, Some(month(2025, 1)), Some(month(2025, 3)))
        .await
        .unwrap();
    assert_eq!(mine.months.len(), 3, "{:?}", mine.months);
    let jan_usd = row(&mine.months, 2025, 1, "USD");
    assert_eq!(amounts(jan_usd), (2_900, 3, 10_000, 1));
    let kinds: Vec<(i32, i64, i64)> = jan_usd
        .spent_by_kind
        .iter()
        .map(|k| (k.kind, k.amount.as_ref().unwrap().amount_minor, k.count))
        .collect();
    assert_eq!(
        kinds,
        [
            (TransferKind::Transfer as i32, 2_400, 2),
            (TransferKind::CardPurchase as i32, 500, 1)
        ],
        "largest first"
    );
    assert_eq!(amounts(row(&mine.months, 2025, 1, "EUR")), (900, 1, 0, 0));
    assert_eq!(amounts(row(&mine.months, 2025, 2, "USD")), (1_000, 1, 700, 1));
    let order: Vec<(i32, String)> = mine
        .months
        .iter()
        .map(|m| (m.month.as_ref().unwrap().month, m.currency.clone()))
        .collect();
    assert_eq!(
        order,
        [(1, "EUR".to_owned()), (1, "USD".to_owned()), (2, "USD".to_owned())],
        "oldest first, then by currency"
    );
    assert!(mine.data_as_of.is_some());

    let theirs = a
        .spending(&m2, Some(month(2025, 1)), Some(month(2025, 3)))
        .await
        .unwrap();
    assert_eq!(theirs.months.len(), 2);
    assert_eq!(amounts(row(&theirs.months, 2025, 1, "USD")), (0, 0, 2_000, 1));
    assert_eq!(amounts(row(&theirs.months, 2025, 2, "USD")), (700, 1, 0, 0));

    // The default range ends with the current month.
    let now = Utc::now();
    let recent = a.spending(&m1, None, None).await.unwrap();
    let current = row(&recent.months, now.year(), now.month() as i32, "USD");
    assert_eq!(current.spent.as_ref().unwrap().amount_minor, 123);

    // Someone without accounts has nothing.
    let nobody = a.member().await;
    let empty = a
        .spending(&nobody, Some(month(2025, 1)), Some(month(2025, 3)))
        .await
        .unwrap();
    assert!(empty.months.is_empty());
}
