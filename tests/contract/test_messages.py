"""The bot-to-channel payloads: built by the actions, read by the channels, malformed ones ignored."""
from __future__ import annotations

import pytest

from contract.messages import TicketNote, handoff_of, handoff_payload, ticket_of, ticket_payload, tickets_of


def test_payloads_read_back_what_was_built() -> None:
    messages = [{"text": "好的"}, {"custom": handoff_payload("caller_request", "摘要", None)},
                {"text": "已登记", "custom": ticket_payload("2611270001", "filed")}]
    assert handoff_of(messages) == {"reason": "caller_request", "summary": "摘要", "ticket_id": None}
    assert tickets_of(messages) == [TicketNote("2611270001", "filed")]


@pytest.mark.parametrize("custom", [
    {"ticket": {"id": "26112700", "action": "deleted"}},
    {"ticket": {"id": "abc12345", "action": "filed"}},
    {"ticket": {"id": "1234567", "action": "filed"}},
    {"ticket": {"id": "١٢٣٤٥٦٧٨", "action": "filed"}},  # digits to Python's \d, no ticket number
    {"ticket": {"id": "26112700\n", "action": "filed"}},
    {"ticket": ["2611270001", "filed"]},
    {"ticket": None},
    "ticket",
])
def test_malformed_ticket_payloads_are_ignored(custom) -> None:
    assert ticket_of({"custom": custom}) is None


def test_only_the_contracts_actions_can_be_built() -> None:
    with pytest.raises(ValueError):
        ticket_payload("2611270001", "stolen")
