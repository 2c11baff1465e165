"""/ws/audio: the voice helper's audio socket, mounted lazily.

The voice stack (Vosk, TTS) is optional for the gateway: when `bot.voice.audio_ws` cannot be
imported the route explains why and closes, and the chat and console keep working.
"""
from __future__ import annotations

import importlib
import logging

from fastapi import APIRouter, WebSocket

log = logging.getLogger(__name__)
router = APIRouter()


@router.websocket("/ws/audio")
async def audio_socket(websocket: WebSocket) -> None:
    try:
        handler = importlib.import_module("bot.voice.audio_ws").audio_websocket
    except (ImportError, AttributeError) as exc:
        log.warning("voice audio socket unavailable: %s", exc)
        await websocket.accept()
        await websocket.send_json({"type": "error", "text": "语音通道暂不可用（未安装语音模块）。",
                                   "detail": f"{type(exc).__name__}: {exc}"})
        await websocket.close(code=1011, reason="voice module unavailable")
        return
    await handler(websocket)
