//! Every status change of an application: the legal ones change it (with
//! history), the illegal ones are FAILED_PRECONDITION
//! ILLEGAL_STATUS_TRANSITION naming "from" and "to", and change nothing.

use bank_proto::bank::finance::v1 as pb;
use pb::ApplicationStatus as S;
use tonic::{Code, Status};

use crate::helpers::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Act {
    RequestInfo,
    Resubmit,
    Approve,
    Reject,
    Withdraw,
}

impl Act {
    const ALL: [Self; 5] = [
        Self::RequestInfo,
        Self::Resubmit,
        Self::Approve,
        Self::Reject,
        Self::Withdraw,
    ];

    fn target(self) -> S {
        match self {
            Self::RequestInfo => S::MoreInfoRequested,
            Self::Resubmit => S::Submitted,
            Self::Approve => S::Approved,
            Self::Reject => S::Rejected,
            Self::Withdraw => S::Withdrawn,
        }
    }
}

async fn act(bank: &TestBank, admin: &Member, ready: &Ready, action: Act) -> Result<pb::Application, Status> {
    let id = &ready.application_id;
    match action {
        Act::RequestInfo => bank
            .decide(admin, id, pb::Decision::RequestInfo, "need payslips")
            .await
            .map(|r| r.application.unwrap()),
        Act::Approve => bank
            .decide(admin, id, pb::Decision::Approve, "")
            .await
            .map(|r| r.application.unwrap()),
        Act::Reject => bank
            .decide(admin, id, pb::Decision::Reject, "income too low")
            .await
            .map(|r| r.application.unwrap()),
        Act::Resubmit => bank.resubmit(&ready.member, id).await,
        Act::Withdraw => bank.withdraw_application(&ready.member, id).await,
    }
}

/// A fresh application in `status`.
async fn in_status(bank: &TestBank, admin: &Member, status: S) -> Ready {
    let ready = bank.ready_application(admin, 100_000, 12).await;
    let path: &[Act] = match status {
        S::Submitted => &[],
        S::MoreInfoRequested => &[Act::RequestInfo],
        S::Approved => &[Act::Approve],
        S::Rejected => &[Act::Reject],
        S::Withdrawn => &[Act::Withdraw],
        S::Unspecified => unreachable!(),
    };
    for step in path {
        act(bank, admin, &ready, *step).await.unwrap();
    }
    ready
}

fn legal(from: S, action: Act) -> Option<S> {
    match (from, action) {
        (S::Submitted, Act::RequestInfo | Act::Approve | Act::Reject | Act::Withdraw)
        | (S::MoreInfoRequested, Act::Resubmit | Act::Reject | Act::Withdraw) => Some(action.target()),
        // Idempotent no-ops.
        (S::Approved, Act::Approve) | (S::Withdrawn, Act::Withdraw) => Some(from),
        _ => None,
    }
}

#[tokio::test]
async fn every_transition_is_legal_or_refused_as_documented() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    for from in [
        S::Submitted,
        S::MoreInfoRequested,
        S::Approved,
        S::Rejected,
        S::Withdrawn,
    ] {
        for action in Act::ALL {
            let ready = in_status(&bank, &admin, from).await;
            let before = bank
                .get_application(&ready.member, &ready.application_id)
                .await
                .unwrap();
            assert_eq!(status_of(&before), from);
            let result = act(&bank, &admin, &ready, action).await;
            match legal(from, action) {
                Some(to) => {
                    let after = result.unwrap_or_else(|e| panic!("{from:?} {action:?}: {e:?}"));
                    assert_eq!(status_of(&after), to, "{from:?} {action:?}");
                    if to == from {
                        assert_eq!(
                            after.history.len(),
                            before.history.len(),
                            "unchanged: {from:?} {action:?}"
                        );
                    } else {
                        let last = after.history.last().unwrap();
                        assert_eq!((last.from_status, last.to_status), (from as i32, to as i32));
                        assert_eq!(after.history.len(), before.history.len() + 1);
                    }
                }
                None => {
                    let status = assert_status(result, Code::FailedPrecondition, "ILLEGAL_STATUS_TRANSITION");
                    assert_eq!(
                        metadata(&status, "from").as_deref(),
                        Some(from.as_str_name()),
                        "{action:?}"
                    );
                    assert_eq!(
                        metadata(&status, "to").as_deref(),
                        Some(action.target().as_str_name()),
                        "{from:?} {action:?}"
                    );
                    let after = bank
                        .get_application(&ready.member, &ready.application_id)
                        .await
                        .unwrap();
                    assert_eq!(after, before, "{from:?} {action:?}: nothing changed");
                }
            }
        }
    }
}

