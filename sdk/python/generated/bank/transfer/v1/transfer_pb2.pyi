import datetime

from bank.common.v1 import common_pb2 as _common_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TransferType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_TYPE_UNSPECIFIED: _ClassVar[TransferType]
    TRANSFER_TYPE_IMMEDIATE: _ClassVar[TransferType]
    TRANSFER_TYPE_PENDING: _ClassVar[TransferType]
    TRANSFER_TYPE_POST_PENDING: _ClassVar[TransferType]
    TRANSFER_TYPE_VOID_PENDING: _ClassVar[TransferType]

class TransferKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_KIND_UNSPECIFIED: _ClassVar[TransferKind]
    TRANSFER_KIND_TRANSFER: _ClassVar[TransferKind]
    TRANSFER_KIND_DEPOSIT: _ClassVar[TransferKind]
    TRANSFER_KIND_WITHDRAWAL: _ClassVar[TransferKind]
    TRANSFER_KIND_CARD_PURCHASE: _ClassVar[TransferKind]
    TRANSFER_KIND_LOAN_DISBURSEMENT: _ClassVar[TransferKind]
    TRANSFER_KIND_LOAN_REPAYMENT: _ClassVar[TransferKind]
    TRANSFER_KIND_LOAN_INTEREST: _ClassVar[TransferKind]

class TransferStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_STATUS_UNSPECIFIED: _ClassVar[TransferStatus]
    TRANSFER_STATUS_PENDING: _ClassVar[TransferStatus]
    TRANSFER_STATUS_POSTED: _ClassVar[TransferStatus]
    TRANSFER_STATUS_VOIDED: _ClassVar[TransferStatus]
    TRANSFER_STATUS_EXPIRED: _ClassVar[TransferStatus]
    TRANSFER_STATUS_DECLINED: _ClassVar[TransferStatus]

class DeclineReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECLINE_REASON_UNSPECIFIED: _ClassVar[DeclineReason]
    DECLINE_REASON_INSUFFICIENT_FUNDS: _ClassVar[DeclineReason]
    DECLINE_REASON_ACCOUNT_FROZEN: _ClassVar[DeclineReason]
    DECLINE_REASON_ACCOUNT_CLOSED: _ClassVar[DeclineReason]
    DECLINE_REASON_BALANCE_OVERFLOW: _ClassVar[DeclineReason]
    DECLINE_REASON_PENDING_TRANSFER_POSTED: _ClassVar[DeclineReason]
    DECLINE_REASON_PENDING_TRANSFER_VOIDED: _ClassVar[DeclineReason]
    DECLINE_REASON_PENDING_TRANSFER_EXPIRED: _ClassVar[DeclineReason]
    DECLINE_REASON_LINKED_EVENT_FAILED: _ClassVar[DeclineReason]
    DECLINE_REASON_LINKED_CHAIN_OPEN: _ClassVar[DeclineReason]

class LedgerAccountKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEDGER_ACCOUNT_KIND_UNSPECIFIED: _ClassVar[LedgerAccountKind]
    LEDGER_ACCOUNT_KIND_CUSTOMER: _ClassVar[LedgerAccountKind]
    LEDGER_ACCOUNT_KIND_CASH: _ClassVar[LedgerAccountKind]
    LEDGER_ACCOUNT_KIND_MERCHANT_SETTLEMENT: _ClassVar[LedgerAccountKind]
    LEDGER_ACCOUNT_KIND_LOAN_FUNDING: _ClassVar[LedgerAccountKind]
    LEDGER_ACCOUNT_KIND_INTEREST_INCOME: _ClassVar[LedgerAccountKind]

class LedgerAccountStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEDGER_ACCOUNT_STATUS_UNSPECIFIED: _ClassVar[LedgerAccountStatus]
    LEDGER_ACCOUNT_STATUS_OPEN: _ClassVar[LedgerAccountStatus]
    LEDGER_ACCOUNT_STATUS_FROZEN: _ClassVar[LedgerAccountStatus]
    LEDGER_ACCOUNT_STATUS_CLOSED: _ClassVar[LedgerAccountStatus]

class EntryDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_DIRECTION_UNSPECIFIED: _ClassVar[EntryDirection]
    ENTRY_DIRECTION_DEBIT: _ClassVar[EntryDirection]
    ENTRY_DIRECTION_CREDIT: _ClassVar[EntryDirection]
