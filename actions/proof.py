"""Only the reporter acts on a ticket (contract: "Who may act on a ticket").

A conversation proves it is the reporter's by the phone line's caller id (metadata set only by the
voice adapters), by being the conversation that filed the ticket, or by the ticket's query code
(查询码), which the caller gave once in this conversation and the bot keeps in the `ticket_codes`
slot. Every issue-API call about a ticket carries that proof: the issue API checks it too, so a bug
here cannot reveal or change a stranger's ticket.
"""
from __future__ import annotations

import secrets
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, runtime
from actions.conversation import caller_phone, message_metadata
from contract.issue_client import IssueApiError, Proof, ProofRequired, TicketNotFound, TooManyAttempts
from contract.query_codes import CODE_DIGITS

WRONG_CODES_PER_CONVERSATION = 3


def new_query_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def known_codes(tracker: Tracker) -> dict[str, str]:
    codes = tracker.get_slot("ticket_codes")
    return dict(codes) if isinstance(codes, dict) else {}


def proof_for(tracker: Tracker, ticket_id: Optional[str] = None, code: Optional[str] = None) -> Proof:
    """Everything this conversation can show for `ticket_id`."""
    return Proof(caller_phone=caller_phone(tracker), conversation_id=tracker.sender_id,
                 query_code=code or (known_codes(tracker).get(ticket_id) if ticket_id else None),
                 client=code_client(tracker))


def code_client(tracker: Tracker) -> Optional[str]:
    """Who is trying query codes, for the issue API's count of wrong ones: the phone line's caller id
    or the web user's network (the gateway's `client` metadata, already a keyed hash). A stranger's
    wrong guesses then slow down that stranger more than the reporter (issue_api/proof.py). Nothing
    that costs a stranger nothing to change (a new chat, a withheld number): then the ticket's own
    strict count applies."""
    phone = caller_phone(tracker)
    if phone:
        return f"tel:{phone}"
    network = message_metadata(tracker).get("client")
    if isinstance(network, str) and network:
        return f"net:{network[:64]}"
    return None


async def prove(dispatcher: CollectingDispatcher, tracker: Tracker, ticket_id: str,
                code: Optional[str] = None) -> dict[str, Any]:
    """Slot updates after trying this conversation's proof for `ticket_id` (with `code` if given):
    ticket_proved True (and the code remembered), False (a query code is needed), or the ticket
    dropped (unknown number, or codes refused for now: the caller is told what to do)."""
    try:
        ticket = await runtime.blocking(runtime.client().get_ticket, ticket_id, proof_for(tracker, ticket_id, code))
    except TicketNotFound:
        dispatcher.utter_message(response="utter_ticket_not_found", ticket_number=replies.ticket_number(ticket_id))
        return {"ticket_id": None, "ticket_number": None, "ticket_proved": None}
    except ProofRequired as exc:
        if exc.code == "proof_invalid":
            failures = int(tracker.get_slot("code_failures") or 0) + 1
            if failures >= WRONG_CODES_PER_CONVERSATION:
                dispatcher.utter_message(response="utter_query_code_too_many")
                return {"followup_op": "stopped", "ticket_proved": None, "code_failures": 0}
            dispatcher.utter_message(response="utter_query_code_wrong")
            return {"ticket_proved": False, "code_failures": failures}
        return {"ticket_proved": False}
    except TooManyAttempts as exc:
        dispatcher.utter_message(response="utter_query_code_locked", reason=replies.api_reason(exc.message))
        return {"followup_op": "stopped", "ticket_proved": None}
    except IssueApiError as exc:
        # Nothing can be proved while the API fails: the follow-up stops here, saying so. Counting the
        # ticket as proved would ask "确认要撤销…吗" about a stranger's ticket and name it to the
        # operator of a handoff as the caller's (actions.conversation.related_ticket).
        replies.say_issue_error(dispatcher, exc)
        return {"followup_op": "stopped", "ticket_proved": None, "ticket_status": None}
    updates: dict[str, Any] = {"ticket_proved": True, "code_failures": 0, "ticket_status": ticket.get("status")}
    if code:
        updates["ticket_codes"] = {**known_codes(tracker), ticket_id: code}
    return updates
