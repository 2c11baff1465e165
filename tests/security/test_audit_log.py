"""An audit log of the console: who logged in (or failed to), who opened, claimed, answered, handed
back and closed which conversation, and who filed which ticket; never a message's text or a phone
number in clear. Operators read it at /api/v1/console/audit, administrators with `python -m bot audit`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from tests.security.conftest import Gateway, client_from, log_in, logged_in, send
from tests.support.servers import REPO_ROOT

REPLY = "您好，请留下电话13812345678，我们尽快回复"


def audit(client, **params: str) -> list[dict]:
    response = client.get("/api/v1/console/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def work_through(gateway: Gateway, conversation: str) -> None:
    """alice opens a waiting conversation, takes it, answers and closes it, as the console does."""
    send(gateway.url, conversation, "转人工", phone="13912345678")
    alice, csrf = logged_in(gateway.url, "alice")
    base = f"/api/v1/console/conversations/{conversation}"
    assert alice.get(base).status_code == 200
    for step, body in (("claim", None), ("reply", {"text": REPLY}), ("close", None)):
        assert alice.post(f"{base}/{step}", json=body, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_the_audit_log_tells_who_opened_claimed_answered_and_closed_a_conversation(gateway: Gateway) -> None:
    work_through(gateway, "web-audit-0123456789")
    bob, csrf = logged_in(gateway.url, "bob")
    items = audit(bob, conversation_id="web-audit-0123456789")
    assert [(i["account"], i["action"]) for i in items] == [
        ("alice", "closed"), ("alice", "replied"), ("alice", "claimed"), ("alice", "opened")]
    assert all(i["conversation_id"] == "web-audit-0123456789" and i["kind"] == "operator" for i in items)
    assert items[0]["at"] >= items[-1]["at"] > time.time() - 60
    text = json.dumps(audit(bob), ensure_ascii=False)
    assert "您好" not in text and "13812345678" not in text and "13912345678" not in text
    logins = [i for i in audit(bob) if i["action"] == "login"]
    assert [i["account"] for i in logins] == ["bob", "alice"] and "127.0.0.1" in logins[0]["detail"]
    assert len(audit(bob, limit="2")) == 2
    assert bob.get("/api/v1/console/audit", params={"limit": "0"}).status_code == 422
    assert client_from(gateway.url).get("/api/v1/console/audit").status_code == 401


def test_failed_logins_and_logouts_are_audited(gateway: Gateway) -> None:
    stranger = client_from(gateway.url, "127.0.0.3")
    assert log_in(stranger, "bob", "not-his-password").status_code == 401
    assert log_in(stranger, "root", "toor").status_code == 401
    alice, csrf = logged_in(gateway.url, "alice")
    assert alice.post("/console/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    bob, _ = logged_in(gateway.url, "bob")
    items = [(i["account"], i["action"], i["detail"]) for i in reversed(audit(bob))]
    assert items[:2] == [("bob", "login_failed", "wrong password from 127.0.0.3"),
                         (None, "login_failed", "unknown account from 127.0.0.3")]
    assert [(account, action) for account, action, _ in items[2:]] == [
        ("alice", "login"), ("alice", "logout"), ("bob", "login")]
    assert "root" not in json.dumps(items)  # a mistyped password in the name field stays out of it


def test_filing_a_ticket_is_audited_without_the_callers_phone(start_gateway: Callable[..., Gateway], issue_api) -> None:
    gateway = start_gateway(ISSUE_API_URL=issue_api.url, ISSUE_API_TOKEN=issue_api.tokens["operator"])
    send(gateway.url, "web-audit-ticket-01", "转人工")
    alice, csrf = logged_in(gateway.url, "alice")
    filed = alice.post("/api/v1/console/tickets", headers={"X-CSRF-Token": csrf}, json={
        "company": "西安示例科技有限公司", "contact_name": "李四", "phone": "13912345678", "category": "供水供电供气",
        "description": "园区B座停电", "conversation_id": "web-audit-ticket-01"})
    assert filed.status_code == 201, filed.text
    [item] = audit(alice, conversation_id="web-audit-ticket-01")
    assert (item["account"], item["action"]) == ("alice", "ticket_filed")
    assert item["detail"] == f"ticket {filed.json()['id']}"


def test_the_audit_command_prints_who_did_what_to_a_conversation(gateway: Gateway) -> None:
    work_through(gateway, "web-audit-cli-0001")
    env = {**os.environ, "GATEWAY_DB": str(gateway.db), "RASA_TELEMETRY_ENABLED": "false"}
    shown = subprocess.run([sys.executable, "-m", "bot", "audit", "--conversation", "web-audit-cli-0001"],
                           cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.strip().splitlines()
    assert [line.split()[3] for line in lines] == ["opened", "claimed", "replied", "closed"]  # oldest first
    assert all("alice" in line and "web-audit-cli-0001" in line for line in lines)
    last = subprocess.run([sys.executable, "-m", "bot", "audit", "--limit", "1"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert last.returncode == 0 and len(last.stdout.strip().splitlines()) == 1 and "closed" in last.stdout


def test_audit_rows_older_than_a_given_age_can_be_purged(tmp_path: Path) -> None:
    from bot.gateway.audit_log import AuditLog

    log = AuditLog(tmp_path / "gateway.db")
    log.record("login", account="alice", detail="from 127.0.0.1", at=time.time() - 40 * 86400)
    log.record("claimed", account="alice", conversation_id="web-1", detail="phone 13812345678")
    assert log.purge_older_than(30 * 86400) == 1
    [kept] = log.entries()
    assert kept["action"] == "claimed" and kept["detail"] == "phone 138****5678"
    log.close()
