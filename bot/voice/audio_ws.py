"""The gateway's `/ws/audio` endpoint: speech from the project's voice adapters (media streams,
push-to-talk clients), never from the public widget.

The gateway's route (bot/gateway/audio_route.py) checks the channel token and the connection cap,
accepts the socket and hands it here. Protocol: the client sends a text frame `{"type": "start",
"sender": ID, "sample_rate": 8000 | 16000 | 48000, "phone"?: ..., "tts"?: true, "push_to_talk"?:
true}` within GATEWAY_AUDIO_START_TIMEOUT seconds, then binary frames of PCM16 little-endian mono
audio at that rate (an even number of bytes, at most one second each), and `{"type": "stop"}` when
the user releases the talk button; `{"type": "ping"}` keeps a quiet socket open. A media stream may
simply keep sending: the recognizer closes each utterance after a short silence, and the caller's
turn is judged as on a phone call (stream_turns.py): one that sounds unfinished waits for the rest.
With `"push_to_talk": true`, everything until "stop" is one turn. A socket that sends nothing for
GATEWAY_AUDIO_IDLE_TIMEOUT seconds is closed (4408).

The server answers with JSON `{"type": "partial" | "final" | "bot" | "error", "text": ...}` and,
when `tts` was asked for, the reply as a binary WAV frame after each "bot" message. An "error" also
carries the contract's envelope `"error": {"code", "message"}` (codes below). A bad frame after the
start (odd length, too long, unknown text) is answered with an error and the socket stays open; a
bad start message is answered with an error and the socket is closed (1008). When an operator
closes the conversation the server sends `{"type": "closed", "text": <goodbye>}` (and its WAV),
then closes the socket (1000), the way a phone line hangs up.

Text goes through the gateway's conversation router (`app.state.router`), so operators see voice
turns like chat turns; without a router (the endpoint mounted elsewhere) it talks to Rasa directly.
Resampling, recognition and speech synthesis run in worker threads, never on the event loop.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.gateway.channel_access import MESSAGE_WIDGET_CHAT, SENDER, WIDGET_SENDER
from bot.voice.normalize import normalize_transcript
from bot.voice.settings import VoiceSettings
from contract.errors import error_body
from contract.replies import reply

log = logging.getLogger(__name__)

ALLOWED_RATES = (8000, 16000, 48000)
MAX_FRAME_SECONDS = 1.0  # a longer binary frame is refused (the socket stays open)
MAX_PHONE_CHARS = 32
CLOSE_POLICY = 1008  # a start message that cannot be used
CLOSE_TIMEOUT = 4408  # no start message, or no frame for the idle timeout
WIRE_MARGIN = 0.25  # seconds of network jitter allowed before a quiet wire counts as the caller's silence

BAD_START_NOTICE = "语音连接需要先发送开始消息（type 为 start，包含 sender 和 sample_rate）。"
# Error codes (stable, for programs) and their messages (Chinese, for people).
ERRORS = {
    "bad_start": BAD_START_NOTICE,
    "bad_sender": "开始消息中的 sender 无效：需为 1 到 128 个字母、数字或 _.:@+- 字符。",
    "unsupported_sample_rate": "开始消息中的采样率不受支持：只支持 8000、16000 或 48000 Hz。",
    "bad_phone": f"开始消息中的 phone 无效：需为不超过 {MAX_PHONE_CHARS} 个字符的文本。",
    "start_timeout": "语音连接建立后需在 {seconds:g} 秒内发送开始消息，连接已关闭。",
    "idle_timeout": "{seconds:g} 秒未收到任何数据，语音连接已关闭。",
    "odd_frame": "音频帧长度必须是偶数字节（16 位 PCM 单声道），本帧已丢弃。",
    "frame_too_large": "音频帧过长：每帧最多 {seconds:g} 秒音频（{limit} 字节），本帧已丢弃。",
    "bad_message": "无法识别的消息：开始之后只接受音频（二进制帧）以及 stop 或 ping 消息。",
}


@dataclass(frozen=True)
class Start:
    sender: str
    rate: int
    phone: str | None
    want_audio: bool
    push_to_talk: bool = False


class Refused(Exception):
    """The connection cannot go on: `code` (a key of ERRORS or another stable code) and the close code."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


