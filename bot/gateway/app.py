"""Builds the gateway's ASGI app: the router, its store and clients, and every route."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from http import HTTPStatus
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.conversation_store import ConversationStore
from bot.event_bus import bus_for
from bot.gateway import (audio_route, channel_api, chat_ws, console_api, console_login, console_reviews,
                         department_api, pages, tickets_api)
from bot.gateway.accounts import DEPARTMENT, OPERATOR, Accounts
from bot.gateway.audit_log import AuditLog
from bot.gateway.auth import Auth
from bot.gateway.console_board import ConsoleBoard
from bot.gateway.headers import NOSNIFF, SecurityHeaders
from bot.gateway.login_throttle import LoginThrottle
from bot.gateway.login_throttle_shared import SharedLoginThrottle
from bot.gateway.pending_ratings import PendingRatings
from bot.gateway.session_store import SessionStore
from bot.gateway.static_files import PublicStaticFiles
from bot.gateway.settings import GatewaySettings
from bot.gateway.ticket_ratings import TicketRatings, retry_periodically
from bot.gateway_state import StateDatabase, describe
from bot.rasa_rest import RasaRestClient
from bot.router import MessageLimiter, Router
from bot.shared_message_limiter import SharedMessageLimiter
from bot.voice.settings import VoiceSettings
from contract.body_limit import BodySizeLimit
from contract.validation_errors import translate_validation_errors
from contract.issue_client import IssueClient

log = logging.getLogger(__name__)
NEW_CHATS_WINDOW = 600.0  # seconds: GATEWAY_NEW_CHATS_PER_ADDRESS counts new web chats in this window


def create_app(settings: GatewaySettings, voice_settings: VoiceSettings | None = None) -> FastAPI:
    """The gateway; `voice_settings` (read from the environment when not given) serve /ws/audio."""
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = StateDatabase(settings.db_path)
        store = ConversationStore(state)
        rasa = RasaRestClient(settings.rasa_url, timeout=settings.rasa_timeout, token=settings.rasa_token)
        issue_api = IssueClient(settings.issue_api_url, settings.issue_api_token, timeout=10.0)
        pending_ratings = PendingRatings(state)
        ratings = TicketRatings(issue_api, pending_ratings, settings.rating_max_age_days * 86400)
        sessions = SessionStore(state, idle_s=settings.session_idle_minutes * 60,
                                max_age_s=settings.session_hours * 3600)
        accounts = Accounts.from_settings(settings.operators, settings.departments)
        for kind, variable in ((OPERATOR, "GATEWAY_OPERATORS"), (DEPARTMENT, "GATEWAY_DEPARTMENTS")):
            ended = sessions.end_other_accounts(kind, accounts.names(kind))
            if ended:
                log.info("ended %d session(s) of %s accounts no longer in %s", ended, kind, variable)
            ended = sessions.end_changed_credentials(kind, accounts.password_hashes(kind))
            if ended:
                log.info("ended %d session(s) of %s accounts whose password changed in %s", ended, kind, variable)
        # Gateways that share a database share the login throttle too; one alone keeps it in memory.
        throttle = SharedLoginThrottle(state) if settings.db_shared else LoginThrottle()
        app.state.auth = Auth(accounts, sessions, settings.secret, settings.cookie_secure, throttle)
        app.state.audit = AuditLog(state)
        app.state.issue_api = issue_api
        app.state.pending_ratings = pending_ratings
        # Each department works through the issue API with its own scoped account.
        app.state.department_clients = {
            department: IssueClient(settings.issue_api_url, settings.department_token(department), timeout=10.0)
            for department in sorted({department for _, department in settings.departments.values()})
        }
        events = bus_for(settings.events_url, settings.secret)
        app.state.router = conv_router = Router(
            store, rasa, tickets=ratings,
            limiter=_limiter(settings, "messages", settings.max_message_chars, settings.messages_per_minute),
            events=events,
        )
        app.state.new_chats = _limiter(settings, "new-chats", 1 << 30, settings.new_chats_per_address,
                                       NEW_CHATS_WINDOW)
        app.state.chat_sockets = chat_ws.SocketsPerAddress(settings.chat_sockets_per_address)
        app.state.rating_lookups = _limiter(settings, "rating-lookups", 1 << 30, settings.rating_lookups_per_address)
        await events.start()
        app.state.board = board = ConsoleBoard(issue_api, conv_router, settings.review_poll_seconds)
        rating_retry = asyncio.create_task(retry_periodically(ratings, settings.rating_retry_seconds))
        board_poll = asyncio.create_task(board.run())
        log.info("gateway on %s:%s, Rasa at %s, issue API at %s, store %s, %d operator account(s), "
                 "%d department user(s) of %d department(s), session cookies %s", settings.host, settings.port,
                 settings.rasa_url, settings.issue_api_url, describe(settings.db_path), len(settings.operators),
                 len(settings.departments), len(app.state.department_clients),
                 "Secure" if settings.cookie_secure else "not Secure")
        if settings.secret_generated:
            log.warning("GATEWAY_SECRET is not set: login forms are signed with a random key, one opened "
                        "before a restart must be reloaded")
        if not settings.operators:
            log.warning("GATEWAY_OPERATORS is empty: nobody can log in to the console")
        if not settings.channel_token:
            log.warning("GATEWAY_CHANNEL_TOKEN is not set: the channel API and /ws/audio refuse every request")
        try:
            yield
        finally:
            for task in (rating_retry, board_poll):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await events.stop()
            for limiter in (conv_router.limiter, app.state.new_chats, app.state.rating_lookups):
                await limiter.close()
            await rasa.aclose()
            state.dispose()

    # No API documents on the public gateway, and no slash redirects built from the Host header.
    app = FastAPI(title="96767 hotline gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None,
                  redirect_slashes=False)
    # Login forms are public: a body is refused before it is read when it is larger than any form.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       body=lambda message: {"detail": message, "code": "body_too_large"})  # the gateway's shape
    app.add_middleware(SecurityHeaders)  # outside the body limit: its refusals get the headers too
    app.state.settings = settings
    app.state.voice_settings = voice_settings if voice_settings is not None else VoiceSettings.from_env()
    app.state.audio_slots = audio_route.AudioSlots(settings.max_audio_connections)
    for module in (pages, chat_ws, channel_api, console_login, console_api, tickets_api, console_reviews,
                   department_api, audio_route):
        app.include_router(module.router)
    app.mount("/static", PublicStaticFiles(directory=str(pages.STATIC), check_dir=False), name="static")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        if (refused := _login_first(request)) is not None:
            return refused
        # Where and what, never the input itself: it is not ours to echo (and a lone surrogate in it
        # cannot even be encoded as JSON).
        # The message in Chinese like every other word the gateway says (pydantic's own is English).
        errors = [{"loc": [_printable(part) for part in error.get("loc", ())], "type": _printable(error.get("type")),
                   "msg": translate_validation_errors([error])[0]["message"]} for error in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": "请求格式不正确", "errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # The framework's own refusals (an unreadable body, no such page, a wrong method) in the same
        # shape and language as the gateway's.
        if exc.status_code == 404 and exc.detail == HTTPStatus.NOT_FOUND.phrase and pages.wants_html(request):
            return pages.not_found_page(request)  # a person typed or followed a wrong link
        if exc.status_code in (400, 422) and (refused := _login_first(request)) is not None:
            return refused
        detail = exc.detail
        if isinstance(detail, str) and detail in _FRAMEWORK_DETAILS:
            detail = _FRAMEWORK_DETAILS[detail]
        elif detail == HTTPStatus(exc.status_code).phrase:
            detail = _STATUS_DETAILS.get(exc.status_code, detail)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=getattr(exc, "headers", None))

    @app.exception_handler(sa_exc.DBAPIError)
    async def state_unavailable(request: Request, exc: sa_exc.DBAPIError) -> JSONResponse:
        # The gateway's database is restarting or unreachable: a passing condition, not a bug; pages
        # and the console retry on 503.
        log.warning("gateway database unavailable on %s %s: %s", request.method, request.url.path,
                    type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
        return JSONResponse(status_code=503, headers={"Retry-After": "5"},
                            content={"detail": "系统正在恢复，请稍后再试", "code": "state_unavailable"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Answered outside every middleware (Starlette's error middleware is the outermost): the header
        # SecurityHeaders adds elsewhere is set here.
        return JSONResponse(status_code=500, content={"detail": "服务器内部错误，请稍后再试"}, headers=dict([NOSNIFF]))

    return app


# The APIs behind a login, and whose login. FastAPI reads and validates a request's body before the
# route asks who is logged in: without this, a stranger's malformed request would be told what is
# wrong with it (422) instead of being told to log in (401).
_LOGIN_AREAS = (("/api/v1/console/", OPERATOR), ("/api/v1/department/", DEPARTMENT))


def _login_first(request: Request) -> JSONResponse | None:
    """401 for a request to an API behind a login without its session, whatever else is wrong with it."""
    path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]  # the route's own path behind a proxy that serves the gateway under a prefix
    for prefix, kind in _LOGIN_AREAS:
        if path.startswith(prefix) and request.app.state.auth.session(request, kind, touch=False) is None:
            return JSONResponse(status_code=401, content={"detail": "请先登录"})
    return None


_FRAMEWORK_DETAILS = {"There was an error parsing the body": "请求格式不正确：请求内容不是有效的 JSON"}
_STATUS_DETAILS = {400: "请求格式不正确", 404: "页面不存在", 405: "不支持该请求方法", 413: "提交的内容过大"}


def _printable(value: object) -> str | int:
    """A value for a JSON error body: numbers as they are, anything else as valid UTF-8 text."""
    if isinstance(value, int):
        return value
    return str(value).encode("utf-8", "replace").decode("utf-8")


def _limiter(settings: GatewaySettings, space: str, max_chars: int, per_minute: int,
             window: float = 60.0) -> MessageLimiter:
    """Gateways that share live events through Redis count there too: a chat or an address the proxy
    spreads over several gateways still gets the limit once, not once per gateway."""
    if settings.events_url:
        return SharedMessageLimiter(settings.events_url, settings.secret, space, max_chars, per_minute, window)
    return MessageLimiter(max_chars, per_minute, window=window)
