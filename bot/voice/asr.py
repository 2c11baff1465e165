"""Streaming speech recognition with Vosk: one shared model per process, one recognizer per call.

Loading a model takes seconds and hundreds of megabytes, so `load_model` caches it per process;
`KaldiRecognizer`s are cheap and hold one call's decoding state, so every call gets its own.

Endpointing: Vosk decides an utterance is over by the Kaldi endpoint rules in the model's
`conf/model.conf`. The stock values (0.5 s / 1.0 s / 2.0 s of trailing silence) make callers wait;
`endpoint_overlay` builds a shadow model directory (symlinks to the real files, a rewritten
`model.conf`) with the tuned values from settings, leaving the downloaded model untouched. The
overlay also carries the search limits (max-active, beam), which set most of the decoding cost.

Cost per call: Kaldi advances its network in chunks of about 200 ms whatever it is fed, but every
call into the recognizer also updates the i-vector silence weighting and advances the decoder, so a
call feeds it chunks (VOICE_ASR_CHUNK) rather than 20 ms frames, and asks for partial results only
when someone may look at them (VOICE_PARTIAL_INTERVAL).
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from bot.voice.models import ModelNotFoundError, require_model
from bot.voice.static_graph import LOOKAHEAD_FILES, STATIC_FILES, compiled_graph, has_lookahead_graph
from bot.voice.settings import VoiceSettings

log = logging.getLogger(__name__)

PARTIAL_INTERVAL = 0.1  # seconds of audio between partial results, unless told otherwise
# For a grammar-restricted recognizer, digital silence (exact zeros: a muted phone, a silence-suppressed
# trunk, a test's silence) is handed to Kaldi as the hiss of a quiet line instead. On zeros the
# features are only Kaldi's random dither, nothing like the silence the model was trained on, and a
# recognizer that must choose among a few phrases can pick a short one in them. (It did not stop the
# trailing "네" once seen after a callback rating in full test runs; see the callback test.) Free
# recognition is left as it was.
COMFORT_NOISE_LEVEL = 6.0  # standard deviation in PCM16 steps: about -75 dBFS
_COMFORT_NOISE = np.random.default_rng(96767).normal(0.0, COMFORT_NOISE_LEVEL, 16000).round().astype("<i2").tobytes()
_models: dict[tuple[str, str, str], Any] = {}
_models_lock = threading.Lock()
_graph_choices: dict[tuple[str, str, str], Optional[Path]] = {}


def endpoint_rules(settings: VoiceSettings) -> dict[str, str]:
    """The model.conf options this application overrides."""
    return {
        "--endpoint.rule2.min-trailing-silence": f"{settings.endpoint_rule2:g}",
        "--endpoint.rule3.min-trailing-silence": f"{settings.endpoint_rule3:g}",
        "--endpoint.rule4.min-trailing-silence": f"{settings.endpoint_rule4:g}",
        "--endpoint.rule5.min-utterance-length": f"{settings.max_utterance:g}",
    }


def search_options(settings: VoiceSettings) -> dict[str, str]:
    """The model.conf decoder search limits this application overrides."""
    return {"--max-active": str(int(settings.max_active)), "--beam": f"{settings.beam:g}"}


def model_overrides(settings: VoiceSettings) -> dict[str, str]:
    """Everything the overlay writes over the model's conf/model.conf."""
    return {**endpoint_rules(settings), **search_options(settings)}


def _overlay_root(var_dir: Path) -> Path:
    root = Path(var_dir) / "vosk-overlay"
    try:
        root.mkdir(parents=True, exist_ok=True)
        return root
    except OSError:
        return Path(tempfile.gettempdir()) / "hotline-vosk-overlay"


def _rewritten(conf: Path, overrides: dict[str, str]) -> str:
    """A Kaldi options file with `overrides` in place of the options of the same names."""
    kept = [line for line in conf.read_text(encoding="utf-8").splitlines()
            if line.split("=", 1)[0].strip() not in overrides]
    return "\n".join(kept + [f"{k}={v}" for k, v in overrides.items()]) + "\n"


