import datetime

from bank.common.v1 import common_pb2 as _common_pb2
from bank.transfer.v1 import transfer_pb2 as _transfer_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_TYPE_UNSPECIFIED: _ClassVar[AccountType]
    ACCOUNT_TYPE_CHECKING: _ClassVar[AccountType]
    ACCOUNT_TYPE_SAVINGS: _ClassVar[AccountType]
    ACCOUNT_TYPE_LOAN: _ClassVar[AccountType]
    ACCOUNT_TYPE_SYSTEM: _ClassVar[AccountType]

class AccountStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_STATUS_UNSPECIFIED: _ClassVar[AccountStatus]
    ACCOUNT_STATUS_OPEN: _ClassVar[AccountStatus]
    ACCOUNT_STATUS_FROZEN: _ClassVar[AccountStatus]
    ACCOUNT_STATUS_CLOSED: _ClassVar[AccountStatus]

class CardStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARD_STATUS_UNSPECIFIED: _ClassVar[CardStatus]
    CARD_STATUS_ACTIVE: _ClassVar[CardStatus]
    CARD_STATUS_BLOCKED: _ClassVar[CardStatus]
    CARD_STATUS_EXPIRED: _ClassVar[CardStatus]

class CardBlockReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARD_BLOCK_REASON_UNSPECIFIED: _ClassVar[CardBlockReason]
    CARD_BLOCK_REASON_LOST: _ClassVar[CardBlockReason]
    CARD_BLOCK_REASON_STOLEN: _ClassVar[CardBlockReason]
    CARD_BLOCK_REASON_DAMAGED: _ClassVar[CardBlockReason]
    CARD_BLOCK_REASON_ACCOUNT_CLOSED: _ClassVar[CardBlockReason]
    CARD_BLOCK_REASON_OTHER: _ClassVar[CardBlockReason]
ACCOUNT_TYPE_UNSPECIFIED: AccountType
ACCOUNT_TYPE_CHECKING: AccountType
ACCOUNT_TYPE_SAVINGS: AccountType
ACCOUNT_TYPE_LOAN: AccountType
ACCOUNT_TYPE_SYSTEM: AccountType
ACCOUNT_STATUS_UNSPECIFIED: AccountStatus
ACCOUNT_STATUS_OPEN: AccountStatus
ACCOUNT_STATUS_FROZEN: AccountStatus
ACCOUNT_STATUS_CLOSED: AccountStatus
CARD_STATUS_UNSPECIFIED: CardStatus
CARD_STATUS_ACTIVE: CardStatus
CARD_STATUS_BLOCKED: CardStatus
CARD_STATUS_EXPIRED: CardStatus
CARD_BLOCK_REASON_UNSPECIFIED: CardBlockReason
CARD_BLOCK_REASON_LOST: CardBlockReason
CARD_BLOCK_REASON_STOLEN: CardBlockReason
CARD_BLOCK_REASON_DAMAGED: CardBlockReason
CARD_BLOCK_REASON_ACCOUNT_CLOSED: CardBlockReason
CARD_BLOCK_REASON_OTHER: CardBlockReason