TRANSFER_TYPE_UNSPECIFIED: TransferType
TRANSFER_TYPE_IMMEDIATE: TransferType
TRANSFER_TYPE_PENDING: TransferType
TRANSFER_TYPE_POST_PENDING: TransferType
TRANSFER_TYPE_VOID_PENDING: TransferType
TRANSFER_KIND_UNSPECIFIED: TransferKind
TRANSFER_KIND_TRANSFER: TransferKind
TRANSFER_KIND_DEPOSIT: TransferKind
TRANSFER_KIND_WITHDRAWAL: TransferKind
TRANSFER_KIND_CARD_PURCHASE: TransferKind
TRANSFER_KIND_LOAN_DISBURSEMENT: TransferKind
TRANSFER_KIND_LOAN_REPAYMENT: TransferKind
TRANSFER_KIND_LOAN_INTEREST: TransferKind
TRANSFER_STATUS_UNSPECIFIED: TransferStatus
TRANSFER_STATUS_PENDING: TransferStatus
TRANSFER_STATUS_POSTED: TransferStatus
TRANSFER_STATUS_VOIDED: TransferStatus
TRANSFER_STATUS_EXPIRED: TransferStatus
TRANSFER_STATUS_DECLINED: TransferStatus
DECLINE_REASON_UNSPECIFIED: DeclineReason
DECLINE_REASON_INSUFFICIENT_FUNDS: DeclineReason
DECLINE_REASON_ACCOUNT_FROZEN: DeclineReason
DECLINE_REASON_ACCOUNT_CLOSED: DeclineReason
DECLINE_REASON_BALANCE_OVERFLOW: DeclineReason
DECLINE_REASON_PENDING_TRANSFER_POSTED: DeclineReason
DECLINE_REASON_PENDING_TRANSFER_VOIDED: DeclineReason
DECLINE_REASON_PENDING_TRANSFER_EXPIRED: DeclineReason
DECLINE_REASON_LINKED_EVENT_FAILED: DeclineReason
DECLINE_REASON_LINKED_CHAIN_OPEN: DeclineReason
LEDGER_ACCOUNT_KIND_UNSPECIFIED: LedgerAccountKind
LEDGER_ACCOUNT_KIND_CUSTOMER: LedgerAccountKind
LEDGER_ACCOUNT_KIND_CASH: LedgerAccountKind
LEDGER_ACCOUNT_KIND_MERCHANT_SETTLEMENT: LedgerAccountKind
LEDGER_ACCOUNT_KIND_LOAN_FUNDING: LedgerAccountKind
LEDGER_ACCOUNT_KIND_INTEREST_INCOME: LedgerAccountKind
LEDGER_ACCOUNT_STATUS_UNSPECIFIED: LedgerAccountStatus
LEDGER_ACCOUNT_STATUS_OPEN: LedgerAccountStatus
LEDGER_ACCOUNT_STATUS_FROZEN: LedgerAccountStatus
LEDGER_ACCOUNT_STATUS_CLOSED: LedgerAccountStatus
ENTRY_DIRECTION_UNSPECIFIED: EntryDirection
ENTRY_DIRECTION_DEBIT: EntryDirection
ENTRY_DIRECTION_CREDIT: EntryDirection

