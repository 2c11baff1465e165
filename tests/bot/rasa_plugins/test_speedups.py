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


# -- applied events, remembered ------------------------------------------------------------------------
def _form_conversation() -> list[Event]:
    """A conversation that exercises every rule of applied_events: a form that runs several times, a
    reverted action, a reverted utterance, a restart and a new session."""
    from rasa.shared.core.events import ActionReverted, UserUtteranceReverted

    said = lambda text: UserUttered(text, {"name": "report_issue", "confidence": 0.9})  # noqa: E731
    return [
        ActionExecuted("action_listen"), said("停电了"), ActionExecuted("ticket_form"), ActiveLoop("ticket_form"),
        SlotSet("requested_slot", "company"), ActionExecuted("action_listen"), said("西安某公司"),
        ActionExecuted("ticket_form"), SlotSet("company", "西安某公司"), ActionExecuted("action_listen"),
        said("算了"), ActionExecuted("utter_ask"), ActionReverted(), UserUtteranceReverted(),
        said("我叫张伟"), ActionExecuted("ticket_form"), ActiveLoop(None), ActionExecuted("action_listen"),
        Restarted(), ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        said("你好"), ActionExecuted("utter_greet"), BotUttered("您好"), ActionExecuted("action_listen"),
    ]


def test_applied_events_are_what_rasa_computes_after_every_event() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    speedups.install()
    rasa_applied_events = DialogueStateTracker.applied_events.__wrapped__
    tracker = DialogueStateTracker("c1", [])
    for event in _form_conversation():
        tracker.update(event)
        first = tracker.applied_events()
        assert first == rasa_applied_events(tracker)
        first.append("changed by a caller")  # what one caller does to its list is not seen by the next
        assert tracker.applied_events() == rasa_applied_events(tracker)


def test_applied_events_follow_a_replaced_event_list() -> None:
    from collections import deque

    from rasa.shared.core.trackers import DialogueStateTracker

    speedups.install()
    tracker = DialogueStateTracker("c1", [])
    for event in _form_conversation()[:10]:
        tracker.update(event)
    before = tracker.applied_events()
    tracker.events = deque([ActionExecuted("action_listen")])
    assert tracker.applied_events() != before
    assert [event.as_dict()["name"] for event in tracker.applied_events()] == ["action_listen"]


# -- connections to the action server kept ---------------------------------------------------------------
def test_requests_to_an_endpoint_reuse_one_connection_and_answer_as_before() -> None:
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    speedups.install()
    peers, seen, cookies = [], [], []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        seen.append((request.query.get("token"), request.headers.get("X-Hotline"), await request.json()))
        cookies.append(request.headers.get("Cookie"))
        if request.path == "/missing":
            return web.json_response({"error": "no"}, status=404)
        if request.path == "/text":
            return web.Response(text="plain")
        answer = web.json_response({"events": [], "responses": [{"text": "好的"}]})
        answer.set_cookie("conversation", "someone-else")  # must not travel to the next conversation's call
        return answer

    async def scenario() -> list:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://localhost:{port}", token="secret", headers={"X-Hotline": "1"})
        try:
            answers = [await endpoint.request(json={"n": n}, method="post", subpath="webhook") for n in range(3)]
            answers.append(await endpoint.request(json={"n": 3}, method="post", subpath="text"))
            with pytest.raises(ClientResponseError) as refused:
                await endpoint.request(json={"n": 4}, method="post", subpath="missing")
            answers.append(refused.value.status)
            return answers
        finally:
            session = endpoint._hotline_session[1]
            await speedups.close_kept_sessions()  # what the Rasa server does when it stops
            assert session.closed
            await runner.cleanup()

    answers = asyncio.run(scenario())
    assert answers[:3] == [{"events": [], "responses": [{"text": "好的"}]}] * 3
    assert answers[3] is None and answers[4] == 404
    assert seen[0] == ("secret", "1", {"n": 0})
    assert len(set(peers)) == 1, "every request opened its own connection"
    assert cookies == [None] * 5
