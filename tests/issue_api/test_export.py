"""GET /tickets/export: the tickets filed in a range of Beijing dates, as CSV for Excel or as XLSX,
opened back here the way a supervisor's spreadsheet would read them."""
from __future__ import annotations

import csv
import datetime as dt
import io
import time
from typing import Any, Dict, List

import openpyxl
import pytest

from issue_api.clock import SHANGHAI, to_utc_naive
from issue_api.db import Database
from issue_api.models import tickets
from tests.issue_api.conftest import Api

HEADERS = ["工单编号", "受理时间", "诉求类型", "问题类别", "企业名称", "联系人", "联系电话", "问题描述", "地点", "来源渠道",
           "承办部门", "工单状态", "办理期限", "是否超期", "办结时间", "按期办结", "办理结果", "催办次数", "重办次数",
           "评价分数", "评价", "评价意见", "撤销原因"]


def _row(ticket_id: str, local: str, **overrides: Any) -> Dict[str, Any]:
    """A tickets row filed at `local` (Beijing time), as the service would have stored it."""
    filed = dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)
    stamp = to_utc_naive(filed)
    row = {
        "id": ticket_id, "status": "received", "kind": "help", "category": "供水供电供气", "company": "西安某某科技有限公司",
        "contact_name": "王先生", "phone": "13812345678", "description": "三号楼停电", "location": None,
        "channel": "voice", "conversation_id": None, "department": "市政公用服务中心", "created_at": stamp,
        "created_day": filed.date().isoformat(), "updated_at": stamp, "deadline": stamp + dt.timedelta(days=7),
        "resolved_at": None, "result": None, "cancel_reason": None, "urge_count": 0, "rework_count": 0,
        "rating_score": None, "rating_comment": None, "rated_at": None, "query_code_hash": None,
    }
    row.update(overrides)
    return row


def _insert(api: Api, rows: List[Dict[str, Any]]) -> None:
    db = Database(api.db_url)
    try:
        with db.engine.begin() as conn:
            conn.execute(tickets.insert(), rows)
    finally:
        db.dispose()


def _export(api: Api, first: str, last: str, fmt: str = "csv", role: str = "operator"):  # type: ignore[no-untyped-def]
    return api.call("GET", "/tickets/export", role=role, params={"from": first, "to": last, "format": fmt})


def _csv_rows(response) -> List[List[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode("utf-8"))  # BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def _xlsx_rows(response) -> List[List[Any]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def december(fresh_api) -> Api:  # type: ignore[no-untyped-def]
    """Three tickets on 1 December (Beijing), one either side of it, one through the API on 2 December."""
    api = fresh_api(ISSUE_API_NOW="2026-12-02T09:30:00+08:00")
    _insert(api, [
        _row("2611300001", "2026-11-30T23:59:59"),
        _row("2612010001", "2026-12-01T00:00:00", description="=HYPERLINK(\"http://x\")", company="+86 某公司"),
        _row("2612010002", "2026-12-01T12:00:00", status="closed", resolved_at=to_utc_naive(
            dt.datetime(2026, 12, 1, 15, 0, tzinfo=SHANGHAI)), result="已恢复", rating_score=4, rating_comment="及时",
            phone="029-88881234", kind="complaint", channel="web"),
        _row("2612010003", "2026-12-01T23:59:59", status="received",
             deadline=to_utc_naive(dt.datetime(2026, 12, 1, 23, 59, 59, tzinfo=SHANGHAI))),  # overdue by now
    ])
    api.file(category="环境噪音", description="夜间施工噪音", channel="web", contact_name="刘女士")
    return api


def test_csv_has_the_days_tickets_under_chinese_headers(december: Api) -> None:
    response = _export(december, "2026-12-01", "2026-12-01")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="tickets-2026-12-01-2026-12-01.csv"'
    rows = _csv_rows(response)
    assert rows[0] == HEADERS
    assert [row[0] for row in rows[1:]] == ["2612010001", "2612010002", "2612010003"]  # 23:59:59 of 30 Nov is out
    first, closed, late = (dict(zip(HEADERS, row)) for row in rows[1:])
    # Callers' text that Excel would evaluate is shown as text.
    assert first["问题描述"] == "'=HYPERLINK(\"http://x\")" and first["企业名称"] == "'+86 某公司"
    assert first["受理时间"] == "2026-12-01 00:00:00" and first["工单状态"] == "已受理" and first["诉求类型"] == "求助"
    assert first["联系电话"] == "13812345678" and first["来源渠道"] == "电话"
    assert (closed["工单状态"], closed["办结时间"], closed["按期办结"], closed["评价分数"], closed["评价"]) == (
        "已评价归档", "2026-12-01 15:00:00", "是", "4", "满意")
    assert (closed["联系电话"], closed["诉求类型"], closed["来源渠道"]) == ("029-88881234", "投诉", "网页")
    assert (late["是否超期"], first["是否超期"], late["按期办结"], late["评价分数"]) == ("是", "否", "", "")


def test_a_range_includes_both_ends(december: Api) -> None:
    rows = _csv_rows(_export(december, "2026-11-30", "2026-12-02"))
    assert len(rows) == 1 + 5
    assert rows[-1][HEADERS.index("问题类别")] == "环境噪音" and rows[-1][HEADERS.index("联系人")] == "刘女士"
    assert _csv_rows(_export(december, "2026-12-03", "2026-12-31")) == [HEADERS]


def test_xlsx_opens_with_the_same_rows(december: Api) -> None:
    response = _export(december, "2026-12-01", "2026-12-02", fmt="xlsx")
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"] == 'attachment; filename="tickets-2026-12-01-2026-12-02.xlsx"'
    rows = _xlsx_rows(response)
    assert rows[0] == HEADERS
    assert [row[0] for row in rows[1:4]] == ["2612010001", "2612010002", "2612010003"] and len(rows) == 5
    first, closed = dict(zip(HEADERS, rows[1])), dict(zip(HEADERS, rows[2]))
    assert first["问题描述"] == "=HYPERLINK(\"http://x\")"  # kept as it was written...
    cell = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]["H2"]
    assert cell.data_type == "s"  # ...as text, never as a formula
    assert first["受理时间"] == dt.datetime(2026, 12, 1, 0, 0)  # a real date cell, Beijing time
    assert (closed["联系电话"], closed["评价分数"], closed["评价意见"], closed["地点"]) == ("029-88881234", 4, "及时", None)


