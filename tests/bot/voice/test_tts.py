"""Speech synthesis: how replies are read, and that the audio is real audio of a sensible length."""
from __future__ import annotations

import io
import wave

import pytest

from bot.voice.prompts import PROMPTS, PROMPT_RATES, build_prompt_cache
from bot.voice.settings import VoiceSettings
from bot.voice.spoken_text import cardinal, read_numbers, spell_digits, split_sentences, to_pinyin
from bot.voice.tts import CachedTts, EspeakPinyinEngine, build_tts
from bot.voice.vad import frame_level_dbfs
from bot.voice.wavfile import pcm_to_wav, read_wav


def test_ticket_ids_and_phones_are_read_digit_by_digit_with_yao_for_one() -> None:
    assert read_numbers("工单号20261127001") == "工单号二零二六幺幺二七零零幺"
    assert read_numbers("电话13812345678") == "电话幺三八幺二三四五六七八"
    assert read_numbers("拨打96767") == "拨打九六七六七"
    assert read_numbers("号码138****5678") == "号码幺三八星号五六七八"


def test_quantities_are_read_as_numbers() -> None:
    assert read_numbers("3个工作日内") == "三个工作日内"
    assert read_numbers("评分5分") == "评分五分"
    assert read_numbers("共15项，约120元") == "共十五项，约一百二十元"
    assert read_numbers("2026年") == "二零二六年"
    assert [cardinal(n) for n in (0, 10, 11, 20, 101, 1010, 3000)] == ["零", "十", "十一", "二十", "一百零一", "一千零一十", "三千"]
    assert spell_digits("101") == "幺零幺"


def test_pinyin_has_tone_numbers_and_pauses() -> None:
    assert to_pinyin("您好，工单号101。") == "nin2 hao3, gong1 dan1 hao4 yi4 bai3 ling2 yi1."  # 一 before a 3rd tone: yi4
    assert to_pinyin("重庆银行") == "chong2 qing4 yin2 hang2"  # polyphones from word context
    assert to_pinyin("请问您的电话？") == "qing3 wen4 nin2 de5 dian4 hua4?"


def test_replies_are_split_into_sentences_for_early_playback() -> None:
    assert split_sentences("好的。请问您的电话？谢谢！") == ["好的。", "请问您的电话？", "谢谢！"]
    assert split_sentences("没有句号") == ["没有句号"]


@pytest.mark.parametrize("rate", [8000, 16000])
def test_espeak_engine_speaks_at_the_line_rate(rate: int) -> None:
    text = "您好，您的工单号是20261127001，我们会在3个工作日内答复。"
    pcm = EspeakPinyinEngine().synthesize(text, rate)
    seconds = len(pcm) / 2 / rate
    # About 35 syllables at espeak's pace: several seconds, not a click and not a minute.
    assert 4.0 < seconds < 20.0
    assert frame_level_dbfs(pcm) > -35  # audible speech, not silence
    wav = pcm_to_wav(pcm, rate)
    with wave.open(io.BytesIO(wav)) as parsed:
        assert (parsed.getframerate(), parsed.getnchannels(), parsed.getsampwidth()) == (rate, 1, 2)
        assert parsed.getnframes() == len(pcm) // 2


def test_longer_text_takes_longer_to_say() -> None:
    engine = EspeakPinyinEngine()
    short = engine.synthesize("您好。", 16000)
    long = engine.synthesize("您好，这里是西安高新区企业服务热线，请问有什么可以帮您？", 16000)
    assert len(long) > 3 * len(short) > 0


def test_empty_text_is_silence_not_an_error() -> None:
    assert EspeakPinyinEngine().synthesize("。", 16000) == b""


def test_prompt_cache_is_built_on_disk_and_reused(tmp_path) -> None:
    settings = VoiceSettings.from_env({}).with_overrides(prompt_cache_dir=tmp_path)
    assert build_prompt_cache(build_tts(settings)) == len(PROMPTS) * len(PROMPT_RATES)
    files = sorted(tmp_path.rglob("*.wav"))
    assert len(files) == len(PROMPTS) * len(PROMPT_RATES)
    for path in files:
        pcm, rate = read_wav(path)
        assert rate in PROMPT_RATES and len(pcm) / 2 / rate > 1.0

    class CountingEngine:
        name = EspeakPinyinEngine().name
        calls = 0

        def synthesize(self, text: str, rate: int) -> bytes:
            CountingEngine.calls += 1
            return b""

    fresh = CachedTts(CountingEngine(), tmp_path)
    assert len(fresh.synthesize(PROMPTS["greeting"], 8000)) > 8000  # read from disk
    assert CountingEngine.calls == 0
