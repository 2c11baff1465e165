"""8 kHz telephone audio into the 16 kHz recognizer, and other rates, without aliasing."""
from __future__ import annotations

import numpy as np
import pytest

from bot.voice.resample import StreamResampler, array_to_pcm, pcm_to_array, resample_pcm16


def tone(freq: float, rate: int, seconds: float = 1.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return array_to_pcm(8000 * np.sin(2 * np.pi * freq * t))


def dominant_frequency(pcm: bytes, rate: int) -> float:
    samples = pcm_to_array(pcm).astype(float)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize("src, dst", [(8000, 16000), (22050, 16000), (44100, 16000), (48000, 8000), (16000, 8000)])
def test_whole_buffer_keeps_pitch_and_duration(src: int, dst: int) -> None:
    out = resample_pcm16(tone(440, src), src, dst)
    assert abs(len(out) // 2 - dst) <= 1
    assert abs(dominant_frequency(out, dst) - 440) < 3


def test_frequencies_above_the_new_nyquist_are_filtered_not_folded() -> None:
    out = resample_pcm16(tone(6000, 16000), 16000, 8000)  # 6 kHz cannot exist at 8 kHz
    middle = pcm_to_array(out)[400:-400].astype(float)  # away from the tone's abrupt start and end
    assert np.sqrt(np.mean(middle**2)) < 100  # would alias to 2 kHz at ~5600 RMS if not filtered


def test_streaming_20ms_frames_matches_whole_buffer_conversion() -> None:
    source = tone(440, 8000, 0.5)
    resampler = StreamResampler(8000, 16000)
    streamed = b"".join(resampler.process(source[i : i + 320]) for i in range(0, len(source), 320))
    assert len(streamed) == 2 * len(source)
    whole = pcm_to_array(resample_pcm16(source, 8000, 16000)).astype(float)
    got = pcm_to_array(streamed).astype(float)
    delay = int(np.argmax(np.correlate(got[1000:3000], whole[1000:1200])))  # filter delay, a few samples
    assert delay < 40
    aligned = got[delay : delay + 6000] - whole[: 6000]
    assert np.sqrt(np.mean(aligned[500:] ** 2)) < 0.02 * 8000  # same signal, no clicks at frame seams


def test_same_rate_is_untouched() -> None:
    pcm = tone(300, 16000, 0.1)
    assert resample_pcm16(pcm, 16000, 16000) == pcm
    assert StreamResampler(16000, 16000).process(pcm) == pcm
