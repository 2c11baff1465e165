"""Bearer tokens -> accounts, and the per-route role check.

(No `from __future__ import annotations` here: FastAPI reads RoleGuard.__call__ annotations at run
time and cannot resolve strings on a callable instance.)

No token or an unknown token is 401; a known token whose role may not use the route is 403. A
department account passes a route open to `department`; which tickets it sees is the service's
business (accounts.Account.sees).
The check runs before the request body is parsed (GuardedRoute), so an anonymous client learns
nothing from validation errors and a garbage body without a token is still a plain 401.
"""

import hmac
from typing import Any, Callable, Coroutine, Mapping, Optional, Tuple

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .accounts import Account
from .errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="ISSUE_API_TOKENS 中配置的令牌")
_ROLE_KEY = "issue_api.role"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="issue_api"'}


def account_for_token(tokens: Mapping[str, Account], presented: str) -> Optional[Account]:
    """Constant-time comparison against every configured token."""
    found = None
    for token, account in tokens.items():
        if hmac.compare_digest(token.encode(), presented.encode()):
            found = account
    return found


def _presented_token(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class RoleGuard:
    """A dependency that returns the caller's account if its role is one of `roles`."""

    def __init__(self, *roles: str) -> None:
        self.roles: Tuple[str, ...] = roles

    def check(self, request: Request) -> Account:
        token = _presented_token(request)
        if token is None:
            raise ApiError(401, "unauthorized", "缺少访问令牌", headers=_CHALLENGE)
        account = account_for_token(request.app.state.tokens, token)
        if account is None:
            raise ApiError(401, "unauthorized", "访问令牌无效", headers=_CHALLENGE)
        if account.role not in self.roles:
            raise ApiError(403, "forbidden", "当前角色无权执行该操作")
        return account

    async def __call__(self, request: Request,
                       _credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer)) -> Account:
        checked = request.scope.get(_ROLE_KEY)  # GuardedRoute already did the work
        return checked if checked is not None else self.check(request)


def allow(*roles: str) -> Any:
    """`account: Account = allow("bot", "operator")` in a route signature."""
    return Depends(RoleGuard(*roles))


class GuardedRoute(APIRoute):
    """Runs the route's RoleGuard before FastAPI reads and validates the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        guards = [dep.call for dep in self.dependant.dependencies if isinstance(dep.call, RoleGuard)]
        if not guards:
            return handler
        guard = guards[0]

        async def guarded(request: Request) -> Response:
            request.scope[_ROLE_KEY] = guard.check(request)
            return await handler(request)

        return guarded
