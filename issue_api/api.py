"""HTTP routes of /api/v1, thin: parse, check the role, call TicketService, shape the response.

The database drivers are synchronous. Handlers are `async def` and hand the database work to
`_run`: on SQLite it runs inline, because a query is a few hundred microseconds of in-process file
work and writers queue on one lock anyway, while the hop to the thread pool measured about 0.5 ms of
CPU per request, more than the query (see bench/issue_api_bench.py). On PostgreSQL the work goes to
the thread pool, since it waits on the network and on row locks and must not stall the event loop.

Handlers return JSONResponse themselves, so FastAPI does not validate every response a second time
against the response model (the models are there for OpenAPI and the schema tests).
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Callable, Dict, Optional, TypeVar

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from sqlalchemy import text

from contract.phones import normalize_phone
from contract.text_input import has_unstorable

from . import export
from .accounts import Account
from .auth import GuardedRoute, allow
from .callbacks import MAX_CALLBACK_LIMIT, CallbackService
from .errors import ApiError, invalid_field
from .proof import CALLER_PHONE_HEADER, CLIENT_HEADER, CONVERSATION_HEADER, QUERY_CODE_HEADER, Proof
from .reviews import MAX_REVIEW_LIMIT, list_reviews
from .schemas import (
    DATE_PATTERN,
    AssignIn,
    CallbackAttemptIn,
    CallbackList,
    CallbackOut,
    CallbackStatus,
    CancelIn,
    Channel,
    DepartmentStatsList,
    ExportFormat,
    ExtensionRequestIn,
    HealthOut,
    NoteIn,
    RatingIn,
    ResolveIn,
    ReturnRequestIn,
    ReviewFilter,
    ReviewIn,
    ReviewList,
    StartIn,
    StatsOut,
    Status,
    SupplementIn,
    TicketIn,
    TicketList,
    TicketOut,
    UrgeIn,
    error_responses,
)
from .stats import compute_stats, department_stats
from .tickets import MAX_LIST_LIMIT, Outcome, TicketService

router = APIRouter(prefix="/api/v1", route_class=GuardedRoute)

IDEMPOTENCY_KEY = Header(
    None,
    alias="Idempotency-Key",
    pattern=r"^[\x21-\x7e]{1,200}$",
    description="同一个键只会建立一次工单(或只执行一次操作)；重复请求返回第一次的结果",
)
REPLAYED = {200: {"model": TicketOut, "description": "Idempotency-Key 重复：返回第一次请求的结果"}}
ACTION_ERRORS = error_responses(401, 403, 404, 409, 413, 422)


T = TypeVar("T")


def _service(request: Request) -> TicketService:
    return request.app.state.service


def _callbacks(request: Request) -> CallbackService:
    return request.app.state.callbacks


async def _run(request: Request, func: Callable[..., T], *args: Any) -> T:
    """Run blocking database work inline on SQLite, in the thread pool otherwise (module docstring)."""
    if _service(request).db.is_sqlite:
        return func(*args)
    return await run_in_threadpool(func, *args)


def _proof(request: Request) -> Proof:
    """What the bot offers as proof that its conversation is the reporter's (proof.py)."""
    headers = request.headers
    return Proof(
        caller_phone=(headers.get(CALLER_PHONE_HEADER) or "").strip()[:40] or None,
        conversation_id=(headers.get(CONVERSATION_HEADER) or "").strip()[:128] or None,
        query_code=(headers.get(QUERY_CODE_HEADER) or "").strip()[:16] or None,
        client=(headers.get(CLIENT_HEADER) or "").strip()[:128] or None,
    )


def _ticket_response(outcome: Outcome, created_status: int = 200) -> JSONResponse:
    status = 200 if outcome.replayed else created_status
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.ticket, status_code=status, headers=headers)


@router.get("/health", response_model=HealthOut, tags=["system"],
            responses={503: {"model": HealthOut, "description": "数据库不可用"}})
async def health(request: Request) -> JSONResponse:
    db = _service(request).db

    def ping() -> None:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await _run(request, ping)
    except Exception:  # noqa: BLE001 - any driver error means "not healthy"
        return JSONResponse({"status": "unavailable", "database": db.url.get_backend_name()}, status_code=503)
    return JSONResponse({"status": "ok", "database": db.url.get_backend_name()})


