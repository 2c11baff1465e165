"""The console's ticket panel and statistics, through the issue API with the gateway's operator token.

Filing a ticket is a state change and needs the session's CSRF token like every other one; it is
written to the audit log (the ticket's number, never the caller's phone).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any, Callable, Optional

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, StrictStr

from bot.gateway.console_deps import audit_of, issue_api_of, operator, router_of, ticket_number
from bot.router import UnknownConversation
from contract.issue_client import IssueApiError
from contract.phones import normalize_phone
from contract.vocabulary import FIELD_LABELS

log = logging.getLogger(__name__)
router = APIRouter()


class TicketBody(BaseModel):
    company: StrictStr = Field(..., max_length=200)
    contact_name: StrictStr = Field(..., max_length=100)
    phone: StrictStr = Field(..., max_length=30)
    category: StrictStr = Field(..., max_length=50)
    description: StrictStr = Field(..., max_length=5000)
    kind: Optional[StrictStr] = Field(None, max_length=30)
    location: Optional[StrictStr] = Field(None, max_length=300)
    conversation_id: Optional[StrictStr] = Field(None, max_length=128)


@router.get("/api/v1/console/conversations/{conversation_id}/tickets")
async def conversation_tickets(conversation_id: str, request: Request) -> dict:
    operator(request)
    conv = router_of(request).conversation(conversation_id)
    if conv is None:
        raise HTTPException(status_code=404, detail="会话不存在")
    client = issue_api_of(request)
    items: list[dict] = []
    for ticket_id in conv.ticket_ids:
        try:
            items.append(await asyncio.to_thread(client.get_ticket, ticket_id))
        except IssueApiError as exc:
            items.append({"id": ticket_id, "error": exc.message or exc.code})
    if conv.phone:
        with contextlib.suppress(IssueApiError):
            known = {str(t.get("id")) for t in items}
            for ticket in await asyncio.to_thread(client.tickets_by_phone, conv.phone):
                if str(ticket.get("id")) not in known:
                    items.append(ticket)
    return {"items": items}


@router.get("/api/v1/console/tickets")
async def tickets_by_phone(request: Request, phone: str) -> Any:
    operator(request)
    # In its normal form: the issue API finds it however it was typed, and its access log masks it.
    wanted = normalize_phone(phone) or phone.strip()
    return {"items": await issue_call(issue_api_of(request).tickets_by_phone, wanted)}


@router.get("/api/v1/console/tickets/{ticket_id}")
async def ticket(ticket_id: str, request: Request) -> Any:
    operator(request)
    return await issue_call(issue_api_of(request).get_ticket, ticket_number(ticket_id))


@router.post("/api/v1/console/tickets", status_code=201)
async def file_ticket(body: TicketBody, request: Request) -> Any:
    session = operator(request, csrf=True)
    fields = {k: v for k, v in body.dict().items() if v not in (None, "")}
    fields["channel"] = "operator"
    key = request.headers.get("idempotency-key") or str(uuid.uuid4())
    created = await issue_call(issue_api_of(request).create_ticket, fields, key)
    ticket_id = str(created["id"]) if isinstance(created, dict) and created.get("id") else "?"
    linked = None
    if body.conversation_id and ticket_id != "?":
        with contextlib.suppress(UnknownConversation):
            router_of(request).add_ticket(body.conversation_id, ticket_id)
            linked = body.conversation_id
    audit_of(request).record("ticket_filed", session.account, linked, f"ticket {ticket_id}", kind=session.kind)
    log.info("operator %s filed ticket %s", session.account, ticket_id)
    return created


@router.get("/api/v1/console/stats")
async def stats(request: Request) -> Any:
    operator(request)
    return await issue_call(issue_api_of(request).stats)


async def issue_call(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """An issue API call off the event loop; its refusal becomes the console's structured error."""
    try:
        return await asyncio.to_thread(call, *args, **kwargs)
    except IssueApiError as exc:
        # The issue API refusing the gateway's own token (401/403) is a setup problem, not the
        # browser's session: the page must not take it for a logout.
        status = exc.status if exc.status and exc.status < 500 and exc.status not in (401, 403) else 502
        raise HTTPException(status_code=status, detail=_detail(exc)) from None


def _detail(exc: IssueApiError) -> str:
    """The issue API's Chinese message, with what it says of each field, as one sentence for the console.
    A field is named by its Chinese label; one without a label (an export's `to`) is not named at all:
    operators read these, and the API's field names are not their words."""
    message = exc.message or "工单系统暂时无法访问"
    fields = []
    for f in exc.fields:
        label, text = FIELD_LABELS.get(str(f.get("field", ""))), str(f.get("message") or "")
        part = f"{label}：{text}" if label and text else text or label or ""
        if part and part not in fields:
            fields.append(part)
    return message + ("（" + "；".join(fields) + "）" if fields else "")
