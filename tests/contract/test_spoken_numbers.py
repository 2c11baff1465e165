"""Numbers as callers say and type them (the voice normalization tests cover the spoken-digit rules)."""
from __future__ import annotations

from contract.phones import find_phone, same_phone
from contract.spoken_numbers import find_code, find_ticket_id, group_digits, read_phone


def test_ticket_numbers_are_found_however_they_are_said() -> None:
    assert find_ticket_id("编号是 2611 2500 17") == "2611250017"
    assert find_ticket_id("工单 二六一一 二五零零 幺七") == "2611250017"
    assert find_ticket_id("工单２６１１２５００１７") == "2611250017"
    assert find_ticket_id("我的电话13891234567") is None
    assert find_ticket_id("13891234567", allow_phone_like=True) == "13891234567"


def test_codes_phones_and_reading_out() -> None:
    assert find_code("查询码是 四七二 九一五") == "472915"
    assert find_phone("电话 零二九 八八八八 一二三四") == "029-88881234"
    assert same_phone("+86 29 8888 1234", "029-88881234") and not same_phone("029-88881234", None)
    assert read_phone("029-88881234") == "029 8888 1234" and read_phone("13812345678") == "138 1234 5678"
    assert group_digits("2611270001") == "2611 2700 01"
