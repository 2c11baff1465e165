"""Numbers as callers say and type them, and as the bot reads them out.

Vosk's Chinese models put a space between every word ("我 的 工单 号") and spell numbers the way
people say them ("幺三八 一二三四 五六七八"); typists write "2611 2700 01" or full-width digits.
Everything here is forgiving about form and strict about content: runs of spoken digits become
Arabic digits only where they are numbers, while ordinary words that happen to contain number
characters (一下, 一起, 十分, 两个, 三四天, 三三两两) stay words.

Digit strings are converted character by character: ticket numbers and area codes start with
zeros that a numeral parser such as cn2an would drop (零二九 -> 29).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

# Characters a caller uses for one digit when reading a number digit by digit.
# (The radio readings 洞/拐/勾 are left out: 拐弯 and 路上有个洞 are words far more often.)
SPOKEN_DIGITS: dict[str, str] = {
    "零": "0", "〇": "0", "○": "0",
    "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}
# Digit characters that are never part of an ordinary word: one of them makes a run a number.
_UNAMBIGUOUS = set("幺〇○0123456789")
_DIGIT_CLASS = "".join(SPOKEN_DIGITS) + "0-9"
_RUN = re.compile(f"[{_DIGIT_CLASS}]+")

# Below this length a run of number characters is usually a word or an estimate (一一, 三四天).
MIN_DIGITS = 3
# Words after which even a short run is read out digit by digit (分机二三, 尾号五六).
_NUMBER_CONTEXT = re.compile(r"(号码|电话|手机|工单|单号|编号|尾号|分机|号是|号为|账号|代码|查询码|验证码)(是|为|：|:)?$")
# Words before which a short run counts things rather than spells a number (三四个, 七八天).
_QUANTITY_AFTER = re.compile(r"^(个|次|天|人|位|家|岁|月|年级|点|分钟|小时|周|遍|件|条|元|块|万|千|百|十|多|来|成|倍|层|楼)")
# Runs after these are days of the week or ordinals, not numbers (星期一二三).
_NOT_NUMBER_BEFORE = re.compile(r"(星期|礼拜|周|第)$")
# Idioms made only of number characters.
IDIOMS = ("三三两两", "七七八八", "一一二二")
# Digit groups read with a pause between them: "幺三八，一二三四，五六七八".
_GROUP_SEPARATOR = re.compile(r"^[\s,，、\-—.。]+$")

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_SPACE_NEXT_TO_CJK = re.compile(f"(?<=[{_CJK}])\\s+|\\s+(?=[{_CJK}])")
_SPACE_BETWEEN_DIGITS = re.compile(r"(?<=\d)\s+(?=\d)")
_DIGIT_RUN = re.compile(r"\d[\d\s\-－—]*\d|\d")
_DIGIT_RUN_NO_SPACE = re.compile(r"\d[\d\-－—]*\d|\d")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_TICKET_DIGITS = 12  # contract: ticket numbers have 8 to 12 digits
_AREA_IN_BRACKETS = re.compile(r"[(（](0\d{2,3})[)）]\s*")  # "(029)88886666": one landline, not two numbers
# A score said right after a number: Vosk writes no pause between them ("二六一二零二零零零一五分" comes
# out as 26120200015分), so a long run whose last digit is 1-5, with 分 or 星 right after it, ends in
# the score. No ticket number, code or phone is followed by 分 as a score. 分 or 星 starting a word
# said after numbers (分钟, 分钱, 分机, 分数, 星期, 星级, 星号) is no score, and the number stays whole.
SCORE_UNIT = r"(?:分(?![数钟钱机之])|颗星|星(?![期级号]))"
_NUMBER_THEN_SCORE = re.compile(rf"(?<!\d)(\d{{6,}})([1-5])(?=\s*{SCORE_UNIT})")


def score_apart(text: str) -> str:
    """`text` with a score that ran into the number before it set apart by a space."""
    return _NUMBER_THEN_SCORE.sub(r"\1 \2", text)


def remove_inter_word_spaces(text: str) -> str:
    """Drop the spaces Vosk puts between Chinese words; keep those between Latin words."""
    text = _SPACE_NEXT_TO_CJK.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def _inside_idiom(text: str, start: int, end: int) -> bool:
    """Whether the run text[start:end] overlaps an idiom such as 三三两两."""
    for idiom in IDIOMS:
        position = text.find(idiom)
        while position != -1:
            if position < end and start < position + len(idiom):
                return True
            position = text.find(idiom, position + 1)
    return False


def _is_number(text: str, start: int, end: int) -> bool:
    """Decide whether the run text[start:end] is a spoken number rather than part of a word."""
    run = text[start:end]
    before, after = text[:start], text[end:]
    if _inside_idiom(text, start, end):
        return False
    if set(run) & _UNAMBIGUOUS:
        return True
    if _NOT_NUMBER_BEFORE.search(before) and not _NUMBER_CONTEXT.search(before):
        return False
    if _NUMBER_CONTEXT.search(before):
        return len(run) >= 2 or (len(run) == 1 and not _QUANTITY_AFTER.match(after))
    if len(run) < MIN_DIGITS:
        return False
    # Three or four characters right before a measure word are an estimate or a count (三四五个),
    # unless they are a year (二零二六年).
    is_year = len(run) == 4 and after.startswith("年")
    if len(run) <= 4 and _QUANTITY_AFTER.match(after) and len(set(run)) > 1 and not is_year:
        return False
    return True


def _homogeneous(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A run split where typed digits meet number characters: "2612020004五分" is a ticket number
    and a score, "13812345678三号楼" a phone and an address, never one longer number (nobody mixes
    the two in one number; a speech recognizer writes only characters, a typist only digits)."""
    pieces: list[tuple[int, int]] = []
    for i in range(start, end):
        typed = text[i].isdigit()
        if pieces and (text[i - 1].isdigit()) == typed and i == pieces[-1][1]:
            pieces[-1] = (pieces[-1][0], i + 1)
        else:
            pieces.append((i, i + 1))
    return pieces


