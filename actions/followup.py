"""Following up a filed ticket: look it up (by number, or by the caller's phone), check, urge,
supplement, withdraw (after confirmation) and rate (five levels; 2 or less sends it back)."""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies, runtime
from actions.conversation import caller_phone, latest_intent, latest_text
from actions.dialogue import after_digression, digression, yes_or_no
from actions.spoken import clean, rating_score
from contract.issue_client import IssueApiError, Refused, TicketNotFound
from contract.messages import ticket_payload
from contract.spoken_numbers import find_ticket_id
from contract.vocabulary import OPEN_STATUSES

log = logging.getLogger(__name__)

FORM = "followup_form"
OPERATIONS = {"check_ticket": "check", "urge_ticket": "urge", "supplement_ticket": "supplement",
              "cancel_ticket": "cancel", "rate_service": "rate"}
EXTRA_SLOT = {"supplement": "supplement_text", "cancel": "cancel_confirmed", "rate": "rating"}
RESOLVED = ("resolved",)
RESET = ["followup_op", "ticket_candidate", "supplement_text", "cancel_confirmed", "rating",
         "requested_slot"]
_TRIGGERS = ("补充一下", "补充说明", "补充", "我想", "我要", "再", "一下", "情况", "信息", "工单", "单子",
             "给", "之前", "那个", "上次", "说明")


def _supplement_in(text: str) -> Optional[str]:
    """The added information when it comes in the same breath: '补充一下 漏水的位置在三号楼'."""
    rest = clean(text)
    for word in _TRIGGERS:
        rest = rest.replace(word, "")
    rest = re.sub(r"[\d\s：:，,。]", "", rest)
    return clean(text) if len(rest) >= 5 else None


def _next_slot(values: dict[str, Any], phone_known: bool) -> Optional[str]:
    op = values.get("followup_op") or "check"
    if not values.get("ticket_id"):
        if op == "check" and phone_known:
            return None  # list the caller's tickets by phone
        return "ticket_id"
    extra = EXTRA_SLOT.get(op)
    if extra and values.get(extra) is None:
        return extra
    return None


class ValidateFollowupForm(Action):
    def name(self) -> str:
        return "validate_followup_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent, confidence = latest_intent(tracker)
        text = latest_text(tracker)
        requested = tracker.get_slot("requested_slot")
        slots = ["followup_op", "ticket_id", "supplement_text", "cancel_confirmed", "rating"]
        current = {slot: tracker.get_slot(slot) for slot in slots}
        phone_known = bool(caller_phone(tracker) or tracker.get_slot("phone"))

        if requested and after_digression(tracker.events, FORM):
            return [SlotSet("requested_slot", _next_slot(current, phone_known))]

        if requested and digression(intent, confidence, text, ("ask_policy", "request_human")):
            return []  # reject: rules answer the side question, then the form resumes

        updates: dict[str, Any] = {}
        if requested is None:
            updates.update(self._opening(tracker, intent, text))
        elif requested == "ticket_id":
            if intent in OPERATIONS:
                updates["followup_op"] = OPERATIONS[intent]
            updates.update(await self._ticket_answer(dispatcher, tracker, intent, text))
        elif requested == "supplement_text":
            said = clean(text)
            updates["supplement_text"] = said if len(said) >= 2 else None
        elif requested == "cancel_confirmed":
            answer = yes_or_no(intent, text)
            if answer is None and intent == "cancel_ticket":
                answer = True
            updates["cancel_confirmed"] = answer
        elif requested == "rating":
            updates["rating"] = rating_score(text)
            if updates["rating"] is None:
                dispatcher.utter_message(response="utter_rating_not_understood")

        values = {**current, **updates}
        events: list[EventType] = [SlotSet(k, v) for k, v in updates.items()]
        events.append(SlotSet("requested_slot", _next_slot(values, phone_known)))
        return events

    @staticmethod
    def _opening(tracker: Tracker, intent: str, text: str) -> dict[str, Any]:
        op = OPERATIONS.get(intent, tracker.get_slot("followup_op") or "check")
        values: dict[str, Any] = {"followup_op": op, "supplement_text": None,
                                  "cancel_confirmed": None, "rating": None, "ticket_candidate": None}
        number = find_ticket_id(text)
        if number:
            values["ticket_id"] = number
            values["ticket_number"] = replies.ticket_number(number)
        elif not tracker.get_slot("ticket_id") and tracker.get_slot("last_ticket_id"):
            values["ticket_id"] = tracker.get_slot("last_ticket_id")
            values["ticket_number"] = replies.ticket_number(values["ticket_id"])
        if op == "supplement":
            values["supplement_text"] = _supplement_in(text)
        if op == "rate":
            values["rating"] = rating_score(text)
        return values

    @staticmethod
    async def _ticket_answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                             text: str) -> dict[str, Any]:
        number = find_ticket_id(text, allow_phone_like=True)
        candidate = tracker.get_slot("ticket_candidate")
        if not number and candidate and yes_or_no(intent, text) is True:
            number = candidate
        if not number:
            if yes_or_no(intent, text) is False:
                return {"ticket_candidate": None, "ticket_id": None}
            dispatcher.utter_message(response="utter_ticket_id_not_understood")
            return {"ticket_id": None}
        try:
            await runtime.blocking(runtime.client().get_ticket, number)
        except TicketNotFound:
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_number=replies.ticket_number(number))
            return {"ticket_id": None, "ticket_candidate": None}
        except IssueApiError:
            pass  # let the operation itself report the outage
        return {"ticket_id": number, "ticket_number": replies.ticket_number(number), "ticket_candidate": None}


