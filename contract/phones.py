"""Mainland China phone numbers: parsing and normalising (with `phonenumbers`), masking, and
scrubbing them out of free text.

One normal form per number ("13812345678", "029-88881234") means that a caller who says
"零二九 八八八八 一二三四" on the phone and types "+86 29 8888-1234" in the web chat is the same
reporter, and that the caller id of a call can be compared with a ticket's phone. Masking keeps
the carrier prefix or area code and the last four digits (PIPL / GB/T 35273 practice: 138****5678).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable, Optional

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from contract.spoken_numbers import SPOKEN_DIGITS, digit_runs, digits_in_speech

_ALLOWED = re.compile(r"^[\d\s+\-()（）.]+$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ACCEPTED_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_phone(raw: object) -> Optional[str]:
    """"13812345678" for a mobile, "029-88881234" for a landline with its area code, else None.

    Only mainland mobiles and landlines are reporters' numbers; short service numbers, 400
    numbers, foreign numbers and landlines without an area code are refused, so that every
    accepted number can be called back and compared with a caller id.
    """
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or not _ALLOWED.match(text):
        return None
    try:
        number = phonenumbers.parse(text, "CN")
    except NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _ACCEPTED_TYPES:
        return None
    national = str(number.national_number)
    if _MOBILE.match(national):
        return national
    area = phonenumbers.length_of_geographical_area_code(number)
    if not area:
        return None
    return f"0{national[:area]}-{national[area:]}"


def is_phone(raw: object) -> bool:
    return normalize_phone(raw) is not None


def same_phone(first: object, second: object) -> bool:
    """Do two spellings name the same number? (caller id vs a ticket's phone)."""
    a, b = normalize_phone(first), normalize_phone(second)
    return a is not None and a == b


# A landline with an extension after it: "0574-87654321转8008", "029 8888 1234 分机 808",
# "029-88881234-8008", "…ext 8008". Companies are often reached through a switchboard.
_LANDLINE_TEXT = r"(?<!\d)(?P<line>[(（]?0\d{2,3}[)）]?[\s-]?\d{3,4}[\s-]?\d{4})"
_LANDLINE = re.compile(_LANDLINE_TEXT + r"(?!\d)")  # not the start of a longer number (an order number)
_LANDLINE_THEN_EXTENSION = re.compile(
    _LANDLINE_TEXT + r"[\s，,]*"
    r"(?:转分机|分机号?|转|ext\.?|x|-)\s*(?:号码?是|是|号)?\s*(?P<ext>\d{1,6})"
    r"(?![\d号楼层栋座室单元年月日点时分块元个位人天%.．])", re.IGNORECASE)  # not a floor, date, amount


def find_phone(text: str) -> Optional[str]:
    """The first phone number in what a caller said or typed, spoken digits and spaces allowed,
    in its normal form (a landline without the extension said after it)."""
    spoken = digits_in_speech(text or "")
    for run in digit_runs(spoken):
        found = normalize_phone(run)
        # A landline said with its area code starts with 0 (or +86): "2026-12-02 10:30" is a time.
        if found and ("-" not in found or run.lstrip("+").startswith(("0", "86"))):
            return found
    # "029-88881234-8008", "029-88881234-3号楼": what follows ran into the number.
    for match in _LANDLINE.finditer(unicodedata.normalize("NFKC", spoken)):
        found = normalize_phone(match.group("line"))
        if found:
            return found
    return None


def find_extension(text: str, phone: Optional[str]) -> Optional[str]:
    """The extension said right after `phone` (a landline, as find_phone gave it) in `text`
    ("0574-87654321转8008" -> "8008"); None for none, and for a mobile."""
    for match in _LANDLINE_THEN_EXTENSION.finditer(unicodedata.normalize("NFKC", digits_in_speech(text or ""))):
        line = normalize_phone(match.group("line"))
        if line and "-" in line and line == phone:
            return match.group("ext")
    return None


def mask_phone(phone: Optional[str]) -> str:
    """138****5678 for mobiles, 029-****1234 for landlines, ****1234 for anything else."""
    if not phone:
        return ""
    value = str(phone)
    normal = normalize_phone(value) or value
    if _MOBILE.match(normal):
        return f"{normal[:3]}****{normal[-4:]}"
    area, sep, local = normal.partition("-")
    if sep and len(local) > 4:
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    digits = re.sub(r"\D", "", normal)
    return "*" * max(len(digits) - 4, 0) + digits[-4:] if len(digits) > 4 else "****"


# Anything in free text that may be a phone number: mobiles (with +86 / 0086 / 86, spaces, dashes or
# dots between the 3-4-4 groups, the first group maybe in brackets, "%2B" as a URL-encoded "+"),
# landlines with an area code (dash, space or parentheses after it, the local number in one piece or
# split 4-4 / 3-4), and local landlines of 7 or 8 digits standing alone or split by a dash. Ticket
# numbers (10-12 digits starting with the year) match none of these: a digit before or after a match
# disqualifies it.
_PREFIX = r"(?:(?:\+|%2B|00)?86[\s-]?)?"
_PHONE_IN_TEXT = re.compile(
    r"(?<![\d*])" + _PREFIX +
    r"(?:[(（]?(?P<mobile>1[3-9]\d)[)）]?[\s.-]?(?P<m2>\d{4})[\s.-]?(?P<m3>\d{4})"
    r"|[(（]?(?P<area>0(?:10|2\d|[3-9]\d{2}))[)）]?[\s-]?(?P<l1>\d{3,4})[\s-]?(?P<l2>\d{4})"
    r"|(?P<local>[2-9]\d{2,3})-?(?P<l4>\d{4}))"
    r"(?![\d*])"
)


def _opening_bracket(match: "re.Match[str]", group: str) -> str:
    """The bracket the match took in front of `group` when it does not close right after it: it belongs
    to the text ("张三（13911112222，住…"), not to the number, and stays."""
    before = match.string[match.start():match.start(group)]
    after = match.string[match.end(group):match.end(group) + 1]
    return before[-1] if before.endswith(("(", "（")) and after not in (")", "）") else ""


def _to_mask(normal: str, landlines: bool, always: frozenset[str]) -> bool:
    """Whether a phone found (in normal form) is masked: every one, or with `landlines` off mobiles and
    the numbers in `always` only (see mask_phones_in_text)."""
    return landlines or bool(_MOBILE.match(normal)) or normal in always


def _mask_match(match: "re.Match[str]", landlines: bool = True, always: frozenset[str] = frozenset()) -> str:
    if match.group("mobile"):
        return f"{_opening_bracket(match, 'mobile')}{match.group('mobile')}****{match.group('m3')}"
    if not landlines and not (match.group("area") and _to_mask(
            f"{match.group('area')}-{match.group('l1')}{match.group('l2')}", landlines, always)):
        return match.group()  # (a local number without area code is no one's to tell apart)
    if match.group("area"):
        return f"{_opening_bracket(match, 'area')}{match.group('area')}-****{match.group('l2')}"
    return f"****{match.group('l4')}"


# Any other run of digits and separators, checked against the phone rules themselves: groupings such as
# "1391 234 5678", doubled separators, "+86 29 8888 1234" or a landline without its leading 0.
_DIGITS_AND_SEPARATORS = re.compile(r"(?<![\d*])(?:\+|%2B)?[\d(（][\d\s\-.()（）+—–/]{5,24}\d(?![\d*])")
# A number written without a leading 0, + or mobile prefix is judged a phone only when it is grouped
# like one (an area code, then groups of three or more): "25 1234 5678" is, "10 20 30 40 50" is not.
_PHONE_START = re.compile(r"^(\+|%2B|[(（]|0|86|1[3-9])")


_TICKET_AS_READ = re.compile(r"\d{4} \d{4} \d{2,4}")  # "2712 0100 01": how the bot shows ticket numbers
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}")  # "2026-12-01 19": a log line's time stamp


