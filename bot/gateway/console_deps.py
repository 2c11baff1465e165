"""Where console and workbench routes find the gateway's shared objects, and who is logged in."""
from __future__ import annotations

import uuid

from fastapi import HTTPException, Request

from bot.gateway.accounts import DEPARTMENT, Account
from bot.gateway.audit_log import AuditLog
from bot.gateway.auth import Auth
from bot.gateway.console_board import ConsoleBoard
from bot.gateway.session_store import Session
from bot.router import Router
from contract.issue_client import IssueClient


def auth_of(request: Request) -> Auth:
    return request.app.state.auth


def audit_of(request: Request) -> AuditLog:
    return request.app.state.audit


def router_of(request: Request) -> Router:
    return request.app.state.router


def issue_api_of(request: Request) -> IssueClient:
    return request.app.state.issue_api


def board_of(request: Request) -> ConsoleBoard:
    return request.app.state.board


def operator(request: Request, csrf: bool = False) -> Session:
    """The logged-in operator (else 401); with `csrf`, a state change that proves it comes from our page."""
    return auth_of(request).require(request, csrf=csrf)


def client_address(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For only when a local proxy sent it)."""
    return request.client.host if request.client else "?"


def department_user(request: Request, csrf: bool = False) -> tuple[Session, Account]:
    """The logged-in department user and their account (else 401); `csrf` as for `operator`."""
    auth = auth_of(request)
    session = auth.require(request, DEPARTMENT, csrf=csrf)
    account = auth.accounts.get(DEPARTMENT, session.account)
    if account is None or not account.department:  # removed between the two lookups
        raise HTTPException(status_code=401, detail="请先登录")
    return session, account


def department_client(request: Request, account: Account) -> IssueClient:
    """The issue API as `account`'s department (its own scoped token)."""
    return request.app.state.department_clients[account.department]


def ticket_number(ticket_id: str) -> str:
    """A ticket number from a URL, or 422 (nothing else reaches the issue API's path)."""
    if not (ticket_id.isascii() and ticket_id.isdigit()) or len(ticket_id) > 20:  # "²", "١٢٣" are no numbers
        raise HTTPException(status_code=422, detail="工单编号应为数字")
    return ticket_id


def idempotency_key(request: Request) -> str:
    """The page's Idempotency-Key (one per submit: a double click acts once), else a fresh one, so that
    the issue client's retries after a lost answer act once too."""
    sent = request.headers.get("idempotency-key", "")
    return sent if 8 <= len(sent) <= 100 and sent.isascii() else str(uuid.uuid4())
