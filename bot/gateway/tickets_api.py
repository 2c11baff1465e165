"""The console's ticket panel and statistics, through the issue API with the gateway's operator token.

Filing a ticket is a state change and needs the session's CSRF token like every other one.
"""
from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any, Optional

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from bot.gateway.console_deps import issue_api_of, operator, router_of
from bot.gateway.issue_api_client import IssueApiError
from bot.router import UnknownConversation

log = logging.getLogger(__name__)
router = APIRouter()


class TicketBody(BaseModel):
    company: str = Field(..., max_length=200)
    contact_name: str = Field(..., max_length=100)
    phone: str = Field(..., max_length=30)
    category: str = Field(..., max_length=50)
    description: str = Field(..., max_length=5000)
    kind: Optional[str] = Field(None, max_length=30)
    location: Optional[str] = Field(None, max_length=300)
    conversation_id: Optional[str] = Field(None, max_length=128)


@router.get("/api/v1/console/conversations/{conversation_id}/tickets")
async def conversation_tickets(conversation_id: str, request: Request) -> dict:
    operator(request)
    conv = router_of(request).conversation(conversation_id)
    if conv is None:
        raise HTTPException(status_code=404, detail="会话不存在")
    items: list[dict] = []
    for ticket_id in conv.ticket_ids:
        try:
            items.append(await issue_api_of(request).ticket(ticket_id))
        except IssueApiError as exc:
            items.append({"id": ticket_id, "error": exc.detail})
    if conv.phone:
        with contextlib.suppress(IssueApiError):
            known = {str(t.get("id")) for t in items}
            for ticket in (await issue_api_of(request).tickets_by_phone(conv.phone)).get("items", []):
                if str(ticket.get("id")) not in known:
                    items.append(ticket)
    return {"items": items}


@router.get("/api/v1/console/tickets")
async def tickets_by_phone(request: Request, phone: str) -> Any:
    operator(request)
    return await _issue_call(issue_api_of(request).tickets_by_phone(phone.strip()))


@router.get("/api/v1/console/tickets/{ticket_id}")
async def ticket(ticket_id: str, request: Request) -> Any:
    operator(request)
    if not ticket_id.isdigit():
        raise HTTPException(status_code=422, detail="工单编号应为数字")
    return await _issue_call(issue_api_of(request).ticket(ticket_id))


@router.post("/api/v1/console/tickets", status_code=201)
async def file_ticket(body: TicketBody, request: Request) -> Any:
    session = operator(request, csrf=True)
    fields = {k: v for k, v in body.dict().items() if v not in (None, "")}
    fields["channel"] = "operator"
    key = request.headers.get("idempotency-key") or str(uuid.uuid4())
    created = await _issue_call(issue_api_of(request).file_ticket(fields, key))
    if body.conversation_id and isinstance(created, dict) and created.get("id"):
        with contextlib.suppress(UnknownConversation):
            router_of(request).add_ticket(body.conversation_id, str(created["id"]))
    log.info("operator %s filed ticket %s", session.operator, created.get("id") if isinstance(created, dict) else "?")
    return created


@router.get("/api/v1/console/stats")
async def stats(request: Request) -> Any:
    operator(request)
    return await _issue_call(issue_api_of(request).stats())


async def _issue_call(call: Any) -> Any:
    try:
        return await call
    except IssueApiError as exc:
        raise HTTPException(status_code=exc.status if exc.status < 500 else 502, detail=exc.detail) from None
