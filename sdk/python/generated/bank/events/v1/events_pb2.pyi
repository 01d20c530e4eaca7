import datetime

from bank.account.v1 import account_pb2 as _account_pb2
from bank.common.v1 import common_pb2 as _common_pb2
from bank.finance.v1 import finance_pb2 as _finance_pb2
from bank.transfer.v1 import transfer_pb2 as _transfer_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_USER_REGISTERED: _ClassVar[EventType]
    EVENT_TYPE_USER_LOGGED_IN: _ClassVar[EventType]
    EVENT_TYPE_LOGIN_FAILED: _ClassVar[EventType]
    EVENT_TYPE_ACCOUNT_OPENED: _ClassVar[EventType]
    EVENT_TYPE_ACCOUNT_STATUS_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_CARD_ISSUED: _ClassVar[EventType]
    EVENT_TYPE_TRANSFER_POSTED: _ClassVar[EventType]
    EVENT_TYPE_TRANSFER_DECLINED: _ClassVar[EventType]
    EVENT_TYPE_TRANSFER_PENDING: _ClassVar[EventType]
    EVENT_TYPE_TRANSFER_VOIDED: _ClassVar[EventType]
    EVENT_TYPE_TRANSFER_EXPIRED: _ClassVar[EventType]
    EVENT_TYPE_APPLICATION_SUBMITTED: _ClassVar[EventType]
    EVENT_TYPE_APPLICATION_DECIDED: _ClassVar[EventType]
    EVENT_TYPE_FINANCING_OPTION_SELECTED: _ClassVar[EventType]
    EVENT_TYPE_LOAN_DISBURSED: _ClassVar[EventType]
    EVENT_TYPE_REPAYMENT_RECEIVED: _ClassVar[EventType]
    EVENT_TYPE_APPLICATION_STATUS_CHANGED: _ClassVar[EventType]

class LoginFailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOGIN_FAILURE_REASON_UNSPECIFIED: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_UNKNOWN_EMAIL: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_WRONG_PASSWORD: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_USER_DISABLED: _ClassVar[LoginFailureReason]
    LOGIN_FAILURE_REASON_THROTTLED: _ClassVar[LoginFailureReason]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_USER_REGISTERED: EventType
EVENT_TYPE_USER_LOGGED_IN: EventType
EVENT_TYPE_LOGIN_FAILED: EventType
EVENT_TYPE_ACCOUNT_OPENED: EventType
EVENT_TYPE_ACCOUNT_STATUS_CHANGED: EventType
EVENT_TYPE_CARD_ISSUED: EventType
EVENT_TYPE_TRANSFER_POSTED: EventType
EVENT_TYPE_TRANSFER_DECLINED: EventType
EVENT_TYPE_TRANSFER_PENDING: EventType
EVENT_TYPE_TRANSFER_VOIDED: EventType
EVENT_TYPE_TRANSFER_EXPIRED: EventType
EVENT_TYPE_APPLICATION_SUBMITTED: EventType
EVENT_TYPE_APPLICATION_DECIDED: EventType
EVENT_TYPE_FINANCING_OPTION_SELECTED: EventType
EVENT_TYPE_LOAN_DISBURSED: EventType
EVENT_TYPE_REPAYMENT_RECEIVED: EventType
EVENT_TYPE_APPLICATION_STATUS_CHANGED: EventType
LOGIN_FAILURE_REASON_UNSPECIFIED: LoginFailureReason
LOGIN_FAILURE_REASON_UNKNOWN_EMAIL: LoginFailureReason
LOGIN_FAILURE_REASON_WRONG_PASSWORD: LoginFailureReason
LOGIN_FAILURE_REASON_USER_DISABLED: LoginFailureReason
LOGIN_FAILURE_REASON_THROTTLED: LoginFailureReason

