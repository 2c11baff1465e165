"""Whose query-code tries a conversation's are, as the issue API counts wrong ones."""
from rasa_sdk import Tracker

from actions.proof import code_client, proof_for
from tests.actions.webhook import user_event


def _tracker(metadata: dict, sender: str = "web-abc") -> Tracker:
    latest = user_event("查询码 123456", "inform", 0.99, (), metadata)
    return Tracker.from_dict({"sender_id": sender, "slots": {}, "latest_message": latest["parse_data"],
                              "events": [latest], "paused": False, "followup_action": None, "active_loop": {},
                              "latest_action_name": "action_listen"})


def test_a_phone_call_is_its_caller_id_a_web_chat_its_network_else_nobody() -> None:
    assert code_client(_tracker({"phone": "139 1234 0001", "channel": "voice"})) == "tel:13912340001"
    assert code_client(_tracker({"channel": "web", "client": "5371fbf68ec77bfc4d364f44"})) == "net:5371fbf68ec77bfc4d364f44"
    assert code_client(_tracker({"channel": "web"}, sender="web-xyz")) is None  # a new chat costs nothing
    assert code_client(_tracker({"channel": "voice"}, sender="voice-call-1")) is None  # nor a withheld number


def test_the_client_is_named_only_with_a_query_code() -> None:
    tracker = _tracker({"channel": "web", "client": "abc"})
    assert "X-Proof-Client" not in proof_for(tracker, "2612010001").headers()  # nothing to count
    assert proof_for(tracker, "2612010001", "123456").headers()["X-Proof-Client"] == "net:abc"
