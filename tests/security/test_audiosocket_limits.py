"""Finding 9: the AudioSocket server (`python -m bot audiosocket`) against peers that misbehave.

A peer that goes quiet is hung up after AUDIOSOCKET_READ_TIMEOUT and its call slot freed; the queue
to the decoder holds at most AUDIOSOCKET_QUEUE_SECONDS of audio; a frame of odd length or a message
of an unknown type does not end the call.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import Iterator

import pytest

from bot.voice import audiosocket_server
from bot.voice.audio_io import QueueSource
from bot.voice.audiosocket import Kind, Message, encode
from bot.voice.settings import VoiceSettings
from tests.bot.voice.helpers import FakeRasa, korean_speech
from tests.bot.voice.test_audiosocket import Peer, connect, run_audiosocket_server
from tests.support.aio import run as run_async

READ_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(rasa: FakeRasa, tmp_path_factory) -> Iterator[int]:
    """One call at a time, so that a slot held by a dead peer would lock every caller out."""
    yield from run_audiosocket_server(
        tmp_path_factory.mktemp("audiosocket-limits"), RASA_URL=rasa.url, AUDIOSOCKET_MAX_CALLS="1",
        AUDIOSOCKET_READ_TIMEOUT=str(READ_TIMEOUT), VOICE_REPROMPT_AFTER="30", VOICE_HANGUP_AFTER="60")


@pytest.fixture(scope="module")
def hello_8k() -> bytes:
    return korean_speech("안녕하세요", 8000)


async def still_up_after(peer: Peer, seconds: float) -> bool:
    """Talk (silence) for `seconds`; whether the line is still up then."""
    await peer.silence(seconds)
    return not peer.closed.is_set()


async def next_caller_is_served(server: int) -> bool:
    """A new call, kept up for 3 s: not told the line is busy (the busy prompt hangs up within ~4 s)."""
    next_call = await connect(server)
    await next_call.send(Kind.UUID, uuid.uuid4().bytes)
    up = await still_up_after(next_call, 3.0)
    await hang_up(next_call)
    return up


async def hang_up(peer: Peer) -> None:
    await peer.send(Kind.HANGUP)
    await asyncio.wait_for(peer.closed.wait(), 15)


def test_a_silent_peer_is_hung_up_and_its_slot_freed(server: int) -> None:
    async def calls() -> tuple[Peer, float, Peer, bool, bool]:
        idle = await connect(server)
        await idle.send(Kind.UUID, uuid.uuid4().bytes)
        await idle.silence(0.2)
        began = asyncio.get_running_loop().time()
        await asyncio.wait_for(idle.closed.wait(), READ_TIMEOUT + 10)  # then sends nothing at all
        idle_for = asyncio.get_running_loop().time() - began
        # The one call slot is free again: the next caller is served, not told the line is busy.
        next_call = await connect(server)
        await next_call.send(Kind.UUID, uuid.uuid4().bytes)
        up = await still_up_after(next_call, 4.0)  # the busy message would hang up within ~4 s
        busy_frames = any(m.kind == Kind.AUDIO for m in next_call.received)
        await hang_up(next_call)
        return idle, idle_for, next_call, up, busy_frames

    idle, idle_for, next_call, up, busy_frames = run_async(calls())
    assert idle_for < READ_TIMEOUT + 3
    assert idle.received[-1] == Message(Kind.HANGUP)  # told, not just dropped
    assert up and not busy_frames, "the dead peer's slot was not given back"


def test_a_connection_that_never_sends_its_uuid_is_dropped_after_the_read_timeout(server: int) -> None:
    async def call() -> float:
        peer = await connect(server)
        began = asyncio.get_running_loop().time()
        await asyncio.wait_for(peer.closed.wait(), READ_TIMEOUT + 10)
        return asyncio.get_running_loop().time() - began

    assert run_async(call()) < READ_TIMEOUT + 3


@pytest.mark.parametrize("filler", [(Kind.DTMF, b"1"), (Kind.AUDIO, b""), (Kind.AUDIO, b"\x00")],
                         ids=["keys", "empty-audio", "one-byte-audio"])
def test_a_peer_that_sends_anything_but_audio_is_hung_up_like_a_silent_one(server: int, filler) -> None:
    async def call() -> tuple[Peer, float, bool]:
        holder = await connect(server)
        await holder.send(Kind.UUID, uuid.uuid4().bytes)
        await holder.silence(0.2)
        began = asyncio.get_running_loop().time()
        while not holder.closed.is_set() and asyncio.get_running_loop().time() - began < READ_TIMEOUT + 10:
            await holder.send(*filler)  # well within the read timeout, every time: no audio, though
            await asyncio.sleep(0.3)
        held = asyncio.get_running_loop().time() - began
        up = await next_caller_is_served(server)
        return holder, held, up

    holder, held, up = run_async(call())
    assert held < READ_TIMEOUT + 3 and holder.closed.is_set()
    assert up, "the holder's slot was not given back"


@pytest.mark.parametrize("flood", [encode(0x42, b"\0" * 8), encode(Kind.AUDIO, b""), encode(Kind.DTMF, b"1")],
                         ids=["unknown-kind", "empty-audio", "keys"])
def test_a_peer_flooding_the_line_without_audio_is_hung_up_at_once(server: int, flood: bytes) -> None:
    """Messages sent as fast as the line takes them never let a read time out: the limits must hold
    for every message, not only when the line goes quiet."""
    async def call() -> tuple[float, bool]:
        holder = await connect(server)
        await holder.send(Kind.UUID, uuid.uuid4().bytes)
        await holder.silence(0.2)
        began = asyncio.get_running_loop().time()
        burst = flood * 500
        while not holder.closed.is_set() and asyncio.get_running_loop().time() - began < READ_TIMEOUT + 20:
            holder.writer.write(burst)
            try:
                await holder.writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0)
        held = asyncio.get_running_loop().time() - began
        up = await next_caller_is_served(server)
        return held, up

    held, up = run_async(call())
    assert held < READ_TIMEOUT + 3, f"the flood held the call for {held:.1f}s"
    assert up, "the flooder's slot was not given back"


def test_every_call_allowed_gets_a_worker_at_once() -> None:
    """Each call holds a worker thread for its whole length: calls beyond asyncio's default pool
    (cores + 4) had a slot and heard nothing until another call ended."""
    calls = 12
    settings = VoiceSettings.from_env({"AUDIOSOCKET_MAX_CALLS": str(calls), "AUDIOSOCKET_PORT": "0",
                                       "AUDIOSOCKET_READ_TIMEOUT": "5"})
    running = threading.Semaphore(0)
    release = threading.Event()

    class HeldSession:  # a call in progress: holds its worker until released
        def run(self, frames) -> str:
            running.release()
            release.wait(30)
            return "caller_hangup"

        def push_dtmf(self, digit: str) -> None:
            pass

    async def scenario() -> int:
        ready: asyncio.Future = asyncio.get_running_loop().create_future()
        serving = asyncio.create_task(audiosocket_server.serve(
            lambda call_id, sink: HeldSession(), settings, ready=ready.set_result))
        port = (await ready).sockets[0].getsockname()[1]
        lines = []
        for _ in range(calls):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(encode(Kind.UUID, uuid.uuid4().bytes))
            lines.append(writer)
        started = 0
        deadline = time.monotonic() + 10
        while started < calls and time.monotonic() < deadline:
            started += await asyncio.to_thread(running.acquire, True, 0.2)
        release.set()
        for writer in lines:
            writer.write(encode(Kind.HANGUP))
            writer.close()
        serving.cancel()
        return started

    assert run_async(scenario()) == 12


def test_a_call_uuid_connects_once() -> None:
    now = [0.0]
    recent = audiosocket_server.RecentCalls(keep_seconds=60, most=3, clock=lambda: now[0])
    assert recent.first_time("a") and recent.first_time("b") and not recent.first_time("a")
    now[0] = 61.0  # long past: forgotten, the bound kept
    assert recent.first_time("a")
    assert all(recent.first_time(c) for c in "cde") and len(recent._seen) <= 3


def test_no_call_outlasts_its_maximum_length_on_the_wall_clock(rasa: FakeRasa, tmp_path) -> None:
    """A line that trickles one sample at a time keeps the call's audio clock nearly still."""
    for port in run_audiosocket_server(tmp_path, RASA_URL=rasa.url, VOICE_MAX_CALL="3",
                                       AUDIOSOCKET_READ_TIMEOUT=str(READ_TIMEOUT)):
        async def call() -> float:
            trickle = await connect(port)
            await trickle.send(Kind.UUID, uuid.uuid4().bytes)
            began = asyncio.get_running_loop().time()
            while not trickle.closed.is_set() and asyncio.get_running_loop().time() - began < 20:
                await trickle.send(Kind.AUDIO, b"\x01\x00")
                await asyncio.sleep(0.3)
            return asyncio.get_running_loop().time() - began

        assert run_async(call()) < 3 + 1.5 + 2


