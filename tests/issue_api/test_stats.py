"""GET /stats on a database of known content: every figure the contract defines, computed by SQL."""
from __future__ import annotations

from tests.issue_api.conftest import DEPARTMENT, Api


def _resolve(api: Api, ticket_id: str) -> None:
    api.act(ticket_id, "assign", department=DEPARTMENT)
    api.act(ticket_id, "resolve", role="department", result="已处理")


def test_empty_database(fresh_api) -> None:  # type: ignore[no-untyped-def]
    stats = fresh_api().call("GET", "/stats").json()
    assert stats["total"] == 0 and stats["resolved"] == 0 and stats["overdue"] == 0
    assert stats["resolution_rate"] == 0.0 and stats["on_time_rate"] == 0.0
    assert stats["avg_rating"] is None
    assert set(stats["by_status"].values()) == {0} and len(stats["by_category"]) == 12


def test_figures_follow_the_contract_definitions(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api()
    noise = [api.file(category="环境噪音")["id"] for _ in range(3)]
    power = [api.file(category="供水供电供气", kind="complaint")["id"] for _ in range(3)]
    other = api.file(category="其他", kind="consult")["id"]
    # noise[0]: resolved and closed with 5; noise[1]: resolved, rated 1 -> back in progress;
    # noise[2]: resolved, not rated; power[0]: cancelled; power[1]: assigned; the rest received.
    _resolve(api, noise[0])
    api.act(noise[0], "rating", score=5)
    _resolve(api, noise[1])
    api.act(noise[1], "rating", score=1)
    _resolve(api, noise[2])
    api.act(power[0], "cancel", reason="重复")
    api.act(power[1], "assign", department="市政公用服务中心")

    stats = api.call("GET", "/stats", role="admin").json()
    assert stats["total"] == 7
    assert stats["by_status"] == {"received": 2, "assigned": 1, "in_progress": 1, "resolved": 1, "closed": 1,
                                  "cancelled": 1}
    assert stats["resolved"] == 2  # resolved + closed
    assert stats["cancelled"] == 1
    assert stats["resolution_rate"] == round(2 / 6, 4)
    assert stats["on_time_rate"] == 1.0  # both resolved well before their deadline
    assert stats["overdue"] == 0
    assert stats["avg_rating"] == 3.0 and stats["rated"] == 2  # latest scores 5 and 1
    assert stats["by_category"]["环境噪音"] == 3 and stats["by_category"]["供水供电供气"] == 3
    assert stats["by_category"]["其他"] == 1 and stats["by_category"]["融资金融"] == 0
    assert stats["by_kind"]["complaint"] == 3 and stats["by_kind"]["consult"] == 1 and stats["by_kind"]["help"] == 3
    assert len(stats["by_week"]) == 8 and stats["by_week"][-1]["count"] == 7
    assert sum(week["count"] for week in stats["by_week"]) == 7
    assert other


def test_overdue_and_on_time_with_a_fixed_clock(fresh_api, new_database, backend) -> None:  # type: ignore[no-untyped-def]
    """File on Monday 5 Jan 2026 with two holidays that week; come back after the deadline."""
    db_url = new_database(backend)
    holidays = {"ISSUE_API_HOLIDAYS": "2026-01-06..2026-01-07"}
    monday = fresh_api(db_url, ISSUE_API_NOW="2026-01-05T09:00:00+08:00", **holidays)
    late = monday.file(kind="consult")
    early = monday.file(kind="consult")
    praise = monday.file(kind="praise")
    # 5 working days after Monday, skipping the Tuesday/Wednesday holidays: Thu 8, Fri 9, Mon 12, Tue 13, Wed 14.
    assert late["deadline"] == "2026-01-14T23:59:59+08:00"
    assert praise["deadline"] == "2026-01-12T23:59:59+08:00"  # 3 working days: Thu, Fri, Mon
    assert late["id"].startswith("260105")
    monday.act(early["id"], "assign", department="行政审批服务局")
    monday.act(early["id"], "resolve", result="已答复")
    monday.server.stop()

    later = fresh_api(db_url, ISSUE_API_NOW="2026-01-15T10:00:00+08:00", **holidays)
    assert later.get(late["id"])["overdue"] is True
    assert later.get(early["id"])["overdue"] is False  # resolved in time
    stats = later.call("GET", "/stats").json()
    assert stats["overdue"] == 2  # late and praise, both still open
    later.act(late["id"], "assign", department="行政审批服务局")
    later.act(late["id"], "resolve", result="已答复")
    assert later.get(late["id"])["overdue"] is False
    stats = later.call("GET", "/stats").json()
    assert stats["resolved"] == 2 and stats["on_time_rate"] == 0.5 and stats["overdue"] == 1
