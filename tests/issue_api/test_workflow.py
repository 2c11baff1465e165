"""The ticket's life: urge, supplements, assign, start, resolve, rating, cancel, and the 409s."""
from __future__ import annotations

import uuid

import pytest

from tests.issue_api.conftest import DEPARTMENT, Api


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    return response.json()["error"]


def test_urge_counts_and_is_recorded(api: Api) -> None:
    ticket = api.file()
    api.act(ticket["id"], "urge", role="bot")
    urged = api.act(ticket["id"], "urge", role="operator", note="企业再次来电催促")
    assert urged["urge_count"] == 2
    urges = [event for event in urged["history"] if event["action"] == "urged"]
    assert [(event["role"], event["note"]) for event in urges] == [("bot", None), ("operator", "企业再次来电催促")]
    assert urges[0]["action_label"] == "催办" and urges[0]["at"]


def test_urge_without_a_body(api: Api) -> None:
    ticket = api.file()
    response = api.call("POST", f"/tickets/{ticket['id']}/urge", role="bot")
    assert response.status_code == 200 and response.json()["urge_count"] == 1


def test_blank_optional_texts_count_as_not_given(api: Api) -> None:
    ticket = api.file(location="  ", conversation_id="")
    assert ticket["location"] is None and ticket["conversation_id"] is None
    urged = api.act(ticket["id"], "urge", role="bot", note="")
    assert urged["history"][-1]["note"] is None


def test_supplements_are_listed_and_in_history(api: Api) -> None:
    ticket = api.file()
    updated = api.act(ticket["id"], "supplements", role="bot", text="停电范围包括四号楼")
    assert [(s["text"], s["role"]) for s in updated["supplements"]] == [("停电范围包括四号楼", "bot")]
    assert updated["history"][-1]["action"] == "supplemented"
    assert updated["history"][-1]["note"] == "停电范围包括四号楼"


def test_full_flow_to_closed_with_history(api: Api) -> None:
    ticket = api.file()
    assigned = api.act(ticket["id"], "assign", role="operator", department=DEPARTMENT)
    assert (assigned["status"], assigned["department"]) == ("assigned", DEPARTMENT)
    started = api.act(ticket["id"], "start", role="department")
    assert started["status"] == "in_progress" and started["status_label"] == "办理中"
    resolved = api.act(ticket["id"], "resolve", role="department", result="已联系供电公司抢修,下午三点恢复供电")
    assert resolved["status"] == "resolved" and resolved["result"].startswith("已联系")
    assert resolved["resolved_at"] is not None
    closed = api.act(ticket["id"], "rating", role="bot", score=5, comment="处理很及时")
    assert closed["status"] == "closed" and closed["status_label"] == "已评价归档"
    assert closed["rating"]["score"] == 5 and closed["rating"]["label"] == "非常满意"
    assert closed["rating"]["comment"] == "处理很及时"
    # The resolution scheduled a 回访; the rating (whatever its path) completes it.
    assert [event["action"] for event in closed["history"]] == [
        "filed", "assigned", "started", "resolved", "rated", "callback_done", "closed"]
    assert [event["role"] for event in closed["history"]] == [
        "bot", "operator", "department", "department", "bot", "bot", "bot"]


def test_resolve_straight_from_assigned(api: Api) -> None:
    ticket = api.file()
    api.act(ticket["id"], "assign", department="行政审批服务局")
    assert api.act(ticket["id"], "resolve", role="admin", result="已答复")["status"] == "resolved"


def test_reassign_keeps_the_ticket_assigned(api: Api) -> None:
    ticket = api.file()
    api.act(ticket["id"], "assign", department="生态环境局")
    moved = api.act(ticket["id"], "assign", role="admin", department="应急管理局", note="涉及消防通道")
    assert (moved["status"], moved["department"]) == ("assigned", "应急管理局")
    assert moved["history"][-1]["note"] == "派至 应急管理局:涉及消防通道"


@pytest.mark.parametrize("score", [1, 2])
def test_low_rating_sends_the_ticket_back_for_rework(api: Api, score: int) -> None:
    ticket = api.file()
    api.act(ticket["id"], "assign", department=DEPARTMENT)
    api.act(ticket["id"], "resolve", result="已处理")
    reopened = api.act(ticket["id"], "rating", role="bot", score=score, comment="噪音仍然存在")

    assert reopened["status"] == "in_progress" and reopened["rework_count"] == 1
    assert reopened["rating"]["score"] == score
    assert [event["action"] for event in reopened["history"]][-3:] == ["rated", "callback_done", "reworked"]
    # The department does it again, and a better score then closes it.
    api.act(ticket["id"], "resolve", role="department", result="已加装隔音屏")
    closed = api.act(ticket["id"], "rating", role="bot", score=3)
    assert closed["status"] == "closed" and closed["rating"]["label"] == "基本满意"


