"""One phone call: listen, recognize, normalize, ask the bot, speak the reply.

The session is driven by the caller's audio: every frame advances the call clock by its duration.
That makes a WAV file or a scripted caller behave exactly like a live line (a phone line sends
frames continuously, silence included), and lets tests check barge-in and silence timeouts without
waiting or mocking time. Devices and sockets are adapters around this loop (audio_io.py,
audiosocket_server.py).
"""
from __future__ import annotations

import logging
import queue
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from bot.voice.asr import Recognizer
from bot.voice.audio_io import AudioSink
from bot.rasa_rest import BotUnavailable
from bot.voice.bot_client import BotReply, CallerTurns
from bot.voice.normalize import normalize_transcript
from bot.voice.prompts import PROMPTS
from bot.voice.settings import VoiceSettings
from bot.voice.spoken_text import split_sentences
from bot.voice.transfer import LogOnlyTransfer, TransferRequester
from bot.voice.tts import CachedTts, TtsError
from bot.voice.turn_end import WORDLESS_HOLD, TurnEndPolicy, joined
from bot.voice.vad import SpeechDetector
from contract.phones import mask_phone

log = logging.getLogger(__name__)
MAX_KEYS_WAITING = 64  # DTMF digits kept between two audio frames


@dataclass(frozen=True)
class Turn:
    """Something said on the call: `role` is "caller" or "bot" (operators speak through the bot)."""

    role: str
    text: str
    at: float


@dataclass(frozen=True)
class Partial:
    """The recognizer's running guess while the caller speaks (for screens)."""

    text: str
    at: float


@dataclass(frozen=True)
class BargeIn:
    at: float


@dataclass(frozen=True)
class TransferRequested:
    handoff: dict[str, Any]
    accepted: bool
    at: float


@dataclass(frozen=True)
class Hangup:
    """The call ended: `reason` is caller_hangup, silence, max_length or closed (by an operator)."""

    reason: str
    at: float


CallEvent = Turn | Partial | BargeIn | TransferRequested | Hangup


# Messages from the gateway spoken to a caller while an operator owns the call.
SPOKEN_ROLES = {"operator", "system"}
# Long-poll wait (s): replies arrive at once either way; a short wait lets a finished call's poll end soon.
RELAY_POLL_WAIT = 5
# Put in the operator inbox when the conversation was closed: the call ends after what came before it.
CLOSED = None
_DIGIT_AT_END = re.compile(r"\d\W*$")


