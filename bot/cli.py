"""`python -m bot ...`: one entry point for the gateway and the voice tools.

Each sub-command imports its module lazily, so that `python -m bot gateway` does not load Vosk
and `python -m bot voice` does not load the web stack.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

# sub-command -> (module, help). Each module exposes `add_arguments(parser)` and `run(args) -> int`.
COMMANDS: dict[str, tuple[str, str]] = {
    "gateway": ("bot.gateway.cli", "web chat widget, operator console and voice audio socket"),
    "audit": ("bot.gateway.audit_cli", "show the console's audit log (who opened, claimed, answered, closed what)"),
    "voice": ("bot.voice.cli", "talk to the hotline by microphone, or play a WAV file as the caller"),
    "audiosocket": ("bot.voice.audiosocket_cli", "serve Asterisk AudioSocket calls"),
    "model": ("bot.voice.model_cli", "download and verify the Chinese Vosk model, precompile its decoding graph"),
    "prompts": ("bot.voice.prompts_cli", "synthesise the fixed voice prompts into audio/cache/"),
    "run": ("bot.ops.run_cli", "run the whole hotline under supervisord (make run), restarting what dies"),
    "health": ("bot.ops.health_cli", "check that every process of the hotline answers"),
    "purge": ("bot.retention_cli", "forget transcripts, delivered reports and trackers past HOTLINE_RETENTION_DAYS"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="96767 hotline bot")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                sub_parser.set_defaults(_missing=module_name)
                continue
            raise
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        print(f"'{args.command}' is not available in this installation ({args._missing}).", file=sys.stderr)
        return 2
    return int(run(args) or 0)