@pytest.mark.parametrize("score", [3, 4, 5])
def test_satisfied_rating_closes(api: Api, score: int) -> None:
    ticket = api.file()
    api.act(ticket["id"], "assign", department="生态环境局")
    api.act(ticket["id"], "resolve", result="已处理")
    assert api.act(ticket["id"], "rating", score=score)["status"] == "closed"


@pytest.mark.parametrize("role, channel, shown", [
    ("operator", "web", "(网页对话中评价)"),  # the gateway passing on the widget's rating
    ("operator", None, "(坐席代为录入)"),  # an operator typing in what the reporter said on the phone
    ("bot", "voice", "(电话中评价)"),
    ("bot", None, ""),
])
def test_a_rating_is_the_reporters_in_the_history_whoever_passes_it_on(
        api: Api, role: str, channel: str, shown: str) -> None:
    ticket = api.file()
    api.act(ticket["id"], "assign", department="生态环境局")
    api.act(ticket["id"], "resolve", result="已处理")
    body = {"score": 4, "comment": "很好", **({"channel": channel} if channel else {})}
    rated = api.act(ticket["id"], "rating", role=role, **body)
    event = next(e for e in rated["history"] if e["action"] == "rated")
    assert (event["actor"], event["role"]) == ("reporter", role)
    assert event["note"] == f"4 分 满意{shown}:很好"
    # The rest of the history keeps the account that acted.
    assert next(e for e in rated["history"] if e["action"] == "closed")["actor"] == role


def test_a_rating_from_an_unknown_channel_is_422(api: Api) -> None:
    ticket = api.file()
    api.act(ticket["id"], "assign", department="生态环境局")
    api.act(ticket["id"], "resolve", result="已处理")
    response = api.call("POST", f"/tickets/{ticket['id']}/rating", json={"score": 5, "channel": "carrier-pigeon"})
    assert response.status_code == 422 and _error(response)["code"] == "validation_failed"
    # The bot passes on what the reporter said to it; "typed in by an operator" is the operators' to say.
    response = api.call("POST", f"/tickets/{ticket['id']}/rating", role="bot", json={"score": 5, "channel": "operator"})
    assert response.status_code == 422 and _error(response)["fields"][0]["field"] == "channel"
    assert api.get(ticket["id"])["status"] == "resolved"


@pytest.mark.parametrize("status_path", [[], ["assign"], ["assign", "start"]])
def test_rating_before_resolution_is_409(api: Api, status_path: list) -> None:
    ticket = api.file()
    for step in status_path:
        api.act(ticket["id"], step, department="生态环境局") if step == "assign" else api.act(ticket["id"], step)
    response = api.call("POST", f"/tickets/{ticket['id']}/rating", role="bot", json={"score": 5})
    assert response.status_code == 409
    assert _error(response)["code"] == "rate_not_allowed"
    assert "办结后" in _error(response)["message"]


@pytest.mark.parametrize("status_path", [[], ["assign"], ["assign", "start"]])
def test_cancel_before_resolution(api: Api, status_path: list) -> None:
    ticket = api.file()
    for step in status_path:
        api.act(ticket["id"], step, department="生态环境局") if step == "assign" else api.act(ticket["id"], step)
    cancelled = api.act(ticket["id"], "cancel", role="bot", reason="已自行解决")
    assert cancelled["status"] == "cancelled" and cancelled["status_label"] == "已撤销"
    assert cancelled["cancel_reason"] == "已自行解决"
    assert cancelled["history"][-1]["action"] == "cancelled"


@pytest.mark.parametrize("final", ["resolved", "closed", "cancelled"])
def test_cancel_urge_supplement_refused_once_finished(api: Api, final: str) -> None:
    ticket = api.file()
    if final == "cancelled":
        api.act(ticket["id"], "cancel", reason="重复来电")
    else:
        api.act(ticket["id"], "assign", department="生态环境局")
        api.act(ticket["id"], "resolve", result="已处理")
        if final == "closed":
            api.act(ticket["id"], "rating", score=4)
    for action, body, code in [("cancel", {"reason": "不需要了"}, "cancel_not_allowed"),
                               ("urge", {}, "urge_not_allowed"),
                               ("supplements", {"text": "再补充一点"}, "supplement_not_allowed")]:
        response = api.call("POST", f"/tickets/{ticket['id']}/{action}", role="bot", json=body)
        assert response.status_code == 409, (action, response.text)
        assert _error(response)["code"] == code
        assert _error(response)["message"]
    assert api.get(ticket["id"])["status"] == final


