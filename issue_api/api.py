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

import functools
from typing import Any, Callable, Dict, Optional, TypeVar

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from sqlalchemy import text

from contract.phones import normalize_phone

from .accounts import Account
from .auth import GuardedRoute, allow
from .errors import ApiError
from .proof import CALLER_PHONE_HEADER, CONVERSATION_HEADER, QUERY_CODE_HEADER, Proof
from .schemas import (
    AssignIn,
    CancelIn,
    HealthOut,
    RatingIn,
    ResolveIn,
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
from .stats import compute_stats
from .tickets import MAX_LIST_LIMIT, Outcome, TicketService

router = APIRouter(prefix="/api/v1", route_class=GuardedRoute)

IDEMPOTENCY_KEY = Header(
    None,
    alias="Idempotency-Key",
    pattern=r"^[\x21-\x7e]{1,200}$",
    description="同一个键只会建立一次工单(或只执行一次操作);重复请求返回第一次的结果",
)
REPLAYED = {200: {"model": TicketOut, "description": "Idempotency-Key 重复:返回第一次请求的结果"}}
ACTION_ERRORS = error_responses(401, 403, 404, 409, 413, 422)


T = TypeVar("T")


def _service(request: Request) -> TicketService:
    return request.app.state.service


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
    summary="查询工单,最新的在前(bot 角色:只查来电号码或本会话登记的工单;承办部门:只查本部门的工单)",
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
) -> JSONResponse:
    normalized = None
    if account.role == "bot" and not (phone or "").strip() and not (conversation_id or "").strip():
        # The bot acts for one caller at a time: it may only list that caller's tickets.
        raise ApiError(422, "validation_failed", "提交的信息有误,请检查后重新填写",
                       [{"field": "phone", "code": "field_required", "message": "请提供来电号码"}])
    if phone is not None and phone.strip():
        normalized = normalize_phone(phone)
        if normalized is None:
            raise ApiError(422, "validation_failed", "提交的信息有误,请检查后重新填写",
                           [{"field": "phone", "code": "phone_invalid", "message": "请填写正确的手机号或固定电话"}])
    status_value = status.value if status is not None else None
    search = functools.partial(_service(request).search, account, phone=normalized, status=status_value,
                               conversation_id=(conversation_id or "").strip() or None,
                               department=(department or "").strip() or None, overdue=overdue, limit=limit,
                               proof=_proof(request))
    return JSONResponse({"items": await _run(request, search)})


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


@router.get("/stats", response_model=StatsOut, responses=error_responses(401, 403), tags=["stats"], summary="热线统计")
async def stats(request: Request, account: Account = allow("operator", "admin")) -> JSONResponse:
    service = _service(request)
    return JSONResponse(await _run(request, compute_stats, service.db, service.clock))
