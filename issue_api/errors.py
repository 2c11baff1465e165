"""Structured API errors: every refusal is JSON with a stable code and a Chinese message.

{"error": {"code": "validation_failed", "message": "...", "fields": [{"field", "code", "message"}]}}

Clients (the bot's actions, the console) branch on `code` and show `message` to people as it is.
FastAPI's own validation and HTTP errors are translated here, so that nothing a client sends can
produce a bare 500 or an English pydantic dump.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from contract.errors import error_body
from contract.validation_errors import translate_validation_errors as translate
from contract.vocabulary import (
    CALLBACK_OUTCOME_LABELS,
    CALLBACK_STATUS_LABELS,
    CATEGORIES,
    CHANNELS,
    KIND_LABELS,
)

log = logging.getLogger("issue_api.errors")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Optional[List[Dict[str, str]]] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = dict(headers or {})


def error_response(status: int, code: str, message: str, fields: Optional[Sequence[Mapping[str, str]]] = None,
                   headers: Optional[Mapping[str, str]] = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, fields), status_code=status, headers=dict(headers or {}))


def not_found() -> ApiError:
    return ApiError(404, "ticket_not_found", "未找到该工单，请核对工单编号")


VALIDATION_FAILED = "提交的信息有误，请检查后重新填写"


def invalid_field(field: str, code: str, message: str) -> ApiError:
    """A 422 for one field that only the service can judge (e.g. a date against the deadline)."""
    return ApiError(422, "validation_failed", VALIDATION_FAILED, [{"field": field, "code": code, "message": message}])


_DATE_FORMAT = ("date_invalid", "日期格式应为 YYYY-MM-DD，如 2026-12-11")

# Friendlier words for a few fields, keyed by (field, code).
_BY_FIELD: Mapping[tuple, tuple] = {
    ("category", "choice_invalid"): ("category_invalid", "请选择有效的问题类别：" + "、".join(CATEGORIES)),
    ("kind", "choice_invalid"): ("kind_invalid", "诉求类型应为 " + "、".join(KIND_LABELS.values())
                                 + "(" + "/".join(KIND_LABELS) + ")"),
    ("channel", "choice_invalid"): ("channel_invalid", "来源渠道应为 " + "、".join(CHANNELS)),
    ("status", "choice_invalid"): ("status_invalid", "工单状态不正确"),
    ("score", "out_of_range"): ("score_invalid", "评价分数应为 1 到 5 分"),
    ("score", "type_invalid"): ("score_invalid", "评价分数应为 1 到 5 分"),
    ("query_code", "format_invalid"): ("query_code_invalid", "查询码应为 4 到 8 位数字"),
    ("query_code", "type_invalid"): ("query_code_invalid", "查询码应为 4 到 8 位数字"),
    ("body", "field_required"): ("body_required", "请求内容不能为空"),
    ("new_deadline", "format_invalid"): _DATE_FORMAT,
    ("deadline", "format_invalid"): _DATE_FORMAT,
    ("from", "format_invalid"): _DATE_FORMAT,
    ("to", "format_invalid"): _DATE_FORMAT,
    ("decision", "choice_invalid"): ("decision_invalid", "审核结果应为 approve(同意)或 reject(驳回)"),
    ("outcome", "choice_invalid"): ("outcome_invalid", "回访结果应为 " + "、".join(
        f"{name}({label})" for name, label in CALLBACK_OUTCOME_LABELS.items())),
    ("format", "choice_invalid"): ("format_invalid", "导出格式应为 csv 或 xlsx"),
    ("phone", "text_blank"): ("field_required", "请填写联系电话"),
    ("phone", "type_invalid"): ("phone_invalid", "请填写正确的手机号或固定电话"),
    ("description", "text_blank"): ("description_empty", "请描述您遇到的问题"),
    ("description", "text_too_long"): ("description_too_long", "问题描述过长，最多 {limit_value} 个字"),
    ("company", "text_blank"): ("field_required", "请填写企业名称"),
    ("contact_name", "text_blank"): ("field_required", "请填写联系人姓名"),
}


# The same parameter name means something else on some routes: (path, field, code) wins over _BY_FIELD.
_BY_PATH_FIELD: Mapping[tuple, tuple] = {
    ("/api/v1/callbacks", "status", "choice_invalid"): (
        "status_invalid", "回访状态应为 " + "、".join(CALLBACK_STATUS_LABELS)),
    ("/api/v1/reviews", "status", "choice_invalid"): ("status_invalid", "审核状态应为 pending(待审核)或 decided(已审核)"),
}


def translate_validation_errors(errors: Iterable[Mapping[str, Any]], path: str = "") -> List[Dict[str, str]]:
    """The shared translation, with the ticket service's own words for its fields."""
    return translate(errors, path, _BY_FIELD, _BY_PATH_FIELD)


async def _on_api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = translate_validation_errors(exc.errors(), request.url.path)
    return error_response(422, "validation_failed", VALIDATION_FAILED, fields)


_HTTP_MESSAGES: Mapping[int, tuple] = {
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方式"),
    413: ("body_too_large", "提交的内容过大"),
}


async def _on_http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:  # FastAPI's answer to a body it cannot decode (e.g. not UTF-8)
        return error_response(422, "validation_failed", "提交的信息有误，请检查后重新填写",
                              [{"field": "body", "code": "json_invalid", "message": "请求内容不是有效的 JSON"}])
    code, message = _HTTP_MESSAGES.get(exc.status_code, ("http_error", "请求无法处理"))
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _on_database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
    """The database is down, gone or locked for too long: the client may retry, it did nothing wrong."""
    log.error("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__)
    return error_response(503, "database_unavailable", "工单系统暂时繁忙，请稍后再试", headers={"Retry-After": "5"})


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal_error", "系统繁忙，请稍后再试")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(OperationalError, _on_database_unavailable)
    app.add_exception_handler(Exception, _on_unexpected)
