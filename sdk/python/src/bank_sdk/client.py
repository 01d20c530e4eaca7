"""`BankClient`: typed stubs for every public service on one channel, with the
bearer token and a fresh `x-request-id` attached to every call."""

from __future__ import annotations

import collections
import threading
import uuid
from typing import Callable, Optional

import grpc

from bank.account.v1 import account_pb2_grpc
from bank.analytics.v1 import analytics_pb2_grpc
from bank.auth.v1 import auth_pb2, auth_pb2_grpc
from bank.finance.v1 import finance_pb2_grpc
from bank.transfer.v1 import transfer_pb2_grpc

from . import channels

REQUEST_ID_HEADER = "x-request-id"
AUTHORIZATION_HEADER = "authorization"
# Deadline of a unary call made without `timeout=`, in seconds. Streams get none
# by default (an export or a watch may run long); pass `timeout=` to bound them.
DEFAULT_UNARY_TIMEOUT_SECS = 30.0


def new_request_id() -> str:
    """A fresh idempotency key for the `request_id` field of creating and
    money-moving RPCs (a UUID: 36 characters from [0-9a-f-])."""
    return str(uuid.uuid4())


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    pass


class _MetadataInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer <token>` (when the client has a token and the
    call brings none) and `x-request-id` (unless the call brings one), and a
    default deadline for unary calls."""

    def __init__(self, client: "BankClient"):
        self._client = client

    def _details(self, details: grpc.ClientCallDetails, unary: bool) -> _CallDetails:
        metadata = list(details.metadata or ())
        keys = {key.lower() for key, _ in metadata}
        token = self._client.token
        if token and AUTHORIZATION_HEADER not in keys:
            metadata.append((AUTHORIZATION_HEADER, f"Bearer {token}"))
        if REQUEST_ID_HEADER not in keys:
            metadata.append((REQUEST_ID_HEADER, self._client.request_id_factory()))
        timeout = details.timeout
        if timeout is None and unary:
            timeout = self._client.default_timeout
        return _CallDetails(
            details.method,
            timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details, True), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details, False), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details, True), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details, False), request_iterator)


class BankClient:
    """The bank's public services on one channel.

    >>> client = BankClient.insecure("127.0.0.1:8080")
    >>> client.login("ada@example.com", "a long passphrase 1")
    >>> client.accounts.ListAccounts(account_pb2.ListAccountsRequest())

    Attributes `auth`, `accounts`, `transfers`, `finance` and `analytics` are
    the generated stubs (bank.<service>.v1.<Service>Stub); every call through
    them carries the current token and a fresh x-request-id. Internal services
    have no attribute: the gateway refuses them.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        token: Optional[str] = None,
        request_id_factory: Callable[[], str] = new_request_id,
        default_timeout: Optional[float] = DEFAULT_UNARY_TIMEOUT_SECS,
    ):
        self._lock = threading.Lock()
        self._token = token
        self._refresh_token: Optional[str] = None
        self.request_id_factory = request_id_factory
        self.default_timeout = default_timeout
        self.channel = channel
        intercepted = grpc.intercept_channel(channel, _MetadataInterceptor(self))
        self.auth = auth_pb2_grpc.AuthServiceStub(intercepted)
        self.accounts = account_pb2_grpc.AccountServiceStub(intercepted)
        self.transfers = transfer_pb2_grpc.TransferServiceStub(intercepted)
        self.finance = finance_pb2_grpc.FinanceServiceStub(intercepted)
        self.analytics = analytics_pb2_grpc.AnalyticsServiceStub(intercepted)

    @classmethod
    def insecure(cls, target: str, **kwargs) -> "BankClient":
        """A client over a plaintext channel (the gateway of `make run`)."""
        return cls(channels.insecure_channel(target), **kwargs)

    @classmethod
    def tls(cls, target: str, ca: Optional[channels.Pem] = None, **kwargs) -> "BankClient":
        """A client over TLS, verifying the server against `ca` or the system roots."""
        return cls(channels.tls_channel(target, ca), **kwargs)

    @property
    def token(self) -> Optional[str]:
        """The access token sent as `authorization: Bearer ...`, if any."""
        with self._lock:
            return self._token

    @token.setter
    def token(self, value: Optional[str]) -> None:
        with self._lock:
            self._token = value

    def login(self, email: str, password: str) -> auth_pb2.LoginResponse:
        """Logs in and keeps the token pair: later calls carry the access token."""
        response = self.auth.Login(auth_pb2.LoginRequest(email=email, password=password))
        with self._lock:
            self._token = response.tokens.access_token
            self._refresh_token = response.tokens.refresh_token
        return response

    def refresh(self) -> auth_pb2.RefreshTokenResponse:
        """Exchanges the kept refresh token for a new pair (the old one is used up)."""
        with self._lock:
            refresh_token = self._refresh_token
        if not refresh_token:
            raise ValueError("no refresh token: log in first")
        response = self.auth.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=refresh_token))
        with self._lock:
            self._token = response.tokens.access_token
            self._refresh_token = response.tokens.refresh_token
        return response

    def logout(self, all_sessions: bool = False) -> auth_pb2.LogoutResponse:
        """Ends the session server-side and forgets the tokens."""
        response = self.auth.Logout(auth_pb2.LogoutRequest(all_sessions=all_sessions))
        with self._lock:
            self._token = None
            self._refresh_token = None
        return response

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "BankClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
