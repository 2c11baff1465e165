"""Where console routes find the gateway's shared objects, and the logged-in operator."""
from __future__ import annotations

from fastapi import Request

from bot.gateway.audit_log import AuditLog
from bot.gateway.auth import Auth
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


def operator(request: Request, csrf: bool = False) -> Session:
    """The logged-in operator (else 401); with `csrf`, a state change that proves it comes from our page."""
    return auth_of(request).require(request, csrf=csrf)


def client_address(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For only when a local proxy sent it)."""
    return request.client.host if request.client else "?"
