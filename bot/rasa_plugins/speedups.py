"""Work the Rasa server does on every turn for nothing, done once or done less.

Measured with `python -m bench.turn_profile` (and py-spy, ../shared/notes/turn-profile.md):

- `RemoteAction._validate_action_result` called `jsonschema.validate(result, schema)` for every
  action-server answer: jsonschema first checks the schema against its metaschema (77% of a turn's
  CPU), then tries every event against all 23 branches of a `oneOf`. Here the schema is checked once,
  and each event is checked against the one branch its `event` names: the branches are told apart by
  that constant, so this accepts exactly what the `oneOf` accepts. Anything the quick check does not
  accept goes through the full validator, which raises the same error as before.
- Every event read back from the tracker store looked its class up by walking all subclasses of
  `Event` (`all_subclasses`, thousands of isinstance calls per turn); the classes do not change while
  the server runs, so the lookup is a dictionary (rebuilt if a name is missing).
(The tracker store's own waste, a new SQLite connection per read and write, is bot/rasa_plugins/tracker_store.py's.)

Installed by bot/rasa_plugins/channel.py when the Rasa server loads the hotline's REST channel (the one piece
of this project every Rasa process of the hotline imports at start).
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Dict, Optional, Type

log = logging.getLogger(__name__)
_installed = False


class _ActionResultValidator:
    """RemoteAction's response schema, compiled once, with a quick path per event type."""

    def __init__(self) -> None:
        from jsonschema import Draft7Validator
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        Draft7Validator.check_schema(schema)  # what jsonschema.validate does on every call, done once
        self.full = Draft7Validator(schema)
        events = schema["properties"]["events"]["items"]
        base = {key: value for key, value in events.items() if key != "oneOf"}
        self.base = Draft7Validator(base)
        self.branches = {
            branch["properties"]["event"]["const"]: Draft7Validator(branch) for branch in events["oneOf"]
        }

    def _quick_ok(self, result: Any) -> bool:
        """True only for answers the full schema accepts; False means "ask the full schema"."""
        if not isinstance(result, dict):
            return False
        events = result.get("events", [])
        responses = result.get("responses", [])
        if not isinstance(events, list) or not isinstance(responses, list):
            return False
        if not all(isinstance(response, dict) for response in responses):
            return False
        for event in events:
            branch = self.branches.get(event.get("event")) if isinstance(event, dict) else None
            if branch is None or not self.base.is_valid(event) or not branch.is_valid(event):
                return False
        return True

    def validate(self, result: Any) -> None:
        if not self._quick_ok(result):
            self.full.validate(result)


@functools.lru_cache(maxsize=1)
def _action_result_validator() -> _ActionResultValidator:
    return _ActionResultValidator()


def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        _action_result_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


_event_classes: Dict[str, Any] = {}


def _resolve_by_type(type_name: str, default: Optional[Type[Any]] = None) -> Optional[Type[Any]]:
    """Event.resolve_by_type through a dictionary; same answers, same errors."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    cls = _event_classes.get(type_name)
    if cls is None:
        for subclass in rasa.shared.utils.common.all_subclasses(Event):
            _event_classes.setdefault(subclass.type_name, subclass)
        cls = _event_classes.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # backwards compatibility to support old TopicSet evts
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    """Idempotent; safe in any process that has Rasa installed."""
    global _installed
    if _installed:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign]
    _installed = True
    log.info("Rasa speed-ups installed: action answers validated by event type, event classes looked up once")