#[tokio::test]
async fn decisions_carry_reasons_and_a_full_history() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, 100_000, 12).await;
    let id = &ready.application_id;
    let asked = bank
        .decide(&admin, id, pb::Decision::RequestInfo, "need payslips")
        .await
        .unwrap();
    assert!(asked.loan.is_none());
    let asked = asked.application.unwrap();
    assert_eq!(asked.status_reason, "need payslips");
    bank.resubmit(&ready.member, id).await.unwrap();
    let rejected = bank
        .decide(&admin, id, pb::Decision::Reject, "income too low")
        .await
        .unwrap()
        .application
        .unwrap();
    assert_eq!(rejected.status_reason, "income too low");
    let history: Vec<_> = rejected
        .history
        .iter()
        .map(|h| (h.from_status, h.to_status, h.actor_user_id.as_str(), h.note.as_str()))
        .collect();
    let (m, a) = (ready.member.user_id.as_str(), admin.user_id.as_str());
    assert_eq!(
        history,
        [
            (0, S::Submitted as i32, m, ""),
            (S::Submitted as i32, S::MoreInfoRequested as i32, a, "need payslips"),
            (S::MoreInfoRequested as i32, S::Submitted as i32, m, "payslips attached"),
            (S::Submitted as i32, S::Rejected as i32, a, "income too low"),
        ]
    );
}

#[tokio::test]
async fn approval_needs_a_selected_option_and_another_admin() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let member = bank.member().await;
    let account = bank.open(&member, USD).await;
    let application = bank.submit(&member, &account.account_id, 100_000, 12).await;
    assert_status(
        bank.decide(&admin, &application.application_id, pb::Decision::Approve, "")
            .await,
        Code::FailedPrecondition,
        "FINANCING_OPTION_NOT_SELECTED",
    );
    // The admin's own application: no decision of any kind.
    let own_account = bank.open(&admin, USD).await;
    let own = bank.submit(&admin, &own_account.account_id, 100_000, 12).await;
    for decision in [pb::Decision::Approve, pb::Decision::Reject, pb::Decision::RequestInfo] {
        assert_status(
            bank.decide(&admin, &own.application_id, decision, "mine").await,
            Code::PermissionDenied,
            "SELF_DECISION",
        );
    }
    assert_eq!(
        status_of(&bank.get_application(&admin, &own.application_id).await.unwrap()),
        S::Submitted
    );
}

#[tokio::test]
async fn the_same_decision_request_is_answered_once() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, 100_000, 12).await;
    let request_id = new_request_id();
    let first = bank
        .decide_with(
            &admin,
            &request_id,
            &ready.application_id,
            pb::Decision::RequestInfo,
            "payslips",
        )
        .await
        .unwrap();
    bank.resubmit(&ready.member, &ready.application_id).await.unwrap();
    // A retry of the request answers as it did, without a second change.
    let again = bank
        .decide_with(
            &admin,
            &request_id,
            &ready.application_id,
            pb::Decision::RequestInfo,
            "payslips",
        )
        .await
        .unwrap();
    assert_eq!(again, first);
    let now = bank.get_application(&admin, &ready.application_id).await.unwrap();
    assert_eq!(status_of(&now), S::Submitted);
    let status = assert_status(
        bank.decide_with(
            &admin,
            &request_id,
            &ready.application_id,
            pb::Decision::Reject,
            "payslips",
        )
        .await,
        Code::AlreadyExists,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert_eq!(metadata(&status, "field").as_deref(), Some("decision"));
}
