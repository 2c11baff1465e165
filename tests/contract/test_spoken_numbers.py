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


def test_a_typed_number_does_not_run_into_the_words_after_it() -> None:
    # A score, a building or a floor said right after a typed number is not more of its digits.
    assert find_ticket_id("评价 2612020004 五分") == "2612020004"
    assert find_ticket_id("补充 2612020006 三号楼的材料还没交") == "2612020006"
    # Spoken, a score runs into the ticket number before it: Vosk writes no pause between them.
    assert find_ticket_id("我要评价 二六一二 零二零零 零一五分") == "2612020001"
    assert find_ticket_id("二六一二零二零零零一三颗星") == "2612020001"
    assert find_ticket_id("电话13812345678 三号楼前面的路灯全不亮了") is None  # a phone, no ticket
    # 分 or 星 starting another word is no score: the number keeps its last digit.
    assert find_ticket_id("工单号 二零二六一二零一零零零三 星期三报的") == "202612010003"
    assert find_ticket_id("工单二六一二零二零零零五分数一分") == "2612020005"
    # A score followed by more words is still set apart ("五分 部门处理得很快").
    assert find_ticket_id("工单二六一二零二零零零二五分部门处理得很快") == "2612020002"


def test_landlines_are_not_taken_for_ticket_numbers() -> None:
    assert find_ticket_id("我们公司的电话是029-88886666，楼道里消防栓没水") is None
    assert find_ticket_id("电话 029 8888 6666") is None
    assert find_ticket_id("02988886666", allow_phone_like=True) == "02988886666"


def test_a_ticket_number_and_its_code_typed_side_by_side() -> None:
    for typed in ("2612020001 925165", "2612020001，925165", "工单2612020001 查询码925165"):
        assert (find_ticket_id(typed), find_code(typed)) == ("2612020001", "925165"), typed
    # Groups of one number stay one number: no code is read out of a ticket number or a phone.
    assert (find_ticket_id("工单 2611 2700 01"), find_code("工单 2611 2700 01")) == ("2611270001", None)
    assert find_code("幺三八，一二三四，五六七八") is None


def test_a_ticket_number_as_the_bot_shows_it_then_the_code() -> None:
    for typed in ("2612 0200 01 970436", "2612020001 9704 36"):
        assert (find_ticket_id(typed), find_code(typed)) == ("2612020001", "970436"), typed
    # The ticket asked about, said again with its code: no piece of its number is taken for the code.
    assert find_code("2612 0200 01", ticket_id="2612020001") is None
    assert find_ticket_id("2612020001 5分") == "2612020001"  # the score after it is no more of its digits


def test_a_landline_with_its_area_code_in_brackets_is_no_ticket_number() -> None:
    assert find_ticket_id("电话是(029)88886666") is None and find_ticket_id("（029）8888 6666") is None
