"""Finding 6: the single `department` role saw every ticket with the full phone and the
`conversation_id` (the web chat's handle) and could start or resolve any department's tickets.
Department accounts are now one department's (`department/<name>:TOKEN`); other tickets are 404 to
them; the conversation id is shown to operators and admins only."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.stack import start_issue_api

OWN, OTHER = "城市管理和综合执法局", "生态环境局"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    tokens = {"operator": "op-t", "bot": "bot-t", "admin": "admin-t"}
    server, url, _ = start_issue_api(
        Path(tmp_path_factory.mktemp("scoped")), tokens=tokens,
        extra_env={"ISSUE_API_TOKENS": f"operator:op-t,bot:bot-t,admin:admin-t,department/{OWN}:own-t,"
                                       f"department/{OTHER}:other-t,department:unscoped-t"})
    yield url
    server.stop()


def _as(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _ticket(url: str, department: str) -> dict:
    body = {"company": "西安某某公司", "contact_name": "吴", "phone": "13912340003", "category": "市政设施",
            "description": "路灯不亮", "conversation_id": "web-handle-123"}
    ticket = requests.post(f"{url}/api/v1/tickets", json=body, headers=_as("op-t"), timeout=10).json()
    requests.post(f"{url}/api/v1/tickets/{ticket['id']}/assign", json={"department": department},
                  headers=_as("op-t"), timeout=10).raise_for_status()
    return ticket


def test_a_department_sees_and_acts_on_its_own_tickets_only(api: str) -> None:
    own, other = _ticket(api, OWN), _ticket(api, OTHER)
    mine = requests.get(f"{api}/api/v1/tickets/{own['id']}", headers=_as("own-t"), timeout=10)
    assert mine.status_code == 200 and mine.json()["phone"] == "13912340003"  # it calls the reporter back
    assert mine.json()["conversation_id"] is None
    for path, body in (("", None), ("/start", {}), ("/resolve", {"result": "已修"})):
        method = "GET" if body is None else "POST"
        response = requests.request(method, f"{api}/api/v1/tickets/{other['id']}{path}", json=body,
                                    headers=_as("own-t"), timeout=10)
        assert response.status_code == 404, (path, response.text)
    assert requests.post(f"{api}/api/v1/tickets/{own['id']}/start", headers=_as("own-t"), timeout=10).ok
    listed = requests.get(f"{api}/api/v1/tickets", headers=_as("own-t"), timeout=10).json()["items"]
    assert {t["department"] for t in listed} == {OWN}
    history = requests.get(f"{api}/api/v1/tickets/{own['id']}", headers=_as("op-t"), timeout=10).json()["history"]
    assert history[-1]["actor"] == f"department/{OWN}"  # who did it, in the ticket's history


def test_a_department_without_a_name_sees_nothing_and_only_operators_see_the_conversation(api: str) -> None:
    ticket = _ticket(api, OWN)
    assert requests.get(f"{api}/api/v1/tickets/{ticket['id']}", headers=_as("unscoped-t"), timeout=10).status_code == 404
    assert requests.get(f"{api}/api/v1/tickets", headers=_as("unscoped-t"), timeout=10).json()["items"] == []
    assert requests.get(f"{api}/api/v1/tickets/{ticket['id']}", headers=_as("op-t"),
                        timeout=10).json()["conversation_id"] == "web-handle-123"
    bot = requests.get(f"{api}/api/v1/tickets/{ticket['id']}", timeout=10,
                       headers={**_as("bot-t"), "X-Conversation-Id": "web-handle-123"}).json()
    assert bot["conversation_id"] is None and bot["phone"] == "139****0003"
