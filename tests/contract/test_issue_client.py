"""The one issue-API client against the live API: each failure is a typed error carrying the API's
stable code and its Chinese message."""
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
