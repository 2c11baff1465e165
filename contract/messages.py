"""What the bot tells its channels besides text: the payloads of the contract's bot messages.

    {"custom": {"handoff": {"reason": ..., "summary": ..., "ticket_id": ... or null}}}
    {"custom": {"ticket": {"id": "<ticket id>", "action": "filed" | "checked" | ...}}}

The actions build them with these functions and the gateway and voice adapters read them with
these functions, so channels learn about handoffs and tickets from structure, never from text.
A `ticket` payload is sent only for a ticket the conversation has proved to be the reporter's (or
just filed), so a channel may act on it for that conversation (the end-of-chat rating).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from contract.vocabulary import HANDOFF_REASON_LABELS, is_ticket_id

HANDOFF = "handoff"
TICKET = "ticket"
TICKET_ACTIONS = ("filed", "checked", "urged", "supplemented", "cancelled", "rated")
HANDOFF_REASONS = tuple(HANDOFF_REASON_LABELS)  # the codes; their labels live with the vocabulary


def handoff_payload(reason: str, summary: str, ticket_id: Optional[str]) -> dict[str, Any]:
    return {HANDOFF: {"reason": reason, "summary": summary, "ticket_id": ticket_id}}


def ticket_payload(ticket_id: str, action: str) -> dict[str, Any]:
    if action not in TICKET_ACTIONS:
        raise ValueError(f"unknown ticket action {action!r}")
    return {TICKET: {"id": str(ticket_id), "action": action}}


@dataclass(frozen=True)
class TicketNote:
    """A ticket the bot filed or acted on in this turn."""

    id: str
    action: str


def custom_of(message: Any) -> dict[str, Any]:
    custom = message.get("custom") if isinstance(message, dict) else None
    return custom if isinstance(custom, dict) else {}


def handoff_of(messages: Iterable[Any]) -> Optional[dict[str, Any]]:
    """The handoff payload of a turn's bot messages, if the bot asked for a person."""
    for message in messages:
        handoff = custom_of(message).get(HANDOFF)
        if isinstance(handoff, dict):
            return handoff
    return None


def ticket_of(message: Any) -> Optional[TicketNote]:
    """The ticket payload of one bot message, if it carries a well-formed one."""
    note = custom_of(message).get(TICKET)
    if not isinstance(note, dict):
        return None
    ticket_id, action = str(note.get("id") or ""), note.get("action")
    if not is_ticket_id(ticket_id) or action not in TICKET_ACTIONS:
        return None
    return TicketNote(ticket_id, str(action))


def tickets_of(messages: Iterable[Any]) -> list[TicketNote]:
    return [note for note in (ticket_of(m) for m in messages) if note is not None]
