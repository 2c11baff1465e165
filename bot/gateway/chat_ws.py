"""The widget's real-time channel: one WebSocket per open widget, at /ws/chat?sender=KEY.

KEY is the widget's own random access key (kept in the browser). The conversation it opens is named
by a hash of it (`web_conversation_id`): the console, the tickets, Rasa's trackers and the logs only
ever see that name, so none of them holds what it takes to read or write the chat.

Browser -> gateway: {"type": "message", "text", "payload"?} | {"type": "rating", "score", "comment"?}
(the end-of-chat rating) | {"type": "ticket_rating", "ticket_id", "score", "comment"?} (回访: one
resolved ticket of this conversation).
Gateway -> browser: {"type": "hello", "state", "messages", "pending_ratings"} on connect (the history,
so a reload or a reconnect shows the whole conversation, and the conversation's tickets that are
resolved and wait for the reporter's rating: [{"ticket_id", "category", "description", "result",
"resolved_at"}]), then {"type": "message", "message"}, {"type": "state", "state"},
{"type": "typing"} and {"type": "notice", "text"} as they happen. No frame names an operator: their
login names are for the console only.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import re
from typing import Any, Optional

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from bot.conversation_store import Conversation
from bot.event_bus import RESYNC
from bot.router import NOTICE_CLAIMED, Router, is_claim_notice
from bot.gateway.client_networks import is_this_machine, subscriber_network
from contract.issue_client import IssueApiError
from contract.phones import mask_phones_in_text, mask_staff_text
from contract.replies import reply
from contract.vocabulary import is_ticket_id

log = logging.getLogger(__name__)
router = APIRouter()

SENDER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
HISTORY_LIMIT = 200
MAX_FRAME_CHARS = 8000
_turns: set[asyncio.Task] = set()  # strong references: the loop keeps only weak ones to tasks
NOTICE_FRAME_TOO_LONG = reply("utter_notice_frame_too_long")
NOTICE_BAD_FRAME = reply("utter_notice_bad_frame")
NOTICE_RATING_INVALID = reply("utter_notice_rating_invalid")
NOTICE_RATING_BAD_COMMENT = reply("utter_notice_rating_bad_comment")
NOTICE_NOTHING_TO_RATE = reply("utter_notice_nothing_to_rate")
NOTICE_TURN_FAILED = reply("utter_notice_turn_failed")
NOTICE_TOO_MANY_CHATS = reply("utter_notice_too_many_chats")
NOTICE_ALREADY_RATED = reply("utter_notice_already_rated")
NOTICE_TOO_MANY_SOCKETS = reply("utter_notice_too_many_sockets")
# A valid score for a ticket this chat never filed or proved: saying "pick 1 to 5 stars" would be wrong.
NOTICE_NOT_OWN_TICKET = reply("utter_notice_rating_not_own_ticket")
CLOSE_TRY_AGAIN_LATER = 1013
PENDING_RATINGS_TIMEOUT = 3.0  # seconds the hello waits for the issue API; then it goes without
PENDING_RATINGS_MAX = 10  # the conversation's newest tickets looked at


def web_conversation_id(access_key: str) -> str:
    """The conversation a widget's access key opens (one-way: the name does not give the key)."""
    return "web-" + hashlib.sha256(f"hotline-web-chat|{access_key}".encode()).hexdigest()[:32]


class SocketsPerAddress:
    """Chat sockets open at once per client address (GATEWAY_CHAT_SOCKETS_PER_ADDRESS); one event
    loop, no lock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def take(self, address: str) -> bool:
        if self._open.get(address, 0) >= self.limit:
            return False
        self._open[address] = self._open.get(address, 0) + 1
        return True

    def give_back(self, address: str) -> None:
        left = self._open.get(address, 0) - 1
        if left > 0:
            self._open[address] = left
        else:
            self._open.pop(address, None)


def _address(websocket: WebSocket) -> str | None:
    """Whom the per-address limits count: the client's subscriber network (uvicorn puts a local
    proxy's X-Forwarded-For there), or None for this machine itself: a proxy that forwards no address
    would make every user one, and tests and load runs come from here."""
    host = websocket.client.host if websocket.client else None
    return None if is_this_machine(host) else subscriber_network(host)


def _network_key(websocket: WebSocket, address: str) -> str:
    """The client's network as the issue API's count of wrong query codes names it: an IPv6 client by
    its /56 (a subscriber's usual allocation: a /64 each would give one home 256 names), keyed with
    the gateway's secret, since IPv4 addresses are few enough to recover from a plain hash."""
    try:
        network = ipaddress.ip_network(address, strict=False)
        if network.version == 6:
            address = str(network.supernet(new_prefix=56))
    except ValueError:
        pass  # not an address (a test client's name): named as it is
    secret = websocket.app.state.settings.secret.encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:24]


