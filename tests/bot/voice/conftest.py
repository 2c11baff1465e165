from __future__ import annotations

from typing import Iterator

import pytest

from bot.voice.settings import VoiceSettings
from tests.bot.voice.helpers import KOREAN_MODEL, FakeRasa, korean_speech


@pytest.fixture(scope="session")
def korean_model_dir():
    return KOREAN_MODEL


@pytest.fixture(scope="session")
def hello_16k() -> bytes:
    return korean_speech("안녕하세요", 16000)


@pytest.fixture(scope="session")
def hello_8k() -> bytes:
    return korean_speech("안녕하세요", 8000)


@pytest.fixture()
def fake_rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as rasa:
        yield rasa


@pytest.fixture()
def voice_settings(korean_model_dir, fake_rasa, tmp_path) -> VoiceSettings:
    """Settings for a call against the Korean model and the fake Rasa, prompts cached in tmp."""
    return VoiceSettings.from_env({}).with_overrides(
        model_dir=korean_model_dir, rasa_url=fake_rasa.url, prompt_cache_dir=tmp_path / "prompts"
    )
