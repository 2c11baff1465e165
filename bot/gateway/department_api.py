"""The department workbench's API (/department): login, and the department's tickets through the issue
API with the department's own scoped token (ISSUE_API_TOKENS `department/<name>:TOKEN`).

The issue API is what keeps a department to its own tickets (any other is 404 to its token); the
gateway adds nothing it could get wrong. Every state change needs the session's CSRF token like the
console's, and is written to the audit log with the department user's name (the ticket's history
names the department). An extension or return request is pushed to the consoles at once.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, StrictStr

from bot.gateway.accounts import DEPARTMENT
from bot.gateway.console_deps import (audit_of, auth_of, board_of, department_client, department_user,
                                      idempotency_key, ticket_number)
from bot.gateway.console_login import LoginBody, sign_in
from bot.gateway.session_store import Session
from bot.gateway.tickets_api import issue_call
from contract.vocabulary import OPEN_STATUSES

log = logging.getLogger(__name__)
router = APIRouter()

BEIJING = dt.timezone(dt.timedelta(hours=8))
DUE_SOON = dt.timedelta(hours=48)  # an open ticket whose deadline is this close is "due soon" (临期)
RECENT_RESOLVED = 30  # resolved tickets shown besides the open ones
MAX_OPEN = 2000  # open tickets of one status listed at most (the page says when there are more)
DATE = r"^\d{4}-\d{2}-\d{2}$"


# Strict strings: a JSON number or boolean is refused, not stored as the text "123" or "False".
class NoteBody(BaseModel):
    text: StrictStr = Field(..., min_length=1, max_length=2000)


class ResolveBody(BaseModel):
    result: StrictStr = Field(..., min_length=1, max_length=5000)


class ExtensionBody(BaseModel):
    reason: StrictStr = Field(..., min_length=1, max_length=500)
    new_deadline: StrictStr = Field(..., regex=DATE)


class ReturnBody(BaseModel):
    reason: StrictStr = Field(..., min_length=1, max_length=500)


@router.post("/department/login")
async def login(body: LoginBody, request: Request, response: Response) -> dict:
    session = await sign_in(request, response, DEPARTMENT, body.username, body.password)
    account = auth_of(request).accounts.get(DEPARTMENT, session.account)
    return {"user": session.account, "department": account.department if account else None}


@router.post("/department/logout")
async def logout(request: Request, response: Response) -> dict:
    session, _ = department_user(request, csrf=True)
    auth_of(request).end_session(request, response)
    audit_of(request).record("logout", session.account, kind=session.kind)
    return {"ok": True}


@router.get("/api/v1/department/tickets")
async def tickets(request: Request) -> dict:
    """The department's open tickets (new first by deadline) and its recently resolved ones."""
    _, account = department_user(request)
    client = department_client(request, account)
    items: list[dict[str, Any]] = []
    truncated = False
    for status in ("assigned", "in_progress"):  # every open one: the oldest is the most urgent
        found, more = await issue_call(client.all_tickets, MAX_OPEN, status=status)
        items += found
        truncated = truncated or more
    items += await issue_call(client.tickets, status="resolved", limit=RECENT_RESOLVED)
    if truncated:
        log.warning("department %s has more than %d open tickets of a status: the list is cut", account.department, MAX_OPEN)
    now = dt.datetime.now(BEIJING)
    return {"department": account.department, "items": [_with_due(t, now) for t in items], "truncated": truncated}


@router.get("/api/v1/department/tickets/{ticket_id}")
async def ticket(ticket_id: str, request: Request) -> Any:
    _, account = department_user(request)
    return _with_due(await issue_call(department_client(request, account).get_ticket, ticket_number(ticket_id)),
                     dt.datetime.now(BEIJING))


@router.post("/api/v1/department/tickets/{ticket_id}/accept")
async def accept(ticket_id: str, request: Request) -> Any:
    """受理: the department starts working on a ticket dispatched to it."""
    session, account = department_user(request, csrf=True)
    done = await issue_call(department_client(request, account).start, ticket_number(ticket_id), "",
                            idempotency_key(request))
    return _done(request, session, "ticket_accepted", ticket_id, done)


@router.post("/api/v1/department/tickets/{ticket_id}/notes")
async def add_note(ticket_id: str, body: NoteBody, request: Request) -> Any:
    """A progress note: the reporter hears or reads the latest one on lookup."""
    session, account = department_user(request, csrf=True)
    done = await issue_call(department_client(request, account).add_note, ticket_number(ticket_id), body.text.strip(),
                            idempotency_key(request))
    return _done(request, session, "ticket_noted", ticket_id, done, f"{len(body.text.strip())} chars")


@router.post("/api/v1/department/tickets/{ticket_id}/resolve")
async def resolve(ticket_id: str, body: ResolveBody, request: Request) -> Any:
    session, account = department_user(request, csrf=True)
    done = await issue_call(department_client(request, account).resolve, ticket_number(ticket_id), body.result.strip(),
                            idempotency_key(request))
    return _done(request, session, "ticket_resolved", ticket_id, done)


@router.post("/api/v1/department/tickets/{ticket_id}/extension")
async def request_extension(ticket_id: str, body: ExtensionBody, request: Request) -> Any:
    """An extension request (reason and new date) for an operator to review."""
    session, account = department_user(request, csrf=True)
    done = await issue_call(department_client(request, account).request_extension, ticket_number(ticket_id),
                            body.reason.strip(), body.new_deadline, idempotency_key(request))
    board_of(request).poke()
    return _done(request, session, "extension_requested", ticket_id, done, f"to {body.new_deadline}")


@router.post("/api/v1/department/tickets/{ticket_id}/return")
async def request_return(ticket_id: str, body: ReturnBody, request: Request) -> Any:
    """Return a misrouted ticket (reason) for an operator to reassign."""
    session, account = department_user(request, csrf=True)
    done = await issue_call(department_client(request, account).request_return, ticket_number(ticket_id),
                            body.reason.strip(), idempotency_key(request))
    board_of(request).poke()
    return _done(request, session, "return_requested", ticket_id, done)


def _done(request: Request, session: Session, action: str, ticket_id: str, ticket: Any, detail: str = "") -> Any:
    audit_of(request).record(action, session.account, None, f"ticket {ticket_id}" + (f", {detail}" if detail else ""),
                             kind=session.kind)
    log.info("department user %s: %s ticket %s", session.account, action, ticket_id)
    return _with_due(ticket, dt.datetime.now(BEIJING)) if isinstance(ticket, dict) else ticket


def _with_due(ticket: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The ticket with `due_soon`: open, not yet overdue, and the deadline within DUE_SOON."""
    due_soon = False
    if ticket.get("status") in OPEN_STATUSES and not ticket.get("overdue") and ticket.get("deadline"):
        try:
            deadline = dt.datetime.fromisoformat(str(ticket["deadline"]))
            if deadline.tzinfo is None:
                deadline = deadline.replace(tzinfo=BEIJING)
            due_soon = deadline - now <= DUE_SOON
        except ValueError:
            pass
    return {**ticket, "due_soon": due_soon}

