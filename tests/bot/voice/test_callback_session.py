"""A 回访 (callback) call session driven by a scripted reporter: what is said, how answers are read,
and what reaches the issue API. The call clock is the reporter's audio (no waiting); Korean speech
and a Korean answer file stand in for Chinese, the issue API is the fake of the callback routes.
"""
from __future__ import annotations

from typing import Iterator, Union

import pytest

from bot.voice.asr import Recognizer, load_model
from bot.voice.audio_io import SimulatedLine, pcm_frames
from bot.voice.call import BargeIn, Turn
from bot.voice.callback_call import CallbackSession, say_text
from bot.voice.callback_words import AnswerWords
from bot.voice.tts import build_tts
from contract.issue_client import IssueClient
from tests.bot.voice.fake_issue_api import OPERATOR_TOKEN, FakeIssueApi
from tests.bot.voice.helpers import korean_speech
from tests.bot.voice.test_callbacks import KOREAN_WORDS
from tests.support.servers import free_port

TICKET_ID = "2026120100010"
RESULT = "路灯已经修好了。"
Answer = Union[str, bytes]  # "key:N" presses a key; bytes is speech; "wait" says nothing


@pytest.fixture(scope="module")
def speech() -> dict[str, bytes]:
    return {text: korean_speech(text, 16000) for text in ("매우 만족", "만족", "네", "아니요", "됐어요")}


@pytest.fixture()
def issue_api() -> Iterator[FakeIssueApi]:
    with FakeIssueApi() as fake:
        fake.add_resolved_ticket(TICKET_ID, "13891234567", RESULT)
        fake.claim(TICKET_ID)  # the dialer claimed it before calling
        yield fake


@pytest.fixture()
def settings(voice_settings):
    return voice_settings.with_overrides(reprompt_after=3.0)


def make_session(settings, issue_url: str) -> tuple[CallbackSession, SimulatedLine, list]:
    words = AnswerWords.parse(KOREAN_WORDS.splitlines())
    model = load_model(settings, runtime_grammar=True)
    line = SimulatedLine(settings.sample_rate)
    ended: list = []
    session = CallbackSession(
        recognizer=Recognizer(model, settings.sample_rate, words.grammar(model)), tts=build_tts(settings), sink=line,
        settings=settings, call_id="test-call", issue=IssueClient(issue_url, OPERATOR_TOKEN, max_attempts=1),
        ticket={"id": TICKET_ID, "phone": "13891234567", "result": RESULT}, words=words,
        on_end=lambda call_id, outcome: ended.append((call_id, outcome)))
    return session, line, ended


