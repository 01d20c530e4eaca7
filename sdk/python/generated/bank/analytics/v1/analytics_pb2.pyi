import datetime

from bank.common.v1 import common_pb2 as _common_pb2
from bank.events.v1 import events_pb2 as _events_pb2
from bank.finance.v1 import finance_pb2 as _finance_pb2
from bank.transfer.v1 import transfer_pb2 as _transfer_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FraudRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAUD_RULE_UNSPECIFIED: _ClassVar[FraudRule]
    FRAUD_RULE_LARGE_AMOUNT: _ClassVar[FraudRule]
    FRAUD_RULE_HIGH_VELOCITY: _ClassVar[FraudRule]
    FRAUD_RULE_NEW_ACCOUNT_LARGE_TRANSFER: _ClassVar[FraudRule]

class ReviewStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_STATUS_UNSPECIFIED: _ClassVar[ReviewStatus]
    REVIEW_STATUS_OPEN: _ClassVar[ReviewStatus]
    REVIEW_STATUS_REVIEWED: _ClassVar[ReviewStatus]

class ReviewOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_OUTCOME_UNSPECIFIED: _ClassVar[ReviewOutcome]
    REVIEW_OUTCOME_FALSE_POSITIVE: _ClassVar[ReviewOutcome]
    REVIEW_OUTCOME_CONFIRMED_FRAUD: _ClassVar[ReviewOutcome]
FRAUD_RULE_UNSPECIFIED: FraudRule
FRAUD_RULE_LARGE_AMOUNT: FraudRule
FRAUD_RULE_HIGH_VELOCITY: FraudRule
FRAUD_RULE_NEW_ACCOUNT_LARGE_TRANSFER: FraudRule
REVIEW_STATUS_UNSPECIFIED: ReviewStatus
REVIEW_STATUS_OPEN: ReviewStatus
REVIEW_STATUS_REVIEWED: ReviewStatus
REVIEW_OUTCOME_UNSPECIFIED: ReviewOutcome
REVIEW_OUTCOME_FALSE_POSITIVE: ReviewOutcome
REVIEW_OUTCOME_CONFIRMED_FRAUD: ReviewOutcome

class UserLogins(_message.Message):
    __slots__ = ("user_id", "login_count", "failed_login_count", "last_login_time")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LOGIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_LOGIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_LOGIN_TIME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    login_count: int
    failed_login_count: int
    last_login_time: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., login_count: _Optional[int] = ..., failed_login_count: _Optional[int] = ..., last_login_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DailyCount(_message.Message):
    __slots__ = ("date", "count")
    DATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    date: _common_pb2.CalendarDate
    count: int
    def __init__(self, date: _Optional[_Union[_common_pb2.CalendarDate, _Mapping]] = ..., count: _Optional[int] = ...) -> None: ...

