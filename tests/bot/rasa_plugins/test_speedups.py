"""The Rasa speed-ups accept and refuse exactly what Rasa's own checks do."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted, ActiveLoop, AllSlotsReset, BotUttered, Event, FollowupAction, Restarted, SessionStarted,
    SlotSet, UserUttered,
)

from bot.rasa_plugins import speedups

VALID_EVENTS = [e.as_dict() for e in (
    SlotSet("phone", "13812345678"), SlotSet("ticket_codes", {"2611270001": "123456"}), ActiveLoop("ticket_form"),
    ActiveLoop(None), FollowupAction("ticket_form"), ActionExecuted("action_listen"), BotUttered("你好", {"custom": {}}),
    UserUttered("你好", {"name": "greet", "confidence": 0.9}), SessionStarted(), Restarted(), AllSlotsReset(),
)]
RESULTS = [
    {"events": VALID_EVENTS, "responses": [{"text": "好的"}, {"response": "utter_filed", "ticket_number": "2611"}]},
    {"events": [], "responses": []},
    {},
    # refused by Rasa's schema, each in its own way
    {"events": [{"event": "slot", "value": 1}]},                 # a slot without a name
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "phone"}]},                              # no event type
    {"events": ["slot"]},
    {"events": {"event": "slot"}},
    {"responses": ["text"]},
    {"responses": {"text": "a"}},
    {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "yesterday"}]},
    [],
    "ok",
]


def _accepted_by_rasa(result) -> bool:  # type: ignore[no-untyped-def]
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
        return True
    except jsonschema.ValidationError:
        return False


@pytest.mark.parametrize("result", RESULTS)
def test_action_answers_are_judged_as_rasa_judges_them(result) -> None:  # type: ignore[no-untyped-def]
    speedups.install()
    accepted = _accepted_by_rasa(result)
    if accepted:
        assert RemoteAction._validate_action_result(None, result) is True
    else:
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            RemoteAction._validate_action_result(None, result)


def test_event_classes_are_found_as_before() -> None:
    speedups.install()
    assert Event.resolve_by_type("slot") is SlotSet and Event.resolve_by_type("action") is ActionExecuted
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("nonsense", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("nonsense")