class Event(_message.Message):
    __slots__ = ("event_id", "type", "occur_time", "producer", "aggregate_type", "aggregate_id", "sequence", "trace_id", "actor_user_id", "user_registered", "user_logged_in", "login_failed", "account_opened", "account_status_changed", "card_issued", "transfer_posted", "transfer_declined", "transfer_pending", "transfer_voided", "transfer_expired", "application_submitted", "application_decided", "financing_option_selected", "loan_disbursed", "repayment_received", "application_status_changed")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_TYPE_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    USER_LOGGED_IN_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FAILED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_OPENED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_STATUS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    CARD_ISSUED_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_POSTED_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_DECLINED_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_PENDING_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_VOIDED_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_DECIDED_FIELD_NUMBER: _ClassVar[int]
    FINANCING_OPTION_SELECTED_FIELD_NUMBER: _ClassVar[int]
    LOAN_DISBURSED_FIELD_NUMBER: _ClassVar[int]
    REPAYMENT_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_STATUS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: EventType
    occur_time: _timestamp_pb2.Timestamp
    producer: str
    aggregate_type: str
    aggregate_id: str
    sequence: int
    trace_id: str
    actor_user_id: str
    user_registered: UserRegistered
    user_logged_in: UserLoggedIn
    login_failed: LoginFailed
    account_opened: AccountOpened
    account_status_changed: AccountStatusChanged
    card_issued: CardIssued
    transfer_posted: TransferPosted
    transfer_declined: TransferDeclined
    transfer_pending: TransferPending
    transfer_voided: TransferVoided
    transfer_expired: TransferExpired
    application_submitted: ApplicationSubmitted
    application_decided: ApplicationDecided
    financing_option_selected: FinancingOptionSelected
    loan_disbursed: LoanDisbursed
    repayment_received: RepaymentReceived
    application_status_changed: ApplicationStatusChanged
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[_Union[EventType, str]] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., producer: _Optional[str] = ..., aggregate_type: _Optional[str] = ..., aggregate_id: _Optional[str] = ..., sequence: _Optional[int] = ..., trace_id: _Optional[str] = ..., actor_user_id: _Optional[str] = ..., user_registered: _Optional[_Union[UserRegistered, _Mapping]] = ..., user_logged_in: _Optional[_Union[UserLoggedIn, _Mapping]] = ..., login_failed: _Optional[_Union[LoginFailed, _Mapping]] = ..., account_opened: _Optional[_Union[AccountOpened, _Mapping]] = ..., account_status_changed: _Optional[_Union[AccountStatusChanged, _Mapping]] = ..., card_issued: _Optional[_Union[CardIssued, _Mapping]] = ..., transfer_posted: _Optional[_Union[TransferPosted, _Mapping]] = ..., transfer_declined: _Optional[_Union[TransferDeclined, _Mapping]] = ..., transfer_pending: _Optional[_Union[TransferPending, _Mapping]] = ..., transfer_voided: _Optional[_Union[TransferVoided, _Mapping]] = ..., transfer_expired: _Optional[_Union[TransferExpired, _Mapping]] = ..., application_submitted: _Optional[_Union[ApplicationSubmitted, _Mapping]] = ..., application_decided: _Optional[_Union[ApplicationDecided, _Mapping]] = ..., financing_option_selected: _Optional[_Union[FinancingOptionSelected, _Mapping]] = ..., loan_disbursed: _Optional[_Union[LoanDisbursed, _Mapping]] = ..., repayment_received: _Optional[_Union[RepaymentReceived, _Mapping]] = ..., application_status_changed: _Optional[_Union[ApplicationStatusChanged, _Mapping]] = ...) -> None: ...