class AskTicketId(Action):
    """Ask for the number; when the caller's phone has exactly one fitting ticket, propose it."""

    def name(self) -> str:
        return "action_ask_ticket_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        phone = caller_phone(tracker) or tracker.get_slot("phone")
        if phone and tracker.get_slot("ticket_candidate") is None:
            try:
                tickets = await runtime.blocking(runtime.client().tickets_by_phone, phone)
            except IssueApiError:
                tickets = []
            wanted = RESOLVED if tracker.get_slot("followup_op") == "rate" else OPEN_STATUSES
            fitting = [t for t in tickets if t.get("status") in wanted]
            if len(fitting) == 1:
                dispatcher.utter_message(response="utter_ask_ticket_candidate",
                                         ticket_number=replies.ticket_number(fitting[0]["id"]),
                                         description_start=replies.description_start(fitting[0]))
                return [SlotSet("ticket_candidate", str(fitting[0]["id"]))]
        dispatcher.utter_message(response="utter_ask_ticket_id")
        return [SlotSet("ticket_candidate", None)]


def action_key(tracker: Tracker, op: str) -> str:
    """One key per conversation turn and operation: a repeated action is applied once."""
    turn = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
    raw = f"{tracker.sender_id}|{turn.get('timestamp')}|{op}"
    return f"rasa-{op}-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


class Followup(Action):
    def name(self) -> str:
        return "action_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        op = tracker.get_slot("followup_op") or "check"
        ticket_id = tracker.get_slot("ticket_id")
        client = runtime.client()
        key = action_key(tracker, op)
        number = replies.ticket_number(ticket_id)
        try:
            if not ticket_id:
                await self._list_by_phone(dispatcher, tracker)
            elif op == "check":
                ticket = await runtime.blocking(client.get_ticket, ticket_id)
                replies.say_status(dispatcher, ticket, json_message=ticket_payload(ticket_id, "checked"))
            elif op == "urge":
                await runtime.blocking(client.urge, ticket_id, "来电人催办", key)
                ticket = await runtime.blocking(client.get_ticket, ticket_id)
                dispatcher.utter_message(response="utter_urged", ticket_number=number,
                                         json_message=ticket_payload(ticket_id, "urged"))
                replies.say_status(dispatcher, ticket)
            elif op == "supplement":
                await runtime.blocking(client.supplement, ticket_id, tracker.get_slot("supplement_text"), key)
                dispatcher.utter_message(response="utter_supplemented", ticket_number=number,
                                         json_message=ticket_payload(ticket_id, "supplemented"))
            elif op == "cancel":
                if tracker.get_slot("cancel_confirmed"):
                    await runtime.blocking(client.cancel, ticket_id, "来电人申请撤销", key)
                    dispatcher.utter_message(response="utter_cancelled", ticket_number=number,
                                             json_message=ticket_payload(ticket_id, "cancelled"))
                else:
                    dispatcher.utter_message(response="utter_cancel_kept")
            elif op == "rate":
                score = int(tracker.get_slot("rating"))
                await runtime.blocking(client.rate, ticket_id, score, latest_text(tracker), key)
                dispatcher.utter_message(response="utter_rated_low" if score <= 2 else "utter_rated",
                                         json_message=ticket_payload(ticket_id, "rated"))
        except Refused as exc:
            if op == "rate":
                dispatcher.utter_message(response="utter_rating_refused", reason=exc.message)
            elif op == "cancel":
                dispatcher.utter_message(response="utter_cancel_refused", reason=exc.message)
            else:
                replies.say_issue_error(dispatcher, exc)
        except IssueApiError as exc:
            replies.say_issue_error(dispatcher, exc)
        return [SlotSet(slot, None) for slot in RESET]

    @staticmethod
    async def _list_by_phone(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        phone = caller_phone(tracker) or tracker.get_slot("phone")
        tickets = await runtime.blocking(runtime.client().tickets_by_phone, phone)
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets_by_phone")
            return
        dispatcher.utter_message(response="utter_tickets_found_by_phone", count=len(tickets))
        for ticket in tickets[:3]:
            replies.say_status(dispatcher, ticket)
        if len(tickets) > 3:
            dispatcher.utter_message(response="utter_more_tickets", count=len(tickets) - 3)

