"""grpcio channels to the bank gateway (or, with a mesh certificate, to a service).

The gateway speaks gRPC over plain HTTP/2 (h2c, `make run`) or TLS; the services
themselves require mutual TLS with a certificate issued by the mesh CA.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Tuple, Union

import grpc

from ._version import __version__

# A PEM given as bytes, or as a path (str or os.PathLike) to a PEM file.
Pem = Union[bytes, str, "os.PathLike[str]"]
ChannelOptions = Sequence[Tuple[str, Union[str, int]]]

# Largest response message the SDK accepts, in bytes (grpcio's default, stated).
MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024
USER_AGENT = f"bank-mesh-sdk-python/{__version__}"


def _read_pem(pem: Pem) -> bytes:
    if isinstance(pem, bytes):
        return pem
    text = os.fspath(pem)
    if text.lstrip().startswith("-----BEGIN"):
        return text.encode()
    with open(text, "rb") as f:
        return f.read()


def _options(options: Optional[ChannelOptions], server_name: Optional[str]) -> list:
    merged = {
        "grpc.primary_user_agent": USER_AGENT,
        "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES,
    }
    if server_name:
        # Verify the server certificate against this name instead of the target's host.
        merged["grpc.ssl_target_name_override"] = server_name
    merged.update(dict(options or ()))
    return list(merged.items())


def insecure_channel(target: str, *, options: Optional[ChannelOptions] = None) -> grpc.Channel:
    """A plaintext HTTP/2 channel, for the gateway of a local mesh (`make run`).

    `target` is host:port, e.g. "127.0.0.1:8080".
    """
    return grpc.insecure_channel(target, options=_options(options, None))


def tls_channel(
    target: str,
    ca: Optional[Pem] = None,
    *,
    server_name: Optional[str] = None,
    options: Optional[ChannelOptions] = None,
) -> grpc.Channel:
    """A TLS channel that verifies the server against `ca` (a PEM or a path to
    one); without `ca`, against the system's roots."""
    credentials = grpc.ssl_channel_credentials(root_certificates=_read_pem(ca) if ca is not None else None)
    return grpc.secure_channel(target, credentials, options=_options(options, server_name))


def mtls_channel(
    target: str,
    ca: Pem,
    cert: Pem,
    key: Pem,
    *,
    server_name: Optional[str] = None,
    options: Optional[ChannelOptions] = None,
) -> grpc.Channel:
    """A mutual-TLS channel: verifies the server against `ca` and presents the
    client certificate `cert` with its private key `key` (PEMs or paths)."""
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read_pem(ca),
        private_key=_read_pem(key),
        certificate_chain=_read_pem(cert),
    )
    return grpc.secure_channel(target, credentials, options=_options(options, server_name))
