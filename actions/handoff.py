"""Escalation to a person (on request, when angry, after two misunderstandings) and the fallback.

The handoff is one bot message carrying {"custom": {"handoff": {reason, summary, ticket_id}}}:
the gateway puts the conversation into the operators' queue when it sees it.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import event_intent, latest_text, related_ticket, summary
from actions.spoken import sounds_angry
from contract.messages import handoff_payload

FALLBACK_INTENT = "nlu_fallback"
ACTION_LISTEN = "action_listen"


def handoff(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> None:
    ticket: Optional[str] = related_ticket(tracker)
    response = {"angry": "utter_handoff_angry", "not_understood": "utter_handoff_not_understood"}.get(
        reason, "utter_handoff")
    dispatcher.utter_message(response=response)
    dispatcher.utter_message(json_message=handoff_payload(reason, summary(tracker), ticket))


def failed_understandings(tracker: Tracker) -> int:
    """How many of the latest user turns in a row the NLU could not classify."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if event_intent(event) != FALLBACK_INTENT:
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


# Words of another language and no Chinese ("no power in our office", not "asdfgh"): the user is told
# the service is in Chinese.
_FOREIGN = re.compile(r"[A-Za-z]{2,}[\s,.!?']+[A-Za-z]{2,}")
_CHINESE = re.compile(r"[\u3400-\u9fff]")


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
        elif _FOREIGN.search(latest_text(tracker)) and not _CHINESE.search(latest_text(tracker)):
            dispatcher.utter_message(response="utter_chinese_please")  # "power outage in our office"
        else:
            dispatcher.utter_message(response="utter_default")
        # The turn ends here. Without this, a form that rejected the turn is predicted again, rejects
        # again, and the fallback repeats until Rasa's action limit, after which the conversation
        # answers nothing at all.
        return [FollowupAction(ACTION_LISTEN)]
