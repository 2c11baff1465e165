"""Asterisk AudioSocket: the wire format, and whole calls against `python -m bot audiosocket`.

The peer below speaks the protocol byte for byte as Asterisk does: the UUID first, 8 kHz 16-bit
audio in 20 ms frames at real-time pace, DTMF digits, then a hangup.
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from bot.voice.ami import AmiTransfer
from bot.voice.audiosocket import Kind, Message, ProtocolError, encode, read_message
from bot.voice.prompts import PROMPTS
from bot.voice.settings import VoiceSettings
from bot.voice.tts import build_tts
from tests.bot.gateway.conftest import CHANNEL_TOKEN, Gateway, login, poll
from tests.bot.voice.fake_ami import FakeAmi
from tests.bot.voice.helpers import KOREAN_MODEL, FakeRasa, korean_speech
from tests.support.servers import REPO_ROOT, free_port
from tests.support.aio import run as run_async

CALL_UUID = uuid.UUID("6f1a8e0c-3c52-4d2a-9a51-0d6c1b7e2f10")
CHANNEL = "PJSIP/trunk-0000002a"
CALLER = "13812345678"


# -- wire format ------------------------------------------------------------------------------------
def test_messages_are_type_length_payload_big_endian() -> None:
    assert encode(Kind.HANGUP) == b"\x00\x00\x00"
    assert encode(Kind.UUID, CALL_UUID.bytes) == b"\x01\x00\x10" + CALL_UUID.bytes
    assert encode(Kind.DTMF, b"5") == b"\x03\x00\x015"
    assert encode(Kind.AUDIO, b"\x01\x00" * 160)[:3] == b"\x10\x01\x40"  # 320 bytes
    assert encode(Kind.ERROR, b"\x01") == b"\xff\x00\x01\x01"


def test_reading_messages_from_a_stream() -> None:
    async def read_all(data: bytes) -> list[Message | None]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return [await read_message(reader) for _ in range(4)]

    data = encode(Kind.UUID, CALL_UUID.bytes) + encode(Kind.DTMF, b"#") + encode(Kind.ERROR, b"\x02")
    uuid_msg, dtmf, error, end = run_async(read_all(data))
    assert uuid_msg.call_uuid == str(CALL_UUID)
    assert dtmf.digit == "#"
    assert error.error_text == "frame forwarding error"
    assert end is None  # the peer closed
    with pytest.raises(ProtocolError):
        run_async(read_all(b"\x42\x00\x00"))


# -- whole calls -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def line_audio() -> dict[str, bytes]:
    return {"hello": korean_speech("안녕하세요", 8000), "thanks": korean_speech("감사합니다", 8000)}


@pytest.fixture(scope="module")
def rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


@pytest.fixture(scope="module")
def ami() -> Iterator[FakeAmi]:
    with FakeAmi({("audiosocket", str(CALL_UUID)): CHANNEL, ("audiosocket-cid", str(CALL_UUID)): CALLER}) as fake:
        yield fake


def run_audiosocket_server(tmp: Path, **env_vars: str) -> Iterator[int]:
    """`python -m bot audiosocket` on a free port with the Korean model; yields the port."""
    grammar = tmp / "grammar.txt"
    grammar.write_text("안녕하세요\n감사합니다\n", encoding="utf-8")  # keeps decoding fast enough for real time
    port = free_port()
    env = {**os.environ, "VOSK_MODEL": str(KOREAN_MODEL), "VOSK_GRAMMAR": str(grammar),
           "AUDIOSOCKET_PORT": str(port), "TTS_CACHE_DIR": str(tmp / "cache"), "TTS_SPEED": "320",
           "VOICE_GREET": "0", **env_vars}
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "audiosocket"], cwd=REPO_ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp / "server.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(15)
    log.close()


@pytest.fixture(scope="module")
def audiosocket_server(rasa: FakeRasa, ami: FakeAmi, tmp_path_factory) -> Iterator[int]:
    yield from run_audiosocket_server(
        tmp_path_factory.mktemp("audiosocket"), RASA_URL=rasa.url, VOICE_REPROMPT_AFTER="1.0",
        VOICE_HANGUP_AFTER="2.0", AUDIOSOCKET_MAX_CALLS="1", AMI_HOST="127.0.0.1", AMI_PORT=str(ami.port),
        AMI_USER="hotline", AMI_SECRET=ami.secret, AMI_CONTEXT="operators", AMI_EXTEN="100")


@pytest.fixture(scope="module")
def gateway(rasa: FakeRasa, tmp_path_factory) -> Iterator[Gateway]:
    gw = Gateway(rasa.url, tmp_path_factory.mktemp("gateway"), {}).start()
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def audiosocket_via_gateway(gateway: Gateway, tmp_path_factory) -> Iterator[int]:
    """A phone line whose conversations go through the gateway, where operators take them over."""
    yield from run_audiosocket_server(tmp_path_factory.mktemp("audiosocket-gw"), GATEWAY_URL=gateway.url,
                                      GATEWAY_CHANNEL_TOKEN=CHANNEL_TOKEN, VOICE_REPROMPT_AFTER="30",
                                      VOICE_HANGUP_AFTER="60")


class Peer:
    """Asterisk's side of one AudioSocket call."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.received: list[Message] = []
        self.closed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            while (message := await read_message(self.reader)) is not None:
                self.received.append(message)
                if message.kind == Kind.HANGUP:
                    self.writer.close()  # Asterisk ends the channel and closes its side
        except ConnectionError:
            pass
        self.closed.set()

    async def send(self, kind: Kind, payload: bytes = b"") -> None:
        if self.closed.is_set() or self.writer.is_closing():
            return  # the other side hung up; Asterisk stops sending too
        self.writer.write(encode(kind, payload))
        try:
            await self.writer.drain()
        except ConnectionError:
            pass

    async def speak(self, pcm: bytes) -> None:
        """Send audio in 20 ms frames at real-time pace, as Asterisk does."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, offset in enumerate(range(0, len(pcm), 320)):
            await self.send(Kind.AUDIO, pcm[offset : offset + 320].ljust(320, b"\0"))
            await asyncio.sleep(max(0.0, start + (i + 1) * 0.02 - loop.time()))

    async def silence(self, seconds: float) -> None:
        await self.speak(b"\0\0" * int(8000 * seconds))

    def audio(self) -> list[bytes]:
        return [m.payload for m in self.received if m.kind == Kind.AUDIO]


async def connect(port: int) -> Peer:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return Peer(reader, writer)


def test_a_phone_call_from_connect_through_speech_keys_and_handoff_to_hangup(
        audiosocket_server: int, rasa: FakeRasa, ami: FakeAmi, line_audio) -> None:
    async def call() -> Peer:
        peer = await connect(audiosocket_server)
        await peer.send(Kind.UUID, CALL_UUID.bytes)
        await peer.silence(0.3)
        await peer.speak(line_audio["hello"])
        await peer.silence(0.8)
        for key in b"123#":
            await peer.send(Kind.DTMF, bytes([key]))
        await peer.silence(0.5)
        await peer.speak(line_audio["thanks"])
        await peer.silence(1.0)
        await peer.send(Kind.HANGUP)
        await asyncio.wait_for(peer.closed.wait(), 15)
        return peer

    rasa.requests.clear()
    ami.actions.clear()
    peer = run_async(call())
    assert len(rasa.messages) == 3 and rasa.messages[:2] == ["안녕하세요", "123"]
    assert rasa.messages[2].startswith("감사합니다")
    assert all(r["sender"] == f"voice-{CALL_UUID}" for r in rasa.requests)
    # The caller id the dialplan stored in AstDB reached the bot.
    assert all(r["metadata"] == {"channel": "voice", "phone": CALLER} for r in rasa.requests)
    # The bot's replies came back as 8 kHz 20 ms frames, sent at real-time pace.
    frames = peer.audio()
    assert len(frames) > 25 and {len(f) for f in frames} == {320}
    assert any(f != b"\0" * 320 for f in frames)
    # The handoff asked Asterisk to move the channel to the operators' extension.
    actions = [a["Action"] for a in ami.actions]
    assert actions == ["Login", "DBGet", "DBDel", "Logoff", "Login", "DBGet", "Redirect", "Logoff"]
    assert (ami.actions[1]["Family"], ami.actions[1]["Key"]) == ("audiosocket-cid", str(CALL_UUID))
    # The caller id is read once: gone from AstDB, so a replay of this UUID could not learn it.
    assert (ami.actions[2]["Family"], ami.actions[2]["Key"]) == ("audiosocket-cid", str(CALL_UUID))
    assert ("audiosocket-cid", str(CALL_UUID)) not in ami.db
    redirect = ami.actions[6]
    assert (redirect["Channel"], redirect["Context"], redirect["Exten"], redirect["Priority"]) == (
        CHANNEL, "operators", "100", "1")
    assert (ami.actions[5]["Family"], ami.actions[5]["Key"]) == ("audiosocket", str(CALL_UUID))

    async def replay() -> Peer:
        again = await connect(audiosocket_server)
        await again.send(Kind.UUID, CALL_UUID.bytes)
        await asyncio.wait_for(again.closed.wait(), 15)
        return again

    # The same UUID again (a replay from outside): refused before anything is heard or said.
    rasa.requests.clear()
    assert run_async(replay()).received == [] and rasa.requests == []


def test_the_bot_hangs_up_a_silent_line(audiosocket_server: int) -> None:
    async def call() -> tuple[Peer, float]:
        peer = await connect(audiosocket_server)
        await peer.send(Kind.UUID, uuid.uuid4().bytes)
        loop = asyncio.get_running_loop()
        start = loop.time()
        while not peer.closed.is_set() and loop.time() - start < 45:
            await peer.silence(0.2)
        return peer, loop.time() - start

    peer, elapsed = run_async(call())
    assert peer.closed.is_set(), "the bot never hung up"
    assert peer.received[-1] == Message(Kind.HANGUP)  # 0x00 0x00 0x00 after the goodbye
    assert len(peer.audio()) > 50  # the reprompt and the goodbye were played first
    assert elapsed < 30


def test_when_the_operator_closes_the_call_the_caller_hears_goodbye_and_the_line_hangs_up(
        audiosocket_via_gateway: int, gateway: Gateway, line_audio, tmp_path) -> None:
    call_uuid = uuid.uuid4()
    sender = f"voice-{call_uuid}"

    def operator_closes() -> None:
        console, csrf = login(gateway.url, "alice")
        queue_url = f"{gateway.url}/api/v1/console/queue"
        deadline = time.monotonic() + 20
        while sender not in [c["id"] for c in console.get(queue_url).json()["items"]]:
            assert time.monotonic() < deadline, "the call never reached the operator queue"
            time.sleep(0.2)
        conversation = f"{gateway.url}/api/v1/console/conversations/{sender}"
        for action in ("claim", "close"):
            console.post(f"{conversation}/{action}", headers={"X-CSRF-Token": csrf}).raise_for_status()

    async def call() -> tuple[Peer, int, float]:
        peer = await connect(audiosocket_via_gateway)
        await peer.send(Kind.UUID, call_uuid.bytes)
        await peer.silence(0.3)
        await peer.speak(line_audio["thanks"])  # asks for a human
        talking = asyncio.create_task(peer.silence(40))  # then holds the line
        await asyncio.to_thread(operator_closes)
        closed_at, frames_before = asyncio.get_running_loop().time(), len(peer.audio())
        await asyncio.wait_for(peer.closed.wait(), 20)
        talking.cancel()
        return peer, frames_before, asyncio.get_running_loop().time() - closed_at

    peer, frames_before, hangup_after = run_async(call())
    assert peer.received[-1] == Message(Kind.HANGUP)
    assert hangup_after < 15  # not the 60 s silence timeout
    # What played after the close is the goodbye prompt, whole, before the hangup frame.
    settings = VoiceSettings.from_env({"TTS_SPEED": "320", "TTS_CACHE_DIR": str(tmp_path)})
    goodbye_frames = len(build_tts(settings).synthesize(PROMPTS["goodbye_closed"], 8000)) / 320
    assert len(peer.audio()) - frames_before >= goodbye_frames * 0.9
    conversation = poll(gateway.url, sender=sender).json()
    assert conversation["state"] == "closed"


def test_a_call_beyond_capacity_hears_line_busy_and_is_hung_up(audiosocket_server: int) -> None:
    async def calls() -> tuple[Peer, Peer]:
        first = await connect(audiosocket_server)
        await first.send(Kind.UUID, uuid.uuid4().bytes)
        await first.silence(0.2)
        second = await connect(audiosocket_server)
        await second.send(Kind.UUID, uuid.uuid4().bytes)
        talking = asyncio.create_task(first.silence(20))
        await asyncio.wait_for(second.closed.wait(), 30)
        first_still_up = not first.closed.is_set()
        talking.cancel()
        await first.send(Kind.HANGUP)
        await asyncio.wait_for(first.closed.wait(), 15)
        assert first_still_up
        return first, second

    first, second = run_async(calls())
    assert second.received[-1] == Message(Kind.HANGUP)
    busy = second.audio()
    assert len(busy) * 0.02 > 2.0  # the busy message, seconds of it, before the hangup


def test_a_connection_that_does_not_start_with_a_uuid_is_dropped(audiosocket_server: int) -> None:
    async def call() -> Peer:
        peer = await connect(audiosocket_server)
        await peer.send(Kind.AUDIO, b"\0" * 320)
        await asyncio.wait_for(peer.closed.wait(), 15)
        return peer

    assert run_async(call()).received == []


def test_transfer_fails_cleanly_when_the_channel_is_unknown(ami: FakeAmi) -> None:
    settings = VoiceSettings.from_env({"AMI_HOST": "127.0.0.1", "AMI_PORT": str(ami.port),
                                       "AMI_USER": "hotline", "AMI_SECRET": ami.secret})
    assert AmiTransfer(settings).request_transfer("no-such-call", {"reason": "x"}) is False
    wrong = VoiceSettings.from_env({"AMI_HOST": "127.0.0.1", "AMI_PORT": str(ami.port), "AMI_SECRET": "bad"})
    assert AmiTransfer(wrong).request_transfer(str(CALL_UUID), {"reason": "x"}) is False
    closed = VoiceSettings.from_env({"AMI_HOST": "127.0.0.1", "AMI_PORT": str(free_port())})
    assert AmiTransfer(closed).request_transfer(str(CALL_UUID), {"reason": "x"}) is False


def test_without_a_model_the_server_says_what_to_run(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "audiosocket", "--port", str(free_port())], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "VOSK_MODEL": str(tmp_path / "none")})
    assert result.returncode == 2
    assert "python -m bot model download" in result.stderr


def test_line_limits_have_defaults_and_refuse_nonsense() -> None:
    settings = VoiceSettings.from_env({})
    assert (settings.audiosocket_read_timeout, settings.audiosocket_queue_seconds) == (10.0, 20.0)
    assert settings.audiosocket_queue_seconds >= settings.bot_timeout  # a slow bot turn loses no caller audio
    for variable in ("AUDIOSOCKET_READ_TIMEOUT", "AUDIOSOCKET_QUEUE_SECONDS"):
        with pytest.raises(ValueError, match=variable):
            VoiceSettings.from_env({variable: "0"})