def spoken_digits_to_arabic(text: str) -> str:
    """Replace runs of spoken digits with Arabic digits, joining groups read with pauses."""
    runs = [piece for m in _RUN.finditer(text) for piece in _homogeneous(text, m.start(), m.end())]
    numbers = [(s, e) for s, e in runs if _is_number(text, s, e)]
    if not numbers:
        return text
    # Spoken groups read with pauses ("幺三八，一二三四") become one number, its groups kept apart by
    # a space that digits_in_speech joins: a typed "2612020001，925165" stays two numbers.
    out, pos = [], 0
    for start, end in numbers:
        spoken = not text[start].isdigit()
        if out and spoken and pos < start and _GROUP_SEPARATOR.match(text[pos:start]) and not text[pos - 1].isdigit():
            out.append(" ")
        else:
            out.append(text[pos:start])
        out.append("".join(SPOKEN_DIGITS.get(ch, ch) for ch in text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def digits_in_speech(text: str) -> str:
    """Full-width forms folded, Vosk's word spaces removed, spoken digits written as digits, and
    digit groups read with pauses joined: the text a number can be found in."""
    return _SPACE_BETWEEN_DIGITS.sub("", _spoken(text))


def _spoken(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return spoken_digits_to_arabic(remove_inter_word_spaces(text))


def _candidates(text: str) -> list[str]:
    """The numbers in what was said: groups read or typed with spaces joined ("2611 2700 01"). Where
    that makes a number longer than any ticket number, or a group is a whole ticket number already,
    the run is two numbers side by side: a ticket number (its groups joined) and what follows it
    ("2612 0200 01 970436", "2612020001 9704 36": the ticket and its code; "2612020001 5": a score)."""
    spaced = score_apart(_AREA_IN_BRACKETS.sub(r"\1-", _spoken(text)))
    numbers: list[str] = []
    for run in _DIGIT_RUN.findall(spaced):
        groups = [re.sub(r"\D", "", group) for group in _DIGIT_RUN_NO_SPACE.findall(run)]
        digits = "".join(groups)
        if len(digits) <= MAX_TICKET_DIGITS and not any(len(g) >= 10 for g in groups[:-1]):
            numbers.append(digits)
            continue
        for cut in range(1, len(groups)):
            head = "".join(groups[:cut])
            if 10 <= len(head) <= MAX_TICKET_DIGITS:
                numbers += [head, "".join(groups[cut:])]
                break
        else:
            numbers += groups
    return numbers


def digit_runs(text: str) -> list[str]:
    """Every number in `text` (already through digits_in_speech), spaces and dashes inside removed."""
    return [re.sub(r"\D", "", run) for run in _DIGIT_RUN.findall(text)]


def find_ticket_id(text: str, allow_phone_like: bool = False) -> Optional[str]:
    """An 8-12 digit ticket number in what was said; numbers that look like phones (mobiles, and
    landlines with their 0 area code, such as 029-88886666) are skipped unless asked for (a caller
    reading a number when asked for the ticket number)."""
    for run in _candidates(text):
        if 8 <= len(run) <= MAX_TICKET_DIGITS and (allow_phone_like or not (_MOBILE.match(run) or run.startswith("0"))):
            return run
    return None


def find_code(text: str, min_digits: int = 4, max_digits: int = 8, ticket_id: Optional[str] = None) -> Optional[str]:
    """A short numeric code (the 查询码) in what was said or keyed; not a piece of `ticket_id`, the
    ticket being asked about, when the caller repeats its number with the code."""
    for run in _candidates(text):
        if min_digits <= len(run) <= max_digits and not (ticket_id and run in ticket_id):
            return run
    return None


def group_digits(number: str) -> str:
    """2611270001 -> '2611 2700 01': groups of four are how operators read numbers out."""
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


def read_phone(number: str) -> str:
    """13891234567 -> '138 9123 4567', 029-88881234 -> '029 8888 1234': how callers say them."""
    digits = re.sub(r"\D", "", number or "")
    if _MOBILE.match(digits):
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    area, sep, local = (number or "").partition("-")
    if sep and area.isdigit() and local.isdigit():
        return f"{area} {group_digits(local)}"
    return group_digits(digits)
