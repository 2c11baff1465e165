"""The action server answers only the Rasa server: the webhook needs ACTION_SERVER_TOKEN (Rasa sends
it as `?token=` when endpoints.yml names it), or, without a token configured, a caller on this
machine. rasa-sdk has no such check of its own, so it is added to its Sanic app here, when
`rasa run actions` imports this package (the app exists by then: rasa-sdk creates it first).
"""
from __future__ import annotations

import logging

from sanic import Sanic, response
from sanic.request import Request

from contract.internal_access import allowed

log = logging.getLogger(__name__)
OPEN_PATHS = ("/health",)


def install(token: str) -> bool:
    """Guard the rasa-sdk app of this process; False when there is none (tests importing actions)."""
    try:
        app = Sanic.get_app("rasa_sdk")
    except Exception:  # noqa: BLE001 - SanicException when no app: actions imported outside the server
        return False

    @app.middleware("request")
    async def _only_the_rasa_server(request: Request):  # type: ignore[no-untyped-def]
        if request.path in OPEN_PATHS:
            return None
        if allowed(token, request.args.get("token"), request.ip, request.headers):
            return None
        log.warning("refused %s %s from %s: no action server token", request.method, request.path, request.ip)
        return response.json({"error": {"code": "unauthorized", "message": "缺少或无效的动作服务令牌"}}, status=401)

    log.info("action server: webhook open to %s", "holders of ACTION_SERVER_TOKEN" if token else "loopback only")
    return True
