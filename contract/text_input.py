"""What any channel's user or operator types is cleaned the same way before it is stored or sent on.

Browsers and JSON let through what no database takes: NUL (PostgreSQL refuses it in text) and lone
UTF-16 surrogates (they cannot be encoded as UTF-8 at all, so SQLite, Rasa and the issue API would
all fail on them). Other control characters carry no meaning in a chat line and only confuse logs
and terminals. Line breaks and tabs stay.

Invisible formatting characters are worse than meaningless where other people read the text: bidi
embeddings, overrides and isolates (and the LRM/RLM marks) make a line display in another order
than it was written, so a description or a chat line shown in the operator console or the
department workbench could read as something the caller never said ("Trojan Source"); zero-width
spaces, word joiners and a stray BOM hide inside words. They are removed. The zero-width joiners
that emoji sequences need are kept.

Markup and escape sequences are what people who probe a chat box type, never what a caller means:
HTML tags ("<b>西安</b>科技有限公司" is the company 西安科技有限公司), a script or style element with
its content, template expressions ("{{7*7}}", "${jndi:…}") and escapes written out ("\\u0000",
"%00"). Left in, the bot reads them as words: "\\u0000" looked like a report and "{{7*7}}" like a
rating of 7. `without_markup` takes them out of what the bot reads; the transcript keeps what was
typed.

Traditional characters are what users in Hong Kong and Taiwan, and anyone whose input method is set
that way, type ("我們公司門口的路燈壞了"). The model was trained on simplified text and reads most of
them as characters it has never seen: a report came back as "没听懂". `in_simplified` turns them into
simplified Chinese (OpenCC's phrase-aware t2s tables, so "乾淨" is "干净" and "著名" stays) for what the
bot reads and files; the transcript keeps what was typed. Only a text that holds a character no simplified
text has (one outside GB2312 that t2s changes, like 們 or 壞) is converted: the tables also rewrite
characters that are right in simplified Chinese ("打坏了" became "打坯了", the surname 沈 "沉", 於 "于"), so
in a text that mixes simplified characters in, a GB2312 character stays as typed unless t2s changes it on
its own (乾, 後, 於), and names outside GB2312 that simplified Chinese writes (王昇, 张璿) are left alone.
"""
from __future__ import annotations

import re
from functools import lru_cache

import opencc

CONTROL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
LONE_SURROGATES = "\ud800-\udfff"
HIDDEN_FORMATTING = "\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_LINE_BREAKS = re.compile("\r\n|[\r\x85\u2028\u2029]")
_UNWANTED = re.compile(f"[{CONTROL_CHARS}{LONE_SURROGATES}{HIDDEN_FORMATTING}]")
_UNSTORABLE = re.compile(f"[{CONTROL_CHARS}{LONE_SURROGATES}]")
_HIDDEN = re.compile(f"[{HIDDEN_FORMATTING}]")
_MARKUP = re.compile(
    r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)"  # an element whose content is code, with that content
    r"|<!--.*?(?:-->|$)"  # a comment
    r"|</?[A-Za-z][A-Za-z0-9:-]*(?:[\s/][^<>\u3400-\u9fff]*)?/?>"  # any other tag, its content kept
    r"|\{\{.*?\}\}|\{%.*?%\}|[$#]\{[^{}]*\}"  # template expressions
    r"|\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|[0-7]{1,3})"  # escapes written out
    r"|(?<![\d.])(?:%[0-9A-Fa-f]{2})+",  # percent-encoding ("%00"), not "30%12月"
    re.IGNORECASE | re.DOTALL)


def clean_text(text: str) -> str:
    """`text` with line breaks as "\\n", without control characters (but tabs), lone surrogates and
    invisible formatting."""
    return _UNWANTED.sub("", _LINE_BREAKS.sub("\n", text))


def has_unstorable(text: str) -> bool:
    """Whether `text` holds control characters (but tab and line breaks) or lone surrogates: an API
    refuses these rather than guess what was meant."""
    return _UNSTORABLE.search(text) is not None


def without_hidden_formatting(text: str) -> str:
    """`text` without the invisible characters that reorder or hide what is displayed."""
    return _HIDDEN.sub("", text)


def without_markup(text: str) -> str:
    """`text` without HTML tags, script content, template expressions and escape sequences, which
    people probing a chat box type and no caller means (see the module's docstring)."""
    return _MARKUP.sub("", text).strip()


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> opencc.OpenCC:
    # The dictionaries load once per process (a few ms); a conversion then takes microseconds.
    return opencc.OpenCC("t2s")


# Characters outside GB2312 that simplified Chinese writes in names (通用规范汉字表): "王昇" is no "王升".
_SIMPLIFIED_NAME_CHARS = frozenset("昇璿陞")


@lru_cache(maxsize=4096)
def _is_traditional_only(char: str) -> bool:
    """Whether `char` is a traditional character that simplified Chinese does not use: GB2312 holds the
    simplified set, and a character outside it that t2s leaves alone is not traditional (rare names, emoji)."""
    if char in _SIMPLIFIED_NAME_CHARS or "\ud800" <= char <= "\udfff" or _in_gb2312(char):
        return False  # (a lone surrogate cannot be converted: clean_text takes those out first)
    return _traditional_to_simplified().convert(char) != char


@lru_cache(maxsize=4096)
def _is_simplified_only(char: str) -> bool:
    """Whether `char` is a simplified character that traditional Chinese writes otherwise (坏, 们)."""
    return _in_gb2312(char) and _simplified_to_traditional().convert(char) != char


@lru_cache(maxsize=1)
def _simplified_to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def in_simplified(text: str) -> str:
    """`text` in simplified Chinese when it was typed in traditional; simplified text, digits, Latin
    letters and punctuation are left as they are (see the module's docstring)."""
    if not text or not any(_is_traditional_only(char) for char in text if char > "\u2e7f"):
        return text
    try:
        converted = _traditional_to_simplified().convert(text)
    except (UnicodeError, RuntimeError):
        return text
    if len(converted) != len(text):
        return converted
    # A traditional text is converted by phrase ("反覆" is "反复", "沈默" "沉默"); in one that mixes in
    # simplified characters ("打坏了 我們"), a GB2312 character stays as typed unless t2s changes it on its own
    # (乾, 後, 於), so 坏 is no 坯. Names outside GB2312 stay either way.
    mixed = any(_is_simplified_only(char) for char in text if char > "\u2e7f")
    return "".join(old if old != new and (old in _SIMPLIFIED_NAME_CHARS or (
        mixed and _in_gb2312(old) and not _read_either_way(old))) else new for old, new in zip(text, converted))


@lru_cache(maxsize=4096)
def _read_either_way(char: str) -> bool:
    """Whether t2s changes this GB2312 character on its own (乾 后 于 …): in a traditional text it is
    traditional ("乾淨", "以後"); any other GB2312 character the tables change is simplified already."""
    return _traditional_to_simplified().convert(char) != char


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False
