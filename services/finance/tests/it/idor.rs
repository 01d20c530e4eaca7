//! A member never reads or acts on another member's applications or loans
//! (one test per id-taking RPC: the answer is NOT_FOUND, as for an id that
//! does not exist, and nothing changes); admin RPCs are refused to members.

use bank_proto::bank::finance::v1 as pb;
use tonic::Code;

use crate::helpers::*;

/// A bank where `victim` has an approved loan and a pending application,
/// and `intruder` is another member with an account of their own.
struct Scene {
    bank: TestBank,
    admin: Member,
    victim: Ready,
    loan: pb::Loan,
    pending: String,
    intruder: Member,
    intruder_account: String,
    option_id: String,
}

async fn scene() -> Scene {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (victim, loan) = bank.loan(&admin, 200_000, 12).await;
    let pending = bank.submit(&victim.member, &victim.account_id, 50_000, 12).await;
    bank.decide(&admin, &pending.application_id, pb::Decision::RequestInfo, "payslips")
        .await
        .unwrap();
    let intruder = bank.member().await;
    let intruder_account = bank.open(&intruder, USD).await.account_id;
    let option_id = bank.option(&admin).await.option_id;
    Scene {
        bank,
        admin,
        victim,
        loan,
        pending: pending.application_id,
        intruder,
        intruder_account,
        option_id,
    }
}

impl Scene {
    async fn unchanged<F: std::future::Future<Output = ()>>(&self, attempt: F) {
        let before = self.bank.dump().await;
        attempt.await;
        assert_eq!(self.bank.dump().await, before, "nothing changed");
    }
}

#[tokio::test]
async fn get_application_of_another_member_is_not_found() {
    let s = scene().await;
    for id in [&s.pending, &s.victim.application_id] {
        assert_status(
            s.bank.get_application(&s.intruder, id).await,
            Code::NotFound,
            "APPLICATION_NOT_FOUND",
        );
    }
    // Admins read every application.
    s.bank.get_application(&s.admin, &s.pending).await.unwrap();
}

#[tokio::test]
async fn select_option_on_another_members_application_is_not_found() {
    let s = scene().await;
    s.unchanged(async {
        assert_status(
            s.bank.select(&s.intruder, &s.pending, &s.option_id).await,
            Code::NotFound,
            "APPLICATION_NOT_FOUND",
        );
    })
    .await;
}

#[tokio::test]
async fn resubmit_of_another_members_application_is_not_found() {
    let s = scene().await;
    s.unchanged(async {
        assert_status(
            s.bank.resubmit(&s.intruder, &s.pending).await,
            Code::NotFound,
            "APPLICATION_NOT_FOUND",
        );
    })
    .await;
}

#[tokio::test]
async fn withdraw_of_another_members_application_is_not_found() {
    let s = scene().await;
    s.unchanged(async {
        assert_status(
            s.bank.withdraw_application(&s.intruder, &s.pending).await,
            Code::NotFound,
            "APPLICATION_NOT_FOUND",
        );
        // Not even an admin withdraws for a member.
        assert_status(
            s.bank.withdraw_application(&s.admin, &s.pending).await,
            Code::NotFound,
            "APPLICATION_NOT_FOUND",
        );
    })
    .await;
}

#[tokio::test]
async fn get_loan_of_another_member_is_not_found() {
    let s = scene().await;
    assert_status(
        s.bank.get_loan(&s.intruder, &s.loan.loan_id).await,
        Code::NotFound,
        "LOAN_NOT_FOUND",
    );
    assert_eq!(
        s.bank.get_loan(&s.admin, &s.loan.loan_id).await.unwrap().loan_id,
        s.loan.loan_id
    );
}

#[tokio::test]
async fn the_schedule_of_another_members_loan_is_not_found() {
    let s = scene().await;
    assert_status(
        s.bank.schedule(&s.intruder, &s.loan.loan_id).await,
        Code::NotFound,
        "LOAN_NOT_FOUND",
    );
    s.bank.schedule(&s.admin, &s.loan.loan_id).await.unwrap();
}

