"""Refuse oversized request bodies (413) before they are read into memory: the issue API and the
gateway (whose login forms are public) both mount it.

A pure ASGI middleware (not BaseHTTPMiddleware, which would cost every request a task switch):
a declared Content-Length over the limit is answered at once; a chunked body is counted while it
streams and cut off as soon as it passes the limit, with the same answer.
"""
from __future__ import annotations

from typing import Any, Callable

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.errors import error_body


def _error_envelope(message: str) -> dict[str, Any]:
    return error_body("body_too_large", message)


class BodySizeLimit:
    """`body`: the refusal's JSON in the service's own error shape (the issue API's envelope by default)."""

    def __init__(self, app: ASGIApp, max_bytes: int, body: Callable[[str], dict[str, Any]] = _error_envelope) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
        received = 0
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise HTTPException(413)  # (FastAPI passes an HTTPException on while reading a body)
            return message

        async def answering_send(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":  # the app's answer to the cut-off body
                await self._refuse(scope, receive, send)

        await self.app(scope, counting_receive, answering_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"提交的内容过大，最多 {self.max_bytes // 1024} KB"
        response = JSONResponse(self.body(message), status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)
