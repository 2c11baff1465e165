"""Turn what Vosk heard into the text the NLU was trained on.

Vosk's Chinese models put a space between every word ("我 的 工单 号") and spell numbers the way
people say them ("幺三八 一二三四 五六七八"). The NLU expects written Chinese with ticket ids and
phone numbers as digits; the number rules are the contract's (contract.spoken_numbers), shared with
the actions that read typed text.
"""
from __future__ import annotations

import re
import unicodedata

from contract.spoken_numbers import digits_in_speech, remove_inter_word_spaces, spoken_digits_to_arabic

__all__ = ["normalize_transcript", "remove_inter_word_spaces", "spoken_digits_to_arabic"]

_UNKNOWN_TOKEN = re.compile(r"\[unk\]|<unk>", re.IGNORECASE)


def normalize_transcript(text: str) -> str:
    """Everything the NLU needs done to a Vosk transcript, in order."""
    text = unicodedata.normalize("NFKC", text or "")
    return digits_in_speech(_UNKNOWN_TOKEN.sub(" ", text))