def endpoint_overlay(model_dir: Path, overrides: dict[str, str], var_dir: Path,
                     mfcc: Optional[dict[str, str]] = None, static_graph: Optional[Path] = None) -> Path:
    """A directory that looks like `model_dir` but whose conf/model.conf carries `overrides` (and its
    conf/mfcc.conf the feature options in `mfcc`, if any: the search benchmark turns dither off), and
    whose graph is the compiled `static_graph` in place of the model's lookahead halves, if given."""
    model_dir = Path(model_dir).resolve()
    written = {"model.conf": _rewritten(model_dir / "conf" / "model.conf", overrides)}
    if mfcc:
        written["mfcc.conf"] = _rewritten(model_dir / "conf" / "mfcc.conf", mfcc)
    identity = [str(model_dir), str(static_graph.resolve()) if static_graph else "", *written.values()]
    digest = hashlib.sha1("\n".join(identity).encode()).hexdigest()[:12]
    overlay = _overlay_root(var_dir) / f"{model_dir.name}-{digest}"
    if (overlay / "conf" / "model.conf").is_file():
        return overlay
    staging = Path(tempfile.mkdtemp(prefix=overlay.name, dir=overlay.parent))
    for entry in model_dir.iterdir():
        if entry.name == "graph" and static_graph is not None:
            _link_static_graph(entry, Path(static_graph).resolve(), staging / "graph")
        elif entry.name != "conf":
            os.symlink(entry, staging / entry.name)
    (staging / "conf").mkdir()
    for entry in (model_dir / "conf").iterdir():
        if entry.name not in written:
            os.symlink(entry, staging / "conf" / entry.name)
    for name, text in written.items():
        (staging / "conf" / name).write_text(text, encoding="utf-8")
    try:
        staging.rename(overlay)
    except OSError:  # another process built the same overlay first
        pass
    return overlay


def _link_static_graph(model_graph: Path, compiled: Path, graph: Path) -> None:
    """The model's graph directory without its lookahead halves, with the compiled HCLG.fst (Vosk
    loads HCLG.fst when there is one) and the word list it needs beside it."""
    graph.mkdir()
    for entry in model_graph.iterdir():
        if entry.name not in (*LOOKAHEAD_FILES, *STATIC_FILES):
            os.symlink(entry, graph / entry.name)
    for name in STATIC_FILES:
        os.symlink(compiled / name, graph / name)


class StaticGraphMissingError(ModelNotFoundError):
    """VOSK_GRAPH=static, and no graph was compiled for the model."""

    def __init__(self, model_dir: Path) -> None:
        super().__init__(model_dir, f"VOSK_GRAPH=static but no static graph was compiled for {model_dir}.\n"
                         f"Run:  python -m bot model compile-graph --model {model_dir}  (or set VOSK_GRAPH=auto)")


def static_graph_for(settings: VoiceSettings, runtime_grammar: bool = False) -> Optional[Path]:
    """The compiled graph that recognizers of these settings decode with, or None for the model's own.

    A runtime grammar is built against the lookahead halves, so recognizers with one keep those."""
    if settings.graph == "lookahead" or runtime_grammar or settings.grammar_file is not None:
        return None
    key = (str(Path(settings.model_dir).resolve()), str(settings.graphs_dir), settings.graph)
    if key not in _graph_choices:  # once per process: a graph compiled while calls run is taken up at a restart
        compiled = compiled_graph(settings.model_dir, settings.graphs_dir)
        if compiled is None and settings.graph == "static" and has_lookahead_graph(settings.model_dir):
            raise StaticGraphMissingError(settings.model_dir)
        _graph_choices[key] = compiled
    return _graph_choices[key]


