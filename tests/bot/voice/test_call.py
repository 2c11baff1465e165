"""A call session driven by scripted caller audio: turns, barge-in, silence, limits, keypad, handoff.

The call clock is the caller's audio, so timings here are exact seconds of scripted audio. A grammar
(a voice setting) keeps the Korean model fast; the bot is a fake Rasa REST server at this level.
"""
from __future__ import annotations

import numpy as np
import pytest

from bot.voice.asr import new_recognizer
from bot.voice.audio_io import SimulatedLine, Silence, scripted_frames
from bot.voice.bot_client import DirectRasa
from bot.voice.asr import Hypothesis
from bot.voice.call import BargeIn, CallSession, Hangup, Partial, TransferRequested, Turn
from bot.voice.prompts import PROMPTS
from bot.voice.transfer import LogOnlyTransfer
from bot.voice.tts import build_tts
from bot.voice.turn_end import WORDLESS_HOLD
from tests.bot.voice.helpers import korean_speech, pause_after


@pytest.fixture(scope="module")
def thanks_16k() -> bytes:
    return korean_speech("감사합니다", 16000)


@pytest.fixture()
def call_settings(voice_settings, tmp_path):
    grammar = tmp_path / "grammar.txt"
    grammar.write_text("안녕하세요\n감사합니다\n", encoding="utf-8")
    return voice_settings.with_overrides(grammar_file=grammar, greet=False, reprompt_after=60, hangup_after=120)


def make_call(settings, phone: str | None = "13812345678"):
    line = SimulatedLine(settings.sample_rate)
    transfer = LogOnlyTransfer()
    session = CallSession(recognizer=new_recognizer(settings), bot=DirectRasa(settings.rasa_url),
                          tts=build_tts(settings), sink=line, settings=settings, caller_id=phone, transfer=transfer)
    return session, line, transfer


def turns(session: CallSession) -> list[tuple[str, str]]:
    return [(e.role, e.text) for e in session.events if isinstance(e, Turn)]


def test_what_the_caller_says_goes_to_the_bot_and_the_reply_is_spoken(call_settings, fake_rasa, hello_16k) -> None:
    session, line, _ = make_call(call_settings)
    reason = session.run(scripted_frames([Silence(0.5), hello_16k, Silence(1.5)], 16000))
    assert turns(session) == [("caller", "안녕하세요"), ("bot", "收到：안녕하세요。工单号20261127001。")]
    assert fake_rasa.requests == [{"sender": session.sender, "message": "안녕하세요",
                                   "metadata": {"channel": "voice", "phone": "13812345678"}}]
    assert any(isinstance(e, Partial) for e in session.events)
    # The reply was synthesized at the line rate and started playing right after the utterance ended.
    reply = line.playbacks[0]
    assert reply.duration > 1.0 and sum(len(a) for a in line.audio) / 2 / 16000 > 1.0
    speech_end = 0.5 + len(hello_16k) / 2 / 16000
    assert 0 < reply.start - speech_end < 1.0
    assert reason == "caller_hangup"


def test_caller_speech_stops_the_bot_talking(call_settings, fake_rasa, hello_16k) -> None:
    session, line, _ = make_call(call_settings.with_overrides(greet=True))
    session.run(scripted_frames([Silence(1.0), hello_16k, Silence(1.5)], 16000))
    greeting = line.playbacks[0]
    assert greeting.duration > 3.0  # the greeting would have played on for seconds
    barge_ins = [e.at for e in session.events if isinstance(e, BargeIn)]
    assert len(barge_ins) == 1
    # Cut off within the configured 0.2 s of speech after the caller started at 1.0 s.
    assert 1.0 < barge_ins[0] <= 1.0 + call_settings.barge_in_min_speech + 0.1
    assert greeting.interrupted_at == pytest.approx(barge_ins[0])
    assert ("caller", "안녕하세요") in turns(session)  # and the caller was heard


def test_no_barge_in_when_disabled(call_settings, fake_rasa, hello_16k) -> None:
    session, line, _ = make_call(call_settings.with_overrides(greet=True, barge_in=False))
    session.run(scripted_frames([Silence(1.0), hello_16k, Silence(1.0)], 16000))
    assert not any(isinstance(e, BargeIn) for e in session.events)
    assert line.playbacks[0].interrupted_at is None


