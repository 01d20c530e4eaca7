//! Bad input is INVALID_ARGUMENT with a google.rpc.BadRequest naming every
//! offending field at once.

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::common::v1::CalendarDate;
use bank_proto::bank::events::v1::EventType;

use crate::helpers::*;

#[tokio::test]
async fn bad_input_is_invalid_argument_naming_the_fields() {
    let a = spawn().await;
    let admin = a.admin().await;
    let member = a.member().await;
    let d = |y, m, dd| {
        Some(CalendarDate {
            year: y,
            month: m,
            day: dd,
        })
    };

    // GetSummary.
    let missing = a.try_summary(&admin, None, None, 0).await.unwrap_err();
    assert_eq!(violations(&missing), ["start_date", "end_date"]);
    let impossible = a
        .try_summary(&admin, d(2025, 2, 30), d(1969, 1, 1), 0)
        .await
        .unwrap_err();
    assert_eq!(violations(&impossible), ["start_date", "end_date"]);
    let backwards = a
        .try_summary(&admin, d(2025, 2, 1), d(2025, 1, 31), 0)
        .await
        .unwrap_err();
    assert_eq!(violations(&backwards), ["end_date"]);
    let too_long = a
        .try_summary(&admin, d(2024, 1, 1), d(2025, 1, 2), 0)
        .await
        .unwrap_err();
    assert_eq!(violations(&too_long), ["end_date"]);
    let limits = a
        .try_summary(&admin, d(2025, 1, 1), d(2025, 1, 2), 1_001)
        .await
        .unwrap_err();
    assert_eq!(violations(&limits), ["top_users_limit"]);
    let negative = a
        .try_summary(&admin, d(2025, 1, 1), d(2025, 1, 2), -1)
        .await
        .unwrap_err();
    assert_eq!(violations(&negative), ["top_users_limit"]);

    // ListFlaggedTransfers.
    let list = a
        .list_flags(
            &admin,
            pb::ListFlaggedTransfersRequest {
                page_size: 501,
                page_token: "not a token".to_owned(),
                review_statuses: vec![0],
                rules: vec![7],
                account_id: "nope".to_owned(),
                start_time: Some(prost_types::Timestamp { seconds: 100, nanos: 0 }),
                end_time: Some(prost_types::Timestamp { seconds: 50, nanos: 0 }),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        violations(&list),
        [
            "review_statuses",
            "rules",
            "account_id",
            "start_time",
            "page_size",
            "page_token"
        ]
    );
    let negative = a
        .list_flags(
            &admin,
            pb::ListFlaggedTransfersRequest {
                page_size: -1,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(violations(&negative), ["page_size"]);

    // ReviewFlaggedTransfer.
    let review = a
        .review(&admin, "", pb::ReviewOutcome::Unspecified, "")
        .await
        .unwrap_err();
    assert_eq!(violations(&review), ["flag_id", "outcome", "note"]);
    let long = a
        .review(
            &admin,
            "3f1c1e0e-8a8b-4b6f-9d1e-000000000000",
            pb::ReviewOutcome::ConfirmedFraud,
            &"n".repeat(1_001),
        )
        .await
        .unwrap_err();
    assert_eq!(violations(&long), ["note"]);
    let bad_id = a
        .review(&admin, "flag-1", pb::ReviewOutcome::ConfirmedFraud, "   ")
        .await
        .unwrap_err();
    assert_eq!(violations(&bad_id), ["flag_id", "note"]);

    // GetMySpending.
    let months = a
        .spending(&member, Some(month(2025, 13)), Some(month(1969, 1)))
        .await
        .unwrap_err();
    assert_eq!(violations(&months), ["end_month", "start_month"]);
    let backwards = a
        .spending(&member, Some(month(2025, 5)), Some(month(2025, 4)))
        .await
        .unwrap_err();
    assert_eq!(violations(&backwards), ["end_month"]);
    let too_long = a
        .spending(&member, Some(month(2023, 1)), Some(month(2025, 2)))
        .await
        .unwrap_err();
    assert_eq!(violations(&too_long), ["end_month"]);
    a.spending(&member, Some(month(2023, 1)), Some(month(2025, 1)))
        .await
        .expect("24 months after the start is the longest range");

    // WatchEvents.
    let watch = a.watch(&admin, &[EventType::Unspecified], 1_001).await.unwrap_err();
    assert_eq!(violations(&watch), ["replay_last", "event_types"]);
    let negative = a.watch(&admin, &[], -1).await.unwrap_err();
    assert_eq!(violations(&negative), ["replay_last"]);
}