async def audio_websocket(websocket: WebSocket, settings: VoiceSettings | None = None, *,
                          start_timeout: float = 5.0, idle_timeout: float = 60.0) -> None:
    """Serve one accepted audio connection until either side closes it. `settings` are read once
    per gateway (from the environment when not given)."""
    settings = settings if settings is not None else VoiceSettings.from_env()
    try:
        await _serve(websocket, settings, start_timeout, idle_timeout)
    except WebSocketDisconnect:
        pass
    except Refused as refused:
        with contextlib.suppress(Exception):  # the client may be gone already
            await send_error(websocket, refused.code, refused.message)
            await websocket.close(code=refused.close_code)


async def _send(websocket: WebSocket, kind: str, text: str, **extra: Any) -> None:
    await websocket.send_json({"type": kind, "text": text, **extra})


async def send_error(websocket: WebSocket, code: str, message: str) -> None:
    """An error message: `text` as every audio message has, and the contract's envelope."""
    with contextlib.suppress(RuntimeError):  # the socket is already closed
        await websocket.send_json({"type": "error", "text": message, **error_body(code, message)})


class Decoder:
    """One connection's resampler and recognizer; both are CPU work, called from worker threads."""

    def __init__(self, settings: VoiceSettings, start: Start) -> None:
        from bot.voice.asr import POOL, Recognizer, grammar_phrases, load_model
        from bot.voice.resample import StreamResampler
        from bot.voice.stream_turns import StreamTurns

        model = load_model(settings)
        POOL.size = settings.asr_pool
        # Client frames go to Kaldi as they come (no VAD here to tell when chunking would delay the end
        # of an utterance); partials at the configured rate, for the client's screen.
        self.recognizer = Recognizer(model, settings.sample_rate, grammar_phrases(model, settings.grammar_file),
                                     partial_interval=settings.partial_interval,
                                     recycle_after=settings.asr_recycle_after,
                                     pool=POOL if settings.asr_pool else None)
        self.resampler = StreamResampler(start.rate, settings.sample_rate)
        # Read on the event loop only between calls into this decoder (never while one runs).
        self.turns = StreamTurns(settings, push_to_talk=start.push_to_talk, name=start.sender)
        self._lock = threading.Lock()

    def accept(self, pcm: bytes) -> Any:
        with self._lock:
            audio = self.resampler.process(pcm)
            self.turns.hear(audio)
            return self.recognizer.accept(audio)

    def finish(self) -> str:
        with self._lock:
            return self.recognizer.finish()

    def close(self) -> None:
        # A cancelled turn's worker thread may still be decoding: wait for it, then hand the recognizer back.
        with self._lock:
            self.recognizer.close()


async def _serve(websocket: WebSocket, settings: VoiceSettings, start_timeout: float, idle_timeout: float) -> None:
    from bot.voice.models import ModelNotFoundError

    start = await _read_start(websocket, start_timeout)
    try:
        decoder = await asyncio.to_thread(Decoder, settings, start)
    except ModelNotFoundError as exc:
        log.error("%s", exc)
        raise Refused("no_model", reply("utter_call_no_model"), 1011) from None
    try:
        await _converse(websocket, settings, start, decoder, idle_timeout)
    finally:
        await asyncio.to_thread(decoder.close)  # its recognizer goes back to the pool for the next call


