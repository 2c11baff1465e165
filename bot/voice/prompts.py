"""The fixed things the voice bot says on its own (not Rasa's replies), and their audio cache.

The wording is in domain.yml (responses `utter_call_<name>`), like every other sentence a caller
hears. The prompts are synthesized once by `python -m bot prompts build` (a `make setup` step) for
both line rates, so a call never waits for speech synthesis to greet, reprompt or say goodbye.
"""
from __future__ import annotations

from typing import Mapping

from bot.voice.tts import CachedTts
from contract.replies import reply

PROMPT_NAMES = ("greeting", "reprompt", "goodbye_silence", "goodbye_max_length", "bot_unavailable", "transfer",
                "operator_joined", "goodbye_closed", "busy")


def load_prompts() -> Mapping[str, str]:
    return {name: reply(f"utter_call_{name}", for_channel="voice") for name in PROMPT_NAMES}


PROMPTS: Mapping[str, str] = load_prompts()

# Rates the prompts are cached at: a headset / WAV call, and a telephone line.
PROMPT_RATES = (16000, 8000)


def build_prompt_cache(tts: CachedTts) -> int:
    """Synthesize every prompt at every line rate into the disk cache; returns the count."""
    count = 0
    for text in PROMPTS.values():
        for rate in PROMPT_RATES:
            tts.synthesize(text, rate, persist=True)
            count += 1
    return count
