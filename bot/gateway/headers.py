"""Response headers that every gateway answer needs, set in one place rather than by each route.

- `X-Content-Type-Options: nosniff` on everything: a browser must never read a JSON answer or an
  uploaded-looking text as a script or a page.
- `Cache-Control: no-store` on the console's, the workbench's and the channel API's answers: they
  carry callers' phones, names and transcripts, which no browser or proxy cache may keep.

A pure ASGI middleware (like contract.body_limit), so that streamed answers and WebSockets pass
untouched.
"""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Paths whose answers carry personal data (and their login and logout posts, which cost nothing to cover).
PRIVATE_PREFIXES = ("/api/v1/console", "/api/v1/department", "/api/v1/channel", "/console", "/department")
NOSNIFF = ("X-Content-Type-Options", "nosniff")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = str(scope.get("path", "")).startswith(PRIVATE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers.setdefault(*NOSNIFF)
                if private:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
