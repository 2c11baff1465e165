"""Request and response bodies (pydantic v1, the version Rasa 3.6 pins).

Request strings are strict (a number is not silently turned into a company name), stripped, bounded,
and free of control characters or lone surrogates that would break storage or JSON output.
Response models document the JSON for OpenAPI; handlers build the dicts themselves (see tickets.py).
"""
from __future__ import annotations

import enum
import re
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, ConstrainedStr, Field, conint, validator
from pydantic.errors import PydanticValueError

from contract.errors import ErrorDetail, ErrorField, ErrorOut  # noqa: F401 - OpenAPI models
from contract.phones import normalize_phone
from contract.vocabulary import CATEGORIES, CHANNELS, KIND_LABELS, STATUS_LABELS

Category = enum.Enum("Category", {name: name for name in CATEGORIES}, type=str)  # type: ignore[misc]
Kind = enum.Enum("Kind", {name: name for name in KIND_LABELS}, type=str)  # type: ignore[misc]
Channel = enum.Enum("Channel", {name: name for name in CHANNELS}, type=str)  # type: ignore[misc]
Status = enum.Enum("Status", {name: name for name in STATUS_LABELS}, type=str)  # type: ignore[misc]


class PhoneInvalid(PydanticValueError):
    code = "phone_invalid"
    msg_template = "not a mainland mobile or landline number"


class TextInvalidChars(PydanticValueError):
    code = "text_invalid_chars"
    msg_template = "contains control characters or lone surrogates"


# Control characters except tab and line breaks, DEL, and lone UTF-16 surrogates (which cannot be
# encoded as UTF-8: PostgreSQL and the JSON response would both fail on them).
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _has_bad_chars(value: str) -> bool:
    return _BAD_CHARS.search(value) is not None


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
        if _has_bad_chars(value):
            raise TextInvalidChars()
        return value


def text(max_length: int) -> type:
    """A strict, stripped, non-empty string of at most `max_length` characters."""
    return type(f"Text{max_length}", (_Text,), {"max_length": max_length})


Company = text(100)
PersonName = text(50)
PhoneText = text(40)
LongText = text(2000)
ShortText = text(500)
Location = text(200)
ConversationId = text(128)
Department = text(64)


class QueryCode(ConstrainedStr):
    strict = True
    regex = re.compile(r"^\d{4,8}$")


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
    kind: Optional[Kind] = Field(None, description="诉求类型,默认 help(求助)")  # type: ignore[valid-type]
    location: Optional[Location] = None  # type: ignore[valid-type]
    channel: Optional[Channel] = Field(None, description="来源渠道,默认 api")  # type: ignore[valid-type]
    conversation_id: Optional[ConversationId] = None  # type: ignore[valid-type]
    query_code: Optional[QueryCode] = Field(  # type: ignore[valid-type]
        None, description="查询码(4 到 8 位数字);不填则由系统生成,只在登记的应答中出现一次")

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


class AssignIn(RequestBody):
    department: Department = Field(..., description="承办部门")  # type: ignore[valid-type]
    note: Optional[ShortText] = None  # type: ignore[valid-type]


class StartIn(RequestBody):
    note: Optional[ShortText] = None  # type: ignore[valid-type]


class ResolveIn(RequestBody):
    result: LongText = Field(..., description="办理结果")  # type: ignore[valid-type]


# ---- responses (documentation and schema checks) ----

class EventOut(BaseModel):
    at: str
    action: str
    action_label: str
    note: Optional[str] = Field(None, nullable=True)
    role: str
    actor: str = Field(..., description="角色,或 department/<部门名称>")


class SupplementOut(BaseModel):
    at: str
    text: str
    role: str


class RatingOut(BaseModel):
    score: int
    label: str
    comment: Optional[str] = Field(None, nullable=True)
    at: str


class TicketOut(BaseModel):
    id: str = Field(..., regex=r"^\d{8,12}$")
    status: Status  # type: ignore[valid-type]
    status_label: str
    category: Category  # type: ignore[valid-type]
    kind: Kind  # type: ignore[valid-type]
    kind_label: str
    company: str
    contact_name: str
    phone: str = Field(..., description="bot 角色看到的是脱敏号码,如 138****5678")
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
    rating: Optional[RatingOut] = Field(None, nullable=True)
    result: Optional[str] = Field(None, nullable=True)
    resolved_at: Optional[str] = Field(None, nullable=True)
    cancel_reason: Optional[str] = Field(None, nullable=True)
    history: List[EventOut]
    query_code: Optional[str] = Field(None, nullable=True, description="只在登记的 201 应答中出现一次")


class TicketList(BaseModel):
    items: List[TicketOut]


class WeekCount(BaseModel):
    week: str = Field(..., description="ISO 周,如 2026-W48")
    start: str = Field(..., description="该周周一的日期")
    count: int


class StatsOut(BaseModel):
    total: int
    resolved: int
    cancelled: int
    resolution_rate: float = Field(..., description="resolved / (total - cancelled);无数据时为 0")
    on_time_rate: float = Field(..., description="按时办结的比例;无数据时为 0")
    overdue: int
    avg_rating: Optional[float] = Field(None, nullable=True, description="平均评价分;无评价时为 null")
    rated: int
    by_category: Dict[str, int]
    by_status: Dict[str, int]
    by_kind: Dict[str, int]
    by_week: List[WeekCount]


class HealthOut(BaseModel):
    status: str
    database: str


def error_responses(*statuses: int) -> Dict[int, Dict[str, Any]]:
    """OpenAPI entries for the given error statuses, plus 503 (database unavailable) which any
    route can answer."""
    descriptions = {
        401: "缺少或无效的访问令牌",
        403: "当前角色无权执行该操作",
        404: "工单不存在",
        409: "当前状态不允许该操作",
        413: "请求内容过大",
        422: "提交的信息有误",
        503: "数据库暂时不可用,请稍后重试",
    }
    return {status: {"model": ErrorOut, "description": descriptions[status]} for status in (*statuses, 503)}
