"""The Chinese path, run wherever the Chinese model is installed (`python -m bot model download`).

The model cannot be fetched on the build machines, so these are skipped there; on a machine with
it they check that our own Chinese speech (espeak-ng via pinyin) is recognized as Chinese and that
the endpoint overlay loads with the real `conf/model.conf`.
"""
from __future__ import annotations

import pytest

from bot.voice.asr import new_recognizer
from bot.voice.audio_io import Silence, scripted_frames
from bot.voice.models import is_model_dir
from bot.voice.normalize import normalize_transcript
from bot.voice.settings import VoiceSettings
from bot.voice.tts import EspeakPinyinEngine

SETTINGS = VoiceSettings.from_env()
pytestmark = pytest.mark.skipif(not is_model_dir(SETTINGS.model_dir),
                                reason=f"no Chinese Vosk model at {SETTINGS.model_dir} (python -m bot model download)")


@pytest.mark.parametrize("rate", [16000, 8000])
def test_chinese_speech_is_recognized_as_chinese(rate: int) -> None:
    from bot.voice.resample import resample_pcm16

    speech = EspeakPinyinEngine(speed=140).synthesize("你好，我要查询工单。", rate)
    pcm = resample_pcm16(speech, rate, 16000)
    recognizer = new_recognizer(SETTINGS)
    texts = []
    for frame in scripted_frames([Silence(0.3), pcm, Silence(1.5)], 16000):
        hypothesis = recognizer.accept(frame)
        if hypothesis and hypothesis.final and hypothesis.text:
            texts.append(hypothesis.text)
    texts.append(recognizer.finish())
    heard = normalize_transcript("".join(texts))
    assert heard and all("\u4e00" <= ch <= "\u9fff" or ch.isdigit() for ch in heard), heard
    assert " " not in heard
