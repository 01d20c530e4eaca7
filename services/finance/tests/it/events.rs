//! Domain events: written to finance.outbox with the change they describe,
//! published in order to the Redis stream, and free of personal data
//! beyond ids.

use std::time::Duration;

use bank_proto::bank::events::v1::{EventType, event::Payload};
use bank_proto::bank::finance::v1 as pb;
use prost::Message;

use crate::helpers::*;

#[tokio::test]
async fn every_change_writes_its_event_and_the_relay_publishes_them_in_order() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let member = bank.member().await;
    let account = bank.open(&member, USD).await;
    let option = bank.option(&admin).await;
    assert!(bank.outbox().await.is_empty(), "creating an option is not an event");
    let purpose = "Secret purpose: surgery for my dog Bella";
    let mut request = submit_request(&account.account_id, 150_000, 12);
    request.purpose = purpose.to_owned();
    let application = bank.try_submit(&member, request).await.unwrap();
    let id = application.application_id.clone();
    bank.select(&member, &id, &option.option_id).await.unwrap();
    let private_reason = "Applicant's salary of 1234 is too low";
    bank.decide(&admin, &id, pb::Decision::RequestInfo, private_reason)
        .await
        .unwrap();
    bank.resubmit(&member, &id).await.unwrap();
    let approved = bank.decide(&admin, &id, pb::Decision::Approve, "ok").await.unwrap();
    let loan = approved.loan.unwrap();
    let repaid = bank
        .repay(&member, &loan.loan_id, &account.account_id, 20_000)
        .await
        .unwrap()
        .repayment
        .unwrap();

    let events = bank.outbox().await;
    let types: Vec<_> = events.iter().map(|e| EventType::try_from(e.r#type).unwrap()).collect();
    assert_eq!(
        types,
        [
            EventType::ApplicationSubmitted,
            EventType::FinancingOptionSelected,
            EventType::ApplicationDecided,
            // The member's resubmission after the request for information.
            EventType::ApplicationStatusChanged,
            EventType::ApplicationDecided,
            EventType::LoanDisbursed,
            EventType::RepaymentReceived,
        ]
    );
    for event in &events {
        assert_eq!(event.producer, "finance");
        assert!(uuid::Uuid::parse_str(&event.event_id).is_ok());
        assert!(event.occur_time.is_some());
    }
    match events[0].payload.as_ref().unwrap() {
        Payload::ApplicationSubmitted(e) => {
            assert_eq!(
                (e.application_id.as_str(), e.applicant_user_id.as_str()),
                (id.as_str(), member.user_id.as_str())
            );
            assert_eq!(e.amount, Some(money(150_000, USD)));
            assert_eq!(e.term_months, 12);
        }
        other => panic!("{other:?}"),
    }
    match events[1].payload.as_ref().unwrap() {
        Payload::FinancingOptionSelected(e) => {
            assert_eq!(e.option_id, option.option_id);
            assert_eq!(e.annual_rate_bps, 1_200);
        }
        other => panic!("{other:?}"),
    }
    match events[3].payload.as_ref().unwrap() {
        Payload::ApplicationStatusChanged(e) => {
            assert_eq!(e.from_status, pb::ApplicationStatus::MoreInfoRequested as i32);
            assert_eq!(e.to_status, pb::ApplicationStatus::Submitted as i32);
            assert_eq!(events[3].actor_user_id, member.user_id);
        }
        other => panic!("{other:?}"),
    }
    match events[4].payload.as_ref().unwrap() {
        Payload::ApplicationDecided(e) => {
            assert_eq!(e.decision, pb::Decision::Approve as i32);
            assert_eq!(e.from_status, pb::ApplicationStatus::Submitted as i32);
            assert_eq!(e.to_status, pb::ApplicationStatus::Approved as i32);
            assert_eq!(e.decided_by_user_id, admin.user_id);
            assert_eq!(events[4].actor_user_id, admin.user_id);
        }
        other => panic!("{other:?}"),
    }
    match events[5].payload.as_ref().unwrap() {
        Payload::LoanDisbursed(e) => {
            assert_eq!(e.loan_id, loan.loan_id);
            assert_eq!(e.transfer_id, loan.disbursement_transfer_id);
            assert_eq!(e.principal, Some(money(150_000, USD)));
            assert_eq!(events[5].aggregate_type, "loan");
        }
        other => panic!("{other:?}"),
    }
    match events[6].payload.as_ref().unwrap() {
        Payload::RepaymentReceived(e) => {
            assert_eq!(e.repayment_id, repaid.repayment_id);
            assert_eq!(e.amount, Some(money(20_000, USD)));
            assert_eq!(
                e.outstanding_after.as_ref().map(|m| m.amount_minor),
                Some(minor(loan.total_payable.as_ref()) - 20_000)
            );
            assert!(!e.paid_off);
        }
        other => panic!("{other:?}"),
    }

    // No personal data beyond ids: no purpose, no reasons, no email.
    for payload in bank.outbox_payloads().await {
        let text = String::from_utf8_lossy(&payload);
        for secret in [purpose, private_reason, member.email.as_str(), "Bella", "salary"] {
            assert!(!text.contains(secret), "{secret:?} leaked into an event");
        }
    }

    // The relay publishes them, in order, to the finance stream.
    let client = redis::Client::open(bank_testkit::redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let stream = finance_service::OUTBOX.stream_key(&bank.redis_prefix);
    let mut published = Vec::new();
    for _ in 0..100 {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&stream)
            .arg("-")
            .arg("+")
            .query_async(&mut redis)
            .await
            .unwrap();
        if reply.ids.len() == events.len() {
            published = reply.ids;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(published.len(), events.len(), "every event published");
    for (entry, event) in published.iter().zip(&events) {
        let event_id: String = entry.get("event_id").unwrap();
        assert_eq!(event_id, event.event_id);
        let bytes: Vec<u8> = entry.get("event").unwrap();
        let decoded = bank_proto::bank::events::v1::Event::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.payload, event.payload);
        assert!(decoded.sequence >= 1);
    }
    let _: () = redis::cmd("DEL").arg(&stream).query_async(&mut redis).await.unwrap();
}

#[tokio::test]
async fn refused_changes_write_no_event() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, 100_000, 12).await;
    let before = bank.outbox().await.len();
    // Illegal transition, self decision, bad input: nothing happened, no event.
    let _ = bank.resubmit(&ready.member, &ready.application_id).await.unwrap_err();
    let _ = bank
        .decide(&admin, &ready.application_id, pb::Decision::Reject, "")
        .await
        .unwrap_err();
    bank.freeze(&admin, &ready.account_id).await;
    let _ = bank
        .decide(&admin, &ready.application_id, pb::Decision::Approve, "")
        .await
        .unwrap_err();
    assert_eq!(bank.outbox().await.len(), before);
}
