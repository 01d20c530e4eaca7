"""Reading the bank's rich errors (google.rpc.Status in `grpc-status-details-bin`)."""

from __future__ import annotations

from typing import List, Optional

import grpc
from google.protobuf import any_pb2, message
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
# google.rpc.ErrorInfo.domain of every error the bank returns.
ERROR_DOMAIN = "bank.local"

_DETAIL_TYPES = {
    cls.DESCRIPTOR.full_name: cls
    for cls in (
        error_details_pb2.ErrorInfo,
        error_details_pb2.BadRequest,
        error_details_pb2.RetryInfo,
        error_details_pb2.PreconditionFailure,
        error_details_pb2.ResourceInfo,
        error_details_pb2.QuotaFailure,
        error_details_pb2.RequestInfo,
        error_details_pb2.Help,
        error_details_pb2.LocalizedMessage,
        error_details_pb2.DebugInfo,
    )
}


def status(error: grpc.RpcError) -> Optional[status_pb2.Status]:
    """The google.rpc.Status the server attached to a failed call, if any."""
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == STATUS_DETAILS_KEY:
            return status_pb2.Status.FromString(value)
    return None


def details(error: grpc.RpcError) -> List[message.Message]:
    """The details of a failed call, unpacked (ErrorInfo, BadRequest, RetryInfo, ...);
    detail types this module does not know stay as google.protobuf.Any."""
    found = status(error)
    unpacked: List[message.Message] = []
    for detail in found.details if found else ():
        cls = _DETAIL_TYPES.get(detail.TypeName())
        if cls is None:
            unpacked.append(any_pb2.Any(type_url=detail.type_url, value=detail.value))
            continue
        item = cls()
        detail.Unpack(item)
        unpacked.append(item)
    return unpacked


def error_info(error: grpc.RpcError) -> Optional[error_details_pb2.ErrorInfo]:
    """The ErrorInfo detail (reason, domain, metadata), if the server sent one."""
    for item in details(error):
        if isinstance(item, error_details_pb2.ErrorInfo):
            return item
    return None


def reason(error: grpc.RpcError) -> Optional[str]:
    """ErrorInfo.reason, e.g. "INSUFFICIENT_FUNDS", if the server sent one."""
    info = error_info(error)
    return info.reason if info else None


def field_violations(error: grpc.RpcError) -> List[error_details_pb2.BadRequest.FieldViolation]:
    """Every BadRequest field violation of an INVALID_ARGUMENT error."""
    violations: List[error_details_pb2.BadRequest.FieldViolation] = []
    for item in details(error):
        if isinstance(item, error_details_pb2.BadRequest):
            violations.extend(item.field_violations)
    return violations
