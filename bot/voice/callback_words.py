"""What a reporter may answer on a 回访 (callback) call, read from a phrase file (data, not code).

Each line is a phrase and its meaning: a score 1..5, `yes` / `no` (to "your rating is …, right?")
or `decline` (does not want to rate); `#` starts a comment. The default file is Chinese
(`audio/callback_words_zh.txt`); CALLBACK_RATING_WORDS points at another, e.g. the Korean one the
tests speak with the Korean model. Spaces inside a phrase separate words for a recognizer grammar and
are ignored when matching, since Vosk's Chinese models put a space between words.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

SCORES = ("1", "2", "3", "4", "5")
MEANINGS = frozenset(SCORES + ("yes", "no", "decline"))
_SPACE = re.compile(r"\s+")


class BadWordsFile(ValueError):
    """A line of the phrase file does not say a phrase and a meaning."""


@dataclass(frozen=True)
class Phrase:
    text: str  # as written (words separated by spaces)
    key: str  # what is looked for: the text without spaces
    meaning: str


@dataclass(frozen=True)
class AnswerWords:
    phrases: tuple[Phrase, ...]

    @classmethod
    def parse(cls, lines: Iterable[str], source: str = "<text>") -> "AnswerWords":
        phrases = []
        for number, line in enumerate(lines, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.rsplit(None, 1)
            if len(parts) != 2 or parts[1].lower() not in MEANINGS:
                raise BadWordsFile(f"{source}:{number}: expected a phrase and one of 1-5, yes, no, decline: {line!r}")
            text = " ".join(parts[0].split())
            phrases.append(Phrase(text, _SPACE.sub("", text).lower(), parts[1].lower()))
        if not any(p.meaning in SCORES for p in phrases):
            raise BadWordsFile(f"{source}: no phrase gives a score")
        # Longest first: 非常不满意 must win over 不满意, and that over 满意.
        return cls(tuple(sorted(phrases, key=lambda p: -len(p.key))))

    @classmethod
    def load(cls, path: Path) -> "AnswerWords":
        return cls.parse(Path(path).read_text(encoding="utf-8").splitlines(), str(path))

    def meaning(self, text: str) -> Optional[str]:
        """The meaning of the longest phrase found in `text`, or None."""
        said = _SPACE.sub("", text or "").lower()
        if not said:
            return None
        return next((p.meaning for p in self.phrases if p.key in said), None)

    def grammar(self, model: Any) -> Optional[str]:
        """A Vosk grammar (JSON list) of the phrases whose words the model knows, plus [unk]; None when
        the model knows none of them (a grammar of nothing would hear nothing)."""
        known = [p.text for p in self.phrases if all(model.vosk_model_find_word(w) >= 0 for w in p.text.split())]
        if not known:
            return None
        if model.vosk_model_find_word("[unk]") >= 0:
            known.append("[unk]")
        return json.dumps(sorted(set(known), key=known.index), ensure_ascii=False)