class Account(_message.Message):
    __slots__ = ("account_id", "account_number", "owner_user_id", "type", "status", "currency", "display_name", "system_kind", "status_reason", "open_time", "status_change_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    account_number: str
    owner_user_id: str
    type: AccountType
    status: AccountStatus
    currency: str
    display_name: str
    system_kind: _transfer_pb2.LedgerAccountKind
    status_reason: str
    open_time: _timestamp_pb2.Timestamp
    status_change_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., account_number: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., type: _Optional[_Union[AccountType, str]] = ..., status: _Optional[_Union[AccountStatus, str]] = ..., currency: _Optional[str] = ..., display_name: _Optional[str] = ..., system_kind: _Optional[_Union[_transfer_pb2.LedgerAccountKind, str]] = ..., status_reason: _Optional[str] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status_change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HolderProfile(_message.Message):
    __slots__ = ("user_id", "full_name", "phone", "email", "update_time")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    full_name: str
    phone: str
    email: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., full_name: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Card(_message.Message):
    __slots__ = ("card_id", "account_id", "last_four", "expiry_month", "expiry_year", "cardholder_name", "status", "block_reason", "issue_time", "block_time")
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_MONTH_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_YEAR_FIELD_NUMBER: _ClassVar[int]
    CARDHOLDER_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BLOCK_REASON_FIELD_NUMBER: _ClassVar[int]
    ISSUE_TIME_FIELD_NUMBER: _ClassVar[int]
    BLOCK_TIME_FIELD_NUMBER: _ClassVar[int]
    card_id: str
    account_id: str
    last_four: str
    expiry_month: int
    expiry_year: int
    cardholder_name: str
    status: CardStatus
    block_reason: CardBlockReason
    issue_time: _timestamp_pb2.Timestamp
    block_time: _timestamp_pb2.Timestamp
    def __init__(self, card_id: _Optional[str] = ..., account_id: _Optional[str] = ..., last_four: _Optional[str] = ..., expiry_month: _Optional[int] = ..., expiry_year: _Optional[int] = ..., cardholder_name: _Optional[str] = ..., status: _Optional[_Union[CardStatus, str]] = ..., block_reason: _Optional[_Union[CardBlockReason, str]] = ..., issue_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., block_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CardPurchase(_message.Message):
    __slots__ = ("transfer_id", "card_id", "card_last_four", "account_id", "merchant_name", "merchant_category_code", "amount", "approve_time")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_NAME_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_CATEGORY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    APPROVE_TIME_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    card_id: str
    card_last_four: str
    account_id: str
    merchant_name: str
    merchant_category_code: str
    amount: _common_pb2.Money
    approve_time: _timestamp_pb2.Timestamp
    def __init__(self, transfer_id: _Optional[str] = ..., card_id: _Optional[str] = ..., card_last_four: _Optional[str] = ..., account_id: _Optional[str] = ..., merchant_name: _Optional[str] = ..., merchant_category_code: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., approve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatementEntry(_message.Message):
    __slots__ = ("sequence", "transfer_id", "post_time", "direction", "amount", "balance_after", "kind", "description", "reference", "counterparty_account_id")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    POST_TIME_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    transfer_id: str
    post_time: _timestamp_pb2.Timestamp
    direction: _transfer_pb2.EntryDirection
    amount: _common_pb2.Money
    balance_after: _common_pb2.Money
    kind: _transfer_pb2.TransferKind
    description: str
    reference: str
    counterparty_account_id: str
    def __init__(self, sequence: _Optional[int] = ..., transfer_id: _Optional[str] = ..., post_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., direction: _Optional[_Union[_transfer_pb2.EntryDirection, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balance_after: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., kind: _Optional[_Union[_transfer_pb2.TransferKind, str]] = ..., description: _Optional[str] = ..., reference: _Optional[str] = ..., counterparty_account_id: _Optional[str] = ...) -> None: ...

class Statement(_message.Message):
    __slots__ = ("account_id", "account_number", "period", "currency", "start_time", "end_time", "opening_balance", "closing_balance", "total_credits", "total_debits", "entry_count", "entries", "entries_truncated", "generate_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    OPENING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CLOSING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    GENERATE_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    account_number: str
    period: _common_pb2.YearMonth
    currency: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    opening_balance: _common_pb2.Money
    closing_balance: _common_pb2.Money
    total_credits: _common_pb2.Money
    total_debits: _common_pb2.Money
    entry_count: int
    entries: _containers.RepeatedCompositeFieldContainer[StatementEntry]
    entries_truncated: bool
    generate_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., account_number: _Optional[str] = ..., period: _Optional[_Union[_common_pb2.YearMonth, _Mapping]] = ..., currency: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., opening_balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., closing_balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_credits: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_debits: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., entry_count: _Optional[int] = ..., entries: _Optional[_Iterable[_Union[StatementEntry, _Mapping]]] = ..., entries_truncated: _Optional[bool] = ..., generate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatementHeader(_message.Message):
    __slots__ = ("account_id", "account_number", "currency", "start_time", "end_time", "opening_balance", "entry_count")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    OPENING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    account_number: str
    currency: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    opening_balance: _common_pb2.Money
    entry_count: int
    def __init__(self, account_id: _Optional[str] = ..., account_number: _Optional[str] = ..., currency: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., opening_balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., entry_count: _Optional[int] = ...) -> None: ...

class StatementTrailer(_message.Message):
    __slots__ = ("closing_balance", "total_credits", "total_debits", "entry_count")
    CLOSING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    closing_balance: _common_pb2.Money
    total_credits: _common_pb2.Money
    total_debits: _common_pb2.Money
    entry_count: int
    def __init__(self, closing_balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_credits: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_debits: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., entry_count: _Optional[int] = ...) -> None: ...

class AccountFacts(_message.Message):
    __slots__ = ("account_id", "account_number", "owner_user_id", "type", "status", "currency", "ledger_account_id", "system_kind", "open_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LEDGER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_KIND_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    account_number: str
    owner_user_id: str
    type: AccountType
    status: AccountStatus
    currency: str
    ledger_account_id: str
    system_kind: _transfer_pb2.LedgerAccountKind
    open_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., account_number: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., type: _Optional[_Union[AccountType, str]] = ..., status: _Optional[_Union[AccountStatus, str]] = ..., currency: _Optional[str] = ..., ledger_account_id: _Optional[str] = ..., system_kind: _Optional[_Union[_transfer_pb2.LedgerAccountKind, str]] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OpenAccountRequest(_message.Message):
    __slots__ = ("request_id", "type", "currency", "display_name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    type: AccountType
    currency: str
    display_name: str
    def __init__(self, request_id: _Optional[str] = ..., type: _Optional[_Union[AccountType, str]] = ..., currency: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class OpenAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "include_closed")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    include_closed: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_closed: _Optional[bool] = ...) -> None: ...

class ListAccountsResponse(_message.Message):
    __slots__ = ("accounts", "next_page_token")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    next_page_token: str
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class LookupAccountRequest(_message.Message):
    __slots__ = ("account_number",)
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    account_number: str
    def __init__(self, account_number: _Optional[str] = ...) -> None: ...

class LookupAccountResponse(_message.Message):
    __slots__ = ("account_id", "account_number", "currency", "holder_name_hint")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    HOLDER_NAME_HINT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    account_number: str
    currency: str
    holder_name_hint: str
    def __init__(self, account_id: _Optional[str] = ..., account_number: _Optional[str] = ..., currency: _Optional[str] = ..., holder_name_hint: _Optional[str] = ...) -> None: ...

class ListAllAccountsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "owner_user_id", "types", "statuses", "currency", "account_number")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    owner_user_id: str
    types: _containers.RepeatedScalarFieldContainer[AccountType]
    statuses: _containers.RepeatedScalarFieldContainer[AccountStatus]
    currency: str
    account_number: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., types: _Optional[_Iterable[_Union[AccountType, str]]] = ..., statuses: _Optional[_Iterable[_Union[AccountStatus, str]]] = ..., currency: _Optional[str] = ..., account_number: _Optional[str] = ...) -> None: ...

class ListAllAccountsResponse(_message.Message):
    __slots__ = ("accounts", "next_page_token")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    next_page_token: str
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class FreezeAccountRequest(_message.Message):
    __slots__ = ("account_id", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class FreezeAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class UnfreezeAccountRequest(_message.Message):
    __slots__ = ("account_id", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class UnfreezeAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class CloseAccountRequest(_message.Message):
    __slots__ = ("account_id", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reason: str
    def __init__(self, account_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CloseAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Account
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class GetProfileRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetProfileResponse(_message.Message):
    __slots__ = ("profile",)
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    profile: HolderProfile
    def __init__(self, profile: _Optional[_Union[HolderProfile, _Mapping]] = ...) -> None: ...

class UpdateProfileRequest(_message.Message):
    __slots__ = ("profile", "update_mask")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    profile: HolderProfile
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, profile: _Optional[_Union[HolderProfile, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateProfileResponse(_message.Message):
    __slots__ = ("profile",)
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    profile: HolderProfile
    def __init__(self, profile: _Optional[_Union[HolderProfile, _Mapping]] = ...) -> None: ...

class IssueCardRequest(_message.Message):
    __slots__ = ("request_id", "account_id", "cardholder_name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CARDHOLDER_NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    account_id: str
    cardholder_name: str
    def __init__(self, request_id: _Optional[str] = ..., account_id: _Optional[str] = ..., cardholder_name: _Optional[str] = ...) -> None: ...

class IssueCardResponse(_message.Message):
    __slots__ = ("card", "pan", "cvv")
    CARD_FIELD_NUMBER: _ClassVar[int]
    PAN_FIELD_NUMBER: _ClassVar[int]
    CVV_FIELD_NUMBER: _ClassVar[int]
    card: Card
    pan: str
    cvv: str
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ..., pan: _Optional[str] = ..., cvv: _Optional[str] = ...) -> None: ...

class ListCardsRequest(_message.Message):
    __slots__ = ("account_id", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCardsResponse(_message.Message):
    __slots__ = ("cards", "next_page_token")
    CARDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[Card]
    next_page_token: str
    def __init__(self, cards: _Optional[_Iterable[_Union[Card, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCardRequest(_message.Message):
    __slots__ = ("account_id", "card_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    card_id: str
    def __init__(self, account_id: _Optional[str] = ..., card_id: _Optional[str] = ...) -> None: ...

class GetCardResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class BlockCardRequest(_message.Message):
    __slots__ = ("account_id", "card_id", "reason")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    card_id: str
    reason: CardBlockReason
    def __init__(self, account_id: _Optional[str] = ..., card_id: _Optional[str] = ..., reason: _Optional[_Union[CardBlockReason, str]] = ...) -> None: ...

class BlockCardResponse(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: Card
    def __init__(self, card: _Optional[_Union[Card, _Mapping]] = ...) -> None: ...

class CreateCardPurchaseRequest(_message.Message):
    __slots__ = ("request_id", "card_number", "expiry_month", "expiry_year", "cvv", "merchant_name", "merchant_category_code", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_MONTH_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_YEAR_FIELD_NUMBER: _ClassVar[int]
    CVV_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_NAME_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_CATEGORY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_number: str
    expiry_month: int
    expiry_year: int
    cvv: str
    merchant_name: str
    merchant_category_code: str
    amount: _common_pb2.Money
    def __init__(self, request_id: _Optional[str] = ..., card_number: _Optional[str] = ..., expiry_month: _Optional[int] = ..., expiry_year: _Optional[int] = ..., cvv: _Optional[str] = ..., merchant_name: _Optional[str] = ..., merchant_category_code: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class CreateCardPurchaseResponse(_message.Message):
    __slots__ = ("purchase",)
    PURCHASE_FIELD_NUMBER: _ClassVar[int]
    purchase: CardPurchase
    def __init__(self, purchase: _Optional[_Union[CardPurchase, _Mapping]] = ...) -> None: ...

class GetStatementRequest(_message.Message):
    __slots__ = ("account_id", "period")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    period: _common_pb2.YearMonth
    def __init__(self, account_id: _Optional[str] = ..., period: _Optional[_Union[_common_pb2.YearMonth, _Mapping]] = ...) -> None: ...

class GetStatementResponse(_message.Message):
    __slots__ = ("statement",)
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    statement: Statement
    def __init__(self, statement: _Optional[_Union[Statement, _Mapping]] = ...) -> None: ...

class ExportStatementRequest(_message.Message):
    __slots__ = ("account_id", "start_time", "end_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExportStatementResponse(_message.Message):
    __slots__ = ("header", "entry", "trailer")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    TRAILER_FIELD_NUMBER: _ClassVar[int]
    header: StatementHeader
    entry: StatementEntry
    trailer: StatementTrailer
    def __init__(self, header: _Optional[_Union[StatementHeader, _Mapping]] = ..., entry: _Optional[_Union[StatementEntry, _Mapping]] = ..., trailer: _Optional[_Union[StatementTrailer, _Mapping]] = ...) -> None: ...

class CheckTransferAccessRequest(_message.Message):
    __slots__ = ("user_id", "from_account_id", "to_account_id", "to_account_number")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    from_account_id: str
    to_account_id: str
    to_account_number: str
    def __init__(self, user_id: _Optional[str] = ..., from_account_id: _Optional[str] = ..., to_account_id: _Optional[str] = ..., to_account_number: _Optional[str] = ...) -> None: ...

class CheckTransferAccessResponse(_message.Message):
    __slots__ = ("source", "destination", "caller_owns_source")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    CALLER_OWNS_SOURCE_FIELD_NUMBER: _ClassVar[int]
    source: AccountFacts
    destination: AccountFacts
    caller_owns_source: bool
    def __init__(self, source: _Optional[_Union[AccountFacts, _Mapping]] = ..., destination: _Optional[_Union[AccountFacts, _Mapping]] = ..., caller_owns_source: _Optional[bool] = ...) -> None: ...

class BatchGetAccountFactsRequest(_message.Message):
    __slots__ = ("account_ids", "account_numbers")
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    account_numbers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, account_ids: _Optional[_Iterable[str]] = ..., account_numbers: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetAccountFactsResponse(_message.Message):
    __slots__ = ("accounts", "missing_account_ids", "missing_account_numbers")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    MISSING_ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    MISSING_ACCOUNT_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[AccountFacts]
    missing_account_ids: _containers.RepeatedScalarFieldContainer[str]
    missing_account_numbers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, accounts: _Optional[_Iterable[_Union[AccountFacts, _Mapping]]] = ..., missing_account_ids: _Optional[_Iterable[str]] = ..., missing_account_numbers: _Optional[_Iterable[str]] = ...) -> None: ...

class ResolveAccountNumberRequest(_message.Message):
    __slots__ = ("account_number",)
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    account_number: str
    def __init__(self, account_number: _Optional[str] = ...) -> None: ...

class ResolveAccountNumberResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: AccountFacts
    def __init__(self, account: _Optional[_Union[AccountFacts, _Mapping]] = ...) -> None: ...