def load_model(settings: VoiceSettings, *, runtime_grammar: bool = False) -> Any:
    """The process-wide Vosk model for these settings (loaded on first use); `runtime_grammar` for
    recognizers that will be given a grammar (they need the model's lookahead graph)."""
    model_dir = require_model(settings.model_dir)
    overrides = model_overrides(settings)
    static = static_graph_for(settings, runtime_grammar)
    key = (str(Path(model_dir).resolve()), json.dumps(overrides, sort_keys=True), str(static or ""))
    with _models_lock:
        model = _models.get(key)
        if model is None:
            import vosk

            vosk.SetLogLevel(-1)
            path = endpoint_overlay(model_dir, overrides, settings.var_dir, static_graph=static)
            log.info("loading Vosk model %s (overrides %s, %s graph)", model_dir, overrides,
                     f"static {static}" if static else "the model's own")
            model = vosk.Model(str(path))
            model.static_graph = static is not None  # Recognizer refuses a grammar it would ignore
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
    """One call's streaming recognizer: feed PCM16 at the model rate, get partials and finals.

    `chunk_seconds`: audio is buffered and handed to Kaldi in chunks of that length (0: as given);
    `accept(..., flush=True)` hands over what is buffered at once. `partial_interval`: seconds of audio
    between partial results (0: none); `accept(..., partial=False)` skips them. `recycle_after`: once
    that many seconds of audio went in, a replacement recognizer is built in the background (while the
    caller is still speaking) and takes over at the end of that utterance, releasing the graph cache the
    old one grew (0: never). A small value gives every utterance a fresh recognizer: a call then never
    holds more than one utterance's cache, at the CPU cost of a cold cache for every utterance.
    """

    def __init__(self, model: Any, sample_rate: int, grammar: str | None = None, *, chunk_seconds: float = 0.0,
                 partial_interval: float = PARTIAL_INTERVAL, recycle_after: float = 0.0,
                 pool: RecognizerPool | None = None) -> None:
        if grammar and getattr(model, "static_graph", False):
            raise ValueError("a grammar needs the model's lookahead graph: load_model(settings, runtime_grammar=True)")
        self._model, self._sample_rate, self._grammar = model, sample_rate, grammar
        self._pool, self._pool_key = pool, (id(model), sample_rate, grammar)
        kept = pool.take(self._pool_key) if pool is not None else None
        self._rec, fed = kept if kept is not None else (self._new_kaldi(), 0)
        self.warm = kept is not None  # a recognizer from an earlier call, its graph cache filled
        self._chunk_bytes = int(sample_rate * chunk_seconds) * 2
        self._pending = bytearray()
        self._noise_at = 0  # where in the comfort noise the next stretch of digital silence starts
        self._last_partial = ""
        # Asking for a partial result costs a best-path search: only every `partial_interval` of audio.
        self._partial_every = int(sample_rate * partial_interval) * 2
        self._since_partial = 0
        self._recycle_bytes = int(sample_rate * recycle_after) * 2
        self._fed = fed  # bytes decoded by the current Kaldi recognizer, over all its calls
        self._replacement: list[Any] = []  # the fresh recognizer once built
        self._building: threading.Thread | None = None
        self.recycled = 0

    def _new_kaldi(self) -> Any:
        import vosk

        if self._grammar:
            return vosk.KaldiRecognizer(self._model, self._sample_rate, self._grammar)
        return vosk.KaldiRecognizer(self._model, self._sample_rate)

    def accept(self, pcm: bytes, *, flush: bool = False, partial: bool = True) -> Hypothesis | None:
        """A final hypothesis at an endpoint, a partial when it changed (at most every `partial_interval`),
        else None. Audio is held back until a whole chunk is there, unless `flush`."""
        digital_silence = self._grammar and pcm and not pcm.strip(b"\0")
        self._pending += self._comfort_noise(len(pcm)) if digital_silence else pcm
        if len(self._pending) < self._chunk_bytes and not flush:
            return None
        return self._decode(partial)

    def _decode(self, partial: bool) -> Hypothesis | None:
        if not self._pending:
            return None
        chunk = bytes(self._pending)
        self._pending.clear()
        self._fed += len(chunk)
        self._build_replacement_if_due()
        if self._rec.AcceptWaveform(chunk):
            self._last_partial = ""
            self._since_partial = 0
            text = _field(self._rec.Result(), "text")
            self._recycle_if_due()
            return Hypothesis(text, final=True)
        self._since_partial += len(chunk)
        if not partial or not self._partial_every or self._since_partial < self._partial_every:
            return None
        self._since_partial = 0
        text = _field(self._rec.PartialResult(), "partial")
        if text != self._last_partial:
            self._last_partial = text
            return Hypothesis(text, final=False)
        return None

    def _comfort_noise(self, size: int) -> bytes:
        """`size` bytes of the hiss, going on where the last stretch of silence left it."""
        start, size = self._noise_at, size - size % 2
        self._noise_at = (start + size) % len(_COMFORT_NOISE)
        return (_COMFORT_NOISE * (2 + size // len(_COMFORT_NOISE)))[start:start + size]

    def finish(self) -> str:
        """Flush: the text of whatever was said since the last endpoint."""
        texts: list[str] = []
        hypothesis = self._decode(partial=False)
        if hypothesis is not None and hypothesis.final:
            texts.append(hypothesis.text)
        texts.append(_field(self._rec.FinalResult(), "text"))
        self._last_partial = ""
        self._recycle_if_due()
        return " ".join(text for text in texts if text)

    def close(self) -> None:
        """The call is over: forget it (decoder, features and speaker adaptation are reset) and leave
        the Kaldi recognizer, with its warm graph cache, to the pool for the next call."""
        if self._rec is None:
            return
        if self._building is not None:
            self._building.join()
        if self._replacement:
            self._rec, self._fed = self._replacement.pop(), 0
        else:
            # FinalResult resets only a running recognizer: a few samples make sure it runs.
            self._rec.AcceptWaveform(b"\0\0" * 160)
            self._rec.FinalResult()
        rec, self._rec = self._rec, None
        self._pending.clear()
        if self._pool is None or not self._pool.give_back(self._pool_key, (rec, self._fed)):
            del rec
            _release_free_memory()

    # -- memory of long calls -------------------------------------------------------------------------
    def _build_replacement_if_due(self) -> None:
        """Once the recognizer has heard `recycle_after` of audio, start building its replacement, so that
        it is ready by the end of the utterance under way."""
        if self._recycle_bytes and self._fed >= self._recycle_bytes and self._building is None:
            # Building a recognizer takes a while (~0.1 s for a large graph): not on the call's loop.
            self._building = threading.Thread(target=lambda: self._replacement.append(self._new_kaldi()),
                                              name="asr-recycle", daemon=True)
            self._building.start()

    def _recycle_if_due(self) -> None:
        """At an end of utterance: take over the replacement if it is ready (else at the next one)."""
        if not self._recycle_bytes:
            return
        if self._replacement:
            old, self._rec = self._rec, self._replacement.pop()
            self._fed, self._building = 0, None
            self.recycled += 1
            del old
            _release_free_memory()
        else:
            self._build_replacement_if_due()


class RecognizerPool:
    """Kaldi recognizers kept between calls, at most `size` idle ones per model, rate and grammar.

    A new recognizer starts with an empty cache of the graph it composes on the fly, and filling it is
    most of the decoding work of a call's first seconds (about three times the CPU per second of audio
    of a warm one). A call that ends leaves its recognizer here, reset (nothing of the caller's
    audio, text or speaker adaptation is kept, only the graph cache), and the next call takes it.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._idle: dict[tuple, list[tuple[Any, int]]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple) -> tuple[Any, int] | None:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def give_back(self, key: tuple, item: tuple[Any, int]) -> bool:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) >= self.size:
                return False
            idle.append(item)
            return True

    def idle(self) -> int:
        with self._lock:
            return sum(len(items) for items in self._idle.values())

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()
        _release_free_memory()


POOL = RecognizerPool()


def _field(result: str, name: str) -> str:
    return json.loads(result).get(name, "")


def _release_free_memory() -> None:
    """Hand the heap a dropped recognizer freed back to the OS (glibc keeps it otherwise)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def warm_pool(settings: VoiceSettings, speech: list[bytes], count: int) -> int:
    """Put `count` recognizers that have decoded `speech` (PCM16 at the model rate) into the pool.

    A server that just started would otherwise give its first calls new recognizers, each decoding at
    about three times the CPU of a warm one while it fills its graph cache: six calls arriving at
    once after a restart then fall behind real time and hear their callers late (the voice bench's
    first round). The bot's own prompts are speech in the line's language, which fills the cache
    with the common part of the graph. Returns how many recognizers were added (0 without a pool).
    """
    if not settings.asr_pool or count <= 0:
        return 0
    recognizers = [new_recognizer(settings) for _ in range(min(count, settings.asr_pool))]  # distinct ones
    for recognizer in recognizers:
        for pcm in speech:
            recognizer.accept(pcm, flush=True, partial=False)
            recognizer.finish()
        recognizer.close()  # reset, back to the pool with its cache: the next call may take it now
    return len(recognizers)


def new_recognizer(settings: VoiceSettings) -> Recognizer:
    """A recognizer on the shared model, with the configured grammar if any."""
    model = load_model(settings)
    POOL.size = settings.asr_pool
    return Recognizer(model, settings.sample_rate, grammar_phrases(model, settings.grammar_file),
                      chunk_seconds=settings.asr_chunk, partial_interval=settings.partial_interval,
                      recycle_after=settings.asr_recycle_after, pool=POOL if settings.asr_pool else None)
