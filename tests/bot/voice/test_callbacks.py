"""回访 (callback) calls: the answer vocabulary, AMI Originate at the protocol level, the dialer
against a fake of the schedule, and whole outbound calls placed by `python -m bot audiosocket` from
the real issue API's schedule and answered over AudioSocket with Korean speech (the Korean test model
stands in for the Chinese one, with a Korean phrase file for the answers).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest

from bot.voice.ami import originate, originate_outcome
from bot.voice.audiosocket import Kind
from bot.voice.audiosocket_server import CallSlots
from bot.voice.callback_call import say_text
from bot.voice.callback_dialer import CallbackDialer, dial_digits
from bot.voice.callback_words import AnswerWords, BadWordsFile
from bot.voice.settings import CALLBACK_WORDS_FILE, VoiceSettings
from bot.voice.tts import build_tts
from contract.issue_client import IssueClient
from tests.bot.voice.fake_ami import FakeAmi
from tests.bot.voice.fake_issue_api import OPERATOR_TOKEN, FakeIssueApi
from tests.bot.voice.helpers import KOREAN_MODEL, korean_speech
from tests.bot.voice.test_audiosocket import Peer, connect
from tests.support.aio import run as run_async
from tests.support.servers import REPO_ROOT, free_port
from tests.support.stack import start_issue_api

KOREAN_WORDS = """
# What espeak-ng's Korean voice says clearly enough for the Korean test model.
매우 만족   5
만족        4
네          yes
아니요      no
됐어요      decline
싫어요      decline
"""
PHONE = "13891234567"
CHANNEL = "PJSIP/{phone}@trunk"


# -- what a reporter may answer ---------------------------------------------------------------------
def test_the_chinese_answer_words_give_scores_confirmations_and_refusals() -> None:
    words = AnswerWords.load(CALLBACK_WORDS_FILE)
    said = {"非常满意": "5", "很 满意": "5", "满意": "4", "还可以吧": "3", "基本满意": "3", "不满意": "2",
            "不太满意": "2", "我不是很满意": "2", "非常 不 满意": "1", "五分": "5", "给两分": "2", "4分": "4",
            "对": "yes", "对的对的": "yes", "不对": "no", "不是": "no", "不用了谢谢": "decline", "没时间": "decline",
            "喂你好": None, "": None}
    assert {text: words.meaning(text) for text in said} == said


def test_a_phrase_file_must_say_what_each_phrase_means(tmp_path: Path) -> None:
    words = AnswerWords.parse(KOREAN_WORDS.splitlines())
    assert [words.meaning(t) for t in ("매우 만족", "매우만족", "만족", "네", "됐어요")] == ["5", "5", "4", "yes", "decline"]
    with pytest.raises(BadWordsFile, match=":2:"):
        AnswerWords.parse(["만족 4", "보통 three"], "ko.txt")
    with pytest.raises(BadWordsFile, match="no phrase gives a score"):
        AnswerWords.parse(["네 yes"])


def test_the_grammar_keeps_the_phrases_the_model_knows() -> None:
    import vosk

    vosk.SetLogLevel(-1)
    model = vosk.Model(str(KOREAN_MODEL))
    words = AnswerWords.parse(KOREAN_WORDS.splitlines() + ["모르는단어입니다 3"])
    grammar = words.grammar(model)
    assert grammar is not None and "매우 만족" in grammar and "모르는단어입니다" not in grammar
    assert AnswerWords.parse(["非常满意 5"]).grammar(model) is None  # nothing known: no grammar at all


def test_only_the_digits_of_a_number_reach_the_dial_string() -> None:
    assert dial_digits("029-88881234") == "02988881234"
    assert dial_digits("138 9123 4567\r\nAction: Hangup") == "13891234567"


def test_callback_settings_have_defaults_and_refuse_a_channel_without_the_phone() -> None:
    settings = VoiceSettings.from_env({})
    assert settings.callback_channel is None  # no dialer unless configured
    assert (settings.callback_poll_seconds, settings.callback_ring_timeout, settings.callback_max_calls) == (30, 30, 1)
    assert settings.callback_audiosocket_address == "127.0.0.1:9092"
    with pytest.raises(ValueError, match="CALLBACK_CHANNEL"):
        VoiceSettings.from_env({"CALLBACK_CHANNEL": "PJSIP/trunk"})


# -- AMI Originate, protocol level ------------------------------------------------------------------
@pytest.fixture()
def ami() -> Iterator[FakeAmi]:
    with FakeAmi({}) as fake:
        yield fake


def ami_settings(ami: FakeAmi, **env: str) -> VoiceSettings:
    return VoiceSettings.from_env({"AMI_HOST": "127.0.0.1", "AMI_PORT": str(ami.port), "AMI_USER": "hotline",
                                   "AMI_SECRET": ami.secret, **env})


def test_originate_sends_the_call_into_audiosocket_and_reads_the_outcome(ami: FakeAmi) -> None:
    settings = ami_settings(ami)
    outcome = originate(settings, "PJSIP/13891234567@trunk", "AudioSocket",
                        "0b7e7c1e-1111-4222-8333-944455556666,127.0.0.1:9092", '"96767" <96767>', 25)
    assert outcome == "answered"
    assert [a["Action"] for a in ami.actions] == ["Login", "Originate", "Logoff"]
    action = ami.actions[1]
    assert {k: action[k] for k in ("Channel", "Application", "Data", "CallerID", "Timeout", "Async")} == {
        "Channel": "PJSIP/13891234567@trunk", "Application": "AudioSocket",
        "Data": "0b7e7c1e-1111-4222-8333-944455556666,127.0.0.1:9092", "CallerID": '"96767" <96767>',
        "Timeout": "25000", "Async": "true"}
    assert action["ActionID"]
    ami.outcomes[:] = ["3", "1", "5", "8", "0"]
    assert [originate(settings, "PJSIP/1@t", "AudioSocket", "x", "", 5) for _ in range(5)] == [
        "no_answer", "no_answer", "busy", "failed", "failed"]


def test_originate_reports_failure_when_ami_refuses_or_is_down(ami: FakeAmi) -> None:
    assert originate(ami_settings(ami, AMI_SECRET="wrong"), "PJSIP/1@t", "AudioSocket", "x", "", 5) == "failed"
    closed = VoiceSettings.from_env({"AMI_HOST": "127.0.0.1", "AMI_PORT": str(free_port())})
    assert originate(closed, "PJSIP/1@t", "AudioSocket", "x", "", 5) == "failed"
    assert originate_outcome({"Event": "OriginateResponse", "Response": "Failure", "Reason": "4"}) == "failed"


# -- the dialer alone (no audio) --------------------------------------------------------------------
@pytest.fixture()
def issue_api() -> Iterator[FakeIssueApi]:
    with FakeIssueApi() as fake:
        yield fake


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_busy_line_is_recorded_as_an_attempt_and_frees_the_slot(ami: FakeAmi, issue_api: FakeIssueApi) -> None:
    issue_api.add_resolved_ticket("2026120100001", "029-88881234", "已修复")
    settings = ami_settings(ami, CALLBACK_CHANNEL=CHANNEL, CALLBACK_CALLER_ID="96767",
                            ISSUE_API_URL=issue_api.url, ISSUE_API_OPERATOR_TOKEN=OPERATOR_TOKEN)
    slots = CallSlots(1)
    dialer = CallbackDialer(settings, IssueClient(settings.issue_api_url, OPERATOR_TOKEN), slots)
    ami.outcomes.append("5")
    assert run_async(dialer.poll_once()) == 1
    assert slots.free == 0  # held while the phone rings
    wait_for(lambda: issue_api.posted("attempts"), what="the attempt")
    assert issue_api.posted("attempts") == [("/api/v1/callbacks/2026120100001/attempts", {"outcome": "busy"})]
    assert ami.originated.get_nowait()["Channel"] == "PJSIP/02988881234@trunk"
    wait_for(lambda: slots.free == 1, what="the slot")
    assert dialer.in_flight == 0
    # Not due again until the retry delay (the schedule's business): nothing more is placed.
    assert run_async(dialer.poll_once()) == 0


def test_the_dialer_leaves_inbound_callers_their_slots(ami: FakeAmi, issue_api: FakeIssueApi) -> None:
    issue_api.add_resolved_ticket("2026120100002", PHONE, "已修复")
    settings = ami_settings(ami, CALLBACK_CHANNEL=CHANNEL, ISSUE_API_URL=issue_api.url,
                            ISSUE_API_OPERATOR_TOKEN=OPERATOR_TOKEN)
    slots = CallSlots(2)
    assert slots.take() and slots.take()  # two callers on the line
    dialer = CallbackDialer(settings, IssueClient(settings.issue_api_url, OPERATOR_TOKEN), slots)
    assert run_async(dialer.poll_once()) == 0
    assert issue_api.requests == []  # did not even ask
    slots.give_back()
    ami.outcomes.append("3")
    assert run_async(dialer.poll_once()) == 1
    wait_for(lambda: issue_api.posted("attempts"), what="the attempt")
    assert issue_api.posted("attempts")[0][1] == {"outcome": "no_answer"}


def test_a_callback_another_dialer_claimed_first_is_skipped_and_the_slot_kept_free(
        ami: FakeAmi, issue_api: FakeIssueApi) -> None:
    issue_api.add_resolved_ticket("2026120100003", PHONE, "已修复")
    settings = ami_settings(ami, CALLBACK_CHANNEL=CHANNEL, ISSUE_API_URL=issue_api.url,
                            ISSUE_API_OPERATOR_TOKEN=OPERATOR_TOKEN)

    class RacedClient(IssueClient):
        def claim_callback(self, ticket_id: str) -> dict:
            issue_api.claim(ticket_id)  # the other dialer's claim lands between the list and ours
            return super().claim_callback(ticket_id)

    slots = CallSlots(1)
    dialer = CallbackDialer(settings, RacedClient(issue_api.url, OPERATOR_TOKEN), slots)
    assert run_async(dialer.poll_once()) == 0
    assert slots.free == 1 and dialer.in_flight == 0 and ami.originated.empty()


# -- whole callback calls through `python -m bot audiosocket` ----------------------------------------
class AudioSocketProcess:
    """`python -m bot audiosocket` with the dialer on, the Korean model and Korean answer words."""

    def __init__(self, tmp: Path, ami: FakeAmi, issue_url: str, token: str, **env_vars: str) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        words = tmp / "words_ko.txt"
        words.write_text(KOREAN_WORDS, encoding="utf-8")
        self.port = free_port()
        self.log_path = tmp / f"audiosocket-{self.port}.log"
        env = {**os.environ, "VOSK_MODEL": str(KOREAN_MODEL), "AUDIOSOCKET_PORT": str(self.port),
               "TTS_CACHE_DIR": str(tmp / "cache"), "TTS_SPEED": "320", "VOICE_REPROMPT_AFTER": "3",
               "AMI_HOST": "127.0.0.1", "AMI_PORT": str(ami.port), "AMI_USER": "hotline", "AMI_SECRET": ami.secret,
               "CALLBACK_CHANNEL": CHANNEL, "CALLBACK_POLL_SECONDS": "0.3", "CALLBACK_RING_TIMEOUT": "20",
               "CALLBACK_RATING_WORDS": str(words), "CALLBACK_GRAMMAR": "1",
               "ISSUE_API_URL": issue_url, "ISSUE_API_OPERATOR_TOKEN": token, **env_vars}
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "audiosocket"], cwd=REPO_ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the AudioSocket server did not listen: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        self._log.close()

    def kill(self) -> None:
        """Die as a crash would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(15)
        self._log.close()