class UserRegistered(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UserLoggedIn(_message.Message):
    __slots__ = ("user_id", "session_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    session_id: str
    def __init__(self, user_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class LoginFailed(_message.Message):
    __slots__ = ("user_id", "email_hash", "reason")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_HASH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email_hash: str
    reason: LoginFailureReason
    def __init__(self, user_id: _Optional[str] = ..., email_hash: _Optional[str] = ..., reason: _Optional[_Union[LoginFailureReason, str]] = ...) -> None: ...

class AccountOpened(_message.Message):
    __slots__ = ("account_id", "owner_user_id", "type", "currency", "system_kind")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_KIND_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    owner_user_id: str
    type: _account_pb2.AccountType
    currency: str
    system_kind: _transfer_pb2.LedgerAccountKind
    def __init__(self, account_id: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., type: _Optional[_Union[_account_pb2.AccountType, str]] = ..., currency: _Optional[str] = ..., system_kind: _Optional[_Union[_transfer_pb2.LedgerAccountKind, str]] = ...) -> None: ...

class AccountStatusChanged(_message.Message):
    __slots__ = ("account_id", "owner_user_id", "from_status", "to_status", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    owner_user_id: str
    from_status: _account_pb2.AccountStatus
    to_status: _account_pb2.AccountStatus
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., from_status: _Optional[_Union[_account_pb2.AccountStatus, str]] = ..., to_status: _Optional[_Union[_account_pb2.AccountStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class CardIssued(_message.Message):
    __slots__ = ("card_id", "account_id", "owner_user_id", "last_four", "expiry_month", "expiry_year")
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_MONTH_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_YEAR_FIELD_NUMBER: _ClassVar[int]
    card_id: str
    account_id: str
    owner_user_id: str
    last_four: str
    expiry_month: int
    expiry_year: int
    def __init__(self, card_id: _Optional[str] = ..., account_id: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., last_four: _Optional[str] = ..., expiry_month: _Optional[int] = ..., expiry_year: _Optional[int] = ...) -> None: ...

class TransferPosted(_message.Message):
    __slots__ = ("transfer_id", "type", "kind", "debit_account_id", "credit_account_id", "amount", "pending_transfer_id", "initiator_user_id")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    type: _transfer_pb2.TransferType
    kind: _transfer_pb2.TransferKind
    debit_account_id: str
    credit_account_id: str
    amount: _common_pb2.Money
    pending_transfer_id: str
    initiator_user_id: str
    def __init__(self, transfer_id: _Optional[str] = ..., type: _Optional[_Union[_transfer_pb2.TransferType, str]] = ..., kind: _Optional[_Union[_transfer_pb2.TransferKind, str]] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., pending_transfer_id: _Optional[str] = ..., initiator_user_id: _Optional[str] = ...) -> None: ...

class TransferDeclined(_message.Message):
    __slots__ = ("transfer_id", "type", "kind", "debit_account_id", "credit_account_id", "amount", "reason", "initiator_user_id")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    type: _transfer_pb2.TransferType
    kind: _transfer_pb2.TransferKind
    debit_account_id: str
    credit_account_id: str
    amount: _common_pb2.Money
    reason: _transfer_pb2.DeclineReason
    initiator_user_id: str
    def __init__(self, transfer_id: _Optional[str] = ..., type: _Optional[_Union[_transfer_pb2.TransferType, str]] = ..., kind: _Optional[_Union[_transfer_pb2.TransferKind, str]] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., reason: _Optional[_Union[_transfer_pb2.DeclineReason, str]] = ..., initiator_user_id: _Optional[str] = ...) -> None: ...

class TransferPending(_message.Message):
    __slots__ = ("transfer_id", "kind", "debit_account_id", "credit_account_id", "amount", "expire_time", "initiator_user_id")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    kind: _transfer_pb2.TransferKind
    debit_account_id: str
    credit_account_id: str
    amount: _common_pb2.Money
    expire_time: _timestamp_pb2.Timestamp
    initiator_user_id: str
    def __init__(self, transfer_id: _Optional[str] = ..., kind: _Optional[_Union[_transfer_pb2.TransferKind, str]] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., initiator_user_id: _Optional[str] = ...) -> None: ...

class TransferVoided(_message.Message):
    __slots__ = ("transfer_id", "pending_transfer_id", "debit_account_id", "credit_account_id", "amount")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    PENDING_TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    pending_transfer_id: str
    debit_account_id: str
    credit_account_id: str
    amount: _common_pb2.Money
    def __init__(self, transfer_id: _Optional[str] = ..., pending_transfer_id: _Optional[str] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class TransferExpired(_message.Message):
    __slots__ = ("pending_transfer_id", "debit_account_id", "credit_account_id", "amount", "expire_time")
    PENDING_TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    pending_transfer_id: str
    debit_account_id: str
    credit_account_id: str
    amount: _common_pb2.Money
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, pending_transfer_id: _Optional[str] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApplicationSubmitted(_message.Message):
    __slots__ = ("application_id", "applicant_user_id", "product_type", "amount", "term_months")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_USER_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    applicant_user_id: str
    product_type: _finance_pb2.ProductType
    amount: _common_pb2.Money
    term_months: int
    def __init__(self, application_id: _Optional[str] = ..., applicant_user_id: _Optional[str] = ..., product_type: _Optional[_Union[_finance_pb2.ProductType, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., term_months: _Optional[int] = ...) -> None: ...

class ApplicationDecided(_message.Message):
    __slots__ = ("application_id", "applicant_user_id", "decision", "from_status", "to_status", "reason", "decided_by_user_id")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_USER_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_USER_ID_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    applicant_user_id: str
    decision: _finance_pb2.Decision
    from_status: _finance_pb2.ApplicationStatus
    to_status: _finance_pb2.ApplicationStatus
    reason: str
    decided_by_user_id: str
    def __init__(self, application_id: _Optional[str] = ..., applicant_user_id: _Optional[str] = ..., decision: _Optional[_Union[_finance_pb2.Decision, str]] = ..., from_status: _Optional[_Union[_finance_pb2.ApplicationStatus, str]] = ..., to_status: _Optional[_Union[_finance_pb2.ApplicationStatus, str]] = ..., reason: _Optional[str] = ..., decided_by_user_id: _Optional[str] = ...) -> None: ...

class ApplicationStatusChanged(_message.Message):
    __slots__ = ("application_id", "applicant_user_id", "from_status", "to_status")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_USER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    applicant_user_id: str
    from_status: _finance_pb2.ApplicationStatus
    to_status: _finance_pb2.ApplicationStatus
    def __init__(self, application_id: _Optional[str] = ..., applicant_user_id: _Optional[str] = ..., from_status: _Optional[_Union[_finance_pb2.ApplicationStatus, str]] = ..., to_status: _Optional[_Union[_finance_pb2.ApplicationStatus, str]] = ...) -> None: ...

class FinancingOptionSelected(_message.Message):
    __slots__ = ("application_id", "applicant_user_id", "option_id", "product_type", "annual_rate_bps")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_USER_ID_FIELD_NUMBER: _ClassVar[int]
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    applicant_user_id: str
    option_id: str
    product_type: _finance_pb2.ProductType
    annual_rate_bps: int
    def __init__(self, application_id: _Optional[str] = ..., applicant_user_id: _Optional[str] = ..., option_id: _Optional[str] = ..., product_type: _Optional[_Union[_finance_pb2.ProductType, str]] = ..., annual_rate_bps: _Optional[int] = ...) -> None: ...

class LoanDisbursed(_message.Message):
    __slots__ = ("loan_id", "application_id", "borrower_user_id", "principal", "annual_rate_bps", "term_months", "disbursement_account_id", "transfer_id")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    BORROWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    DISBURSEMENT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    application_id: str
    borrower_user_id: str
    principal: _common_pb2.Money
    annual_rate_bps: int
    term_months: int
    disbursement_account_id: str
    transfer_id: str
    def __init__(self, loan_id: _Optional[str] = ..., application_id: _Optional[str] = ..., borrower_user_id: _Optional[str] = ..., principal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., annual_rate_bps: _Optional[int] = ..., term_months: _Optional[int] = ..., disbursement_account_id: _Optional[str] = ..., transfer_id: _Optional[str] = ...) -> None: ...

class RepaymentReceived(_message.Message):
    __slots__ = ("repayment_id", "loan_id", "borrower_user_id", "from_account_id", "amount", "principal_part", "interest_part", "outstanding_after", "paid_off")
    REPAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    BORROWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_PART_FIELD_NUMBER: _ClassVar[int]
    INTEREST_PART_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_AFTER_FIELD_NUMBER: _ClassVar[int]
    PAID_OFF_FIELD_NUMBER: _ClassVar[int]
    repayment_id: str
    loan_id: str
    borrower_user_id: str
    from_account_id: str
    amount: _common_pb2.Money
    principal_part: _common_pb2.Money
    interest_part: _common_pb2.Money
    outstanding_after: _common_pb2.Money
    paid_off: bool
    def __init__(self, repayment_id: _Optional[str] = ..., loan_id: _Optional[str] = ..., borrower_user_id: _Optional[str] = ..., from_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., principal_part: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., interest_part: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., outstanding_after: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., paid_off: _Optional[bool] = ...) -> None: ...
