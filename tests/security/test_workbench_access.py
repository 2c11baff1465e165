"""The department workbench (/department): department users log in like operators, with the same
login CSRF, throttle, server-side sessions, CSRF on every change and audit rows (kind "department");
they reach only their own department's tickets, through the issue API with that department's own
token; a department user cannot use the console, nor an operator the workbench."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest
import requests

from tests.security.conftest import (OPERATORS, Gateway, client_from, console_socket_state, csrf_of, log_in,
                                     logged_in, session_cookie)
from tests.support.aio import run
from tests.support.servers import REPO_ROOT
from tests.support.stack import start_issue_api

OWN, OTHER = "城市管理和综合执法局", "生态环境局"
TOKENS = f"operator:wb-op,bot:wb-bot,admin:wb-admin,department/{OWN}:wb-own,department/{OTHER}:wb-other"
DEPARTMENT_USERS = {"zhang": ("zhang-pass-1", OWN), "li": ("li-pass-2", OTHER)}
# An operator and a department user with the same name are two accounts.
SAME_NAME = {"alice": ("alice-dept-pass", OWN)}


@pytest.fixture(scope="module")
def scoped_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, url, _ = start_issue_api(Path(tmp_path_factory.mktemp("workbench_api")),
                                     extra_env={"ISSUE_API_TOKENS": TOKENS})
    yield url
    server.stop()


@pytest.fixture
def workbench(start_gateway: Callable[..., Gateway], scoped_api: str) -> Gateway:
    users = {**DEPARTMENT_USERS, **SAME_NAME}
    return start_gateway(ISSUE_API_URL=scoped_api, ISSUE_API_TOKEN="", ISSUE_API_TOKENS=TOKENS,
                         GATEWAY_DEPARTMENTS=",".join(f"{u}:{p}:{d}" for u, (p, d) in users.items()))


def department_login(client: httpx.Client, name: str, password: str | None = None) -> httpx.Response:
    token = csrf_of(client.get("/department").text)
    users = {**DEPARTMENT_USERS, **SAME_NAME}
    return client.post("/department/login", json={"username": name, "password": password or users[name][0]},
                       headers={"X-CSRF-Token": token})


def department_client(gateway: Gateway, name: str) -> tuple[httpx.Client, str]:
    client = client_from(gateway.url)
    response = department_login(client, name)
    assert response.status_code == 200, response.text
    page = client.get("/department")
    assert 'data-testid="dept-name"' in page.text
    return client, csrf_of(page.text)


def filed(api: str, department: str) -> str:
    operator = {"Authorization": "Bearer wb-op"}
    body = {"company": "西安某某科技有限公司", "contact_name": "吴", "phone": "13912340009", "category": "市政设施",
            "description": "园区路灯不亮"}
    ticket = requests.post(f"{api}/api/v1/tickets", json=body, headers=operator, timeout=10).json()
    requests.post(f"{api}/api/v1/tickets/{ticket['id']}/assign", json={"department": department}, headers=operator,
                  timeout=10).raise_for_status()
    return ticket["id"]


def test_a_department_user_sees_and_acts_on_the_own_department_s_tickets_only(workbench: Gateway,
                                                                              scoped_api: str) -> None:
    own, other = filed(scoped_api, OWN), filed(scoped_api, OTHER)
    zhang, csrf = department_client(workbench, "zhang")
    listed = zhang.get("/api/v1/department/tickets").json()
    assert listed["department"] == OWN
    ids = {t["id"] for t in listed["items"]}
    assert own in ids and other not in ids
    assert {t["department"] for t in listed["items"]} == {OWN}
    assert all("due_soon" in t for t in listed["items"])

    assert zhang.get(f"/api/v1/department/tickets/{other}").status_code == 404
    assert zhang.post(f"/api/v1/department/tickets/{other}/accept", headers={"X-CSRF-Token": csrf}).status_code == 404
    resolved = zhang.post(f"/api/v1/department/tickets/{other}/resolve", json={"result": "已处理"},
                          headers={"X-CSRF-Token": csrf})
    assert resolved.status_code == 404

    accepted = zhang.post(f"/api/v1/department/tickets/{own}/accept", headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_progress"
    history = requests.get(f"{scoped_api}/api/v1/tickets/{own}", headers={"Authorization": "Bearer wb-op"},
                           timeout=10).json()["history"]
    assert history[-1]["actor"] == f"department/{OWN}"  # the department's own account did it

    li, _ = department_client(workbench, "li")
    assert {t["id"] for t in li.get("/api/v1/department/tickets").json()["items"]} >= {other}
    assert li.get(f"/api/v1/department/tickets/{own}").status_code == 404

    operator, _ = logged_in(workbench.url, "alice")
    audit = operator.get("/api/v1/console/audit").json()["items"]
    assert any(r["action"] == "ticket_accepted" and r["account"] == "zhang" and r["kind"] == "department"
               and own in r["detail"] for r in audit)


def test_state_changes_need_the_session_s_csrf_token(workbench: Gateway, scoped_api: str) -> None:
    own = filed(scoped_api, OWN)
    zhang, csrf = department_client(workbench, "zhang")
    assert zhang.post(f"/api/v1/department/tickets/{own}/accept").status_code == 403
    assert zhang.post(f"/api/v1/department/tickets/{own}/accept", headers={"X-CSRF-Token": "forged"}).status_code == 403
    cross_site = zhang.post(f"/api/v1/department/tickets/{own}/accept",
                            headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert zhang.post("/department/logout").status_code == 403
    # The login form needs its own token too (login CSRF).
    stranger = client_from(workbench.url)
    assert stranger.post("/department/login", json={"username": "zhang", "password": "zhang-pass-1"}).status_code == 403


def test_a_department_user_cannot_use_the_console_and_an_operator_cannot_use_the_workbench(workbench: Gateway) -> None:
    zhang, _ = department_client(workbench, "zhang")
    for path in ("/api/v1/console/queue", "/api/v1/console/reviews", "/api/v1/console/supervisor",
                 "/api/v1/console/tickets/20260101001", "/api/v1/console/audit",
                 "/api/v1/console/export?from=2026-01-01&to=2026-01-31&format=csv"):
        assert zhang.get(path).status_code == 401, path
    assert 'data-testid="login-user"' in zhang.get("/console").text  # the operators' login form
    assert zhang.get("/console/supervisor", follow_redirects=False).status_code == 303
    assert run(console_socket_state(workbench, session_cookie(zhang))) == "refused"
    # A department account is no operator account: the console's login does not know it.
    assert log_in(client_from(workbench.url), "zhang", "zhang-pass-1").status_code == 401

    alice, _ = logged_in(workbench.url, "alice")
    assert alice.get("/api/v1/department/tickets").status_code == 401
    assert 'data-testid="dept-name"' not in alice.get("/department").text
    assert 'data-testid="login-user"' in alice.get("/department").text


def test_an_operator_and_a_department_user_with_the_same_name_are_two_accounts(workbench: Gateway) -> None:
    client = client_from(workbench.url)
    assert department_login(client, "alice", OPERATORS["alice"]).status_code == 401  # the operator's password
    assert department_login(client, "alice", "alice-dept-pass").status_code == 200
    assert client.get("/api/v1/console/queue").status_code == 401
    assert client.get("/api/v1/department/tickets").status_code == 200


def test_department_logins_are_throttled_and_audited(workbench: Gateway) -> None:
    client = client_from(workbench.url, "127.0.0.31")
    codes = [department_login(client, "zhang", "wrong").status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and 429 in codes[3:]
    operator, _ = logged_in(workbench.url, "alice")
    audit = operator.get("/api/v1/console/audit").json()["items"]
    assert any(r["action"] == "login_failed" and r["account"] == "zhang" and r["kind"] == "department" for r in audit)


def test_a_department_user_whose_department_has_no_token_stops_the_start(tmp_path: Path) -> None:
    env = {**os.environ, "GATEWAY_DB": str(tmp_path / "gw.db"), "HOTLINE_VAR_DIR": str(tmp_path),
           "ISSUE_API_TOKENS": f"operator:t1,department/{OWN}:t2",
           "GATEWAY_DEPARTMENTS": f"zhang:pw1:{OWN},wang:secret-pw:{OTHER}", "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run([sys.executable, "-m", "bot", "gateway", "--port", "9"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "GATEWAY_DEPARTMENTS" in done.stderr and OTHER in done.stderr and f"department/{OTHER}" in done.stderr
    assert "secret-pw" not in done.stderr


def test_a_json_number_or_boolean_is_not_taken_as_text(workbench: Gateway, scoped_api: str) -> None:
    own = filed(scoped_api, OWN)
    zhang, csrf = department_client(workbench, "zhang")
    for path, body in ((f"/api/v1/department/tickets/{own}/notes", {"text": 123}),
                       (f"/api/v1/department/tickets/{own}/notes", {"text": True}),
                       (f"/api/v1/department/tickets/{own}/resolve", {"result": False}),
                       (f"/api/v1/department/tickets/{own}/return", {"reason": ["不属于本部门"]})):
        response = zhang.post(path, json=body, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 422, (path, body)
    ticket = requests.get(f"{scoped_api}/api/v1/tickets/{own}", headers={"Authorization": "Bearer wb-op"}, timeout=10)
    assert ticket.json()["status"] == "assigned" and ticket.json()["progress_notes"] == []


def test_the_workbench_lists_every_open_ticket_not_the_newest_two_hundred(workbench: Gateway, scoped_api: str) -> None:
    oldest = filed(scoped_api, OWN)
    for _ in range(205):
        filed(scoped_api, OWN)
    zhang, _ = department_client(workbench, "zhang")
    listed = zhang.get("/api/v1/department/tickets").json()
    assert oldest in {t["id"] for t in listed["items"]} and listed["truncated"] is False
