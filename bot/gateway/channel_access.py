"""Who may use the channel API (`/api/v1/channel/...`) and the audio socket (`/ws/audio`).

Both are for the project's own voice adapters, never for browsers: every request and every audio
WebSocket handshake carries `Authorization: Bearer <GATEWAY_CHANNEL_TOKEN>`. There is no loopback
exception (behind a reverse proxy every request comes from loopback), and with the token unset both
refuse everything, saying which variable to set. The widget and the console never need the token.

Refusals are the contract's error envelope, `{"error": {"code": "unauthorized", "message": ...}}`:
`code` is for programs, `message` (Chinese) for the person reading the log.
"""
from __future__ import annotations

import hmac
import re
from typing import Optional

from contract.errors import error_body

# The conversation ids a voice adapter may use (call UUIDs, "voice-<uuid>", test names).
SENDER = re.compile(r"^[A-Za-z0-9_.:@+-]{1,128}$")
# The ids the widget's chats get (chat_ws.web_conversation_id): a web user's conversation, with the
# proof it gathered, is none of a voice adapter's business, to read or to speak in.
WIDGET_SENDER = re.compile(r"^web-[0-9a-f]{32}$")
MESSAGE_WIDGET_CHAT = "该会话属于网页聊天，通道接口不能读取或代为发言。"

UNAUTHORIZED = "unauthorized"
MESSAGE_NOT_CONFIGURED = "网关未设置通道令牌：请设置 GATEWAY_CHANNEL_TOKEN（语音适配器使用同一令牌）后重启网关。"
MESSAGE_MISSING = "缺少通道令牌：请求头需要 Authorization: Bearer <GATEWAY_CHANNEL_TOKEN>。"
MESSAGE_INVALID = "通道令牌无效。"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="hotline-channel"'}


def channel_refusal(expected: str, authorization: Optional[str]) -> Optional[str]:
    """Why a request with this Authorization header may not use the channel (a Chinese message),
    or None when it may. The token is compared in constant time."""
    if not expected:
        return MESSAGE_NOT_CONFIGURED
    scheme, _, presented = (authorization or "").strip().partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        return MESSAGE_MISSING
    if not hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
        return MESSAGE_INVALID
    return None


def unauthorized_body(message: str) -> dict:
    return error_body(UNAUTHORIZED, message)
