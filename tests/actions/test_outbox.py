"""No report is lost: with the issue API down the filing waits in the outbox and is delivered
exactly once, with its Idempotency-Key, when the API is back."""
import subprocess
import sys
import time
import uuid
from urllib.parse import urlparse

import pytest
import requests

from tests.actions.webhook import run_action, texts
from tests.support.servers import REPO_ROOT
from tests.support.stack import start_action_server, start_issue_api

SLOTS = {"company": "西安断网测试有限公司", "contact_name": "李娜", "phone": "13755556666",
         "category": "网络通信", "kind": "help", "description": "园区光纤被挖断了 全楼没网",
         "ticket_confirmed": True, "request_type": "problem", "channel": "web"}


@pytest.fixture()
def outage_stack(tmp_path):
    api, api_url, tokens = start_issue_api(tmp_path / "api")
    actions, actions_url = start_action_server(api_url, tokens["bot"], tmp_path / "actions")
    state = {"api": api, "api_url": api_url, "tokens": tokens, "actions_url": actions_url,
             "outbox": tmp_path / "actions" / "outbox.db", "api_dir": tmp_path / "api"}
    yield state
    actions.stop()
    state["api"].stop()


def _tickets(state, phone):
    headers = {"Authorization": f"Bearer {state['tokens']['operator']}"}
    return requests.get(f"{state['api_url']}/api/v1/tickets", params={"phone": phone},
                        headers=headers, timeout=5).json()["items"]


def _outbox_list(path):
    return subprocess.run([sys.executable, "-m", "actions.outbox", "--db", str(path), "list"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=30).stdout


def test_filing_during_an_outage_is_delivered_once_when_the_api_returns(outage_stack):
    state = outage_stack
    state["api"].kill()  # as abrupt as a crash

    result = run_action(state["actions_url"], "action_submit_ticket", text="对", intent="affirm",
                        slots=SLOTS, sender=f"conv-{uuid.uuid4()}")
    said = texts(result)
    assert "完整记录" in said and "不会丢失" in said
    assert not any(e.get("name") == "last_ticket_id" for e in result["events"])

    waiting = _outbox_list(state["outbox"])
    assert "pending" in waiting and "137****6666" in waiting and "13755556666" not in waiting

    port = urlparse(state["api_url"]).port
    state["api"], _, _ = start_issue_api(state["api_dir"], port=port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _tickets(state, "13755556666"):
        time.sleep(0.5)
    time.sleep(3)  # several more delivery rounds: none may file a second ticket
    tickets = _tickets(state, "13755556666")
    assert len(tickets) == 1
    assert tickets[0]["description"] == SLOTS["description"]
    assert "nothing waits" in _outbox_list(state["outbox"])
