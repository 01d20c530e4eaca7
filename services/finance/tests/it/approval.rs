//! Approval pays the principal exactly once: on a retry, on concurrent
//! approvals, after a crash between the ledger call and the recording of
//! its outcome (healed by a retry or by the background healer), after a
//! ledger outage, and after a ledger decline.

use std::time::Duration;

use bank_proto::bank::finance::v1 as pb;
use bank_proto::bank::transfer::v1 as transfer;
use finance_service::FinanceConfig;
use tonic::Code;

use crate::helpers::*;

const PRINCIPAL: i64 = 250_000;

async fn loan_funding(bank: &TestBank) -> i64 {
    bank.system_balance(transfer::LedgerAccountKind::LoanFunding).await
}

/// What a crash right after the ledger paid out leaves behind: the
/// approval recorded as in flight and the ledger transfer made with the
/// application id as its key, but no loan and the status still SUBMITTED.
async fn crash_after_disbursement(bank: &TestBank, admin: &Member, ready: &Ready) -> String {
    let leg = transfer::InternalTransferLeg {
        from_account: Some(transfer::LedgerAccountRef {
            target: Some(transfer::ledger_account_ref::Target::System(
                transfer::SystemAccountRef {
                    kind: transfer::LedgerAccountKind::LoanFunding as i32,
                    currency: USD.to_owned(),
                },
            )),
        }),
        to_account: Some(transfer::LedgerAccountRef {
            target: Some(transfer::ledger_account_ref::Target::LedgerAccountId(
                ready.account_id.clone(),
            )),
        }),
        amount: Some(money(PRINCIPAL, USD)),
        kind: transfer::TransferKind::LoanDisbursement as i32,
        description: finance_service::DISBURSEMENT_DESCRIPTION.to_owned(),
        reference: ready.application_id.clone(),
    };
    let paid = bank
        .ledger
        .clone()
        .create_internal_transfer(transfer::CreateInternalTransferRequest {
            request_id: ready.application_id.clone(),
            legs: vec![leg],
            on_behalf_of_user_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .transfers
        .remove(0);
    bank.execute(&format!(
        "UPDATE finance.applications SET approval_pending = true, approval_attempt = 1, \
         approval_admin_id = '{}', approval_reason = 'crashed', approval_started_at = now() \
         WHERE id = '{}'",
        admin.user_id, ready.application_id
    ))
    .await;
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
    paid.transfer_id
}

fn approved(response: &pb::DecideApplicationResponse) -> (&pb::Application, &pb::Loan) {
    let application = response.application.as_ref().unwrap();
    assert_eq!(status_of(application), pb::ApplicationStatus::Approved);
    (application, response.loan.as_ref().unwrap())
}

#[tokio::test]
async fn approval_disburses_the_principal_and_creates_the_loan_once() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, PRINCIPAL, 12).await;
    let funding_before = loan_funding(&bank).await;
    let request_id = new_request_id();
    let first = bank
        .decide_with(
            &admin,
            &request_id,
            &ready.application_id,
            pb::Decision::Approve,
            "welcome",
        )
        .await
        .unwrap();
    let (application, loan) = approved(&first);
    assert_eq!(application.loan_id, loan.loan_id);
    assert_eq!(application.history.last().unwrap().note, "welcome");
    assert_eq!(loan.borrower_user_id, ready.member.user_id);
    assert_eq!(loan.option_id, ready.option_id);
    assert_eq!(minor(loan.principal.as_ref()), PRINCIPAL);
    assert_eq!((loan.annual_rate_bps, loan.term_months), (1_200, 12));
    let plan = finance_service::schedule(PRINCIPAL, 1_200, 12).unwrap();
    assert_eq!(minor(loan.installment_amount.as_ref()), plan.level_payment);
    assert_eq!(minor(loan.total_interest.as_ref()), plan.total_interest);
    assert_eq!(minor(loan.total_payable.as_ref()), PRINCIPAL + plan.total_interest);
    assert_eq!(minor(loan.outstanding.as_ref()), PRINCIPAL + plan.total_interest);
    assert_eq!(minor(loan.outstanding_principal.as_ref()), PRINCIPAL);
    assert_eq!(loan.status, pb::LoanStatus::Active as i32);
    assert!(!loan.disbursement_transfer_id.is_empty());
    assert_eq!(minor(loan.next_due_amount.as_ref()), plan.level_payment);

    // The money is in the applicant's ledger balance, out of LOAN_FUNDING.
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
    assert_eq!(loan_funding(&bank).await, funding_before - PRINCIPAL);

    // The schedule: due a month apart from the disbursement date.
    let schedule = bank.schedule(&ready.member, &loan.loan_id).await.unwrap();
    assert_eq!(schedule.installments.len(), 12);
    let disbursed = chrono::DateTime::from_timestamp(loan.disburse_time.unwrap().seconds, 0)
        .unwrap()
        .date_naive();
    let first_due = schedule.installments[0].due_date.unwrap();
    let expected = disbursed.checked_add_months(chrono::Months::new(1)).unwrap();
    assert_eq!(
        (first_due.year, first_due.month, first_due.day),
        (
            chrono::Datelike::year(&expected),
            i32::try_from(chrono::Datelike::month(&expected)).unwrap(),
            i32::try_from(chrono::Datelike::day(&expected)).unwrap()
        )
    );
    assert_eq!(loan.next_due_date, Some(first_due));
    let total: i64 = schedule.installments.iter().map(|i| minor(i.payment.as_ref())).sum();
    assert_eq!(total, minor(loan.total_payable.as_ref()));

    // A retry with the same request id: the same answer, no money.
    let again = bank
        .decide_with(
            &admin,
            &request_id,
            &ready.application_id,
            pb::Decision::Approve,
            "welcome",
        )
        .await
        .unwrap();
    assert_eq!(again, first);
    // Another approval: APPROVED unchanged, same loan, no money.
    let other = bank
        .decide(&admin, &ready.application_id, pb::Decision::Approve, "")
        .await
        .unwrap();
    assert_eq!(approved(&other).1.loan_id, loan.loan_id);
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
    assert_eq!(loan_funding(&bank).await, funding_before - PRINCIPAL);
    assert_eq!(bank.count("SELECT count(*) AS n FROM finance.loans").await, 1);
}

