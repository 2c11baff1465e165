"""The operator console's JSON API and live WebSocket; every route needs a logged-in operator.

State changes (claim, reply, hand back, close, file a ticket, logout) also need the session's CSRF
token in `X-CSRF-Token`. Ticket and statistics routes speak to the issue API with the gateway's
operator-role token, on the operator's behalf.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any, Optional

from fastapi import APIRouter, HTTPException, Request, Response, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from bot.gateway.auth import Auth, OperatorSession, same_origin
from bot.gateway.issue_api_client import IssueApiClient, IssueApiError
from bot.router import ConversationConflict, Router, UnknownConversation, summary

log = logging.getLogger(__name__)
router = APIRouter()


class LoginBody(BaseModel):
    username: str = Field(..., max_length=100)
    password: str = Field(..., max_length=200)


class ReplyBody(BaseModel):
    text: str = Field(..., max_length=2000)


class TicketBody(BaseModel):
    company: str = Field(..., max_length=200)
    contact_name: str = Field(..., max_length=100)
    phone: str = Field(..., max_length=30)
    category: str = Field(..., max_length=50)
    description: str = Field(..., max_length=5000)
    kind: Optional[str] = Field(None, max_length=30)
    location: Optional[str] = Field(None, max_length=300)
    conversation_id: Optional[str] = Field(None, max_length=128)


def _auth(request: Request) -> Auth:
    return request.app.state.auth


def _router(request: Request) -> Router:
    return request.app.state.router


def _issues(request: Request) -> IssueApiClient:
    return request.app.state.issue_api


def _operator(request: Request, csrf: bool = False) -> OperatorSession:
    return _auth(request).require_operator(request, csrf=csrf)


# login ----------------------------------------------------------------------------------------------

@router.post("/console/login")
async def login(body: LoginBody, request: Request, response: Response) -> dict:
    auth = _auth(request)
    auth.check_login_csrf(request)
    address = request.client.host if request.client else "?"
    if auth.name_throttle.blocked(body.username) or auth.address_throttle.blocked(address):
        raise HTTPException(status_code=429, detail="登录失败次数过多，请5分钟后再试")
    if not await auth.verify_password(body.username, body.password):
        auth.name_throttle.failed(body.username)
        auth.address_throttle.failed(address)
        log.info("failed console login for %r", body.username[:40])
        raise HTTPException(status_code=401, detail="用户名或密码错误")
    auth.start_session(response, body.username)
    log.info("operator %s logged in", body.username)
    return {"operator": body.username}


@router.post("/console/logout")
async def logout(request: Request, response: Response) -> dict:
    _operator(request, csrf=True)
    _auth(request).end_session(response)
    return {"ok": True}


# conversations -----------------------------------------------------------------------------------

@router.get("/api/v1/console/queue")
async def queue(request: Request) -> dict:
    _operator(request)
    return {"items": _router(request).queue()}


@router.get("/api/v1/console/conversations/{conversation_id}")
async def conversation(conversation_id: str, request: Request) -> dict:
    _operator(request)
    conv = _router(request).conversation(conversation_id)
    if conv is None:
        raise HTTPException(status_code=404, detail="会话不存在")
    return {"conversation": summary(conv), "messages": _router(request).history(conversation_id)}


@router.post("/api/v1/console/conversations/{conversation_id}/claim")
async def claim(conversation_id: str, request: Request) -> dict:
    session = _operator(request, csrf=True)
    return summary(await _guard(_router(request).claim(conversation_id, session.operator)))


@router.post("/api/v1/console/conversations/{conversation_id}/reply")
async def reply(conversation_id: str, body: ReplyBody, request: Request) -> dict:
    session = _operator(request, csrf=True)
    return await _guard(_router(request).operator_reply(conversation_id, session.operator, body.text))


@router.post("/api/v1/console/conversations/{conversation_id}/handback")
async def hand_back(conversation_id: str, request: Request) -> dict:
    session = _operator(request, csrf=True)
    return summary(await _guard(_router(request).hand_back(conversation_id, session.operator)))


@router.post("/api/v1/console/conversations/{conversation_id}/close")
async def close(conversation_id: str, request: Request) -> dict:
    session = _operator(request, csrf=True)
    return summary(await _guard(_router(request).close(conversation_id, session.operator)))


async def _guard(action: Any) -> Any:
    """Router refusals become the console's structured errors."""
    try:
        return await action
    except UnknownConversation:
        raise HTTPException(status_code=404, detail="会话不存在") from None
    except ConversationConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


