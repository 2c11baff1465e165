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
from collections import OrderedDict
from typing import Any, Callable, Iterable

from contract.query_codes import announced_codes, mask_every_code, mask_query_codes

# The bot's questions for a code (domain.yml: utter_ask_query_code, utter_query_code_wrong, …).
_ASKS_FOR_CODE = re.compile(r"请告诉我[^。]*查询码|查询码不对|没听清查询码")


def codes_told(messages: Iterable[dict[str, Any]]) -> set[str]:
    """The codes the bot announced in this conversation (its filing replies)."""
    return {code for message in messages if message.get("role") == "bot"
            for code in announced_codes(str(message.get("text") or ""))}


class OperatorView:
    """One conversation read by an operator, message by message, oldest first: what it has told so far
    (the codes the bot announced, whether the bot has just asked for a code) decides what is masked in
    the next message, so a live console reads each conversation's history once, not at every message."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.known: set[str] = set(known)
        self.asked_for_code = False
        self.seq = 0  # the last message read

    def shown(self, message: dict[str, Any]) -> dict[str, Any]:
        """`message` with every query code masked; it is read, so it counts for the next ones."""
        text = message.get("text")
        role = message.get("role")
        if isinstance(text, str) and text:
            if role == "bot":
                self.known |= announced_codes(text)
            masked = mask_query_codes(text, self.known)
            if role == "user" and self.asked_for_code:
                # The answer to "请告诉我查询码", and every message until someone speaks again: a code
                # mistyped first is corrected in the next one ("打错了 361510").
                masked = mask_every_code(masked)
            if masked != text:
                message = {**message, "text": masked}
        if role in ("bot", "operator"):
            self.asked_for_code = bool(_ASKS_FOR_CODE.search(str(text or "")))
        self.seq = max(self.seq, _seq(message))
        return message


def _seq(message: dict[str, Any]) -> int:
    try:
        return int(message.get("seq") or 0)
    except (TypeError, ValueError):
        return 0


def masked_for_operator(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` (one conversation's, oldest first) with every query code masked."""
    view = OperatorView(codes_told(messages))
    return [view.shown(message) for message in messages]


class LiveViews:
    """A console socket's views of the conversations it has seen live, the most recent `size` kept."""

    def __init__(self, history: Callable[[str, int], list[dict[str, Any]]], size: int = 500) -> None:
        self._history, self._size = history, size
        self._views: OrderedDict[str, OperatorView] = OrderedDict()

    def shown(self, conversation_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """A live message as the console shows it: read after the conversation's earlier messages (from
        its history the first time, or after a gap), so that a code the bot told earlier, or the
        answer to its question for one, is masked too."""
        view = self._views.pop(conversation_id, None) or OperatorView()
        seq = _seq(message)
        if not seq or seq <= view.seq:
            # Without its place, or seen already or late (another gateway's event after a newer one):
            # read in the whole conversation again, as the transcript does.
            history = self._history(conversation_id, 0)
            if seq and any(_seq(m) == seq for m in history):
                shown = next(m for m in masked_for_operator(history) if _seq(m) == seq)  # in its place
            else:
                shown = masked_for_operator([*history, message])[-1]
        else:
            if seq > view.seq + 1:
                for earlier in self._history(conversation_id, view.seq):
                    if _seq(earlier) >= seq:
                        break
                    view.shown(earlier)
            shown = view.shown(message)
        self._views[conversation_id] = view
        while len(self._views) > self._size:
            self._views.popitem(last=False)
        return shown