@router.websocket("/ws/chat")
async def chat_socket(websocket: WebSocket, sender: str = "") -> None:
    if not SENDER_ID.match(sender):
        await websocket.close(code=4400, reason="invalid sender id")
        return
    sender = web_conversation_id(sender)
    conv_router: Router = websocket.app.state.router
    sockets: SocketsPerAddress = websocket.app.state.chat_sockets
    address = _address(websocket)
    await websocket.accept()
    if address is not None and not sockets.take(address):
        log.warning("chat socket refused: %d open from one address", sockets.limit)
        await _notice(websocket, NOTICE_TOO_MANY_SOCKETS)
        await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason="too many chats from this address")
        return
    try:
        await _serve(websocket, conv_router, sender, address)
    finally:
        if address is not None:
            sockets.give_back(address)


async def _serve(websocket: WebSocket, conv_router: Router, sender: str, address: str | None) -> None:
    async with conv_router.subscribe(sender) as events:
        conv = conv_router.conversation(sender)
        await websocket.send_json({
            "type": "hello",
            "state": conv.state if conv else "bot",
            "messages": [_public(m) for m in conv_router.history(sender, limit=HISTORY_LIMIT)] if conv else [],
            "pending_ratings": await _pending_ratings_within_budget(websocket, sender, conv, address),
        })
        relay = asyncio.create_task(_relay(websocket, events))
        try:
            await _receive(websocket, conv_router, sender, address)
        except WebSocketDisconnect:
            pass
        finally:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await relay


async def _relay(websocket: WebSocket, events: asyncio.Queue) -> None:
    while True:
        event = await events.get()
        if event["type"] == "message":
            await websocket.send_json({"type": "message", "message": _public(event["message"])})
        elif event["type"] == "state":
            await websocket.send_json({"type": "state", "state": event["state"]})
        elif event["type"] == "typing":
            await websocket.send_json({"type": "typing"})
        elif event["type"] == RESYNC:  # events may have been missed: the widget reconnects and reloads
            await websocket.close(code=1012, reason="reload")
            return


async def _receive(websocket: WebSocket, conv_router: Router, sender: str, address: str | None) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw = message.get("text")
        if raw is None:  # a binary frame: the widget only sends text
            await _notice(websocket, NOTICE_BAD_FRAME)
            continue
        if len(raw) > MAX_FRAME_CHARS:
            await _notice(websocket, NOTICE_FRAME_TOO_LONG)
            continue
        frame = _parse(raw)
        kind = frame.get("type") if frame is not None else None
        if frame is None or not isinstance(kind, str):
            await _notice(websocket, NOTICE_BAD_FRAME)
            continue
        if kind == "message":
            text = frame.get("text", "")
            if not isinstance(text, str):
                await _notice(websocket, NOTICE_BAD_FRAME)
                continue
            if address is not None and conv_router.conversation(sender) is None and text.strip():
                # A new conversation: made-up access keys must not let one address flood the bot and
                # the operators' queue.
                if await websocket.app.state.new_chats.admit(address, ""):
                    log.warning("new chat refused: %d new chats from one address in 10 minutes",
                                websocket.app.state.new_chats.per_minute)
                    await _notice(websocket, NOTICE_TOO_MANY_CHATS)
                    continue
            # Only the web channel's own metadata: never a phone (that is the phone line's caller id).
            metadata = {"channel": "web"}
            if address is not None:  # whose query-code tries these are (actions/proof.py), as a keyed hash
                metadata["client"] = _network_key(websocket, address)
            if isinstance(frame.get("payload"), str) and frame["payload"]:
                metadata["payload"] = frame["payload"][:500]
            # Run the turn beside the receive loop, so typing events and operator messages keep
            # flowing while Rasa thinks; the router's per-conversation lock keeps turns in order.
            task = asyncio.create_task(_turn(websocket, conv_router, sender, text, metadata))
            _turns.add(task)
            task.add_done_callback(_turns.discard)
        elif kind in ("rating", "ticket_rating") and (refused := await conv_router.limiter.admit(sender, "")):
            await _notice(websocket, refused)  # ratings count against the chat's message limit too
        elif kind == "rating":
            score, comment = _score(frame.get("score")), frame.get("comment", "")
            if score is None or not isinstance(comment, str):
                await _notice(websocket, NOTICE_RATING_INVALID if score is None else NOTICE_RATING_BAD_COMMENT)
                continue
            try:
                replies = await conv_router.rate(sender, score, comment)
            except KeyError:  # a rating before anything was said: there is no conversation to rate
                await _notice(websocket, NOTICE_NOTHING_TO_RATE)
                continue
            if not replies:
                await _notice(websocket, NOTICE_ALREADY_RATED)
                continue
            log.info("conversation %s rated %s (%d notices)", sender, score, len(replies))
            websocket.app.state.board.poke()  # a low score reworks tickets: the consoles' alerts
        elif kind == "ticket_rating":
            score, comment, ticket_id = _score(frame.get("score")), frame.get("comment", ""), frame.get("ticket_id")
            if score is None or not isinstance(ticket_id, str):
                await _notice(websocket, NOTICE_RATING_INVALID)
                continue
            if not isinstance(comment, str):
                await _notice(websocket, NOTICE_RATING_BAD_COMMENT)
                continue
            try:
                outcome = await conv_router.rate_ticket(sender, ticket_id, score, comment)
            except KeyError:  # no conversation, or not one of its tickets: nothing is rated
                shown = ticket_id if is_ticket_id(ticket_id) else "(not a ticket number)"  # never free text
                log.warning("conversation %s tried to rate ticket %s, which is not its own", sender, shown)
                await _notice(websocket, NOTICE_NOT_OWN_TICKET)
                continue
            log.info("conversation %s rated ticket %s: %s (%s)", sender, ticket_id, score, outcome)
            websocket.app.state.board.poke()
        elif kind != "ping":
            await _notice(websocket, NOTICE_BAD_FRAME)


