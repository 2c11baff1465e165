"""Spoken-text normalization: what Vosk hears -> what the NLU reads."""
from __future__ import annotations

import pytest

from bot.voice.normalize import normalize_transcript, remove_inter_word_spaces, spoken_digits_to_arabic


@pytest.mark.parametrize("heard, expected", [
    ("我 的 工单 号 是 多少", "我的工单号是多少"),
    ("你好 我 想 反映 一个 问题", "你好我想反映一个问题"),
    ("  我   要  催办  ", "我要催办"),
    ("用 wifi 上网", "用wifi上网"),
    ("hello world", "hello world"),
    ("", ""),
])
def test_spaces_between_chinese_words_are_removed(heard: str, expected: str) -> None:
    assert normalize_transcript(heard) == expected


@pytest.mark.parametrize("heard, expected", [
    # ticket ids read digit by digit
    ("我 的 工单 号 是 二 零 二 六 一 一 二 七 零 零 一", "我的工单号是20261127001"),
    ("查 一下 工单 二零二六一一二七零零一 的 进度", "查一下工单20261127001的进度"),
    ("单号 一 二 三 四 五 六 七 八", "单号12345678"),
    # phone numbers: 幺 for 1, grouped with pauses
    ("电话 幺 三 八 一 二 三 四 五 六 七 八", "电话13812345678"),
    ("我 的 手机 是 幺三八 幺二三四 五六七八", "我的手机是13812345678"),
    ("幺三八，一二三四，五六七八", "13812345678"),
    ("一三八 一二三四 五六七八", "13812345678"),
    ("号码 是 幺 八 六 两 九 零 〇 五 五 六 六", "号码是18629005566"),
    ("两 零 二 五", "2025"),
    ("幺幺零", "110"),
    ("拨 幺二三四五", "拨12345"),
    # context words make short runs digits
    ("分机 二 三", "分机23"),
    ("尾号 五 六 七 八", "尾号5678"),
    ("手机 尾号 是 八 八", "手机尾号是88"),
    # a year read digit by digit
    ("二零二六年 五月", "2026年五月"),
    # digits Vosk or a keypad already gave as digits, full width too
    ("工单 2026 1127 001", "工单20261127001"),
    ("电话１３８１２３４５６７８", "电话13812345678"),
])
def test_spoken_digits_become_digits(heard: str, expected: str) -> None:
    assert normalize_transcript(heard) == expected


@pytest.mark.parametrize("words", [
    "我 想 了解 一下", "我们 一起 去 办理", "十分 满意", "两个 人", "三四天 了", "来 了 三四 个 人",
    "三三两两 的", "七七八八", "一一 解答", "星期一二三 都 可以", "第一 次", "一百二十 万", "统一 社会 信用",
    "一五一十 地 说", "两三家 公司", "万一 停电 了", "三五个 工作日", "八九 不离十", "一会儿",
])
def test_ordinary_words_with_number_characters_stay_words(words: str) -> None:
    assert normalize_transcript(words) == words.replace(" ", "")


def test_unknown_word_markers_are_dropped() -> None:
    assert normalize_transcript("[unk] 你好 <unk> 热线") == "你好热线"


def test_steps_are_usable_alone() -> None:
    assert remove_inter_word_spaces("工单 号") == "工单号"
    assert spoken_digits_to_arabic("工单号二零二六一一") == "工单号202611"


def test_normalization_is_idempotent() -> None:
    once = normalize_transcript("我 的 电话 是 幺 三 八 一 二 三 四 五 六 七 八 谢谢")
    assert once == "我的电话是13812345678谢谢"
    assert normalize_transcript(once) == once


@pytest.mark.parametrize("heard, expected", [
    ("我 的 电话 是 幺三八-一二三四-五六七八", "我的电话是13812345678"),
    ("工单 二零二六 幺幺二七 零零幺 麻烦 催 一下", "工单20261127001麻烦催一下"),
    ("他们 三三两两 地 来 电话 一三八一二三四五六七八", "他们三三两两地来电话13812345678"),
    ("我 公司 在 科技 二 路 六十八 号", "我公司在科技二路六十八号"),
    ("给 我 五 分", "给我五分"),
    ("非常 满意 五星", "非常满意五星"),
])
def test_sentences_mixing_numbers_and_words(heard: str, expected: str) -> None:
    assert normalize_transcript(heard) == expected


from hypothesis import given, strategies as st  # noqa: E402

_WORD_CHARS = st.sampled_from(list("我你他的工单号电话问题公司请帮查催办谢十百千万个天下起分") + [" "])


@given(st.text(_WORD_CHARS, max_size=30))
def test_text_without_digit_characters_only_loses_spaces(text: str) -> None:
    assert normalize_transcript(text) == text.replace(" ", "")


@given(st.text(st.sampled_from(list("零一二三四五六七八九幺两我的号 ")), max_size=30))
def test_normalizing_twice_changes_nothing(text: str) -> None:
    once = normalize_transcript(text)
    assert normalize_transcript(once) == once