#[tokio::test]
async fn eight_concurrent_approvals_pay_once() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, PRINCIPAL, 24).await;
    let attempts = (0..8).map(|_| bank.decide(&admin, &ready.application_id, pb::Decision::Approve, ""));
    let results = futures::future::join_all(attempts).await;
    let mut loans = Vec::new();
    for result in results {
        let response = result.unwrap();
        loans.push(approved(&response).1.loan_id.clone());
    }
    loans.dedup();
    assert_eq!(loans.len(), 1, "every approval answers with the one loan");
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
    assert_eq!(bank.count("SELECT count(*) AS n FROM finance.loans").await, 1);
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM finance.outbox WHERE event_type = 'EVENT_TYPE_LOAN_DISBURSED'")
            .await,
        1
    );
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM finance.outbox WHERE event_type = 'EVENT_TYPE_APPLICATION_DECIDED'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_retry_after_a_crash_between_ledger_and_recording_pays_once() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, PRINCIPAL, 12).await;
    let transfer_id = crash_after_disbursement(&bank, &admin, &ready).await;
    // While the approval is in flight the application reads as SUBMITTED.
    let read = bank
        .get_application(&ready.member, &ready.application_id)
        .await
        .unwrap();
    assert_eq!(status_of(&read), pb::ApplicationStatus::Submitted);
    let response = bank
        .decide(&admin, &ready.application_id, pb::Decision::Approve, "")
        .await
        .unwrap();
    let (application, loan) = approved(&response);
    assert_eq!(
        loan.disbursement_transfer_id, transfer_id,
        "the ledger replayed the transfer"
    );
    assert_eq!(
        application.history.last().unwrap().note,
        "crashed",
        "the recorded approval finished"
    );
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
}