def _public(message: dict[str, Any]) -> dict[str, Any]:
    """A transcript message as the public widget may see it: without the operator's login name (the
    console keeps it; the user only ever sees 人工客服), also in a claim notice an earlier version wrote
    with the name in it."""
    public = {k: v for k, v in message.items() if k != "operator"}
    if public.get("role") == "system" and is_claim_notice(str(public.get("text") or "")):
        public["text"] = NOTICE_CLAIMED
    return public


def _parse(raw: str) -> Optional[dict[str, Any]]:
    """A frame as a JSON object, or None for anything else (including JSON nested deeper than the
    parser's stack, which raises RecursionError rather than ValueError)."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return frame if isinstance(frame, dict) else None


def _score(value: Any) -> Optional[int]:
    """1..5 from a widget's rating frame; bools, floats out of range (1e400), strings are refused."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= 5 else None


async def _turn(websocket: WebSocket, conv_router: Router, sender: str, text: str, metadata: dict) -> None:
    try:
        replies = await conv_router.handle_user_message(sender, text, channel="web", metadata=metadata)
        for item in replies:
            if item.get("transient"):
                await _notice(websocket, item["text"])
    except Exception:  # a broken socket, a database restart or a bug in one turn must not take the others down
        log.exception("turn failed for %s", sender)
        with contextlib.suppress(Exception):  # the user is told, not left waiting for an answer
            await _notice(websocket, NOTICE_TURN_FAILED)


async def _notice(websocket: WebSocket, text: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "notice", "text": text})


async def _pending_ratings_within_budget(websocket: WebSocket, sender: str, conv: Optional[Conversation],
                                         address: str | None) -> list[dict[str, Any]]:
    """`pending_ratings`, unless this address already had its lookups of the minute
    (GATEWAY_RATING_LOOKUPS_PER_ADDRESS): then none, and the form shows at a later connect."""
    if conv is None or not conv.ticket_ids:
        return []
    if address is not None and await websocket.app.state.rating_lookups.admit(address, ""):
        log.warning("no pending ratings looked up: %d reconnects with tickets from one address in a minute",
                    websocket.app.state.rating_lookups.per_minute)
        return []
    return await pending_ratings(websocket, sender, conv.ticket_ids)


async def pending_ratings(websocket: WebSocket, conversation_id: str, ticket_ids: list[str]) -> list[dict[str, Any]]:
    """The conversation's tickets that are resolved and wait for a rating (回访 on the web), except those
    an end-of-chat rating of this same conversation already waits for: a rating another chat kept for
    the ticket must not hide the reporter's own form. Empty when the issue API does not answer in time."""
    if not ticket_ids:
        return []
    app = websocket.app
    kept = {rating.ticket_id for rating in app.state.pending_ratings.all(conversation_id)}
    wanted = [t for t in ticket_ids[-PENDING_RATINGS_MAX:] if t not in kept]

    async def one(ticket_id: str) -> Optional[dict[str, Any]]:
        try:
            return await asyncio.to_thread(app.state.issue_api.get_ticket, ticket_id)
        except IssueApiError:
            return None

    try:
        tickets = await asyncio.wait_for(asyncio.gather(*(one(t) for t in wanted)), PENDING_RATINGS_TIMEOUT)
    except asyncio.TimeoutError:
        log.warning("the issue API did not answer in %.0fs: no pending ratings offered", PENDING_RATINGS_TIMEOUT)
        return []
    return [{
        # Read with the operator's token, shown on a public page: phones masked as the bot reads them.
        "ticket_id": str(t["id"]), "category": t.get("category"),
        "description": _short(mask_phones_in_text(str(t.get("description") or ""))),
        "result": mask_staff_text(str(t.get("result") or ""), t.get("phone")),
        "resolved_at": t.get("resolved_at"),
    } for t in tickets if t and t.get("status") == "resolved" and str(t.get("id")) in wanted]


def _short(text: Any, limit: int = 60) -> str:
    text = str(text or "")
    return text if len(text) <= limit else text[:limit] + "…"
