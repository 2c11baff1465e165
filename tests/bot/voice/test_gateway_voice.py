"""Voice through the real gateway (`python -m bot gateway`): the /ws/audio socket, and a phone call
whose conversation an operator takes over, with the operator's typed replies spoken to the caller,
and which ends with a spoken goodbye when the operator closes the conversation.

The bot behind the gateway is the fake Rasa REST server (this tests the voice side of the gateway).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Iterator

import pytest
import websockets

from bot.voice.asr import new_recognizer
from bot.voice.audio_io import SimulatedLine, Silence, scripted_frames
from bot.voice.bot_client import GatewayChannelClient
from bot.voice.call import CallSession, Hangup, TransferRequested, Turn
from bot.voice.normalize import normalize_transcript
from bot.voice.prompts import PROMPTS
from bot.voice.tts import build_tts
from bot.voice.wavfile import read_wav
from tests.bot.gateway.conftest import CHANNEL_HEADERS, CHANNEL_TOKEN, Gateway, login, poll
from tests.bot.voice.helpers import KOREAN_MODEL, FakeRasa, korean_speech, pause_after
from tests.support.aio import run as run_async

OPERATOR_TEXT = "您好，我是人工客服，请讲。"


@pytest.fixture(scope="module")
def rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


@pytest.fixture(scope="module")
def grammar(tmp_path_factory):
    path = tmp_path_factory.mktemp("grammar") / "phrases.txt"
    path.write_text("안녕하세요\n감사합니다\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def gateway(rasa: FakeRasa, grammar, tmp_path_factory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("gateway")
    gw = Gateway(rasa.url, tmp, {"VOSK_MODEL": str(KOREAN_MODEL), "VOSK_GRAMMAR": str(grammar),
                                 "TTS_CACHE_DIR": str(tmp / "cache")}).start()
    yield gw
    gw.stop()


def ws_url(gateway: Gateway) -> str:
    return f"ws://127.0.0.1:{gateway.port}/ws/audio"


async def push_to_talk(url: str, start: dict, pcm: bytes, chunk: int = 3200) -> tuple[list[dict], list[bytes]]:
    texts, audio = [], []
    async with websockets.connect(url, extra_headers=CHANNEL_HEADERS) as ws:
        await ws.send(json.dumps(start))
        for offset in range(0, len(pcm), chunk):
            await ws.send(pcm[offset : offset + chunk])
        await ws.send(json.dumps({"type": "stop"}))
        while True:
            message = await asyncio.wait_for(ws.recv(), 30)
            if isinstance(message, bytes):
                audio.append(message)
                break  # the spoken reply comes after its text
            texts.append(json.loads(message))
    return texts, audio


def test_browser_push_to_talk_is_recognized_routed_and_answered(gateway: Gateway, rasa: FakeRasa) -> None:
    speech = b"\0\0" * 4800 + korean_speech("안녕하세요", 48000) + b"\0\0" * 4800  # a browser's 48 kHz
    start = {"type": "start", "sender": "ptt-1", "sample_rate": 48000, "phone": "13812345678", "tts": True}
    texts, audio = run_async(push_to_talk(ws_url(gateway), start, speech))
    kinds = [t["type"] for t in texts]
    assert "partial" in kinds
    assert {"type": "final", "text": "안녕하세요"} in texts
    assert texts[-1]["type"] == "bot" and texts[-1]["text"] == "收到：안녕하세요。工单号20261127001。"
    pcm, rate = read_wav(audio[0])
    assert rate == 16000 and len(pcm) / 2 / rate > 1.0
    # It went through the gateway's router: the conversation is stored as a voice conversation.
    assert rasa.requests[-1]["sender"] == "ptt-1"
    history = poll(gateway.url, sender="ptt-1", after=0).json()
    assert [m["text"] for m in history["messages"] if m["role"] == "user"] == ["안녕하세요"]


@pytest.mark.parametrize("rate", ["fast", "²", "١٦٠٠٠"])  # digits to str.isdigit, no rate to anybody
def test_a_bad_start_message_gets_a_polite_error(gateway: Gateway, rate: str) -> None:
    async def talk() -> tuple[dict, int]:
        async with websockets.connect(ws_url(gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": rate}))
            reply = json.loads(await ws.recv())
            await ws.wait_closed()
            return reply, ws.close_code

    reply, code = run_async(talk())
    assert reply["type"] == "error" and "开始消息" in reply["text"]
    assert code == 1008


def test_the_audio_socket_is_no_way_into_a_web_users_chat(gateway: Gateway) -> None:
    async def talk() -> tuple[dict, int]:
        async with websockets.connect(ws_url(gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(json.dumps({"type": "start", "sender": "web-" + "0123456789abcdef" * 2, "sample_rate": 16000}))
            reply = json.loads(await ws.recv())
            await ws.wait_closed()
            return reply, ws.close_code

    reply, code = run_async(talk())
    assert reply["type"] == "error" and "网页聊天" in reply["text"] and code == 1008


def test_without_a_model_the_socket_sends_the_notice_and_closes(rasa: FakeRasa, tmp_path) -> None:
    gw = Gateway(rasa.url, tmp_path, {"VOSK_MODEL": str(tmp_path / "no-model")}).start()
    try:
        async def talk() -> tuple[dict, int]:
            async with websockets.connect(ws_url(gw), extra_headers=CHANNEL_HEADERS) as ws:
                await ws.send(json.dumps({"type": "start", "sender": "x", "sample_rate": 16000}))
                reply = json.loads(await ws.recv())
                await ws.wait_closed()
                return reply, ws.close_code

        reply, code = run_async(talk())
    finally:
        gw.stop()
    assert reply["type"] == "error" and "python -m bot model download" in reply["text"] and "语音" in reply["text"]
    assert code == 1011


def test_an_operator_takes_over_a_call_and_the_caller_hears_the_replies(gateway: Gateway, grammar, tmp_path) -> None:
    from bot.voice.settings import VoiceSettings

    settings = VoiceSettings.from_env({}).with_overrides(
        model_dir=KOREAN_MODEL, grammar_file=grammar, gateway_url=gateway.url, greet=False,
        prompt_cache_dir=tmp_path / "cache", reprompt_after=60, hangup_after=120)
    line = SimulatedLine(16000)
    operator_done = threading.Event()

    def operator_answers(event) -> None:
        if isinstance(event, TransferRequested):
            def act() -> None:
                console, csrf = login(gateway.url, "alice")
                headers = {"X-CSRF-Token": csrf}
                conversation = f"{gateway.url}/api/v1/console/conversations/{session.sender}"
                console.post(f"{conversation}/claim", headers=headers).raise_for_status()
                console.post(f"{conversation}/reply", json={"text": OPERATOR_TEXT}, headers=headers).raise_for_status()
                operator_done.set()
            threading.Thread(target=act, daemon=True).start()

    session = CallSession(recognizer=new_recognizer(settings), bot=GatewayChannelClient(gateway.url, token=CHANNEL_TOKEN),
                          tts=build_tts(settings), sink=line, settings=settings, caller_id="13812345678", on_event=operator_answers)

    def caller():
        yield from scripted_frames([korean_speech("감사합니다", 16000), Silence(1.0)], 16000)
        deadline = time.monotonic() + 20  # then a live line: silence in real time until the operator spoke
        while time.monotonic() < deadline and not any(
                isinstance(e, Turn) and e.text == OPERATOR_TEXT for e in session.events):
            yield b"\0\0" * 320
            time.sleep(0.02)

    session.run(caller())
    said = [(e.role, e.text) for e in session.events if isinstance(e, Turn)]
    assert said[0] == ("caller", "감사합니다")
    assert ("bot", "好的，正在为您转接人工客服。") in said
    assert operator_done.is_set()
    assert said[-1] == ("bot", OPERATOR_TEXT)  # typed by the operator, spoken to the caller


def operator_closes(gateway: Gateway, sender: str, reply: str | None = None) -> None:
    """What an operator does in the console: claim the waiting call, maybe answer, close it."""
    console, csrf = login(gateway.url, "bob")
    headers = {"X-CSRF-Token": csrf}
    conversation = f"{gateway.url}/api/v1/console/conversations/{sender}"
    console.post(f"{conversation}/claim", headers=headers).raise_for_status()
    if reply:
        console.post(f"{conversation}/reply", json={"text": reply}, headers=headers).raise_for_status()
    console.post(f"{conversation}/close", headers=headers).raise_for_status()


def test_an_operator_closing_the_call_says_goodbye_and_hangs_up(gateway: Gateway, grammar, tmp_path) -> None:
    from bot.voice.settings import VoiceSettings

    settings = VoiceSettings.from_env({}).with_overrides(
        model_dir=KOREAN_MODEL, grammar_file=grammar, gateway_url=gateway.url, greet=False,
        prompt_cache_dir=tmp_path / "cache", reprompt_after=60, hangup_after=120)
    closer: list[threading.Thread] = []

    def on_event(event) -> None:
        if isinstance(event, TransferRequested):
            closer.append(threading.Thread(target=operator_closes, args=(gateway, session.sender, OPERATOR_TEXT)))
            closer[0].start()

    session = CallSession(recognizer=new_recognizer(settings), bot=GatewayChannelClient(gateway.url, token=CHANNEL_TOKEN),
                          tts=build_tts(settings), sink=SimulatedLine(16000), settings=settings, on_event=on_event)

    def caller():  # says "thank you" (a handoff here), then stays on a live, silent line for up to 30 s
        yield from scripted_frames([korean_speech("감사합니다", 16000), Silence(1.0)], 16000)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            yield b"\0\0" * 320
            time.sleep(0.02)

    started = time.monotonic()
    reason = session.run(caller())
    assert reason == "closed"
    assert time.monotonic() - started < 20, "the call stayed up after the operator closed it"
    said = [(e.role, e.text) for e in session.events if isinstance(e, Turn)]
    # The operator's last words, then the goodbye; the web chat's "please rate us" notice is not read out.
    assert said[-2:] == [("bot", OPERATOR_TEXT), ("bot", PROMPTS["goodbye_closed"])]
    assert not any("评价" in text for _, text in said)
    assert isinstance(session.events[-1], Hangup) and session.events[-1].reason == "closed"


def test_an_operator_closing_a_websocket_call_sends_goodbye_and_closes_the_socket(gateway: Gateway) -> None:
    sender = "ws-close-1"
    speech = korean_speech("감사합니다", 16000) + b"\0\0" * 8000

    async def call() -> tuple[list[dict], list[bytes], int | None]:
        texts: list[dict] = []
        audio: list[bytes] = []
        async with websockets.connect(ws_url(gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(json.dumps({"type": "start", "sender": sender, "sample_rate": 16000, "tts": True}))
            for offset in range(0, len(speech), 3200):
                await ws.send(speech[offset : offset + 3200])
            await ws.send(json.dumps({"type": "stop"}))
            closing = None
            try:
                while True:
                    try:
                        message = await asyncio.wait_for(ws.recv(), 30)
                    except asyncio.TimeoutError:
                        if closing is not None and closing.done():
                            closing.result()  # the operator's steps failed: that is the error to see
                        log = gateway.log.read_text(encoding="utf-8", errors="replace")[-3000:]
                        raise AssertionError(f"nothing more came after {texts}; the gateway's log:\n{log}") from None
                    if isinstance(message, bytes):
                        audio.append(message)
                        continue
                    texts.append(json.loads(message))
                    if texts[-1]["type"] == "bot" and closing is None:  # handed off: the operator closes
                        closing = asyncio.create_task(asyncio.to_thread(operator_closes, gateway, sender))
            except websockets.ConnectionClosed:
                pass
            await closing
            return texts, audio, ws.close_code

    texts, audio, code = run_async(call())
    assert texts[-1] == {"type": "closed", "text": PROMPTS["goodbye_closed"]}
    assert code == 1000
    pcm, rate = read_wav(audio[-1])  # the goodbye, spoken
    assert rate == 16000 and len(pcm) / 2 / rate > 1.5


# -- a caller's turn on a media stream ----------------------------------------------------------------
# The recognizer closes an utterance after at most 1.2 s of silence (its last endpoint rule); a pause of
# 1.3 s between two phrases is then always two utterances, and shorter than the long pause below.
LONG_PAUSE, GAP = 1.5, 1.3
@pytest.fixture(scope="module")
def holding_gateway(rasa: FakeRasa, grammar, tmp_path_factory) -> Iterator[Gateway]:
    """A gateway on which a turn ending in "안녕하세요" sounds unfinished (the test model speaks Korean)."""
    tmp = tmp_path_factory.mktemp("holding-gateway")
    words = tmp / "unfinished.txt"
    words.write_text("안녕하세요\n", encoding="utf-8")
    gw = Gateway(rasa.url, tmp, {"VOSK_MODEL": str(KOREAN_MODEL), "VOSK_GRAMMAR": str(grammar),
                                 "TTS_CACHE_DIR": str(tmp / "cache"), "VOICE_UNFINISHED_WORDS": str(words),
                                 "VOICE_ENDPOINT_SILENCE_LONG": str(LONG_PAUSE)}).start()
    yield gw
    gw.stop()


async def stream(url: str, start: dict, pcm: bytes, *, replies: int, stop: bool = False,
                 chunk: int = 3200) -> list[dict]:
    """Send `pcm` as a media stream (no "stop" unless asked), then collect messages until `replies`
    bot messages came, or 5 s passed without any message."""
    texts: list[dict] = []
    async with websockets.connect(url, extra_headers=CHANNEL_HEADERS) as ws:
        await ws.send(json.dumps(start))
        for offset in range(0, len(pcm), chunk):
            await ws.send(pcm[offset : offset + chunk])
        if stop:
            await ws.send(json.dumps({"type": "stop"}))
        with contextlib.suppress(asyncio.TimeoutError):
            while sum(t["type"] == "bot" for t in texts) < replies:
                message = await asyncio.wait_for(ws.recv(), 5)
                if not isinstance(message, bytes):
                    texts.append(json.loads(message))
    return texts


def two_phrases_with_a_pause(gap: float, tail: float) -> bytes:
    """Korean "hello", a pause of `gap` s from its last loud frame, "thank you", `tail` s of silence."""
    first, second = korean_speech("안녕하세요", 16000), korean_speech("감사합니다", 16000)
    return (b"\0\0" * 3200 + first + silence(pause_after(first, gap).seconds) + second
            + silence(pause_after(second, tail).seconds))


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(16000 * seconds)


def finals(texts: list[dict]) -> list[str]:
    return [t["text"] for t in texts if t["type"] == "final" and t["text"]]


def test_a_media_stream_turn_that_sounds_unfinished_waits_for_the_rest(holding_gateway: Gateway, rasa: FakeRasa) -> None:
    start = {"type": "start", "sender": "stream-hold-1", "sample_rate": 16000}
    texts = run_async(stream(ws_url(holding_gateway), start, two_phrases_with_a_pause(GAP, 1.5), replies=1))
    whole = normalize_transcript("안녕하세요 감사합니다")
    assert finals(texts) == [whole]  # one turn, not the first phrase answered on its own
    assert [r["message"] for r in rasa.requests if r["sender"] == "stream-hold-1"] == [whole]
    # The caller's screen showed the held words before the rest while they spoke.
    assert any(t["type"] == "partial" and t["text"].startswith("안녕하세요") and t["text"] != "안녕하세요"
               for t in texts)


def test_a_media_stream_turn_that_sounds_finished_is_answered_at_the_pause(gateway: Gateway, rasa: FakeRasa) -> None:
    # The same audio where nothing sounds unfinished: two turns, each answered when its pause came.
    start = {"type": "start", "sender": "stream-hold-2", "sample_rate": 16000}
    texts = run_async(stream(ws_url(gateway), start, two_phrases_with_a_pause(GAP, 1.5), replies=2))
    assert finals(texts) == ["안녕하세요", "감사합니다"]
    assert [t["type"] for t in texts if t["type"] in ("final", "bot")] == ["final", "bot", "final", "bot"]


def test_a_held_turn_is_answered_when_the_stream_falls_silent_on_the_wire(holding_gateway: Gateway) -> None:
    # A client with silence suppression sends nothing after the words: the held turn is answered after
    # the long pause of wall-clock time, not at the idle timeout.
    start = {"type": "start", "sender": "stream-hold-3", "sample_rate": 16000}
    words = korean_speech("안녕하세요", 16000)
    speech = silence(0.2) + words + silence(pause_after(words, GAP).seconds)  # then nothing on the wire
    began = time.monotonic()
    texts = run_async(stream(ws_url(holding_gateway), start, speech, replies=1))
    assert finals(texts) == ["안녕하세요"]
    assert texts[-1]["type"] == "bot" and "안녕하세요" in texts[-1]["text"]
    assert time.monotonic() - began < 10


def test_push_to_talk_is_one_turn_until_stop_whatever_the_pauses(gateway: Gateway, rasa: FakeRasa) -> None:
    start = {"type": "start", "sender": "ptt-pauses", "sample_rate": 16000, "push_to_talk": True}
    texts = run_async(stream(ws_url(gateway), start, two_phrases_with_a_pause(GAP, 0.6), replies=1, stop=True))
    whole = normalize_transcript("안녕하세요 감사합니다")
    assert finals(texts) == [whole]
    assert [r["message"] for r in rasa.requests if r["sender"] == "ptt-pauses"] == [whole]


def test_words_the_recognizer_has_not_closed_are_answered_when_the_wire_falls_silent(gateway: Gateway) -> None:
    # The client stops sending right after the words (silence suppression): the recognizer never hears
    # the pause that would close the utterance, and the turn still ends, with all its words.
    start = {"type": "start", "sender": "stream-open-1", "sample_rate": 16000}
    words = korean_speech("감사합니다", 16000)
    quiet_tail = pause_after(words, 2.0).seconds  # (2 s minus) espeak's own quiet tail
    words = words[:len(words) - int(16000 * (2.0 - quiet_tail - 0.1)) * 2]  # 0.1 s of it left
    texts = run_async(stream(ws_url(gateway), start, silence(0.2) + words, replies=1))
    assert finals(texts) == ["감사합니다"]
    assert texts[-1]["type"] == "bot"  # answered (the fake bot hands "thank you" to a person)