#[tokio::test]
async fn a_member_change_racing_an_abandoned_approval_finishes_it_first() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, PRINCIPAL, 12).await;
    crash_after_disbursement(&bank, &admin, &ready).await;
    // The withdrawal finds the approval in flight, finishes it (the money
    // already moved) and is then refused: APPROVED is final.
    let status = assert_status(
        bank.withdraw_application(&ready.member, &ready.application_id).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATUS_TRANSITION",
    );
    assert_eq!(
        metadata(&status, "from").as_deref(),
        Some("APPLICATION_STATUS_APPROVED")
    );
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
}

#[tokio::test]
async fn the_healer_finishes_an_abandoned_approval() {
    let bank = spawn_bank_with(Options {
        finance: FinanceConfig {
            heal_interval_ms: 100,
            heal_min_age_ms: 0,
        },
    })
    .await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, PRINCIPAL, 12).await;
    let transfer_id = crash_after_disbursement(&bank, &admin, &ready).await;
    let mut application = None;
    for _ in 0..100 {
        let read = bank
            .get_application(&ready.member, &ready.application_id)
            .await
            .unwrap();
        if status_of(&read) == pb::ApplicationStatus::Approved {
            application = Some(read);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let application = application.expect("the healer approved it");
    let loan = bank.get_loan(&ready.member, &application.loan_id).await.unwrap();
    assert_eq!(loan.disbursement_transfer_id, transfer_id);
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
    assert_eq!(bank.count("SELECT count(*) AS n FROM finance.loans").await, 1);
}

#[tokio::test]
async fn a_ledger_outage_and_a_finance_restart_still_pay_once() {
    let mut bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, PRINCIPAL, 12).await;
    let request_id = new_request_id();
    bank.stop_transfer().await;
    let status = bank
        .decide_with(&admin, &request_id, &ready.application_id, pb::Decision::Approve, "")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM finance.applications WHERE approval_pending")
            .await,
        1,
        "the approval stays in flight"
    );
    // Changes wait for the approval: they cannot finish it without the ledger.
    let status = bank
        .withdraw_application(&ready.member, &ready.application_id)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    // Finance crashes and comes back; the ledger comes back.
    bank.restart_finance().await;
    bank.restart_transfer().await;
    let response = bank
        .decide_with(&admin, &request_id, &ready.application_id, pb::Decision::Approve, "")
        .await
        .unwrap();
    approved(&response);
    let again = bank
        .decide_with(&admin, &request_id, &ready.application_id, pb::Decision::Approve, "")
        .await
        .unwrap();
    assert_eq!(again, response);
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
    assert_eq!(bank.count("SELECT count(*) AS n FROM finance.loans").await, 1);
}

#[tokio::test]
async fn a_ledger_decline_keeps_the_application_submitted_until_a_later_approval() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let ready = bank.ready_application(&admin, PRINCIPAL, 12).await;
    bank.freeze(&admin, &ready.account_id).await;
    let request_id = new_request_id();
    let declined = bank
        .decide_with(&admin, &request_id, &ready.application_id, pb::Decision::Approve, "")
        .await;
    assert_status(declined, Code::FailedPrecondition, "ACCOUNT_FROZEN");
    let read = bank
        .get_application(&ready.member, &ready.application_id)
        .await
        .unwrap();
    assert_eq!(status_of(&read), pb::ApplicationStatus::Submitted);
    assert!(read.loan_id.is_empty());
    assert_eq!(bank.count("SELECT count(*) AS n FROM finance.loans").await, 0);
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM finance.outbox WHERE event_type = 'EVENT_TYPE_APPLICATION_DECIDED'")
            .await,
        0,
        "no decision happened"
    );
    // The same request is answered with the same decline, even once the
    // account is open again.
    bank.unfreeze(&admin, &ready.account_id).await;
    assert_status(
        bank.decide_with(&admin, &request_id, &ready.application_id, pb::Decision::Approve, "")
            .await,
        Code::FailedPrecondition,
        "ACCOUNT_FROZEN",
    );
    // A new approval is a new disbursement attempt, and it pays.
    let response = bank
        .decide(&admin, &ready.application_id, pb::Decision::Approve, "")
        .await
        .unwrap();
    approved(&response);
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
}
