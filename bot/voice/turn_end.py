"""When has the caller finished their turn: how much silence ends it, judged on what they said.

One fixed pause is a poor compromise. Most answers on a hotline are short and over when the caller
stops ("对", "不是", "转人工", "满意", a ticket number read in one go): making them wait most of a
second for the reply is what makes a voice bot feel slow. But a caller describing a problem, or
reading a phone number in groups ("幺三八 … 一二三四 … 五六七八"), pauses in the middle of a turn, and
answering half of it is worse than waiting. So, like VoiceXML's completetimeout and
incompletetimeout, a turn ends after a short pause (VOICE_ENDPOINT_SILENCE) when it sounds finished
and after a longer one (VOICE_ENDPOINT_SILENCE_LONG) when it does not:

- it ran long (VOICE_LONG_TURN seconds of speech): someone telling a story pauses between clauses;
- its last words are a hesitation or a conjunction ("那个", "然后", "还有", "因为" ...), from a word
  list (VOICE_UNFINISHED_WORDS, one per line; another language, another file);
- it ends in a number of 2 to 9 digits: a phone number (11 digits) or a ticket number (10) being
  read in groups. A query code (4-8 digits) said in one go only waits the longer pause.

The judgement is made on the decoder's final text of what was said up to the pause (a partial
result lags the audio by a few hundred milliseconds and would miss the very words that matter), so
a turn that sounds unfinished is held and whatever the caller says next is added to it.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

from bot.voice.normalize import normalize_transcript
from bot.voice.settings import VoiceSettings

log = logging.getLogger(__name__)

# A number being read out in groups: more than one digit, fewer than a ticket number's ten.
_UNFINISHED_NUMBER = re.compile(r"(?<!\d)\d{2,9}$")
_TRAILING = re.compile(r"[\s，,。.！!？?、；;：:…~～]+$")
# A held turn goes to the bot after the long pause of quiet, or, on a line whose noise the level
# detector takes for speech, once the recognizer has found no new words for this long (s).
WORDLESS_HOLD = 2.0


def load_unfinished_words(path: Path) -> tuple[str, ...]:
    """The words after which a turn sounds unfinished, longest first, spaces removed (an empty file:
    none). Raises OSError or UnicodeDecodeError for a file that cannot be read: servers check at start."""
    words = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        word = "".join(line.split("#", 1)[0].split())
        if word:
            words.append(normalize_transcript(word))
    return tuple(sorted(set(words), key=len, reverse=True))


@lru_cache(maxsize=8)
def unfinished_words(path: Path) -> tuple[str, ...]:
    """`load_unfinished_words`, once per file; a file that cannot be read is logged once and judged
    by length and numbers only (a call never fails over it)."""
    try:
        return load_unfinished_words(path)
    except (OSError, UnicodeDecodeError) as exc:
        log.error("VOICE_UNFINISHED_WORDS %s cannot be read (%s): turns are judged without it", path, exc)
        return ()


class TurnEndPolicy:
    """Decides, at each pause, whether the caller's turn is over."""

    def __init__(self, settings: VoiceSettings) -> None:
        self.short = settings.endpoint_silence
        self.long = max(settings.endpoint_silence_long, settings.endpoint_silence)
        self.long_turn = settings.long_turn
        self.words = unfinished_words(settings.unfinished_words) if settings.unfinished_words else ()

    def sounds_unfinished(self, text: str, speech_seconds: float) -> bool:
        """Whether a caller who said `text` (normalized) in `speech_seconds` of speech is likely to go on."""
        return self.unfinished_because(text, speech_seconds) is not None

    def unfinished_because(self, text: str, speech_seconds: float) -> str | None:
        """Why the turn sounds unfinished (for the log: no words of the caller in it), or None."""
        if speech_seconds >= self.long_turn:
            return f"a long turn ({speech_seconds:.1f} s of speech)"
        text = _TRAILING.sub("", text)
        if _UNFINISHED_NUMBER.search(text):
            return "it ends in part of a number"
        if any(text.endswith(word) for word in self.words):
            return "it ends in a word from the unfinished list"
        return None

    def silence_needed(self, text: str, speech_seconds: float) -> float:
        """Seconds of silence after which the turn that has `text` so far is over."""
        return self.long if self.sounds_unfinished(text, speech_seconds) else self.short


def joined(*texts: str) -> str:
    """The words of a turn's utterances, in order, one space between them (empty ones left out)."""
    return " ".join(text for text in texts if text)
