"""Mainland China phone numbers: checking, normalising and masking.

One normal form per number means that a caller who says "029 8888 1234" on the phone and types
"02988881234" in the web chat finds the same tickets. Masking keeps the area code or carrier prefix
and the last four digits (PIPL / GB/T 35273 practice: 138****5678).
"""
from __future__ import annotations

import re
from typing import Optional

_SEPARATORS = re.compile(r"[\s\-()（）]")
_COUNTRY_PREFIX = re.compile(r"^(?:\+86|0086|86(?=1\d{10}$))")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes: 010 and 02x have three digits, all others four; local numbers have 7 or 8 digits.
LANDLINE = re.compile(r"^(0(?:10|2\d)|0[3-9]\d{2})(\d{7,8})$")


def normalize_phone(raw: str) -> Optional[str]:
    """"13812345678" for mobiles, "029-88881234" for landlines, None if it is neither."""
    compact = _COUNTRY_PREFIX.sub("", _SEPARATORS.sub("", raw.strip()))
    if MOBILE.match(compact):
        return compact
    match = LANDLINE.match(compact)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    return None


def mask_phone(phone: str) -> str:
    """138****5678 for mobiles, 029-****1234 for landlines; anything else keeps only its last 4."""
    if MOBILE.match(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    area, sep, local = phone.partition("-")
    if sep:
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


# Anything in free text that looks like a phone number: used to scrub log lines.
_PHONE_IN_TEXT = re.compile(
    r"(?<![\d*])(?:(?:\+|%2B)?86[\s-]?)?"
    r"(?:(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})"
    r"|(0(?:10|2\d|[3-9]\d{2}))[\s-]?(\d{3,4})[\s-]?(\d{4}))(?!\d)"
)


def _mask_match(match: "re.Match[str]") -> str:
    if match.group(1):
        return f"{match.group(1)}****{match.group(3)}"
    return f"{match.group(4)}-****{match.group(6)}"


def mask_phones_in_text(text: str) -> str:
    return _PHONE_IN_TEXT.sub(_mask_match, text)
