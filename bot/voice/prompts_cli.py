"""`python -m bot prompts build`: synthesize the fixed voice prompts into audio/cache/."""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["build"], help="build: synthesize every prompt into the cache")


def run(args: argparse.Namespace) -> int:
    from bot.voice.prompts import build_prompt_cache
    from bot.voice.settings import VoiceSettings
    from contract.settings import load_or_exit
    from bot.voice.tts import TtsError, build_tts

    settings = load_or_exit(VoiceSettings, "prompts")
    try:
        count = build_prompt_cache(build_tts(settings))
    except TtsError as exc:
        print(f"{exc}\nInstall espeak-ng and sox (make system-deps), then run this again.", file=sys.stderr)
        return 1
    print(f"{count} prompt recordings in {settings.prompt_cache_dir}")
    return 0
