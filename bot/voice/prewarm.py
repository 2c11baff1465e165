"""Warm the recognizer pool of a voice server that just started, without delaying its first call.

The work (seconds of CPU) runs in a background thread while the server already answers: a call
that arrives meanwhile takes a new recognizer, as it would have without the warm-up.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time

from bot.voice.asr import warm_pool
from bot.voice.prompts import PROMPTS
from bot.voice.settings import VoiceSettings
from bot.voice.tts import CachedTts, TtsError

log = logging.getLogger(__name__)

# Prompts whose audio the recognizers decode: the bot's own speech, in the callers' language.
WARM_UP_PROMPTS = ("greeting", "reprompt", "bot_unavailable")
WARM_UP_NICENESS = 10  # the warm-up thread's CPU goes to live calls first


def prompt_speech(settings: VoiceSettings, tts: CachedTts) -> list[bytes]:
    """The warm-up prompts at the recognizer's rate (from the prompt cache when it has them)."""
    speech = []
    for name in WARM_UP_PROMPTS:
        try:
            speech.append(tts.synthesize(PROMPTS[name], settings.sample_rate))
        except (KeyError, TtsError) as exc:
            log.warning("no warm-up speech for prompt %s: %s", name, exc)
    return [pcm for pcm in speech if pcm]


def warm_pool_in_background(settings: VoiceSettings, tts: CachedTts, count: int | None = None) -> threading.Thread:
    """Start warming `count` recognizers (default: one per call slot, at most the pool's size)."""
    wanted = settings.audiosocket_max_calls if count is None else count

    def run() -> None:
        started = time.perf_counter()
        with contextlib.suppress(OSError, AttributeError):  # Linux: this thread only yields to calls
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WARM_UP_NICENESS)
        try:
            warmed = warm_pool(settings, prompt_speech(settings, tts), wanted)
        except Exception:  # noqa: BLE001 - an optimisation: calls work without it
            log.exception("warming the recognizer pool failed; the first calls decode with new recognizers")
            return
        log.info("recognizer pool warmed: %d recognizers in %.1f s", warmed, time.perf_counter() - started)

    thread = threading.Thread(target=run, name="asr-warm-up", daemon=True)
    thread.start()
    return thread
