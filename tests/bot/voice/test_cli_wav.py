"""`python -m bot voice --wav FILE`: a WAV caller through the whole voice path, JSON lines out.

Runs the real command in a subprocess with the Korean Vosk model; the bot here is the fake Rasa
REST server (the end-to-end run against the real Rasa stack is in test_cli_wav_stack.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.voice.prompts import PROMPTS
from bot.voice.wavfile import write_wav
from tests.bot.voice.helpers import KOREAN_MODEL, has_hangul, korean_speech
from tests.support.servers import REPO_ROOT


def run_voice(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "voice", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def json_lines(stdout: str) -> list[dict]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    for line in lines:
        assert set(line) == {"role", "text"} and line["role"] in {"caller", "bot"} and line["text"]
    return lines


def caller_wav(tmp_path: Path, rate: int) -> Path:
    silence = b"\0\0" * int(rate * 0.5)
    path = tmp_path / f"caller-{rate}.wav"
    write_wav(path, silence + korean_speech("안녕하세요", rate) + silence * 2, rate)
    return path


@pytest.mark.parametrize("rate", [16000, 8000])
def test_a_wav_caller_is_recognized_answered_and_printed_as_json_lines(tmp_path, fake_rasa, rate: int) -> None:
    result = run_voice("--wav", str(caller_wav(tmp_path, rate)), "--model", str(KOREAN_MODEL),
                       "--phone", "13812345678",
                       env={"RASA_URL": fake_rasa.url, "TTS_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert lines[0] == {"role": "bot", "text": PROMPTS["greeting"]}
    caller = [line["text"] for line in lines if line["role"] == "caller"]
    assert len(caller) == 1 and has_hangul(caller[0])
    assert lines[-1] == {"role": "bot", "text": f"收到：{caller[0]}。工单号20261127001。"}
    assert fake_rasa.requests[0]["metadata"] == {"channel": "voice", "phone": "13812345678"}
    assert "138****5678" in result.stderr and "13812345678" not in result.stderr  # masked in logs


def test_a_silent_caller_is_reprompted_then_hung_up_on(tmp_path, fake_rasa) -> None:
    path = tmp_path / "silence.wav"
    write_wav(path, b"\0\0" * 44100 * 30, 44100)  # any sample rate
    grammar = tmp_path / "g.txt"
    grammar.write_text("안녕하세요\n", encoding="utf-8")  # a grammar keeps 30 s of silence quick to decode
    result = run_voice("--wav", str(path), env={
        "VOSK_MODEL": str(KOREAN_MODEL), "VOSK_GRAMMAR": str(grammar), "RASA_URL": fake_rasa.url,
        "VOICE_REPROMPT_AFTER": "2", "VOICE_HANGUP_AFTER": "4", "TTS_CACHE_DIR": str(tmp_path / "cache"),
    })
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [
        {"role": "bot", "text": PROMPTS["greeting"]},
        {"role": "bot", "text": PROMPTS["reprompt"]},
        {"role": "bot", "text": PROMPTS["goodbye_silence"]},
    ]
    assert fake_rasa.requests == []


def test_without_a_model_the_command_says_what_to_run(tmp_path) -> None:
    path = tmp_path / "x.wav"
    write_wav(path, b"\0\0" * 1600, 16000)
    result = run_voice("--wav", str(path), env={"VOSK_MODEL": str(tmp_path / "no-model")})
    assert result.returncode != 0
    assert "python -m bot model download" in result.stderr
    assert result.stdout == ""


def test_a_file_that_is_not_16_bit_mono_wav_is_refused_politely(tmp_path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not audio", encoding="utf-8")
    result = run_voice("--wav", str(path), "--model", str(KOREAN_MODEL))
    assert result.returncode == 2
    assert "16 位单声道 PCM WAV" in result.stderr and "Traceback" not in result.stderr
