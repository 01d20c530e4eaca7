//! The fraud rules fire above their thresholds and not at or below them,
//! flag each transfer once per rule, and the flags are listed (filtered,
//! paginated, newest first) and reviewed by admins.

use std::collections::HashSet;

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::transfer::v1::TransferKind;
use chrono::Duration;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

async fn spawn_fraud() -> TestAnalytics {
    spawn_with(Options {
        fraud: test_fraud(),
        ..Options::default()
    })
    .await
}

fn rules_of(flags: &[pb::FlaggedTransfer], transfer: &str) -> Vec<i32> {
    let mut rules: Vec<i32> = flags
        .iter()
        .filter(|f| f.transfer_id == transfer)
        .map(|f| f.rule)
        .collect();
    rules.sort_unstable();
    rules
}

fn transfer_id(event: &bank_proto::bank::events::v1::Event) -> String {
    match &event.payload {
        Some(bank_proto::bank::events::v1::event::Payload::TransferPosted(p)) => p.transfer_id.clone(),
        _ => panic!("not a posted transfer"),
    }
}

#[tokio::test]
async fn a_single_transfer_above_the_threshold_is_flagged() {
    let mut a = spawn_fraud().await;
    let admin = a.admin().await;
    let (member, other) = (Uuid::new_v4(), Uuid::new_v4());
    let t = at(2025, 9, 1, 12, 0);
    let at_threshold = posted(member, other, money(10_000, "USD"), t);
    let above = posted(member, other, money(10_001, "USD"), t + Duration::minutes(20));
    // A deposit debits the bank's cash account: not a member's money leaving.
    let deposit = posted_kind(
        TransferKind::Deposit,
        system_account("CASH", "USD"),
        member,
        money(5_000_000, "USD"),
        None,
        t,
    );
    // No threshold configured for EUR.
    let euros = posted(member, other, money(50_000_000, "EUR"), t + Duration::minutes(40));
    for e in [&at_threshold, &above, &deposit, &euros] {
        a.streams.publish(e).await;
    }
    a.caught_up().await;

    let flags = a.all_flags(&admin).await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = &flags[0];
    assert_eq!(flag.transfer_id, transfer_id(&above));
    assert_eq!(flag.rule, pb::FraudRule::LargeAmount as i32);
    assert!(flag.detail.contains("10001"), "{}", flag.detail);
    assert_eq!(flag.debit_account_id, member.to_string());
    assert_eq!(flag.credit_account_id, other.to_string());
    assert_eq!(flag.amount.as_ref().unwrap().amount_minor, 10_001);
    assert_eq!(
        flag.transfer_time.as_ref().unwrap().seconds,
        (t + Duration::minutes(20)).timestamp()
    );
    assert_eq!(flag.review_status, pb::ReviewStatus::Open as i32);
    assert_eq!(flag.review_outcome, pb::ReviewOutcome::Unspecified as i32);
    assert!(flag.flag_time.is_some() && flag.review_time.is_none());
}

#[tokio::test]
async fn more_than_n_transfers_from_one_account_within_the_window_are_flagged() {
    let mut a = spawn_fraud().await;
    let admin = a.admin().await;
    let t = at(2025, 9, 2, 8, 0);
    let (fast, slow, elsewhere) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    // Five within ten minutes: the fourth and fifth are over the limit of 3.
    let burst: Vec<_> = (0..5)
        .map(|i| posted(fast, elsewhere, money(100, "USD"), t + Duration::minutes(i * 2)))
        .collect();
    // Four, each eleven minutes apart: never more than one in a window.
    let paced: Vec<_> = (0..4)
        .map(|i| posted(slow, elsewhere, money(100, "USD"), t + Duration::minutes(i * 11)))
        .collect();
    for e in burst.iter().chain(&paced) {
        a.streams.publish(e).await;
    }
    a.caught_up().await;

    let flags = a.all_flags(&admin).await;
    let flagged: HashSet<String> = flags.iter().map(|f| f.transfer_id.clone()).collect();
    let expected: HashSet<String> = burst[3..].iter().map(transfer_id).collect();
    assert_eq!(flagged, expected);
    assert!(flags.iter().all(|f| f.rule == pb::FraudRule::HighVelocity as i32));
    let fourth = flags.iter().find(|f| f.transfer_id == transfer_id(&burst[3])).unwrap();
    assert_eq!(fourth.detail, "at least 4 transfers in 10 minutes (limit 3)");
    // The count stops one past the limit: the fifth is flagged the same way.
    let fifth = flags.iter().find(|f| f.transfer_id == transfer_id(&burst[4])).unwrap();
    assert_eq!(fifth.detail, "at least 4 transfers in 10 minutes (limit 3)");
}

