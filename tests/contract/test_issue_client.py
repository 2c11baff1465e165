"""The one issue-API client against the live API: each failure is a typed error carrying the API's
stable code and its Chinese message."""
import datetime
import uuid

import pytest

from contract.issue_client import (
    ApiUnavailable, Invalid, IssueClient, NotAllowed, Proof, ProofRequired, Refused, TicketNotFound,
)
from tests.support.servers import free_port

TICKET = {"company": "西安测试科技有限公司", "contact_name": "张伟", "phone": "13891234567",
          "category": "市政设施", "description": "园区门口路灯坏了", "kind": "help", "channel": "web"}


@pytest.fixture()
def client(issue_api):
    return IssueClient(issue_api.url, issue_api.tokens["bot"], timeout=5, max_attempts=2, backoff=0.05)


def test_same_idempotency_key_files_one_ticket(client):
    key = f"test-{uuid.uuid4()}"
    first = client.create_ticket({**TICKET, "query_code": "246810"}, key)
    again = client.create_ticket({**TICKET, "query_code": "246810"}, key)
    assert first["id"] == again["id"]
    assert 8 <= len(first["id"]) <= 12 and first["id"].isdigit()
    # The bot role sees the reporter's phone masked, and only with proof.
    with pytest.raises(ProofRequired):
        client.get_ticket(first["id"])
    assert client.get_ticket(first["id"], Proof(query_code="246810"))["phone"] == "138****4567"


def test_unknown_ticket_is_a_not_found_reply(client):
    with pytest.raises(TicketNotFound) as caught:
        client.get_ticket("99999999")
    assert caught.value.code == "ticket_not_found" and "未找到" in caught.value.message


def test_invalid_fields_are_named_in_chinese(client):
    with pytest.raises(Invalid) as caught:
        client.create_ticket({**TICKET, "phone": "12"}, f"test-{uuid.uuid4()}")
    assert caught.value.status == 422
    assert any(f.get("field") == "phone" for f in caught.value.fields)
    assert caught.value.code == "validation_failed"


def test_refusal_carries_the_apis_chinese_reason(client, issue_api):
    ticket = client.create_ticket(TICKET, f"test-{uuid.uuid4()}")
    with pytest.raises(Refused) as caught:
        client.rate(ticket["id"], 5, proof=Proof(query_code=ticket["query_code"]))
    assert caught.value.status == 409
    assert caught.value.code == "rate_not_allowed"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


def test_wrong_token_is_reported_without_details(issue_api):
    bad = IssueClient(issue_api.url, "not-a-token", max_attempts=1)
    with pytest.raises(NotAllowed) as caught:
        bad.tickets_by_phone("13891234567")
    assert caught.value.status == 401 and caught.value.code == "unauthorized"


def test_unreachable_api_is_retried_then_reported():
    down = IssueClient(f"http://127.0.0.1:{free_port()}", "x", timeout=1, max_attempts=3, backoff=0.05)
    with pytest.raises(ApiUnavailable) as caught:
        down.get_ticket("2611270001")
    assert caught.value.status is None and caught.value.code == "unavailable"


