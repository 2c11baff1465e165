"""Phone numbers never reach a log line in full: 13812345678 -> 138****5678."""
from __future__ import annotations

import logging
import re

_PHONE = re.compile(r"(?<!\d)(\d{3})\d{4}(\d{4})(?!\d)")


def mask_phone(text: str | None) -> str:
    """Mask every 11-digit number (mobile phones) in `text`; shorter numbers such as ticket ids pass."""
    if not text:
        return ""
    return _PHONE.sub(r"\1****\2", text)


class PhoneMaskingFilter(logging.Filter):
    """Attached to the log handlers, so that no library's log line prints a phone number in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phone(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
