"""The channel helpers against real peers: the gateway in plaintext (h2c, as
`bank up` serves it), and a service port, which requires mutual TLS with a
certificate from the mesh CA."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bank.auth.v1 import auth_pb2, auth_pb2_grpc
from bank_sdk import insecure_channel, mtls_channel, tls_channel

CALL_TIMEOUT_SECS = 10


def test_insecure_channel_reaches_the_gateway(gateway):
    with insecure_channel(gateway) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT_SECS)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("as_bytes", [False, True], ids=["paths", "pem-bytes"])
def test_mtls_channel_reaches_a_service_with_a_mesh_certificate(mesh, as_bytes):
    certs = mesh.certs
    ca, cert, key = certs / "ca.crt", certs / "gateway.crt", certs / "gateway.key"
    if as_bytes:
        ca, cert, key = ca.read_bytes(), cert.read_bytes(), key.read_bytes()
    with mtls_channel(mesh.addresses["auth"], ca, cert, key) as channel:
        jwks = auth_pb2_grpc.AuthServiceStub(channel).GetJwks(auth_pb2.GetJwksRequest(), timeout=CALL_TIMEOUT_SECS)
    assert jwks.keys and jwks.keys[0].kty == "OKP"


def test_mtls_channel_with_a_server_name_override(mesh):
    certs = mesh.certs
    port = mesh.addresses["auth"].rsplit(":", 1)[1]
    # Dial by IP, verify the certificate's DNS name `auth`.
    with mtls_channel(
        f"127.0.0.1:{port}", certs / "ca.crt", certs / "gateway.crt", certs / "gateway.key", server_name="auth"
    ) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT_SECS)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_tls_channel_without_a_client_certificate_is_refused_by_a_service(mesh):
    with tls_channel(mesh.addresses["auth"], mesh.certs / "ca.crt") as channel:
        with pytest.raises(grpc.RpcError) as refused:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT_SECS)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_tls_channel_rejects_a_server_of_another_ca(mesh):
    # The system roots do not include the development CA.
    with tls_channel(mesh.addresses["auth"]) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT_SECS)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