def test_silence_gets_a_reprompt_then_a_goodbye_and_hangup(call_settings, fake_rasa) -> None:
    settings = call_settings.with_overrides(reprompt_after=2.0, hangup_after=5.0)
    session, line, _ = make_call(settings)
    reason = session.run(scripted_frames([Silence(60.0)], 16000))
    assert reason == "silence"
    said = [(e.text, e.at) for e in session.events if isinstance(e, Turn)]
    assert [text for text, _ in said] == [PROMPTS["reprompt"], PROMPTS["goodbye_silence"]]
    assert said[0][1] == pytest.approx(2.0, abs=0.03)
    # Silence is counted from when the bot stopped talking (the reprompt is two sentences).
    reprompt_end = max(p.end for p in line.playbacks if p.start < said[1][1])
    assert said[1][1] == pytest.approx(reprompt_end + 5.0, abs=0.03)
    hangup = session.events[-1]
    assert isinstance(hangup, Hangup) and hangup.at < 30  # hung up long before the audio ran out
    assert fake_rasa.requests == []


def test_a_call_ends_at_the_maximum_length(call_settings, fake_rasa) -> None:
    session, _, _ = make_call(call_settings.with_overrides(max_call=3.0))
    assert session.run(scripted_frames([Silence(20.0)], 16000)) == "max_length"
    assert turns(session) == [("bot", PROMPTS["goodbye_max_length"])]
    assert session.events[-1].at == pytest.approx(3.0, abs=0.03)


def test_the_caller_hears_an_apology_when_the_bot_is_down(call_settings, fake_rasa, hello_16k) -> None:
    fake_rasa.fail = True
    session, _, _ = make_call(call_settings)
    session.run(scripted_frames([hello_16k, Silence(1.0)], 16000))
    assert turns(session) == [("caller", "안녕하세요"), ("bot", PROMPTS["bot_unavailable"])]


def test_the_caller_hears_an_apology_when_the_bot_answers_nothing(call_settings, fake_rasa, hello_16k) -> None:
    fake_rasa.silent = True  # the action server is down: Rasa's REST channel answers []
    session, _, _ = make_call(call_settings)
    session.run(scripted_frames([hello_16k, Silence(1.0)], 16000))
    assert turns(session) == [("caller", "안녕하세요"), ("bot", PROMPTS["bot_unavailable"])]


def test_a_handoff_requests_a_transfer_once(call_settings, fake_rasa, thanks_16k) -> None:
    session, _, transfer = make_call(call_settings)
    session.run(scripted_frames([thanks_16k, Silence(1.0), thanks_16k, Silence(1.0)], 16000))
    transfers = [e for e in session.events if isinstance(e, TransferRequested)]
    assert len(transfers) == 1 and transfers[0].handoff["reason"] == "request_human"
    assert transfers[0].accepted is False  # no PBX configured: logged, caller stays on the line
    assert transfer.requests == [(session.call_id, transfers[0].handoff)]
    assert ("bot", "好的，正在为您转接人工客服。") in turns(session)


def test_keyed_digits_ending_with_hash_are_sent_as_a_turn(call_settings, fake_rasa) -> None:
    session, _, _ = make_call(call_settings)
    for key in "20261127001#":
        session.push_dtmf(key)
    session.push_dtmf("9")
    session.push_dtmf("*")  # cleared, never sent
    session.run(scripted_frames([Silence(0.5)], 16000))
    assert fake_rasa.messages == ["20261127001"]


def test_words_that_sound_unfinished_then_a_keyed_number_are_one_turn(
        call_settings, fake_rasa, hello_16k, tmp_path) -> None:
    # "我的手机号是" said, then the number keyed slowly (a key every 0.6 s): the turn waits for "#".
    session, _, _ = make_call(unfinished_after(call_settings, tmp_path, "안녕하세요"))

    def line():
        yield from scripted_frames([Silence(0.5), hello_16k, pause_after(hello_16k, 0.6)], 16000)
        for key in "13812345678#":
            session.push_dtmf(key)
            yield from scripted_frames([Silence(0.6)], 16000)
        yield from scripted_frames([Silence(2.0)], 16000)

    session.run(line())
    assert fake_rasa.messages == ["안녕하세요 13812345678"]


class ScriptedRecognizer:
    """Finals at given call times (s), for the turn logic where the Korean test model cannot speak
    the words (Chinese digits, fillers)."""

    def __init__(self, finals: dict[float, str]) -> None:
        self.finals, self.now = dict(finals), 0.0

    def accept(self, pcm: bytes, *, flush: bool = False, partial: bool = True) -> Hypothesis | None:
        self.now += len(pcm) / 2 / 16000
        due = [at for at in self.finals if at <= self.now + 1e-9]
        return Hypothesis(self.finals.pop(due[0]), final=True) if due else None

    def finish(self) -> str:
        return ""


def loud_noise(seconds: float) -> bytes:
    """Noise the energy VAD takes for speech (about -31 dBFS)."""
    rng = np.random.default_rng(7)
    return rng.normal(0, 900, int(16000 * seconds)).astype("<i2").tobytes()


