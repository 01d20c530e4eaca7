#!/usr/bin/env python3
"""A member's first day at the bank, through the gateway with the Python SDK:
sign up, log in, open an account, deposit cash, and send money to a second
member by account number. Prints what happens.

    python examples/member_flow.py                      # gateway of `make run`
    python examples/member_flow.py --target host:443 --tls --ca ca.crt
"""

from __future__ import annotations

import argparse
import sys
import uuid

import grpc

from bank.account.v1 import account_pb2
from bank.auth.v1 import auth_pb2
from bank.common.v1 import common_pb2
from bank.transfer.v1 import transfer_pb2
from bank_sdk import BankClient, errors, new_request_id

PASSWORD = "a long passphrase 1"


def money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def member(client: BankClient, name: str) -> str:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    user = client.auth.SignUp(auth_pb2.SignUpRequest(email=email, password=PASSWORD)).user
    client.login(email, PASSWORD)
    print(f"signed up and logged in {email} (user {user.id})")
    return email


def open_account(client: BankClient, name: str) -> account_pb2.Account:
    account = client.accounts.OpenAccount(
        account_pb2.OpenAccountRequest(
            request_id=new_request_id(), type=account_pb2.ACCOUNT_TYPE_CHECKING, currency="USD", display_name=name
        )
    ).account
    print(f"opened checking account {account.account_number} ({account.account_id})")
    return account


def balance(client: BankClient, account: account_pb2.Account) -> int:
    return client.transfers.GetBalance(transfer_pb2.GetBalanceRequest(account_id=account.account_id)).balance.posted.amount_minor


def run(make_client) -> None:
    with make_client() as ada, make_client() as bob:
        member(ada, "ada")
        ada_account = open_account(ada, "ada everyday")
        member(bob, "bob")
        bob_account = open_account(bob, "bob everyday")

        ada.transfers.Deposit(
            transfer_pb2.DepositRequest(
                request_id=new_request_id(),
                account_id=ada_account.account_id,
                amount=common_pb2.Money(amount_minor=100_00, currency="USD"),
                description="cash at the branch",
            )
        )
        print(f"ada deposited 100.00 USD; balance {money(balance(ada, ada_account))}")

        transfer = ada.transfers.CreateTransfer(
            transfer_pb2.CreateTransferRequest(
                request_id=new_request_id(),
                from_account_id=ada_account.account_id,
                to_account_number=bob_account.account_number,
                amount=common_pb2.Money(amount_minor=25_00, currency="USD"),
                description="concert tickets",
            )
        ).transfer
        print(f"ada sent 25.00 USD to {bob_account.account_number} (transfer {transfer.transfer_id})")
        print(f"balances: ada {money(balance(ada, ada_account))}, bob {money(balance(bob, bob_account))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="127.0.0.1:8080", help="the gateway, host:port")
    parser.add_argument("--tls", action="store_true", help="the gateway serves TLS")
    parser.add_argument("--ca", help="CA certificate (PEM) to verify the gateway; system roots otherwise")
    args = parser.parse_args()

    def make_client() -> BankClient:
        return BankClient.tls(args.target, args.ca) if args.tls else BankClient.insecure(args.target)

    try:
        run(make_client)
    except grpc.RpcError as error:
        reason = errors.reason(error)
        print(f"failed: {error.code().name}: {error.details()}" + (f" ({reason})" if reason else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