#[tokio::test]
async fn a_large_transfer_from_an_account_opened_within_a_day_is_flagged() {
    let mut a = spawn_fraud().await;
    let admin = a.admin().await;
    let owner = Uuid::new_v4();
    let t = at(2025, 9, 3, 9, 0);
    let (young, old, late, payee) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    a.streams.publish(&opened(young, owner, t)).await;
    a.streams.publish(&opened(old, owner, t - Duration::days(2))).await;
    let new_account = posted(young, payee, money(5_000, "USD"), t + Duration::hours(1));
    let small = posted(young, payee, money(1_000, "USD"), t + Duration::hours(2));
    let both = posted(young, payee, money(20_000, "USD"), t + Duration::hours(3));
    let next_day = posted(young, payee, money(5_000, "USD"), t + Duration::hours(25));
    let established = posted(old, payee, money(5_000, "USD"), t + Duration::hours(1));
    for e in [&new_account, &small, &both, &next_day, &established] {
        a.streams.publish(e).await;
    }
    // The transfer stream runs ahead of the account stream: this transfer
    // is consumed before its account's opening.
    let early = posted(late, payee, money(5_000, "USD"), t + Duration::minutes(30));
    a.streams.publish(&early).await;
    a.caught_up().await;
    assert!(rules_of(&a.all_flags(&admin).await, &transfer_id(&early)).is_empty());
    a.streams.publish(&opened(late, owner, t)).await;
    a.caught_up().await;

    let flags = a.all_flags(&admin).await;
    let new_rule = pb::FraudRule::NewAccountLargeTransfer as i32;
    assert_eq!(rules_of(&flags, &transfer_id(&new_account)), [new_rule]);
    assert!(
        rules_of(&flags, &transfer_id(&small)).is_empty(),
        "not above the threshold"
    );
    assert_eq!(
        rules_of(&flags, &transfer_id(&both)),
        [pb::FraudRule::LargeAmount as i32, new_rule],
        "one flag per rule"
    );
    assert!(rules_of(&flags, &transfer_id(&next_day)).is_empty(), "24 hours later");
    assert!(rules_of(&flags, &transfer_id(&established)).is_empty());
    assert_eq!(rules_of(&flags, &transfer_id(&early)), [new_rule], "evaluated late");
    assert_eq!(flags.len(), 4);
}

