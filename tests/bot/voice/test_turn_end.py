"""When a caller's turn is over: short answers at once, unfinished-sounding turns after a longer pause."""
from __future__ import annotations

import pytest

from bot.voice.settings import VoiceSettings
from bot.voice.turn_end import TurnEndPolicy, load_unfinished_words, unfinished_words


@pytest.fixture(scope="module")
def policy() -> TurnEndPolicy:
    return TurnEndPolicy(VoiceSettings.from_env({}))


@pytest.mark.parametrize("text", ["对", "是的", "不是", "嗯", "在", "就是", "转人工", "满意", "5", "我要查工单。",
                                  "13812345678", "我的手机号是13812345678", "工单号2611270001",
                                  "０２９８８８８６６６６"])
def test_short_complete_answers_end_after_the_short_pause(policy, text) -> None:
    assert not policy.sounds_unfinished(text, speech_seconds=1.0)
    assert policy.silence_needed(text, 1.0) == policy.short == 0.4


@pytest.mark.parametrize("text", ["我想问一下那个", "路灯坏了，然后", "我们公司在高新区，还有", "我的手机号是",
                                  "工单号是", "138", "1381234", "查询码是1234", "嗯……那个……"])
def test_fillers_conjunctions_and_numbers_read_in_groups_wait_the_long_pause(policy, text) -> None:
    assert policy.sounds_unfinished(text, speech_seconds=1.0)
    assert policy.silence_needed(text, 1.0) == policy.long == 0.9


def test_a_long_turn_waits_the_long_pause_whatever_its_last_words(policy) -> None:
    text = "我们公司门口的路灯已经坏了三天了"
    assert not policy.sounds_unfinished(text, speech_seconds=2.0)
    assert policy.sounds_unfinished(text, speech_seconds=policy.long_turn)


def test_the_word_list_is_a_file_in_the_callers_language(tmp_path) -> None:
    words = tmp_path / "ko.txt"
    words.write_text("# Korean\n그리고\n그 러 니 까   # spaces are Vosk's word breaks\n", encoding="utf-8")
    assert unfinished_words(words) == ("그러니까", "그리고")
    policy = TurnEndPolicy(VoiceSettings.from_env({"VOICE_UNFINISHED_WORDS": str(words)}))
    assert policy.sounds_unfinished("배송이 안 왔어요 그리고", 1.0)
    assert not policy.sounds_unfinished("我想问一下那个", 1.0)


def test_the_long_pause_is_never_shorter_than_the_short_one() -> None:
    settings = VoiceSettings.from_env({"VOICE_ENDPOINT_SILENCE": "0.6", "VOICE_ENDPOINT_SILENCE_LONG": "0.5"})
    assert TurnEndPolicy(settings).silence_needed("138", 1.0) == 0.6


def test_no_word_list_leaves_length_and_numbers(tmp_path) -> None:
    policy = TurnEndPolicy(VoiceSettings.from_env({}).with_overrides(unfinished_words=None))
    assert not policy.sounds_unfinished("我想问一下那个", 1.0)
    assert policy.sounds_unfinished("138", 1.0)


def test_an_unreadable_word_list_never_fails_a_call(tmp_path, caplog) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(OSError):
        load_unfinished_words(missing)  # what a server checks at start
    policy = TurnEndPolicy(VoiceSettings.from_env({}).with_overrides(unfinished_words=missing))
    assert policy.words == () and "cannot be read" in caplog.text
    assert policy.sounds_unfinished("138", 1.0) and not policy.sounds_unfinished("我想问一下那个", 1.0)


def test_an_empty_word_list_means_no_words(tmp_path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    assert load_unfinished_words(empty) == ()