async def answer_the_phone(ami: FakeAmi, timeout: float = 30) -> tuple[Peer, dict[str, str]]:
    """Play the reporter's phone: wait for the Originate, then connect as Asterisk does once answered."""
    action = await asyncio.to_thread(ami.originated.get, timeout=timeout)
    call_uuid, _, address = action["Data"].partition(",")
    host, _, port = address.rpartition(":")
    peer = await connect(int(port))
    await peer.send(Kind.UUID, uuid.UUID(call_uuid).bytes)
    return peer, action


async def listen(peer: Peer, quiet: float = 0.6, timeout: float = 60) -> None:
    """Send line silence until the bot has spoken and then been quiet for `quiet` seconds."""
    loop = asyncio.get_running_loop()
    start, heard, last_count, last_change = loop.time(), False, len(peer.audio()), loop.time()
    while loop.time() - start < timeout and not peer.closed.is_set():
        await peer.silence(0.1)
        count = len(peer.audio())
        if count != last_count:
            heard, last_count, last_change = True, count, loop.time()
        elif heard and loop.time() - last_change >= quiet:
            return
    assert peer.closed.is_set() or heard, "the bot said nothing"


class Schedule:
    """The issue API with its real callback routes, on a fresh database, with callback hours all day
    today (the real clock: leases must run out). Nothing is due in the minute before midnight, Beijing
    time, and these tests would wait in vain then."""

    DEPARTMENT = "市政公用服务中心"

    def __init__(self, tmp: Path, **env: str) -> None:
        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        env = {"ISSUE_API_CALLBACK_HOURS": "00:00-23:59",
               "ISSUE_API_WORKDAYS": f"{today},{today + dt.timedelta(days=1)}", **env}
        self.server, self.url, tokens = start_issue_api(tmp / "issue_api", extra_env=env)
        self.operator_token = tokens["operator"]
        self.operator = IssueClient(self.url, tokens["operator"])
        self.bot = IssueClient(self.url, tokens["bot"])

    def resolved(self, phone: str, result: str) -> str:
        """A phone report, assigned and resolved: its callback is due at once."""
        ticket = self.bot.create_ticket({"company": "西安测试科技有限公司", "contact_name": "张伟", "phone": phone,
                                         "category": "市政设施", "description": "园区门口路灯坏了", "kind": "help",
                                         "channel": "voice"}, f"test-{uuid.uuid4()}")
        self.operator.assign(ticket["id"], self.DEPARTMENT)
        self.operator.resolve(ticket["id"], result)
        return ticket["id"]

    def callback(self, ticket_id: str) -> dict:
        [found] = [c for c in self.operator.callbacks(limit=200) if c["ticket_id"] == ticket_id]
        return found

    def ticket(self, ticket_id: str) -> dict:
        return self.operator.get_ticket(ticket_id)

    def history(self, ticket_id: str) -> list[str]:
        return [event["action"] for event in self.ticket(ticket_id)["history"]]

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture()
def schedule(tmp_path: Path) -> Iterator[Schedule]:
    api = Schedule(tmp_path)
    yield api
    api.stop()


