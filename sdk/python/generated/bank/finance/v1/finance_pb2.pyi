import datetime

from bank.common.v1 import common_pb2 as _common_pb2
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

class ProductType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRODUCT_TYPE_UNSPECIFIED: _ClassVar[ProductType]
    PRODUCT_TYPE_PERSONAL: _ClassVar[ProductType]
    PRODUCT_TYPE_AUTO: _ClassVar[ProductType]
    PRODUCT_TYPE_MORTGAGE: _ClassVar[ProductType]
    PRODUCT_TYPE_BUSINESS: _ClassVar[ProductType]
    PRODUCT_TYPE_STUDENT: _ClassVar[ProductType]

class ApplicationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLICATION_STATUS_UNSPECIFIED: _ClassVar[ApplicationStatus]
    APPLICATION_STATUS_SUBMITTED: _ClassVar[ApplicationStatus]
    APPLICATION_STATUS_MORE_INFO_REQUESTED: _ClassVar[ApplicationStatus]
    APPLICATION_STATUS_APPROVED: _ClassVar[ApplicationStatus]
    APPLICATION_STATUS_REJECTED: _ClassVar[ApplicationStatus]
    APPLICATION_STATUS_WITHDRAWN: _ClassVar[ApplicationStatus]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_APPROVE: _ClassVar[Decision]
    DECISION_REJECT: _ClassVar[Decision]
    DECISION_REQUEST_INFO: _ClassVar[Decision]

class LoanStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAN_STATUS_UNSPECIFIED: _ClassVar[LoanStatus]
    LOAN_STATUS_ACTIVE: _ClassVar[LoanStatus]
    LOAN_STATUS_PAID_OFF: _ClassVar[LoanStatus]

class InstallmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTALLMENT_STATUS_UNSPECIFIED: _ClassVar[InstallmentStatus]
    INSTALLMENT_STATUS_UNPAID: _ClassVar[InstallmentStatus]
    INSTALLMENT_STATUS_PARTIALLY_PAID: _ClassVar[InstallmentStatus]
    INSTALLMENT_STATUS_PAID: _ClassVar[InstallmentStatus]
PRODUCT_TYPE_UNSPECIFIED: ProductType
PRODUCT_TYPE_PERSONAL: ProductType
PRODUCT_TYPE_AUTO: ProductType
PRODUCT_TYPE_MORTGAGE: ProductType
PRODUCT_TYPE_BUSINESS: ProductType
PRODUCT_TYPE_STUDENT: ProductType
APPLICATION_STATUS_UNSPECIFIED: ApplicationStatus
APPLICATION_STATUS_SUBMITTED: ApplicationStatus
APPLICATION_STATUS_MORE_INFO_REQUESTED: ApplicationStatus
APPLICATION_STATUS_APPROVED: ApplicationStatus
APPLICATION_STATUS_REJECTED: ApplicationStatus
APPLICATION_STATUS_WITHDRAWN: ApplicationStatus
DECISION_UNSPECIFIED: Decision
DECISION_APPROVE: Decision
DECISION_REJECT: Decision
DECISION_REQUEST_INFO: Decision
LOAN_STATUS_UNSPECIFIED: LoanStatus
LOAN_STATUS_ACTIVE: LoanStatus
LOAN_STATUS_PAID_OFF: LoanStatus
INSTALLMENT_STATUS_UNSPECIFIED: InstallmentStatus
INSTALLMENT_STATUS_UNPAID: InstallmentStatus
INSTALLMENT_STATUS_PARTIALLY_PAID: InstallmentStatus
INSTALLMENT_STATUS_PAID: InstallmentStatus

