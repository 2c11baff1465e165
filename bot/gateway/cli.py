"""`python -m bot gateway`: serve the web chat widget, the operator console and the voice socket."""
from __future__ import annotations

import argparse
import logging.config

from bot.gateway.settings import GatewaySettings
from contract.log_masking import logging_config
from contract.settings import load_or_exit

WS_MAX_SIZE = 128 * 1024  # bytes; a larger WebSocket frame is closed by the server (1009)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default env GATEWAY_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default env GATEWAY_PORT or 8080)")


def run(args: argparse.Namespace) -> int:
    import uvicorn  # heavy web stack: only when the gateway really starts

    from bot.gateway.app import create_app
    from bot.voice.settings import VoiceSettings

    settings = load_or_exit(GatewaySettings, "gateway", host=args.host, port=args.port)
    settings.secure_state_dir()
    voice_settings = load_or_exit(VoiceSettings, "gateway")  # for /ws/audio, read once
    config = logging_config(settings.log_level, quiet=("urllib3",))
    logging.config.dictConfig(config)
    # Chat frames are a few hundred bytes: compressing them costs CPU and saves nothing. The largest
    # frame is an audio socket's (one second at 48 kHz is 96000 bytes); /ws/chat caps its own frames.
    uvicorn.run(create_app(settings, voice_settings), host=settings.host, port=settings.port,
                log_level=settings.log_level, log_config=config, ws_max_size=WS_MAX_SIZE,
                ws_per_message_deflate=False, access_log=False)
    return 0
