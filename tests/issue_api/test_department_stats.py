"""GET /stats/departments and the department loop's figures in GET /stats, on a database of known
content with a fixed clock."""
from __future__ import annotations

from typing import Any, Dict

from tests.issue_api.conftest import Api

WATER, NOISE, FIRE = "市政公用服务中心", "生态环境局", "应急管理局"
MONDAY = "2026-01-05T09:00:00+08:00"  # consult: due Monday 12 January; praise: due Thursday 8 January


def _file(api: Api, department: str, **overrides: Any) -> str:
    ticket = api.file(**overrides)
    api.act(ticket["id"], "assign", department=department)
    return ticket["id"]


def _by_department(api: Api) -> Dict[str, Dict[str, Any]]:
    response = api.call("GET", "/stats/departments", role="admin")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["department"] for item in items] == sorted(item["department"] for item in items)
    return {item["department"]: item for item in items}


def test_empty_database(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api()
    assert api.call("GET", "/stats/departments").json() == {"items": []}
    stats = api.call("GET", "/stats").json()
    assert {key: stats[key] for key in ("extensions_requested", "extensions_approved", "returns_requested",
                                        "returns_approved", "reworked", "callbacks_pending", "callbacks_failed")} == {
        "extensions_requested": 0, "extensions_approved": 0, "returns_requested": 0, "returns_approved": 0,
        "reworked": 0, "callbacks_pending": 0, "callbacks_failed": 0}


def test_department_figures(fresh_api, new_database, backend) -> None:  # type: ignore[no-untyped-def]
    db_url = new_database(backend)
    api = fresh_api(db_url, ISSUE_API_NOW=MONDAY)
    # 市政公用服务中心: w[0] closed 5, w[1] reworked (rated 1) then closed 3, w[2] resolved unrated,
    # w[3] open (consult, due 12 Jan), w[4] open praise (due 8 Jan), w[5] extended to 20 Jan.
    w = [_file(api, WATER, kind="consult") for _ in range(4)] + [_file(api, WATER, kind="praise")]
    w.append(_file(api, WATER, kind="consult"))
    for ticket_id in w[:3]:
        api.act(ticket_id, "resolve", role="department", result="已处理")
    api.act(w[0], "rating", score=5)
    api.act(w[1], "rating", score=1)
    api.act(w[1], "resolve", role="department", result="重新处理")
    api.act(w[1], "rating", score=3)
    api.act(w[5], "extension-requests", role="department", reason="需协调", new_deadline="2026-01-20")
    api.act(w[5], "review", decision="approve")
    api.act(w[3], "extension-requests", role="department", reason="需协调", new_deadline="2026-01-30")
    api.act(w[3], "review", decision="reject", reason="请按期办结")
    # 生态环境局: n[0] resolved, rated 2 -> back in progress (open, due 12 Jan); n[1] returned by 市政公用服务中心.
    n0 = _file(api, NOISE, category="环境噪音", kind="consult")
    api.act(n0, "resolve", result="已处理")
    api.act(n0, "rating", score=2)
    moved = _file(api, WATER, category="环境噪音", kind="consult")
    api.act(moved, "return-requests", role="department", reason="噪音不归本部门")
    api.act(moved, "review", decision="approve", department=NOISE)
    # 应急管理局: a ticket cancelled.
    fire = _file(api, FIRE, category="安全消防")
    api.act(fire, "cancel", reason="重复来电")
    api.server.stop()

    later = fresh_api(db_url, ISSUE_API_NOW="2026-01-15T10:00:00+08:00")
    rows = _by_department(later)
    assert list(rows) == sorted([WATER, NOISE, FIRE])
    water = rows[WATER]
    assert {k: water[k] for k in ("total", "open", "resolved", "overdue", "overdue_tickets", "rework_count",
                                  "extensions", "returns")} == {
        "total": 6, "open": 3, "resolved": 3, "overdue": 2, "overdue_tickets": [w[4], w[3]],  # deadlines 8, 12 Jan
        "rework_count": 1, "extensions": 2, "returns": 1}
    assert water["on_time_rate"] == 1.0
    assert water["avg_rating"] == 4.0  # latest scores 5 and 3
    assert water["satisfaction_rate"] == 1.0
    noise = rows[NOISE]
    assert (noise["total"], noise["open"], noise["resolved"], noise["overdue_tickets"]) == (2, 2, 0, [n0, moved])
    assert (noise["avg_rating"], noise["satisfaction_rate"], noise["rework_count"]) == (2.0, 0.0, 1)
    assert (noise["on_time_rate"], noise["extensions"], noise["returns"]) == (0.0, 0, 0)
    fire_row = rows[FIRE]
    assert (fire_row["total"], fire_row["open"], fire_row["resolved"], fire_row["overdue"]) == (1, 0, 0, 0)
    assert fire_row["avg_rating"] is None and fire_row["satisfaction_rate"] is None

    stats = later.call("GET", "/stats").json()
    assert (stats["extensions_requested"], stats["extensions_approved"]) == (2, 1)
    assert (stats["returns_requested"], stats["returns_approved"]) == (1, 1)
    assert stats["reworked"] == 2  # w[1] and n0
    assert stats["callbacks_pending"] == 1  # w[2]: resolved, not rated
    assert stats["callbacks_failed"] == 0
    assert stats["overdue"] == 4


def test_a_department_that_returned_all_its_tickets_still_shows_its_returns(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api()
    ticket = _file(api, WATER, category="环境噪音")
    api.act(ticket, "return-requests", role="department", reason="不归本部门")
    api.act(ticket, "review", decision="approve", department=NOISE)
    rows = _by_department(api)
    assert (rows[WATER]["total"], rows[WATER]["returns"]) == (0, 1)
    assert (rows[NOISE]["total"], rows[NOISE]["returns"]) == (1, 0)


def test_a_ticket_only_proposed_to_a_department_is_not_counted_against_it(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_NOW=MONDAY)
    dispatched = _file(api, WATER, kind="consult")
    proposed = api.file(kind="consult")["id"]  # its category's usual department, but never dispatched
    api.server.stop()
    api = fresh_api(api.db_url, ISSUE_API_NOW="2026-01-20T09:00:00+08:00")  # both past their deadline
    water = _by_department(api)[WATER]
    assert (water["total"], water["open"], water["overdue_tickets"]) == (1, 1, [dispatched])
    late = [t["id"] for t in api.call("GET", "/tickets", params={"overdue": "true"}).json()["items"]]
    assert proposed in late  # still on the operators' overdue list: theirs to dispatch