class FinancingOption(_message.Message):
    __slots__ = ("option_id", "name", "description", "product_type", "currency", "annual_rate_bps", "min_term_months", "max_term_months", "min_amount", "max_amount", "active", "create_time", "update_time")
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    MIN_TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    MAX_TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    MIN_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    option_id: str
    name: str
    description: str
    product_type: ProductType
    currency: str
    annual_rate_bps: int
    min_term_months: int
    max_term_months: int
    min_amount: _common_pb2.Money
    max_amount: _common_pb2.Money
    active: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, option_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., product_type: _Optional[_Union[ProductType, str]] = ..., currency: _Optional[str] = ..., annual_rate_bps: _Optional[int] = ..., min_term_months: _Optional[int] = ..., max_term_months: _Optional[int] = ..., min_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., max_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., active: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OptionSelection(_message.Message):
    __slots__ = ("option_id", "option_name", "annual_rate_bps", "select_time")
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    OPTION_NAME_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    SELECT_TIME_FIELD_NUMBER: _ClassVar[int]
    option_id: str
    option_name: str
    annual_rate_bps: int
    select_time: _timestamp_pb2.Timestamp
    def __init__(self, option_id: _Optional[str] = ..., option_name: _Optional[str] = ..., annual_rate_bps: _Optional[int] = ..., select_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatusChange(_message.Message):
    __slots__ = ("from_status", "to_status", "actor_user_id", "note", "change_time")
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    from_status: ApplicationStatus
    to_status: ApplicationStatus
    actor_user_id: str
    note: str
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, from_status: _Optional[_Union[ApplicationStatus, str]] = ..., to_status: _Optional[_Union[ApplicationStatus, str]] = ..., actor_user_id: _Optional[str] = ..., note: _Optional[str] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Application(_message.Message):
    __slots__ = ("application_id", "applicant_user_id", "product_type", "amount", "term_months", "purpose", "disbursement_account_id", "selection", "status", "status_reason", "loan_id", "history", "submit_time", "update_time")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_USER_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    DISBURSEMENT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    applicant_user_id: str
    product_type: ProductType
    amount: _common_pb2.Money
    term_months: int
    purpose: str
    disbursement_account_id: str
    selection: OptionSelection
    status: ApplicationStatus
    status_reason: str
    loan_id: str
    history: _containers.RepeatedCompositeFieldContainer[StatusChange]
    submit_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, application_id: _Optional[str] = ..., applicant_user_id: _Optional[str] = ..., product_type: _Optional[_Union[ProductType, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., term_months: _Optional[int] = ..., purpose: _Optional[str] = ..., disbursement_account_id: _Optional[str] = ..., selection: _Optional[_Union[OptionSelection, _Mapping]] = ..., status: _Optional[_Union[ApplicationStatus, str]] = ..., status_reason: _Optional[str] = ..., loan_id: _Optional[str] = ..., history: _Optional[_Iterable[_Union[StatusChange, _Mapping]]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Loan(_message.Message):
    __slots__ = ("loan_id", "application_id", "borrower_user_id", "option_id", "product_type", "principal", "annual_rate_bps", "term_months", "installment_amount", "total_interest", "total_payable", "amount_paid", "outstanding", "outstanding_principal", "disbursement_account_id", "disbursement_transfer_id", "status", "next_due_date", "next_due_amount", "disburse_time", "paid_off_time")
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    BORROWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    INSTALLMENT_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_INTEREST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAYABLE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_PAID_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    DISBURSEMENT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    DISBURSEMENT_TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    NEXT_DUE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DISBURSE_TIME_FIELD_NUMBER: _ClassVar[int]
    PAID_OFF_TIME_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    application_id: str
    borrower_user_id: str
    option_id: str
    product_type: ProductType
    principal: _common_pb2.Money
    annual_rate_bps: int
    term_months: int
    installment_amount: _common_pb2.Money
    total_interest: _common_pb2.Money
    total_payable: _common_pb2.Money
    amount_paid: _common_pb2.Money
    outstanding: _common_pb2.Money
    outstanding_principal: _common_pb2.Money
    disbursement_account_id: str
    disbursement_transfer_id: str
    status: LoanStatus
    next_due_date: _common_pb2.CalendarDate
    next_due_amount: _common_pb2.Money
    disburse_time: _timestamp_pb2.Timestamp
    paid_off_time: _timestamp_pb2.Timestamp
    def __init__(self, loan_id: _Optional[str] = ..., application_id: _Optional[str] = ..., borrower_user_id: _Optional[str] = ..., option_id: _Optional[str] = ..., product_type: _Optional[_Union[ProductType, str]] = ..., principal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., annual_rate_bps: _Optional[int] = ..., term_months: _Optional[int] = ..., installment_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_interest: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_payable: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., amount_paid: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., outstanding: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., outstanding_principal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., disbursement_account_id: _Optional[str] = ..., disbursement_transfer_id: _Optional[str] = ..., status: _Optional[_Union[LoanStatus, str]] = ..., next_due_date: _Optional[_Union[_common_pb2.CalendarDate, _Mapping]] = ..., next_due_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., disburse_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., paid_off_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Installment(_message.Message):
    __slots__ = ("number", "due_date", "payment", "principal", "interest", "balance_after", "paid", "status")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    INTEREST_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    number: int
    due_date: _common_pb2.CalendarDate
    payment: _common_pb2.Money
    principal: _common_pb2.Money
    interest: _common_pb2.Money
    balance_after: _common_pb2.Money
    paid: _common_pb2.Money
    status: InstallmentStatus
    def __init__(self, number: _Optional[int] = ..., due_date: _Optional[_Union[_common_pb2.CalendarDate, _Mapping]] = ..., payment: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., principal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., interest: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balance_after: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., paid: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., status: _Optional[_Union[InstallmentStatus, str]] = ...) -> None: ...

class Repayment(_message.Message):
    __slots__ = ("repayment_id", "loan_id", "from_account_id", "amount", "principal_part", "interest_part", "transfer_ids", "receive_time")
    REPAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_PART_FIELD_NUMBER: _ClassVar[int]
    INTEREST_PART_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_IDS_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    repayment_id: str
    loan_id: str
    from_account_id: str
    amount: _common_pb2.Money
    principal_part: _common_pb2.Money
    interest_part: _common_pb2.Money
    transfer_ids: _containers.RepeatedScalarFieldContainer[str]
    receive_time: _timestamp_pb2.Timestamp
    def __init__(self, repayment_id: _Optional[str] = ..., loan_id: _Optional[str] = ..., from_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., principal_part: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., interest_part: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., transfer_ids: _Optional[_Iterable[str]] = ..., receive_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatusCount(_message.Message):
    __slots__ = ("status", "count")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    status: ApplicationStatus
    count: int
    def __init__(self, status: _Optional[_Union[ApplicationStatus, str]] = ..., count: _Optional[int] = ...) -> None: ...

class CreateFinancingOptionRequest(_message.Message):
    __slots__ = ("request_id", "financing_option")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FINANCING_OPTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    financing_option: FinancingOption
    def __init__(self, request_id: _Optional[str] = ..., financing_option: _Optional[_Union[FinancingOption, _Mapping]] = ...) -> None: ...

class CreateFinancingOptionResponse(_message.Message):
    __slots__ = ("financing_option",)
    FINANCING_OPTION_FIELD_NUMBER: _ClassVar[int]
    financing_option: FinancingOption
    def __init__(self, financing_option: _Optional[_Union[FinancingOption, _Mapping]] = ...) -> None: ...

class UpdateFinancingOptionRequest(_message.Message):
    __slots__ = ("financing_option", "update_mask")
    FINANCING_OPTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    financing_option: FinancingOption
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, financing_option: _Optional[_Union[FinancingOption, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateFinancingOptionResponse(_message.Message):
    __slots__ = ("financing_option",)
    FINANCING_OPTION_FIELD_NUMBER: _ClassVar[int]
    financing_option: FinancingOption
    def __init__(self, financing_option: _Optional[_Union[FinancingOption, _Mapping]] = ...) -> None: ...

class ListFinancingOptionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "product_type", "currency", "include_inactive")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    product_type: ProductType
    currency: str
    include_inactive: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., product_type: _Optional[_Union[ProductType, str]] = ..., currency: _Optional[str] = ..., include_inactive: _Optional[bool] = ...) -> None: ...

class ListFinancingOptionsResponse(_message.Message):
    __slots__ = ("financing_options", "next_page_token")
    FINANCING_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    financing_options: _containers.RepeatedCompositeFieldContainer[FinancingOption]
    next_page_token: str
    def __init__(self, financing_options: _Optional[_Iterable[_Union[FinancingOption, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetFinancingOptionRequest(_message.Message):
    __slots__ = ("option_id",)
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    option_id: str
    def __init__(self, option_id: _Optional[str] = ...) -> None: ...

class GetFinancingOptionResponse(_message.Message):
    __slots__ = ("financing_option",)
    FINANCING_OPTION_FIELD_NUMBER: _ClassVar[int]
    financing_option: FinancingOption
    def __init__(self, financing_option: _Optional[_Union[FinancingOption, _Mapping]] = ...) -> None: ...

class SubmitApplicationRequest(_message.Message):
    __slots__ = ("request_id", "product_type", "amount", "term_months", "purpose", "disbursement_account_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    DISBURSEMENT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    product_type: ProductType
    amount: _common_pb2.Money
    term_months: int
    purpose: str
    disbursement_account_id: str
    def __init__(self, request_id: _Optional[str] = ..., product_type: _Optional[_Union[ProductType, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., term_months: _Optional[int] = ..., purpose: _Optional[str] = ..., disbursement_account_id: _Optional[str] = ...) -> None: ...

class SubmitApplicationResponse(_message.Message):
    __slots__ = ("application",)
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    application: Application
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ...) -> None: ...

class ListMyApplicationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "statuses")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[ApplicationStatus]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[ApplicationStatus, str]]] = ...) -> None: ...

class ListMyApplicationsResponse(_message.Message):
    __slots__ = ("applications", "next_page_token")
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    applications: _containers.RepeatedCompositeFieldContainer[Application]
    next_page_token: str
    def __init__(self, applications: _Optional[_Iterable[_Union[Application, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetApplicationRequest(_message.Message):
    __slots__ = ("application_id",)
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    def __init__(self, application_id: _Optional[str] = ...) -> None: ...

class GetApplicationResponse(_message.Message):
    __slots__ = ("application",)
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    application: Application
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ...) -> None: ...

class SelectFinancingOptionRequest(_message.Message):
    __slots__ = ("application_id", "option_id")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    option_id: str
    def __init__(self, application_id: _Optional[str] = ..., option_id: _Optional[str] = ...) -> None: ...

class SelectFinancingOptionResponse(_message.Message):
    __slots__ = ("application", "projected_schedule")
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    application: Application
    projected_schedule: _containers.RepeatedCompositeFieldContainer[Installment]
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ..., projected_schedule: _Optional[_Iterable[_Union[Installment, _Mapping]]] = ...) -> None: ...

class ResubmitApplicationRequest(_message.Message):
    __slots__ = ("application_id", "note")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    note: str
    def __init__(self, application_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ResubmitApplicationResponse(_message.Message):
    __slots__ = ("application",)
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    application: Application
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ...) -> None: ...

class WithdrawApplicationRequest(_message.Message):
    __slots__ = ("application_id", "note")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    note: str
    def __init__(self, application_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class WithdrawApplicationResponse(_message.Message):
    __slots__ = ("application",)
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    application: Application
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ...) -> None: ...

class GetDashboardRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDashboardResponse(_message.Message):
    __slots__ = ("applications_by_status", "total_requested", "total_approved", "outstanding_principal", "active_loan_count", "next_due_date")
    APPLICATIONS_BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_APPROVED_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_LOAN_COUNT_FIELD_NUMBER: _ClassVar[int]
    NEXT_DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    applications_by_status: _containers.RepeatedCompositeFieldContainer[StatusCount]
    total_requested: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    total_approved: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    outstanding_principal: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    active_loan_count: int
    next_due_date: _common_pb2.CalendarDate
    def __init__(self, applications_by_status: _Optional[_Iterable[_Union[StatusCount, _Mapping]]] = ..., total_requested: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., total_approved: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., outstanding_principal: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., active_loan_count: _Optional[int] = ..., next_due_date: _Optional[_Union[_common_pb2.CalendarDate, _Mapping]] = ...) -> None: ...

class ListAllApplicationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "statuses", "product_type", "applicant_user_id", "submitted_start_time", "submitted_end_time")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_TYPE_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_USER_ID_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_END_TIME_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[ApplicationStatus]
    product_type: ProductType
    applicant_user_id: str
    submitted_start_time: _timestamp_pb2.Timestamp
    submitted_end_time: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[ApplicationStatus, str]]] = ..., product_type: _Optional[_Union[ProductType, str]] = ..., applicant_user_id: _Optional[str] = ..., submitted_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submitted_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAllApplicationsResponse(_message.Message):
    __slots__ = ("applications", "next_page_token")
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    applications: _containers.RepeatedCompositeFieldContainer[Application]
    next_page_token: str
    def __init__(self, applications: _Optional[_Iterable[_Union[Application, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DecideApplicationRequest(_message.Message):
    __slots__ = ("request_id", "application_id", "decision", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    application_id: str
    decision: Decision
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., application_id: _Optional[str] = ..., decision: _Optional[_Union[Decision, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class DecideApplicationResponse(_message.Message):
    __slots__ = ("application", "loan")
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    LOAN_FIELD_NUMBER: _ClassVar[int]
    application: Application
    loan: Loan
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ..., loan: _Optional[_Union[Loan, _Mapping]] = ...) -> None: ...

class ListLoansRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "borrower_user_id", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BORROWER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    borrower_user_id: str
    status: LoanStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., borrower_user_id: _Optional[str] = ..., status: _Optional[_Union[LoanStatus, str]] = ...) -> None: ...

class ListLoansResponse(_message.Message):
    __slots__ = ("loans", "next_page_token")
    LOANS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    loans: _containers.RepeatedCompositeFieldContainer[Loan]
    next_page_token: str
    def __init__(self, loans: _Optional[_Iterable[_Union[Loan, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetLoanRequest(_message.Message):
    __slots__ = ("loan_id",)
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    def __init__(self, loan_id: _Optional[str] = ...) -> None: ...

class GetLoanResponse(_message.Message):
    __slots__ = ("loan",)
    LOAN_FIELD_NUMBER: _ClassVar[int]
    loan: Loan
    def __init__(self, loan: _Optional[_Union[Loan, _Mapping]] = ...) -> None: ...

class GetRepaymentScheduleRequest(_message.Message):
    __slots__ = ("loan_id",)
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    loan_id: str
    def __init__(self, loan_id: _Optional[str] = ...) -> None: ...

class GetRepaymentScheduleResponse(_message.Message):
    __slots__ = ("loan", "installments", "repayments")
    LOAN_FIELD_NUMBER: _ClassVar[int]
    INSTALLMENTS_FIELD_NUMBER: _ClassVar[int]
    REPAYMENTS_FIELD_NUMBER: _ClassVar[int]
    loan: Loan
    installments: _containers.RepeatedCompositeFieldContainer[Installment]
    repayments: _containers.RepeatedCompositeFieldContainer[Repayment]
    def __init__(self, loan: _Optional[_Union[Loan, _Mapping]] = ..., installments: _Optional[_Iterable[_Union[Installment, _Mapping]]] = ..., repayments: _Optional[_Iterable[_Union[Repayment, _Mapping]]] = ...) -> None: ...

class RepayLoanRequest(_message.Message):
    __slots__ = ("request_id", "loan_id", "from_account_id", "amount")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    LOAN_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    loan_id: str
    from_account_id: str
    amount: _common_pb2.Money
    def __init__(self, request_id: _Optional[str] = ..., loan_id: _Optional[str] = ..., from_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class RepayLoanResponse(_message.Message):
    __slots__ = ("repayment", "loan")
    REPAYMENT_FIELD_NUMBER: _ClassVar[int]
    LOAN_FIELD_NUMBER: _ClassVar[int]
    repayment: Repayment
    loan: Loan
    def __init__(self, repayment: _Optional[_Union[Repayment, _Mapping]] = ..., loan: _Optional[_Union[Loan, _Mapping]] = ...) -> None: ...