@router.post(
    "/tickets",
    status_code=201,
    response_model=TicketOut,
    responses={**REPLAYED, **error_responses(401, 403, 409, 413, 422)},
    tags=["tickets"],
    summary="受理登记一张工单",
)
async def file_ticket(
    request: Request,
    body: TicketIn,
    account: Account = allow("bot", "operator"),
    idempotency_key: Optional[str] = IDEMPOTENCY_KEY,
) -> JSONResponse:
    outcome = await _run(request, _service(request).file, body.dict(), account, idempotency_key)
    return _ticket_response(outcome, created_status=201)


@router.get(
    "/tickets",
    response_model=TicketList,
    responses=error_responses(401, 403, 422),
    tags=["tickets"],
    summary="查询工单，最新的在前(bot 角色：只查来电号码或本会话登记的工单；承办部门：只查本部门的工单)",
)
async def list_tickets(
    request: Request,
    account: Account = allow("bot", "operator", "department", "admin"),
    phone: Optional[str] = Query(None, max_length=40, description="手机号或固定电话"),
    status: Optional[Status] = Query(None),  # type: ignore[valid-type]
    conversation_id: Optional[str] = Query(None, max_length=128, description="登记工单的会话"),
    department: Optional[str] = Query(None, max_length=64, description="承办部门"),
    overdue: Optional[bool] = Query(None, description="只看超期(true)或未超期(false)的工单"),
    limit: int = Query(50, ge=1, le=MAX_LIST_LIMIT),
    offset: int = Query(0, ge=0, le=1_000_000, description="跳过前面的若干件(分页)"),
) -> JSONResponse:
    normalized = None
    for field, value in (("conversation_id", conversation_id), ("department", department)):
        if value is not None and has_unstorable(value):  # (PostgreSQL refuses a NUL even in a query)
            raise ApiError(422, "validation_failed", "提交的信息有误，请检查后重新填写",
                           [{"field": field, "code": "text_invalid_chars", "message": "含有无法识别的字符"}])
    if account.role == "bot" and not (phone or "").strip() and not (conversation_id or "").strip():
        # The bot acts for one caller at a time: it may only list that caller's tickets.
        raise ApiError(422, "validation_failed", "提交的信息有误，请检查后重新填写",
                       [{"field": "phone", "code": "field_required", "message": "请提供来电号码"}])
    if phone is not None and phone.strip():
        normalized = normalize_phone(phone)
        if normalized is None:
            raise ApiError(422, "validation_failed", "提交的信息有误，请检查后重新填写",
                           [{"field": "phone", "code": "phone_invalid", "message": "请填写正确的手机号或固定电话"}])
    status_value = status.value if status is not None else None
    search = functools.partial(_service(request).search, account, phone=normalized, status=status_value,
                               conversation_id=(conversation_id or "").strip() or None,
                               department=(department or "").strip() or None, overdue=overdue, limit=limit,
                               offset=offset, proof=_proof(request))
    return JSONResponse({"items": await _run(request, search)})


EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    export.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
}


# Dates an export can ask for: time zone arithmetic at the ends of the calendar overflows.
EXPORT_FIRST_DAY, EXPORT_LAST_DAY = dt.date(1970, 1, 1), dt.date(9998, 12, 31)