class DailyTransferVolume(_message.Message):
    __slots__ = ("date", "currency", "count", "volume")
    DATE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    date: _common_pb2.CalendarDate
    currency: str
    count: int
    volume: _common_pb2.Money
    def __init__(self, date: _Optional[_Union[_common_pb2.CalendarDate, _Mapping]] = ..., currency: _Optional[str] = ..., count: _Optional[int] = ..., volume: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class DeclineCount(_message.Message):
    __slots__ = ("reason", "count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: _transfer_pb2.DeclineReason
    count: int
    def __init__(self, reason: _Optional[_Union[_transfer_pb2.DeclineReason, str]] = ..., count: _Optional[int] = ...) -> None: ...

class ApplicationStatusCount(_message.Message):
    __slots__ = ("status", "count")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    status: _finance_pb2.ApplicationStatus
    count: int
    def __init__(self, status: _Optional[_Union[_finance_pb2.ApplicationStatus, str]] = ..., count: _Optional[int] = ...) -> None: ...

class OptionSelectionCount(_message.Message):
    __slots__ = ("user_id", "option_id", "product_type", "selection_count")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SELECTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    option_id: str
    product_type: _finance_pb2.ProductType
    selection_count: int
    def __init__(self, user_id: _Optional[str] = ..., option_id: _Optional[str] = ..., product_type: _Optional[_Union[_finance_pb2.ProductType, str]] = ..., selection_count: _Optional[int] = ...) -> None: ...

class FlaggedTransfer(_message.Message):
    __slots__ = ("flag_id", "transfer_id", "rule", "detail", "debit_account_id", "credit_account_id", "amount", "transfer_time", "flag_time", "review_status", "review_outcome", "review_note", "reviewer_user_id", "review_time")
    FLAG_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_TIME_FIELD_NUMBER: _ClassVar[int]
    FLAG_TIME_FIELD_NUMBER: _ClassVar[int]
    REVIEW_STATUS_FIELD_NUMBER: _ClassVar[int]
    REVIEW_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REVIEW_NOTE_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_TIME_FIELD_NUMBER: _ClassVar[int]
    flag_id: str
    transfer_id: str
    rule: FraudRule
    detail: str
    debit_account_id: str
    credit_account_id: str
    amount: _common_pb2.Money
    transfer_time: _timestamp_pb2.Timestamp
    flag_time: _timestamp_pb2.Timestamp
    review_status: ReviewStatus
    review_outcome: ReviewOutcome
    review_note: str
    reviewer_user_id: str
    review_time: _timestamp_pb2.Timestamp
    def __init__(self, flag_id: _Optional[str] = ..., transfer_id: _Optional[str] = ..., rule: _Optional[_Union[FraudRule, str]] = ..., detail: _Optional[str] = ..., debit_account_id: _Optional[str] = ..., credit_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., transfer_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., flag_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_status: _Optional[_Union[ReviewStatus, str]] = ..., review_outcome: _Optional[_Union[ReviewOutcome, str]] = ..., review_note: _Optional[str] = ..., reviewer_user_id: _Optional[str] = ..., review_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MonthlySpending(_message.Message):
    __slots__ = ("month", "currency", "spent", "received", "spent_count", "received_count", "spent_by_kind")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    SPENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SPENT_BY_KIND_FIELD_NUMBER: _ClassVar[int]
    month: _common_pb2.YearMonth
    currency: str
    spent: _common_pb2.Money
    received: _common_pb2.Money
    spent_count: int
    received_count: int
    spent_by_kind: _containers.RepeatedCompositeFieldContainer[KindTotal]
    def __init__(self, month: _Optional[_Union[_common_pb2.YearMonth, _Mapping]] = ..., currency: _Optional[str] = ..., spent: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., received: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., spent_count: _Optional[int] = ..., received_count: _Optional[int] = ..., spent_by_kind: _Optional[_Iterable[_Union[KindTotal, _Mapping]]] = ...) -> None: ...

class KindTotal(_message.Message):
    __slots__ = ("kind", "amount", "count")
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    kind: _transfer_pb2.TransferKind
    amount: _common_pb2.Money
    count: int
    def __init__(self, kind: _Optional[_Union[_transfer_pb2.TransferKind, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., count: _Optional[int] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("server_time",)
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSummaryRequest(_message.Message):
    __slots__ = ("start_date", "end_date", "top_users_limit")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    TOP_USERS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    start_date: _common_pb2.CalendarDate
    end_date: _common_pb2.CalendarDate
    top_users_limit: int
    def __init__(self, start_date: _Optional[_Union[_common_pb2.CalendarDate, _Mapping]] = ..., end_date: _Optional[_Union[_common_pb2.CalendarDate, _Mapping]] = ..., top_users_limit: _Optional[int] = ...) -> None: ...

class GetSummaryResponse(_message.Message):
    __slots__ = ("total_users", "new_users", "total_logins", "failed_logins", "logins_per_user", "active_users_by_day", "transfers_by_day", "declines_by_reason", "applications_by_status", "option_selections_per_user", "data_as_of")
    TOTAL_USERS_FIELD_NUMBER: _ClassVar[int]
    NEW_USERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_LOGINS_FIELD_NUMBER: _ClassVar[int]
    FAILED_LOGINS_FIELD_NUMBER: _ClassVar[int]
    LOGINS_PER_USER_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_USERS_BY_DAY_FIELD_NUMBER: _ClassVar[int]
    TRANSFERS_BY_DAY_FIELD_NUMBER: _ClassVar[int]
    DECLINES_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    OPTION_SELECTIONS_PER_USER_FIELD_NUMBER: _ClassVar[int]
    DATA_AS_OF_FIELD_NUMBER: _ClassVar[int]
    total_users: int
    new_users: int
    total_logins: int
    failed_logins: int
    logins_per_user: _containers.RepeatedCompositeFieldContainer[UserLogins]
    active_users_by_day: _containers.RepeatedCompositeFieldContainer[DailyCount]
    transfers_by_day: _containers.RepeatedCompositeFieldContainer[DailyTransferVolume]
    declines_by_reason: _containers.RepeatedCompositeFieldContainer[DeclineCount]
    applications_by_status: _containers.RepeatedCompositeFieldContainer[ApplicationStatusCount]
    option_selections_per_user: _containers.RepeatedCompositeFieldContainer[OptionSelectionCount]
    data_as_of: _timestamp_pb2.Timestamp
    def __init__(self, total_users: _Optional[int] = ..., new_users: _Optional[int] = ..., total_logins: _Optional[int] = ..., failed_logins: _Optional[int] = ..., logins_per_user: _Optional[_Iterable[_Union[UserLogins, _Mapping]]] = ..., active_users_by_day: _Optional[_Iterable[_Union[DailyCount, _Mapping]]] = ..., transfers_by_day: _Optional[_Iterable[_Union[DailyTransferVolume, _Mapping]]] = ..., declines_by_reason: _Optional[_Iterable[_Union[DeclineCount, _Mapping]]] = ..., applications_by_status: _Optional[_Iterable[_Union[ApplicationStatusCount, _Mapping]]] = ..., option_selections_per_user: _Optional[_Iterable[_Union[OptionSelectionCount, _Mapping]]] = ..., data_as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListFlaggedTransfersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "review_statuses", "rules", "account_id", "start_time", "end_time")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REVIEW_STATUSES_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    review_statuses: _containers.RepeatedScalarFieldContainer[ReviewStatus]
    rules: _containers.RepeatedScalarFieldContainer[FraudRule]
    account_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., review_statuses: _Optional[_Iterable[_Union[ReviewStatus, str]]] = ..., rules: _Optional[_Iterable[_Union[FraudRule, str]]] = ..., account_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListFlaggedTransfersResponse(_message.Message):
    __slots__ = ("flagged_transfers", "next_page_token")
    FLAGGED_TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flagged_transfers: _containers.RepeatedCompositeFieldContainer[FlaggedTransfer]
    next_page_token: str
    def __init__(self, flagged_transfers: _Optional[_Iterable[_Union[FlaggedTransfer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReviewFlaggedTransferRequest(_message.Message):
    __slots__ = ("flag_id", "outcome", "note")
    FLAG_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    flag_id: str
    outcome: ReviewOutcome
    note: str
    def __init__(self, flag_id: _Optional[str] = ..., outcome: _Optional[_Union[ReviewOutcome, str]] = ..., note: _Optional[str] = ...) -> None: ...

class ReviewFlaggedTransferResponse(_message.Message):
    __slots__ = ("flagged_transfer",)
    FLAGGED_TRANSFER_FIELD_NUMBER: _ClassVar[int]
    flagged_transfer: FlaggedTransfer
    def __init__(self, flagged_transfer: _Optional[_Union[FlaggedTransfer, _Mapping]] = ...) -> None: ...

class GetMySpendingRequest(_message.Message):
    __slots__ = ("start_month", "end_month")
    START_MONTH_FIELD_NUMBER: _ClassVar[int]
    END_MONTH_FIELD_NUMBER: _ClassVar[int]
    start_month: _common_pb2.YearMonth
    end_month: _common_pb2.YearMonth
    def __init__(self, start_month: _Optional[_Union[_common_pb2.YearMonth, _Mapping]] = ..., end_month: _Optional[_Union[_common_pb2.YearMonth, _Mapping]] = ...) -> None: ...

class GetMySpendingResponse(_message.Message):
    __slots__ = ("months", "data_as_of")
    MONTHS_FIELD_NUMBER: _ClassVar[int]
    DATA_AS_OF_FIELD_NUMBER: _ClassVar[int]
    months: _containers.RepeatedCompositeFieldContainer[MonthlySpending]
    data_as_of: _timestamp_pb2.Timestamp
    def __init__(self, months: _Optional[_Iterable[_Union[MonthlySpending, _Mapping]]] = ..., data_as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("event_types", "replay_last")
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    REPLAY_LAST_FIELD_NUMBER: _ClassVar[int]
    event_types: _containers.RepeatedScalarFieldContainer[_events_pb2.EventType]
    replay_last: int
    def __init__(self, event_types: _Optional[_Iterable[_Union[_events_pb2.EventType, str]]] = ..., replay_last: _Optional[int] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event", "heartbeat")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    heartbeat: Heartbeat
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...
