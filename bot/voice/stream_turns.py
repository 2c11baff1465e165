"""Turns of a client that streams audio to the gateway's /ws/audio, judged as a phone call's are.

A media stream sends audio without pause, and the recognizer's endpoint rules close an utterance
after a short silence (VOSK_ENDPOINT_RULE2). Answering every closed utterance at once answers half a
turn whenever the caller pauses in it: "我的手机号是幺三八" … "一二三四五六七八". So each closed
utterance is judged by the turn-end policy (turn_end.py): one that sounds finished is answered at
once; one that does not is held, and what the caller says next is added to it, until they stay quiet
for the long pause (VOICE_ENDPOINT_SILENCE_LONG) or, on a line whose noise the level detector takes
for speech, say no new words for WORDLESS_HOLD seconds. A push-to-talk client marks the end of its
turn itself: everything until its "stop" is one turn.

The clock is the audio's (seconds of audio received), not the wall clock: a client that sends faster
or slower than real time is judged on what the caller did, not on the network.
"""
from __future__ import annotations

import logging

from bot.voice.normalize import normalize_transcript
from bot.voice.settings import VoiceSettings
from bot.voice.turn_end import WORDLESS_HOLD, TurnEndPolicy, joined
from bot.voice.vad import SpeechDetector

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.02  # the level detector's frame, as on the phone line


class StreamTurns:
    """Joins one stream's utterances into the caller's turns. Not thread-safe: one per connection."""

    def __init__(self, settings: VoiceSettings, *, push_to_talk: bool = False, name: str = "-") -> None:
        self.policy = TurnEndPolicy(settings)
        self.push_to_talk, self.name = push_to_talk, name
        self._rate = settings.sample_rate
        self._frame_bytes = int(self._rate * FRAME_SECONDS) * 2
        self._vad = SpeechDetector(settings.vad_threshold_db)
        self.now = 0.0  # seconds of audio heard on this stream
        self._held = ""  # what the caller said of a turn that sounded unfinished
        self._utterance_speech = 0.0  # seconds of speech in the utterance being decoded
        self._turn_speech = 0.0  # seconds of speech in the held turn's utterances with words
        self._utterance_open = False  # the caller made sound since the recognizer last closed an utterance
        self._heard_at = 0.0  # stream time the caller last said something new
        self._words_pending = False  # a partial had words since the recognizer last closed an utterance

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def hear(self, pcm: bytes) -> None:
        """PCM16 at the recognizer's rate, as it goes to the recognizer: moves the clock, tracks speech."""
        for offset in range(0, len(pcm) - len(pcm) % 2, self._frame_bytes):
            frame = pcm[offset:offset + self._frame_bytes]
            duration = len(frame) / 2 / self._rate
            self.now += duration
            if self._vad.update(frame, duration):
                self._utterance_open = True
                self._utterance_speech += duration

    def with_held(self, text: str) -> str:
        """`text` after what is held of the turn: what a caller's screen shows as said so far."""
        return joined(self._held, text)

    def words_heard(self) -> None:
        """A partial result with words: the caller is still saying something."""
        self._heard_at = self.now
        self._words_pending = True

    @property
    def waiting(self) -> bool:
        """Words of the caller not answered yet (held, or heard in an utterance still open): when
        the client then sends nothing, the turn ends on the wall clock instead (silence suppression)."""
        return not self.push_to_talk and (bool(self._held) or self._words_pending)

    def utterance(self, raw_text: str) -> str | None:
        """The recognizer closed an utterance with `raw_text`: the whole turn to answer now, or None
        (no words, or held for more)."""
        said = joined(self._held, raw_text)
        speech, self._utterance_speech, self._utterance_open = self._utterance_speech, 0.0, False
        self._words_pending = False
        if normalize_transcript(raw_text):  # noise without words neither lengthens a turn nor keeps it held
            self._turn_speech += speech
            self._heard_at = self.now
        text = normalize_transcript(said)
        if not text:
            self._held, self._turn_speech = "", 0.0
            return None
        self._held = said
        if self.push_to_talk:
            return None  # the client says when the turn is over
        because = self.policy.unfinished_because(text, self._turn_speech)
        if because is not None:
            log.info("voice socket of %s: turn held for more, %s", self.name, because)
            return None
        return self.release()

    def due(self) -> str | None:
        """A held turn after which the caller said no more: to answer now, or None."""
        if not self._held or self.push_to_talk:
            return None
        quiet_enough = not self._utterance_open and self._vad.quiet_for >= self.policy.long
        if quiet_enough or self.now - self._heard_at >= WORDLESS_HOLD:
            return self.release()
        return None

    def end(self, raw_text: str) -> str:
        """The client ended the turn ("stop"): everything held with the recognizer's last words."""
        self._held = joined(self._held, raw_text)
        self._utterance_speech, self._utterance_open, self._words_pending = 0.0, False, False
        return self.release()

    def release(self) -> str:
        """The held turn, to answer now (also when the stream goes quiet on the wire: a client that
        sends no audio in silence), and nothing held after it."""
        said, self._held, self._turn_speech = self._held, "", 0.0
        return said
