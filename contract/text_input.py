"""What any channel's user or operator types is cleaned the same way before it is stored or sent on.

Browsers and JSON let through what no database takes: NUL (PostgreSQL refuses it in text) and lone
UTF-16 surrogates (they cannot be encoded as UTF-8 at all, so SQLite, Rasa and the issue API would
all fail on them). Other control characters carry no meaning in a chat line and only confuse logs
and terminals. Line breaks and tabs stay.
"""
from __future__ import annotations

import re

_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` without control characters (but line breaks and tabs) and lone surrogates."""
    return _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
