"""`python -m bot gateway`: serve the web chat widget, the operator console and the voice socket."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from bot.gateway.settings import GatewaySettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default env GATEWAY_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default env GATEWAY_PORT or 8080)")


def run(args: argparse.Namespace) -> int:
    import uvicorn  # heavy web stack: only when the gateway really starts

    from bot.gateway.app import create_app
    from bot.gateway.masking import PhoneMaskingFilter

    try:
        settings = GatewaySettings.from_env()
    except ValueError as exc:  # a malformed number or operator entry: say which, do not dump a traceback
        print(f"gateway: bad configuration: {exc}", file=sys.stderr)
        return 2
    settings = dataclasses.replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(PhoneMaskingFilter())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per issue API call is noise
    # Chat frames are a few hundred bytes: compressing them costs CPU and saves nothing.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
                ws_max_size=64 * 1024, ws_per_message_deflate=False, access_log=False)
    return 0
