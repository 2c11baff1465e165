"""Saying things about tickets through the responses in domain.yml: which response, with which
values (numbers grouped for reading out, dates in Chinese). The wording itself is in domain.yml.
"""
from __future__ import annotations

import re

from datetime import datetime
from typing import Any, Optional

from rasa_sdk.executor import CollectingDispatcher

from contract.issue_client import (
    ApiUnavailable, Invalid, IssueApiError, NotAllowed, Refused, TicketNotFound,
)
from contract.spoken_numbers import group_digits
from contract.vocabulary import FIELD_LABELS, OPEN_STATUSES, STATUS_LABELS


def spoken_date(value: Optional[str]) -> str:
    """'2026-12-04T23:59:59+08:00' -> '12月4日' (the deadline as callers hear it)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return f"{moment.month}月{moment.day}日"


def ticket_number(ticket_id: Optional[str]) -> str:
    return group_digits(str(ticket_id or ""))


def description_start(ticket: dict[str, Any], length: int = 16) -> str:
    text = str(ticket.get("description") or "")
    return text[:length] + ("…" if len(text) > length else "")


RESULT_READ_MAX = 300  # characters of the department's answer read out; the rest is in the ticket


def say_status(dispatcher: CollectingDispatcher, ticket: dict[str, Any], **payload: Any) -> None:
    """One ticket's state, then whether it is overdue and, while it is open, the department's latest
    progress note."""
    status = ticket.get("status") if ticket.get("status") in STATUS_LABELS else "received"
    dispatcher.utter_message(
        response=f"utter_ticket_status_{status}",
        ticket_number=ticket_number(ticket.get("id")),
        department=ticket.get("department") or "",
        deadline=spoken_date(ticket.get("deadline")),
        **payload,
    )
    if ticket.get("overdue") and ticket.get("status") in OPEN_STATUSES:
        dispatcher.utter_message(response="utter_ticket_overdue")
    note = latest_note(ticket)
    if note and ticket.get("status") in OPEN_STATUSES:
        dispatcher.utter_message(response="utter_ticket_latest_note", note=note)
    result = " ".join(str(ticket.get("result") or "").split())
    if result and ticket.get("status") in ("resolved", "closed"):
        # What the caller asked about: the answer, before any rating question.
        dispatcher.utter_message(response="utter_ticket_result",
                                 result=result if len(result) <= RESULT_READ_MAX else result[:RESULT_READ_MAX] + "……")


def latest_note(ticket: dict[str, Any], limit: int = 200) -> str:
    """The department's latest progress note (oldest first in the ticket), cut for reading aloud."""
    notes = [n for n in ticket.get("progress_notes") or [] if isinstance(n, dict) and str(n.get("text") or "").strip()]
    if not notes:
        return ""
    text = " ".join(str(notes[-1]["text"]).split())
    return text if len(text) <= limit else text[:limit] + "……"


def field_names(fields: list[dict[str, Any]]) -> str:
    """'单位名称、联系电话' for the fields an API refusal names."""
    names = dict.fromkeys(FIELD_LABELS.get(str(f.get("field", "")), FIELD_LABELS["*"]) for f in fields)
    return "、".join(names) or FIELD_LABELS["*"]


_CJK = re.compile(r"[\u4e00-\u9fff]")
_FULL_WIDTH = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "?": "？", "!": "！"}


def api_reason(message: str) -> str:
    """The issue API's reason as a sentence of a reply: Chinese punctuation, no stray spaces
    ("请30 秒后再试"), one full stop. Not Chinese (a proxy's "Not Found"): nothing, the reply's own
    words go alone."""
    text = (message or "").strip()
    if not _CJK.search(text):
        return ""
    text = "".join(_FULL_WIDTH.get(ch, ch) for ch in text)
    text = re.sub(r"(?<=[\d\u4e00-\u9fff])\s+(?=[\d\u4e00-\u9fff])", "", text)
    return text.rstrip("。.！!，,；;：: ") + "。"


def say_issue_error(dispatcher: CollectingDispatcher, exc: IssueApiError) -> None:
    """What a caller hears when the issue API could not do what was asked."""
    if isinstance(exc, TicketNotFound):
        dispatcher.utter_message(response="utter_ticket_not_found_check")
    elif isinstance(exc, ApiUnavailable):
        dispatcher.utter_message(response="utter_issue_api_unavailable")
    elif isinstance(exc, NotAllowed):
        dispatcher.utter_message(response="utter_issue_api_refused_token")
    elif isinstance(exc, Refused) and api_reason(exc.message):
        dispatcher.utter_message(response="utter_action_refused", reason=api_reason(exc.message))
    elif isinstance(exc, Refused):
        dispatcher.utter_message(response="utter_action_refused_generic")
    elif isinstance(exc, Invalid):
        dispatcher.utter_message(response="utter_issue_api_invalid", fields=field_names(exc.fields))
    else:
        dispatcher.utter_message(response="utter_issue_api_error", reason=api_reason(exc.message))
