"""The gateway's static files, where a path no file can have is simply not found.

Starlette's StaticFiles raises ValueError on a NUL byte in the path ("/static/%00"): unanswered, every
such request would be a 500 and a full traceback in the log, a cheap way for a stranger to flood it.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class PublicStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except ValueError:  # a NUL byte, or any other path the OS cannot name
            raise HTTPException(status_code=404) from None