@pytest.fixture(scope="module")
def answers() -> dict[str, bytes]:
    return {text: korean_speech(text, 8000) for text in ("매우 만족", "네")}


def test_a_callback_call_takes_a_spoken_rating_and_confirms_it(
        ami: FakeAmi, schedule: Schedule, answers, tmp_path: Path) -> None:
    result = "路灯已经修好了。"
    ticket_id = schedule.resolved(PHONE, result)
    server = AudioSocketProcess(tmp_path, ami, schedule.url, schedule.operator_token)
    try:
        async def call() -> tuple[Peer, dict[str, str], int]:
            peer, action = await answer_the_phone(ami)
            await listen(peer)  # greeting, result, the rating question
            opening_frames = len(peer.audio())
            await peer.speak(answers["매우 만족"])
            await listen(peer)  # "您的评价是5分，非常满意，对吗？"
            await peer.speak(answers["네"])
            await listen(peer, quiet=1.0)  # thanks, then the bot hangs up
            await asyncio.wait_for(peer.closed.wait(), 20)
            return peer, action, opening_frames

        peer, action, opening_frames = run_async(call())
        log = server.log()
    finally:
        server.stop()
    assert action["Channel"] == f"PJSIP/{PHONE}@trunk" and action["Application"] == "AudioSocket"
    # The words as heard: "매우 만족" first (Kaldi's random dither once added a trailing "네" to it in a
    # full-suite run; the meaning is what the call acts on), then the confirmation.
    assert re.search(r"heard '매우 만족[^']*' -> 5", log) and "heard '네' -> yes" in log, log
    # The rating reached the issue API, and with it the callback is done.
    ticket = schedule.ticket(ticket_id)
    assert (ticket["rating"]["score"], ticket["status"]) == (5, "closed"), log
    callback = schedule.callback(ticket_id)
    assert (callback["status"], callback["attempts"]) == ("done", 0)
    assert "callback_done" in schedule.history(ticket_id)
    assert peer.received[-1].kind == Kind.HANGUP
    # The reporter heard the greeting and the result whole before answering.
    tts = build_tts(VoiceSettings.from_env({"TTS_SPEED": "320", "TTS_CACHE_DIR": str(tmp_path / "tts")}))
    opening = b"".join(tts.synthesize(text, 8000) for text in (
        say_text("greeting"), say_text("result", ticket_id=ticket_id, result=result)))
    assert opening_frames >= len(opening) / 320 * 0.9


