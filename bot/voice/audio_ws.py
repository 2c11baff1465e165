"""The gateway's `/ws/audio` endpoint: speech from a browser (push-to-talk) or a media stream.

Protocol: the client sends a text frame `{"type": "start", "sender": ID, "sample_rate": N,
"phone"?: ..., "tts"?: true}`, then binary frames of PCM16 little-endian mono audio at that rate,
and `{"type": "stop"}` when the user releases the talk button (a media stream may simply keep
sending: the recognizer's endpointing closes each utterance). The server answers with JSON
`{"type": "partial" | "final" | "bot" | "error", "text": ...}` and, when `tts` was asked for, the
reply as a binary WAV frame after each "bot" message. When an operator closes the conversation the
server sends `{"type": "closed", "text": <goodbye>}` (and its WAV), then closes the socket (1000),
the way a phone line hangs up.

Text goes through the gateway's conversation router (`app.state.router`), so operators see voice
turns like chat turns; without a router (the endpoint mounted elsewhere) it talks to Rasa directly.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.voice.normalize import normalize_transcript
from bot.voice.settings import VoiceSettings
from contract.replies import reply

log = logging.getLogger(__name__)

BAD_START_NOTICE = "语音连接需要先发送开始消息（type 为 start，包含 sender 和 sample_rate）。"
ALLOWED_RATES = range(8000, 48001)


async def audio_websocket(websocket: WebSocket) -> None:
    """Serve one audio connection until the client closes it."""
    await websocket.accept()
    try:
        await _serve(websocket)
    except WebSocketDisconnect:
        pass


async def _send(websocket: WebSocket, kind: str, text: str, **extra: Any) -> None:
    await websocket.send_json({"type": kind, "text": text, **extra})


async def _serve(websocket: WebSocket) -> None:
    from bot.voice.asr import Recognizer, grammar_phrases, load_model
    from bot.voice.models import ModelNotFoundError
    from bot.voice.resample import StreamResampler

    settings = VoiceSettings.from_env()
    start = await _read_start(websocket)
    if start is None:
        await _send(websocket, "error", BAD_START_NOTICE)
        await websocket.close(code=1008)
        return
    sender, rate, phone, want_audio = start
    try:
        model = await asyncio.to_thread(load_model, settings)
    except ModelNotFoundError as exc:
        log.error("%s", exc)
        await _send(websocket, "error", reply("utter_call_no_model"))
        await websocket.close(code=1011)
        return
    recognizer = Recognizer(model, settings.sample_rate, grammar_phrases(model, settings.grammar_file))
    resampler = StreamResampler(rate, settings.sample_rate)
    answer = _Answerer(websocket, settings, sender, phone, want_audio)
    router = getattr(websocket.app.state, "router", None)
    if router is None:
        await _listen(websocket, recognizer, resampler, answer)
        return
    async with router.subscribe(sender) as events:
        listening = asyncio.create_task(_listen(websocket, recognizer, resampler, answer))
        closed = asyncio.create_task(_closed_by_operator(events))
        await asyncio.wait({listening, closed}, return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        if listening.done():
            listening.result()  # the client left; a disconnect is raised here and handled by the caller
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


async def _listen(websocket: WebSocket, recognizer: Any, resampler: Any, answer: "_Answerer") -> None:
    """Recognize the caller's audio and answer each finished utterance, until the client leaves."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("bytes"):
            pcm = resampler.process(message["bytes"][: len(message["bytes"]) // 2 * 2])
            hypothesis = await asyncio.to_thread(recognizer.accept, pcm)
            if hypothesis is not None and hypothesis.final:
                await answer(hypothesis.text)
            elif hypothesis is not None and hypothesis.text:
                await _send(websocket, "partial", normalize_transcript(hypothesis.text))
        elif message.get("text"):
            kind = _json_type(message["text"])
            if kind == "stop":
                await answer(await asyncio.to_thread(recognizer.finish))


def _json_type(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data.get("type") if isinstance(data, dict) else None


async def _read_start(websocket: WebSocket) -> tuple[str, int, str | None, bool] | None:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect()
    try:
        data = json.loads(message.get("text") or "")
        sender, rate = str(data["sender"]).strip(), int(data["sample_rate"])
    except (ValueError, KeyError, TypeError):
        return None
    if data.get("type") != "start" or not sender or rate not in ALLOWED_RATES:
        return None
    phone = str(data["phone"]) if data.get("phone") else None
    return sender, rate, phone, bool(data.get("tts"))


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
            await _send(self.websocket, "error", reply("utter_call_bot_unavailable"))
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

        client = DirectRasa(self.settings.rasa_url, self.settings.bot_timeout)
        reply = await asyncio.to_thread(client.send, self.sender, text, self.phone)
        return reply.messages

    def speak(self, text: str) -> bytes:
        """The reply as a WAV file at the recognizer's rate."""
        from bot.voice.tts import build_tts
        from bot.voice.wavfile import pcm_to_wav

        if self._tts is None:
            self._tts = build_tts(self.settings)
        return pcm_to_wav(self._tts.synthesize(text, self.settings.sample_rate), self.settings.sample_rate)
