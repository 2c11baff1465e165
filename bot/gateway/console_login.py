"""Operator login and logout for the console (hashed passwords, signed session cookie, login CSRF)."""
from __future__ import annotations

import logging
import math

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from bot.gateway.auth import LoginThrottled
from bot.gateway.console_deps import auth_of, operator

log = logging.getLogger(__name__)
router = APIRouter()


class LoginBody(BaseModel):
    username: str = Field(..., max_length=100)
    password: str = Field(..., max_length=200)


@router.post("/console/login")
async def login(body: LoginBody, request: Request, response: Response) -> dict:
    auth = auth_of(request)
    auth.check_login_csrf(request)
    address = request.client.host if request.client else "?"
    try:
        ok = await auth.check_password(body.username, body.password, address)
    except LoginThrottled as wait:
        log.debug("login for %r from %s must wait %ss", body.username[:40], address, wait.retry_after)
        raise HTTPException(status_code=429, detail=f"登录尝试过于频繁，请{_duration(wait.retry_after)}后再试",
                            headers={"Retry-After": str(wait.retry_after)}) from None
    if not ok:
        log.info("failed console login for %r from %s", body.username[:40], address)
        raise HTTPException(status_code=401, detail="用户名或密码错误")
    auth.start_session(response, body.username)
    log.info("operator %s logged in", body.username)
    return {"operator": body.username}


@router.post("/console/logout")
async def logout(request: Request, response: Response) -> dict:
    operator(request, csrf=True)
    auth_of(request).end_session(response)
    return {"ok": True}


def _duration(seconds: int) -> str:
    return f"{seconds}秒" if seconds < 60 else f"{math.ceil(seconds / 60)}分钟"