def test_a_callback_takes_a_keypad_rating_and_a_low_one_goes_back_for_rework(
        ami: FakeAmi, schedule: Schedule, tmp_path: Path) -> None:
    first = schedule.resolved(PHONE, "已答复。")
    second = schedule.resolved("029-88881234", "已答复。")
    ami.outcomes[:] = ["4", "5"]  # the first reporter answers, the second line is busy
    server = AudioSocketProcess(tmp_path, ami, schedule.url, schedule.operator_token)
    try:
        async def call() -> tuple[Peer, dict[str, str]]:
            peer, action = await answer_the_phone(ami)
            await peer.silence(1.0)  # a key works from the first word on
            await peer.send(Kind.DTMF, b"2")
            await listen(peer, quiet=1.0)
            await asyncio.wait_for(peer.closed.wait(), 20)
            return peer, action

        peer, action = run_async(call())
        # The call over, its slot is free again: the next callback is placed.
        assert ami.originated.get(timeout=20)["Channel"] == "PJSIP/02988881234@trunk"
        wait_for(lambda: schedule.callback(second)["attempts"] == 1, what="the busy attempt")
        log = server.log()
    finally:
        server.stop()
    assert action["Channel"] == f"PJSIP/{PHONE}@trunk"
    ticket = schedule.ticket(first)
    assert (ticket["rating"]["score"], ticket["status"], ticket["rework_count"]) == (2, "in_progress", 1), log
    assert "reworked" in schedule.history(first)  # what the console's alerts show
    assert "back to its department for rework" in log
    assert peer.received[-1].kind == Kind.HANGUP
    callback = schedule.callback(second)
    assert (callback["status"], callback["last_outcome"]) == ("pending", "busy")


