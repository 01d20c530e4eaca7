"""The gateway never forwards an *InternalService call: every method of every
internal service of the contract is PERMISSION_DENIED through it, with or
without a member's token (and reflection does not list them, see
test_reflection.py)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import message_factory

from bank.auth.v1 import auth_pb2
from bank_sdk import BankClient

from conftest import PASSWORD, unique_email
from mesh import service_descriptors

CALL_TIMEOUT_SECS = 10

INTERNAL_METHODS = [
    (name, method)
    for name, service in sorted(service_descriptors().items())
    if name.endswith("InternalService")
    for method in service.methods
]


@pytest.fixture(scope="module")
def member_token(gateway) -> str:
    with BankClient.insecure(gateway) as member:
        email = unique_email("nosy")
        member.auth.SignUp(auth_pb2.SignUpRequest(email=email, password=PASSWORD))
        return member.login(email, PASSWORD).tokens.access_token


def test_the_contract_has_internal_services():
    assert {name for name, _ in INTERNAL_METHODS} >= {
        "bank.auth.v1.AuthInternalService",
        "bank.account.v1.AccountInternalService",
        "bank.transfer.v1.TransferInternalService",
    }


@pytest.mark.parametrize(
    "service,method", INTERNAL_METHODS, ids=[f"{s.rsplit('.', 1)[1]}.{m.name}" for s, m in INTERNAL_METHODS]
)
def test_internal_method_is_refused(gateway, member_token, service, method):
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    with grpc.insecure_channel(gateway) as channel:
        call = channel.unary_unary(
            f"/{service}/{method.name}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        for metadata in ([], [("authorization", f"Bearer {member_token}")]):
            with pytest.raises(grpc.RpcError) as refused:
                call(request_class(), metadata=metadata, timeout=CALL_TIMEOUT_SECS)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED, refused.value


def test_internal_stub_from_the_sdk_is_refused(gateway, member_token):
    from bank.auth.v1 import auth_pb2_grpc

    with grpc.insecure_channel(gateway) as channel:
        stub = auth_pb2_grpc.AuthInternalServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetUser(
                auth_pb2.GetUserRequest(user_id="00000000-0000-0000-0000-000000000000"),
                metadata=[("authorization", f"Bearer {member_token}")],
                timeout=CALL_TIMEOUT_SECS,
            )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "internal" in refused.value.details().lower()
