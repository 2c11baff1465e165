"""One 回访 (callback) call: read a resolved ticket's result to its reporter and take a 1-5 rating.

The dialer (callback_dialer.py) placed the call; when Asterisk connects it to the AudioSocket server
this session runs instead of the hotline dialogue. It reuses the call loop of `CallSession` (audio
time, VAD, recognizer, keypad, barge-in) and replaces what is said and how answers are understood:

    greeting + result (not interruptible: people say "喂？" when they pick up)
    -> rating question: a spoken answer is confirmed ("您的评价是4分，满意，对吗？"), a key 1-5 is taken as is
    -> yes: the rating goes to the issue API (POST /tickets/{id}/rating, operator token); thanks
       (1-2: the ticket goes back for rework, which the rating itself does in the issue API) and hang up
    -> "不用了": declined; two unusable answers (silence, not understood, "不对"): no_rating.

What counts as an answer is data (callback_words.py). At the end the outcome is reported: declined and
no_rating (also a reporter who hangs up before rating) are recorded as an attempt on the schedule; a
rating marks the callback done in the issue API; a rating that could not be saved records nothing, so
the claim's lease runs out and the callback is due again.
"""
from __future__ import annotations

import logging
import queue
from typing import Any, Callable, Iterable, Optional

from bot.voice.asr import Recognizer
from bot.voice.audio_io import AudioSink
from bot.voice.call import CallSession, Turn
from bot.voice.callback_words import SCORES, AnswerWords
from bot.voice.normalize import normalize_transcript
from bot.voice.settings import VoiceSettings
from bot.voice.tts import CachedTts
from contract.issue_client import IssueApiError, IssueClient, Refused
from contract.replies import reply
from contract.vocabulary import RATING_LABELS, REWORK_MAX_SCORE

log = logging.getLogger(__name__)

# Unusable answers (silence, not understood, "不对") before the call ends without a rating.
QUESTION_TRIES = 2
# Outcomes recorded as an attempt on the schedule (the others need nothing, or must not count).
ATTEMPT_OUTCOMES = ("no_rating", "declined")


def say_text(name: str, **values: Any) -> str:
    return reply(f"utter_callback_{name}", for_channel="voice", **values)


