//! Malformed input is INVALID_ARGUMENT with a field violation for every
//! problem at once, and nothing is written.

use bank_proto::bank::finance::v1 as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn bad_input_names_every_field_and_writes_nothing() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (ready, loan) = bank.loan(&admin, 100_000, 12).await;
    let member = &ready.member;
    let before = bank.dump().await;

    let status = bank
        .try_submit(
            member,
            pb::SubmitApplicationRequest {
                request_id: "not ok!".to_owned(),
                product_type: 0,
                amount: Some(money(0, "usd")),
                term_months: 481,
                purpose: String::new(),
                disbursement_account_id: "nope".to_owned(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        violations(&status),
        [
            "request_id",
            "product_type",
            "amount",
            "term_months",
            "purpose",
            "disbursement_account_id"
        ]
    );
    let status = bank
        .try_submit(
            member,
            pb::SubmitApplicationRequest {
                amount: Some(money(1_000_000_000_001, USD)),
                purpose: "x".repeat(501),
                ..submit_request(&ready.account_id, 1, 0)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["amount", "term_months", "purpose"]);

    let status = bank.select(member, "x", "").await.unwrap_err();
    assert_eq!(violations(&status), ["application_id", "option_id"]);

    let status = bank
        .decide_with(&admin, "", "x", pb::Decision::Unspecified, "")
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["request_id", "application_id", "decision"]);
    for decision in [pb::Decision::Reject, pb::Decision::RequestInfo] {
        let status = bank
            .decide(&admin, &ready.application_id, decision, "")
            .await
            .unwrap_err();
        assert_eq!(violations(&status), ["reason"], "{decision:?}");
    }
    let status = bank
        .decide(&admin, &ready.application_id, pb::Decision::Reject, &"r".repeat(501))
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["reason"]);

    let status = bank
        .finance
        .clone()
        .resubmit_application(bearer(
            pb::ResubmitApplicationRequest {
                application_id: ready.application_id.clone(),
                note: String::new(),
            },
            &member.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["note"]);
    let status = bank
        .finance
        .clone()
        .withdraw_application(bearer(
            pb::WithdrawApplicationRequest {
                application_id: String::new(),
                note: "n".repeat(501),
            },
            &member.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["application_id", "note"]);

    for amount in [0, -5] {
        let status = bank
            .repay(member, &loan.loan_id, &ready.account_id, amount)
            .await
            .unwrap_err();
        assert_eq!(violations(&status), ["amount"], "{amount}");
    }
    let status = bank
        .finance
        .clone()
        .repay_loan(bearer(
            pb::RepayLoanRequest {
                request_id: "x".repeat(65),
                loan_id: "loan".to_owned(),
                from_account_id: String::new(),
                amount: None,
            },
            &member.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violations(&status),
        ["request_id", "loan_id", "from_account_id", "amount"]
    );

    for status in [
        bank.get_loan(member, "x").await.unwrap_err(),
        bank.schedule(member, "").await.unwrap_err(),
        bank.get_application(member, "1234").await.unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::InvalidArgument);
    }
    let status = bank
        .finance
        .clone()
        .list_my_applications(bearer(
            pb::ListMyApplicationsRequest {
                page_size: -1,
                statuses: vec![0, 99],
                ..pb::ListMyApplicationsRequest::default()
            },
            &member.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["statuses[0]", "statuses[1]", "page_size"]);
    let status = bank
        .finance
        .clone()
        .list_loans(bearer(
            pb::ListLoansRequest {
                page_size: 101,
                status: 7,
                borrower_user_id: "me".to_owned(),
                ..pb::ListLoansRequest::default()
            },
            &member.token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&status), ["borrower_user_id", "status", "page_size"]);

    assert_eq!(bank.dump().await, before, "nothing written");
    // Unknown ids are NOT_FOUND, not INVALID_ARGUMENT.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_status(bank.get_loan(member, &unknown).await, Code::NotFound, "LOAN_NOT_FOUND");
    assert_status(
        bank.get_application(member, &unknown).await,
        Code::NotFound,
        "APPLICATION_NOT_FOUND",
    );
    assert_status(
        bank.decide(&admin, &unknown, pb::Decision::Approve, "").await,
        Code::NotFound,
        "APPLICATION_NOT_FOUND",
    );
}
