"""A streamed caller's turn (/ws/audio) ends the way a phone caller's does: at once when it sounds
finished, after the long pause when it does not, and at "stop" for push-to-talk clients.

The recognizer's closed utterances are given as text; the audio is noise (speech to the level
detector) and digital silence, on the stream's own clock.
"""
from __future__ import annotations

import numpy as np
import pytest

from bot.voice.settings import VoiceSettings
from bot.voice.stream_turns import StreamTurns
from bot.voice.turn_end import WORDLESS_HOLD

RATE = 16000


def speech(seconds: float) -> bytes:
    """Noise the level detector takes for speech (about -31 dBFS)."""
    return np.random.default_rng(7).normal(0, 900, int(RATE * seconds)).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(RATE * seconds)


@pytest.fixture
def settings() -> VoiceSettings:
    return VoiceSettings.from_env().with_overrides(endpoint_silence=0.4, endpoint_silence_long=0.9, long_turn=2.5)


def released_after(turns: StreamTurns, seconds: float, step: float = 0.02) -> tuple[str | None, float]:
    """Feed silence in `step`s for up to `seconds`: (the turn released, stream time it was released)."""
    for _ in range(int(round(seconds / step))):
        turns.hear(silence(step))
        said = turns.due()
        if said is not None:
            return said, turns.now
    return None, turns.now


def test_a_turn_that_sounds_finished_is_answered_when_the_recognizer_closes_it(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(0.8) + silence(0.35))
    assert turns.utterance("转 人工") == "转 人工"
    assert not turns.holding and turns.due() is None


def test_half_a_phone_number_waits_for_the_rest_and_both_halves_are_one_turn(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(1.2) + silence(0.35))
    assert turns.utterance("我 的 手机 号 是 幺 三 八") is None  # ends in three digits: held
    assert turns.holding
    assert turns.with_held("一 二") == "我 的 手机 号 是 幺 三 八 一 二"  # what the caller's screen shows
    turns.hear(silence(0.3) + speech(1.0) + silence(0.35))
    assert turns.due() is None  # the caller went on within the long pause
    assert turns.utterance("一 二 三 四 五 六 七 八") == "我 的 手机 号 是 幺 三 八 一 二 三 四 五 六 七 八"
    assert not turns.holding


def test_a_held_turn_is_answered_after_the_long_pause_of_silence_not_before(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(0.6) + silence(0.35))  # the recognizer closed the utterance 0.35 s after the words
    assert turns.utterance("那个") is None
    said, at = released_after(turns, 2.0)
    assert said == "那个"
    assert at == pytest.approx(0.6 + 0.9, abs=0.03)  # the long pause, counted from the last speech


def test_a_filler_word_ends_a_turn_only_after_the_long_pause_but_a_short_answer_after_the_short_one(settings) -> None:
    short, filler = StreamTurns(settings), StreamTurns(settings)
    for turns in (short, filler):
        turns.hear(speech(0.5) + silence(0.35))
    assert short.utterance("对") == "对"
    assert filler.utterance("还有") is None


def test_a_noisy_line_does_not_hold_a_turn_forever(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(0.6) + silence(0.35))
    assert turns.utterance("然后") is None
    said = None
    while said is None and turns.now < 10:
        turns.hear(speech(0.1))  # the line hisses loud enough to count as speech, but no words come
        said = turns.due()
    assert said == "然后"
    assert turns.now == pytest.approx(0.95 + WORDLESS_HOLD, abs=0.11)


def test_noise_without_words_after_a_held_turn_neither_answers_nor_lengthens_it(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(1.0) + silence(0.35))
    assert turns.utterance("我 想") is None
    turns.hear(speech(0.3) + silence(0.35))
    assert turns.utterance("") is None and turns.holding  # a cough: still waiting for the words
    turns.hear(speech(0.5) + silence(0.35))
    assert turns.utterance("投诉 噪音") == "我 想 投诉 噪音"


def test_a_long_description_waits_the_long_pause_between_clauses(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(2.6) + silence(0.35))
    assert turns.utterance("我们 园区 门口 的 路灯 坏 了 好 几 天 晚上 很 黑") is None  # 2.6 s of speech
    said, _ = released_after(turns, 1.0)
    assert said == "我们 园区 门口 的 路灯 坏 了 好 几 天 晚上 很 黑"


def test_an_utterance_without_words_is_not_a_turn(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(0.2) + silence(0.35))
    assert turns.utterance("") is None
    assert not turns.holding and released_after(turns, 2.0)[0] is None


def test_push_to_talk_turns_end_at_stop_however_finished_they_sound(settings) -> None:
    turns = StreamTurns(settings, push_to_talk=True)
    turns.hear(speech(0.5) + silence(0.35))
    assert turns.utterance("对") is None
    assert released_after(turns, 3.0)[0] is None  # the button is still held: no answer on silence
    turns.hear(speech(0.5))
    assert turns.end("没有 了") == "对 没有 了"
    assert not turns.holding


def test_stop_with_nothing_held_gives_the_recognizers_last_words(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(0.5))
    assert turns.end("你好") == "你好"
    assert turns.end("") == ""


def test_release_hands_over_a_held_turn_once(settings) -> None:
    turns = StreamTurns(settings)
    turns.hear(speech(0.5) + silence(0.35))
    assert turns.utterance("因为") is None
    assert turns.release() == "因为"
    assert turns.release() == "" and not turns.holding


def test_words_heard_but_not_closed_are_waiting_and_end_with_the_recognizers_last_words(settings) -> None:
    turns = StreamTurns(settings)
    assert not turns.waiting
    turns.hear(speech(0.5))
    turns.words_heard()  # a partial with words; the recognizer has not closed the utterance
    assert turns.waiting
    assert turns.end("你好") == "你好" and not turns.waiting
    ptt = StreamTurns(settings, push_to_talk=True)
    ptt.words_heard()
    assert not ptt.waiting  # a push-to-talk client ends its own turns