def reporter(session: CallbackSession, line: SimulatedLine, answers: list[Answer],
             during_opening: bytes = b"") -> Iterator[bytes]:
    """The reporter's line: each answer once the bot has finished talking; silence otherwise (up to
    a minute of call time after the last answer)."""
    rate = session.settings.sample_rate
    silence = b"\x00\x00" * (rate // 50)
    if during_opening:
        yield from pcm_frames(b"\x00\x00" * rate, rate)  # a second into the greeting
        yield from pcm_frames(during_opening, rate)
    played = len(line.playbacks)
    for answer in answers:
        # Wait until the bot said something new (its answer to the last answer) and finished it.
        while len(line.playbacks) == played or line.is_playing(session.now):
            yield silence
        yield from pcm_frames(b"\x00\x00" * (rate // 4), rate)
        played = len(line.playbacks)  # what it says from here on answers this answer
        if isinstance(answer, bytes):
            yield from pcm_frames(answer, rate)
        elif answer.startswith("key:"):
            session.push_dtmf(answer[4:])
    for _ in range(60 * 50):
        yield silence


def bot_said(session: CallbackSession) -> list[str]:
    return [e.text for e in session.events if isinstance(e, Turn) and e.role == "bot"]


def heard(session: CallbackSession) -> list[str]:
    return [e.text for e in session.events if isinstance(e, Turn) and e.role == "caller"]


def test_a_spoken_rating_is_read_back_and_can_be_corrected(settings, issue_api, speech) -> None:
    session, line, ended = make_session(settings, issue_api.url)
    reason = session.run(reporter(session, line, [speech["매우 만족"], speech["아니요"], speech["만족"], speech["네"]]))
    assert reason == "callback_rated" and ended == [("test-call", "rated")]
    assert heard(session) == ["매우 만족", "아니요", "만족", "네"]
    assert bot_said(session) == [
        say_text("greeting"), say_text("result", ticket_id=TICKET_ID, result=RESULT), say_text("ask_rating"),
        say_text("confirm", score=5, label="非常满意"), say_text("ask_rating_again"),
        say_text("confirm", score=4, label="满意"), say_text("thanks", score=4, label="满意")]
    assert issue_api.posted("rating") == [(f"/api/v1/tickets/{TICKET_ID}/rating", {"score": 4, "channel": "voice"})]
    assert issue_api.posted("attempts") == []


def test_the_opening_is_not_interrupted_and_a_key_needs_no_read_back(settings, issue_api, speech) -> None:
    session, line, ended = make_session(settings, issue_api.url)
    # "喂？" while the greeting plays (any speech: here a rating word) is neither a barge-in nor an answer.
    session.run(reporter(session, line, ["key:5"], during_opening=speech["만족"]))
    assert not any(isinstance(e, BargeIn) for e in session.events)
    assert all(p.interrupted_at is None for p in line.playbacks[:2])
    assert bot_said(session)[2:] == [say_text("ask_rating"), say_text("thanks", score=5, label="非常满意")]
    assert issue_api.posted("rating") == [(f"/api/v1/tickets/{TICKET_ID}/rating", {"score": 5, "channel": "voice"})]
    assert ended == [("test-call", "rated")]


def test_words_said_over_the_opening_are_not_kept_for_the_rating_question(settings, issue_api, speech,
                                                                          tmp_path) -> None:
    # Even when what the reporter said over the result sounds unfinished (held for more), it answers
    # nothing: the rating question starts a new turn.
    words = tmp_path / "unfinished.txt"
    words.write_text("만족\n", encoding="utf-8")
    session, line, ended = make_session(settings.with_overrides(unfinished_words=words), issue_api.url)
    rate, talk = settings.sample_rate, speech["만족"]

    def over_the_end_of_the_opening():
        # "满意…" said so that it ends just before the result has been read out ...
        while not line.playbacks or line.playbacks[-1].end - session.now > len(talk) / 2 / rate + 0.3:
            yield b"\x00\x00" * (rate // 50)
        yield from pcm_frames(talk, rate)
        # ... then the rating question is answered on the keypad.
        yield from reporter(session, line, ["key:5"])

    session.run(over_the_end_of_the_opening())
    assert bot_said(session)[2:] == [say_text("ask_rating"), say_text("thanks", score=5, label="非常满意")]
    assert issue_api.posted("rating") == [(f"/api/v1/tickets/{TICKET_ID}/rating", {"score": 5, "channel": "voice"})]


def test_a_read_back_answered_by_key_and_a_low_keyed_rating_sent_back_for_rework(settings, issue_api, speech) -> None:
    session, line, _ = make_session(settings, issue_api.url)
    session.run(reporter(session, line, [speech["만족"], "key:2", "key:2"]))  # 4? no (2); then 2
    assert bot_said(session)[3:] == [say_text("confirm", score=4, label="满意"), say_text("ask_rating_again"),
                                     say_text("thanks_rework", score=2, label="不满意")]
    assert issue_api.posted("rating") == [(f"/api/v1/tickets/{TICKET_ID}/rating", {"score": 2, "channel": "voice"})]
    assert issue_api.tickets[TICKET_ID]["status"] == "in_progress"


def test_a_reporter_who_declines_is_not_asked_again(settings, issue_api, speech) -> None:
    session, line, ended = make_session(settings, issue_api.url)
    reason = session.run(reporter(session, line, [speech["됐어요"]]))
    assert reason == "callback_declined" and bot_said(session)[-1] == say_text("declined")
    assert issue_api.posted("attempts") == [(f"/api/v1/callbacks/{TICKET_ID}/attempts", {"outcome": "declined"})]
    assert issue_api.callbacks[TICKET_ID]["status"] == "done" and ended == [("test-call", "declined")]


def test_two_questions_without_an_answer_end_as_no_rating(settings, issue_api) -> None:
    session, line, _ = make_session(settings, issue_api.url)
    reason = session.run(reporter(session, line, []))
    assert reason == "callback_no_rating"
    assert bot_said(session)[2:] == [say_text("ask_rating"), say_text("not_understood"),
                                     say_text("ask_rating_again"), say_text("no_rating")]
    assert issue_api.posted("attempts") == [(f"/api/v1/callbacks/{TICKET_ID}/attempts", {"outcome": "no_rating"})]
    assert issue_api.posted("rating") == []


def test_a_reporter_who_hangs_up_before_rating_counts_as_no_rating(settings, issue_api) -> None:
    session, line, ended = make_session(settings, issue_api.url)
    session.run(pcm_frames(b"\x00\x00" * settings.sample_rate * 2, settings.sample_rate))
    assert issue_api.posted("attempts") == [(f"/api/v1/callbacks/{TICKET_ID}/attempts", {"outcome": "no_rating"})]
    assert ended == [("test-call", "no_rating")]


def test_a_ticket_rated_meanwhile_is_not_rated_again(settings, issue_api) -> None:
    issue_api.tickets[TICKET_ID]["status"] = "closed"  # rated on the web since the call was placed
    session, line, ended = make_session(settings, issue_api.url)
    session.run(reporter(session, line, ["key:4"]))
    assert bot_said(session)[-1] == say_text("already_rated")
    assert issue_api.posted("attempts") == [] and ended == [("test-call", "already_rated")]


def test_a_rating_that_cannot_be_saved_leaves_the_callback_to_come_back(settings, speech) -> None:
    session, line, ended = make_session(settings, f"http://127.0.0.1:{free_port()}")
    session.run(reporter(session, line, ["key:3"]))
    assert bot_said(session)[-1] == say_text("not_saved")
    assert ended == [("test-call", "not_saved")]  # nothing recorded: the claim's lease runs out
