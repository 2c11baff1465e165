"""The ticket state machine: which action is allowed in which status, and where it leads.

    received --assign--> assigned --start--> in_progress --resolve--> resolved --rate >= 3--> closed
    received/assigned --resolve--> resolved                             resolved --rate <= 2--> in_progress (重办)
    received/assigned/in_progress --cancel--> cancelled
    assigned/in_progress --assign--> assigned (改派)

Urging and supplements are allowed while the ticket is open (received, assigned, in_progress): once
办结 the caller rates instead. A department writes progress notes and asks for an extension while the
ticket is open, and asks to hand it back (退回) once it was dispatched (assigned, in_progress). Anything else is refused with 409, a stable code
("<action>_not_allowed") and a Chinese reason that can be read to the caller.
"""
from __future__ import annotations

from typing import Mapping, Tuple

from .errors import ApiError
from contract.vocabulary import OPEN_STATUSES, REWORK_MAX_SCORE, STATUS_LABELS

# action -> (statuses it is allowed from, status it leads to; None = unchanged)
TRANSITIONS: Mapping[str, Tuple[Tuple[str, ...], object]] = {
    "assign": (("received", "assigned", "in_progress"), "assigned"),
    "start": (("assigned",), "in_progress"),
    # From received too: the hotline answers a consultation on the spot (直接办结) without dispatching
    # it; a department never sees a received ticket, so only operators and admins do this.
    "resolve": (("received", "assigned", "in_progress"), "resolved"),
    "cancel": (OPEN_STATUSES, "cancelled"),
    "urge": (OPEN_STATUSES, None),
    "supplement": (OPEN_STATUSES, None),
    "rate": (("resolved",), None),  # the target depends on the score, see status_after_rating
    "note": (OPEN_STATUSES, None),
    "extension": (OPEN_STATUSES, None),
    "return": (("assigned", "in_progress"), None),
}

_VERBS: Mapping[str, str] = {
    "assign": "派单",
    "start": "开始办理",
    "resolve": "办结",
    "cancel": "撤销",
    "urge": "催办",
    "supplement": "补充信息",
    "rate": "评价",
    "note": "填写办理进展",
    "extension": "申请延期",
    "return": "申请退回",
}

_HINTS: Mapping[Tuple[str, str], str] = {
    ("rate", "received"): "工单办结后才能评价",
    ("rate", "assigned"): "工单办结后才能评价",
    ("rate", "in_progress"): "工单办结后才能评价",
    ("rate", "closed"): "该工单已经评价过了",
    ("cancel", "resolved"): "工单已办结，不能撤销；如对结果不满意，可以进行评价",
    ("cancel", "closed"): "工单已办结归档，不能撤销",
    ("cancel", "cancelled"): "该工单已经撤销",
    ("urge", "resolved"): "工单已办结，无需催办；如对结果不满意，可以进行评价",
    ("urge", "closed"): "工单已办结归档，无需催办；如有新的问题，可以重新反映",
    ("urge", "cancelled"): "工单已撤销，不能催办；如问题仍未解决，可以重新反映",
    ("supplement", "closed"): "工单已办结归档，不能再补充信息；如有新的问题，可以重新反映",
    ("supplement", "cancelled"): "工单已撤销，不能再补充信息；如问题仍未解决，可以重新反映",
    ("supplement", "resolved"): "工单已办结，不能再补充信息；如对结果不满意，可以进行评价",
    ("return", "received"): "工单尚未派单，不能退回；请联系话务员",
}


def next_status(current: str, action: str) -> str:
    """The status after `action`, or ApiError(409) if the action is not allowed now."""
    allowed_from, target = TRANSITIONS[action]
    if current not in allowed_from:
        hint = _HINTS.get((action, current))
        label = STATUS_LABELS.get(current, current)
        message = hint or f"工单当前状态为「{label}」，不能{_VERBS[action]}"
        raise ApiError(409, f"{action}_not_allowed", message)
    return current if target is None else str(target)


def status_after_rating(score: int) -> str:
    """不满意 (2) or 非常不满意 (1) sends the ticket back to the department for rework."""
    return "in_progress" if score <= REWORK_MAX_SCORE else "closed"
