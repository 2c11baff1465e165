"""Finding 4: the gateway's `/ws/audio` against a live gateway with the Korean Vosk model.

The socket needs the channel token before any frame is read (else 4401); it takes 8000, 16000 or
48000 Hz only (47999 Hz once built a ~960k-tap filter on the event loop and stalled the gateway for
15 s); resampling and recognition run off the event loop; at most GATEWAY_MAX_AUDIO_CONNECTIONS
sockets at once (then 1013); a start message within GATEWAY_AUDIO_START_TIMEOUT and some frame
every GATEWAY_AUDIO_IDLE_TIMEOUT seconds (else 4408); a bad frame after the start is answered with
an error and the socket goes on working.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Iterator

import aiohttp
import pytest
import websockets

from tests.bot.gateway.conftest import CHANNEL_HEADERS, CHANNEL_TOKEN, Gateway, poll
from tests.bot.voice.helpers import KOREAN_MODEL, korean_speech
from tests.support.aio import run as run_async

MAX_CONNECTIONS = 3
START_TIMEOUT = 2.0
IDLE_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def audio_gateway(fake_rasa: str, tmp_path_factory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("audio_gateway")
    grammar = tmp / "grammar.txt"
    grammar.write_text("안녕하세요\n감사합니다\n", encoding="utf-8")
    gateway = Gateway(fake_rasa, tmp, {
        "VOSK_MODEL": str(KOREAN_MODEL), "VOSK_GRAMMAR": str(grammar), "TTS_CACHE_DIR": str(tmp / "cache"),
        "GATEWAY_MAX_AUDIO_CONNECTIONS": str(MAX_CONNECTIONS), "GATEWAY_AUDIO_START_TIMEOUT": str(START_TIMEOUT),
        "GATEWAY_AUDIO_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
    }).start()
    run_async(_warm_up(gateway))
    yield gateway
    gateway.stop()


async def _warm_up(gateway: Gateway) -> None:
    """Load the model into the gateway (seconds, once) so that the timing tests time only themselves."""
    async with websockets.connect(ws_url(gateway), extra_headers=CHANNEL_HEADERS) as ws:
        await ws.send(start("ws-warm-up"))
        await ws.send(json.dumps({"type": "stop"}))
        assert (await next_json(ws, 60))["type"] == "final"


@pytest.fixture(scope="module")
def hello_16k() -> bytes:
    return korean_speech("안녕하세요", 16000)


def ws_url(gateway: Gateway) -> str:
    return f"{gateway.url.replace('http', 'ws')}/ws/audio"


def start(sender: str, rate: int = 16000, **extra: object) -> str:
    return json.dumps({"type": "start", "sender": sender, "sample_rate": rate, **extra})


async def next_json(ws, timeout: float = 10.0) -> dict:
    """The next text frame (spoken replies, binary, are skipped)."""
    while True:
        frame = await asyncio.wait_for(ws.recv(), timeout)
        if isinstance(frame, str):
            return json.loads(frame)


async def closed_with(ws, timeout: float = 10.0) -> int | None:
    await asyncio.wait_for(ws.wait_closed(), timeout)
    return ws.close_code


async def say(ws, pcm: bytes, chunk: int = 3200) -> dict:
    """Send speech and "stop"; the bot's answer."""
    for offset in range(0, len(pcm), chunk):
        await ws.send(pcm[offset : offset + chunk])
    await ws.send(json.dumps({"type": "stop"}))
    while True:
        frame = await next_json(ws, 30)
        if frame["type"] in ("bot", "error"):
            return frame


# -- the token ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, headers", [("none", {}), ("wrong", {"Authorization": "Bearer wrong"}),
                                           ("basic", {"Authorization": f"Basic {CHANNEL_TOKEN}"})])
def test_without_the_token_the_socket_is_closed_before_any_audio_is_read(audio_gateway: Gateway, name: str,
                                                                          headers: dict) -> None:
    sender = f"ws-no-token-{name}"

    async def talk() -> tuple[dict, int | None]:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=headers) as ws:
            frame = await next_json(ws)
            with_speech = [ws.send(start(sender)), ws.send(b"\0\0" * 1600), ws.send(json.dumps({"type": "stop"}))]
            for sending in with_speech:
                try:
                    await sending
                except websockets.ConnectionClosed:
                    pass
            return frame, await closed_with(ws)

    frame, code = run_async(talk())
    assert frame["type"] == "error" and frame["error"]["code"] == "unauthorized" and frame["error"]["message"]
    assert code in (4401, 1008)
    # Nothing it might have sent reached a conversation.
    assert poll(audio_gateway.url, sender=sender).json() == {"state": "bot", "messages": []}


