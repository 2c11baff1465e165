"""Streaming speech recognition with Vosk: one shared model per process, one recognizer per call.

Loading a model takes seconds and hundreds of megabytes, so `load_model` caches it per process;
`KaldiRecognizer`s are cheap and hold one call's decoding state, so every call gets its own.

Endpointing: Vosk decides an utterance is over by the Kaldi endpoint rules in the model's
`conf/model.conf`. The stock values (0.5 s / 1.0 s / 2.0 s of trailing silence) make callers wait;
`endpoint_overlay` builds a shadow model directory (symlinks to the real files, a rewritten
`model.conf`) with the tuned values from settings, leaving the downloaded model untouched.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.voice.models import require_model
from bot.voice.settings import VoiceSettings

log = logging.getLogger(__name__)

PARTIAL_INTERVAL = 0.1  # seconds of audio between partial results
_models: dict[tuple[str, str], Any] = {}
_models_lock = threading.Lock()


def endpoint_rules(settings: VoiceSettings) -> dict[str, str]:
    """The model.conf options this application overrides."""
    return {
        "--endpoint.rule2.min-trailing-silence": f"{settings.endpoint_rule2:g}",
        "--endpoint.rule3.min-trailing-silence": f"{settings.endpoint_rule3:g}",
        "--endpoint.rule4.min-trailing-silence": f"{settings.endpoint_rule4:g}",
        "--endpoint.rule5.min-utterance-length": f"{settings.max_utterance:g}",
    }


def _overlay_root(var_dir: Path) -> Path:
    root = Path(var_dir) / "vosk-overlay"
    try:
        root.mkdir(parents=True, exist_ok=True)
        return root
    except OSError:
        return Path(tempfile.gettempdir()) / "hotline-vosk-overlay"


def endpoint_overlay(model_dir: Path, overrides: dict[str, str], var_dir: Path) -> Path:
    """A directory that looks like `model_dir` but whose conf/model.conf carries `overrides`."""
    model_dir = Path(model_dir).resolve()
    original = (model_dir / "conf" / "model.conf").read_text(encoding="utf-8").splitlines()
    kept = [line for line in original if line.split("=", 1)[0].strip() not in overrides]
    conf_text = "\n".join(kept + [f"{k}={v}" for k, v in overrides.items()]) + "\n"
    digest = hashlib.sha1(f"{model_dir}\n{conf_text}".encode()).hexdigest()[:12]
    overlay = _overlay_root(var_dir) / f"{model_dir.name}-{digest}"
    if (overlay / "conf" / "model.conf").is_file():
        return overlay
    staging = Path(tempfile.mkdtemp(prefix=overlay.name, dir=overlay.parent))
    for entry in model_dir.iterdir():
        if entry.name != "conf":
            os.symlink(entry, staging / entry.name)
    (staging / "conf").mkdir()
    for entry in (model_dir / "conf").iterdir():
        if entry.name != "model.conf":
            os.symlink(entry, staging / "conf" / entry.name)
    (staging / "conf" / "model.conf").write_text(conf_text, encoding="utf-8")
    try:
        staging.rename(overlay)
    except OSError:  # another process built the same overlay first
        pass
    return overlay


def load_model(settings: VoiceSettings) -> Any:
    """The process-wide Vosk model for these settings (loaded on first use)."""
    model_dir = require_model(settings.model_dir)
    overrides = endpoint_rules(settings)
    key = (str(Path(model_dir).resolve()), json.dumps(overrides, sort_keys=True))
    with _models_lock:
        model = _models.get(key)
        if model is None:
            import vosk

            vosk.SetLogLevel(-1)
            path = endpoint_overlay(model_dir, overrides, settings.var_dir)
            log.info("loading Vosk model %s (endpoint rules %s)", model_dir, overrides)
            model = vosk.Model(str(path))
            _models[key] = model
        return model


def grammar_phrases(model: Any, grammar_file: Path | None) -> str | None:
    """The recognizer grammar (JSON list) from a file of phrases, one per line.

    Only models with a dynamic graph (the "small" models: HCLr.fst + Gr.fst) honour a grammar; words
    the model does not know are dropped here rather than making Vosk log a warning per call.
    """
    if grammar_file is None:
        return None
    phrases = []
    for line in Path(grammar_file).read_text(encoding="utf-8").splitlines():
        phrase = line.split("#", 1)[0].strip()
        if phrase and all(model.vosk_model_find_word(word) >= 0 for word in phrase.split()):
            phrases.append(phrase)
    if model.vosk_model_find_word("[unk]") >= 0:
        phrases.append("[unk]")  # lets out-of-grammar speech come out as unknown, not as a forced match
    return json.dumps(phrases, ensure_ascii=False)


@dataclass(frozen=True)
class Hypothesis:
    """What the recognizer produced for a chunk of audio."""

    text: str
    final: bool


class Recognizer:
    """One call's streaming recognizer: feed PCM16 at the model rate, get partials and finals."""

    def __init__(self, model: Any, sample_rate: int, grammar: str | None = None) -> None:
        import vosk

        self._rec = vosk.KaldiRecognizer(model, sample_rate, grammar) if grammar else vosk.KaldiRecognizer(model, sample_rate)
        self._rec.SetWords(True)
        self._last_partial = ""
        # Asking for a partial result costs a lattice search: do it every 100 ms, not every frame.
        self._partial_every = int(sample_rate * PARTIAL_INTERVAL) * 2
        self._since_partial = 0

    def accept(self, pcm: bytes) -> Hypothesis | None:
        """A final hypothesis at an endpoint, a partial when it changed (at most every 100 ms), else None."""
        if self._rec.AcceptWaveform(pcm):
            self._last_partial = ""
            self._since_partial = 0
            return Hypothesis(json.loads(self._rec.Result()).get("text", ""), final=True)
        self._since_partial += len(pcm)
        if self._since_partial < self._partial_every:
            return None
        self._since_partial = 0
        partial = json.loads(self._rec.PartialResult()).get("partial", "")
        if partial != self._last_partial:
            self._last_partial = partial
            return Hypothesis(partial, final=False)
        return None

    def finish(self) -> str:
        """Flush: the text of whatever was said since the last endpoint."""
        self._last_partial = ""
        return json.loads(self._rec.FinalResult()).get("text", "")


def new_recognizer(settings: VoiceSettings) -> Recognizer:
    """A recognizer on the shared model, with the configured grammar if any."""
    model = load_model(settings)
    return Recognizer(model, settings.sample_rate, grammar_phrases(model, settings.grammar_file))