def test_rating_twice_is_409(api: Api) -> None:
    ticket = api.file()
    api.act(ticket["id"], "assign", department="生态环境局")
    api.act(ticket["id"], "resolve", result="已处理")
    api.act(ticket["id"], "rating", score=5)
    response = api.call("POST", f"/tickets/{ticket['id']}/rating", role="bot", json={"score": 1})
    assert response.status_code == 409 and _error(response)["message"] == "该工单已经评价过了"


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_the_hotline_resolves_a_received_ticket_on_the_spot(api: Api, role: str) -> None:
    # 直接办结: a consultation the operator answers needs no department.
    ticket = api.file(kind="consult")
    resolved = api.act(ticket["id"], "resolve", role=role, result="已电话答复企业：政策适用条件见高新区官网")
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    assert api.act(ticket["id"], "rating", role="bot", score=5)["status"] == "closed"
    response = api.call("POST", f"/tickets/{ticket['id']}/resolve", role=role, json={"result": "再办结一次"})
    assert response.status_code == 409 and _error(response)["code"] == "resolve_not_allowed"


def test_a_ticket_the_hotline_answered_itself_is_no_department_s_and_comes_back_to_the_hotline(api: Api) -> None:
    ticket = api.file(category="市政设施")  # proposed to a department, never dispatched
    api.act(ticket["id"], "resolve", role="operator", result="已电话答复")
    assert api.call("GET", f"/tickets/{ticket['id']}", role="department").status_code == 404
    assert ticket["id"] not in [t["id"] for t in api.call("GET", "/tickets", role="department").json()["items"]]
    reopened = api.act(ticket["id"], "rating", role="bot", score=1)
    assert reopened["status"] == "received" and reopened["rework_count"] == 1
    assert reopened["history"][-1]["note"].startswith("评价不满意，退回热线重新处理")
    assert api.call("GET", f"/tickets/{ticket['id']}", role="department").status_code == 404


def test_other_illegal_transitions_are_409(api: Api) -> None:
    ticket = api.file()
    response = api.call("POST", f"/tickets/{ticket['id']}/start", json={})
    assert response.status_code == 409 and _error(response)["code"] == "start_not_allowed"
    assert "已受理" in _error(response)["message"]
    api.act(ticket["id"], "cancel", reason="重复")
    response = api.call("POST", f"/tickets/{ticket['id']}/assign", json={"department": "生态环境局"})
    assert response.status_code == 409 and _error(response)["code"] == "assign_not_allowed"


@pytest.mark.parametrize("action,body", [
    ("urge", {}), ("supplements", {"text": "补充"}), ("cancel", {"reason": "r"}), ("rating", {"score": 5}),
    ("assign", {"department": "生态环境局"}), ("start", {}), ("resolve", {"result": "r"}),
])
def test_actions_on_unknown_tickets_are_404(api: Api, action: str, body: dict) -> None:
    response = api.call("POST", f"/tickets/9901019999/{action}", json=body)
    assert response.status_code == 404 and _error(response)["code"] == "ticket_not_found"


def test_idempotency_key_on_an_action_applies_it_once(api: Api) -> None:
    ticket = api.file()
    key = str(uuid.uuid4())
    first = api.call("POST", f"/tickets/{ticket['id']}/urge", role="bot", json={}, headers={"Idempotency-Key": key})
    again = api.call("POST", f"/tickets/{ticket['id']}/urge", role="bot", json={}, headers={"Idempotency-Key": key})
    assert first.status_code == 200 and again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.get(ticket["id"])["urge_count"] == 1


@pytest.mark.parametrize("final, action, body", [("closed", "urge", {}), ("cancelled", "urge", {}),
                                                 ("closed", "supplements", {"text": "再补充一点"}),
                                                 ("cancelled", "supplements", {"text": "再补充一点"})])
def test_a_finished_ticket_refuses_with_what_the_caller_can_do_instead(api: Api, final: str, action: str,
                                                                        body: dict) -> None:
    ticket = api.file()
    if final == "cancelled":
        api.act(ticket["id"], "cancel", reason="重复来电")
    else:
        api.act(ticket["id"], "resolve", result="已处理")
        api.act(ticket["id"], "rating", score=4)
    response = api.call("POST", f"/tickets/{ticket['id']}/{action}", role="bot", json=body)
    assert response.status_code == 409 and "重新反映" in _error(response)["message"]
