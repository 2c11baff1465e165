"""Query codes (查询码) in free text: masked where people read the text, dropped where it is written
to a ticket.

A query code is the reporter's proof for a ticket (contract, "Who may act on a ticket"): whoever
reads it can act as the reporter. Callers say it inside sentences ("补充一下工单2612010001，查询码
361510，内容是…"), and such sentences travel on: into a supplement or a rating comment that the
department reads, into the handoff summary, into logs. One place knows how a code looks in text:
digits in any form people type or a recognizer writes (ASCII, full-width, Chinese numerals, grouped
by spaces or dashes), announced by the word (查询码, 验证码, a bare 码 starting a clause, traditional
forms) before or after it, one code or several ("分别是362562和612770").
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional

from contract.phones import mask_phones_in_text
from contract.spoken_numbers import SCORE_UNIT

MASK = "******"
CODE_DIGITS = 6  # a query code's digits, as the issue API and the action server make them
# A digit as people type or say it: ASCII or full-width (\d), or a Chinese numeral.
_DIGIT_FORMS = {"0": "零〇", "1": "一幺", "2": "二两", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七",
                "8": "八", "9": "九"}
_D = r"[\d" + "".join(_DIGIT_FORMS.values()) + "]"
_SEP = r"[ \t\-—－.·]"
_IN_CODE = _SEP + "{0,2}"  # what may group the digits of one code ("3615 10", "3615-10")
# Between the digits of a code or ticket number we know, a little more: "5 0 8 - 3 6 7" (a bare number
# is not read that loosely: "9:00 - 11:00", "30 - 40 分钟" are no codes).
_IN_KNOWN = _SEP + "{0,3}"
# Never part of a longer number, also one read in groups ("2612 0200 01": its "0200 01" is no code).
_NOT_AFTER_DIGITS = "".join(rf"(?<!{_D}{_SEP * n})" for n in range(3))
_CODE = _NOT_AFTER_DIGITS + _D + r"(?:" + _IN_CODE + _D + r"){3,7}(?!" + _D + ")"
_CODE_RE = re.compile(_CODE)
# The word that announces a code; a bare 码 only where a clause starts ("码：389692", not "号码").
_WORD = (r"(?:查\s*[询詢]\s*(?:号\s*|號\s*|密\s*)?[码碼]|[验驗]\s*[证證]\s*[码碼]|密\s*[码碼]"
         r"|(?:^|(?<=[\s，,。；;：:、！!？?]))[码碼])")
# What may stand between the word and the code: spaces, punctuation, quotes and brackets, and the
# little words of "查询码应该是：", "查询码呢是", "两件的查询码分别是".
_BETWEEN = r"(?:\s|[是为為呢吧啊哦就应應该該我记記得的分别別：:=＝，,、“”\"'‘’「」『』（）()\[\]【】]){0,10}"
_MORE = r"(?:\s*(?:和|与|與|、|，|,|及|跟|还有|還有)\s*" + _CODE + r")*"  # "362562和612770"
_ANNOUNCED = re.compile(
    r"(?:" + _WORD + _BETWEEN + _CODE + _MORE + r"[”\"'’」』）)\]】]?)"
    r"|(?:" + _CODE + r"(?:\s|[是为為就我的这這个個：:，,、]){0,6}(?=" + _WORD + r"))")
_EMPTY_PUNCTUATION = re.compile(r"[，,。；;：:、 ]{2,}")  # what is left where something was taken out
# A number of a code's length standing alone in a comment, not a count or a date ("217593", not
# "2026年", "5000元", "15天"), for texts where such numbers have no business (rating comments).
_BARE = re.compile(_CODE +
                   r"(?![年月日号號元块塊万萬个個次天楼樓层層米室户戶%％])")


def _spaced(digits: str, *, score_may_follow: bool = False) -> str:
    """A pattern for `digits` however they were grouped or written ("2612 0100 01", "3615-10",
    "三六一五一零", full-width). `score_may_follow`: the digits may run straight into a score
    ("2611270001五分", said at a rating without a pause), which is no longer number."""
    forms = [f"[{d}{chr(0xFF10 + int(d))}{_DIGIT_FORMS[d]}]" for d in digits]
    after = rf"(?!{_D}(?!\s*{SCORE_UNIT}))" if score_may_follow else rf"(?!{_D})"
    return rf"(?<!{_D})" + _IN_KNOWN.join(forms) + after


def _ascii_digits(values: Iterable[Optional[str]]) -> set[str]:
    return {v for v in values if v and v.isascii() and v.isdigit()}


_DIGIT_OF = {form: digit for digit, forms in _DIGIT_FORMS.items() for form in forms}


def _as_digits(code: str) -> str:
    return "".join(_DIGIT_OF.get(ch) or (str(unicodedata.digit(ch)) if ch.isdigit() else "") for ch in code)


def announced_codes(text: str) -> set[str]:
    """The codes `text` announces ("查询码 361510", "361510是查询码"), as ASCII digits."""
    return {_as_digits(code.group()) for match in _ANNOUNCED.finditer(text) for code in _CODE_RE.finditer(match.group())}


def mask_every_code(text: str) -> str:
    """`text` with every number of a code's length masked, announced or not: for an answer to a
    question for the code.

    Numbers are read as runs of digit groups, as people type and say them: a run as long as a ticket
    number or a phone ("2612 0200 01", "13900001111") is that number and stays; a run as long as a
    code is masked; a longer run is a number and a code side by side ("2612020001 361510",
    "3615 10 2612 0200 01"), and the groups that make up the code are masked. A run that splits
    no such way is masked whole: an operator may miss a number, never read a code."""
    return _DIGIT_RUN.sub(_masked_run, text)


_DIGIT_RUN = re.compile(_D + r"(?:" + _IN_CODE + _D + r")*")
_DIGIT_GROUP = re.compile(_D + "+")
_CODE_LENGTHS = range(4, 9)  # what _CODE matches: a code, however it was mistyped
_NUMBER_LENGTHS = range(9, 13)  # longer is no code: ticket numbers (8-12 digits, 8 is code-like) and phones


def _masked_run(match: re.Match[str]) -> str:
    run = match.group()
    groups = list(_DIGIT_GROUP.finditer(run))
    sizes = [len(g.group()) for g in groups]
    total = sum(sizes)
    if total < _CODE_LENGTHS.start or total in _NUMBER_LENGTHS:
        return run
    if total in _CODE_LENGTHS:
        return MASK
    splits = []  # (a code of the codes' own length first, the code's groups masked)
    for k in range(1, len(groups)):
        head = sum(sizes[:k])
        if head in _NUMBER_LENGTHS and total - head in _CODE_LENGTHS:  # the number, then the code
            splits.append((total - head != CODE_DIGITS, run[:groups[k].start()] + MASK))
        if head in _CODE_LENGTHS and total - head in _NUMBER_LENGTHS:  # the code, then the number
            splits.append((head != CODE_DIGITS, MASK + run[groups[k - 1].end():]))
    return min(splits)[1] if splits else MASK


def mask_query_codes(text: str, known: Iterable[str] = ()) -> str:
    """`text` with every announced code, and every code in `known` wherever it stands, as ******."""
    masked = _ANNOUNCED.sub(lambda m: _CODE_RE.sub(MASK, m.group()), text)
    for code in _ascii_digits(known):
        masked = re.sub(_spaced(code), MASK, masked)
    return masked


def mask_said(text: str, known: Iterable[str] = ()) -> str:
    """What a caller said, as a person taking the conversation over may read it: phones and query
    codes masked (handoff summaries)."""
    return mask_phones_in_text(mask_query_codes(text, known))


def without_proof(text: str, ticket_id: Optional[str] = None, known: Iterable[str] = (), *,
                  bare_numbers: bool = False) -> str:
    """What a caller asked to write on a ticket, without the proof that came with it: announced codes
    (with their word), the known codes and the ticket's own number are dropped, and the punctuation
    they leave behind tidied ("补充一下工单，内容是…"). `bare_numbers`: also every number of a code's
    length standing alone (for rating comments, where a code is the only such number to expect)."""
    kept = _ANNOUNCED.sub("", text)
    for digits in _ascii_digits((*known, ticket_id)):
        kept = re.sub(_spaced(digits, score_may_follow=bare_numbers), "", kept)
    if bare_numbers:
        kept = _BARE.sub("", kept)
    if kept == text:
        return text  # nothing taken out: the caller's own layout stays as it was
    kept = _EMPTY_PUNCTUATION.sub(lambda m: next((c for c in m.group() if c != " "), " "), kept)
    return kept.strip(" ，,。；;：:、")
