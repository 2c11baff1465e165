"""The contract's REST channel (`POST /webhooks/rest/webhook`), as loaded into the Rasa server by
credentials.yml, with two things Rasa's stock RestInput does not do:

- replies are rendered for the channel named in the message's metadata (`channel: voice` or
  `web`): a response variation marked `channel: voice` in domain.yml is what a phone caller hears
  (Rasa picks variations by the name of the output channel, and the stock collector is always
  "collector"); other channels get the plain variation;
- a body that is not `{"sender": str, "message": str, "metadata": {...}?}` gets a 400 with a
  structured error instead of a traceback and a 500;
- `POST /webhooks/rest/operator_turns` writes what an operator said during a handoff into the
  tracker when the gateway hands the conversation back (operator_turns.py);
- it is an internal surface (its metadata `phone` is trusted as the phone line's caller id): with
  RASA_REST_TOKEN set, callers must show it (`Authorization: Bearer ...`), without it only callers
  on this machine are served (contract/internal_access.py).

Same path, same request and reply format as Rasa's RestInput; metadata is passed to the tracker
unchanged.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_plugins.operator_turns import OperatorTurnsInvalid, read_operator_turns, record_operator_turns
from contract.internal_access import allowed, bearer
from contract.settings import HotlineSettings

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5000
MAX_SENDER_CHARS = 256


class VoiceCollector(CollectingOutputChannel):
    @classmethod
    def name(cls) -> str:
        return "voice"


class WebCollector(CollectingOutputChannel):
    @classmethod
    def name(cls) -> str:
        return "web"


COLLECTORS = {"voice": VoiceCollector, "web": WebCollector}


def _refuse(code: str, message: str) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=400)


def _unauthorized(token: str, request: Request) -> Optional[HTTPResponse]:
    """The 401 for a caller without the token (or a browser), None for one this channel serves."""
    if allowed(token, bearer(request.headers.get("authorization")), request.ip, request.headers):
        return None
    log.warning("REST channel refused a caller at %s without the token (or a browser) on %s", request.ip, request.path)
    return response.json({"error": {"code": "unauthorized", "message": "缺少或无效的访问令牌"}}, status=401)


def _json_of(request: Request) -> Any:
    try:
        return request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own types for bad JSON
        return None


class HotlineRestInput(InputChannel):
    def __init__(self, token: str = "") -> None:
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("hotline_rest_webhook", __name__)

        @webhook.listener("after_server_start")
        async def warm_up_worker(app: Any, _loop: Any) -> None:
            from bot.rasa_plugins.warm_up import warm_up

            await warm_up(getattr(app.ctx, "agent", None))

        @webhook.listener("after_server_stop")
        async def close_connections(*_: Any) -> None:
            from bot.rasa_plugins.speedups import close_kept_sessions

            await close_kept_sessions()

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = _unauthorized(self.token, request)
            if refused is not None:
                return refused
            body = _json_of(request)
            if not isinstance(body, dict):
                return _refuse("body_invalid", "请求内容应为 JSON 对象：{\"sender\", \"message\", \"metadata\"}")
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
                return _refuse("sender_invalid", "sender 应为 1 到 256 个字符的字符串")
            if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
                return _refuse("message_invalid", f"message 应为不超过 {MAX_MESSAGE_CHARS} 个字的字符串")
            if metadata is not None and not isinstance(metadata, dict):
                return _refuse("metadata_invalid", "metadata 应为 JSON 对象")
            channel = (metadata or {}).get("channel")
            collector = COLLECTORS.get(channel, CollectingOutputChannel)()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                 metadata=metadata))
            except Exception:  # noqa: BLE001 - as Rasa's RestInput: answer with what was said so far
                log.exception("turn of a REST conversation failed")
            return response.json(collector.messages)

        @webhook.route("/operator_turns", methods=["POST"])
        async def operator_turns(request: Request) -> HTTPResponse:
            """What an operator said before handing the conversation back (operator_turns.py)."""
            refused = _unauthorized(self.token, request)
            if refused is not None:
                return refused
            try:
                turns = read_operator_turns(_json_of(request), MAX_SENDER_CHARS)
            except OperatorTurnsInvalid as exc:
                return _refuse(exc.code, str(exc))
            recorded = await record_operator_turns(request.app.ctx.agent, turns)
            return response.json({"recorded": recorded})

        return webhook

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> "HotlineRestInput":
        """Built once when the Rasa server starts: also the moment to keep its tracker store private
        and to take the per-turn waste out of the Rasa server (bot/rasa_plugins/speedups.py), and,
        before any Sanic worker is forked, to make the workers end with the server (workers.py), and
        to let a conversation stopped by Rasa's circuit breaker answer again (circuit_breaker.py)."""
        from bot.rasa_plugins import circuit_breaker, speedups
        from bot.rasa_plugins.workers import stop_workers_with_server

        speedups.install()
        circuit_breaker.install()
        stop_workers_with_server()
        HotlineSettings.from_env().secure_state_dir()
        return cls(token=os.environ.get("RASA_REST_TOKEN", "").strip())
