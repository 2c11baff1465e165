"""/ws/audio: the voice adapters' audio socket, mounted lazily.

Before any frame is read the handshake must carry `Authorization: Bearer <GATEWAY_CHANNEL_TOKEN>`
(channel_access.py): without it the socket gets an error message and is closed with 4401. At most
GATEWAY_MAX_AUDIO_CONNECTIONS sockets are served at once (each decodes speech); one more gets an
error message and is closed with 1013 (try again later).

The voice stack (Vosk, TTS) is optional for the gateway: when `bot.voice.audio_ws` cannot be
imported the route explains why and closes, and the chat and console keep working.
"""
from __future__ import annotations

import contextlib
import importlib
import logging

from fastapi import APIRouter, WebSocket

from bot.gateway.channel_access import UNAUTHORIZED, channel_refusal
from contract.errors import error_body

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_UNAUTHORIZED = 4401
CLOSE_TRY_AGAIN_LATER = 1013
BUSY = "busy"
MESSAGE_BUSY = "语音通道繁忙：同时进行的语音连接已达上限，请稍后再试。"
UNAVAILABLE = "voice_unavailable"
MESSAGE_UNAVAILABLE = "语音通道暂不可用（未安装语音模块）。"


class AudioSlots:
    """How many audio sockets are served at once (GATEWAY_MAX_AUDIO_CONNECTIONS); one event loop, no lock."""

    def __init__(self, limit: int) -> None:
        self.limit, self.active = limit, 0

    def take(self) -> bool:
        if self.active >= self.limit:
            return False
        self.active += 1
        return True

    def give_back(self) -> None:
        self.active = max(0, self.active - 1)


async def refuse(websocket: WebSocket, code: str, message: str, close_code: int, **extra: object) -> None:
    """Tell the client why (the contract's error envelope, plus `text` as every audio message has),
    then close. The client may already be gone."""
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "error", "text": message, **error_body(code, message), **extra})
    with contextlib.suppress(Exception):
        await websocket.close(code=close_code)


@router.websocket("/ws/audio")
async def audio_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    await websocket.accept()  # accepted only to say why it is refused: nothing is read before the checks
    refusal = channel_refusal(state.settings.channel_token, websocket.headers.get("authorization"))
    if refusal is not None:
        log.warning("audio socket from %s refused: %s", websocket.client, refusal)
        await refuse(websocket, UNAUTHORIZED, refusal, CLOSE_UNAUTHORIZED)
        return
    slots: AudioSlots = state.audio_slots
    if not slots.take():
        log.warning("audio socket refused: %d of %d in use", slots.active, slots.limit)
        await refuse(websocket, BUSY, MESSAGE_BUSY, CLOSE_TRY_AGAIN_LATER)
        return
    try:
        try:
            handler = importlib.import_module("bot.voice.audio_ws").audio_websocket
        except (ImportError, AttributeError) as exc:
            log.warning("voice audio socket unavailable: %s", exc)
            await refuse(websocket, UNAVAILABLE, MESSAGE_UNAVAILABLE, 1011, detail=f"{type(exc).__name__}: {exc}")
            return
        await handler(websocket, state.voice_settings, start_timeout=state.settings.audio_start_timeout,
                      idle_timeout=state.settings.audio_idle_timeout)
    finally:
        slots.give_back()
