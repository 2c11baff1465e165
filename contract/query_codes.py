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
# A digit as people type or say it: ASCII or full-width (\d), or a Chinese numeral.
_DIGIT_FORMS = {"0": "零〇", "1": "一幺", "2": "二两", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七",
                "8": "八", "9": "九"}
_ANY_DIGIT = r"[\d" + "".join(_DIGIT_FORMS.values()) + "]"
# The code after the word that announces it: "查询码361510", "查询码是：3615 10", "查询号码就是三六一五一零",
# "验证码，3615".
_AFTER_WORD = re.compile(
    r"(?P<word>查询码|查询号码|查询密码|验证码)(?P<sep>(?:\s*(?:是|为|就是|[：:，,])\s*)*)"
    r"(?P<code>" + _ANY_DIGIT + r"(?:[\s-]?" + _ANY_DIGIT + r"){3,7})(?!" + _ANY_DIGIT + r")")
_EMPTY_PUNCTUATION = re.compile(r"([，,。；;：:、 ])[，,。；;：: 、]+")


def _spaced(digits: str) -> str:
    """A pattern for `digits` however they were grouped or written ("2612 0100 01", "3615-10",
    "三六一五一零", full-width)."""
    forms = [f"[{d}{chr(0xFF10 + int(d))}{_DIGIT_FORMS[d]}]" for d in digits]
    return rf"(?<!{_ANY_DIGIT})" + r"[\s-]?".join(forms) + rf"(?!{_ANY_DIGIT})"


def mask_query_codes(text: str, known: Iterable[str] = ()) -> str:
    """`text` with every announced code, and every code in `known` wherever it stands, as ******."""
    masked = _AFTER_WORD.sub(lambda m: f"{m.group('word')}{m.group('sep')}{MASK}", text)
    for code in {c for c in known if c and c.isascii() and c.isdigit()}:
        masked = re.sub(_spaced(code), MASK, masked)
    return masked


def without_proof(text: str, ticket_id: Optional[str] = None, known: Iterable[str] = ()) -> str:
    """What a caller asked to write on a ticket, without the proof that came with it: the announced
    code, the known codes and the ticket's own number are dropped, and the punctuation they leave
    behind tidied ("补充一下工单，内容是…")."""
    kept = _AFTER_WORD.sub("", text)
    for digits in {c for c in (*known, ticket_id or "") if c and c.isascii() and c.isdigit()}:
        kept = re.sub(_spaced(digits), "", kept)
    if kept == text:
        return text  # nothing taken out: the caller's own layout stays as it was
    kept = _EMPTY_PUNCTUATION.sub(lambda m: m.group(1), kept)
    return kept.strip(" ，,。；;：:、")