class CallSession:
    """The conversation loop of one call; `run(frames)` returns when the call ends."""

    def __init__(
        self,
        *,
        recognizer: Recognizer,
        bot: CallerTurns,
        tts: CachedTts,
        sink: AudioSink,
        settings: VoiceSettings,
        caller_id: str | None = None,
        call_id: str | None = None,
        transfer: TransferRequester | None = None,
        on_event: Callable[[CallEvent], None] | None = None,
    ) -> None:
        self.recognizer, self.bot, self.tts, self.sink, self.settings = recognizer, bot, tts, sink, settings
        self.caller_id = caller_id
        self.call_id = call_id or uuid.uuid4().hex
        self.sender = f"voice-{self.call_id}"
        self.transfer = transfer or LogOnlyTransfer()
        self.on_event = on_event or (lambda event: None)
        self.events: list[CallEvent] = []
        self.now = 0.0
        self.state = "bot"
        self._vad = SpeechDetector(settings.vad_threshold_db)
        self._last_activity = 0.0  # call time of the last caller speech or end of bot speech
        self._reprompted = False
        self._transferred = False
        self._hangup_reason: str | None = None
        self._inbox: queue.Queue[str | None] = queue.Queue()  # operator replies to speak, then CLOSED
        # DTMF digits from the phone line, bounded: a line that sends keys and no audio must not grow it.
        self._keys: queue.Queue[str] = queue.Queue(maxsize=MAX_KEYS_WAITING)
        self._keyed = ""
        self._utterance_open = False  # the caller spoke since the recognizer last closed an utterance
        self._turn_end = TurnEndPolicy(settings)
        self._held = ""  # what the caller said of a turn that sounded unfinished, waiting for the rest
        self._utterance_speech = 0.0  # seconds of speech (by the VAD) in the utterance being decoded
        self._turn_speech = 0.0  # seconds of speech in the utterances with words of the caller's turn
        self._heard_at = 0.0  # call time the caller last said (or keyed) something new
        self._relay: threading.Thread | None = None
        self._ended = threading.Event()

    # -- the loop ---------------------------------------------------------------------------------
    def run(self, frames: Iterable[bytes]) -> str:
        """Play the call to its end; returns the hangup reason."""
        log.info("call %s from %s started", self.call_id, mask_phone(self.caller_id) or "-")
        try:
            self._open()
            for frame in frames:
                self._step(frame)
                if self._hangup_reason:
                    break
            else:
                # The caller's audio ended (file over, line hung up): hear out the last words.
                self._end_turn(self.recognizer.finish())
                self._hangup_reason = self._hangup_reason or "caller_hangup"
        finally:
            self._ended.set()
            close = getattr(self.recognizer, "close", None)
            if close is not None:
                close()  # the recognizer goes back to the pool, reset, for the next call
        self._emit(Hangup(self._hangup_reason, self.now))
        log.info("call %s ended: %s after %.1fs", self.call_id, self._hangup_reason, self.now)
        return self._hangup_reason

    def _open(self) -> None:
        """What the call starts with: the hotline's greeting (VOICE_GREET)."""
        if self.settings.greet:
            self.say(PROMPTS["greeting"])

    def _step(self, frame: bytes) -> None:
        duration = len(frame) / 2 / self.settings.sample_rate
        self.now += duration
        self._speak_operator_replies()
        if self._hangup_reason:  # an operator closed the conversation: the goodbye is playing
            return
        self._handle_keys()
        speech = self._vad.update(frame, duration)
        if speech:
            self._last_activity = self.now
            self._reprompted = False
            self._utterance_open = True
            self._utterance_speech += duration
            if (self._barge_in_allowed() and self._vad.speech_run >= self.settings.barge_in_min_speech
                    and self.sink.is_playing(self.now)):
                self.sink.stop(self.now)
                self._emit(BargeIn(self.now))
        # The recognizer takes the audio in chunks, except once the caller has gone quiet in the middle
        # of an utterance: then every frame goes in at once, so that its end is found without delay.
        # Partial results only while the caller speaks (nothing new is heard in silence).
        hypothesis = self.recognizer.accept(frame, flush=self._utterance_open and not speech,
                                            partial=self._vad.speech_run > 0)
        if hypothesis is not None:
            if hypothesis.final:
                self._utterance_open = False
                self._pause(hypothesis.text)
            elif hypothesis.text:
                self._heard_at = self.now
                self._emit(Partial(normalize_transcript(joined(self._held, hypothesis.text)), self.now))
        quiet = self._vad.quiet_for
        if self._utterance_open and quiet >= self.settings.endpoint_silence:
            # The decoder has not ended the utterance but the caller paused: take all it heard, decoded
            # to the end, and judge whether the turn is over (turn_end.py).
            self._utterance_open = False
            self._pause(self.recognizer.finish())
        if self._held and ((not self._utterance_open and quiet >= self._turn_end.long
                            and self.now - self._last_activity >= self._turn_end.long)
                           or self.now - self._heard_at >= WORDLESS_HOLD):
            self._end_turn()  # the turn sounded unfinished, but the caller said (or keyed) no more
        self._check_timers()

    def _pause(self, raw_text: str) -> None:
        """The caller paused after saying `raw_text`: answer now if the turn sounds finished, else hold
        it and add what comes next."""
        said = joined(self._held, raw_text)
        text = normalize_transcript(said)
        speech, self._utterance_speech = self._utterance_speech, 0.0
        if normalize_transcript(raw_text):  # noise without words neither lengthens a turn nor keeps it held
            self._turn_speech += speech
            self._heard_at = self.now
        if not text:  # a cough, a click: no words, no turn
            self._held, self._turn_speech = "", 0.0
        elif (because := self._turn_end.unfinished_because(text, self._turn_speech)) is not None:
            log.info("call %s: turn held for more, %s", self.call_id, because)
            self._held = said
        else:
            self._end_turn(raw_text)

    def _end_turn(self, raw_text: str = "") -> None:
        said, self._held, self._turn_speech = joined(self._held, raw_text), "", 0.0
        self._hear(said)

    def _forget_held(self) -> None:
        """Drop a held turn: the bot moved on to a question it does not answer (callback calls)."""
        self._held, self._turn_speech, self._utterance_speech = "", 0.0, 0.0

    def _barge_in_allowed(self) -> bool:
        return self.settings.barge_in

    def _check_timers(self) -> None:
        if self.now >= self.settings.max_call:
            self._end_call("goodbye_max_length", "max_length")
            return
        if self.sink.is_playing(self.now):
            self._last_activity = self.now
            return
        idle = self.now - self._last_activity
        if idle >= self.settings.hangup_after:
            self._end_call("goodbye_silence", "silence")
        elif idle >= self.settings.reprompt_after and not self._reprompted:
            self._reprompted = True
            self.say(PROMPTS["reprompt"])

    def _end_call(self, prompt: str, reason: str) -> None:
        self.say(PROMPTS[prompt])
        self._hangup_reason = reason

    # -- turns ------------------------------------------------------------------------------------
    def _hear(self, raw_text: str) -> None:
        text = normalize_transcript(raw_text)
        if not text:
            return
        self._last_activity = self.now
        self._reprompted = False
        self._emit(Turn("caller", text, self.now))
        try:
            reply = self.bot.send(self.sender, text, self.caller_id)
        except BotUnavailable as exc:
            log.warning("call %s: %s", self.call_id, exc)
            self.say(PROMPTS["bot_unavailable"])
            return
        self._follow(reply)

    def _follow(self, reply: BotReply) -> None:
        for message in reply.messages:
            if message.get("text"):
                self.say(str(message["text"]))
        self.state = reply.state
        handoff = reply.handoff
        if (handoff or reply.state in ("waiting", "operator")) and not self._transferred:
            self._transferred = True
            handoff = handoff or {"reason": "operator", "summary": None, "ticket_id": None}
            accepted = self.transfer.request_transfer(self.call_id, handoff)
            self._emit(TransferRequested(handoff, accepted, self.now))
            self._start_operator_relay()
        if reply.state == "closed":
            self._hangup_reason = "closed"

    def say(self, text: str) -> None:
        """Speak `text`, sentence by sentence so the first sentence starts playing at once."""
        self._emit(Turn("bot", text, self.now))
        for sentence in split_sentences(text):
            try:
                pcm = self.tts.synthesize(sentence, self.sink.sample_rate, persist=False)
            except TtsError as exc:
                log.error("call %s: %s", self.call_id, exc)
                return
            self.sink.play(pcm, self.now)

    # -- keypad ---------------------------------------------------------------------------------------
    def push_dtmf(self, digit: str) -> None:
        """A key the caller pressed (any thread). Digits then "#" send the number, e.g. a ticket id;
        "*" clears what was keyed. Any key also stops the bot talking, like speech does."""
        try:
            self._keys.put_nowait(digit)
        except queue.Full:
            pass  # more keys than anyone presses between two frames: the rest are dropped

    def _handle_keys(self) -> None:
        while True:
            try:
                key = self._keys.get_nowait()
            except queue.Empty:
                return
            self._last_activity = self._heard_at = self.now
            if self.sink.is_playing(self.now):
                self.sink.stop(self.now)
                self._emit(BargeIn(self.now))
            if key == "#":
                keyed, self._keyed = self._keyed, ""
                if keyed and _DIGIT_AT_END.search(normalize_transcript(self._held)):
                    self._end_turn()  # spoken digits, then the number keyed: two numbers, not one long one
                    self._end_turn(keyed)
                elif keyed:
                    self._end_turn(keyed)  # "我的手机号是" then the number on the keypad: one turn
            elif key == "*":
                self._keyed = ""
            elif len(key) == 1 and key in "0123456789":  # a keypad key ("²".isdigit() too)
                self._keyed += key

    # -- operator takeover --------------------------------------------------------------------------
    def _start_operator_relay(self) -> None:
        """Speak what an operator types: long-poll the gateway while it owns the conversation."""
        poll = getattr(self.bot, "poll", None)
        if poll is None or self._relay is not None:
            return

        def relay() -> None:
            after = None  # start from what is already in the transcript: speak only what comes next
            while not self._ended.is_set():
                try:
                    reply = poll(self.sender, after or 0, 0 if after is None else RELAY_POLL_WAIT)
                except BotUnavailable as exc:
                    log.warning("call %s: operator relay: %s", self.call_id, exc)
                    if self._ended.wait(2.0):
                        return
                    continue
                seqs = [int(m["seq"]) for m in reply.messages if str(m.get("seq", "")).isdigit()]
                if after is not None:
                    for message in reply.messages:
                        # The close notice invites a web user to rate the chat; a caller hears a goodbye.
                        if (message.get("role") in SPOKEN_ROLES and message.get("text")
                                and not message.get("rating_requested")):
                            self._inbox.put(str(message["text"]))
                after = max(seqs + [after or 0])
                if reply.state == "closed":
                    self._inbox.put(CLOSED)
                    return

        self._relay = threading.Thread(target=relay, name=f"operator-relay-{self.call_id}", daemon=True)
        self._relay.start()

    def _speak_operator_replies(self) -> None:
        while True:
            try:
                text = self._inbox.get_nowait()
            except queue.Empty:
                return
            if text is CLOSED:
                log.info("call %s: the operator closed the conversation", self.call_id)
                self._end_call("goodbye_closed", "closed")
                return
            self.say(text)

    def _emit(self, event: CallEvent) -> None:
        self.events.append(event)
        self.on_event(event)
