"""A follow-up while the issue API cannot be reached: nothing is taken as proved, nothing is said about
the ticket as if it were the caller's, and a handoff does not name it to the operator."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.actions.webhook import payloads, run_action, slot_events, texts
from tests.support.servers import free_port
from tests.support.stack import start_action_server

STRANGERS_TICKET = "2612010001"


@pytest.fixture
def actions_without_api(tmp_path: Path):  # type: ignore[no-untyped-def]
    server, url = start_action_server(f"http://127.0.0.1:{free_port()}", "bot-token", tmp_path / "actions")
    yield url
    server.stop()


def test_a_ticket_named_while_the_api_is_down_is_not_proved_and_the_follow_up_stops(actions_without_api) -> None:
    result = run_action(actions_without_api, "validate_followup_form", text=f"我要撤销工单{STRANGERS_TICKET}",
                        intent="cancel_ticket", entities=[{"entity": "ticket_id", "value": STRANGERS_TICKET}])
    slots = slot_events(result)
    assert not slots.get("ticket_proved")
    assert slots.get("followup_op") == "stopped" and slots.get("requested_slot") is None
    said = texts(result)
    assert "暂时" in said and "确认要撤销" not in said


def test_a_handoff_after_the_outage_does_not_name_the_unproved_ticket(actions_without_api) -> None:
    slots = {"ticket_id": STRANGERS_TICKET, "ticket_number": STRANGERS_TICKET, "ticket_proved": None}
    result = run_action(actions_without_api, "action_handoff", text="转人工", intent="request_human", slots=slots)
    [handoff] = payloads(result, "handoff")
    assert handoff["ticket_id"] is None and STRANGERS_TICKET not in handoff["summary"]