def test_spoken_digits_and_a_keyed_number_stay_two_numbers(call_settings, fake_rasa) -> None:
    # "幺三八" (half a phone number: held), then the whole number keyed: not 14 digits glued together.
    session = CallSession(recognizer=ScriptedRecognizer({1.0: "幺 三 八"}), bot=DirectRasa(call_settings.rasa_url),
                          tts=build_tts(call_settings), sink=SimulatedLine(16000), settings=call_settings)

    def line():
        yield from scripted_frames([Silence(0.2), loud_noise(0.75), Silence(0.25)], 16000)  # the words
        for key in "13812345678#":
            session.push_dtmf(key)
            yield from scripted_frames([Silence(0.3)], 16000)
        yield from scripted_frames([Silence(2.0)], 16000)

    session.run(line())
    assert fake_rasa.messages == ["138", "13812345678"]


def test_a_held_turn_reaches_the_bot_on_a_line_whose_noise_sounds_like_speech(call_settings, fake_rasa) -> None:
    # Line noise above the VAD threshold: the VAD never hears the caller stop, the recognizer hears
    # no new words: the held "我的电话是" goes to the bot after WORDLESS_HOLD, not never.
    noise = loud_noise(6.0)
    session = CallSession(recognizer=ScriptedRecognizer({1.0: "我 的 电话 是"}),
                          bot=DirectRasa(call_settings.rasa_url), tts=build_tts(call_settings),
                          sink=SimulatedLine(16000), settings=call_settings)
    session.run(scripted_frames([noise], 16000))
    [heard] = caller_turns(session)
    assert heard.text == "我的电话是" and 1.0 + WORDLESS_HOLD - 0.05 <= heard.at <= 1.0 + WORDLESS_HOLD + 0.05


def test_caller_id_is_optional(call_settings, fake_rasa, hello_16k) -> None:
    session, _, _ = make_call(call_settings, phone=None)
    session.run(scripted_frames([hello_16k, Silence(1.0)], 16000))
    assert fake_rasa.requests[0]["metadata"] == {"channel": "voice"}


def test_a_turn_that_sounds_finished_is_answered_after_the_short_pause_even_when_the_decoder_waits(
        call_settings, fake_rasa, hello_16k) -> None:
    # Decoder endpoint rules set far too patient: the app's own turn end must close the utterance.
    settings = call_settings.with_overrides(endpoint_rule2=5.0, endpoint_rule3=5.0, endpoint_rule4=5.0,
                                            endpoint_silence=0.4, endpoint_silence_long=0.9)
    session, _, _ = make_call(settings)
    session.run(scripted_frames([Silence(0.5), hello_16k, Silence(3.0)], 16000))
    [heard] = [e for e in session.events if isinstance(e, Turn) and e.role == "caller"]
    assert heard.text == "안녕하세요"
    speech_end = 0.5 + len(hello_16k) / 2 / 16000
    assert heard.at - speech_end < 0.4 + 0.05  # espeak's own trailing quiet counts towards the 0.4 s


def unfinished_after(settings, tmp_path, word: str):
    """Settings under which a turn ending in `word` sounds unfinished (the test model speaks Korean)."""
    words = tmp_path / "unfinished.txt"
    words.write_text(f"# test list\n{word}\n", encoding="utf-8")
    return settings.with_overrides(unfinished_words=words, endpoint_silence=0.4, endpoint_silence_long=0.9)


def caller_turns(session: CallSession) -> list[Turn]:
    return [e for e in session.events if isinstance(e, Turn) and e.role == "caller"]


def test_a_turn_that_sounds_unfinished_waits_for_the_rest_and_goes_to_the_bot_whole(
        call_settings, fake_rasa, hello_16k, thanks_16k, tmp_path) -> None:
    session, _, _ = make_call(unfinished_after(call_settings, tmp_path, "안녕하세요"))
    session.run(scripted_frames([Silence(0.5), hello_16k, pause_after(hello_16k, 0.6), thanks_16k, Silence(2.0)],
                                16000))
    assert [t.text for t in caller_turns(session)] == ["안녕하세요 감사합니다"]
    assert fake_rasa.messages == ["안녕하세요 감사합니다"]


def test_the_same_pause_ends_a_turn_that_sounds_finished(call_settings, fake_rasa, hello_16k, thanks_16k) -> None:
    settings = call_settings.with_overrides(unfinished_words=None, endpoint_silence=0.4, endpoint_silence_long=0.9)
    session, _, _ = make_call(settings)
    session.run(scripted_frames([Silence(0.5), hello_16k, pause_after(hello_16k, 0.6), thanks_16k, Silence(2.0)],
                                16000))
    assert fake_rasa.messages == ["안녕하세요", "감사합니다"]