def test_a_phone_that_rings_out_every_time_is_left_to_an_operator(
        ami: FakeAmi, tmp_path: Path) -> None:
    schedule = Schedule(tmp_path, ISSUE_API_CALLBACK_MAX_ATTEMPTS="1")
    try:
        ticket_id = schedule.resolved(PHONE, "已答复。")
        ami.outcomes.append("3")
        server = AudioSocketProcess(tmp_path, ami, schedule.url, schedule.operator_token)
        try:
            action = ami.originated.get(timeout=30)
            wait_for(lambda: schedule.callback(ticket_id)["attempts"] == 1, what="the no_answer attempt")
        finally:
            server.stop()
        assert action["Timeout"] == "20000"
        callback = schedule.callback(ticket_id)
        assert (callback["status"], callback["last_outcome"]) == ("failed", "no_answer")
        assert "callback_failed" in schedule.history(ticket_id)  # 回访失败, for an operator
        assert schedule.ticket(ticket_id)["rating"] is None
    finally:
        schedule.stop()


def test_a_callback_left_by_a_dead_dialer_is_placed_by_the_next_one(ami: FakeAmi, tmp_path: Path) -> None:
    schedule = Schedule(tmp_path, ISSUE_API_CALLBACK_LEASE_SECONDS="10")
    try:
        ticket_id = schedule.resolved(PHONE, "已答复。")
        ami.ring_seconds = 60  # the phone is still ringing when the dialer dies
        first = AudioSocketProcess(tmp_path / "first", ami, schedule.url, schedule.operator_token)
        try:
            ami.originated.get(timeout=30)
            claimed_at = time.monotonic()
            assert schedule.callback(ticket_id)["status"] == "calling"
        finally:
            first.kill()
        ami.ring_seconds = 0
        ami.outcomes.append("5")
        second = AudioSocketProcess(tmp_path / "second", ami, schedule.url, schedule.operator_token)
        try:
            ami.originated.get(timeout=40)
            replaced_after = time.monotonic() - claimed_at
            wait_for(lambda: schedule.callback(ticket_id)["attempts"] == 1, what="the second dialer's attempt")
        finally:
            second.stop()
        assert replaced_after >= 9  # not before the first dialer's claim ran out
        callback = schedule.callback(ticket_id)
        assert (callback["status"], callback["last_outcome"]) == ("pending", "busy")
    finally:
        schedule.stop()
