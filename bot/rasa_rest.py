"""The one client of Rasa's REST channel (`POST /webhooks/rest/webhook`), for the gateway's router
(async, aiohttp) and for the voice adapters that talk to Rasa directly (blocking, requests).

aiohttp on the gateway's side: on loopback it costs under 1 ms per request where httpx costs
about 3 ms, and the gateway's budget for its own share of a turn is a few milliseconds. Both ways
share the request body and the reading of the reply, and fail the same way: `BotUnavailable`.
"""
from __future__ import annotations

import asyncio
from typing import Any, Optional

import aiohttp
import requests


class BotUnavailable(Exception):
    """The bot could not be reached, timed out, or answered something that is not a reply."""


def rest_body(sender: str, text: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"sender": sender, "message": text, "metadata": metadata}


def read_replies(data: Any, url: str) -> list[dict[str, Any]]:
    """Rasa's answer: a list of bot messages ({"text"}, {"custom"}, {"buttons"}...), in order."""
    if not isinstance(data, list):
        raise BotUnavailable(f"{url} answered {type(data).__name__}, not a list of messages")
    return [{k: v for k, v in r.items() if k != "recipient_id"} for r in data if isinstance(r, dict)]


class RasaRestClient:
    """`RASA_URL` + /webhooks/rest/webhook; any failure becomes BotUnavailable."""

    def __init__(self, base_url: str, timeout: float = 30.0, token: str = "") -> None:
        self.url = f"{base_url.rstrip('/')}/webhooks/rest/webhook"
        self.operator_turns_url = f"{base_url.rstrip('/')}/webhooks/rest/operator_turns"
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._session: Optional[aiohttp.ClientSession] = None
        self._http: Optional[requests.Session] = None

    # -- async, for the gateway's router --------------------------------------------------------
    def _aio(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running event loop, as aiohttp requires.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout, connect=5.0),
                connector=aiohttp.TCPConnector(limit=100, limit_per_host=100),
            )
        return self._session

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            async with self._aio().post(self.url, json=rest_body(sender, text, metadata),
                                        headers=self.headers) as response:
                response.raise_for_status()
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise BotUnavailable(f"Rasa at {self.url}: {type(exc).__name__}: {exc}") from exc
        return read_replies(data, self.url)

    async def record_operator_turns(self, sender: str, texts: list[str], ticket_id: Optional[str]) -> None:
        """Write what an operator said (and the ticket the conversation is now about) into the bot's
        record of the conversation (bot/rasa_plugins/operator_turns.py)."""
        body = {"sender": sender, "texts": texts, "ticket_id": ticket_id}
        try:
            # Short: a hand-back waits for it, and the transcript keeps the words if it fails.
            async with self._aio().post(self.operator_turns_url, json=body, headers=self.headers,
                                        timeout=aiohttp.ClientTimeout(total=5.0, connect=2.0)) as response:
                response.raise_for_status()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise BotUnavailable(f"Rasa at {self.operator_turns_url}: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    # -- blocking, for a voice call's own thread ------------------------------------------------
    def send_blocking(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        if self._http is None:
            self._http = requests.Session()
        try:
            response = self._http.post(self.url, json=rest_body(sender, text, metadata), headers=self.headers,
                                       timeout=self.timeout)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise BotUnavailable(f"Rasa at {self.url}: {exc}") from exc
        return read_replies(data, self.url)