# tickets and statistics ----------------------------------------------------------------------------

@router.get("/api/v1/console/conversations/{conversation_id}/tickets")
async def conversation_tickets(conversation_id: str, request: Request) -> dict:
    _operator(request)
    conv = _router(request).conversation(conversation_id)
    if conv is None:
        raise HTTPException(status_code=404, detail="会话不存在")
    items: list[dict] = []
    for ticket_id in conv.ticket_ids:
        try:
            items.append(await _issues(request).ticket(ticket_id))
        except IssueApiError as exc:
            items.append({"id": ticket_id, "error": exc.detail})
    if conv.phone:
        with contextlib.suppress(IssueApiError):
            known = {str(t.get("id")) for t in items}
            for ticket in (await _issues(request).tickets_by_phone(conv.phone)).get("items", []):
                if str(ticket.get("id")) not in known:
                    items.append(ticket)
    return {"items": items}


@router.get("/api/v1/console/tickets")
async def tickets_by_phone(request: Request, phone: str) -> Any:
    _operator(request)
    return await _issue_call(_issues(request).tickets_by_phone(phone.strip()))


@router.get("/api/v1/console/tickets/{ticket_id}")
async def ticket(ticket_id: str, request: Request) -> Any:
    _operator(request)
    if not ticket_id.isdigit():
        raise HTTPException(status_code=422, detail="工单编号应为数字")
    return await _issue_call(_issues(request).ticket(ticket_id))


@router.post("/api/v1/console/tickets", status_code=201)
async def file_ticket(body: TicketBody, request: Request) -> Any:
    session = _operator(request, csrf=True)
    fields = {k: v for k, v in body.dict().items() if v not in (None, "")}
    fields["channel"] = "operator"
    key = request.headers.get("idempotency-key") or str(uuid.uuid4())
    created = await _issue_call(_issues(request).file_ticket(fields, key))
    if body.conversation_id and isinstance(created, dict) and created.get("id"):
        with contextlib.suppress(UnknownConversation):
            _router(request).add_ticket(body.conversation_id, str(created["id"]))
    log.info("operator %s filed ticket %s", session.operator, created.get("id") if isinstance(created, dict) else "?")
    return created


@router.get("/api/v1/console/stats")
async def stats(request: Request) -> Any:
    _operator(request)
    return await _issue_call(_issues(request).stats())


async def _issue_call(call: Any) -> Any:
    try:
        return await call
    except IssueApiError as exc:
        raise HTTPException(status_code=exc.status if exc.status < 500 else 502, detail=exc.detail) from None


# live updates ----------------------------------------------------------------------------------------

@router.websocket("/ws/console")
async def console_socket(websocket: WebSocket) -> None:
    """Queue changes and new messages of every conversation, pushed as they happen."""
    auth: Auth = websocket.app.state.auth
    if auth.session(websocket) is None or not same_origin(websocket):
        await websocket.close(code=4401, reason="login required")
        return
    conv_router: Router = websocket.app.state.router
    await websocket.accept()
    async with conv_router.watch() as events:
        await websocket.send_json({"type": "queue", "items": conv_router.queue()})
        reader = asyncio.create_task(_drain(websocket))
        try:
            while not reader.done():
                getter = asyncio.create_task(events.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                if event["type"] == "typing":
                    continue
                if event["type"] == "state":
                    event = {"type": "conversation", "conversation": event["conversation"]}
                await websocket.send_json(event)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the console went away mid-send; it reconnects and reloads the queue
        finally:
            reader.cancel()


async def _drain(websocket: WebSocket) -> None:
    """The console sends nothing that matters; reading tells us when the socket closes."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
