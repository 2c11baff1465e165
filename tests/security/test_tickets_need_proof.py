"""Finding 1: an anonymous web chat user who knew only a ticket's number read its status, department
and deadline, added a supplement and withdrew it. Now the conversation must prove it is the
reporter's (caller id, the filing conversation, or the query code), in the dialogue and in the
issue API, and wrong codes are slowed down."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.stack import RASA_API_TOKEN

pytestmark = pytest.mark.slow

REPORT = {"company": "西安机密材料有限公司", "contact_name": "周敏", "phone": "13912340001",
          "category": "供水供电供气", "description": "厂区变压器异响需要检修"}


def _operator(issue_api) -> dict:
    return {"Authorization": f"Bearer {issue_api.tokens['operator']}"}


def _bot(issue_api, **proof: str) -> dict:
    return {"Authorization": f"Bearer {issue_api.tokens['bot']}", **proof}


def _file(issue_api) -> dict:
    response = requests.post(f"{issue_api.url}/api/v1/tickets", json=REPORT, headers=_operator(issue_api), timeout=10)
    response.raise_for_status()
    return response.json()


def _say(rasa_url: str, sender: str, text: str) -> str:
    body = {"sender": sender, "message": text, "metadata": {"channel": "web"}}
    reply = requests.post(f"{rasa_url}/webhooks/rest/webhook", json=body, timeout=60).json()
    return "\n".join(m.get("text") or "" for m in reply)


def test_a_stranger_who_knows_only_the_number_learns_and_changes_nothing(rasa_server, issue_api) -> None:
    ticket = _file(issue_api)
    stranger = f"web-{uuid.uuid4().hex}"
    said = _say(rasa_server.url, stranger, f"查一下工单{ticket['id']}的进度")
    assert "查询码" in said
    for secret in (ticket["department"], "已受理", "变压器", "周敏", "12月"):
        assert secret not in said
    said = _say(rasa_server.url, stranger, "我不知道查询码")
    assert "转人工" in said and ticket["department"] not in said

    _say(rasa_server.url, stranger, f"帮我催办一下工单{ticket['id']}")
    _say(rasa_server.url, stranger, f"我要撤销工单{ticket['id']}")
    _say(rasa_server.url, stranger, "对")
    after = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket['id']}", headers=_operator(issue_api), timeout=10).json()
    assert after["status"] == "received" and after["urge_count"] == 0
    assert [event["action"] for event in after["history"]] == ["filed"]


def test_the_query_code_proves_it_and_a_wrong_one_does_not(rasa_server, issue_api) -> None:
    ticket = _file(issue_api)
    wrong = f"{(int(ticket['query_code']) + 1) % 1_000_000:06d}"
    caller = f"web-{uuid.uuid4().hex}"
    assert "查询码" in _say(rasa_server.url, caller, f"帮我查一下工单{ticket['id']}")
    refused = _say(rasa_server.url, caller, f"查询码是{wrong}")
    assert "不对" in refused and ticket["department"] not in refused
    told = _say(rasa_server.url, caller, f"查询码是{ticket['query_code']}")
    assert "已受理" in told and "2" in told  # the status, now that the caller proved it
    tracker = requests.get(f"{rasa_server.url}/conversations/{caller}/tracker", params={"token": RASA_API_TOKEN},
                           timeout=10).json()
    assert tracker["slots"]["ticket_codes"] == {ticket["id"]: ticket["query_code"]}


def test_the_issue_api_enforces_it_for_the_bot_role(issue_api) -> None:
    ticket = _file(issue_api)
    base = f"{issue_api.url}/api/v1/tickets/{ticket['id']}"
    for method, path, body in (("GET", "", None), ("POST", "/urge", {}), ("POST", "/supplements", {"text": "x"}),
                               ("POST", "/cancel", {"reason": "x"}), ("POST", "/rating", {"score": 1})):
        response = requests.request(method, base + path, json=body, headers=_bot(issue_api), timeout=10)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "proof_required"
        assert "变压器" not in response.text and REPORT["phone"][-4:] not in response.text
    unknown = requests.get(f"{issue_api.url}/api/v1/tickets/99999999", headers=_bot(issue_api), timeout=10)
    assert unknown.status_code == 404
    # Each kind of proof works: the code, the caller id, the filing conversation.
    assert requests.get(base, headers=_bot(issue_api, **{"X-Query-Code": ticket["query_code"]}), timeout=10).ok
    assert requests.get(base, headers=_bot(issue_api, **{"X-Caller-Phone": "+86 139 1234 0001"}), timeout=10).ok
    stranger_phone = requests.get(base, headers=_bot(issue_api, **{"X-Caller-Phone": "13900000000"}), timeout=10)
    assert stranger_phone.status_code == 403


def test_wrong_codes_are_slowed_down_per_ticket_and_then_refused(issue_api) -> None:
    ticket = _file(issue_api)
    base = f"{issue_api.url}/api/v1/tickets/{ticket['id']}"
    wrong = f"{(int(ticket['query_code']) + 7) % 1_000_000:06d}"
    answers = [requests.get(base, headers=_bot(issue_api, **{"X-Query-Code": wrong}), timeout=10) for _ in range(6)]
    codes = [a.status_code for a in answers]
    assert codes[:3] == [403, 403, 403]  # three tries, then the ticket makes callers wait
    assert set(codes[3:]) == {429}
    assert int(answers[-1].headers["Retry-After"]) >= 1
    # While it waits even the right code is not looked at: guessing gains nothing by speed.
    right = requests.get(base, headers=_bot(issue_api, **{"X-Query-Code": ticket["query_code"]}), timeout=10)
    assert right.status_code == 429 and "变压器" not in right.text
    # Other proof still works, and other tickets are not affected.
    assert requests.get(base, headers=_bot(issue_api, **{"X-Caller-Phone": REPORT["phone"]}), timeout=10).ok
    other = _file(issue_api)
    assert requests.get(f"{issue_api.url}/api/v1/tickets/{other['id']}",
                        headers=_bot(issue_api, **{"X-Query-Code": other["query_code"]}), timeout=10).ok


def test_a_stranger_s_wrong_codes_slow_down_the_stranger_before_the_reporter(issue_api) -> None:
    ticket = _file(issue_api)
    base = f"{issue_api.url}/api/v1/tickets/{ticket['id']}"
    wrong = f"{(int(ticket['query_code']) + 7) % 1_000_000:06d}"

    def tried(code: str, client: str | None) -> requests.Response:
        proof = {"X-Query-Code": code, **({"X-Proof-Client": client} if client else {})}
        return requests.get(base, headers=_bot(issue_api, **proof), timeout=10)

    assert [tried(wrong, "net:stranger").status_code for _ in range(4)] == [403, 403, 403, 429]
    assert tried(ticket["query_code"], "net:stranger").status_code == 429  # the stranger waits, even with it
    reporter = tried(ticket["query_code"], "tel:13912340001")  # the reporter, from another line: not locked out
    assert reporter.status_code == 200 and reporter.json()["id"] == ticket["id"]
    # A stranger who keeps changing networks is slowed down by the ticket's own count of all clients.
    rotating = [tried(wrong, f"net:rotating-{n}").status_code for n in range(5)]
    assert rotating == [403, 403, 403, 429, 429]
    slowed = tried(ticket["query_code"], "tel:13912340001")
    assert slowed.status_code == 429 and slowed.json()["error"]["code"] == "too_many_attempts"  # slowed, not locked
    # The caller id and the filing conversation still prove it at once.
    assert requests.get(base, headers=_bot(issue_api, **{"X-Caller-Phone": REPORT["phone"]}), timeout=10).ok


def test_a_client_going_through_ticket_after_ticket_is_stopped_across_them(issue_api) -> None:
    from issue_api.proof import CLIENT_DAY_FAILURES, FREE_FAILURES

    client = f"net:sweep-{uuid.uuid4().hex[:8]}"
    tickets = [_file(issue_api) for _ in range(CLIENT_DAY_FAILURES // FREE_FAILURES + 1)]

    def tried(ticket: dict, code: str, who: str = client) -> requests.Response:
        return requests.get(f"{issue_api.url}/api/v1/tickets/{ticket['id']}",
                            headers=_bot(issue_api, **{"X-Query-Code": code, "X-Proof-Client": who}), timeout=10)

    for ticket in tickets[:-1]:  # the free tries of each ticket in turn, as a sweep through the day's numbers
        wrong = f"{(int(ticket['query_code']) + 7) % 1_000_000:06d}"
        assert [tried(ticket, wrong).status_code for _ in range(FREE_FAILURES)] == [403] * FREE_FAILURES
    last = tickets[-1]
    # Thirty wrong codes on any tickets: each next try of that client waits, a minute and doubling.
    slowed = tried(last, f"{(int(last['query_code']) + 7) % 1_000_000:06d}")
    assert slowed.status_code == 429 and slowed.json()["error"]["code"] == "too_many_attempts"
    assert 55 <= int(slowed.headers["retry-after"]) <= 61  # slowed, never locked for the day
    assert tried(last, last["query_code"]).status_code == 429  # the right one too, until the wait is over
    assert tried(last, last["query_code"], "tel:13912340001").ok  # its reporter is not held up


def test_naming_a_client_does_not_lift_the_ticket_s_own_wait(issue_api) -> None:
    ticket = _file(issue_api)
    base = f"{issue_api.url}/api/v1/tickets/{ticket['id']}"
    wrong = f"{(int(ticket['query_code']) + 7) % 1_000_000:06d}"
    unnamed = [requests.get(base, headers=_bot(issue_api, **{"X-Query-Code": wrong}), timeout=10).status_code
               for _ in range(4)]
    assert unnamed == [403, 403, 403, 429]
    requests.get(base, headers=_bot(issue_api, **{"X-Query-Code": wrong, "X-Proof-Client": "net:x"}), timeout=10)
    again = requests.get(base, headers=_bot(issue_api, **{"X-Query-Code": wrong}), timeout=10)
    assert again.status_code == 429


def test_concurrent_wrong_codes_are_each_counted(issue_api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ticket = _file(issue_api)
    base = f"{issue_api.url}/api/v1/tickets/{ticket['id']}"
    wrong = f"{(int(ticket['query_code']) + 7) % 1_000_000:06d}"

    def burst(n: int) -> int:
        headers = _bot(issue_api, **{"X-Query-Code": wrong, "X-Proof-Client": f"net:burst-{n}"})
        return requests.get(base, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(burst, range(40)))
    assert codes.count(403) == 6 and codes.count(429) == 34  # the ticket's free tries, then waits: never more