@lru_cache(maxsize=4096)
def _phone_or_none(text: str) -> Optional[str]:
    # Bare digits are the first pattern's (a ticket number such as 2712010001 may read as a landline
    # without its 0); only numbers written in groups are judged here.
    if (text.isdigit() or _TICKET_AS_READ.fullmatch(text) or _DATE.search(text)
            or not 7 <= sum(ch.isdigit() for ch in text) <= 15):
        return None
    if _MOBILE.match(re.sub(r"\D", "", text)):
        return re.sub(r"\D", "", text)  # a mobile however it is spaced ("1 3 9 1 2 3 4 5 6 7 8")
    if not _PHONE_START.match(text) and any(len(g) < 3 for g in re.findall(r"\d+", text)[1:]):
        return None
    text = re.sub(r"[—–/]", "-", text.replace("%2B", "+"))
    return normalize_phone(re.sub(r"(?<=\d)\+(?=\d)", " ", text))


# Phone checks one text may cost (a log line runs through here on every process's hot path); past
# them, what is left that could still be a phone is masked unread, which is safe and bounded.
CHECKS_PER_TEXT = 200
_MAYBE_PHONE_DIGITS = re.compile(r"\d(?=(?:\D{0,2}\d){4})")  # every digit but a run's last four


class _GroupedPhones:
    """One text's pass over numbers written in groups, within CHECKS_PER_TEXT phone checks."""

    def __init__(self, landlines: bool = True, always: frozenset[str] = frozenset()) -> None:
        self.checks_left = CHECKS_PER_TEXT
        self.landlines, self.always = landlines, always

    def mask(self, match: "re.Match[str]") -> str:
        """The run masked where a stretch of its space-separated groups is a phone ("1391 234 5678 401":
        the number, then a status code), the longest stretch first."""
        text = match.group()
        groups = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)][:14]
        for first in range(len(groups)):
            for last in range(len(groups) - 1, first - 1, -1):
                start, end = groups[first][0], groups[last][1]
                stretch = text[start:end]
                if not 7 <= sum(ch.isdigit() for ch in stretch) <= 15:
                    continue
                if self.checks_left <= 0:
                    return _MAYBE_PHONE_DIGITS.sub("*", text)
                self.checks_left -= 1
                normal = _phone_or_none(stretch)
                if normal and _to_mask(normal, self.landlines, self.always):
                    rest = _DIGITS_AND_SEPARATORS.sub(self.mask, text[end:])
                    return text[:start] + mask_phone(normal) + rest
        return text


