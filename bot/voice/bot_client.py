"""Send what the caller said to the conversation, get back what to say.

Two routes: straight to Rasa's REST channel (enough for a local run), or through the gateway's
channel API when GATEWAY_URL is set, so that the call shows up in the operator queue and an
operator can take it over (and their typed replies come back to be spoken). Both are blocking: a
call's session runs in a thread of its own.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

import requests

from bot.rasa_rest import BotUnavailable, RasaRestClient
from bot.voice.settings import VoiceSettings
from contract.errors import read_error
from contract.messages import handoff_of

log = logging.getLogger(__name__)


@dataclass
class BotReply:
    """The conversation's answer to one caller turn."""

    state: str = "bot"  # bot | waiting | operator | closed
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def handoff(self) -> dict[str, Any] | None:
        """The contract's handoff payload if the bot asked for a human."""
        return handoff_of(self.messages)


class CallerTurns(Protocol):
    """Where a call's session sends what the caller said."""

    def send(self, sender: str, text: str, phone: Optional[str]) -> BotReply: ...


def _metadata(phone: Optional[str]) -> dict[str, Any]:
    return {"channel": "voice", **({"phone": phone} if phone else {})}


class DirectRasa:
    """Caller turns straight to Rasa's REST channel: no operator can take the call over."""

    def __init__(self, rasa_url: str, timeout: float = 15.0, token: str = "") -> None:
        self.rasa = RasaRestClient(rasa_url, timeout, token)

    def send(self, sender: str, text: str, phone: Optional[str]) -> BotReply:
        messages = [{"role": "bot", **m} for m in self.rasa.send_blocking(sender, text, _metadata(phone))]
        if not any(m.get("text") for m in messages):
            # Every turn of this bot says something: nothing means a step failed (the action server
            # unreachable). The caller hears that, not silence and then "are you still there?".
            raise BotUnavailable("Rasa answered the turn with nothing to say")
        return BotReply(state="waiting" if handoff_of(messages) else "bot", messages=messages)


class GatewayChannelClient:
    """The gateway's channel API: the router decides whether the bot or an operator answers.

    The API is for the project's own adapters: every request carries GATEWAY_CHANNEL_TOKEN.
    """

    def __init__(self, gateway_url: str, timeout: float = 15.0, token: str = "") -> None:
        self.url = gateway_url.rstrip("/") + "/api/v1/channel/messages"
        self.timeout = timeout
        self._http = requests.Session()
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, **kwargs: Any) -> BotReply:
        try:
            response = self._http.request(method, self.url, **kwargs)
            if response.status_code == 401:
                raise BotUnavailable(f"gateway at {self.url} refused the channel token: {_error_message(response)} "
                                     "(GATEWAY_CHANNEL_TOKEN must be the gateway's)")
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise BotUnavailable(f"gateway at {self.url}: {exc}") from exc
        if not isinstance(data, dict):
            raise BotUnavailable(f"gateway at {self.url} answered {type(data).__name__}, not an object")
        return BotReply(state=str(data.get("state", "bot")), messages=list(data.get("messages") or []))

    def send(self, sender: str, text: str, phone: Optional[str]) -> BotReply:
        body = {"sender": sender, "message": text, "metadata": _metadata(phone)}
        return self._call("POST", json=body, timeout=self.timeout)

    def poll(self, sender: str, after: int, wait: float = 20.0) -> BotReply:
        """Long-poll for messages after sequence number `after` (operator replies to speak)."""
        params = {"sender": sender, "after": after, "wait": int(wait)}
        return self._call("GET", params=params, timeout=wait + self.timeout)


def _error_message(response: requests.Response) -> str:
    try:
        return read_error(response.json()).message or response.reason
    except ValueError:
        return response.reason


def warn_without_token(settings: VoiceSettings) -> None:
    """At start: through the gateway without its channel token, every caller turn would be refused."""
    if settings.gateway_url and not settings.channel_token:
        log.warning("GATEWAY_URL is set but GATEWAY_CHANNEL_TOKEN is not: the gateway will refuse every turn")


def build_bot_client(settings: VoiceSettings) -> DirectRasa | GatewayChannelClient:
    """The gateway when GATEWAY_URL is set (with GATEWAY_CHANNEL_TOKEN), Rasa otherwise."""
    if settings.gateway_url:
        return GatewayChannelClient(settings.gateway_url, settings.bot_timeout, settings.channel_token)
    return DirectRasa(settings.rasa_url, settings.bot_timeout, settings.rasa_token)
