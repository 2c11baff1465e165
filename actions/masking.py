"""Personal data never reaches the logs in clear: phone numbers become 138****5678."""
from __future__ import annotations

import logging
import re

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)(\d{3,4})(\d{4})(?!\d)")


def mask_phone(phone: str | None) -> str:
    """138****5678 for a mobile number, the last four digits kept for anything else."""
    if not phone:
        return ""
    digits = str(phone)
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return digits


def mask_text(text: str) -> str:
    """Mask every phone-like number inside free text."""
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class PhoneMaskingFilter(logging.Filter):
    """Rewrites each record's message so no handler ever prints a full phone number."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking() -> None:
    """Attach the filter to every root handler (rasa-sdk configures them before loading actions)."""
    root = logging.getLogger()
    targets = list(root.handlers) or [root]
    for target in targets:
        if not any(isinstance(f, PhoneMaskingFilter) for f in target.filters):
            target.addFilter(PhoneMaskingFilter())
