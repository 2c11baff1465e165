"""The operator console's conversation API, audit log and live WebSocket (conversations, and the
board's review requests and alerts); every route needs a logged-in operator. Transcripts are shown
without query codes (bot/gateway/operator_view.py).

State changes (claim, reply, hand back, close) also need the session's CSRF token in `X-CSRF-Token`.
Each of them, and each view of a transcript, is written to the audit log.
"""
from __future__ import annotations

import asyncio
from typing import Any, Optional

from fastapi import APIRouter, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, StrictStr

from bot.event_bus import RESYNC
from bot.gateway.audit_log import MAX_LIMIT
from bot.gateway.auth import Auth, same_origin
from bot.gateway.console_deps import audit_of, operator, router_of
from bot.gateway.operator_view import LiveViews, masked_for_operator
from bot.gateway.session_store import Session
from bot.router import ConversationConflict, Router, UnknownConversation, summary

router = APIRouter()


class ReplyBody(BaseModel):
    text: StrictStr = Field(..., max_length=2000)


@router.get("/api/v1/console/queue")
async def queue(request: Request) -> dict:
    operator(request)
    return {"items": router_of(request).queue()}


@router.get("/api/v1/console/conversations/{conversation_id}")
async def conversation(conversation_id: str, request: Request) -> dict:
    session = operator(request)
    conv = router_of(request).conversation(conversation_id)
    if conv is None:
        raise HTTPException(status_code=404, detail="会话不存在")
    messages = masked_for_operator(router_of(request).history(conversation_id))
    _audit(request, session, "opened", conversation_id, f"{len(messages)} messages")
    return {"conversation": summary(conv), "messages": messages}


@router.post("/api/v1/console/conversations/{conversation_id}/claim")
async def claim(conversation_id: str, request: Request) -> dict:
    session = operator(request, csrf=True)
    conv = await _guard(router_of(request).claim(conversation_id, session.account))
    _audit(request, session, "claimed", conversation_id)
    return summary(conv)


@router.post("/api/v1/console/conversations/{conversation_id}/reply")
async def reply(conversation_id: str, body: ReplyBody, request: Request) -> dict:
    session = operator(request, csrf=True)
    message = await _guard(router_of(request).operator_reply(conversation_id, session.account, body.text))
    _audit(request, session, "replied", conversation_id, f"message {message['seq']}, {len(message['text'])} chars")
    return message


@router.post("/api/v1/console/conversations/{conversation_id}/handback")
async def hand_back(conversation_id: str, request: Request) -> dict:
    session = operator(request, csrf=True)
    conv = await _guard(router_of(request).hand_back(conversation_id, session.account))
    _audit(request, session, "handed_back", conversation_id)
    return summary(conv)


@router.post("/api/v1/console/conversations/{conversation_id}/close")
async def close(conversation_id: str, request: Request) -> dict:
    session = operator(request, csrf=True)
    conv = await _guard(router_of(request).close(conversation_id, session.account))
    _audit(request, session, "closed", conversation_id)
    return summary(conv)


@router.get("/api/v1/console/audit")
async def audit_log(request: Request, conversation_id: Optional[str] = Query(None, max_length=128),
                    limit: int = Query(100, ge=1, le=MAX_LIMIT)) -> dict:
    """Who did what, newest first; one conversation's history with `conversation_id`."""
    operator(request)
    return {"items": audit_of(request).entries(conversation_id or None, limit)}


def _audit(request: Request, session: Session, action: str, conversation_id: str, detail: str = "") -> None:
    audit_of(request).record(action, session.account, conversation_id, detail, kind=session.kind)


async def _guard(action: Any) -> Any:
    """Router refusals become the console's structured errors."""
    try:
        return await action
    except UnknownConversation:
        raise HTTPException(status_code=404, detail="会话不存在") from None
    except ConversationConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


# live updates ----------------------------------------------------------------------------------------

@router.websocket("/ws/console")
async def console_socket(websocket: WebSocket) -> None:
    """Queue changes and new messages of every conversation, pushed as they happen."""
    auth: Auth = websocket.app.state.auth
    # Opening the socket and the events it pushes are not the operator's activity: an unattended
    # console idles out like any other session, and is then closed with 4401 (login required).
    if auth.session(websocket, touch=False) is None or not same_origin(websocket):
        await websocket.close(code=4401, reason="login required")
        return
    conv_router: Router = websocket.app.state.router
    recheck_s = min(5.0, auth.sessions.idle_s / 4)
    loop = asyncio.get_running_loop()
    await websocket.accept()
    views = LiveViews(lambda conversation_id, after: conv_router.history(conversation_id, after=after))
    async with conv_router.watch() as events:
        await websocket.send_json({"type": "queue", "items": conv_router.queue()})
        # Review requests and alerts as last read, and a fresh read (pushed when it differs).
        board = websocket.app.state.board
        for event in board.snapshot():
            await websocket.send_json(event)
        board.poke()
        reader = asyncio.create_task(_drain(websocket))
        getter: asyncio.Task | None = None
        next_check = loop.time() + recheck_s
        try:
            while not reader.done():
                getter = getter or asyncio.create_task(events.get())
                done, _ = await asyncio.wait({getter, reader}, timeout=max(0.0, next_check - loop.time()),
                                             return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    break
                if loop.time() >= next_check:
                    if auth.session(websocket, touch=False) is None:  # logged out, idle, expired, removed
                        await websocket.close(code=4401, reason="session ended")
                        break
                    next_check = loop.time() + recheck_s
                if getter not in done:
                    continue
                event, getter = getter.result(), None
                if event["type"] == "typing":
                    continue
                if event["type"] == RESYNC:  # events may have been missed: the console reconnects and reloads
                    await websocket.close(code=1012, reason="reload")
                    break
                if event["type"] == "state":
                    event = {"type": "conversation", "conversation": event["conversation"]}
                elif event["type"] == "message":
                    message = views.shown(str(event.get("conversation_id") or ""), event.get("message") or {})
                    event = {**event, "message": message}
                await websocket.send_json(event)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the console went away mid-send; it reconnects and reloads the queue
        finally:
            reader.cancel()
            if getter is not None:
                getter.cancel()




async def _drain(websocket: WebSocket) -> None:
    """The console sends nothing that matters; reading tells us when the socket closes."""
    while True:  # text or binary alike: only the close matters
        if (await websocket.receive())["type"] == "websocket.disconnect":
            return