@pytest.mark.parametrize("params,field,code", [
    ({"from": "2026-12-01"}, "to", "field_required"),
    ({"from": "2026/12/01", "to": "2026-12-01"}, "from", "date_invalid"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from", "date_invalid"),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "from", "date_invalid"),  # the calendar's ends: not a 500
    ({"from": "9999-12-31", "to": "9999-12-31"}, "from", "date_invalid"),
    ({"from": "2026-12-02", "to": "2026-12-01"}, "to", "date_range_invalid"),
    ({"from": "2026-01-01", "to": "2027-01-02"}, "to", "date_range_too_long"),  # 367 days
    ({"from": "2026-12-01", "to": "2026-12-01", "format": "pdf"}, "format", "format_invalid"),
])
def test_bad_ranges_are_422(api: Api, params: Dict[str, str], field: str, code: str) -> None:
    response = api.call("GET", "/tickets/export", params=params)
    assert response.status_code == 422, response.text
    assert [(f["field"], f["code"]) for f in response.json()["error"]["fields"]] == [(field, code)]
    assert response.json()["error"]["fields"][0]["message"]


def test_a_whole_year_is_allowed(api: Api) -> None:
    assert _export(api, "2028-01-01", "2028-12-31").status_code == 200  # 366 days (a leap year)


def test_thousands_of_tickets(fresh_api) -> None:  # type: ignore[no-untyped-def]
    """Several pages of rows, many filed in the same second (the paging must neither skip nor repeat)."""
    api = fresh_api()
    count = 3000
    rows = [_row(f"2612{(i // 1000) + 1:02d}{i % 1000:04d}", f"2026-12-{(i // 1000) + 1:02d}T10:00:{(i % 7):02d}",
                 description=f"第 {i} 件") for i in range(count)]
    _insert(api, rows)
    started = time.monotonic()
    csv_rows = _csv_rows(_export(api, "2026-12-01", "2026-12-31"))
    xlsx_rows = _xlsx_rows(_export(api, "2026-12-01", "2026-12-31", fmt="xlsx"))
    assert time.monotonic() - started < 60
    for got in (csv_rows, xlsx_rows):
        ids = [row[0] for row in got[1:]]
        assert len(ids) == count and set(ids) == {row["id"] for row in rows}
    # In filing order: by time, then by number within the same second.
    expected = sorted(rows, key=lambda r: (r["created_at"], r["id"]))
    assert [row[0] for row in csv_rows[1:]] == [r["id"] for r in expected]
