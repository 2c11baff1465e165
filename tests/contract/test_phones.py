"""Phone numbers: which are accepted, their normal form, masking, and scrubbing of free text."""
from __future__ import annotations

import logging

import pytest

from contract.log_masking import MaskingFilter
from contract.phones import find_extension, find_phone, mask_phone, mask_phones_in_text, normalize_phone


@pytest.mark.parametrize("raw,normal", [
    ("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"), ("8613812345678", "13812345678"),
    ("0086 19912345678", "19912345678"), ("029-88881234", "029-88881234"), ("(029) 8888 1234", "029-88881234"),
    ("010 12345678", "010-12345678"), ("0917-1234567", "0917-1234567"),
    ("12345", None), ("1281234567", None), ("12812345678", None), ("029-123", None), ("abc", None),
    ("00000000000", None), ("", None),
])
def test_normalize(raw: str, normal: str) -> None:
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize("phone,masked", [
    ("13812345678", "138****5678"), ("029-88881234", "029-****1234"), ("0917-1234567", "0917-***4567"),
])
def test_mask(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_phones_in_text_are_masked_but_ticket_ids_are_not() -> None:
    text = 'GET /api/v1/tickets?phone=13812345678 ticket 2611270001 tel 029-88881234 call +86 139 1234 5678'
    assert mask_phones_in_text(text) == (
        'GET /api/v1/tickets?phone=138****5678 ticket 2611270001 tel 029-****1234 call 139****5678')


def test_log_filter_masks_arguments_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "caller %s said %s", ("13812345678", "hi"), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "caller 138****5678 said hi"
    try:
        raise ValueError("bad number 13912345678")
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    MaskingFilter().filter(record)
    assert "13912345678" not in record.exc_text and "139****5678" in record.exc_text


def test_phones_typed_in_full_width_digits_or_said_in_chinese_numerals_are_masked_too() -> None:
    said = "电话１３９００００１１１１，也可以打一三九零零零零一一一一，座机零二九 八八八八 一二三四"
    assert mask_phones_in_text(said) == "电话139****1111，也可以打139****1111，座机029-****1234"
    for kept in ["工单二六一二零二零零零一", "三号楼二十层", "一二三四五六七八九", "１２３４５６７"]:
        assert mask_phones_in_text(kept) == kept


def test_formal_numerals_and_digits_mixed_with_numerals_are_masked_and_a_bracket_before_stays() -> None:
    assert mask_phones_in_text("壹叁玖壹壹壹壹贰贰贰贰") == "139****2222"
    assert mask_phones_in_text("电话139一一一一2222") == "电话139****2222"
    assert mask_phones_in_text("邻居张三（13911112222，住三号路）") == "邻居张三（139****2222，住三号路）"
    assert mask_phones_in_text("电话（138）1234 5678") == "电话138****5678"


@pytest.mark.parametrize("said", ["139 一一一一 2222", "139-一一一一-2222", "1391111二二二二", "139 1111 二二二二",
                                  "13911一一2222"])
def test_a_mobile_in_digits_and_numerals_however_grouped_is_masked(said) -> None:
    assert mask_phones_in_text(said) == "139****2222"  # (understood too, where "一一" reads as digits)
    assert find_phone(said) in ("13911112222", None)


def test_a_ticket_number_in_numerals_is_no_phone_inside_it() -> None:
    assert mask_phones_in_text("二六一二零二零零零一 三六一五一零") == "二六一二零二零零零一 三六一五一零"
    assert mask_phones_in_text("(0574)八七六五一二三四") == "0574-****1234"


@pytest.mark.parametrize("said", ["订单号05712345678901", "快递单号 0755123456789012", "账号 0571 2345 6789 0123",
                                  "合同编号 0574-8765-43219", "零五七四八七六五一二三四五六七八", "时间2026-12-02 10:30"])
def test_a_longer_number_or_a_time_holds_no_phone(said) -> None:
    assert find_phone(said) is None


def test_for_what_staff_write_only_mobiles_are_masked() -> None:
    said = "如有疑问请致电0574-87651234（王科长），或直接联系13911112222"
    assert mask_phones_in_text(said, landlines=False) == "如有疑问请致电0574-87651234（王科长），或直接联系139****2222"
    assert mask_phones_in_text("座机 029 8888 1234", landlines=False) == "座机 029 8888 1234"
    # …but the reporter's own landline is theirs: "已联系来电人（0574-87651234）".
    assert mask_phones_in_text("已联系来电人（0574-87651234）", landlines=False, always=["0574 8765 1234"]) == \
        "已联系来电人（0574-****1234）"
    assert mask_phones_in_text("来电人座机 0574 8765 1234", landlines=False, always=["0574-87651234"]) == \
        "来电人座机 0574-****1234"


def test_a_spoken_phone_run_together_with_the_next_words_is_masked_and_the_words_kept() -> None:
    """A recognizer writes what follows a number straight after it, numerals included."""
    assert mask_phones_in_text("我的电话是一三九零零零零一一一一一直没人联系我") == "我的电话是139****1111一直没人联系我"
    assert mask_phones_in_text("电话一三九零零零零一一一一两天了没人回") == "电话139****1111两天了没人回"
    assert mask_phones_in_text("１３９００００１１１１一直打不通") == "139****1111一直打不通"
    assert mask_phones_in_text("幺三九零零零零一一一一 二六一二零一零零零六") == "139****1111 二六一二零一零零零六"


@pytest.mark.parametrize("said, phone, extension", [
    ("0574-87654321转8008", "0574-87654321", "8008"),
    ("029-88881234-8008", "029-88881234", "8008"),  # the extension run into the number does not lose it
    ("电话029 8888 1234 分机 808", "029-88881234", "808"),
    ("零二九 八八八八 一二三四 转 八零零八", "029-88881234", "8008"),
    ("座机（029）88881234，转分机6601", "029-88881234", "6601"),
    ("029-88881234 ext 8008", "029-88881234", "8008"),
    ("13812345678转8008", "13812345678", None),  # a mobile has none
    ("电话029-88881234，门牌8008号", "029-88881234", None),
    ("我的手机13905781234，公司总机0574-87654321转8008", "13905781234", None),  # another number's
    ("联系电话029-88881234-3号楼2单元门口路灯不亮", "029-88881234", None),
    ("029-88881234转2楼前台", "029-88881234", None),
    ("0574-87654321转 2024年5月1日以来一直停电", "0574-87654321", None),
])
def test_an_extension_after_a_landline_is_found_beside_the_number(said, phone, extension):
    assert (find_phone(said), find_extension(said, find_phone(said))) == (phone, extension)
