"""Query codes (查询码) in free text: masked where people read the text, dropped where it is written
to a ticket.

A query code is the reporter's proof for a ticket (contract, "Who may act on a ticket"): whoever
reads it can act as the reporter. Callers say it inside sentences ("补充一下工单2612010001，查询码
361510，内容是…"), and such sentences travel on: into a supplement or a rating comment that the
department reads, into the handoff summary, into logs. One place knows how a code looks in text.
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

MASK = "******"
# The code after the word that announces it, as typed or as normalized speech: "查询码361510",
# "查询码是 3615 10", "验证码：3615".
_AFTER_WORD = re.compile(r"(?P<word>查询码|验证码)(?P<sep>\s*(?:是|为|：|:)?\s*)(?P<code>\d(?:[\s-]?\d){3,7})(?!\d)")
_EMPTY_PUNCTUATION = re.compile(r"([，,。；;：:、\s])[，,。；;：:、\s]+")


def _spaced(digits: str) -> str:
    """A pattern for `digits` however they were grouped ("2612 0100 01", "3615-10")."""
    return r"(?<!\d)" + r"[\s-]?".join(re.escape(d) for d in digits) + r"(?!\d)"


def mask_query_codes(text: str, known: Iterable[str] = ()) -> str:
    """`text` with every announced code, and every code in `known` wherever it stands, as ******."""
    masked = _AFTER_WORD.sub(lambda m: f"{m.group('word')}{m.group('sep')}{MASK}", text)
    for code in {c for c in known if c and c.isdigit()}:
        masked = re.sub(_spaced(code), MASK, masked)
    return masked


def without_proof(text: str, ticket_id: Optional[str] = None, known: Iterable[str] = ()) -> str:
    """What a caller asked to write on a ticket, without the proof that came with it: the announced
    code, the known codes and the ticket's own number are dropped, and the punctuation they leave
    behind tidied ("补充一下工单，内容是…")."""
    kept = _AFTER_WORD.sub("", text)
    for digits in {c for c in (*known, ticket_id or "") if c and c.isdigit()}:
        kept = re.sub(_spaced(digits), "", kept)
    kept = _EMPTY_PUNCTUATION.sub(lambda m: m.group(1), kept)
    return kept.strip(" ，,。；;：:、")
