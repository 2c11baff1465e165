"""A department's work on its tickets: progress notes, asking for more time (延期) or to hand a ticket
back (退回), and who may do what."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict

import pytest

from tests.issue_api.conftest import DEPARTMENT, Api, random_mobile

OTHER = "生态环境局"
FRIDAY = "2026-11-27T10:00:00+08:00"  # a consult filed now is due Friday 4 December (5 working days)


def _error(response) -> Dict[str, Any]:  # type: ignore[no-untyped-def]
    return response.json()["error"]


def _fields(response) -> Dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    return {item["field"]: item["code"] for item in _error(response)["fields"]}


def _assigned(api: Api, department: str = DEPARTMENT, **overrides: Any) -> Dict[str, Any]:
    ticket = api.file(**overrides)
    return api.act(ticket["id"], "assign", department=department)


def test_progress_notes_are_kept_oldest_first_and_read_by_every_role(api: Api) -> None:
    ticket = _assigned(api)
    api.act(ticket["id"], "start", role="department")
    api.act(ticket["id"], "notes", role="department", text="已联系供电公司,抢修队伍下午到场")
    noted = api.act(ticket["id"], "notes", role="operator", text="企业来电询问,已告知抢修安排")
    assert [(n["text"], n["actor"]) for n in noted["progress_notes"]] == [
        ("已联系供电公司,抢修队伍下午到场", f"department/{DEPARTMENT}"), ("企业来电询问,已告知抢修安排", "operator")]
    assert noted["history"][-1]["action"] == "noted" and noted["history"][-1]["action_label"] == "办理进展"
    # The bot reads the latest note to the proved caller.
    seen_by_bot = api.get(ticket["id"], role="bot")
    assert seen_by_bot["progress_notes"][-1]["text"] == "企业来电询问,已告知抢修安排"
    listed = api.call("GET", "/tickets", role="department", params={"status": "in_progress", "limit": 200}).json()
    assert any(t["id"] == ticket["id"] and len(t["progress_notes"]) == 2 for t in listed["items"])


def test_notes_only_while_the_ticket_is_open(api: Api) -> None:
    ticket = _assigned(api)
    api.act(ticket["id"], "resolve", role="department", result="已恢复供电")
    response = api.call("POST", f"/tickets/{ticket['id']}/notes", role="department", json={"text": "补一句"})
    assert response.status_code == 409 and _error(response)["code"] == "note_not_allowed"
    assert "已办结" in _error(response)["message"]
    assert _fields(api.call("POST", f"/tickets/{ticket['id']}/notes", role="department", json={"text": " "})) == {
        "text": "text_blank"}


def test_a_department_acts_only_on_its_own_tickets(api: Api) -> None:
    theirs = _assigned(api, OTHER, category="环境噪音")
    for path, body in [("notes", {"text": "进展"}), ("extension-requests", {"reason": "r", "new_deadline": "2099-01-01"}),
                       ("return-requests", {"reason": "不属于本部门"})]:
        response = api.call("POST", f"/tickets/{theirs['id']}/{path}", role="department", json=body)
        assert response.status_code == 404 and _error(response)["code"] == "ticket_not_found", path


@pytest.mark.parametrize("path,body,allowed", [
    ("notes", {"text": "进展"}, ("department", "operator", "admin")),
    ("extension-requests", {"reason": "需要现场勘查", "new_deadline": "next week"}, ("department",)),
    ("return-requests", {"reason": "不属于本部门职责"}, ("department",)),
    ("review", {"decision": "approve"}, ("operator", "admin")),
])
@pytest.mark.parametrize("role", ["bot", "operator", "department", "admin"])
def test_roles_of_the_department_routes(api: Api, path: str, body: dict, allowed: tuple, role: str) -> None:
    ticket = _assigned(api)
    if body.get("new_deadline") == "next week":
        body = {**body, "new_deadline": (dt.date.fromisoformat(ticket["deadline"][:10]) + dt.timedelta(days=7)).isoformat()}
    response = api.call("POST", f"/tickets/{ticket['id']}/{path}", role=role, json=body)
    if role in allowed:
        assert response.status_code in (200, 409), response.text  # past the guard; some meet the state machine
    else:
        assert response.status_code == 403 and _error(response)["code"] == "forbidden", response.text


@pytest.mark.parametrize("method,path", [
    ("GET", "/reviews"), ("GET", "/stats/departments"), ("GET", "/callbacks"),
    ("GET", "/tickets/export?from=2026-12-01&to=2026-12-01"),
    ("POST", "/callbacks/2612010001/claim"), ("POST", "/callbacks/2612010001/attempts"),
])
@pytest.mark.parametrize("role", ["bot", "department"])
def test_operator_routes_are_closed_to_the_bot_and_the_departments(api: Api, method: str, path: str, role: str) -> None:
    response = api.call(method, path, role=role, json={"outcome": "busy"} if method == "POST" else None)
    assert response.status_code == 403 and _error(response)["code"] == "forbidden", response.text


def test_extension_requested_then_approved_moves_the_deadline_and_history_says_who_and_why(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=FRIDAY)
    ticket = _assigned(api, kind="consult")
    assert ticket["deadline"] == "2026-12-04T23:59:59+08:00"

    asked = api.act(ticket["id"], "extension-requests", role="department", reason="需要供电公司现场勘查",
                    new_deadline="2026-12-11")
    assert asked["deadline"] == "2026-12-04T23:59:59+08:00"  # nothing moves before the review
    assert asked["pending_review"].pop("id") >= 1  # what a review names (review_id)
    assert asked["pending_review"] == {"type": "extension", "reason": "需要供电公司现场勘查", "new_deadline": "2026-12-11",
                                       "requested_at": "2026-11-27T10:00:00+08:00",
                                       "requested_by": f"department/{DEPARTMENT}"}
    assert (asked["history"][-1]["action"], asked["history"][-1]["note"]) == (
        "extension_requested", "申请延期至 2026年12月11日：需要供电公司现场勘查")
    queue = api.call("GET", "/reviews").json()["items"]
    assert [(r["ticket_id"], r["type"], r["status"], r["new_deadline"]) for r in queue] == [
        (ticket["id"], "extension", "pending", "2026-12-11")]
    assert queue[0]["ticket"]["deadline"] == "2026-12-04T23:59:59+08:00" and queue[0]["suggested_department"] is None
    assert api.get(ticket["id"], role="bot")["pending_review"] is None  # an internal exchange

    approved = api.act(ticket["id"], "review", role="operator", decision="approve")
    assert approved["deadline"] == "2026-12-11T23:59:59+08:00" and approved["pending_review"] is None
    event = approved["history"][-1]
    assert (event["action"], event["action_label"], event["actor"]) == ("extension_approved", "同意延期", "operator")
    assert event["note"] == "原期限 2026年12月4日 → 新期限 2026年12月11日：需要供电公司现场勘查"
    assert api.call("GET", "/reviews").json()["items"] == []
    decided = api.call("GET", "/reviews", params={"status": "decided"}).json()["items"]
    assert [(r["status"], r["decided_by"], r["decided_deadline"]) for r in decided] == [
        ("approved", "operator", "2026-12-11")]


def test_the_operator_may_grant_another_date_and_say_why(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=FRIDAY)
    ticket = _assigned(api, kind="consult")
    api.act(ticket["id"], "extension-requests", role="department", reason="材料较多", new_deadline="2026-12-18")
    too_early = api.call("POST", f"/tickets/{ticket['id']}/review", json={"decision": "approve", "deadline": "2026-12-04"})
    assert _fields(too_early) == {"deadline": "deadline_not_later"}
    approved = api.act(ticket["id"], "review", role="admin", decision="approve", deadline="2026-12-09", reason="最多一周")
    assert approved["deadline"] == "2026-12-09T23:59:59+08:00"
    assert approved["history"][-1]["note"] == "原期限 2026年12月4日 → 新期限 2026年12月9日：材料较多(审核意见：最多一周)"
    assert approved["history"][-1]["actor"] == "admin"


def test_extension_rules(fresh_api, new_database, backend) -> None:  # type: ignore[no-untyped-def]
    db_url = new_database(backend)
    api = fresh_api(db_url, ISSUE_API_NOW=FRIDAY)
    ticket = _assigned(api, kind="consult")
    path = f"/tickets/{ticket['id']}/extension-requests"

    not_later = api.call("POST", path, role="department", json={"reason": "r", "new_deadline": "2026-12-04"})
    assert _fields(not_later) == {"new_deadline": "deadline_not_later"}
    assert "2026年12月4日" in _error(not_later)["fields"][0]["message"]
    assert _fields(api.call("POST", path, role="department", json={"reason": "r", "new_deadline": "2028-01-01"})) == {
        "new_deadline": "deadline_too_far"}
    for bad in ["2026-02-30", "12/11/2026", "2026-12-1", 20261211, ""]:
        codes = _fields(api.call("POST", path, role="department", json={"reason": "r", "new_deadline": bad}))
        assert codes["new_deadline"] in ("date_invalid", "type_invalid"), bad
    assert _fields(api.call("POST", path, role="department", json={"new_deadline": "2026-12-11"})) == {
        "reason": "field_required"}

    api.act(ticket["id"], "extension-requests", role="department", reason="需要勘查", new_deadline="2026-12-11")
    again = api.call("POST", path, role="department", json={"reason": "再延", "new_deadline": "2026-12-18"})
    assert again.status_code == 409 and _error(again)["code"] == "review_pending"
    also_return = api.call("POST", f"/tickets/{ticket['id']}/return-requests", role="department", json={"reason": "r"})
    assert also_return.status_code == 409 and _error(also_return)["code"] == "review_pending"
    api.act(ticket["id"], "review", decision="reject", reason="请按期办结")
    api.server.stop()

    # Monday 7 December: the deadline (Friday 4th) has passed.
    late = fresh_api(db_url, ISSUE_API_NOW="2026-12-07T09:00:00+08:00")
    response = late.call("POST", path, role="department", json={"reason": "来不及", "new_deadline": "2026-12-11"})
    assert response.status_code == 409 and _error(response)["code"] == "extension_too_late"
    assert "已过" in _error(response)["message"]
    late.act(ticket["id"], "resolve", role="department", result="已答复")
    closed = late.call("POST", path, role="department", json={"reason": "r", "new_deadline": "2026-12-11"})
    assert closed.status_code == 409 and _error(closed)["code"] == "extension_not_allowed"


def test_return_requested_then_approved_reassigns_to_the_suggested_department(api: Api) -> None:
    # 路灯 (市政设施) belongs to 城市管理和综合执法局, but was dispatched to this department.
    ticket = _assigned(api, category="市政设施", description="园区门口两盏路灯不亮")
    asked = api.act(ticket["id"], "return-requests", role="department", reason="路灯不属于本部门职责")
    assert asked["pending_review"]["type"] == "return" and asked["pending_review"]["new_deadline"] is None
    assert asked["history"][-1]["action"] == "return_requested"

    queue = [r for r in api.call("GET", "/reviews", params={"limit": 200}).json()["items"]
             if r["ticket_id"] == ticket["id"]]
    assert len(queue) == 1 and queue[0]["suggested_department"] == "城市管理和综合执法局"
    assert queue[0]["ticket"]["category"] == "市政设施" and queue[0]["ticket"]["status"] == "assigned"
    assert queue[0]["requested_by"] == f"department/{DEPARTMENT}" and queue[0]["department"] == DEPARTMENT

    missing = api.call("POST", f"/tickets/{ticket['id']}/review", json={"decision": "approve"})
    assert _fields(missing) == {"department": "field_required"}
    same = api.call("POST", f"/tickets/{ticket['id']}/review", json={"decision": "approve", "department": DEPARTMENT})
    assert _fields(same) == {"department": "department_unchanged"}

    moved = api.act(ticket["id"], "review", decision="approve", department=queue[0]["suggested_department"])
    assert (moved["status"], moved["department"], moved["pending_review"]) == ("assigned", "城市管理和综合执法局", None)
    assert (moved["history"][-1]["action"], moved["history"][-1]["note"]) == ("return_approved", "改派至 城市管理和综合执法局")
    # It is no longer this department's ticket.
    assert api.call("GET", f"/tickets/{ticket['id']}", role="department").status_code == 404


def test_return_from_an_in_progress_ticket_and_no_suggestion_for_the_usual_department(api: Api) -> None:
    ticket = _assigned(api)  # 供水供电供气: this department is the usual one
    api.act(ticket["id"], "start", role="department")
    api.act(ticket["id"], "return-requests", role="department", reason="系燃气问题,应由燃气公司处理")
    queue = [r for r in api.call("GET", "/reviews", params={"limit": 200}).json()["items"]
             if r["ticket_id"] == ticket["id"]]
    assert queue[0]["suggested_department"] is None
    moved = api.act(ticket["id"], "review", decision="approve", department="企业服务中心", reason="转企业服务中心协调")
    assert moved["status"] == "assigned" and moved["history"][-1]["note"] == "改派至 企业服务中心：转企业服务中心协调"


def test_return_only_once_dispatched(api: Api) -> None:
    received = api.file()  # proposed to this department, not yet dispatched
    response = api.call("POST", f"/tickets/{received['id']}/return-requests", role="department", json={"reason": "r"})
    assert response.status_code == 404  # not the department's yet: nothing to hand back


def test_a_department_sees_a_ticket_from_its_dispatch_on(api: Api) -> None:
    phone = random_mobile()
    proposed = api.file(phone=phone)  # its category's usual department is this one, but nobody dispatched it
    assert api.call("GET", f"/tickets/{proposed['id']}", role="department").status_code == 404
    assert api.call("POST", f"/tickets/{proposed['id']}/notes", role="department", json={"text": "已了解"}).status_code == 404
    listed = api.call("GET", "/tickets", role="department", params={"phone": phone})
    assert listed.json().get("items") == [], listed.text
    withdrawn = api.file(phone=phone)
    api.act(withdrawn["id"], "cancel", reason="已自行解决")  # withdrawn before anyone dispatched it
    assert api.call("GET", f"/tickets/{withdrawn['id']}", role="department").status_code == 404
    dispatched = _assigned(api, phone=phone)
    api.act(dispatched["id"], "cancel", reason="已自行解决")  # withdrawn after: it was the department's
    assert api.get(dispatched["id"], role="department")["status"] == "cancelled"
    listed = api.call("GET", "/tickets", role="department", params={"phone": phone}).json()["items"]
    assert [t["id"] for t in listed] == [dispatched["id"]]


def test_pages_of_a_department_list(api: Api) -> None:
    phone = "13912340000"
    ids = [_assigned(api, phone=phone)["id"] for _ in range(5)]
    pages = [api.call("GET", "/tickets", role="department", params={"phone": phone, "limit": 2, "offset": offset})
             .json()["items"] for offset in (0, 2, 4, 6)]
    assert [t["id"] for page in pages for t in page] == list(reversed(ids))  # newest first, each once


def test_rework_gets_a_new_time_limit_so_the_department_can_still_ask_for_more(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=FRIDAY)
    ticket = _assigned(api, kind="consult")  # due Friday 4 December
    api.act(ticket["id"], "resolve", role="department", result="已处理")
    api.server.stop()
    api = fresh_api(api.db_url, ISSUE_API_NOW="2026-12-09T10:00:00+08:00")  # rated unhappy after the old deadline
    reworked = api.act(ticket["id"], "rating", role="operator", score=1, comment="没解决")
    assert reworked["status"] == "in_progress" and not reworked["overdue"]
    assert reworked["deadline"] == "2026-12-16T23:59:59+08:00"  # five working days again, from the rating
    assert reworked["history"][-1]["note"].endswith("办理期限 2026年12月16日")
    asked = api.act(ticket["id"], "extension-requests", role="department", reason="需要协调", new_deadline="2026-12-23")
    assert asked["pending_review"]["type"] == "extension"
