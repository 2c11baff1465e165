"""Escalation to a person (on request, when angry, after two misunderstandings) and the fallback.

The handoff is one bot message carrying {"custom": {"handoff": {reason, summary, ticket_id}}}:
the gateway puts the conversation into the operators' queue when it sees it.
"""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_text, summary
from actions.spoken import sounds_angry

FALLBACK_INTENT = "nlu_fallback"


def handoff(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> None:
    ticket: Optional[str] = tracker.get_slot("ticket_id") or tracker.get_slot("last_ticket_id")
    if reason == "angry":
        text = "非常抱歉给您带来不好的体验，我马上为您转接人工客服，请稍候。"
    elif reason == "not_understood":
        text = "抱歉，我没能理解您的意思，这就为您转接人工客服，请稍候。"
    else:
        text = "好的，正在为您转接人工客服，请稍候。"
    dispatcher.utter_message(text=text)
    dispatcher.utter_message(json_message={
        "handoff": {"reason": reason, "summary": summary(tracker), "ticket_id": ticket}
    })


def failed_understandings(tracker: Tracker) -> int:
    """How many of the latest user turns in a row the NLU could not classify."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != FALLBACK_INTENT:
            break
        count += 1
    return count


class Handoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        handoff(dispatcher, tracker, "angry" if sounds_angry(latest_text(tracker)) else "caller_request")
        return []


class Fallback(Action):
    """First miss: say what the hotline can do. Second miss in a row: a person takes over."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if sounds_angry(latest_text(tracker)):
            handoff(dispatcher, tracker, "angry")
        elif failed_understandings(tracker) >= 2:
            handoff(dispatcher, tracker, "not_understood")
        else:
            dispatcher.utter_message(
                text="抱歉，我没太听明白。您可以直接说要办的事，比如“反映一个停电的问题”“查一下工单进度”，"
                     "或者说“转人工”。")
        return []