class CallbackSession(CallSession):
    """A callback call; `outcome` is rated, declined, no_rating, already_rated or not_saved."""

    def __init__(self, *, recognizer: Recognizer, tts: CachedTts, sink: AudioSink, settings: VoiceSettings,
                 call_id: str, ticket: dict[str, Any], issue: IssueClient, words: AnswerWords,
                 on_end: Optional[Callable[[str, str], None]] = None,
                 on_event: Optional[Callable[[Any], None]] = None) -> None:
        super().__init__(recognizer=recognizer, bot=None, tts=tts, sink=sink, settings=settings,  # type: ignore[arg-type]
                         caller_id=ticket.get("phone"), call_id=call_id, on_event=on_event)
        self.sender = f"callback-{call_id}"
        self.ticket = ticket
        self.ticket_id = str(ticket["id"])
        self.issue, self.words, self.on_end = issue, words, on_end
        self.stage = "opening"  # opening -> rating <-> confirm -> done
        self.pending: Optional[int] = None
        self.misses = 0
        self.outcome: Optional[str] = None
        self.score: Optional[int] = None

    # -- the call -----------------------------------------------------------------------------------
    def run(self, frames: Iterable[bytes]) -> str:
        try:
            return super().run(frames)
        finally:
            self._report()

    def _open(self) -> None:
        self.say(say_text("greeting"))
        result = str(self.ticket.get("result") or "").strip()
        if result:
            self.say(say_text("result", ticket_id=self.ticket_id, result=result))
        else:
            self.say(say_text("resolved", ticket_id=self.ticket_id))

    def _barge_in_allowed(self) -> bool:
        # The greeting and the result play whole; the questions may be answered before they end.
        return self.stage != "opening" and self.settings.barge_in

    def _check_timers(self) -> None:
        if self.stage == "done":
            return
        if self.now >= self.settings.max_call:
            self._finish("no_rating", "goodbye_max_length")
            return
        if self.sink.is_playing(self.now):
            self._last_activity = self.now
            return
        if self.stage == "opening":
            self._ask()
            return
        if self.now - self._last_activity >= self.settings.reprompt_after:
            self._miss()

    # -- answers ------------------------------------------------------------------------------------
    def _hear(self, raw_text: str) -> None:
        text = normalize_transcript(raw_text)
        if not text:
            return
        self._emit(Turn("caller", text, self.now))
        if self.stage in ("opening", "done"):
            return  # "喂？" while the result is read; anything after the goodbye
        self._last_activity = self.now
        meaning = self.words.meaning(text)
        log.info("callback %s: heard %r -> %s", self.call_id, text, meaning or "nothing usable")
        self._answer(meaning, spoken=True)

    def _handle_keys(self) -> None:
        while True:
            try:
                key = self._keys.get_nowait()
            except queue.Empty:
                return
            if self.stage == "done":
                continue
            self._last_activity = self.now
            if self.stage in ("opening", "rating") and key in SCORES:
                if self.sink.is_playing(self.now):
                    self.sink.stop(self.now)
                self._answer(key, spoken=False)
            elif self.stage == "confirm" and key in ("1", "2"):
                if self.sink.is_playing(self.now):
                    self.sink.stop(self.now)
                self._answer("yes" if key == "1" else "no", spoken=False)

    def _answer(self, meaning: Optional[str], spoken: bool) -> None:
        if meaning == "decline":
            self._finish("declined", "declined")
        elif self.stage in ("opening", "rating"):
            if meaning in SCORES and spoken:
                self.pending = int(meaning)
                self._confirm()
            elif meaning in SCORES:
                self._submit(int(meaning))  # a key is what the reporter meant: no read-back needed
            else:
                self._miss()
        elif self.stage == "confirm":
            if meaning == "yes" or (meaning in SCORES and int(meaning) == self.pending):
                self._submit(self.pending or 0)
            elif meaning in SCORES:
                self.pending = int(meaning)  # "不对，是4分": read the new one back
                self._confirm()
            elif meaning == "no":
                self._miss(ask_again=True)
            else:
                self._miss()

    def _ask(self, again: bool = False) -> None:
        self.stage = "rating"
        self._forget_held()  # what was said over the opening or an earlier question answers nothing here
        self._last_activity = self.now
        self.say(say_text("ask_rating_again" if again else "ask_rating"))

    def _confirm(self) -> None:
        self.stage = "confirm"
        self._forget_held()
        self._last_activity = self.now
        self.say(say_text("confirm", score=self.pending, label=RATING_LABELS[self.pending or 0]))

    def _miss(self, ask_again: bool = False) -> None:
        """An unusable answer (or none): ask once more, or give up."""
        self.misses += 1
        if self.misses >= QUESTION_TRIES:
            self._finish("no_rating", "no_rating")
            return
        if ask_again:
            self._ask(again=True)
            return
        self.say(say_text("not_understood"))
        if self.stage == "confirm":
            self._confirm()
        else:
            self._ask(again=True)

    def _submit(self, score: int) -> None:
        self.stage = "done"
        self.score = score
        try:
            self.issue.rate(self.ticket_id, score, key=f"callback-{self.call_id}", channel="voice")
        except Refused as exc:  # rated meanwhile (web, a call to 96767), or no longer resolved
            log.info("callback %s: ticket %s not rated: %s", self.call_id, self.ticket_id, exc)
            self._finish("already_rated", "already_rated")
            return
        except IssueApiError as exc:
            log.error("callback %s: the rating %d of ticket %s was not saved: %s", self.call_id, score,
                      self.ticket_id, exc)
            self._finish("not_saved", "not_saved")
            return
        low = score <= REWORK_MAX_SCORE
        if low:
            log.warning("callback %s: ticket %s rated %d (%s): back to its department for rework", self.call_id,
                        self.ticket_id, score, RATING_LABELS[score])
        self._finish("rated", "thanks_rework" if low else "thanks", score=score, label=RATING_LABELS[score])

    def _finish(self, outcome: str, prompt: str, **values: Any) -> None:
        self.stage = "done"
        self.outcome = outcome
        self.say(say_text(prompt, **values))
        self._hangup_reason = f"callback_{outcome}"

    # -- the schedule ---------------------------------------------------------------------------------
    def _report(self) -> None:
        """Tell the schedule how it went (a hang-up before any rating is no_rating)."""
        self.outcome = self.outcome or "no_rating"
        log.info("callback %s for ticket %s: %s", self.call_id, self.ticket_id, self.outcome)
        if self.outcome in ATTEMPT_OUTCOMES:
            try:
                self.issue.record_callback_attempt(self.ticket_id, self.outcome)
            except IssueApiError as exc:  # the lease runs out and the callback is due again
                log.error("callback %s: attempt %s of ticket %s not recorded: %s", self.call_id, self.outcome,
                          self.ticket_id, exc)
        if self.on_end is not None:
            self.on_end(self.call_id, self.outcome)
