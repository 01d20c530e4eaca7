"""The admin flow through the gateway: the bootstrap admin (printed by
`bank up`, password in <certs>/admin.password) creates a financing option, a
member applies and selects it, the admin approves, the principal reaches the
member's balance, and the admin reads the analytics summary."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

import grpc
import pytest

from bank.analytics.v1 import analytics_pb2
from bank.auth.v1 import auth_pb2
from bank.common.v1 import common_pb2
from bank.finance.v1 import finance_pb2
from bank.transfer.v1 import transfer_pb2
from bank_sdk import BankClient, new_request_id

from conftest import PASSWORD, unique_email
from helpers import open_checking, posted, usd

PRINCIPAL_MINOR = 5_000_00
TERM_MONTHS = 24
# Analytics consumes events asynchronously (outbox -> Redis stream -> consumer).
ANALYTICS_WAIT_SECS = 60
ANALYTICS_POLL_SECS = 0.5


@dataclass
class ApprovedLoan:
    member: BankClient
    member_id: str
    account_id: str
    option: finance_pb2.FinancingOption
    application: finance_pb2.Application
    loan: finance_pb2.Loan


@pytest.fixture(scope="module")
def approved_loan(gateway, mesh):
    admin = BankClient.insecure(gateway)
    member = BankClient.insecure(gateway)
    try:
        admin.login(mesh.admin_email, mesh.admin_password)
        assert auth_pb2.ROLE_ADMIN in admin.auth.Me(auth_pb2.MeRequest()).user.roles

        option = admin.finance.CreateFinancingOption(
            finance_pb2.CreateFinancingOptionRequest(
                request_id=new_request_id(),
                financing_option=finance_pb2.FinancingOption(
                    name="Personal loan 12-36",
                    description="pysdk interop",
                    product_type=finance_pb2.PRODUCT_TYPE_PERSONAL,
                    currency="USD",
                    annual_rate_bps=650,
                    min_term_months=12,
                    max_term_months=36,
                    min_amount=usd(1_000_00),
                    max_amount=usd(50_000_00),
                    active=True,
                ),
            )
        ).financing_option
        assert option.option_id

        email = unique_email("borrower")
        member_id = member.auth.SignUp(auth_pb2.SignUpRequest(email=email, password=PASSWORD)).user.id
        member.login(email, PASSWORD)
        account = open_checking(member, "loan payout")

        application = member.finance.SubmitApplication(
            finance_pb2.SubmitApplicationRequest(
                request_id=new_request_id(),
                product_type=finance_pb2.PRODUCT_TYPE_PERSONAL,
                amount=usd(PRINCIPAL_MINOR),
                term_months=TERM_MONTHS,
                purpose="a used car",
                disbursement_account_id=account.account_id,
            )
        ).application
        assert application.status == finance_pb2.APPLICATION_STATUS_SUBMITTED

        offered = member.finance.ListFinancingOptions(finance_pb2.ListFinancingOptionsRequest(currency="USD"))
        assert option.option_id in [o.option_id for o in offered.financing_options]
        selected = member.finance.SelectFinancingOption(
            finance_pb2.SelectFinancingOptionRequest(
                application_id=application.application_id, option_id=option.option_id
            )
        )
        assert selected.application.selection.option_id == option.option_id
        assert len(selected.projected_schedule) == TERM_MONTHS
        assert sum(i.principal.amount_minor for i in selected.projected_schedule) == PRINCIPAL_MINOR

        # A member cannot decide, not even their own application.
        with pytest.raises(grpc.RpcError) as refused:
            member.finance.DecideApplication(
                finance_pb2.DecideApplicationRequest(
                    request_id=new_request_id(),
                    application_id=application.application_id,
                    decision=finance_pb2.DECISION_APPROVE,
                )
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

        queue = admin.finance.ListAllApplications(finance_pb2.ListAllApplicationsRequest())
        assert application.application_id in [a.application_id for a in queue.applications]
        decided = admin.finance.DecideApplication(
            finance_pb2.DecideApplicationRequest(
                request_id=new_request_id(),
                application_id=application.application_id,
                decision=finance_pb2.DECISION_APPROVE,
            )
        )
        yield ApprovedLoan(member, member_id, account.account_id, option, decided.application, decided.loan)
    finally:
        admin.close()
        member.close()


def test_approval_disburses_the_principal(approved_loan: ApprovedLoan):
    application, loan, member = approved_loan.application, approved_loan.loan, approved_loan.member
    assert application.status == finance_pb2.APPLICATION_STATUS_APPROVED
    assert application.loan_id == loan.loan_id
    assert loan.principal.amount_minor == PRINCIPAL_MINOR
    assert loan.status == finance_pb2.LOAN_STATUS_ACTIVE
    assert loan.disbursement_account_id == approved_loan.account_id

    assert posted(member, approved_loan.account_id) == PRINCIPAL_MINOR
    disbursement = member.transfers.GetTransfer(
        transfer_pb2.GetTransferRequest(transfer_id=loan.disbursement_transfer_id)
    ).transfer
    assert disbursement.kind == transfer_pb2.TRANSFER_KIND_LOAN_DISBURSEMENT
    assert disbursement.amount.amount_minor == PRINCIPAL_MINOR

    mine = member.finance.GetLoan(finance_pb2.GetLoanRequest(loan_id=loan.loan_id)).loan
    assert mine.borrower_user_id == approved_loan.member_id
    schedule = member.finance.GetRepaymentSchedule(finance_pb2.GetRepaymentScheduleRequest(loan_id=loan.loan_id))
    assert len(schedule.installments) == TERM_MONTHS


def test_analytics_summary(approved_loan: ApprovedLoan, admin: BankClient):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    request = analytics_pb2.GetSummaryRequest(
        start_date=common_pb2.CalendarDate(year=today.year, month=today.month, day=1),
        end_date=common_pb2.CalendarDate(year=today.year, month=today.month, day=today.day),
    )
    # Members may not read it.
    with pytest.raises(grpc.RpcError) as refused:
        approved_loan.member.analytics.GetSummary(request)
    if refused.value.code() == grpc.StatusCode.UNIMPLEMENTED:
        pytest.skip("AnalyticsService.GetSummary is not implemented yet")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    def seen(summary: analytics_pb2.GetSummaryResponse) -> bool:
        approved = {c.status: c.count for c in summary.applications_by_status}.get(
            finance_pb2.APPLICATION_STATUS_APPROVED, 0
        )
        selections = {(s.user_id, s.option_id) for s in summary.option_selections_per_user}
        # Each producer (auth, transfer, finance) has its own stream: wait for all three.
        usd_volume = sum(v.volume.amount_minor for v in summary.transfers_by_day if v.currency == "USD")
        return (
            approved >= 1
            and (approved_loan.member_id, approved_loan.option.option_id) in selections
            and usd_volume >= PRINCIPAL_MINOR
            # the bootstrap admin and the borrower at least
            and summary.total_users >= 2
            and summary.total_logins >= 2
        )

    deadline = time.monotonic() + ANALYTICS_WAIT_SECS
    summary = None
    for _ in range(int(ANALYTICS_WAIT_SECS / ANALYTICS_POLL_SECS) + 1):
        summary = admin.analytics.GetSummary(request)
        if seen(summary) or time.monotonic() > deadline:
            break
        time.sleep(ANALYTICS_POLL_SECS)
    assert seen(summary), f"analytics did not count the loan flow within {ANALYTICS_WAIT_SECS} s: {summary}"
