"""A greeting: the hotline's introduction once, then a short "I'm here".

On the phone callers say "喂" or "喂 听得到吗" whenever the line goes quiet or crackles, and the bot
that answers each one with its whole introduction sounds like a recording. The introduction is said
once per conversation; a later greeting, or any check of the line, is answered the way an agent
answers it: "听得到，您请讲" (in the chat: "在的"). A caller who asks whether this is the hotline
("你好 请问是96767吗", "喂 哪位") is told its name. In the middle of a form the answer is short and the
form asks its question again (see the rules).
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_text
from actions.dialogue import asks_which_line, greets_only

INTRODUCTION = "utter_greet"
SESSION_BOUNDARIES = ("session_started", "restart")


def introduced(events: list[dict[str, Any]]) -> bool:
    """Whether this session's conversation has had the bot's introduction, or any turn of the bot's
    at all (a caller in the middle of a look-up needs no list of what the hotline does)."""
    for event in reversed(events):
        kind = event.get("event")
        if kind in SESSION_BOUNDARIES:
            return False
        if kind == "bot" and str(event.get("text") or "").strip():
            return True
    return False


class Greet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        text = latest_text(tracker)
        if (tracker.active_loop or {}).get("name"):
            dispatcher.utter_message(response=line_check_reply(text))
        elif not introduced(tracker.events) and (not greets_only(text) or _only_hello(text)):
            dispatcher.utter_message(response=INTRODUCTION)  # it names the hotline too
        elif asks_which_line(text):
            dispatcher.utter_message(response="utter_this_is_the_hotline")
        else:
            # "喂 听得到吗" as the first words of a call: the caller has heard the line's greeting.
            dispatcher.utter_message(response="utter_greet_again")
        return []


def line_check_reply(text: str) -> str:
    """The response to a greeting or a check of the line in the middle of a form's question, before
    the question comes again."""
    return "utter_this_is_the_hotline_briefly" if asks_which_line(text) else "utter_still_here"


def _only_hello(text: str) -> bool:
    """"喂", "你好", "您好 请问": a greeting that asks nothing about the line (the introduction
    answers "是96767吗" too)."""
    return not any(word in text for word in ("听", "人", "在"))