# -- the start message -------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [47999, 44100, 8001, 96000, 0, -16000, "fast", 16000.5, True])
def test_only_8_16_and_48_khz_are_taken(audio_gateway: Gateway, rate) -> None:
    async def talk() -> tuple[dict, int | None, float]:
        began = time.monotonic()
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(start("ws-rate", rate))
            await ws.send(b"\0" * 6)
            frame = await next_json(ws)
            return frame, await closed_with(ws), time.monotonic() - began

    frame, code, took = run_async(talk())
    assert frame["type"] == "error" and frame["error"]["code"] in ("unsupported_sample_rate", "bad_start")
    assert "采样率" in frame["text"] or "开始消息" in frame["text"]
    assert code == 1008
    assert took < 3, f"refusing a sample rate took {took:.1f}s"


@pytest.mark.parametrize("extra", [{"tts": "no"}, {"push_to_talk": "yes"}, {"tts": 1}, {"push_to_talk": None}])
def test_start_options_must_be_real_booleans(audio_gateway: Gateway, extra: dict) -> None:
    async def talk() -> tuple[dict, int | None]:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(start("ws-options", 16000, **extra))
            return await next_json(ws), await closed_with(ws)

    frame, code = run_async(talk())
    assert frame["error"]["code"] == "bad_start" and code == 1008


def test_a_start_message_nested_too_deep_to_read_is_refused_politely(audio_gateway: Gateway) -> None:
    async def talk() -> tuple[dict, int | None]:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send("[" * 100_000)
            return await next_json(ws), await closed_with(ws)

    frame, code = run_async(talk())
    assert frame["error"]["code"] == "bad_start" and code == 1008


@pytest.mark.parametrize("sender", ["<script>", "a" * 129, "", "call 1", "呼叫", 12345, None])
def test_the_sender_is_checked_like_the_channel_api_does(audio_gateway: Gateway, sender) -> None:
    async def talk() -> tuple[dict, int | None]:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(json.dumps({"type": "start", "sender": sender, "sample_rate": 16000}))
            return await next_json(ws), await closed_with(ws)

    frame, code = run_async(talk())
    assert frame["type"] == "error" and frame["error"]["code"] == "bad_sender" and "sender" in frame["text"]
    assert code == 1008


def test_the_start_message_must_come_in_time(audio_gateway: Gateway) -> None:
    async def talk() -> tuple[dict, int | None, float]:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            began = time.monotonic()
            frame = await next_json(ws, START_TIMEOUT + 10)
            return frame, await closed_with(ws), time.monotonic() - began

    frame, code, took = run_async(talk())
    assert frame["error"]["code"] == "start_timeout" and "开始消息" in frame["text"]
    assert code == 4408 and took < START_TIMEOUT + 3


# -- after the start -----------------------------------------------------------------------------------
def test_an_idle_socket_is_closed(audio_gateway: Gateway) -> None:
    async def talk() -> tuple[dict, int | None, float]:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(start("ws-idle"))
            await ws.send(b"\0\0" * 320)
            began = time.monotonic()
            frame = await next_json(ws, IDLE_TIMEOUT + 10)
            return frame, await closed_with(ws), time.monotonic() - began

    frame, code, took = run_async(talk())
    assert frame["error"]["code"] == "idle_timeout"
    assert code == 4408 and IDLE_TIMEOUT - 0.5 < took < IDLE_TIMEOUT + 3


