"""Assemble the FastAPI application from settings (no global state, so tests and workers each
build their own)."""
from __future__ import annotations

from typing import Optional

from fastapi import FastAPI

from contract.body_limit import BodySizeLimit

from . import settings as settings_module
from .api import router
from .calendar import WorkingCalendar
from .callbacks import CallbackPolicy, CallbackService
from .clock import Clock
from .db import Database
from .docs import install_docs
from .errors import install_error_handlers
from .settings import Settings
from .tickets import TicketService

DESCRIPTION = """西安高新区 96767 企业服务热线的工单服务(issue API)。

令牌通过 `Authorization: Bearer <token>` 传入,角色:bot、operator、department、admin。
错误统一为 `{"error": {"code", "message", "fields"}}`,`message` 为可直接展示的中文。
"""


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    settings = settings or settings_module.from_env()
    app = FastAPI(
        title="96767 热线工单服务",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_version="3.0.2",  # schemas use 3.0 `nullable`; pydantic v1 emits no 3.1 constructs
        docs_url=None,  # served from vendored files by install_docs
        redoc_url=None,
        redirect_slashes=False,  # a slash redirect would name the host from the request's Host header
    )
    app.state.settings = settings
    app.state.tokens = dict(settings.tokens)
    calendar = WorkingCalendar(settings.holidays, settings.extra_workdays)
    clock = Clock(settings.now)
    app.state.service = TicketService(Database(settings.db_url), calendar, clock, secret=settings.secret)
    app.state.callbacks = CallbackService(app.state.service.db, calendar, clock, CallbackPolicy(
        hours=settings.callback_hours,
        lease_seconds=settings.callback_lease_seconds,
        retry_minutes=settings.callback_retry_minutes,
        max_attempts=settings.callback_max_attempts,
    ))
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    app.include_router(router)
    install_docs(app)

    @app.on_event("shutdown")
    def _dispose() -> None:
        app.state.service.db.dispose()

    return app