def test_a_slow_api_is_given_up_within_the_call_budget():
    """Each try times out; the retries stop when the budget is spent, not after attempts x timeout."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(time.monotonic())
            time.sleep(3)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        slow = IssueClient(f"http://127.0.0.1:{server.server_port}", "x", timeout=2, max_attempts=3,
                           backoff=0.05, budget=2.8)
        started = time.monotonic()
        with pytest.raises(ApiUnavailable):
            slow.get_ticket("2611270001")
        took = time.monotonic() - started
    finally:
        server.shutdown()
    assert took < 3.2  # without the budget: three tries of 2 s
    assert len(seen) == 2  # 2 s, then the 0.75 s that were left; no third try


# ---- the department loop, through the same client (a service of its own, on a fixed clock) ----

@pytest.fixture(scope="module")
def loop_api(tmp_path_factory):
    from tests.support.stack import TEST_TOKENS, start_issue_api

    # Tuesday 1 December 2026, 10:00 Beijing time: a working day, inside the callback hours.
    server, url, tokens = start_issue_api(tmp_path_factory.mktemp("issue_api_loop"),
                                          extra_env={"ISSUE_API_NOW": "2026-12-01T10:00:00+08:00"})
    clients = {role: IssueClient(url, TEST_TOKENS[role], timeout=10, max_attempts=2, backoff=0.05)
               for role in ("bot", "operator", "department")}
    yield clients
    server.stop()


def _dispatched(clients) -> dict:  # type: ignore[no-untyped-def]
    ticket = clients["bot"].create_ticket({**TICKET, "category": "供水供电供气"}, f"test-{uuid.uuid4()}")
    return clients["operator"].assign(ticket["id"], "市政公用服务中心")


def test_department_requests_and_the_operators_review(loop_api):
    department, operator = loop_api["department"], loop_api["operator"]
    ticket = _dispatched(loop_api)
    noted = department.add_note(ticket["id"], "已安排人员现场查看")
    assert noted["progress_notes"][-1]["text"] == "已安排人员现场查看"
    asked = department.request_extension(ticket["id"], "需要协调供电公司", datetime.date(2026, 12, 15))
    assert asked["pending_review"]["new_deadline"] == "2026-12-15"
    with pytest.raises(Refused) as caught:
        department.request_return(ticket["id"], "不属于本部门")
    assert caught.value.code == "review_pending"
    assert [r["ticket_id"] for r in operator.reviews()] == [ticket["id"]]
    approved = operator.review(ticket["id"], "approve", deadline="2026-12-14")
    assert approved["deadline"] == "2026-12-14T23:59:59+08:00"
    assert operator.reviews("decided")[0]["status"] == "approved"
    with pytest.raises(Invalid) as rejected:
        operator.review(ticket["id"], "reject")  # no reason
    assert rejected.value.fields[0]["code"] == "reason_required"

    department.request_return(ticket["id"], "应由城市管理和综合执法局处理")
    moved = operator.review(ticket["id"], "approve", department="城市管理和综合执法局")
    assert moved["department"] == "城市管理和综合执法局"
    with pytest.raises(TicketNotFound):
        department.add_note(ticket["id"], "已不是本部门的工单")
    with pytest.raises(NotAllowed):
        loop_api["bot"].reviews()


def test_callbacks_figures_and_export(loop_api):
    operator = loop_api["operator"]
    ticket = _dispatched(loop_api)
    loop_api["department"].resolve(ticket["id"], "已恢复供电")
    due = [c["ticket_id"] for c in operator.callbacks(due=True)]
    assert ticket["id"] in due
    claimed = operator.claim_callback(ticket["id"])
    assert claimed["status"] == "calling" and claimed["ticket"]["phone"] == TICKET["phone"]
    with pytest.raises(Refused) as taken:
        operator.claim_callback(ticket["id"])
    assert taken.value.code == "callback_not_due"
    retried = operator.record_callback_attempt(ticket["id"], "no_answer")
    assert (retried["status"], retried["attempts"]) == ("pending", 1)
    with pytest.raises(Refused):
        operator.record_callback_attempt(ticket["id"], "no_answer")  # not claimed again

    assert any(row["department"] == "市政公用服务中心" for row in operator.department_stats())
    assert operator.stats()["callbacks_pending"] >= 1
    csv_file = operator.export_tickets("2026-12-01", datetime.date(2026, 12, 1))
    assert csv_file.filename == "tickets-2026-12-01-2026-12-01.csv" and csv_file.content_type.startswith("text/csv")
    assert ticket["id"] in csv_file.content.decode("utf-8-sig")
    xlsx_file = operator.export_tickets("2026-12-01", "2026-12-01", fmt="xlsx")
    assert xlsx_file.filename.endswith(".xlsx") and xlsx_file.content.startswith(b"PK")
    with pytest.raises(Invalid) as too_long:
        operator.export_tickets("2026-01-01", "2027-06-01")
    assert too_long.value.fields[0]["code"] == "date_range_too_long"
