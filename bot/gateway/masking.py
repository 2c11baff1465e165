"""Phone numbers never reach a log line in full: 13812345678 -> 138****5678."""
from __future__ import annotations

import re

_PHONE = re.compile(r"(?<!\d)(\d{3})\d{4}(\d{4})(?!\d)")


def mask_phone(text: str | None) -> str:
    """Mask every 11-digit number (mobile phones) in `text`; shorter numbers such as ticket ids pass."""
    if not text:
        return ""
    return _PHONE.sub(r"\1****\2", text)
