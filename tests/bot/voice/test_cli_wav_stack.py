"""The `--wav` caller against the real hotline: issue API, action server and the trained Rasa model.

The recognizer is the Korean test model, so the bot hears Korean it was not trained on; what this
pins is the whole path between real processes: audio -> Vosk -> normalization -> Rasa's REST
channel -> a Chinese reply from the trained bot -> speech synthesis, printed as contract JSON lines.
"""
from __future__ import annotations

import pytest

from bot.voice.prompts import PROMPTS
from tests.bot.voice.helpers import KOREAN_MODEL, has_hangul
from tests.bot.voice.test_cli_wav import caller_wav, json_lines, run_voice
from tests.support.stack import MODEL_PATH

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MODEL_PATH.exists(), reason=f"no trained Rasa model at {MODEL_PATH} (make model)"),
]


def test_a_wav_caller_talks_to_the_real_rasa_stack(rasa_server, tmp_path) -> None:
    result = run_voice("--wav", str(caller_wav(tmp_path, 8000)), "--model", str(KOREAN_MODEL),
                       "--phone", "13812345678",
                       env={"RASA_URL": rasa_server.url, "TTS_CACHE_DIR": str(tmp_path / "cache")}, timeout=180)
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    caller_at = next(i for i, line in enumerate(lines) if line["role"] == "caller")
    assert has_hangul(lines[caller_at]["text"])
    replies = [line["text"] for line in lines[caller_at + 1 :] if line["role"] == "bot"]
    own_prompts = set(PROMPTS.values())
    # The trained bot answered (in Chinese), not the voice adapter's own fallback prompts.
    assert replies and all(text not in own_prompts for text in replies), replies
    assert any("\u4e00" <= ch <= "\u9fff" for ch in replies[0])
