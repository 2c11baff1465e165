"""HTTP channel for clients that are not browsers (the voice path, scripts): send and long-poll.

POST /api/v1/channel/messages {"sender", "message", "metadata": {"channel", "phone"}}
  -> {"state", "messages": [...]}: what answered this message right away (bot replies, notices).
GET /api/v1/channel/messages?sender=ID&after=SEQ&wait=20
  -> {"state", "messages": [...]}: stored messages after SEQ, waiting up to `wait` seconds for one
  (how an operator's replies reach a phone caller).
Every request needs `Authorization: Bearer <GATEWAY_CHANNEL_TOKEN>` (channel_access.py), checked
before the body is read; without it: 401 `{"error": {"code": "unauthorized", "message"}}`, and
nothing is read or stored. Only JSON bodies are accepted (a cross-site form cannot send one).
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Coroutine

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, StrictStr, validator

from bot.event_bus import RESYNC
from bot.gateway.channel_access import (CHALLENGE, MESSAGE_WIDGET_CHAT, SENDER, WIDGET_SENDER, channel_refusal,
                                        unauthorized_body)
from bot.router import Router


class ChannelRoute(APIRoute):
    """A route that refuses any request without the channel token before FastAPI reads its body or
    query (so a malformed request without the token is a 401 too, not a 422)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            refusal = channel_refusal(request.app.state.settings.channel_token, request.headers.get("authorization"))
            if refusal is not None:
                return JSONResponse(unauthorized_body(refusal), status_code=401, headers=CHALLENGE)
            return await handler(request)

        return guarded


router = APIRouter(prefix="/api/v1/channel", route_class=ChannelRoute)

CHANNELS = {"web", "voice", "api"}


class ChannelMessage(BaseModel):
    sender: StrictStr
    message: StrictStr = Field("", max_length=20000)  # the router's own limit answers politely below that
    metadata: dict[str, Any] = Field(default_factory=dict)

    @validator("sender")
    def _sender(cls, value: str) -> str:
        if not SENDER.match(value):
            raise ValueError("sender must be 1-128 characters of letters, digits and _.:@+-")
        return value


def _not_a_widget_chat(sender: str) -> None:
    if WIDGET_SENDER.match(sender):
        raise HTTPException(status_code=403, detail=MESSAGE_WIDGET_CHAT)


def _router(request: Request) -> Router:
    return request.app.state.router


@router.post("/messages")
async def post_message(body: ChannelMessage, request: Request) -> JSONResponse:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(status_code=415, detail="请使用 application/json")
    _not_a_widget_chat(body.sender)
    conv_router = _router(request)
    channel = str(body.metadata.get("channel") or "api")
    channel = channel if channel in CHANNELS else "api"
    metadata = {k: v for k, v in body.metadata.items() if k in {"phone", "payload"} and isinstance(v, str)}
    replies = await conv_router.handle_user_message(body.sender, body.message, channel=channel, metadata=metadata)
    conv = conv_router.conversation(body.sender)
    # A plain JSONResponse skips FastAPI's generic encoder, the costliest step of this route.
    return JSONResponse({"state": conv.state if conv else "bot", "messages": [_public(m) for m in replies]})


@router.get("/messages")
async def poll_messages(
    request: Request,
    sender: str = Query(..., pattern=SENDER.pattern),
    after: int = Query(0, ge=0),
    wait: float = Query(0, ge=0, le=60),
) -> JSONResponse:
    _not_a_widget_chat(sender)
    conv_router = _router(request)
    async with conv_router.subscribe(sender) as events:  # subscribe first: nothing slips in between
        messages = conv_router.history(sender, after=after)
        if not messages and wait > 0:
            try:
                await asyncio.wait_for(_next_message(events), timeout=wait)
            except asyncio.TimeoutError:
                pass
            messages = conv_router.history(sender, after=after)
    conv = conv_router.conversation(sender)
    return JSONResponse({"state": conv.state if conv else "bot", "messages": [_public(m) for m in messages]})


async def _next_message(events: asyncio.Queue) -> None:
    # A resync (events from other gateways may have been missed) also ends the wait: history is re-read.
    while (await events.get())["type"] not in ("message", RESYNC):
        pass


def _public(message: dict) -> dict:
    """A transcript message as a voice adapter gets it: nothing it has no use for, and never an
    operator's login name (the caller's side must not learn it)."""
    return {k: v for k, v in message.items() if k not in ("transient", "operator")}
