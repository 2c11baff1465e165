"""Operator login and logout for the console (hashed passwords, signed session cookie, login CSRF)."""
from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

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
    operator(request, csrf=True)
    auth_of(request).end_session(response)
    return {"ok": True}
