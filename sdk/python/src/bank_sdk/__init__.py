"""Python client for the bank mesh.

The generated modules live in the `bank` package (`bank.auth.v1.auth_pb2`,
`bank.auth.v1.auth_pb2_grpc`, ...; made by grpcio-tools from proto/, never
edited by hand). This package adds channel helpers, `BankClient` (typed stubs
with the token and a request id on every call) and error helpers.
"""

from ._version import __version__
from .channels import insecure_channel, mtls_channel, tls_channel
from .client import BankClient, new_request_id
from . import errors

__all__ = [
    "__version__",
    "BankClient",
    "errors",
    "insecure_channel",
    "mtls_channel",
    "new_request_id",
    "tls_channel",
]
