"""Operator login, signed session cookies and CSRF tokens for the console.

The session is a signed (itsdangerous) cookie carrying the operator's name and a per-session CSRF
token, so the gateway needs no session table and a restart keeps operators logged in when
GATEWAY_SECRET is set. Every state-changing request must echo the CSRF token in the `X-CSRF-Token`
header, which a cross-site form or image cannot do; before login the same holds with a token bound
to a signed pre-login cookie (login CSRF).
"""
from __future__ import annotations

import asyncio
import hmac
import math
import secrets
from dataclasses import dataclass
from typing import Mapping

import bcrypt
from fastapi import HTTPException, Request, Response, WebSocket
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.gateway.login_throttle import LoginThrottle

SESSION_COOKIE = "gw_session"
LOGIN_COOKIE = "gw_login"
CSRF_HEADER = "x-csrf-token"

# Checked against unknown names too, so that timing does not tell which operator names exist.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=10))


class LoginThrottled(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"retry after {retry_after_s:.1f}s")
        self.retry_after = max(1, math.ceil(retry_after_s))


@dataclass(frozen=True)
class OperatorSession:
    operator: str
    csrf: str


class Auth:
    def __init__(self, operators: Mapping[str, bytes], secret: str, max_age_s: float, cookie_secure: bool) -> None:
        self.operators = dict(operators)
        self.max_age_s = int(max_age_s)
        self.cookie_secure = cookie_secure
        self._sessions = URLSafeTimedSerializer(secret, salt="gateway-console-session")
        self._login = URLSafeTimedSerializer(secret, salt="gateway-console-login")
        self.throttle = LoginThrottle()

    async def check_password(self, name: str, password: str, address: str) -> bool:
        """Whether the password is right; `LoginThrottled` if the attempt must wait.

        The attempt is admitted and counted in one step with no await in between, before the bcrypt
        check: a burst of concurrent attempts gets only as many checks as the throttle allows.
        """
        wait = self.throttle.admit(name, address)
        if wait > 0:
            raise LoginThrottled(wait)
        ok = await self.verify_password(name, password)
        if ok:
            self.throttle.succeeded(name, address)
        return ok

    async def verify_password(self, name: str, password: str) -> bool:
        """bcrypt costs tens of milliseconds: run it in a thread so chats do not stall meanwhile."""
        hashed = self.operators.get(name)
        ok = await asyncio.to_thread(bcrypt.checkpw, password.encode()[:72], hashed or _DUMMY_HASH)
        return ok and hashed is not None

    # sessions --------------------------------------------------------------------------------------

    def start_session(self, response: Response, operator: str) -> OperatorSession:
        session = OperatorSession(operator=operator, csrf=secrets.token_urlsafe(24))
        value = self._sessions.dumps({"op": session.operator, "csrf": session.csrf})
        self._set_cookie(response, SESSION_COOKIE, value, self.max_age_s)
        response.delete_cookie(LOGIN_COOKIE, path="/console")
        return session

    def end_session(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

    def session(self, request: Request | WebSocket) -> OperatorSession | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._sessions.loads(raw, max_age=self.max_age_s)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("op") not in self.operators:
            return None  # an operator removed from GATEWAY_OPERATORS loses access at once
        return OperatorSession(operator=data["op"], csrf=str(data.get("csrf", "")))

    # CSRF --------------------------------------------------------------------------------------------

    @staticmethod
    def new_login_token() -> str:
        return secrets.token_urlsafe(24)

    def set_login_cookie(self, response: Response, token: str) -> None:
        """Bind the login form's token to this browser with a signed cookie (login CSRF)."""
        self._set_cookie(response, LOGIN_COOKIE, self._login.dumps(token), 3600, path="/console")

    def check_login_csrf(self, request: Request) -> None:
        try:
            expected = self._login.loads(request.cookies.get(LOGIN_COOKIE, ""), max_age=3600)
        except BadSignature:
            expected = None
        _require_token(request, expected)

    def require_operator(self, request: Request, *, csrf: bool) -> OperatorSession:
        """The logged-in operator, or 401; with `csrf`, also the request's CSRF proof, or 403."""
        session = self.session(request)
        if session is None:
            raise HTTPException(status_code=401, detail="请先登录")
        if csrf:
            _require_token(request, session.csrf)
        return session

    def _set_cookie(self, response: Response, name: str, value: str, max_age: int, path: str = "/") -> None:
        response.set_cookie(
            name, value, max_age=max_age, path=path, httponly=True, samesite="strict", secure=self.cookie_secure
        )


def same_origin(request: Request | WebSocket) -> bool:
    """Browsers always send Origin on WebSocket handshakes and cross-site POSTs; it must be ours."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _require_token(request: Request, expected: str | None) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not expected or not sent or not hmac.compare_digest(sent, expected) or not same_origin(request):
        raise HTTPException(status_code=403, detail="安全校验失败，请刷新页面后重试")