def test_odd_length_frames_and_unknown_message_types_do_not_end_the_call(server: int, rasa: FakeRasa,
                                                                          hello_8k: bytes) -> None:
    async def call() -> tuple[bool, bool]:
        peer = await connect(server)
        await peer.send(Kind.UUID, uuid.uuid4().bytes)
        await peer.silence(0.3)
        await peer.send(Kind.AUDIO, b"\0" * 321)  # half a sample too long
        await peer.send(Kind.AUDIO, b"\1")
        for kind in (0x12, 0x42):  # slin16 from newer Asterisk versions; something unheard of
            peer.writer.write(encode(kind, b"\0" * 640))
        await peer.send(Kind.AUDIO, b"\0" * 319)
        await peer.silence(0.3)
        up_after_bad_frames = not peer.closed.is_set()
        await peer.speak(hello_8k)
        heard = await still_up_after(peer, 1.5)
        await hang_up(peer)
        return up_after_bad_frames, heard

    rasa.requests.clear()
    up_after_bad_frames, up_after_speech = run_async(call())
    assert up_after_bad_frames and up_after_speech
    assert rasa.messages == ["안녕하세요"]  # the call went on to hear the caller and ask the bot


def test_the_queue_to_a_slow_decoder_stays_bounded(caplog: pytest.LogCaptureFixture) -> None:
    """A decoder that falls behind gets the newest audio, at most AUDIOSOCKET_QUEUE_SECONDS of it."""
    settings = VoiceSettings.from_env({"AUDIOSOCKET_QUEUE_SECONDS": "1", "AUDIOSOCKET_READ_TIMEOUT": "5"})
    release = threading.Event()
    seen: list[int] = []

    class StuckSession:  # a decoder far slower than real time: stuck until released
        def run(self, frames) -> str:
            release.wait(30)
            seen.extend(len(frame) for frame in frames)
            return "caller_hangup"

        def push_dtmf(self, digit: str) -> None:
            pass

    async def call() -> None:
        server = await asyncio.start_server(
            lambda r, w: audiosocket_server.handle_connection(r, w, lambda call_id, sink: StuckSession(), settings),
            "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(encode(Kind.UUID, uuid.uuid4().bytes))
            for second in range(5):  # five seconds of line audio, sent at once
                for _ in range(50):
                    writer.write(encode(Kind.AUDIO, bytes([second + 1, 0]) * 160))
                await writer.drain()
            await asyncio.sleep(0.5)
            release.set()
            writer.write(encode(Kind.HANGUP))
            await writer.drain()
            await asyncio.wait_for(reader.read(), 15)  # the server closes its side when the call is over
            writer.close()

    with caplog.at_level(logging.WARNING, logger="bot.voice.audiosocket_server"):
        run_async(call())
    seconds_decoded = sum(seen) / 2 / settings.sample_rate
    assert 0.9 <= seconds_decoded <= 1.05, f"the decoder got {seconds_decoded:.2f}s of the 5 s sent"
    assert "dropping the oldest audio" in caplog.text


def test_a_queue_source_keeps_the_newest_audio_within_its_bound() -> None:
    source = QueueSource(8000, 8000, max_seconds=0.1)  # 1600 bytes: five 20 ms frames
    dropped = sum(source.push(bytes([i, 0]) * 160) for i in range(20))
    assert dropped == 15 and source.dropped == 15 and source.queued_bytes == 1600
    assert source.push(b"\0" * 5) == 1 and source.queued_bytes == 1284  # odd bytes cut, the bound kept
    source.close()
    frames = list(source)
    assert [f[0] for f in frames[:4]] == [16, 17, 18, 19] and len(frames[-1]) == 4
    # Closing never blocks, even with the queue full, and a closed source takes nothing more.
    full = QueueSource(8000, 8000, max_seconds=0.02)
    for _ in range(10):
        full.push(b"\0" * 320)
    began = time.monotonic()
    full.close()
    assert time.monotonic() - began < 0.1 and full.push(b"\0" * 320) == 0
