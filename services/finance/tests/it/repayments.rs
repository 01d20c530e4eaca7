//! Repayments move money through the ledger (principal to LOAN_FUNDING,
//! interest to INTEREST_INCOME), update the schedule and the outstanding
//! amount, refuse overpayment, and change nothing when the ledger declines.

use bank_proto::bank::finance::v1 as pb;
use bank_proto::bank::transfer::v1 as transfer;
use tonic::Code;

use crate::helpers::*;

const PRINCIPAL: i64 = 120_000;

async fn income(bank: &TestBank) -> (i64, i64) {
    (
        bank.system_balance(transfer::LedgerAccountKind::LoanFunding).await,
        bank.system_balance(transfer::LedgerAccountKind::InterestIncome).await,
    )
}

#[tokio::test]
async fn a_repayment_pays_interest_first_and_updates_schedule_and_balances() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (ready, loan) = bank.loan(&admin, PRINCIPAL, 12).await;
    let plan = finance_service::schedule(PRINCIPAL, 1_200, 12).unwrap();
    let first = plan.installments[0];
    let (funding_before, interest_before) = income(&bank).await;

    let request_id = new_request_id();
    let paid = bank
        .repay_with(
            &ready.member,
            &request_id,
            &loan.loan_id,
            &ready.account_id,
            first.payment,
        )
        .await
        .unwrap();
    let repayment = paid.repayment.clone().unwrap();
    assert_eq!(minor(repayment.amount.as_ref()), first.payment);
    assert_eq!(minor(repayment.interest_part.as_ref()), first.interest);
    assert_eq!(minor(repayment.principal_part.as_ref()), first.principal);
    assert_eq!(repayment.transfer_ids.len(), 2, "one transfer per non-zero part");
    let after = paid.loan.clone().unwrap();
    assert_eq!(minor(after.amount_paid.as_ref()), first.payment);
    assert_eq!(
        minor(after.outstanding.as_ref()),
        minor(loan.total_payable.as_ref()) - first.payment
    );
    assert_eq!(minor(after.outstanding_principal.as_ref()), PRINCIPAL - first.principal);
    assert_eq!(minor(after.next_due_amount.as_ref()), plan.installments[1].payment);

    // The ledger moved it: out of the member's account, into the system accounts.
    assert_eq!(
        bank.balance(&ready.member, &ready.account_id).await,
        PRINCIPAL - first.payment
    );
    let (funding, interest) = income(&bank).await;
    assert_eq!(funding - funding_before, first.principal);
    assert_eq!(interest - interest_before, first.interest);

    // A small payment goes to the next installment's interest first.
    let small = bank
        .repay(&ready.member, &loan.loan_id, &ready.account_id, 100)
        .await
        .unwrap();
    let small_part = small.repayment.unwrap();
    assert_eq!(
        minor(small_part.interest_part.as_ref()),
        100.min(plan.installments[1].interest)
    );
    let schedule = bank.schedule(&ready.member, &loan.loan_id).await.unwrap();
    assert_eq!(schedule.installments[0].status, pb::InstallmentStatus::Paid as i32);
    assert_eq!(
        schedule.installments[1].status,
        pb::InstallmentStatus::PartiallyPaid as i32
    );
    assert_eq!(minor(schedule.installments[1].paid.as_ref()), 100);
    assert_eq!(schedule.installments[2].status, pb::InstallmentStatus::Unpaid as i32);
    assert_eq!(schedule.repayments.len(), 2);
    assert_eq!(schedule.repayments[0], repayment);

    // The same request again: the same answer, no money.
    let again = bank
        .repay_with(
            &ready.member,
            &request_id,
            &loan.loan_id,
            &ready.account_id,
            first.payment,
        )
        .await
        .unwrap();
    assert_eq!(again, paid);
    assert_eq!(
        bank.balance(&ready.member, &ready.account_id).await,
        PRINCIPAL - first.payment - 100
    );
    let status = assert_status(
        bank.repay_with(&ready.member, &request_id, &loan.loan_id, &ready.account_id, 5)
            .await,
        Code::AlreadyExists,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert_eq!(metadata(&status, "field").as_deref(), Some("amount"));
}

#[tokio::test]
async fn overpayment_is_refused_and_paying_everything_pays_the_loan_off() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (ready, loan) = bank.loan(&admin, PRINCIPAL, 6).await;
    let owed = minor(loan.outstanding.as_ref());
    bank.deposit(&ready.member, &ready.account_id, owed).await;
    let before = bank.dump().await;
    let status = assert_status(
        bank.repay(&ready.member, &loan.loan_id, &ready.account_id, owed + 1)
            .await,
        Code::FailedPrecondition,
        "OVERPAYMENT",
    );
    assert_eq!(metadata(&status, "outstanding_minor"), Some(owed.to_string()));
    assert_eq!(bank.dump().await, before, "nothing written");

    let paid = bank
        .repay(&ready.member, &loan.loan_id, &ready.account_id, owed)
        .await
        .unwrap();
    let after = paid.loan.unwrap();
    assert_eq!(after.status, pb::LoanStatus::PaidOff as i32);
    assert_eq!(minor(after.outstanding.as_ref()), 0);
    assert_eq!(minor(after.outstanding_principal.as_ref()), 0);
    assert!(after.paid_off_time.is_some());
    assert!(after.next_due_date.is_none() && after.next_due_amount.is_none());
    let schedule = bank.schedule(&ready.member, &loan.loan_id).await.unwrap();
    assert!(
        schedule
            .installments
            .iter()
            .all(|i| i.status == pb::InstallmentStatus::Paid as i32 && i.paid == i.payment)
    );
    assert_status(
        bank.repay(&ready.member, &loan.loan_id, &ready.account_id, 1).await,
        Code::FailedPrecondition,
        "LOAN_PAID_OFF",
    );
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL);
    let dashboard = bank
        .finance
        .clone()
        .get_dashboard(bearer(pb::GetDashboardRequest {}, &ready.member.token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dashboard.active_loan_count, 0);
    assert!(dashboard.outstanding_principal.is_empty());
}

