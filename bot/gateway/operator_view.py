"""A transcript as an operator reads it: every 查询码 masked.

A query code is the reporter's proof for a ticket (contract, "Who may act on a ticket"): whoever
reads it can act as the reporter through the bot. Operators act on tickets with their own rights and
never need it (the ticket panel does not show it either), so the console shows none: not in the bot's
filing reply ("查询码 361510"), not where the user announces one ("查询码是361510"), not in a bare
answer to the bot's question for it ("361510"), and not wherever a code this conversation was told
turns up again. The widget, the user's own view, is untouched.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from contract.query_codes import announced_codes, mask_every_code, mask_query_codes

# The bot's questions for a code (domain.yml: utter_ask_query_code, utter_query_code_wrong, …).
_ASKS_FOR_CODE = re.compile(r"请告诉我[^。]*查询码|查询码不对|没听清查询码")


def codes_told(messages: Iterable[dict[str, Any]]) -> set[str]:
    """The codes the bot announced in this conversation (its filing replies)."""
    return {code for message in messages if message.get("role") == "bot"
            for code in announced_codes(str(message.get("text") or ""))}


def masked_for_operator(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` (one conversation's, oldest first) with every query code masked."""
    known = codes_told(messages)
    shown, asked_for_code = [], False
    for message in messages:
        text = message.get("text")
        if isinstance(text, str) and text:
            masked = mask_query_codes(text, known)
            if message.get("role") == "user" and asked_for_code:
                masked = mask_every_code(masked)  # the answer to "请告诉我查询码"
            if masked != text:
                message = {**message, "text": masked}
        if message.get("role") in ("bot", "operator"):
            asked_for_code = bool(_ASKS_FOR_CODE.search(str(message.get("text") or "")))
        shown.append(message)
    return shown