def _export_day(name: str, value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise invalid_field(name, "date_invalid", "请填写有效的日期，格式为 YYYY-MM-DD") from None
    if not EXPORT_FIRST_DAY <= day <= EXPORT_LAST_DAY:
        raise invalid_field(name, "date_invalid", "日期超出可导出的范围(1970-01-01 至 9998-12-31)")
    return day


@router.get(
    "/tickets/export",
    response_class=Response,
    responses={200: {"content": EXPORT_CONTENT, "description": "CSV(UTF-8，带 BOM)或 XLSX 文件"},
               **error_responses(401, 403, 422)},
    tags=["tickets"],
    summary="导出某段日期(北京时间，含首尾)受理的工单",
)
async def export_tickets(
    request: Request,
    account: Account = allow("operator", "admin"),
    date_from: str = Query(..., alias="from", pattern=DATE_PATTERN, description="起始日期 YYYY-MM-DD"),
    date_to: str = Query(..., alias="to", pattern=DATE_PATTERN, description="结束日期 YYYY-MM-DD(含)"),
    format: ExportFormat = Query(ExportFormat.csv, description="csv 或 xlsx"),  # type: ignore[valid-type,assignment]  # noqa: A002
) -> Response:
    first, last = _export_day("from", date_from), _export_day("to", date_to)
    if last < first:
        raise invalid_field("to", "date_range_invalid", "结束日期不能早于起始日期")
    if (last - first).days + 1 > export.MAX_RANGE_DAYS:
        raise invalid_field("to", "date_range_too_long", f"一次最多导出 {export.MAX_RANGE_DAYS} 天的工单")
    service = _service(request)
    fmt = format.value
    headers = export.export_headers(first, last, fmt)
    if fmt == "xlsx":
        # openpyxl is CPU work: always off the event loop, on SQLite too.
        handle = await run_in_threadpool(export.build_xlsx, service.db, first, last, service.clock.now())
        return StreamingResponse(export.file_chunks(handle), media_type=export.XLSX_TYPE, headers=headers)
    pages = export.pages(service.db, first, last)
    first_page = await _run(request, next, pages, None)  # a database outage is still a clean 503 here
    rows = [first_page] if first_page else []
    return StreamingResponse(export.csv_chunks(_chain(rows, pages), service.clock.now()),
                             media_type=export.CSV_TYPE, headers=headers)


def _chain(head: Any, tail: Any) -> Any:
    yield from head
    yield from tail


@router.get(
    "/tickets/{ticket_id}",
    response_model=TicketOut,
    responses=error_responses(401, 403, 404),
    tags=["tickets"],
    summary="查询一张工单及其办理记录",
)
async def get_ticket(request: Request, ticket_id: str,
                     account: Account = allow("bot", "operator", "department", "admin")) -> JSONResponse:
    return JSONResponse(await _run(request, _service(request).get, ticket_id, account, _proof(request)))


async def _act(request: Request, ticket_id: str, action: str, account: Account, payload: Dict[str, Any],
               idempotency_key: Optional[str]) -> JSONResponse:
    service = _service(request)
    outcome = await _run(request, service.act, ticket_id, action, account, payload, idempotency_key, _proof(request))
    return _ticket_response(outcome)


@router.post("/tickets/{ticket_id}/urge", response_model=TicketOut, responses=ACTION_ERRORS, tags=["actions"], summary="催办")
async def urge(request: Request, ticket_id: str, body: Optional[UrgeIn] = Body(None), account: Account = allow("bot", "operator"),
         idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "urge", account, body.dict() if body else {}, idempotency_key)


@router.post("/tickets/{ticket_id}/supplements", response_model=TicketOut, responses=ACTION_ERRORS, tags=["actions"],
             summary="补充信息")
async def supplement(request: Request, ticket_id: str, body: SupplementIn, account: Account = allow("bot", "operator"),
               idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "supplement", account, body.dict(), idempotency_key)


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketOut, responses=ACTION_ERRORS, tags=["actions"],
             summary="撤销(办结前)")
async def cancel(request: Request, ticket_id: str, body: CancelIn, account: Account = allow("bot", "operator"),
           idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "cancel", account, body.dict(), idempotency_key)


@router.post("/tickets/{ticket_id}/rating", response_model=TicketOut, responses=ACTION_ERRORS, tags=["actions"],
             summary="评价(办结后);2 分及以下退回重办")
async def rate(request: Request, ticket_id: str, body: RatingIn, account: Account = allow("bot", "operator"),
         idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "rate", account, body.dict(), idempotency_key)


@router.post("/tickets/{ticket_id}/assign", response_model=TicketOut, responses=ACTION_ERRORS, tags=["actions"],
             summary="派单或改派")
async def assign(request: Request, ticket_id: str, body: AssignIn, account: Account = allow("operator", "admin"),
           idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "assign", account, body.dict(), idempotency_key)


@router.post("/tickets/{ticket_id}/start", response_model=TicketOut, responses=ACTION_ERRORS, tags=["actions"],
             summary="承办部门开始办理")
async def start(request: Request, ticket_id: str, body: Optional[StartIn] = Body(None),
          account: Account = allow("department", "operator", "admin"),
          idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "start", account, body.dict() if body else {}, idempotency_key)


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut, responses=ACTION_ERRORS, tags=["actions"],
             summary="办结")
async def resolve(request: Request, ticket_id: str, body: ResolveIn, account: Account = allow("department", "operator", "admin"),
            idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "resolve", account, body.dict(), idempotency_key)


@router.post("/tickets/{ticket_id}/notes", response_model=TicketOut, responses=ACTION_ERRORS, tags=["department"],
             summary="承办部门填写办理进展(办结前)")
async def add_note(request: Request, ticket_id: str, body: NoteIn,
                   account: Account = allow("department", "operator", "admin"),
                   idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "note", account, body.dict(), idempotency_key)


