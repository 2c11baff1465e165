"""Send what the caller said to the conversation, get back what to say.

Two routes: straight to Rasa's REST channel (enough for a local run), or through the gateway's
channel API when GATEWAY_URL is set, so that the call shows up in the operator queue and an
operator can take it over (and their typed replies come back to be spoken).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from bot.voice.settings import VoiceSettings

log = logging.getLogger(__name__)


class BotUnavailableError(RuntimeError):
    """The bot (or gateway) could not be reached or answered nonsense."""


@dataclass
class BotReply:
    """The conversation's answer to one caller turn."""

    state: str = "bot"  # bot | waiting | operator | closed
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def handoff(self) -> dict[str, Any] | None:
        """The contract's handoff payload if the bot asked for a human."""
        for message in self.messages:
            custom = message.get("custom") or {}
            if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
                return custom["handoff"]
        return None


class BotClient(Protocol):
    def send(self, sender: str, text: str, phone: str | None) -> BotReply: ...


def _metadata(phone: str | None) -> dict[str, Any]:
    return {"channel": "voice", **({"phone": phone} if phone else {})}


def _json_call(http: requests.Session, method: str, url: str, what: str, **kwargs: Any) -> Any:
    """One HTTP exchange; any way it fails means the same thing to a caller: the bot is unavailable."""
    try:
        response = http.request(method, url, **kwargs)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise BotUnavailableError(f"{what} at {url} failed: {exc}") from exc


def _gateway_reply(url: str, data: Any) -> BotReply:
    if not isinstance(data, dict):
        raise BotUnavailableError(f"gateway at {url} answered {type(data).__name__}, not an object")
    return BotReply(state=str(data.get("state", "bot")), messages=list(data.get("messages") or []))


class RasaRestClient:
    """Rasa's REST channel: POST /webhooks/rest/webhook."""

    def __init__(self, rasa_url: str, timeout: float = 15.0) -> None:
        self.url = rasa_url.rstrip("/") + "/webhooks/rest/webhook"
        self.timeout = timeout
        self._http = requests.Session()

    def send(self, sender: str, text: str, phone: str | None) -> BotReply:
        body = {"sender": sender, "message": text, "metadata": _metadata(phone)}
        items = _json_call(self._http, "POST", self.url, "Rasa", json=body, timeout=self.timeout)
        if not isinstance(items, list):
            raise BotUnavailableError(f"Rasa at {self.url} answered {type(items).__name__}, not a list")
        messages = [{"role": "bot", **{k: v for k, v in item.items() if k != "recipient_id"}} for item in items]
        state = "waiting" if BotReply(messages=messages).handoff else "bot"
        return BotReply(state=state, messages=messages)


class GatewayChannelClient:
    """The gateway's channel API: the router decides whether the bot or an operator answers."""

    def __init__(self, gateway_url: str, timeout: float = 15.0) -> None:
        self.url = gateway_url.rstrip("/") + "/api/v1/channel/messages"
        self.timeout = timeout
        self._http = requests.Session()

    def send(self, sender: str, text: str, phone: str | None) -> BotReply:
        body = {"sender": sender, "message": text, "metadata": _metadata(phone)}
        data = _json_call(self._http, "POST", self.url, "gateway", json=body, timeout=self.timeout)
        return _gateway_reply(self.url, data)

    def poll(self, sender: str, after: int, wait: float = 20.0) -> BotReply:
        """Long-poll for messages after sequence number `after` (operator replies to speak)."""
        params = {"sender": sender, "after": after, "wait": int(wait)}
        data = _json_call(self._http, "GET", self.url, "gateway", params=params, timeout=wait + self.timeout)
        return _gateway_reply(self.url, data)


def build_bot_client(settings: VoiceSettings) -> RasaRestClient | GatewayChannelClient:
    """The gateway when GATEWAY_URL is set, Rasa otherwise."""
    if settings.gateway_url:
        return GatewayChannelClient(settings.gateway_url, settings.bot_timeout)
    return RasaRestClient(settings.rasa_url, settings.bot_timeout)
