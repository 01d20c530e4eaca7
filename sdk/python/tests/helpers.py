"""Small steps the flows share."""

from __future__ import annotations

from bank.account.v1 import account_pb2
from bank.common.v1 import common_pb2
from bank.transfer.v1 import transfer_pb2
from bank_sdk import BankClient, new_request_id


def usd(minor: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=minor, currency="USD")


def open_checking(client: BankClient, name: str = "everyday") -> account_pb2.Account:
    response = client.accounts.OpenAccount(
        account_pb2.OpenAccountRequest(
            request_id=new_request_id(),
            type=account_pb2.ACCOUNT_TYPE_CHECKING,
            currency="USD",
            display_name=name,
        )
    )
    return response.account


def deposit(client: BankClient, account_id: str, minor: int) -> transfer_pb2.Transfer:
    return client.transfers.Deposit(
        transfer_pb2.DepositRequest(
            request_id=new_request_id(), account_id=account_id, amount=usd(minor), description="cash in"
        )
    ).transfer


def posted(client: BankClient, account_id: str) -> int:
    balance = client.transfers.GetBalance(transfer_pb2.GetBalanceRequest(account_id=account_id)).balance
    return balance.posted.amount_minor
