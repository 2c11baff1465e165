"""Request and response bodies (pydantic v1, the version Rasa 3.6 pins).

Request strings are strict (a number is not silently turned into a company name), stripped, bounded,
and free of control characters or lone surrogates that would break storage or JSON output.
Response models document the JSON for OpenAPI; handlers build the dicts themselves (see tickets.py).
"""
from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, ConstrainedStr, Field, StrictInt, conint, errors, validator
from pydantic.errors import PydanticValueError

from contract.errors import ErrorDetail, ErrorField, ErrorOut  # noqa: F401 - OpenAPI models
from contract.phones import normalize_phone
from contract.text_input import has_unstorable, without_hidden_formatting
from contract.vocabulary import (
    CALLBACK_OUTCOME_LABELS,
    CALLBACK_STATUS_LABELS,
    CATEGORIES,
    CHANNELS,
    KIND_LABELS,
    LONG_TEXT_MAX,
    REPORT_FIELD_MAX,
    REVIEW_STATUS_LABELS,
    REVIEW_TYPE_LABELS,
    SHORT_TEXT_MAX,
    STATUS_LABELS,
    TICKET_ID_PATTERN,
)

Category = enum.Enum("Category", {name: name for name in CATEGORIES}, type=str)  # type: ignore[misc]
Kind = enum.Enum("Kind", {name: name for name in KIND_LABELS}, type=str)  # type: ignore[misc]
Channel = enum.Enum("Channel", {name: name for name in CHANNELS}, type=str)  # type: ignore[misc]
Status = enum.Enum("Status", {name: name for name in STATUS_LABELS}, type=str)  # type: ignore[misc]
Decision = enum.Enum("Decision", {"approve": "approve", "reject": "reject"}, type=str)  # type: ignore[misc]
ReviewType = enum.Enum("ReviewType", {name: name for name in REVIEW_TYPE_LABELS}, type=str)  # type: ignore[misc]
ReviewStatus = enum.Enum("ReviewStatus", {name: name for name in REVIEW_STATUS_LABELS}, type=str)  # type: ignore[misc]
ReviewFilter = enum.Enum("ReviewFilter", {"pending": "pending", "decided": "decided"}, type=str)  # type: ignore[misc]
CallbackStatus = enum.Enum("CallbackStatus", {n: n for n in CALLBACK_STATUS_LABELS}, type=str)  # type: ignore[misc]
CallbackOutcome = enum.Enum("CallbackOutcome", {n: n for n in CALLBACK_OUTCOME_LABELS}, type=str)  # type: ignore[misc]
ExportFormat = enum.Enum("ExportFormat", {"csv": "csv", "xlsx": "xlsx"}, type=str)  # type: ignore[misc]


class PhoneInvalid(PydanticValueError):
    code = "phone_invalid"
    msg_template = "not a mainland mobile or landline number"


class DateInvalid(PydanticValueError):
    code = "date_invalid"
    msg_template = "not a calendar date"


class ReasonRequired(PydanticValueError):
    code = "reason_required"
    msg_template = "a rejection needs a reason"


class TextInvalidChars(PydanticValueError):
    code = "text_invalid_chars"
    msg_template = "contains control characters or lone surrogates"


class _Text(ConstrainedStr):
    strict = True
    strip_whitespace = True
    min_length = 1

    @classmethod
    def __get_validators__(cls):  # type: ignore[no-untyped-def]
        yield from super().__get_validators__()
        yield cls._clean

    @classmethod
    def _clean(cls, value: str) -> str:
        # Control characters and lone surrogates are refused (PostgreSQL and the JSON response would
        # fail on them); invisible bidi and zero-width formatting is dropped, since it only changes
        # how the text reads to the next person (contract/text_input.py).
        if has_unstorable(value):
            raise TextInvalidChars()
        value = without_hidden_formatting(value).strip()
        if not value:
            raise errors.AnyStrMinLengthError(limit_value=1)
        return value


def text(max_length: int) -> type:
    """A strict, stripped, non-empty string of at most `max_length` characters."""
    return type(f"Text{max_length}", (_Text,), {"max_length": max_length})


Company = text(REPORT_FIELD_MAX["company"])
PersonName = text(REPORT_FIELD_MAX["contact_name"])
PhoneText = text(40)
LongText = text(LONG_TEXT_MAX)
ShortText = text(SHORT_TEXT_MAX)
Location = text(REPORT_FIELD_MAX["location"])
ConversationId = text(128)
Department = text(64)


