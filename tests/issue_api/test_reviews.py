"""The operators' review of the departments' requests: rejections and their reasons, the queue, and
requests that the ticket's own course made moot."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Dict, List

from tests.issue_api.conftest import DEPARTMENT, Api

FRIDAY = "2026-11-27T10:00:00+08:00"


def _error(response) -> Dict[str, Any]:  # type: ignore[no-untyped-def]
    return response.json()["error"]


def _assigned(api: Api, **overrides: Any) -> Dict[str, Any]:
    ticket = api.file(**overrides)
    return api.act(ticket["id"], "assign", department=DEPARTMENT)


def _week_later(ticket: Dict[str, Any]) -> str:
    """A week after the ticket's current deadline, YYYY-MM-DD."""
    return (dt.date.fromisoformat(ticket["deadline"][:10]) + dt.timedelta(days=7)).isoformat()


def _reviews_of(api: Api, ticket_id: str, status: str = "pending") -> List[Dict[str, Any]]:
    items = api.call("GET", "/reviews", params={"status": status, "limit": 200}).json()["items"]
    return [item for item in items if item["ticket_id"] == ticket_id]


def test_a_rejection_needs_a_reason_and_the_history_keeps_it(api: Api) -> None:
    ticket = _assigned(api)
    api.act(ticket["id"], "extension-requests", role="department", reason="设备到货需要时间", new_deadline=_week_later(ticket))
    for body in ({"decision": "reject"}, {"decision": "reject", "reason": "  "}):
        response = api.call("POST", f"/tickets/{ticket['id']}/review", json=body)
        assert response.status_code == 422
        assert _error(response)["fields"] == [{"field": "reason", "code": "reason_required", "message": "驳回申请时请填写理由"}]

    rejected = api.act(ticket["id"], "review", decision="reject", reason="请先采取临时措施,按期办结")
    assert rejected["deadline"] == ticket["deadline"] and rejected["pending_review"] is None
    event = rejected["history"][-1]
    assert (event["action"], event["action_label"], event["note"], event["actor"]) == (
        "extension_rejected", "驳回延期", "请先采取临时措施,按期办结", "operator")
    [review] = _reviews_of(api, ticket["id"], "decided")
    assert (review["status"], review["decision_reason"], review["decided_by"]) == (
        "rejected", "请先采取临时措施,按期办结", "operator")
    assert review["decided_at"] and review["decided_deadline"] is None
    # Once decided, the department may ask again.
    again = api.act(ticket["id"], "extension-requests", role="department", reason="设备仍未到货", new_deadline=_week_later(ticket))
    assert again["pending_review"]["reason"] == "设备仍未到货"


def test_a_rejected_return_leaves_the_ticket_with_the_department(api: Api) -> None:
    ticket = _assigned(api)
    api.act(ticket["id"], "return-requests", role="department", reason="不属于本部门")
    kept = api.act(ticket["id"], "review", role="admin", decision="reject", reason="供电属于贵部门职责")
    assert (kept["department"], kept["status"]) == (DEPARTMENT, "assigned")
    assert [(e["action"], e["note"]) for e in kept["history"][-2:]] == [
        ("return_requested", "不属于本部门"), ("return_rejected", "供电属于贵部门职责")]
    assert api.get(ticket["id"], role="department")["pending_review"] is None


def test_nothing_to_review_is_409(api: Api) -> None:
    ticket = _assigned(api)
    response = api.call("POST", f"/tickets/{ticket['id']}/review", json={"decision": "approve"})
    assert response.status_code == 409 and _error(response)["code"] == "review_not_pending"
    assert _error(response)["message"] == "该工单没有待审核的延期或退回申请"
    unknown = api.call("POST", "/tickets/2601019999/review", json={"decision": "approve"})
    assert unknown.status_code == 404


def test_review_bodies_are_checked(api: Api) -> None:
    ticket = _assigned(api)
    response = api.call("POST", f"/tickets/{ticket['id']}/review", json={"decision": "maybe"})
    assert response.status_code == 422
    assert _error(response)["fields"][0]["code"] == "decision_invalid" and "approve" in _error(response)["fields"][0]["message"]
    response = api.call("POST", f"/tickets/{ticket['id']}/review", json={"decision": "approve", "deadline": "2099-13-01"})
    assert {f["field"]: f["code"] for f in _error(response)["fields"]} == {"deadline": "date_invalid"}
    bad_filter = api.call("GET", "/reviews", params={"status": "all"})
    assert bad_filter.status_code == 422 and _error(bad_filter)["fields"][0]["message"].startswith("审核状态应为")