#[tokio::test]
async fn a_repayment_without_the_funds_is_declined_and_changes_nothing() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (ready, loan) = bank.loan(&admin, PRINCIPAL, 12).await;
    bank.withdraw(&ready.member, &ready.account_id, PRINCIPAL - 50).await;
    let installment = minor(loan.next_due_amount.as_ref());
    let schedule_before = bank.schedule(&ready.member, &loan.loan_id).await.unwrap();
    let request_id = new_request_id();
    let declined = bank
        .repay_with(
            &ready.member,
            &request_id,
            &loan.loan_id,
            &ready.account_id,
            installment,
        )
        .await;
    assert_status(declined, Code::FailedPrecondition, "INSUFFICIENT_FUNDS");
    assert_eq!(
        bank.schedule(&ready.member, &loan.loan_id).await.unwrap(),
        schedule_before,
        "loan, installments and repayments unchanged"
    );
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, 50);
    assert_eq!(
        bank.count("SELECT count(*) AS n FROM finance.outbox WHERE event_type = 'EVENT_TYPE_REPAYMENT_RECEIVED'")
            .await,
        0
    );
    // The same request gets the same decline, even with money now there.
    bank.deposit(&ready.member, &ready.account_id, installment).await;
    assert_status(
        bank.repay_with(
            &ready.member,
            &request_id,
            &loan.loan_id,
            &ready.account_id,
            installment,
        )
        .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_FUNDS",
    );
    // A new request pays.
    bank.repay(&ready.member, &loan.loan_id, &ready.account_id, installment)
        .await
        .unwrap();
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, 50);
}

#[tokio::test]
async fn repayments_must_match_the_loan_currency() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (ready, loan) = bank.loan(&admin, PRINCIPAL, 12).await;
    let euros = bank.open(&ready.member, "EUR").await;
    assert_status(
        bank.repay(&ready.member, &loan.loan_id, &euros.account_id, 100).await,
        Code::FailedPrecondition,
        "CURRENCY_MISMATCH",
    );
    let wrong_currency = bank
        .finance
        .clone()
        .repay_loan(bearer(
            pb::RepayLoanRequest {
                request_id: new_request_id(),
                loan_id: loan.loan_id.clone(),
                from_account_id: ready.account_id.clone(),
                amount: Some(money(100, "EUR")),
            },
            &ready.member.token,
        ))
        .await;
    assert_status(wrong_currency, Code::FailedPrecondition, "CURRENCY_MISMATCH");
}

#[tokio::test]
async fn concurrent_repayments_are_applied_one_at_a_time() {
    let bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (ready, loan) = bank.loan(&admin, PRINCIPAL, 12).await;
    let owed = minor(loan.outstanding.as_ref());
    bank.deposit(&ready.member, &ready.account_id, owed).await;
    let part = owed / 4;
    let attempts = (0..5).map(|_| bank.repay(&ready.member, &loan.loan_id, &ready.account_id, part));
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 4, "{results:?}");
    for failed in results.into_iter().filter(Result::is_err) {
        assert_status(failed, Code::FailedPrecondition, "OVERPAYMENT");
    }
    let after = bank.get_loan(&ready.member, &loan.loan_id).await.unwrap();
    assert_eq!(minor(after.amount_paid.as_ref()), 4 * part);
    assert_eq!(minor(after.outstanding.as_ref()), owed - 4 * part);
    assert_eq!(
        bank.balance(&ready.member, &ready.account_id).await,
        PRINCIPAL + owed - 4 * part
    );
}

#[tokio::test]
async fn a_repayment_interrupted_by_a_ledger_outage_finishes_on_retry_once() {
    let mut bank = spawn_bank().await;
    let admin = bank.admin().await;
    let (ready, loan) = bank.loan(&admin, PRINCIPAL, 12).await;
    let request_id = new_request_id();
    bank.stop_transfer().await;
    let status = bank
        .repay_with(&ready.member, &request_id, &loan.loan_id, &ready.account_id, 1_000)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    bank.restart_transfer().await;
    // Another repayment waits for (and finishes) the one in flight first.
    bank.repay(&ready.member, &loan.loan_id, &ready.account_id, 500)
        .await
        .unwrap();
    let retried = bank
        .repay_with(&ready.member, &request_id, &loan.loan_id, &ready.account_id, 1_000)
        .await
        .unwrap();
    assert_eq!(minor(retried.repayment.unwrap().amount.as_ref()), 1_000);
    let after = bank.get_loan(&ready.member, &loan.loan_id).await.unwrap();
    assert_eq!(minor(after.amount_paid.as_ref()), 1_500);
    assert_eq!(bank.balance(&ready.member, &ready.account_id).await, PRINCIPAL - 1_500);
}