@router.post("/tickets/{ticket_id}/extension-requests", response_model=TicketOut, responses=ACTION_ERRORS,
             tags=["department"], summary="承办部门申请延期(期限届满前；同一时间只能有一份待审核的申请)")
async def request_extension(request: Request, ticket_id: str, body: ExtensionRequestIn,
                            account: Account = allow("department"),
                            idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "extension", account, body.dict(), idempotency_key)


@router.post("/tickets/{ticket_id}/return-requests", response_model=TicketOut, responses=ACTION_ERRORS,
             tags=["department"], summary="承办部门申请退回(已派单或办理中；同一时间只能有一份待审核的申请)")
async def request_return(request: Request, ticket_id: str, body: ReturnRequestIn,
                         account: Account = allow("department"),
                         idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "return", account, body.dict(), idempotency_key)


@router.post("/tickets/{ticket_id}/review", response_model=TicketOut, responses=ACTION_ERRORS, tags=["review"],
             summary="审核待审核的延期或退回申请")
async def review(request: Request, ticket_id: str, body: ReviewIn, account: Account = allow("operator", "admin"),
                 idempotency_key: Optional[str] = IDEMPOTENCY_KEY) -> JSONResponse:
    return await _act(request, ticket_id, "review", account, body.dict(), idempotency_key)


@router.get("/reviews", response_model=ReviewList, responses=error_responses(401, 403, 422), tags=["review"],
            summary="延期和退回申请，最早的在前(pending 按申请时间，decided 按审核时间)")
async def reviews(request: Request, account: Account = allow("operator", "admin"),
                  status: ReviewFilter = Query(ReviewFilter.pending),  # type: ignore[valid-type,assignment]
                  limit: int = Query(50, ge=1, le=MAX_REVIEW_LIMIT),
                  offset: int = Query(0, ge=0, le=1_000_000, description="跳过前面的若干件(分页)")) -> JSONResponse:
    service = _service(request)
    items = await _run(request, list_reviews, service.db, service.clock.now(), status.value, limit, offset)
    return JSONResponse({"items": items})


@router.get("/stats", response_model=StatsOut, responses=error_responses(401, 403), tags=["stats"], summary="热线统计")
async def stats(request: Request, account: Account = allow("operator", "admin")) -> JSONResponse:
    service = _service(request)
    return JSONResponse(await _run(request, compute_stats, service.db, service.clock))


@router.get("/stats/departments", response_model=DepartmentStatsList, responses=error_responses(401, 403),
            tags=["stats"], summary="各承办部门的办理统计")
async def stats_by_department(request: Request, account: Account = allow("operator", "admin")) -> JSONResponse:
    service = _service(request)
    return JSONResponse({"items": await _run(request, department_stats, service.db, service.clock)})


@router.get("/callbacks", response_model=CallbackList, responses=error_responses(401, 403, 422), tags=["callbacks"],
            summary="回访任务，最早到期的在前；due=true 只列现在可以拨打的(回访时段外为空)")
async def list_callbacks(request: Request, account: Account = allow("operator", "admin"),
                         status: Optional[CallbackStatus] = Query(None),  # type: ignore[valid-type]
                         channel: Optional[Channel] = Query(None),  # type: ignore[valid-type]
                         due: bool = Query(False, description="只列现在可以拨打的"),
                         limit: int = Query(50, ge=1, le=MAX_CALLBACK_LIMIT)) -> JSONResponse:
    search = functools.partial(_callbacks(request).search, status=status.value if status else None,
                               channel=channel.value if channel else None, due=due, limit=limit)
    return JSONResponse({"items": await _run(request, search)})


@router.post("/callbacks/{ticket_id}/claim", response_model=CallbackOut, responses=error_responses(401, 403, 404, 409),
             tags=["callbacks"], summary="领取一个到期的回访任务(租约内其他坐席不能领取)")
async def claim_callback(request: Request, ticket_id: str, account: Account = allow("operator", "admin")) -> JSONResponse:
    return JSONResponse(await _run(request, _callbacks(request).claim, ticket_id, account))


@router.post("/callbacks/{ticket_id}/attempts", response_model=CallbackOut,
             responses=error_responses(401, 403, 404, 409, 413, 422), tags=["callbacks"],
             summary="登记一次未得到评价的回访拨打结果")
async def callback_attempt(request: Request, ticket_id: str, body: CallbackAttemptIn,
                           account: Account = allow("operator", "admin")) -> JSONResponse:
    return JSONResponse(await _run(request, _callbacks(request).record_attempt, ticket_id, body.outcome, account))