def test_the_queue_is_oldest_first(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api()
    tickets = [_assigned(api) for _ in range(3)]
    for ticket in reversed(tickets):
        api.act(ticket["id"], "return-requests", role="department", reason=f"退回 {ticket['id']}")
    queue = api.call("GET", "/reviews").json()["items"]
    assert [r["ticket_id"] for r in queue] == [t["id"] for t in reversed(tickets)]
    assert [r["ticket_id"] for r in api.call("GET", "/reviews", params={"limit": 2}).json()["items"]] == [
        t["id"] for t in reversed(tickets)][:2]
    api.act(tickets[0]["id"], "review", decision="reject", reason="职责范围内")
    api.act(tickets[2]["id"], "review", decision="reject", reason="职责范围内")
    decided = api.call("GET", "/reviews", params={"status": "decided"}).json()["items"]
    assert [r["ticket_id"] for r in decided] == [tickets[0]["id"], tickets[2]["id"]]  # by decision time
    assert [r["ticket_id"] for r in api.call("GET", "/reviews").json()["items"]] == [tickets[1]["id"]]


def test_a_waiting_request_lapses_when_the_ticket_moves_on(api: Api) -> None:
    resolved = _assigned(api)
    api.act(resolved["id"], "extension-requests", role="department", reason="需要时间", new_deadline=_week_later(resolved))
    done = api.act(resolved["id"], "resolve", role="department", result="已提前办结")
    assert done["pending_review"] is None
    assert (done["history"][-1]["action"], done["history"][-1]["note"]) == ("review_withdrawn", "延期申请失效：工单已办结")
    [lapsed] = _reviews_of(api, resolved["id"], "decided")
    assert (lapsed["status"], lapsed["decided_by"]) == ("withdrawn", f"department/{DEPARTMENT}")

    moved = _assigned(api)
    api.act(moved["id"], "return-requests", role="department", reason="不属于本部门")
    reassigned = api.act(moved["id"], "assign", department="应急管理局")
    assert reassigned["history"][-1]["note"] == "退回申请失效：工单已改派至 应急管理局"
    assert _reviews_of(api, moved["id"]) == []

    cancelled = _assigned(api)
    api.act(cancelled["id"], "return-requests", role="department", reason="不属于本部门")
    gone = api.act(cancelled["id"], "cancel", role="bot", reason="企业已自行解决")
    assert gone["history"][-1]["note"] == "退回申请失效：工单已撤销"
    late = api.call("POST", f"/tickets/{cancelled['id']}/review", json={"decision": "approve", "department": "应急管理局"})
    assert late.status_code == 409 and _error(late)["code"] == "review_not_pending"


def test_a_repeated_decision_with_the_same_idempotency_key_is_applied_once(api: Api) -> None:
    ticket = _assigned(api)
    api.act(ticket["id"], "return-requests", role="department", reason="不属于本部门")
    key = str(uuid.uuid4())
    body = {"decision": "approve", "department": "应急管理局"}
    first = api.call("POST", f"/tickets/{ticket['id']}/review", json=body, headers={"Idempotency-Key": key})
    again = api.call("POST", f"/tickets/{ticket['id']}/review", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 200 and again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [e["action"] for e in api.get(ticket["id"])["history"]].count("return_approved") == 1


def test_a_decision_lands_only_on_the_request_the_operator_saw(api: Api) -> None:
    ticket = _assigned(api)
    seen = api.act(ticket["id"], "return-requests", role="department", reason="不属于本部门")["pending_review"]
    api.act(ticket["id"], "review", decision="reject", reason="职责范围内")  # another operator, meanwhile
    newer = api.act(ticket["id"], "extension-requests", role="department", reason="需要现场勘查",
                    new_deadline=_week_later(ticket))["pending_review"]
    stale = {"decision": "approve", "department": "生态环境局", "review_id": seen["id"], "type": "return"}
    response = api.call("POST", f"/tickets/{ticket['id']}/review", json=stale)
    assert response.status_code == 409 and _error(response)["code"] == "review_changed"
    # Without naming it, a return's approval still cannot turn into an extension's (nor the reverse).
    response = api.call("POST", f"/tickets/{ticket['id']}/review", json={"decision": "approve", "department": "生态环境局"})
    assert response.status_code == 409 and _error(response)["code"] == "review_changed"
    unchanged = api.get(ticket["id"])
    assert unchanged["deadline"] == ticket["deadline"] and unchanged["department"] == DEPARTMENT
    decided = api.act(ticket["id"], "review", decision="approve", review_id=newer["id"], type="extension")
    assert decided["deadline"].startswith(_week_later(ticket))


def test_review_ids_are_listed_and_strict(api: Api) -> None:
    ticket = _assigned(api)
    api.act(ticket["id"], "return-requests", role="department", reason="不属于本部门")
    listed = _reviews_of(api, ticket["id"])[0]
    assert listed["id"] == api.get(ticket["id"])["pending_review"]["id"]
    for bad in (True, "1", 1.5):
        response = api.call("POST", f"/tickets/{ticket['id']}/review", json={"decision": "reject", "reason": "r",
                                                                             "review_id": bad})
        assert response.status_code == 422, bad


def test_pages_of_the_review_queue(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api()
    tickets = [_assigned(api) for _ in range(5)]
    for ticket in tickets:
        api.act(ticket["id"], "return-requests", role="department", reason="退回")
    pages = [api.call("GET", "/reviews", params={"limit": 2, "offset": offset}).json()["items"] for offset in (0, 2, 4)]
    assert [r["ticket_id"] for page in pages for r in page] == [t["id"] for t in tickets]
