"""Text-to-speech: an engine interface, the offline espeak-ng engine, and a cache.

Engines return raw PCM16 mono at the rate the line needs (16 kHz for a headset, 8 kHz for a phone
line) so that callers never resample. The default engine runs Debian's espeak-ng on pinyin with
tone numbers (its `cmn` voice misreads characters) and lets sox convert the rate; it needs no
network and speaks a sentence in about 20 ms, which keeps the first reply audio fast.
"""
from __future__ import annotations

import hashlib
import logging
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from bot.voice.settings import VoiceSettings
from bot.voice.spoken_text import to_pinyin
from bot.voice.wavfile import read_wav, write_wav

log = logging.getLogger(__name__)


class TtsError(RuntimeError):
    """The speech engine failed."""


class TtsEngine(Protocol):
    """Anything that turns Chinese text into PCM16 mono audio."""

    name: str

    def synthesize(self, text: str, sample_rate: int) -> bytes: ...


class EspeakPinyinEngine:
    """espeak-ng reading pinyin with tone numbers, resampled by sox."""

    def __init__(self, voice: str = "cmn-latn-pinyin", speed: int = 165, pitch: int = 50) -> None:
        self.voice, self.speed, self.pitch = voice, speed, pitch
        self.name = f"espeak-ng:{voice}:s{speed}:p{pitch}"

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        spoken = to_pinyin(text)
        if not spoken.strip(" ,.?"):
            return b""
        espeak = ["espeak-ng", "-v", self.voice, "-s", str(self.speed), "-p", str(self.pitch), "--stdout", spoken]
        sox = ["sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(sample_rate), "-e", "signed", "-b", "16", "-c", "1", "-"]
        try:
            wav = subprocess.run(espeak, capture_output=True, check=True, timeout=30).stdout
            return subprocess.run(sox, input=wav, capture_output=True, check=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise TtsError(f"speech synthesis failed: {exc}") from exc


class CachedTts:
    """Memoizes synthesis in memory, and on disk for the fixed prompts (`audio/cache/`)."""

    def __init__(self, engine: TtsEngine, cache_dir: Path | None = None, memory_items: int = 256) -> None:
        self.engine = engine
        self.name = engine.name
        self.cache_dir = cache_dir
        self._memory: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._memory_items = memory_items
        self._lock = threading.Lock()

    def cache_path(self, text: str, sample_rate: int) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha1(f"{self.engine.name}\n{sample_rate}\n{text}".encode()).hexdigest()[:16]
        return self.cache_dir / f"{sample_rate}" / f"{key}.wav"

    def synthesize(self, text: str, sample_rate: int, persist: bool = False) -> bytes:
        """PCM for `text`; `persist` stores it under the cache directory (fixed prompts)."""
        key = (text, sample_rate)
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        path = self.cache_path(text, sample_rate)
        if path is not None and path.is_file():
            pcm, _ = read_wav(path)
        else:
            pcm = self.engine.synthesize(text, sample_rate)
            if persist and path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_wav(path, pcm, sample_rate)
        with self._lock:
            self._memory[key] = pcm
            while len(self._memory) > self._memory_items:
                self._memory.popitem(last=False)
        return pcm


def build_tts(settings: VoiceSettings) -> CachedTts:
    """The configured engine behind the cache."""
    if settings.tts_engine != "espeak":
        raise ValueError(f"unknown TTS_ENGINE {settings.tts_engine!r}; available: espeak")
    engine = EspeakPinyinEngine(settings.tts_voice, settings.tts_speed, settings.tts_pitch)
    return CachedTts(engine, settings.prompt_cache_dir)