class QueryCode(ConstrainedStr):
    strict = True
    regex = re.compile(r"^\d{4,8}$")


DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class DateText(ConstrainedStr):
    """A calendar date as YYYY-MM-DD (Beijing date), kept as that string."""

    strict = True
    strip_whitespace = True
    regex = re.compile(DATE_PATTERN)

    @classmethod
    def __get_validators__(cls):  # type: ignore[no-untyped-def]
        yield from super().__get_validators__()
        yield cls._real_date

    @classmethod
    def _real_date(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise DateInvalid() from None
        return value


def check_phone(value: str) -> str:
    normalized = normalize_phone(value)
    if normalized is None:
        raise PhoneInvalid()
    return normalized


def _blank_to_none(value: object) -> object:
    """An optional text sent as "" or spaces means "not given", not an error."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


OPTIONAL_TEXTS = ("note", "comment", "location", "conversation_id", "kind", "channel", "query_code")


class RequestBody(BaseModel):
    class Config:
        use_enum_values = True  # handlers and the database deal in plain strings

    @validator(*OPTIONAL_TEXTS, pre=True, check_fields=False, allow_reuse=True)
    def _optional_blank(cls, value: object) -> object:  # noqa: N805 - pydantic validators take cls
        return _blank_to_none(value)


class TicketIn(RequestBody):
    company: Company = Field(..., description="企业名称")  # type: ignore[valid-type]
    contact_name: PersonName = Field(..., description="联系人")  # type: ignore[valid-type]
    phone: PhoneText = Field(..., description="手机号或固定电话", example="13812345678")  # type: ignore[valid-type]
    category: Category = Field(..., description="问题类别")  # type: ignore[valid-type]
    description: LongText = Field(..., description="问题描述")  # type: ignore[valid-type]
    kind: Optional[Kind] = Field(None, description="诉求类型，默认 help(求助)")  # type: ignore[valid-type]
    location: Optional[Location] = None  # type: ignore[valid-type]
    channel: Optional[Channel] = Field(None, description="来源渠道，默认 api")  # type: ignore[valid-type]
    conversation_id: Optional[ConversationId] = None  # type: ignore[valid-type]
    query_code: Optional[QueryCode] = Field(  # type: ignore[valid-type]
        None, description="查询码(4 到 8 位数字)；不填则由系统生成，只在登记的应答中出现一次")

    _phone = validator("phone", allow_reuse=True)(check_phone)


class UrgeIn(RequestBody):
    note: Optional[ShortText] = Field(None, description="催办说明")  # type: ignore[valid-type]


class SupplementIn(RequestBody):
    text: LongText = Field(..., description="补充的信息")  # type: ignore[valid-type]


class CancelIn(RequestBody):
    reason: ShortText = Field(..., description="撤销原因")  # type: ignore[valid-type]


class RatingIn(RequestBody):
    score: conint(strict=True, ge=1, le=5) = Field(  # type: ignore[valid-type]
        ..., description="5 非常满意 4 满意 3 基本满意 2 不满意 1 非常不满意"
    )
    comment: Optional[ShortText] = None  # type: ignore[valid-type]
    channel: Optional[Channel] = Field(  # type: ignore[valid-type]
        None, description="报件人在哪里给出的评价： web 网页对话， voice 电话， operator 坐席代为录入(如回访), api;"
                          "不填时坐席账号记为 operator"
    )


class AssignIn(RequestBody):
    department: Department = Field(..., description="承办部门")  # type: ignore[valid-type]
    note: Optional[ShortText] = None  # type: ignore[valid-type]


class StartIn(RequestBody):
    note: Optional[ShortText] = None  # type: ignore[valid-type]


class ResolveIn(RequestBody):
    result: LongText = Field(..., description="办理结果")  # type: ignore[valid-type]


class NoteIn(RequestBody):
    text: LongText = Field(..., description="办理进展")  # type: ignore[valid-type]


class ExtensionRequestIn(RequestBody):
    reason: ShortText = Field(..., description="延期理由")  # type: ignore[valid-type]
    new_deadline: DateText = Field(  # type: ignore[valid-type]
        ..., description="申请的新期限(北京时间日期，当天 23:59:59 截止)，须晚于当前期限", example="2026-12-11")


class ReturnRequestIn(RequestBody):
    reason: ShortText = Field(..., description="退回理由(如：不属于本部门职责)")  # type: ignore[valid-type]


class ReviewIn(RequestBody):
    decision: Decision = Field(..., description="approve 同意，reject 驳回")  # type: ignore[valid-type]
    review_id: Optional[StrictInt] = Field(
        None, description="所审核申请的 id(见 /reviews 与 pending_review)；给出时，若该申请已不是待审核的那一件则 409 review_changed")
    type: Optional[ReviewType] = Field(  # type: ignore[valid-type]
        None, description="所审核申请的类型 extension 或 return；给出时须与待审核的申请一致")
    reason: Optional[ShortText] = Field(None, description="审核意见；驳回时必填")  # type: ignore[valid-type]
    deadline: Optional[DateText] = Field(  # type: ignore[valid-type]
        None, description="同意延期时的新期限，默认为申请的日期(只用于延期申请)")
    department: Optional[Department] = Field(  # type: ignore[valid-type]
        None, description="同意退回时改派的承办部门，必填(只用于退回申请)")

    @validator("reason", "deadline", "department", pre=True, allow_reuse=True)
    def _blank(cls, value: object) -> object:  # noqa: N805
        return _blank_to_none(value)

    @validator("reason", always=True)
    def _reason_to_reject(cls, value: Optional[str], values: Dict[str, Any]) -> Optional[str]:  # noqa: N805
        if values.get("decision") == "reject" and not value:
            raise ReasonRequired()
        return value


class CallbackAttemptIn(RequestBody):
    outcome: CallbackOutcome = Field(  # type: ignore[valid-type]
        ..., description="no_answer 无人接听，busy 占线，failed 呼叫失败，no_rating 接通但未完成评价，"
                         "declined 拒绝评价(回访随即结束)")


# ---- responses (documentation and schema checks) ----

class EventOut(BaseModel):
    at: str
    action: str
    action_label: str
    note: Optional[str] = Field(None, nullable=True)
    role: str
    actor: str = Field(..., description="角色，或 department/<部门名称>")


class SupplementOut(BaseModel):
    at: str
    text: str
    role: str


class ProgressNoteOut(BaseModel):
    at: str
    text: str
    actor: str


class PendingReviewOut(BaseModel):
    id: int = Field(..., description="申请的 id，审核时作为 review_id 传回")
    type: ReviewType  # type: ignore[valid-type]
    reason: str
    new_deadline: Optional[str] = Field(None, nullable=True, description="延期申请的新期限 YYYY-MM-DD")
    requested_at: str
    requested_by: str


class RatingOut(BaseModel):
    score: int
    label: str
    comment: Optional[str] = Field(None, nullable=True)
    at: str


class TicketOut(BaseModel):
    id: str = Field(..., regex=f"^{TICKET_ID_PATTERN}$")
    status: Status  # type: ignore[valid-type]
    status_label: str
    category: Category  # type: ignore[valid-type]
    kind: Kind  # type: ignore[valid-type]
    kind_label: str
    company: str
    contact_name: str
    phone: str = Field(..., description="bot 角色看到的是脱敏号码，如 138****5678")
    description: str
    location: Optional[str] = Field(None, nullable=True)
    channel: Channel  # type: ignore[valid-type]
    conversation_id: Optional[str] = Field(None, nullable=True, description="只有 operator 和 admin 看得到")
    department: str
    created_at: str
    updated_at: str
    deadline: str
    overdue: bool
    urge_count: int
    rework_count: int
    supplements: List[SupplementOut]
    progress_notes: List[ProgressNoteOut] = Field(..., description="承办部门填写的办理进展，最早的在前")
    pending_review: Optional[PendingReviewOut] = Field(None, nullable=True, description="待审核的延期或退回申请(bot 角色看不到)")
    rating: Optional[RatingOut] = Field(None, nullable=True)
    result: Optional[str] = Field(None, nullable=True)
    resolved_at: Optional[str] = Field(None, nullable=True)
    cancel_reason: Optional[str] = Field(None, nullable=True)
    history: List[EventOut]
    query_code: Optional[str] = Field(None, nullable=True, description="只在登记的 201 应答中出现一次")


class TicketList(BaseModel):
    items: List[TicketOut]


class WeekCount(BaseModel):
    week: str = Field(..., description="ISO 周，如 2026-W48")
    start: str = Field(..., description="该周周一的日期")
    count: int


class StatsOut(BaseModel):
    total: int
    resolved: int
    cancelled: int
    resolution_rate: float = Field(..., description="resolved / (total - cancelled)；无数据时为 0")
    on_time_rate: float = Field(..., description="按时办结的比例；无数据时为 0")
    overdue: int
    avg_rating: Optional[float] = Field(None, nullable=True, description="平均评价分；无评价时为 null")
    rated: int
    by_category: Dict[str, int]
    by_status: Dict[str, int]
    by_kind: Dict[str, int]
    by_week: List[WeekCount]
    extensions_requested: int
    extensions_approved: int
    returns_requested: int
    returns_approved: int
    reworked: int = Field(..., description="至少退回重办过一次的工单数")
    callbacks_pending: int = Field(..., description="待回访(含正在回访)的工单数")
    callbacks_failed: int


class DepartmentStatsOut(BaseModel):
    department: str
    total: int
    open: int
    resolved: int
    on_time_rate: float = Field(..., description="按时办结的比例；无办结时为 0")
    overdue: int
    overdue_tickets: List[str] = Field(..., description="超期未办结的工单，期限最晚的在后")
    avg_rating: Optional[float] = Field(None, nullable=True)
    satisfaction_rate: Optional[float] = Field(None, nullable=True, description="评价 3 分及以上的比例；无评价时为 null")
    rework_count: int = Field(..., description="退回重办的次数")
    extensions: int = Field(..., description="本部门提出的延期申请数")
    returns: int = Field(..., description="本部门提出的退回申请数")


class DepartmentStatsList(BaseModel):
    items: List[DepartmentStatsOut]


class ReviewTicketOut(BaseModel):
    id: str
    category: Category  # type: ignore[valid-type]
    kind: Kind  # type: ignore[valid-type]
    description: str
    department: str
    deadline: str
    status: Status  # type: ignore[valid-type]
    overdue: bool


class ReviewOut(BaseModel):
    id: int = Field(..., description="申请的 id，审核时作为 review_id 传回")
    ticket_id: str
    type: ReviewType  # type: ignore[valid-type]
    reason: str
    new_deadline: Optional[str] = Field(None, nullable=True)
    requested_at: str
    requested_by: str
    department: str = Field(..., description="提出申请的部门")
    status: ReviewStatus  # type: ignore[valid-type]
    decided_at: Optional[str] = Field(None, nullable=True)
    decided_by: Optional[str] = Field(None, nullable=True)
    decision_reason: Optional[str] = Field(None, nullable=True)
    decided_deadline: Optional[str] = Field(None, nullable=True, description="同意的新期限(延期)")
    decided_department: Optional[str] = Field(None, nullable=True, description="改派的部门(退回)")
    suggested_department: Optional[str] = Field(None, nullable=True, description="退回申请：该类别通常的承办部门")
    ticket: ReviewTicketOut


class ReviewList(BaseModel):
    items: List[ReviewOut]


class CallbackTicketOut(BaseModel):
    id: str
    phone: str
    contact_name: str
    company: str
    description: str
    result: Optional[str] = Field(None, nullable=True)
    department: str
    resolved_at: Optional[str] = Field(None, nullable=True)
    conversation_id: Optional[str] = Field(None, nullable=True)


class CallbackOut(BaseModel):
    ticket_id: str
    channel: Channel  # type: ignore[valid-type]
    status: CallbackStatus  # type: ignore[valid-type]
    status_label: str
    attempts: int
    next_attempt_at: str
    lease_until: Optional[str] = Field(None, nullable=True, description="领取(calling)的有效期")
    last_outcome: Optional[CallbackOutcome] = Field(None, nullable=True)  # type: ignore[valid-type]
    created_at: str
    updated_at: str
    ticket: CallbackTicketOut


class CallbackList(BaseModel):
    items: List[CallbackOut]


class HealthOut(BaseModel):
    status: str
    database: str


def error_responses(*statuses: int) -> Dict[int, Dict[str, Any]]:
    """OpenAPI entries for the given error statuses, plus 503 (database unavailable) which any
    route can answer."""
    descriptions = {
        401: "缺少或无效的访问令牌",
        403: "当前角色无权执行该操作",
        404: "工单(或回访任务)不存在",
        409: "当前状态不允许该操作",
        413: "请求内容过大",
        422: "提交的信息有误",
        503: "数据库暂时不可用，请稍后重试",
    }
    return {status: {"model": ErrorOut, "description": descriptions[status]} for status in (*statuses, 503)}
