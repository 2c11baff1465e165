"""Prepare reply text for a speech engine: how numbers are read, and pinyin for espeak-ng.

On the phone, ticket ids and phone numbers must be read one digit at a time, with 1 said as "幺"
(as Chinese service lines do, so 1 and 7 are not confused); quantities ("3个工作日") are read as
numbers. espeak-ng's Mandarin voice misreads many characters, so Chinese is handed to it as pinyin
with tone numbers (pypinyin picks the reading of polyphonic characters from word context).
"""
from __future__ import annotations

import re

import cn2an
from pypinyin import Style, lazy_pinyin

_DIGIT_NAMES = "零幺二三四五六七八九"
# Long digit runs (ids, phones), and years, are spelled out; masked phone digits are "星号".
_SPELL_MIN_DIGITS = 5
_NUMBER = re.compile(r"\d+")
_MASKED_PHONE = re.compile(r"(\d+)\*+(\d+)")
_PUNCTUATION = str.maketrans({
    "，": ", ", "、": ", ", "；": ", ", "：": ", ", "。": ". ", "！": ". ", "？": "? ",
    "（": ", ", "）": ", ", "“": "", "”": "", "《": "", "》": "", "…": ". ", "—": ", ", "~": " ",
})


def spell_digits(digits: str) -> str:
    """"20261127001" -> "二零二六幺幺二七零零幺"."""
    return "".join(_DIGIT_NAMES[int(d)] for d in digits)


def cardinal(number: int) -> str:
    """A number as spoken Chinese: 15 -> 十五, 105 -> 一百零五, 3000 -> 三千 (cn2an)."""
    return cn2an.an2cn(number)


def read_numbers(text: str) -> str:
    """Replace digits with the Chinese words a caller should hear."""

    def number(match: re.Match[str]) -> str:
        digits = match.group()
        after = text[match.end(): match.end() + 1]
        if len(digits) >= _SPELL_MIN_DIGITS or after == "年" or digits.startswith("0") and len(digits) > 1:
            return spell_digits(digits)
        return cardinal(int(digits))

    text = _MASKED_PHONE.sub(lambda m: f"{spell_digits(m[1])}星号{spell_digits(m[2])}", text)
    return _NUMBER.sub(number, text)


def to_pinyin(text: str) -> str:
    """Reply text -> "nin2 hao3, ..." for espeak-ng's cmn-latn-pinyin voice."""
    text = read_numbers(text).translate(_PUNCTUATION)
    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    spoken = " ".join(s.strip() for s in syllables if s.strip())
    return re.sub(r"\s+([,.?])", r"\1", spoken)


def split_sentences(text: str) -> list[str]:
    """Sentences, so the first can be spoken while the rest are still being synthesized."""
    parts = re.split(r"(?<=[。！？!?；;\n])", text)
    return [p.strip() for p in parts if p.strip()]
