"""Session start: remember the caller id and channel that the gateway or voice bridge sent as
metadata, so the filing form can offer the caller's own number."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from contract.phones import normalize_phone
from contract.vocabulary import CHANNELS

# A report queued during an outage (pending_filing) must be findable after the session expires too.
CARRIED = ("caller_phone", "channel", "company", "contact_name", "phone", "last_ticket_id", "pending_filing")


class SessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        for slot in CARRIED:
            value = tracker.get_slot(slot)
            if value is not None:
                events.append(SlotSet(slot, value))
        metadata = tracker.get_slot("session_started_metadata") or {}
        phone = normalize_phone(str(metadata.get("phone") or ""))
        if phone and metadata.get("channel") != "web":  # a web chat has no caller id, whatever it sends
            events.append(SlotSet("caller_phone", phone))
        if metadata.get("channel") in CHANNELS:
            events.append(SlotSet("channel", metadata["channel"]))
        events.append(ActionExecuted("action_listen"))
        return events