def test_a_turn_that_sounds_unfinished_ends_after_the_long_pause(
        call_settings, fake_rasa, hello_16k, tmp_path) -> None:
    session, _, _ = make_call(unfinished_after(call_settings, tmp_path, "안녕하세요"))
    session.run(scripted_frames([Silence(0.5), hello_16k, Silence(3.0)], 16000))
    [heard] = caller_turns(session)
    assert heard.text == "안녕하세요"
    speech_end = 0.5 + len(hello_16k) / 2 / 16000
    assert 0.5 < heard.at - speech_end < 0.9 + 0.05


def test_a_pause_longer_than_the_long_one_ends_even_an_unfinished_turn(
        call_settings, fake_rasa, hello_16k, thanks_16k, tmp_path) -> None:
    session, _, _ = make_call(unfinished_after(call_settings, tmp_path, "안녕하세요"))
    session.run(scripted_frames([Silence(0.5), hello_16k, pause_after(hello_16k, 1.2), thanks_16k, Silence(2.0)],
                                16000))
    assert fake_rasa.messages == ["안녕하세요", "감사합니다"]


def test_a_long_turn_is_not_cut_at_a_short_pause(call_settings, fake_rasa, hello_16k, thanks_16k) -> None:
    # Someone telling a story pauses between clauses: after VOICE_LONG_TURN of speech, pauses are long.
    settings = call_settings.with_overrides(long_turn=0.3, endpoint_silence=0.4, endpoint_silence_long=0.9)
    session, _, _ = make_call(settings)
    session.run(scripted_frames([Silence(0.5), hello_16k, pause_after(hello_16k, 0.6), thanks_16k, Silence(2.0)],
                                16000))
    assert fake_rasa.messages == ["안녕하세요 감사합니다"]


def test_the_last_words_of_a_held_turn_are_heard_when_the_caller_hangs_up(
        call_settings, fake_rasa, hello_16k, tmp_path) -> None:
    session, _, _ = make_call(unfinished_after(call_settings, tmp_path, "안녕하세요"))
    session.run(scripted_frames([Silence(0.5), hello_16k, pause_after(hello_16k, 0.6)], 16000))  # gone mid-turn
    assert fake_rasa.messages == ["안녕하세요"]


def test_chunked_decoding_answers_as_soon_as_frame_by_frame_decoding(call_settings, fake_rasa, hello_16k) -> None:
    heard = {}
    for chunk in (0.0, 0.2):
        session, _, _ = make_call(call_settings.with_overrides(asr_chunk=chunk))
        session.run(scripted_frames([Silence(0.5), hello_16k, Silence(1.5)], 16000))
        [turn] = [e for e in session.events if isinstance(e, Turn) and e.role == "caller"]
        heard[chunk] = turn
    assert heard[0.2].text == heard[0.0].text == "안녕하세요"
    # Once the caller stops, every frame goes to the decoder at once: chunks add nothing to the wait.
    assert abs(heard[0.2].at - heard[0.0].at) <= 0.02 + 1e-6


def test_partials_are_shown_only_while_the_caller_speaks(call_settings, fake_rasa, hello_16k) -> None:
    session, _, _ = make_call(call_settings.with_overrides(partial_interval=0.1))
    session.run(scripted_frames([Silence(2.0), hello_16k, Silence(3.0)], 16000))
    partials = [e.at for e in session.events if isinstance(e, Partial)]
    speech_end = 2.0 + len(hello_16k) / 2 / 16000
    assert partials and all(2.0 < at <= speech_end + 0.15 + 0.1 for at in partials), partials


def test_no_partials_when_switched_off(call_settings, fake_rasa, hello_16k) -> None:
    session, _, _ = make_call(call_settings.with_overrides(partial_interval=0))
    session.run(scripted_frames([Silence(0.5), hello_16k, Silence(1.5)], 16000))
    assert not any(isinstance(e, Partial) for e in session.events)
    assert ("caller", "안녕하세요") in turns(session)  # the utterance is still heard and closed


def test_keys_pressed_faster_than_audio_comes_are_bounded(call_settings, fake_rasa) -> None:
    """A line that sends keys and no audio: what waits for the next frame does not grow without end."""
    from bot.voice.call import MAX_KEYS_WAITING

    session = CallSession(recognizer=ScriptedRecognizer({}), bot=DirectRasa(call_settings.rasa_url),
                          tts=build_tts(call_settings), sink=SimulatedLine(16000), settings=call_settings)
    for _ in range(100_000):
        session.push_dtmf("1")
    assert session._keys.qsize() == MAX_KEYS_WAITING
    session.push_dtmf("#")  # and the line still works: the next frames take what was kept
    session.run(scripted_frames([Silence(0.5)], 16000))
    assert session._keys.qsize() == 0
