"""How the console reads the issue API's refusals: Chinese sentences, never the API's field names."""
from __future__ import annotations

from bot.gateway.tickets_api import _detail
from contract.issue_client import IssueApiError


def test_a_field_without_a_chinese_label_is_not_named() -> None:
    exc = IssueApiError(422, "validation_failed", "提交的信息有误",
                        [{"field": "to", "code": "date_range_too_long", "message": "一次最多导出 366 天的工单"}])
    assert _detail(exc) == "提交的信息有误（一次最多导出 366 天的工单）"


def test_a_ticket_field_is_named_by_its_chinese_label() -> None:
    exc = IssueApiError(422, "validation_failed", "提交的信息有误",
                        [{"field": "phone", "code": "phone_invalid", "message": "号码格式不正确"},
                         {"field": "category", "code": "category_invalid", "message": ""}])
    assert _detail(exc) == "提交的信息有误（联系电话：号码格式不正确；问题类别）"
