"""The member flow through the gateway with the SDK on Google's grpcio:
sign up, log in, open an account, deposit, transfer to another member by
account number, read the statement (unary) and export it (server stream)."""

from __future__ import annotations

import datetime

import grpc
import pytest

from bank.account.v1 import account_pb2
from bank.auth.v1 import auth_pb2
from bank.common.v1 import common_pb2
from bank.transfer.v1 import transfer_pb2
from bank_sdk import BankClient, errors, new_request_id

from conftest import PASSWORD, unique_email
from helpers import deposit, open_checking, posted, usd

EXPORT_TIMEOUT_SECS = 30


def test_sign_up_and_log_in(client: BankClient):
    email = unique_email("ada")
    user = client.auth.SignUp(auth_pb2.SignUpRequest(email=email, password=PASSWORD)).user
    assert user.email == email
    assert list(user.roles) == [auth_pb2.ROLE_MEMBER]

    with pytest.raises(grpc.RpcError) as taken:
        client.auth.SignUp(auth_pb2.SignUpRequest(email=email.upper(), password=PASSWORD))
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS

    login = client.login(email, PASSWORD)
    assert login.tokens.token_type.lower() == "bearer"
    assert client.token == login.tokens.access_token
    assert client.auth.Me(auth_pb2.MeRequest()).user.id == user.id

    client.refresh()
    assert client.auth.Me(auth_pb2.MeRequest()).user.id == user.id


def test_calls_without_a_token_are_unauthenticated(client: BankClient):
    with pytest.raises(grpc.RpcError) as refused:
        client.accounts.ListAccounts(account_pb2.ListAccountsRequest())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_member_flow(new_member):
    ada = new_member("ada")
    bob = new_member("bob")
    period_start = datetime.datetime.now(datetime.timezone.utc)

    ada_account = open_checking(ada, "ada everyday")
    bob_account = open_checking(bob, "bob everyday")
    assert ada_account.status == account_pb2.ACCOUNT_STATUS_OPEN
    assert len(ada_account.account_number) == 12
    listed = ada.accounts.ListAccounts(account_pb2.ListAccountsRequest()).accounts
    assert [a.account_id for a in listed] == [ada_account.account_id]

    cash_in = deposit(ada, ada_account.account_id, 100_00)
    assert cash_in.kind == transfer_pb2.TRANSFER_KIND_DEPOSIT
    assert cash_in.status == transfer_pb2.TRANSFER_STATUS_POSTED

    request = transfer_pb2.CreateTransferRequest(
        request_id=new_request_id(),
        from_account_id=ada_account.account_id,
        to_account_number=bob_account.account_number,
        amount=usd(25_00),
        description="lunch",
        reference="inv-1",
    )
    sent = ada.transfers.CreateTransfer(request).transfer
    assert sent.status == transfer_pb2.TRANSFER_STATUS_POSTED
    assert sent.credit_account_id == bob_account.account_id

    # The same request id replays the same transfer; money moves once.
    replay = ada.transfers.CreateTransfer(request).transfer
    assert replay.transfer_id == sent.transfer_id
    assert posted(ada, ada_account.account_id) == 75_00
    assert posted(bob, bob_account.account_id) == 25_00

    # A decline comes back as a rich status the SDK can read.
    with pytest.raises(grpc.RpcError) as declined:
        ada.transfers.CreateTransfer(
            transfer_pb2.CreateTransferRequest(
                request_id=new_request_id(),
                from_account_id=ada_account.account_id,
                to_account_id=bob_account.account_id,
                amount=usd(1_000_00),
            )
        )
    assert declined.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert errors.reason(declined.value) == "INSUFFICIENT_FUNDS"
    assert errors.error_info(declined.value).domain == errors.ERROR_DOMAIN

    # Bob cannot see Ada's account at all.
    with pytest.raises(grpc.RpcError) as hidden:
        bob.accounts.GetAccount(account_pb2.GetAccountRequest(account_id=ada_account.account_id))
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND

    check_statement(ada, ada_account, period_start)
    check_export(ada, ada_account)


def check_statement(ada: BankClient, account: account_pb2.Account, period_start: datetime.datetime):
    period = common_pb2.YearMonth(year=period_start.year, month=period_start.month)
    statement = ada.accounts.GetStatement(
        account_pb2.GetStatementRequest(account_id=account.account_id, period=period)
    ).statement
    if datetime.datetime.now(datetime.timezone.utc).month != period_start.month:
        pytest.skip("the month changed during the test; the statement is split")
    assert statement.account_number == account.account_number
    assert statement.opening_balance.amount_minor == 0
    assert statement.total_credits.amount_minor == 100_00
    assert statement.total_debits.amount_minor == 25_00
    assert statement.closing_balance.amount_minor == 75_00
    assert statement.entry_count == 2
    assert [e.kind for e in statement.entries] == [
        transfer_pb2.TRANSFER_KIND_DEPOSIT,
        transfer_pb2.TRANSFER_KIND_TRANSFER,
    ]
    assert [e.direction for e in statement.entries] == [
        transfer_pb2.ENTRY_DIRECTION_CREDIT,
        transfer_pb2.ENTRY_DIRECTION_DEBIT,
    ]
    assert [e.balance_after.amount_minor for e in statement.entries] == [100_00, 75_00]


def check_export(ada: BankClient, account: account_pb2.Account):
    stream = ada.accounts.ExportStatement(
        account_pb2.ExportStatementRequest(account_id=account.account_id), timeout=EXPORT_TIMEOUT_SECS
    )
    items = list(stream)
    kinds = [item.WhichOneof("item") for item in items]
    assert kinds == ["header", "entry", "entry", "trailer"], kinds
    header, trailer = items[0].header, items[-1].trailer
    assert header.account_number == account.account_number
    assert header.opening_balance.amount_minor == 0
    assert [item.entry.amount.amount_minor for item in items[1:-1]] == [100_00, 25_00]
    assert [item.entry.sequence for item in items[1:-1]] == [1, 2]
    assert trailer.closing_balance.amount_minor == 75_00
    assert trailer.entry_count == 2
    assert stream.code() == grpc.StatusCode.OK


def test_every_call_carries_a_fresh_request_id_the_gateway_echoes(gateway):
    sent = []

    def request_ids():
        sent.append(f"pysdk-{len(sent)}-{new_request_id()}")
        return sent[-1]

    with BankClient.insecure(gateway, request_id_factory=request_ids) as client:
        echoed = []
        for _ in range(2):
            _, call = client.auth.GetJwks.with_call(auth_pb2.GetJwksRequest())
            echoed.append(dict(call.initial_metadata()).get("x-request-id"))
        # A request id the caller sets itself wins.
        _, call = client.auth.GetJwks.with_call(auth_pb2.GetJwksRequest(), metadata=[("x-request-id", "mine-1")])
        echoed.append(dict(call.initial_metadata()).get("x-request-id"))
    assert len(sent) == 2 and sent[0] != sent[1]
    assert echoed == [sent[0], sent[1], "mine-1"]