async def _converse(websocket: WebSocket, settings: VoiceSettings, start: Start, decoder: Decoder,
                    idle_timeout: float) -> None:
    answer = _Answerer(websocket, settings, start.sender, start.phone, start.want_audio)
    listen = _Listener(websocket, decoder, answer, idle_timeout, int(start.rate * MAX_FRAME_SECONDS) * 2)
    router = getattr(websocket.app.state, "router", None)
    if router is None:
        await listen()
        return
    async with router.subscribe(start.sender) as events:
        listening = asyncio.create_task(listen())
        closed = asyncio.create_task(_closed_by_operator(events))
        await asyncio.wait({listening, closed}, return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        if listening.done():
            listening.result()  # the client left or timed out; a disconnect is raised here and handled by the caller
            return
        listening.cancel()  # nothing the caller said after the close is answered: the goodbye is last
        with contextlib.suppress(asyncio.CancelledError):
            await listening
    await _hang_up(websocket, answer)


async def _closed_by_operator(events: asyncio.Queue) -> None:
    while True:
        event = await events.get()
        if event["type"] == "state" and event["state"] == "closed":
            return


async def _hang_up(websocket: WebSocket, answer: "_Answerer") -> None:
    """An operator closed the conversation: say goodbye and end the call, as a phone line would."""
    from bot.voice.prompts import PROMPTS

    goodbye = PROMPTS["goodbye_closed"]
    await _send(websocket, "closed", goodbye)
    if answer.want_audio:
        await websocket.send_bytes(await asyncio.to_thread(answer.speak, goodbye))
    await websocket.close(code=1000, reason="conversation closed")
    log.info("voice socket of %s closed: the operator ended the conversation", answer.sender)


class _Listener:
    """Recognize the caller's audio and answer each finished utterance, until the client leaves or
    stays silent for `idle_timeout` seconds. Bad frames are answered and skipped."""

    def __init__(self, websocket: WebSocket, decoder: Decoder, answer: "_Answerer", idle_timeout: float,
                 max_frame_bytes: int) -> None:
        self.websocket, self.decoder, self.answer = websocket, decoder, answer
        self.idle_timeout, self.max_frame_bytes = idle_timeout, max_frame_bytes
        self.last_frame_seconds = 0.0  # audio in the latest frame: a client sends the next one after it

    async def __call__(self) -> None:
        websocket, turns = self.websocket, self.decoder.turns
        while True:
            # Words not answered yet wait at most the long pause for more audio, counted from when the
            # last frame's audio ended: a client that sends nothing in silence (silence suppression)
            # must not keep the caller waiting for the idle timeout.
            waiting = turns.waiting
            timeout = self.idle_timeout
            if waiting:
                timeout = min(timeout, turns.policy.long + self.last_frame_seconds + WIRE_MARGIN)
            try:
                message = await asyncio.wait_for(websocket.receive(), timeout)
            except asyncio.TimeoutError:
                if waiting:
                    # Whatever the recognizer heard of an utterance still open belongs to this turn.
                    said = turns.end(await asyncio.to_thread(self.decoder.finish))
                    if said:
                        await self.answer(said)
                    continue
                log.info("voice socket of %s closed: idle for %gs", self.answer.sender, self.idle_timeout)
                raise Refused("idle_timeout", ERRORS["idle_timeout"].format(seconds=self.idle_timeout),
                              CLOSE_TIMEOUT) from None
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await self._audio(message["bytes"])
            elif message.get("text") is not None:
                kind = _json_type(message["text"])
                if kind == "stop":
                    await self.answer(turns.end(await asyncio.to_thread(self.decoder.finish)))
                elif kind != "ping":
                    await send_error(websocket, "bad_message", ERRORS["bad_message"])

    async def _audio(self, pcm: bytes) -> None:
        if len(pcm) % 2:
            await send_error(self.websocket, "odd_frame", ERRORS["odd_frame"])
            return
        if len(pcm) > self.max_frame_bytes:
            message = ERRORS["frame_too_large"].format(seconds=MAX_FRAME_SECONDS, limit=self.max_frame_bytes)
            await send_error(self.websocket, "frame_too_large", message)
            return
        if not pcm:
            return
        self.last_frame_seconds = len(pcm) / self.max_frame_bytes * MAX_FRAME_SECONDS
        hypothesis = await asyncio.to_thread(self.decoder.accept, pcm)
        turns = self.decoder.turns
        if hypothesis is not None and hypothesis.final:
            said = turns.utterance(hypothesis.text)
            if said is not None:
                await self.answer(said)
        elif hypothesis is not None and hypothesis.text:
            turns.words_heard()
            await _send(self.websocket, "partial", normalize_transcript(turns.with_held(hypothesis.text)))
        said = turns.due()
        if said is not None:
            await self.answer(said)


def _json_type(text: str) -> str | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # (JSON nested thousands deep)
        return None
    return data.get("type") if isinstance(data, dict) else None


async def _read_start(websocket: WebSocket, timeout: float) -> Start:
    """The start message, checked; Refused (closing the socket) when it is late or cannot be used."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout)
    except asyncio.TimeoutError:
        raise Refused("start_timeout", ERRORS["start_timeout"].format(seconds=timeout), CLOSE_TIMEOUT) from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect()
    try:
        data = json.loads(message.get("text") or "")
    except (ValueError, RecursionError):  # (JSON nested thousands deep)
        data = None
    if not isinstance(data, dict) or data.get("type") != "start" or "sender" not in data or "sample_rate" not in data:
        raise Refused("bad_start", ERRORS["bad_start"], CLOSE_POLICY)
    sender, rate, phone = data["sender"], data["sample_rate"], data.get("phone")
    if not isinstance(sender, str) or not SENDER.match(sender):
        raise Refused("bad_sender", ERRORS["bad_sender"], CLOSE_POLICY)
    if WIDGET_SENDER.match(sender):  # a web user's chat is no call to listen in on or speak into
        raise Refused("widget_chat", MESSAGE_WIDGET_CHAT, CLOSE_POLICY)
    if isinstance(rate, str) and rate.strip().isascii() and rate.strip().isdigit():
        rate = int(rate)
    if isinstance(rate, bool) or not isinstance(rate, int) or rate not in ALLOWED_RATES:
        raise Refused("unsupported_sample_rate", ERRORS["unsupported_sample_rate"], CLOSE_POLICY)
    if phone is not None and phone != "" and (not isinstance(phone, str) or len(phone) > MAX_PHONE_CHARS):
        raise Refused("bad_phone", ERRORS["bad_phone"], CLOSE_POLICY)
    if any(not isinstance(data.get(option, False), bool) for option in ("tts", "push_to_talk")):
        raise Refused("bad_start", ERRORS["bad_start"], CLOSE_POLICY)  # "tts": "no" is not a yes
    return Start(sender, rate, phone or None, data.get("tts", False), data.get("push_to_talk", False))


class _Answerer:
    """Sends a finished utterance to the conversation and the replies back to the client."""

    def __init__(self, websocket: WebSocket, settings: VoiceSettings, sender: str, phone: str | None,
                 want_audio: bool) -> None:
        self.websocket, self.settings, self.sender, self.phone = websocket, settings, sender, phone
        self.want_audio = want_audio
        self._tts = None

    async def __call__(self, raw_text: str) -> None:
        text = normalize_transcript(raw_text)
        await _send(self.websocket, "final", text)
        if not text:
            return
        try:
            messages = await self._route(text)
        except Exception as exc:  # the bot being down must not kill the caller's connection
            log.warning("voice turn of %s failed: %s", self.sender, exc)
            await send_error(self.websocket, "bot_unavailable", reply("utter_call_bot_unavailable"))
            return
        for message in messages:
            if not message.get("text"):
                continue
            await _send(self.websocket, "bot", str(message["text"]), role=message.get("role", "bot"))
            if self.want_audio:
                await self.websocket.send_bytes(await asyncio.to_thread(self.speak, str(message["text"])))

    async def _route(self, text: str) -> list[dict[str, Any]]:
        metadata = {"channel": "voice", **({"phone": self.phone} if self.phone else {})}
        router = getattr(self.websocket.app.state, "router", None)
        if router is not None:
            return list(await router.handle_user_message(self.sender, text, channel="voice", metadata=metadata))
        from bot.voice.bot_client import DirectRasa

        client = DirectRasa(self.settings.rasa_url, self.settings.bot_timeout, self.settings.rasa_token)
        reply = await asyncio.to_thread(client.send, self.sender, text, self.phone)
        return reply.messages

    def speak(self, text: str) -> bytes:
        """The reply as a WAV file at the recognizer's rate."""
        from bot.voice.tts import build_tts
        from bot.voice.wavfile import pcm_to_wav

        if self._tts is None:
            self._tts = build_tts(self.settings)
        return pcm_to_wav(self._tts.synthesize(text, self.settings.sample_rate), self.settings.sample_rate)
