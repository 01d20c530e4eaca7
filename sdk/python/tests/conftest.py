"""Fixtures: one throwaway mesh for the whole session (see mesh.py), and SDK
clients pointed at its gateway only."""

from __future__ import annotations

import uuid

import pytest

from bank.auth.v1 import auth_pb2
from bank_sdk import BankClient

import mesh as mesh_module

PASSWORD = "a long passphrase 1"


@pytest.fixture(scope="session")
def mesh():
    with mesh_module.Mesh() as running:
        yield running


@pytest.fixture(scope="session")
def gateway(mesh) -> str:
    return mesh.gateway


@pytest.fixture
def client(gateway):
    with BankClient.insecure(gateway) as c:
        yield c


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@pysdk.test"


@pytest.fixture
def new_member(gateway):
    """Signs up and logs in a fresh member; returns a factory of logged-in clients."""
    opened = []

    def make(label: str = "member") -> BankClient:
        c = BankClient.insecure(gateway)
        opened.append(c)
        email = unique_email(label)
        c.auth.SignUp(auth_pb2.SignUpRequest(email=email, password=PASSWORD))
        c.login(email, PASSWORD)
        c.email = email
        return c

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def admin(gateway, mesh):
    with BankClient.insecure(gateway) as c:
        c.login(mesh.admin_email, mesh.admin_password)
        yield c
