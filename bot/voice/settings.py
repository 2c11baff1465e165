"""Voice channel configuration, read once from the environment.

Every knob of the voice path lives here so that a deployment (or a test) tunes timing, model and
engines without touching code. Durations are seconds of *audio time*: the call clock advances with
the caller's audio stream, which keeps timing deterministic for recorded calls and exact on a
phone line where audio frames arrive continuously.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_NAME = "vosk-model-small-cn-0.22"
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "vosk" / DEFAULT_MODEL_NAME
PROMPT_CACHE_DIR = REPO_ROOT / "audio" / "cache"


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    return float(raw) if raw else default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    return int(raw) if raw else default


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class VoiceSettings:
    """All voice settings; build with `VoiceSettings.from_env()`."""

    # Recognition
    model_dir: Path = DEFAULT_MODEL_DIR  # VOSK_MODEL
    sample_rate: int = 16000  # VOICE_SAMPLE_RATE: the rate the recognizer runs at
    grammar_file: Path | None = None  # VOSK_GRAMMAR: one phrase per line, restricts the vocabulary
    # Endpointing overlay written over the model's conf/model.conf (Kaldi endpoint rules, seconds of
    # trailing silence): rule2 fires after a confident end of sentence, rule3 after a less certain one,
    # rule4 whatever the decoder thinks.
    endpoint_rule2: float = 0.35  # VOSK_ENDPOINT_RULE2
    endpoint_rule3: float = 0.7  # VOSK_ENDPOINT_RULE3
    endpoint_rule4: float = 1.2  # VOSK_ENDPOINT_RULE4
    max_utterance: float = 15.0  # VOSK_MAX_UTTERANCE: rule5, longest single utterance
    # In-app cap on the endpoint wait: after this much silence (by the energy VAD) an utterance in
    # progress is closed even if the decoder is still unsure (its rules 3 and 4 wait longer).
    endpoint_silence: float = 0.8  # VOICE_ENDPOINT_SILENCE

    # Call timing
    reprompt_after: float = 7.0  # VOICE_REPROMPT_AFTER: silence before "are you still there"
    hangup_after: float = 20.0  # VOICE_HANGUP_AFTER: silence before goodbye and hang up
    max_call: float = 600.0  # VOICE_MAX_CALL: longest call
    barge_in: bool = True  # VOICE_BARGE_IN: caller speech stops the bot's playback
    barge_in_min_speech: float = 0.2  # VOICE_BARGE_IN_MIN_SPEECH: speech needed to interrupt
    vad_threshold_db: float = -38.0  # VOICE_VAD_THRESHOLD_DB: frame level (dBFS) counted as speech
    greet: bool = True  # VOICE_GREET: play the greeting prompt when the call starts

    # Bot
    rasa_url: str = "http://127.0.0.1:5005"  # RASA_URL
    gateway_url: str | None = None  # GATEWAY_URL: when set, talk through the gateway's channel API
    bot_timeout: float = 15.0  # VOICE_BOT_TIMEOUT: seconds to wait for a reply

    # Speech synthesis
    tts_engine: str = "espeak"  # TTS_ENGINE
    tts_voice: str = "cmn-latn-pinyin"  # TTS_VOICE: espeak-ng voice
    tts_speed: int = 165  # TTS_SPEED: espeak-ng words per minute
    tts_pitch: int = 50  # TTS_PITCH: espeak-ng pitch 0..99
    prompt_cache_dir: Path = PROMPT_CACHE_DIR  # TTS_CACHE_DIR

    # Phone line (Asterisk)
    audiosocket_host: str = "127.0.0.1"  # AUDIOSOCKET_HOST
    audiosocket_port: int = 9092  # AUDIOSOCKET_PORT
    audiosocket_max_calls: int = 4  # AUDIOSOCKET_MAX_CALLS: more calls at once hear "line busy"
    ami_host: str | None = None  # AMI_HOST: Asterisk manager interface; unset = no PBX transfer
    ami_port: int = 5038  # AMI_PORT
    ami_user: str = ""  # AMI_USER
    ami_secret: str = field(default="", repr=False)  # AMI_SECRET
    ami_context: str = "hotline-operators"  # AMI_CONTEXT: dialplan context of the operator queue
    ami_exten: str = "s"  # AMI_EXTEN
    ami_priority: int = 1  # AMI_PRIORITY
    ami_db_family: str = "audiosocket"  # AMI_DB_FAMILY: AstDB family mapping call UUID -> channel

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "VoiceSettings":
        env = os.environ if env is None else env
        d = cls()
        grammar = env.get("VOSK_GRAMMAR", "").strip()
        gateway = env.get("GATEWAY_URL", "").strip()
        ami_host = env.get("AMI_HOST", "").strip()
        return cls(
            model_dir=Path(env.get("VOSK_MODEL", "").strip() or d.model_dir),
            sample_rate=_int(env, "VOICE_SAMPLE_RATE", d.sample_rate),
            grammar_file=Path(grammar) if grammar else None,
            endpoint_rule2=_float(env, "VOSK_ENDPOINT_RULE2", d.endpoint_rule2),
            endpoint_rule3=_float(env, "VOSK_ENDPOINT_RULE3", d.endpoint_rule3),
            endpoint_rule4=_float(env, "VOSK_ENDPOINT_RULE4", d.endpoint_rule4),
            max_utterance=_float(env, "VOSK_MAX_UTTERANCE", d.max_utterance),
            endpoint_silence=_float(env, "VOICE_ENDPOINT_SILENCE", d.endpoint_silence),
            reprompt_after=_float(env, "VOICE_REPROMPT_AFTER", d.reprompt_after),
            hangup_after=_float(env, "VOICE_HANGUP_AFTER", d.hangup_after),
            max_call=_float(env, "VOICE_MAX_CALL", d.max_call),
            barge_in=_bool(env, "VOICE_BARGE_IN", d.barge_in),
            barge_in_min_speech=_float(env, "VOICE_BARGE_IN_MIN_SPEECH", d.barge_in_min_speech),
            vad_threshold_db=_float(env, "VOICE_VAD_THRESHOLD_DB", d.vad_threshold_db),
            greet=_bool(env, "VOICE_GREET", d.greet),
            rasa_url=(env.get("RASA_URL", "").strip() or d.rasa_url).rstrip("/"),
            gateway_url=gateway.rstrip("/") or None,
            bot_timeout=_float(env, "VOICE_BOT_TIMEOUT", d.bot_timeout),
            tts_engine=env.get("TTS_ENGINE", "").strip() or d.tts_engine,
            tts_voice=env.get("TTS_VOICE", "").strip() or d.tts_voice,
            tts_speed=_int(env, "TTS_SPEED", d.tts_speed),
            tts_pitch=_int(env, "TTS_PITCH", d.tts_pitch),
            prompt_cache_dir=Path(env.get("TTS_CACHE_DIR", "").strip() or d.prompt_cache_dir),
            audiosocket_host=env.get("AUDIOSOCKET_HOST", "").strip() or d.audiosocket_host,
            audiosocket_port=_int(env, "AUDIOSOCKET_PORT", d.audiosocket_port),
            audiosocket_max_calls=_int(env, "AUDIOSOCKET_MAX_CALLS", d.audiosocket_max_calls),
            ami_host=ami_host or None,
            ami_port=_int(env, "AMI_PORT", d.ami_port),
            ami_user=env.get("AMI_USER", ""),
            ami_secret=env.get("AMI_SECRET", ""),
            ami_context=env.get("AMI_CONTEXT", "").strip() or d.ami_context,
            ami_exten=env.get("AMI_EXTEN", "").strip() or d.ami_exten,
            ami_priority=_int(env, "AMI_PRIORITY", d.ami_priority),
            ami_db_family=env.get("AMI_DB_FAMILY", "").strip() or d.ami_db_family,
        )

    def with_overrides(self, **changes: object) -> "VoiceSettings":
        """A copy with some fields replaced (command-line flags, per-channel tweaks)."""
        return replace(self, **changes)
