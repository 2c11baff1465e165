""""你刚才说什么？": the bot says its last turn again.

On the phone a caller misses words all the time (a noisy workshop, a bad line, a ticket number read
too fast to write down), and a bot that answers "再说一遍" with its FAQ or its fallback makes them start
over. Outside a question the bot's previous turn is said again word for word (the ticket number and
查询码 of a filing included: this is the conversation that was told them). Inside a form the form asks
its pending question again after this action (see the rules), so this action only says that it will.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import REPEAT_INTENT, event_intent, latest_text
from actions.dialogue import asks_again, greets_only
from actions.greeting import line_check_reply
from contract.messages import HANDOFF

SESSION_BOUNDARIES = ("session_started", "restart")


def previous_turn(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot events of the turn before the latest user message, skipping turns that were
    themselves asked again (the original words, not the "好的，我再说一遍" around them)."""
    said: list[dict[str, Any]] = []
    seen_latest_user = False
    for event in reversed(events):
        kind = event.get("event")
        if kind in SESSION_BOUNDARIES:
            # Rasa keeps the old session's events in the tracker: a caller coming back after the
            # session expired (or after a restart) is not read what was said to the earlier session.
            return list(reversed(said)) if seen_latest_user else []
        if kind == "user":
            if not seen_latest_user:
                seen_latest_user = True
                continue
            if event_intent(event) == REPEAT_INTENT:
                said = []  # that turn repeated an earlier one: go back to the original
                continue
            break
        if seen_latest_user and kind == "bot":
            said.append(event)
    return list(reversed(said))


def previous_turn_texts(events: list[dict[str, Any]]) -> list[str]:
    """What the bot wrote or said in the previous turn (see `previous_turn`)."""
    return _texts(previous_turn(events))


def _texts(bot_events: list[dict[str, Any]]) -> list[str]:
    return [str(e["text"]) for e in bot_events if str(e.get("text") or "").strip()]


def handed_off(bot_events: list[dict[str, Any]]) -> bool:
    """Whether that turn handed the conversation to a person (the contract's handoff payload)."""
    return any(HANDOFF in (((e.get("data") or {}).get("custom")) or {}) for e in bot_events)


class RepeatLast(Action):
    def name(self) -> str:
        return "action_repeat_last"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if (tracker.active_loop or {}).get("name"):
            # The form asks again next; "喂？" wanted to know the line works, not to hear it again.
            text = latest_text(tracker)
            still_here = greets_only(text) and not asks_again(text)
            dispatcher.utter_message(response=line_check_reply(text) if still_here else "utter_repeat_question")
            return []
        turn = previous_turn(tracker.events)
        if handed_off(turn):
            # The conversation comes back from an operator (or the caller left the queue): what the
            # operator said never reached the bot, and "正在为您转接" again would be untrue.
            dispatcher.utter_message(response="utter_repeat_after_handoff")
            return []
        texts = _texts(turn)
        if not texts:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        dispatcher.utter_message(response="utter_repeat_intro")
        for text in texts:
            dispatcher.utter_message(text=text)
        return []