# A number written in full-width digits or Chinese numerals ("１３９０００１１１１", "一三九零零零零一一一一",
# the formal 壹叁玖…), as a browser's input method or the recognizer writes it, grouped or not, and
# mixed with ASCII digits ("139一一一一2222").
_WRITTEN_DIGITS = {**SPOKEN_DIGITS, "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3", "肆": "4", "伍": "5",
                   "陆": "6", "陸": "6", "柒": "7", "捌": "8", "玖": "9"}
_WIDE_OR_SPOKEN = "０-９" + "".join(_WRITTEN_DIGITS)
_WIDE_OR_SPOKEN_RUN = re.compile(
    f"(?<![0-9*])(?=[0-9 \\-－—()（）]{{0,24}}[{_WIDE_OR_SPOKEN}])"  # (plain ASCII runs are the patterns' below)
    f"[{_WIDE_OR_SPOKEN}0-9(（][{_WIDE_OR_SPOKEN}0-9 \\-－—()（）]{{5,24}}[{_WIDE_OR_SPOKEN}0-9]")
_WIDE_OR_SPOKEN_DIGIT = re.compile(f"[{_WIDE_OR_SPOKEN}]")  # the cheap test first: most log lines have none


def _phone_at(digits: str) -> Optional[tuple[int, str]]:
    """(length, normal form) of the phone that `digits` starts with: a mobile, or a landline with its
    area code (the longest that is one)."""
    if _MOBILE.match(digits[:11]):
        return 11, digits[:11]
    if digits.startswith("0"):
        for length in (12, 11, 10):
            if len(digits) >= length and (normal := normalize_phone(digits[:length])):
                return length, normal
    return None


def _mask_wide_or_spoken(match: "re.Match[str]", landlines: bool = True, always: frozenset[str] = frozenset()) -> str:
    """Every phone in the run masked (in ASCII), the rest kept: a recognizer writes what follows a
    number straight after it ("一三九零零零零一一一一一直没人联系", "…一一一一 五分")."""
    run = match.group()
    places = [(i, _WRITTEN_DIGITS.get(ch) or str(unicodedata.digit(ch))) for i, ch in enumerate(run)
              if ch in _WRITTEN_DIGITS or ch.isdigit()]
    digits = "".join(d for _, d in places)
    # Where a number may start: the run's start, after a separator, or after a phone found; not in the
    # middle of a longer number ("二六一二零二零零零一": a ticket number, no landline 020… inside it).
    starts = {0} | {n for n, (i, _) in enumerate(places) if n and places[n - 1][0] != i - 1}
    out, kept_to, at = [], 0, 0
    while at < len(places):
        found = _phone_at(digits[at:]) if at in starts else None
        if found is None:
            at += 1
            continue
        length, normal = found
        starts.add(at + length)
        if not _to_mask(normal, landlines, always):
            at += length
            continue
        first, last = places[at][0], places[at + length - 1][0]
        before = run[kept_to:first]
        if before.endswith(("(", "（")) and any(ch in run[first:last + 1] for ch in ")）"):
            before = before[:-1]  # "(0574)八七六五…": the brackets were the number's
        out += [before, mask_phone(normal)]
        kept_to, at = last + 1, at + length
    return "".join(out) + run[kept_to:]


_NONE: frozenset[str] = frozenset()


def mask_phones_in_text(text: str, landlines: bool = True, always: Iterable[Optional[str]] = ()) -> str:
    """Every phone-like number in `text` masked; ticket numbers and other digits left alone.
    `landlines=False`: mobiles only, for what staff write for the public (an office's landline is
    there to be dialled, a person's mobile is not to be published), and the numbers in `always`
    (normal forms: the reporter's own landline) all the same."""
    kept = frozenset(normal for normal in (normalize_phone(n) for n in always if n) if normal) if always else _NONE
    if _WIDE_OR_SPOKEN_DIGIT.search(text):
        text = _WIDE_OR_SPOKEN_RUN.sub(lambda m: _mask_wide_or_spoken(m, landlines, kept), text)
    text = _PHONE_IN_TEXT.sub(lambda m: _mask_match(m, landlines, kept), text)
    return _DIGITS_AND_SEPARATORS.sub(_GroupedPhones(landlines, kept).mask, text)


def mask_staff_text(text: str, reporter_phone: Optional[str]) -> str:
    """What staff write for the caller (a result, a progress note) as the public side reads it: an
    office's landline ("请致电0574-87651234") as written, a person's mobile masked (a neighbour named in
    a result), and the reporter's own number whatever it is. The reporter's own words are masked
    wholly (mask_phones_in_text)."""
    return mask_phones_in_text(text, landlines=False, always=[reporter_phone])
