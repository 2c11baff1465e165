"""Filing a ticket, reading it back, searching by phone and status (contract rows 1-3)."""
from __future__ import annotations

import datetime as dt
import re
import uuid

from tests.issue_api.conftest import DEPARTMENT, Api, random_mobile, ticket_body


def test_filing_returns_201_with_the_whole_ticket(api: Api) -> None:
    body = ticket_body(kind="complaint", location="高新区锦业路 1 号", channel="voice", conversation_id="conv-1")
    response = api.call("POST", "/tickets", role="bot", json=body)

    assert response.status_code == 201
    ticket = response.json()
    assert re.fullmatch(r"\d{8,12}", ticket["id"])
    assert ticket["status"] == "received" and ticket["status_label"] == "已受理"
    assert ticket["kind"] == "complaint" and ticket["kind_label"] == "投诉"
    assert ticket["category"] == "供水供电供气"
    assert ticket["department"] == "市政公用服务中心"
    assert (ticket["company"], ticket["contact_name"]) == (body["company"], body["contact_name"])
    assert ticket["description"] == body["description"]
    assert (ticket["location"], ticket["channel"]) == ("高新区锦业路 1 号", "voice")
    assert ticket["conversation_id"] is None  # the conversation is for operators and admins only
    assert re.fullmatch(r"\d{6}", ticket["query_code"])  # said once to the caller, stored hashed
    assert api.get(ticket["id"])["conversation_id"] == "conv-1"
    assert api.get(ticket["id"])["query_code"] is None
    assert ticket["overdue"] is False and ticket["urge_count"] == 0
    assert ticket["supplements"] == [] and ticket["rating"] is None
    assert [event["action"] for event in ticket["history"]] == ["filed"]
    assert ticket["history"][0]["role"] == "bot"
    created = dt.datetime.fromisoformat(ticket["created_at"])
    deadline = dt.datetime.fromisoformat(ticket["deadline"])
    assert created.utcoffset() == dt.timedelta(hours=8)
    assert 15 <= (deadline - created).days <= 35  # 15 working days for a complaint


def test_ids_are_beijing_date_plus_daily_sequence(api: Api) -> None:
    first, second = api.file(), api.file()
    today = dt.datetime.fromisoformat(first["created_at"]).strftime("%y%m%d")
    assert first["id"].startswith(today) and len(first["id"]) == 10
    assert int(second["id"]) > int(first["id"])


def test_optional_fields_get_documented_defaults(api: Api) -> None:
    ticket = api.file()
    assert ticket["kind"] == "help" and ticket["channel"] == "api"
    assert ticket["location"] is None and ticket["conversation_id"] is None


def test_each_category_is_routed_to_a_department(api: Api) -> None:
    noise = api.file(category="环境噪音")
    other = api.file(category="其他")
    assert noise["department"] == "生态环境局"
    assert other["department"] == "企业服务中心"


def test_operator_may_file_too(api: Api) -> None:
    ticket = api.file(role="operator", channel="operator")
    assert ticket["history"][0]["role"] == "operator"


def test_same_idempotency_key_returns_the_first_ticket(api: Api) -> None:
    body = ticket_body()
    key = f"conv-{uuid.uuid4()}"
    first = api.call("POST", "/tickets", role="bot", json=body, headers={"Idempotency-Key": key})
    again = api.call("POST", "/tickets", role="bot", json=body, headers={"Idempotency-Key": key})

    assert first.status_code == 201
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    listed = api.call("GET", "/tickets", params={"phone": body["phone"]}).json()["items"]
    assert [item["id"] for item in listed] == [first.json()["id"]]


def test_same_idempotency_key_with_another_body_is_refused(api: Api) -> None:
    key = f"conv-{uuid.uuid4()}"
    assert api.call("POST", "/tickets", role="bot", json=ticket_body(), headers={"Idempotency-Key": key}).status_code == 201
    other = api.call("POST", "/tickets", role="bot", json=ticket_body(), headers={"Idempotency-Key": key})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_another_account_repeating_a_key_gets_no_ticket_and_makes_none(api: Api) -> None:
    key = f"op-{uuid.uuid4()}"
    body = ticket_body(description="楼道的应急灯不亮了")
    assert api.call("POST", "/tickets", role="operator", json=body, headers={"Idempotency-Key": key}).status_code == 201
    repeated = api.call("POST", "/tickets", role="bot", json=body, headers={"Idempotency-Key": key})
    assert repeated.status_code == 409 and repeated.json()["error"]["code"] == "idempotency_key_reused"
    assert "楼道" not in repeated.text
    same = api.call("POST", "/tickets", role="operator", json=body, headers={"Idempotency-Key": key})
    assert same.status_code == 200 and same.json()["description"] == body["description"]  # its own repeat


def test_a_key_stored_before_accounts_counted_still_answers_its_retry() -> None:
    import hashlib
    import json

    from issue_api.accounts import Account
    from issue_api.tickets import fingerprint

    payload = {"text": "补充一下"}
    stored_then = hashlib.sha256(json.dumps(["supplement", "2612020001", payload], sort_keys=True,
                                            ensure_ascii=False).encode()).hexdigest()
    now = fingerprint("supplement", "2612020001", payload, Account("bot"))
    assert stored_then in now and now.current != stored_then
    assert fingerprint("supplement", "2612020001", payload, Account("operator")).current != now.current