class Transfer(_message.Message):
    __slots__ = ("transfer_id", "request_id", "type", "kind", "status", "debit_account_id", "credit_account_id", "amount", "description", "reference", "pending_transfer_id", "resolving_transfer_id", "decline_reason", "initiator_user_id", "initiator_service", "create_time", "expire_time", "resolve_time")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    PENDING_TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLVING_TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    DECLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_SERVICE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    request_id: str
    type: TransferType
    kind: TransferKind
    status: TransferStatus
    debit_account_id: str
    credit_account_id: str
    amount: _common_pb2.Money
    description: str
    reference: str
    pending_transfer_id: str
    resolving_transfer_id: str
    decline_reason: DeclineReason
    initiator_user_id: str
    initiator_service: str
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    resolve_time: _timestamp_pb2.Timestamp
    def __init__(self, transfer_id: _Optional[str] = ..., request_id: _Optional[str] = ..., type: _Optional[_Union[TransferType, str]] = ..., kind: _Optional[_Union[TransferKind, str]] = ..., status: _Optional[_Union[TransferStatus, str]] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., pending_transfer_id: _Optional[str] = ..., resolving_transfer_id: _Optional[str] = ..., decline_reason: _Optional[_Union[DeclineReason, str]] = ..., initiator_user_id: _Optional[str] = ..., initiator_service: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("account_id", "currency", "posted", "pending_debits", "pending_credits", "available", "debits_posted", "credits_posted", "read_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    POSTED_FIELD_NUMBER: _ClassVar[int]
    PENDING_DEBITS_FIELD_NUMBER: _ClassVar[int]
    PENDING_CREDITS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    DEBITS_POSTED_FIELD_NUMBER: _ClassVar[int]
    CREDITS_POSTED_FIELD_NUMBER: _ClassVar[int]
    READ_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    currency: str
    posted: _common_pb2.Money
    pending_debits: _common_pb2.Money
    pending_credits: _common_pb2.Money
    available: _common_pb2.Money
    debits_posted: _common_pb2.Money
    credits_posted: _common_pb2.Money
    read_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., currency: _Optional[str] = ..., posted: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., pending_debits: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., pending_credits: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., available: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., debits_posted: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., credits_posted: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., read_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LedgerAccount(_message.Message):
    __slots__ = ("ledger_account_id", "kind", "currency", "balance", "create_time", "status")
    LEDGER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ledger_account_id: str
    kind: LedgerAccountKind
    currency: str
    balance: Balance
    create_time: _timestamp_pb2.Timestamp
    status: LedgerAccountStatus
    def __init__(self, ledger_account_id: _Optional[str] = ..., kind: _Optional[_Union[LedgerAccountKind, str]] = ..., currency: _Optional[str] = ..., balance: _Optional[_Union[Balance, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[LedgerAccountStatus, str]] = ...) -> None: ...

class SystemAccountRef(_message.Message):
    __slots__ = ("kind", "currency")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    kind: LedgerAccountKind
    currency: str
    def __init__(self, kind: _Optional[_Union[LedgerAccountKind, str]] = ..., currency: _Optional[str] = ...) -> None: ...

class LedgerAccountRef(_message.Message):
    __slots__ = ("ledger_account_id", "system")
    LEDGER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    ledger_account_id: str
    system: SystemAccountRef
    def __init__(self, ledger_account_id: _Optional[str] = ..., system: _Optional[_Union[SystemAccountRef, _Mapping]] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("transfer_id", "ledger_account_id", "sequence", "direction", "amount", "balance_after", "counterparty_account_id", "kind", "description", "reference", "post_time")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    LEDGER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    POST_TIME_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    ledger_account_id: str
    sequence: int
    direction: EntryDirection
    amount: _common_pb2.Money
    balance_after: _common_pb2.Money
    counterparty_account_id: str
    kind: TransferKind
    description: str
    reference: str
    post_time: _timestamp_pb2.Timestamp
    def __init__(self, transfer_id: _Optional[str] = ..., ledger_account_id: _Optional[str] = ..., sequence: _Optional[int] = ..., direction: _Optional[_Union[EntryDirection, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balance_after: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., counterparty_account_id: _Optional[str] = ..., kind: _Optional[_Union[TransferKind, str]] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., post_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateTransferRequest(_message.Message):
    __slots__ = ("request_id", "from_account_id", "to_account_id", "to_account_number", "amount", "description", "reference")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    from_account_id: str
    to_account_id: str
    to_account_number: str
    amount: _common_pb2.Money
    description: str
    reference: str
    def __init__(self, request_id: _Optional[str] = ..., from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., to_account_number: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class CreateTransferResponse(_message.Message):
    __slots__ = ("transfer",)
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ...) -> None: ...

class TransferItem(_message.Message):
    __slots__ = ("request_id", "from_account_id", "to_account_id", "to_account_number", "amount", "description", "reference", "linked")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LINKED_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    from_account_id: str
    to_account_id: str
    to_account_number: str
    amount: _common_pb2.Money
    description: str
    reference: str
    linked: bool
    def __init__(self, request_id: _Optional[str] = ..., from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., to_account_number: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., linked: _Optional[bool] = ...) -> None: ...

class CreateTransfersRequest(_message.Message):
    __slots__ = ("transfers",)
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[TransferItem]
    def __init__(self, transfers: _Optional[_Iterable[_Union[TransferItem, _Mapping]]] = ...) -> None: ...

class TransferResult(_message.Message):
    __slots__ = ("index", "request_id", "transfer", "error")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    index: int
    request_id: str
    transfer: Transfer
    error: _status_pb2.Status
    def __init__(self, index: _Optional[int] = ..., request_id: _Optional[str] = ..., transfer: _Optional[_Union[Transfer, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class CreateTransfersResponse(_message.Message):
    __slots__ = ("results", "posted_count", "failed_count")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    POSTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[TransferResult]
    posted_count: int
    failed_count: int
    def __init__(self, results: _Optional[_Iterable[_Union[TransferResult, _Mapping]]] = ..., posted_count: _Optional[int] = ..., failed_count: _Optional[int] = ...) -> None: ...

class DepositRequest(_message.Message):
    __slots__ = ("request_id", "account_id", "amount", "description")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account_id: str
    amount: _common_pb2.Money
    description: str
    def __init__(self, request_id: _Optional[str] = ..., account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class DepositResponse(_message.Message):
    __slots__ = ("transfer",)
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ...) -> None: ...

class WithdrawRequest(_message.Message):
    __slots__ = ("request_id", "account_id", "amount", "description")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account_id: str
    amount: _common_pb2.Money
    description: str
    def __init__(self, request_id: _Optional[str] = ..., account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class WithdrawResponse(_message.Message):
    __slots__ = ("transfer",)
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ...) -> None: ...

class CreatePendingTransferRequest(_message.Message):
    __slots__ = ("request_id", "from_account_id", "to_account_id", "to_account_number", "amount", "timeout_seconds", "description", "reference")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    from_account_id: str
    to_account_id: str
    to_account_number: str
    amount: _common_pb2.Money
    timeout_seconds: int
    description: str
    reference: str
    def __init__(self, request_id: _Optional[str] = ..., from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., to_account_number: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., timeout_seconds: _Optional[int] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class CreatePendingTransferResponse(_message.Message):
    __slots__ = ("transfer",)
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ...) -> None: ...

class PostPendingTransferRequest(_message.Message):
    __slots__ = ("request_id", "transfer_id", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    transfer_id: str
    amount: _common_pb2.Money
    def __init__(self, request_id: _Optional[str] = ..., transfer_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class PostPendingTransferResponse(_message.Message):
    __slots__ = ("transfer", "pending_transfer")
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    PENDING_TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    pending_transfer: Transfer
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ..., pending_transfer: _Optional[_Union[Transfer, _Mapping]] = ...) -> None: ...

class VoidPendingTransferRequest(_message.Message):
    __slots__ = ("request_id", "transfer_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    transfer_id: str
    def __init__(self, request_id: _Optional[str] = ..., transfer_id: _Optional[str] = ...) -> None: ...

class VoidPendingTransferResponse(_message.Message):
    __slots__ = ("transfer", "pending_transfer")
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    PENDING_TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    pending_transfer: Transfer
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ..., pending_transfer: _Optional[_Union[Transfer, _Mapping]] = ...) -> None: ...

class ListTransfersRequest(_message.Message):
    __slots__ = ("account_id", "statuses", "kinds", "start_time", "end_time", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    statuses: _containers.RepeatedScalarFieldContainer[TransferStatus]
    kinds: _containers.RepeatedScalarFieldContainer[TransferKind]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[TransferStatus, str]]] = ..., kinds: _Optional[_Iterable[_Union[TransferKind, str]]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTransfersResponse(_message.Message):
    __slots__ = ("transfers", "next_page_token")
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[Transfer]
    next_page_token: str
    def __init__(self, transfers: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetTransferRequest(_message.Message):
    __slots__ = ("transfer_id",)
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    def __init__(self, transfer_id: _Optional[str] = ...) -> None: ...

class GetTransferResponse(_message.Message):
    __slots__ = ("transfer",)
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ...) -> None: ...

class GetBalanceRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetBalanceResponse(_message.Message):
    __slots__ = ("balance",)
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    balance: Balance
    def __init__(self, balance: _Optional[_Union[Balance, _Mapping]] = ...) -> None: ...

class CheckIntegrityRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class AccountIntegrity(_message.Message):
    __slots__ = ("account_id", "kind", "stored", "recomputed", "consistent")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    RECOMPUTED_FIELD_NUMBER: _ClassVar[int]
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    kind: LedgerAccountKind
    stored: Balance
    recomputed: Balance
    consistent: bool
    def __init__(self, account_id: _Optional[str] = ..., kind: _Optional[_Union[LedgerAccountKind, str]] = ..., stored: _Optional[_Union[Balance, _Mapping]] = ..., recomputed: _Optional[_Union[Balance, _Mapping]] = ..., consistent: _Optional[bool] = ...) -> None: ...

class CurrencyTotals(_message.Message):
    __slots__ = ("currency", "debits_posted", "credits_posted", "balanced")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DEBITS_POSTED_FIELD_NUMBER: _ClassVar[int]
    CREDITS_POSTED_FIELD_NUMBER: _ClassVar[int]
    BALANCED_FIELD_NUMBER: _ClassVar[int]
    currency: str
    debits_posted: _common_pb2.Money
    credits_posted: _common_pb2.Money
    balanced: bool
    def __init__(self, currency: _Optional[str] = ..., debits_posted: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., credits_posted: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balanced: _Optional[bool] = ...) -> None: ...

class CheckIntegrityResponse(_message.Message):
    __slots__ = ("consistent", "accounts_checked", "entries_checked", "accounts", "mismatch_count", "totals", "overdue_pending_count", "check_time")
    CONSISTENT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    MISMATCH_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_PENDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    consistent: bool
    accounts_checked: int
    entries_checked: int
    accounts: _containers.RepeatedCompositeFieldContainer[AccountIntegrity]
    mismatch_count: int
    totals: _containers.RepeatedCompositeFieldContainer[CurrencyTotals]
    overdue_pending_count: int
    check_time: _timestamp_pb2.Timestamp
    def __init__(self, consistent: _Optional[bool] = ..., accounts_checked: _Optional[int] = ..., entries_checked: _Optional[int] = ..., accounts: _Optional[_Iterable[_Union[AccountIntegrity, _Mapping]]] = ..., mismatch_count: _Optional[int] = ..., totals: _Optional[_Iterable[_Union[CurrencyTotals, _Mapping]]] = ..., overdue_pending_count: _Optional[int] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateLedgerAccountRequest(_message.Message):
    __slots__ = ("ledger_account_id", "kind", "currency")
    LEDGER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ledger_account_id: str
    kind: LedgerAccountKind
    currency: str
    def __init__(self, ledger_account_id: _Optional[str] = ..., kind: _Optional[_Union[LedgerAccountKind, str]] = ..., currency: _Optional[str] = ...) -> None: ...

class CreateLedgerAccountResponse(_message.Message):
    __slots__ = ("ledger_account", "created")
    LEDGER_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ledger_account: LedgerAccount
    created: bool
    def __init__(self, ledger_account: _Optional[_Union[LedgerAccount, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class InternalTransferLeg(_message.Message):
    __slots__ = ("from_account", "to_account", "amount", "kind", "description", "reference")
    FROM_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    from_account: LedgerAccountRef
    to_account: LedgerAccountRef
    amount: _common_pb2.Money
    kind: TransferKind
    description: str
    reference: str
    def __init__(self, from_account: _Optional[_Union[LedgerAccountRef, _Mapping]] = ..., to_account: _Optional[_Union[LedgerAccountRef, _Mapping]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., kind: _Optional[_Union[TransferKind, str]] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class CreateInternalTransferRequest(_message.Message):
    __slots__ = ("request_id", "legs", "on_behalf_of_user_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    LEGS_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_USER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    legs: _containers.RepeatedCompositeFieldContainer[InternalTransferLeg]
    on_behalf_of_user_id: str
    def __init__(self, request_id: _Optional[str] = ..., legs: _Optional[_Iterable[_Union[InternalTransferLeg, _Mapping]]] = ..., on_behalf_of_user_id: _Optional[str] = ...) -> None: ...

class CreateInternalTransferResponse(_message.Message):
    __slots__ = ("transfers",)
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[Transfer]
    def __init__(self, transfers: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ...) -> None: ...

class SetLedgerAccountStatusRequest(_message.Message):
    __slots__ = ("ledger_account_id", "status")
    LEDGER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ledger_account_id: str
    status: LedgerAccountStatus
    def __init__(self, ledger_account_id: _Optional[str] = ..., status: _Optional[_Union[LedgerAccountStatus, str]] = ...) -> None: ...

class SetLedgerAccountStatusResponse(_message.Message):
    __slots__ = ("ledger_account",)
    LEDGER_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ledger_account: LedgerAccount
    def __init__(self, ledger_account: _Optional[_Union[LedgerAccount, _Mapping]] = ...) -> None: ...

class GetLedgerBalanceRequest(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: LedgerAccountRef
    def __init__(self, account: _Optional[_Union[LedgerAccountRef, _Mapping]] = ...) -> None: ...

class GetLedgerBalanceResponse(_message.Message):
    __slots__ = ("ledger_account", "open_pending_count")
    LEDGER_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    OPEN_PENDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    ledger_account: LedgerAccount
    open_pending_count: int
    def __init__(self, ledger_account: _Optional[_Union[LedgerAccount, _Mapping]] = ..., open_pending_count: _Optional[int] = ...) -> None: ...

class ListLedgerEntriesRequest(_message.Message):
    __slots__ = ("ledger_account_id", "start_time", "end_time", "page_size", "page_token")
    LEDGER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ledger_account_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, ledger_account_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLedgerEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_page_token", "opening_balance", "closing_balance", "total_credits", "total_debits", "entry_count")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OPENING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CLOSING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    next_page_token: str
    opening_balance: _common_pb2.Money
    closing_balance: _common_pb2.Money
    total_credits: _common_pb2.Money
    total_debits: _common_pb2.Money
    entry_count: int
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., opening_balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., closing_balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_credits: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_debits: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., entry_count: _Optional[int] = ...) -> None: ...
