"""Talks to Rasa's REST channel without blocking the event loop (one pooled async HTTP client)."""
from __future__ import annotations

from typing import Any

import httpx

from bot.router import BotUnavailable


class RasaClient:
    """`POST {RASA_URL}/webhooks/rest/webhook`; any failure becomes `BotUnavailable` for the router."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.url = f"{base_url.rstrip('/')}/webhooks/rest/webhook"
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            response = await self._http.post(self.url, json={"sender": sender, "message": text, "metadata": metadata})
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise BotUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(replies, list):
            raise BotUnavailable(f"unexpected reply {type(replies).__name__}")
        return [r for r in replies if isinstance(r, dict)]

    async def aclose(self) -> None:
        await self._http.aclose()
