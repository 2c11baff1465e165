"""Login, server-side sessions and CSRF tokens for the console and the department workbench.

A login goes through `LoginThrottle` (counted before the password is checked), then the account's
bcrypt hash. The session it starts lives in the gateway's database (`SessionStore`); the cookie
carries only its random id (HttpOnly, SameSite=Strict, Secure unless the gateway is on loopback).
Each session has its own CSRF token: every state-changing request must echo it in the
`X-CSRF-Token` header, which a cross-site form or image cannot do; before login the same holds with
a token bound to a signed pre-login cookie (login CSRF).
"""
from __future__ import annotations

import hmac
import math
import secrets

from fastapi import HTTPException, Request, Response, WebSocket
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.gateway.client_networks import subscriber_network
from bot.gateway.accounts import DEPARTMENT, OPERATOR, Account, Accounts
from bot.gateway.login_throttle import LoginThrottle
from bot.gateway.login_throttle_shared import SharedLoginThrottle
from bot.gateway.session_store import Session, SessionStore

SESSION_COOKIE = "gw_session"
LOGIN_COOKIE = "gw_login"
# A browser an account has logged in from: spared the delay that strangers' failures put on the
# account's name (login_throttle.py). Signed, per kind's login path, for 90 days.
DEVICE_COOKIE = "gw_device"
DEVICE_MAX_AGE_S = 90 * 24 * 3600
CSRF_HEADER = "x-csrf-token"
# Where each kind of account logs in: the pre-login cookie is scoped to that path.
LOGIN_PATHS = {OPERATOR: "/console", DEPARTMENT: "/department"}


class LoginThrottled(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"retry after {retry_after_s:.1f}s")
        self.retry_after = max(1, math.ceil(retry_after_s))


class Auth:
    def __init__(self, accounts: Accounts, sessions: SessionStore, secret: str, cookie_secure: bool,
                 throttle: LoginThrottle | SharedLoginThrottle | None = None) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.cookie_secure = cookie_secure
        self.throttle = throttle or LoginThrottle()
        self._login = URLSafeTimedSerializer(secret, salt="gateway-console-login")
        self._device = URLSafeTimedSerializer(secret, salt="gateway-known-device")

    # login -----------------------------------------------------------------------------------------

    async def check_password(self, kind: str, name: str, password: str, address: str,
                             device: str = "") -> Account | None:
        """The account if the password is right, None if not; `LoginThrottled` if it must wait.

        The attempt is admitted and counted in one step with no await in between, before the bcrypt
        check: a burst of concurrent attempts gets only as many checks as the throttle allows.
        `device`: the browser's device cookie: the account's own browsers are counted apart from
        strangers trying its name. `address` is counted by its subscriber network: an IPv6 client may
        take a new address of its /64 for every try.
        """
        key = f"{kind}:{name}"
        address = subscriber_network(address) or "?"
        wait = self.throttle.admit(key, address, trusted=self._known_device(device, key))
        if wait > 0:
            raise LoginThrottled(wait)
        account = await self.accounts.verify(kind, name, password)
        if account is not None:
            self.throttle.succeeded(key, address)
        return account

    def remember_device(self, response: Response, kind: str, name: str) -> None:
        """After a successful login: this browser is the account's (login_throttle.py, `trusted`)."""
        self._set_cookie(response, DEVICE_COOKIE, self._device.dumps(f"{kind}:{name}"), DEVICE_MAX_AGE_S,
                         path=LOGIN_PATHS[kind])

    def _known_device(self, device: str, key: str) -> bool:
        """Whether the browser's device cookie is this account's. Decided from the cookie alone, never
        from the password tried: a trust that depended on it would tell a guesser which guess is right."""
        if not device:
            return False
        try:
            return hmac.compare_digest(str(self._device.loads(device, max_age=DEVICE_MAX_AGE_S)), key)
        except (BadSignature, TypeError, ValueError):
            return False

    # sessions --------------------------------------------------------------------------------------

    def start_session(self, request: Request, response: Response, account: Account) -> Session:
        """A new session (and a new id: none chosen before login is kept); this browser's previous one ends."""
        self.sessions.end(request.cookies.get(SESSION_COOKIE, ""))
        session_id, session = self.sessions.start(account.kind, account.name)
        self._set_cookie(response, SESSION_COOKIE, session_id, int(self.sessions.max_age_s))
        self._delete_cookie(response, LOGIN_COOKIE, path=LOGIN_PATHS[account.kind])
        return session

    def end_session(self, request: Request, response: Response) -> None:
        self.sessions.end(request.cookies.get(SESSION_COOKIE, ""))
        self._delete_cookie(response, SESSION_COOKIE)

    def session(self, request: Request | WebSocket, kind: str = OPERATOR, touch: bool = True) -> Session | None:
        """The request's live session of an account of `kind`, or None. With `touch`, the request
        counts as the account's activity (idle time starts again)."""
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""), touch=touch)
        if session is None or session.kind != kind:
            return None
        if self.accounts.get(session.kind, session.account) is None:
            # An account removed from the settings loses access at once, and for good.
            self.sessions.end(request.cookies.get(SESSION_COOKIE, ""))
            return None
        return session

    def require(self, request: Request, kind: str = OPERATOR, *, csrf: bool) -> Session:
        """The logged-in account of `kind`, or 401; with `csrf`, also the request's CSRF proof, or 403."""
        session = self.session(request, kind)
        if session is None:
            raise HTTPException(status_code=401, detail="请先登录")
        if csrf:
            _require_token(request, session.csrf)
        return session

    # CSRF before login -------------------------------------------------------------------------------

    @staticmethod
    def new_login_token() -> str:
        return secrets.token_urlsafe(24)

    def set_login_cookie(self, response: Response, token: str, kind: str = OPERATOR) -> None:
        """Bind the login form's token to this browser with a signed cookie (login CSRF)."""
        self._set_cookie(response, LOGIN_COOKIE, self._login.dumps(token), 3600, path=LOGIN_PATHS[kind])

    def check_login_csrf(self, request: Request) -> None:
        try:
            expected = self._login.loads(request.cookies.get(LOGIN_COOKIE, ""), max_age=3600)
        except BadSignature:
            expected = None
        _require_token(request, expected)

    def _set_cookie(self, response: Response, name: str, value: str, max_age: int, path: str = "/") -> None:
        response.set_cookie(
            name, value, max_age=max_age, path=path, httponly=True, samesite="strict", secure=self.cookie_secure
        )

    def _delete_cookie(self, response: Response, name: str, path: str = "/") -> None:
        response.delete_cookie(name, path=path, httponly=True, samesite="strict", secure=self.cookie_secure)


def same_origin(request: Request | WebSocket) -> bool:
    """Browsers always send Origin on WebSocket handshakes and cross-site POSTs; it must be ours."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _require_token(request: Request, expected: str | None) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    # As bytes: a header is read as Latin-1, and compare_digest refuses non-ASCII text (a 500).
    if (not expected or not sent or not hmac.compare_digest(sent.encode("latin-1", "replace"), expected.encode())
            or not same_origin(request)):
        raise HTTPException(status_code=403, detail="安全校验失败，请刷新页面后重试")
