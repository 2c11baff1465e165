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
# A digit as people type or say it: ASCII or full-width (\d), or a Chinese numeral, ordinary, financial
# (大写: 叁陆壹) or traditional, and ○ typed for 〇.
_DIGIT_FORMS = {"0": "零〇○", "1": "一幺壹", "2": "二两兩贰貳", "3": "三叁參", "4": "四肆", "5": "五伍", "6": "六陆陸",
                "7": "七柒", "8": "八捌", "9": "九玖"}
_D = r"[\d" + "".join(_DIGIT_FORMS.values()) + "]"
_SEP = r"[ \t\u3000\xa0\-—–－.·]"
_IN_CODE = _SEP + "{0,2}"  # what may group the digits of one code ("3615 10", "3615-10")
# Between the digits of a code or ticket number we know, a little more: "5 0 8 - 3 6 7" (a bare number
# is not read that loosely: "9:00 - 11:00", "30 - 40 分钟" are no codes).
_IN_KNOWN = r"[ \t\u3000\xa0\-—–－.·，,、\n]{0,3}"  # and a comma or line break: "361，510"
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


def _ascii_digits(values: Iterable[object]) -> set[str]:
    return {str(v) for v in values if v is not None and str(v).isascii() and str(v).isdigit()}


_DIGIT_OF = {form: digit for digit, forms in _DIGIT_FORMS.items() for form in forms}


def _as_digits(code: str) -> str:
    return "".join(_DIGIT_OF.get(ch) or (str(unicodedata.digit(ch)) if ch.isdigit() else "") for ch in code)


def announced_codes(text: str) -> set[str]:
    """The codes `text` announces ("查询码 361510", "361510是查询码"), as ASCII digits."""
    return {_as_digits(code.group()) for match in _ANNOUNCED.finditer(text) for code in _CODE_RE.finditer(match.group())}


def mask_every_code(text: str) -> str:
    """`text` with every number of a code's length masked, announced or not: for an answer to a
    question for the code.

    Numbers are read as runs of digit groups, as people type and say them. A run is read as the fewest
    numbers it can be, each either a code (4-8 digits: masked) or a number of a shape callers read
    (shown): a ticket number as one group or in fours ("2612 0200 01"), a mobile ("139 1234 5678"), a
    landline with its area code ("029-88886666"). Of two readings with as many numbers, the one whose
    codes are grouped as people read codes wins ("2612 0200 01 3615 10" is a ticket and a code, not
    "2612 0200" and "01 3615 10"); where readings are still as likely, only what every one of them
    shows as the same number is shown ("361510 2501" could be a ticket number read 6-4: masked whole).
    A run no reading covers is masked whole: an operator may miss a number, never read a code."""
    return _DIGIT_RUN.sub(_masked_run, text)


# In an answer to the question for the code anything may group its digits: "361，510", "3615 - 10", "361　510".
_DIGIT_RUN = re.compile(_D + r"(?:[\s\-—–－‐‑―−﹣.·，,、。．～~/_:：;；]{0,3}" + _D + r")*")
_DIGIT_GROUP = re.compile(_D + "+")
_CODE_LENGTHS = range(4, 9)  # what _CODE matches: a code, however it was mistyped
_LONGEST_NUMBER = 12  # contract: ticket numbers have 8 to 12 digits; phones 11 or 12 with the area code
# "2612 0200 01", a ticket number as operators read it out. No other shape in fours: 4-4-4 read
# "3615 1072 2612 0200 01" as a 12-digit number and a code, 4-4-1 "261202 0001 3615 1" as a code and
# a 9-digit number, and both showed digits of the code.
_SHAPES_IN_FOURS = {(4, 4, 2)}
# The hotline's ticket numbers are a day and a serial (issue_api/ids.py): only such a number read in fours is
# shown, so "6666 3615 10" (a landline's last group and a code read 4-2) is not.
_DAY_AND_SERIAL = re.compile(r"\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{4}")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_PHONE_SHAPES = {(11,), (3, 4, 4), (3, 8)}
# A landline with its area code: 010 and 02x have three digits and 8-digit numbers, the others four
# ("0917-3212345"); no area code starts 00.
_THREE_DIGIT_AREA = re.compile(r"0(?:10|2\d)\d{8}")
_FOUR_DIGIT_AREA_7 = re.compile(r"0[3-9]\d{9}")
_FOUR_DIGIT_AREA_8 = re.compile(r"0[3-9]\d{10}")
_LANDLINES = {(3, 8): _THREE_DIGIT_AREA, (3, 4, 4): _THREE_DIGIT_AREA, (4, 7): _FOUR_DIGIT_AREA_7,
              (4, 8): _FOUR_DIGIT_AREA_8, (4, 3, 4): _FOUR_DIGIT_AREA_7, (4, 4, 4): _FOUR_DIGIT_AREA_8}