def test_get_returns_the_ticket_and_404_for_unknown_ids(api: Api) -> None:
    ticket = api.file()
    for role in ("bot", "operator", "admin"):
        assert api.get(ticket["id"], role=role)["id"] == ticket["id"]
    # A department's ticket is one dispatched to it: before that it does not exist for the department.
    assert api.call("GET", f"/tickets/{ticket['id']}", role="department").status_code == 404
    api.act(ticket["id"], "assign", department=DEPARTMENT)
    assert api.get(ticket["id"], role="department")["id"] == ticket["id"]
    for unknown in ("9901010001", "123", "abc", "1" * 20, "١٢٣٤٥٦٧٨", "２６１１２７０００１"):
        response = api.call("GET", f"/tickets/{unknown}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "ticket_not_found"
        assert "工单" in response.json()["error"]["message"]


def test_bot_sees_masked_phone_operator_sees_full(api: Api) -> None:
    ticket = api.file(phone="13812345678")
    assert ticket["phone"] == "138****5678"  # the filing answer goes to the bot as well
    assert api.get(ticket["id"], role="bot")["phone"] == "138****5678"
    api.act(ticket["id"], "assign", department=DEPARTMENT)
    assert api.get(ticket["id"], role="department")["phone"] == "13812345678"
    assert api.get(ticket["id"], role="operator")["phone"] == "13812345678"
    assert api.get(ticket["id"], role="admin")["phone"] == "13812345678"


def test_a_phone_said_in_the_report_is_masked_for_the_bot_wherever_it_is_written(api: Api) -> None:
    ticket = api.file(phone="13812345678", description="我是孙丽，电话13812345678，园区东门的路灯全不亮了",
                      location="锦业路1号 找门卫 座机029-88881234")
    api.act(ticket["id"], "supplements", text="另一个联系电话 139 1234 5678")
    assert ticket["description"] == "我是孙丽，电话138****5678，园区东门的路灯全不亮了"
    seen = api.get(ticket["id"], role="bot")
    assert seen["location"] == "锦业路1号 找门卫 座机029-****1234"
    assert "13912345678" not in str(seen) and "139 1234 5678" not in str(seen) and "13812345678" not in str(seen)
    assert seen["id"] == ticket["id"]  # ticket numbers are no phones
    kept = api.get(ticket["id"], role="operator")
    assert "13812345678" in kept["description"] and "139 1234 5678" in kept["supplements"][0]["text"]
    # What the department writes for the caller is read out as written: its own number is to be dialled.
    api.act(ticket["id"], "assign", department=DEPARTMENT)
    api.act(ticket["id"], "resolve", role="department",
            result="经查系邻居（13911112222）反映，已处理完毕，如有疑问请致电0574-87651234（王科长）")
    assert api.get(ticket["id"], role="bot")["result"] == "经查系邻居（139****2222）反映，已处理完毕，如有疑问请致电0574-87651234（王科长）"


def test_landlines_are_normalised_and_masked(api: Api) -> None:
    ticket = api.file(role="operator", phone="029 8888 1234")
    assert ticket["phone"] == "029-88881234"
    assert api.get(ticket["id"], role="bot")["phone"] == "029-****1234"


def test_list_by_phone_newest_first_in_any_spelling(api: Api) -> None:
    phone = random_mobile()
    ids = [api.file(phone=phone)["id"] for _ in range(3)]
    api.file()  # someone else's
    spelled = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    response = api.call("GET", "/tickets", role="bot", params={"phone": spelled})

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == list(reversed(ids))
    assert all(item["phone"] == f"{phone[:3]}****{phone[-4:]}" for item in items)


def test_list_filters_by_status_and_is_bounded(api: Api) -> None:
    phone = random_mobile()
    kept, cancelled = api.file(phone=phone), api.file(phone=phone)
    api.act(cancelled["id"], "cancel", role="bot", reason="问题已自行解决")

    received = api.call("GET", "/tickets", params={"phone": phone, "status": "received"}).json()["items"]
    gone = api.call("GET", "/tickets", params={"phone": phone, "status": "cancelled"}).json()["items"]
    limited = api.call("GET", "/tickets", params={"phone": phone, "limit": 1}).json()["items"]
    assert [item["id"] for item in received] == [kept["id"]]
    assert [item["id"] for item in gone] == [cancelled["id"]]
    assert [item["id"] for item in limited] == [cancelled["id"]]
    assert api.call("GET", "/tickets", params={"limit": 1000}).status_code == 422


def test_bot_may_only_list_one_callers_tickets(api: Api) -> None:
    response = api.call("GET", "/tickets", role="bot", params={"status": "received"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"field": "phone", "code": "field_required", "message": "请提供来电号码"}]
    assert api.call("GET", "/tickets", role="admin", params={"status": "received"}).status_code == 200


def test_list_for_an_unknown_phone_is_empty(api: Api) -> None:
    assert api.call("GET", "/tickets", role="bot", params={"phone": random_mobile()}).json() == {"items": []}


def test_health_and_openapi_need_no_token(api: Api) -> None:
    assert api.call("GET", "/health", role=None).status_code == 200
    document = api.http.get(f"{api.url}/openapi.json", timeout=10)
    assert document.status_code == 200
    paths = document.json()["paths"]
    for path in ("/api/v1/tickets", "/api/v1/tickets/{ticket_id}", "/api/v1/tickets/{ticket_id}/urge",
                 "/api/v1/tickets/{ticket_id}/supplements", "/api/v1/tickets/{ticket_id}/cancel",
                 "/api/v1/tickets/{ticket_id}/rating", "/api/v1/tickets/{ticket_id}/assign",
                 "/api/v1/tickets/{ticket_id}/resolve", "/api/v1/stats", "/api/v1/health"):
        assert path in paths