@pytest.mark.parametrize("rate", [16000, 48000])
def test_bad_frames_are_answered_and_the_socket_keeps_working(audio_gateway: Gateway, rate: int) -> None:
    speech = b"\0\0" * (rate // 5) + korean_speech("안녕하세요", rate) + b"\0\0" * (rate // 2)
    sender = f"ws-bad-frames-{rate}"

    async def talk() -> tuple[list[dict], dict]:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(start(sender, rate))
            errors = []
            for bad in (b"\0" * 321, b"\1", b"\0\0" * (rate + 1), "not json", json.dumps({"type": "dance"}),
                        "[" * 100_000):
                await ws.send(bad)
                errors.append(await next_json(ws))
            return errors, await say(ws, speech, chunk=rate // 5)

    errors, answer = run_async(talk())
    assert [e["error"]["code"] for e in errors] == ["odd_frame", "odd_frame", "frame_too_large", "bad_message",
                                                     "bad_message", "bad_message"]
    assert all(e["type"] == "error" and e["text"] == e["error"]["message"] for e in errors)
    assert answer == {"type": "bot", "text": "收到：안녕하세요", "role": "bot"}
    assert [m["text"] for m in poll(audio_gateway.url, sender=sender).json()["messages"]] == [
        "안녕하세요", "收到：안녕하세요"]


# -- the gateway as a whole ------------------------------------------------------------------------------
def test_the_gateway_stays_responsive_while_audio_sockets_are_busy(audio_gateway: Gateway, hello_16k: bytes) -> None:
    speech_48k = korean_speech("안녕하세요", 48000)

    async def stream(sender: str, rate: int, pcm: bytes, seconds: float) -> None:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(start(sender, rate))
            chunk = rate // 10 * 2  # 100 ms frames, faster than real time
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for offset in range(0, len(pcm), chunk):
                    await ws.send(pcm[offset : offset + chunk])
                await asyncio.sleep(0.01)

    async def hostile() -> dict:
        async with websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS) as ws:
            await ws.send(start("ws-hostile", 47999))
            await ws.send(b"\1\0" * 3)
            return await next_json(ws)

    async def health_latencies(seconds: float) -> list[float]:
        latencies = []
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                began = time.monotonic()
                async with http.get(f"{audio_gateway.url}/api/v1/health", timeout=aiohttp.ClientTimeout(total=30)) as r:
                    assert r.status == 200
                latencies.append(time.monotonic() - began)
                await asyncio.sleep(0.1)
        return latencies

    async def scenario() -> tuple[list[float], dict]:
        busy = [asyncio.create_task(stream("ws-busy-1", 48000, speech_48k, 4)),
                asyncio.create_task(stream("ws-busy-2", 16000, hello_16k, 4))]
        await asyncio.sleep(0.5)
        refused = asyncio.create_task(hostile())
        latencies = await health_latencies(4)
        await asyncio.gather(*busy)
        return latencies, await refused

    latencies, refused = run_async(scenario())
    assert refused["error"]["code"] == "unsupported_sample_rate"
    assert len(latencies) >= 10 and max(latencies) < 1.5, f"health took up to {max(latencies):.2f}s"


def test_audio_connections_are_capped(audio_gateway: Gateway) -> None:
    async def attempt(sender: str):
        """A socket that was accepted (it listens quietly), or the refusal's first frame and close code."""
        ws = await websockets.connect(ws_url(audio_gateway), extra_headers=CHANNEL_HEADERS)
        try:
            await ws.send(start(sender))
        except websockets.ConnectionClosed:
            pass  # refused at once, before its start message
        try:
            frame = await next_json(ws, 1.0)
        except asyncio.TimeoutError:
            return ws
        except websockets.ConnectionClosed:
            frame = None
        return frame, await closed_with(ws)

    async def hold(sender: str, held: list, stop: asyncio.Event) -> None:
        # Sockets of earlier tests may still be finishing their last frames on the server: retry a while.
        for _ in range(30):
            ws = await attempt(sender)
            if not isinstance(ws, tuple):
                break
            await asyncio.sleep(0.3)
        else:
            raise AssertionError(f"{sender} was never accepted: {ws}")
        held.append(ws)
        while not stop.is_set():
            await ws.send(json.dumps({"type": "ping"}))  # keeps the idle timer away
            await asyncio.sleep(0.3)
        await ws.close()

    async def scenario() -> tuple[tuple, object]:
        stop, held = asyncio.Event(), []
        holders = [asyncio.create_task(hold(f"ws-cap-{i}", held, stop)) for i in range(MAX_CONNECTIONS)]
        while len(held) < MAX_CONNECTIONS:
            await asyncio.sleep(0.1)
            for task in holders:
                if task.done():
                    task.result()
        over = await attempt("ws-cap-extra")
        stop.set()
        await asyncio.gather(*holders)
        for _ in range(10):  # the slots come back as the server sees the sockets close
            again = await attempt("ws-cap-again")
            if not isinstance(again, tuple):
                await again.close()
                break
            await asyncio.sleep(0.3)
        return over, again

    over, again = run_async(scenario())
    assert isinstance(over, tuple), "one socket more than the cap was accepted"
    frame, code = over
    assert frame is not None and frame["error"]["code"] == "busy" and "繁忙" in frame["text"]
    assert code == 1013
    assert not isinstance(again, tuple), f"a slot was not given back: {again}"
