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
- Every request to the action server (`EndpointConfig.request`) opened a new aiohttp session
  (`EndpointConfig.session`), so a new TCP connection, on both sides, for each custom action. Here
  `session()` hands out the endpoint's one session per event loop, whose idle connections are reused
  for KEEP_ALIVE_SECONDS: less than the action server's own keep-alive (Sanic: 5 s) and HAProxy's
  (10 s), so a connection the other side is about to close is never reused. Rasa's `request` itself is
  untouched: same headers, auth, parameters, timeout, errors and answers.
- `DialogueStateTracker.applied_events()` walks the whole conversation (quadratic where a form ran)
  and a turn asks for it six times or so (session check, every policy's state history) while the
  events do not change. Here a tracker remembers the answer for its events as they are (the same
  deque, length, first and last event objects: events are only ever appended) and hands out a copy.
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
KEEP_ALIVE_SECONDS = 3.0
_kept_sessions: list[Any] = []


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


def _kept_session(endpoint: Any) -> Any:
    """The endpoint's session for the running loop (a session belongs to the loop it was made on);
    made as Rasa's `EndpointConfig.session` makes one, with connections kept."""
    import asyncio

    import aiohttp

    loop = asyncio.get_running_loop()
    kept = getattr(endpoint, "_hotline_session", None)
    if kept is not None and kept[0] is loop and not kept[1].closed:
        return kept[1]
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

    auth = (aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
            if endpoint.basic_auth else None)
    # No cookie jar (a session made per request never carried cookies from one conversation's call to
    # the next) and no cap on parallel connections (each request had its own connector).
    session = aiohttp.ClientSession(headers=endpoint.headers, auth=auth,
                                    timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                                    cookie_jar=aiohttp.DummyCookieJar(),
                                    connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS, limit=0))
    endpoint._hotline_session = (loop, session)
    _kept_sessions.append(session)
    return session


async def close_kept_sessions() -> None:
    """When the server stops: close the kept sessions of the running loop (no "unclosed" warnings)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for session in list(_kept_sessions):
        if session.closed or getattr(session, "_loop", loop) is loop:
            _kept_sessions.remove(session)
            if not session.closed:
                await session.close()


class _KeptSessionHandle:
    """What `EndpointConfig.session()` returns here. Rasa uses it as `async with endpoint.session() as
    session:` (its `request`, the model server's download): that yields the endpoint's kept session and
    leaves it open, so Rasa's own request code runs unchanged on kept connections."""

    def __init__(self, endpoint: Any) -> None:
        self._endpoint = endpoint

    async def __aenter__(self) -> Any:
        return _kept_session(self._endpoint)

    async def __aexit__(self, *_: Any) -> None:
        return None


def _session(self: Any) -> _KeptSessionHandle:
    return _KeptSessionHandle(self)


def _memoized_applied_events(original: Any) -> Any:
    @functools.wraps(original)
    def applied_events(self: Any) -> Any:
        events = self.events
        first, last = (events[0], events[-1]) if events else (None, None)
        memo = self.__dict__.get("_hotline_applied_events")
        if memo is not None:
            seen_events, seen_length, seen_first, seen_last, seen_result = memo
            if seen_events is events and seen_length == len(events) and seen_first is first and seen_last is last:
                return list(seen_result)
        result = original(self)
        self.__dict__["_hotline_applied_events"] = (events, len(events), first, last, list(result))
        return result

    applied_events.hotline_memoized = True  # type: ignore[attr-defined]
    return applied_events


def install() -> None:
    """Idempotent; safe in any process that has Rasa installed."""
    global _installed
    if _installed:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    EndpointConfig.session = _session  # type: ignore[method-assign]
    if not getattr(DialogueStateTracker.applied_events, "hotline_memoized", False):
        DialogueStateTracker.applied_events = _memoized_applied_events(  # type: ignore[method-assign]
            DialogueStateTracker.applied_events)
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign]
    _installed = True
    log.info("Rasa speed-ups installed: action answers validated by event type, event classes looked up once, "
             "connections to the action server kept, applied events remembered")
