"""A message sent while the action server was down tripped Rasa's circuit breaker, and every later
message of that conversation tripped it again: the chat answered nothing until its session expired.
Through a real Rasa server and action server, the conversation answers again once the actions are back."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.stack import RASA_API_TOKEN, start_action_server, start_issue_api, start_rasa_server


@pytest.fixture
def stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    api, api_url, tokens = start_issue_api(tmp_path / "api")
    actions, action_url = start_action_server(api_url, tokens["bot"], tmp_path / "actions")
    rasa, rasa_url = start_rasa_server(action_url, tmp_path / "rasa")
    yield actions, rasa_url
    for server in (rasa, actions, api):
        server.stop()


def _say(rasa_url: str, sender: str, text: str) -> list[dict]:
    answer = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    assert answer.status_code == 200
    return answer.json()


def test_a_conversation_answers_again_once_the_action_server_is_back(stack) -> None:  # type: ignore[no-untyped-def]
    actions, rasa_url = stack
    actions.stop()
    assert _say(rasa_url, "outage-chat", "你好") == []  # the breaker trips: nothing to say
    actions.start()
    assert any("96767" in (m.get("text") or "") for m in _say(rasa_url, "outage-chat", "你好"))
    assert any("人工" in (m.get("text") or "") for m in _say(rasa_url, "outage-chat", "转人工"))
    tracker = requests.get(f"{rasa_url}/conversations/outage-chat/tracker", params={"token": RASA_API_TOKEN},
                           timeout=10).json()
    assert tracker["latest_action_name"] == "action_listen"
