"""Voice activity detection by frame energy, for barge-in and silence timing.

The recognizer decides where an utterance ends (its endpoint rules, see asr.py); this detector only
answers "is the caller making sound right now", which must be cheap and immediate so the bot stops
talking within a fraction of a second of the caller starting. A level threshold in dBFS is enough on
telephone and headset audio; `min_speech` keeps clicks and line noise from interrupting the bot.
"""
from __future__ import annotations

import numpy as np

from bot.voice.resample import pcm_to_array


def frame_level_dbfs(pcm: bytes) -> float:
    """Root-mean-square level of a PCM16 frame in dB relative to full scale (-inf for silence)."""
    samples = pcm_to_array(pcm).astype(np.float64)
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(samples * samples)))
    return 20.0 * np.log10(rms / 32768.0) if rms > 0 else float("-inf")


class SpeechDetector:
    """Tracks how long the caller has been speaking without a break, in seconds of audio."""

    def __init__(self, threshold_db: float = -38.0, hangover: float = 0.15) -> None:
        self.threshold_db = threshold_db
        self.hangover = hangover  # short dips between syllables do not end a speech run
        self.speech_run = 0.0
        self.quiet_for = 0.0  # seconds since the last speech frame

    def update(self, pcm: bytes, duration: float) -> bool:
        """Feed one frame; returns whether the frame is speech."""
        speech = frame_level_dbfs(pcm) >= self.threshold_db
        if speech:
            self.speech_run += duration
            self.quiet_for = 0.0
        else:
            self.quiet_for += duration
            if self.quiet_for > self.hangover:
                self.speech_run = 0.0
        return speech