def _shown_shape(digits: str, sizes: tuple[int, ...]) -> bool:
    """Whether digits grouped as `sizes` are a number callers read that way, and so no code."""
    if len(sizes) == 1:  # a mobile, a landline or a ticket number typed as one ("3615102501" is none)
        return bool(_MOBILE.fullmatch(digits) or _DAY_AND_SERIAL.fullmatch(digits)
                    or any(landline.fullmatch(digits) for landline in _LANDLINES.values()))
    if _MOBILE.fullmatch(digits):
        return sizes in _PHONE_SHAPES
    if digits.startswith("0"):
        return sizes in _LANDLINES and _LANDLINES[sizes].fullmatch(digits) is not None
    return sizes in _SHAPES_IN_FOURS and _DAY_AND_SERIAL.fullmatch(digits) is not None


def _readings(digits: list[str], gaps: list[str]) -> list[tuple[int, int, tuple[int, int], bool]]:
    """Every way a run of digit groups may hold one number: (first group, group after it, its score, shown).
    A score is (numbers, codes grouped as nobody reads one): lower is likelier. `gaps[i]` stands between
    groups i and i+1: a number is read in groups split by spaces or dashes, not by commas or lines."""
    found = []
    for start in range(len(digits)):
        number = ""
        for end in range(start + 1, len(digits) + 1):
            number += digits[end - 1]
            if len(number) > _LONGEST_NUMBER:
                break
            if len(number) in _CODE_LENGTHS:
                found.append((start, end, (1, int(not _read_as_a_code(digits[start:end]))), False))
            if all(_NUMBER_GAP.fullmatch(gap) for gap in gaps[start:end - 1]) \
                    and _shown_shape(number, tuple(len(d) for d in digits[start:end])):
                found.append((start, end, (1, 0), True))
    return found


_NUMBER_GAP = re.compile(r"[ \t\u3000\xa0\-—–－]{1,3}")


def _read_as_a_code(groups: list[str]) -> bool:
    """Whether a code could be read in these groups: "361510", "3615 10", "361 510", "36 15 10", "137 7685"; not
    "01 3615 10", which is the end of a number and a code."""
    return all(len(a) >= len(b) or len(a) >= 3 for a, b in zip(groups, groups[1:]))


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


def _masked_run(match: re.Match[str]) -> str:
    run = match.group()
    groups = list(_DIGIT_GROUP.finditer(run))
    digits = [_as_digits(g.group()) for g in groups]
    if sum(len(d) for d in digits) < _CODE_LENGTHS.start:
        return run
    gaps = [run[a.end():b.start()] for a, b in zip(groups, groups[1:])]
    readings, n = _readings(digits, gaps), len(groups)
    # The best reading of the groups before each one and of those from it on; a number is in a best
    # reading of the whole run when both sides of it are.
    before: list[Optional[tuple[int, int]]] = [(0, 0)] + [None] * n
    for start, end, score, _ in sorted(readings, key=lambda r: r[1]):
        if before[start] is not None and (before[end] is None or _add(before[start], score) < before[end]):
            before[end] = _add(before[start], score)
    after: list[Optional[tuple[int, int]]] = [None] * n + [(0, 0)]
    for start, end, score, _ in sorted(readings, key=lambda r: -r[0]):
        if after[end] is not None and (after[start] is None or _add(score, after[end]) < after[start]):
            after[start] = _add(score, after[end])
    if before[n] is None:
        return MASK
    # A group is shown only when every best reading shows it as part of the same number: where two
    # readings are as likely, masking wins ("0756 029 1292 3384": a code 0756 and a Xi'an number, or a
    # number and a code 3384, is masked whole).
    covering: list[set[tuple[int, int, bool]]] = [set() for _ in range(n)]
    for start, end, score, shown in readings:
        if before[start] is not None and after[end] is not None \
                and _add(_add(before[start], score), after[end]) == before[n]:
            for at in range(start, end):
                covering[at].add((start, end, shown))
    masked = [len(numbers) != 1 or not next(iter(numbers))[2] for numbers in covering]
    pieces, at = [], 0
    while at < n:
        last = at
        while last + 1 < n and masked[last + 1] == masked[at]:
            last += 1
        pieces.append(MASK if masked[at] else run[groups[at].start():groups[last].end()])
        if last + 1 < n:
            pieces.append(run[groups[last].end():groups[last + 1].start()])
        at = last + 1
    return "".join(pieces)


def mask_query_codes(text: str, known: Iterable[str] = ()) -> str:
    """`text` with every announced code, and every code in `known` wherever it stands, as ******."""
    masked = text
    for code in _ascii_digits(known):  # first: read loosely, a known code is found whole ("3615 - 10")
        masked = re.sub(_spaced(code), MASK, masked)
    return _ANNOUNCED.sub(lambda m: _CODE_RE.sub(MASK, m.group()), masked)


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
    kept = text
    for digits in _ascii_digits((*known, ticket_id)):  # first, as in mask_query_codes
        kept = re.sub(_spaced(digits, score_may_follow=bare_numbers), "", kept)
    kept = _ANNOUNCED.sub("", kept)
    if bare_numbers:
        kept = _BARE.sub("", kept)
    if kept == text:
        return text  # nothing taken out: the caller's own layout stays as it was
    kept = _EMPTY_PUNCTUATION.sub(lambda m: next((c for c in m.group() if c != " "), " "), kept)
    return kept.strip(" ，,。；;：:、")
