//! GetSummary over date ranges: each number counts what happened inside the
//! range (or, for total users, up to its end), days without activity are
//! zeros, and lists are ordered and limited as the contract says.

use bank_proto::bank::finance::v1::ApplicationStatus;
use bank_proto::bank::transfer::v1::DeclineReason;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn summary_numbers_follow_the_date_range() {
    let mut a = spawn().await;
    let admin = a.admin().await;
    let (u1, u2, u3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (app1, app2, app3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (opt1, opt2) = (Uuid::new_v4(), Uuid::new_v4());
    let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
    for e in [
        registered(u1, at(2025, 1, 1, 9, 0)),
        registered(u2, at(2025, 1, 10, 9, 0)),
        registered(u3, at(2025, 2, 1, 9, 0)),
        logged_in(u1, at(2025, 1, 1, 9, 5)),
        logged_in(u1, at(2025, 1, 1, 18, 0)),
        logged_in(u2, at(2025, 1, 10, 9, 5)),
        logged_in(u3, at(2025, 2, 1, 9, 5)),
        login_failed(None, at(2025, 1, 5, 3, 0)),
        posted(x, y, money(100, "USD"), at(2025, 1, 1, 10, 0)),
        posted(x, y, money(50, "EUR"), at(2025, 1, 1, 11, 0)),
        posted(x, y, money(300, "USD"), at(2025, 1, 10, 10, 0)),
        posted(y, x, money(300, "USD"), at(2025, 1, 10, 23, 59)),
        posted(x, y, money(1_000, "USD"), at(2025, 2, 1, 0, 0)),
        declined(DeclineReason::InsufficientFunds, at(2025, 1, 5, 1, 0)),
        declined(DeclineReason::AccountFrozen, at(2025, 1, 5, 2, 0)),
        declined(DeclineReason::InsufficientFunds, at(2025, 1, 6, 1, 0)),
        declined(DeclineReason::InsufficientFunds, at(2025, 2, 1, 1, 0)),
        submitted(app1, u1, at(2025, 1, 2, 9, 0)),
        submitted(app2, u2, at(2025, 1, 3, 9, 0)),
        decided(app2, u2, ApplicationStatus::Rejected, at(2025, 1, 4, 9, 0)),
        submitted(app3, u3, at(2025, 2, 2, 9, 0)),
        selected(u1, opt1, at(2025, 1, 2, 9, 0)),
        selected(u1, opt1, at(2025, 1, 20, 9, 0)),
        selected(u2, opt1, at(2025, 1, 3, 9, 0)),
        selected(u1, opt2, at(2025, 2, 3, 9, 0)),
        decided(app1, u1, ApplicationStatus::Approved, at(2025, 2, 5, 9, 0)),
    ] {
        a.streams.publish(&e).await;
    }
    a.caught_up().await;

    let jan = a.summary(&admin, day(2025, 1, 1), day(2025, 1, 31)).await;
    assert_eq!((jan.total_users, jan.new_users), (2, 2));
    assert_eq!((jan.total_logins, jan.failed_logins), (3, 1));
    let logins: Vec<(String, i64)> = jan
        .logins_per_user
        .iter()
        .map(|u| (u.user_id.clone(), u.login_count))
        .collect();
    assert_eq!(logins, [(u1.to_string(), 2), (u2.to_string(), 1)]);
    assert_eq!(jan.active_users_by_day.len(), 31, "one row per day, zeros included");
    let active: Vec<(i32, i64)> = jan
        .active_users_by_day
        .iter()
        .filter(|d| d.count > 0)
        .map(|d| (d.date.as_ref().unwrap().day, d.count))
        .collect();
    assert_eq!(active, [(1, 1), (10, 1)]);
    let first_day = jan.active_users_by_day[0].date.as_ref().unwrap();
    assert_eq!((first_day.year, first_day.month, first_day.day), (2025, 1, 1));
    let volumes: Vec<(i32, String, i64, i64)> = jan
        .transfers_by_day
        .iter()
        .map(|v| {
            (
                v.date.as_ref().unwrap().day,
                v.currency.clone(),
                v.count,
                v.volume.as_ref().unwrap().amount_minor,
            )
        })
        .collect();
    assert_eq!(
        volumes,
        [
            (1, "EUR".to_owned(), 1, 50),
            (1, "USD".to_owned(), 1, 100),
            (10, "USD".to_owned(), 2, 600)
        ]
    );
    let declines: Vec<(i32, i64)> = jan.declines_by_reason.iter().map(|d| (d.reason, d.count)).collect();
    assert_eq!(
        declines,
        [
            (DeclineReason::InsufficientFunds as i32, 2),
            (DeclineReason::AccountFrozen as i32, 1)
        ]
    );
    let applications: Vec<(i32, i64)> = jan.applications_by_status.iter().map(|s| (s.status, s.count)).collect();
    assert_eq!(
        applications,
        [
            (ApplicationStatus::Approved as i32, 1),
            (ApplicationStatus::Rejected as i32, 1)
        ],
        "submitted in January, by their current status"
    );
    let selections: Vec<(String, String, i64)> = jan
        .option_selections_per_user
        .iter()
        .map(|s| (s.user_id.clone(), s.option_id.clone(), s.selection_count))
        .collect();
    assert_eq!(
        selections,
        [
            (u1.to_string(), opt1.to_string(), 2),
            (u2.to_string(), opt1.to_string(), 1)
        ]
    );
    assert_eq!(
        jan.data_as_of.as_ref().map(|t| t.seconds),
        Some(at(2025, 2, 5, 9, 0).timestamp())
    );

    let mid = a.summary(&admin, day(2025, 1, 5), day(2025, 1, 31)).await;
    assert_eq!((mid.total_users, mid.new_users), (2, 1));
    assert_eq!(mid.total_logins, 1);
    assert_eq!(mid.active_users_by_day.len(), 27);

    let feb = a.summary(&admin, day(2025, 2, 1), day(2025, 2, 28)).await;
    assert_eq!((feb.total_users, feb.new_users), (3, 1));
    assert_eq!((feb.total_logins, feb.failed_logins), (1, 0));
    assert_eq!(feb.transfers_by_day.len(), 1);
    assert_eq!(feb.transfers_by_day[0].volume.as_ref().unwrap().amount_minor, 1_000);
    assert_eq!(
        feb.applications_by_status
            .iter()
            .map(|s| (s.status, s.count))
            .collect::<Vec<_>>(),
        [(ApplicationStatus::Submitted as i32, 1)]
    );
    assert_eq!(feb.option_selections_per_user.len(), 1);

    // Limits of the per-user lists.
    let top = a
        .try_summary(&admin, Some(date(day(2025, 1, 1))), Some(date(day(2025, 2, 28))), 1)
        .await
        .unwrap();
    assert_eq!(top.logins_per_user.len(), 1);
    assert_eq!(top.logins_per_user[0].user_id, u1.to_string());
    assert_eq!(top.option_selections_per_user.len(), 1);

    // The longest range: 366 days after the start.
    let year = a.summary(&admin, day(2024, 1, 1), day(2025, 1, 1)).await;
    assert_eq!(year.active_users_by_day.len(), 367);
    assert_eq!(year.active_users_by_day.last().unwrap().count, 1);
    assert_eq!((year.total_users, year.new_users), (1, 1));

    // Before anything happened.
    let empty = a.summary(&admin, day(2020, 1, 1), day(2020, 1, 2)).await;
    assert_eq!((empty.total_users, empty.total_logins), (0, 0));
    assert!(empty.transfers_by_day.is_empty() && empty.declines_by_reason.is_empty());
    assert_eq!(empty.active_users_by_day.iter().map(|d| d.count).sum::<i64>(), 0);
}
