"""Operator login and logout for the console: login CSRF, throttled password check, server-side
session, and an audit row for each (a failed attempt too, unless the throttle refused it unchecked)."""
from __future__ import annotations

import logging
import math

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field, StrictStr

from bot.gateway.accounts import OPERATOR
from bot.gateway.auth import DEVICE_COOKIE, LoginThrottled
from bot.gateway.console_deps import audit_of, auth_of, client_address, operator
from bot.gateway.session_store import Session

log = logging.getLogger(__name__)
router = APIRouter()


class LoginBody(BaseModel):
    username: StrictStr = Field(..., max_length=100)
    password: StrictStr = Field(..., max_length=200)


@router.post("/console/login")
async def login(body: LoginBody, request: Request, response: Response) -> dict:
    session = await sign_in(request, response, OPERATOR, body.username, body.password)
    return {"operator": session.account}


@router.post("/console/logout")
async def logout(request: Request, response: Response) -> dict:
    session = operator(request, csrf=True)
    auth_of(request).end_session(request, response)
    audit_of(request).record("logout", session.account, kind=session.kind)
    return {"ok": True}


async def sign_in(request: Request, response: Response, kind: str, name: str, password: str) -> Session:
    """Log an account of `kind` in, the same way for every kind: 403 without the login form's token,
    429 (with Retry-After) while the throttle makes it wait, 401 for a wrong name or password."""
    auth, audit = auth_of(request), audit_of(request)
    auth.check_login_csrf(request)
    address = client_address(request)
    try:
        account = await auth.check_password(kind, name, password, address, request.cookies.get(DEVICE_COOKIE, ""))
    except LoginThrottled as wait:
        log.debug("login for %r from %s must wait %ss", name[:40], address, wait.retry_after)
        raise HTTPException(status_code=429, detail=f"登录尝试过于频繁，请{_duration(wait.retry_after)}后再试",
                            headers={"Retry-After": str(wait.retry_after)}) from None
    if account is None:
        known = auth.accounts.get(kind, name) is not None
        # An unknown name is not written down: it is often a password typed into the wrong field.
        audit.record("login_failed", name if known else None, kind=kind,
                     detail=f"{'wrong password' if known else 'unknown account'} from {address}")
        log.info("failed %s login for %s from %s", kind, repr(name[:40]) if known else "an unknown name", address)
        raise HTTPException(status_code=401, detail="用户名或密码错误")
    session = auth.start_session(request, response, account)
    auth.remember_device(response, kind, name)
    audit.record("login", account.name, kind=kind, detail=f"from {address}")
    log.info("%s %s logged in from %s", kind, account.name, address)
    return session


def _duration(seconds: int) -> str:
    return f"{seconds}秒" if seconds < 60 else f"{math.ceil(seconds / 60)}分钟"