#[tokio::test]
async fn flags_are_raised_once_listed_paginated_filtered_and_reviewed() {
    let mut a = spawn_fraud().await;
    let admin = a.admin().await;
    let (account, payee) = (Uuid::new_v4(), Uuid::new_v4());
    let t = at(2025, 9, 4, 9, 0);
    let transfers: Vec<_> = (0..5)
        .map(|i| posted(account, payee, money(20_000 + i, "USD"), t + Duration::minutes(20 * i)))
        .collect();
    for e in &transfers {
        a.streams.publish(e).await;
    }
    // The same event again (a republished stream): no second flag.
    a.streams.publish(&transfers[0]).await;
    a.caught_up().await;

    // Pages of two, newest flag first, together every flag exactly once.
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = a
            .list_flags(
                &admin,
                pb::ListFlaggedTransfersRequest {
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        pages += 1;
        assert!(page.flagged_transfers.len() <= 2);
        seen.extend(page.flagged_transfers);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!((pages, seen.len()), (3, 5));
    let keys: Vec<(i64, i32, String)> = seen
        .iter()
        .map(|f| {
            let t = f.flag_time.as_ref().unwrap();
            (t.seconds, t.nanos, f.flag_id.clone())
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(keys, sorted, "newest first");
    assert_eq!(seen.iter().map(|f| &f.flag_id).collect::<HashSet<_>>().len(), 5);

    // A token only works with the filters that issued it.
    let first = a
        .list_flags(
            &admin,
            pb::ListFlaggedTransfersRequest {
                page_size: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let status = a
        .list_flags(
            &admin,
            pb::ListFlaggedTransfersRequest {
                page_size: 2,
                page_token: first.next_page_token,
                rules: vec![pb::FraudRule::LargeAmount as i32],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["page_token"]);

    // Review one.
    let target = seen[0].clone();
    let reviewed = a
        .review(
            &admin,
            &target.flag_id,
            pb::ReviewOutcome::FalsePositive,
            "salary, confirmed by phone",
        )
        .await
        .unwrap();
    assert_eq!(reviewed.review_status, pb::ReviewStatus::Reviewed as i32);
    assert_eq!(reviewed.review_outcome, pb::ReviewOutcome::FalsePositive as i32);
    assert_eq!(reviewed.review_note, "salary, confirmed by phone");
    assert_eq!(reviewed.reviewer_user_id, admin.user_id);
    assert!(reviewed.review_time.is_some());
    // The same review again: unchanged.
    let again = a
        .review(
            &admin,
            &target.flag_id,
            pb::ReviewOutcome::FalsePositive,
            "salary, confirmed by phone",
        )
        .await
        .unwrap();
    assert_eq!(again, reviewed);
    // A different one: refused.
    assert_status(
        a.review(
            &admin,
            &target.flag_id,
            pb::ReviewOutcome::ConfirmedFraud,
            "changed my mind",
        )
        .await,
        Code::FailedPrecondition,
        "FLAG_ALREADY_REVIEWED",
    );
    assert_status(
        a.review(
            &admin,
            &Uuid::new_v4().to_string(),
            pb::ReviewOutcome::FalsePositive,
            "x",
        )
        .await,
        Code::NotFound,
        "FLAG_NOT_FOUND",
    );

    // Filters.
    let filtered = |request: pb::ListFlaggedTransfersRequest| {
        let a = &a;
        let admin = &admin;
        async move { a.list_flags(admin, request).await.unwrap().flagged_transfers }
    };
    let reviewed_only = filtered(pb::ListFlaggedTransfersRequest {
        review_statuses: vec![pb::ReviewStatus::Reviewed as i32],
        ..Default::default()
    })
    .await;
    assert_eq!(reviewed_only.len(), 1);
    assert_eq!(reviewed_only[0].flag_id, target.flag_id);
    let open = filtered(pb::ListFlaggedTransfersRequest {
        review_statuses: vec![pb::ReviewStatus::Open as i32],
        ..Default::default()
    })
    .await;
    assert_eq!(open.len(), 4);
    let velocity = filtered(pb::ListFlaggedTransfersRequest {
        rules: vec![pb::FraudRule::HighVelocity as i32],
        ..Default::default()
    })
    .await;
    assert!(velocity.is_empty());
    let by_credit = filtered(pb::ListFlaggedTransfersRequest {
        account_id: payee.to_string(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_credit.len(), 5);
    let unrelated = filtered(pb::ListFlaggedTransfersRequest {
        account_id: Uuid::new_v4().to_string(),
        ..Default::default()
    })
    .await;
    assert!(unrelated.is_empty());
    let newest = seen[0].flag_time.unwrap();
    let before_newest = filtered(pb::ListFlaggedTransfersRequest {
        end_time: Some(newest),
        ..Default::default()
    })
    .await;
    assert!(before_newest.iter().all(|f| f.flag_id != seen[0].flag_id));
    let from_newest = filtered(pb::ListFlaggedTransfersRequest {
        start_time: Some(newest),
        ..Default::default()
    })
    .await;
    assert!(from_newest.iter().any(|f| f.flag_id == seen[0].flag_id));
    assert_eq!(before_newest.len() + from_newest.len(), 5);
}