#[tokio::test]
async fn repaying_another_members_loan_or_from_their_account_is_refused() {
    let s = scene().await;
    s.bank.deposit(&s.intruder, &s.intruder_account, 10_000).await;
    s.unchanged(async {
        assert_status(
            s.bank
                .repay(&s.intruder, &s.loan.loan_id, &s.intruder_account, 1_000)
                .await,
            Code::NotFound,
            "LOAN_NOT_FOUND",
        );
        // The borrower cannot pay from someone else's account.
        assert_status(
            s.bank
                .repay(&s.victim.member, &s.loan.loan_id, &s.intruder_account, 1_000)
                .await,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
        );
        // An admin reads loans but repays none but their own.
        assert_status(
            s.bank
                .repay(&s.admin, &s.loan.loan_id, &s.victim.account_id, 1_000)
                .await,
            Code::PermissionDenied,
            "NOT_BORROWER",
        );
    })
    .await;
    assert_eq!(s.bank.balance(&s.intruder, &s.intruder_account).await, 10_000);
}

#[tokio::test]
async fn applying_into_another_members_account_is_not_found() {
    let s = scene().await;
    s.unchanged(async {
        assert_status(
            s.bank
                .try_submit(&s.intruder, submit_request(&s.victim.account_id, 50_000, 12))
                .await,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
        );
    })
    .await;
}

#[tokio::test]
async fn members_list_only_their_own_loans() {
    let s = scene().await;
    let list = |who: &Member, borrower: &str| {
        let mut client = s.bank.finance.clone();
        let request = bearer(
            pb::ListLoansRequest {
                borrower_user_id: borrower.to_owned(),
                ..pb::ListLoansRequest::default()
            },
            &who.token,
        );
        async move { client.list_loans(request).await.map(|r| r.into_inner().loans) }
    };
    assert_status(
        list(&s.intruder, &s.victim.member.user_id).await,
        Code::PermissionDenied,
        "NOT_BORROWER",
    );
    assert!(list(&s.intruder, "").await.unwrap().is_empty());
    let own = list(&s.victim.member, "").await.unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].loan_id, s.loan.loan_id);
    assert_eq!(list(&s.admin, "").await.unwrap().len(), 1);
    assert_eq!(list(&s.admin, &s.victim.member.user_id).await.unwrap().len(), 1);
    assert!(list(&s.admin, &s.intruder.user_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn admin_rpcs_are_refused_to_members() {
    let s = scene().await;
    let member = &s.victim.member;
    s.unchanged(async {
        let denied = |result: Result<(), tonic::Status>| {
            let status = result.unwrap_err();
            assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        };
        denied(
            s.bank
                .try_create_option(member, &new_request_id(), option_template())
                .await
                .map(|_| ()),
        );
        denied(
            s.bank
                .finance
                .clone()
                .update_financing_option(bearer(
                    pb::UpdateFinancingOptionRequest {
                        financing_option: Some(pb::FinancingOption {
                            option_id: s.option_id.clone(),
                            ..option_template()
                        }),
                        update_mask: None,
                    },
                    &member.token,
                ))
                .await
                .map(|_| ()),
        );
        denied(
            s.bank
                .finance
                .clone()
                .list_all_applications(bearer(pb::ListAllApplicationsRequest::default(), &member.token))
                .await
                .map(|_| ()),
        );
        for decision in [pb::Decision::Approve, pb::Decision::Reject, pb::Decision::RequestInfo] {
            denied(
                s.bank
                    .decide(&s.intruder, &s.pending, decision, "reason")
                    .await
                    .map(|_| ()),
            );
        }
    })
    .await;
    // No token at all.
    let status = s
        .bank
        .finance
        .clone()
        .get_dashboard(pb::GetDashboardRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}
