"""Voice channel configuration, read once from the environment (contract.settings rules).

Every knob of the voice path lives here so that a deployment (or a test) tunes timing, model and
engines without touching code. Durations are seconds of *audio time*: the call clock advances with
the caller's audio stream, which keeps timing deterministic for recorded calls and exact on a
phone line where audio frames arrive continuously.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from pydantic import Field, validator

from contract.settings import REPO_ROOT, HotlineSettings, repo_path

DEFAULT_MODEL_NAME = "vosk-model-small-cn-0.22"
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "vosk" / DEFAULT_MODEL_NAME
PROMPT_CACHE_DIR = REPO_ROOT / "audio" / "cache"
CALLBACK_WORDS_FILE = REPO_ROOT / "audio" / "callback_words_zh.txt"
UNFINISHED_WORDS_FILE = REPO_ROOT / "audio" / "unfinished_words_zh.txt"


class VoiceSettings(HotlineSettings):
    """All voice settings; build with `VoiceSettings.from_env()`."""

    class Config:
        allow_mutation = False

    # Recognition
    model_dir: Path = Field(DEFAULT_MODEL_DIR, env="VOSK_MODEL")
    sample_rate: int = Field(16000, env="VOICE_SAMPLE_RATE")  # the rate the recognizer runs at
    grammar_file: Optional[Path] = Field(None, env="VOSK_GRAMMAR")  # one phrase per line, restricts the vocabulary
    # Endpointing overlay written over the model's conf/model.conf (Kaldi endpoint rules, seconds of
    # trailing silence): rule2 fires after a confident end of sentence, rule3 after a less certain one,
    # rule4 whatever the decoder thinks.
    endpoint_rule2: float = Field(0.35, env="VOSK_ENDPOINT_RULE2")
    endpoint_rule3: float = Field(0.7, env="VOSK_ENDPOINT_RULE3")
    endpoint_rule4: float = Field(1.2, env="VOSK_ENDPOINT_RULE4")
    max_utterance: float = Field(15.0, env="VOSK_MAX_UTTERANCE")  # rule5, longest single utterance
    # End of the caller's turn (bot/voice/turn_end.py), by the energy VAD's silence: a turn that sounds
    # finished ends after `endpoint_silence`, one that sounds unfinished (it ran `long_turn` seconds of
    # speech or more, ends in a filler or conjunction from `unfinished_words`, or in part of a number)
    # after `endpoint_silence_long`. The decoder's own rules above may end an utterance sooner; its
    # text is then judged the same way.
    endpoint_silence: float = Field(0.4, env="VOICE_ENDPOINT_SILENCE", gt=0)
    endpoint_silence_long: float = Field(0.9, env="VOICE_ENDPOINT_SILENCE_LONG", gt=0)
    long_turn: float = Field(2.5, env="VOICE_LONG_TURN", ge=0)
    unfinished_words: Optional[Path] = Field(UNFINISHED_WORDS_FILE, env="VOICE_UNFINISHED_WORDS")
    # Decoding cost, also written into the overlay: the search keeps at most `max_active` hypotheses
    # within `beam` of the best one. With the model's lookahead graph most of the CPU (and of a call's
    # memory) goes into expanding the on-the-fly composed graph (HCLr + Gr) for those hypotheses; the
    # stock 3000 / 10.0 cost about 40% more CPU than these for the same results on the test speech.
    max_active: int = Field(1500, env="VOSK_MAX_ACTIVE", ge=100)
    beam: float = Field(9.0, env="VOSK_BEAM", gt=0)
    # Decoding graph: "auto" uses a precompiled static graph (`python -m bot model compile-graph`,
    # bot/voice/static_graph.py) when one was compiled for the model, else the model's own lookahead
    # graph; "static" requires the compiled one; "lookahead" never uses it. A static graph costs about
    # 1 GB once per process (the Korean test model) and saves tens of MB per call and about three
    # quarters of a new call's CPU.
    graph: str = Field("auto", env="VOSK_GRAPH", regex="^(auto|static|lookahead)$")
    graphs_dir: Path = Field(REPO_ROOT / "models" / "vosk-graphs", env="VOSK_GRAPH_DIR")
    # How a call feeds the decoder: its audio in chunks of this many seconds (the VAD, barge-in and the
    # call clock still run per 20 ms frame), except right after the caller stops speaking, when every
    # frame goes in at once so that the end of the utterance is not detected later. 0 = every frame.
    asr_chunk: float = Field(0.1, env="VOICE_ASR_CHUNK", ge=0, le=1.0)
    # Partial results (the running guess shown on screens): at most this often, and in a call only
    # while the caller is speaking. 0 = none.
    partial_interval: float = Field(0.3, env="VOICE_PARTIAL_INTERVAL", ge=0)
    # A recognizer's decoding graph cache grows while it decodes: after this many seconds of audio a
    # call's recognizer is replaced by a fresh one (built in the background, swapped at the end of an
    # utterance), which bounds the memory of a long call. 0 = never.
    asr_recycle_after: float = Field(120.0, env="VOICE_ASR_RECYCLE", ge=0)
    # Recognizers kept for the next calls when calls end (reset, with their warm graph cache): a warm
    # one decodes at about a third of the CPU of a new one. Each idle one holds its cache (tens of MB).
    asr_pool: int = Field(8, env="VOICE_ASR_POOL", ge=0)

    # Call timing
    reprompt_after: float = Field(7.0, env="VOICE_REPROMPT_AFTER")  # silence before "are you still there"
    hangup_after: float = Field(20.0, env="VOICE_HANGUP_AFTER")  # silence before goodbye and hang up
    max_call: float = Field(600.0, env="VOICE_MAX_CALL")  # longest call
    barge_in: bool = Field(True, env="VOICE_BARGE_IN")  # caller speech stops the bot's playback
    barge_in_min_speech: float = Field(0.2, env="VOICE_BARGE_IN_MIN_SPEECH")  # speech needed to interrupt
    vad_threshold_db: float = Field(-38.0, env="VOICE_VAD_THRESHOLD_DB")  # frame level (dBFS) counted as speech
    greet: bool = Field(True, env="VOICE_GREET")  # play the greeting prompt when the call starts

    # Bot
    rasa_url: str = Field("http://127.0.0.1:5005", env="RASA_URL")
    rasa_token: str = Field("", env="RASA_REST_TOKEN", repr=False)  # when Rasa's REST channel asks for one
    gateway_url: Optional[str] = Field(None, env="GATEWAY_URL")  # when set, talk through the gateway's channel API
    channel_token: str = Field("", env="GATEWAY_CHANNEL_TOKEN", repr=False)  # the gateway's channel API token
    bot_timeout: float = Field(15.0, env="VOICE_BOT_TIMEOUT")  # seconds to wait for a reply

    # Speech synthesis
    tts_engine: str = Field("espeak", env="TTS_ENGINE")
    tts_voice: str = Field("cmn-latn-pinyin", env="TTS_VOICE")  # espeak-ng voice
    tts_speed: int = Field(165, env="TTS_SPEED")  # espeak-ng words per minute
    tts_pitch: int = Field(50, env="TTS_PITCH")  # espeak-ng pitch 0..99
    prompt_cache_dir: Path = Field(PROMPT_CACHE_DIR, env="TTS_CACHE_DIR")

    # Phone line (Asterisk)
    audiosocket_host: str = Field("127.0.0.1", env="AUDIOSOCKET_HOST")
    audiosocket_port: int = Field(9092, env="AUDIOSOCKET_PORT")
    audiosocket_max_calls: int = Field(4, env="AUDIOSOCKET_MAX_CALLS", ge=1)  # more calls at once hear "line busy"
    # Seconds without any message from Asterisk (which sends a frame every 20 ms) before a call is
    # taken for dead: it is hung up and its slot freed. Also the wait for a new connection's UUID.
    audiosocket_read_timeout: float = Field(10.0, env="AUDIOSOCKET_READ_TIMEOUT", gt=0)
    # Line audio queued for a call's decoder, in seconds; beyond it the oldest frames are dropped.
    # At least VOICE_BOT_TIMEOUT, so that a slow bot turn loses none of what the caller says.
    audiosocket_queue_seconds: float = Field(20.0, env="AUDIOSOCKET_QUEUE_SECONDS", gt=0)
    ami_host: Optional[str] = Field(None, env="AMI_HOST")  # Asterisk manager interface; unset = no PBX transfer
    ami_port: int = Field(5038, env="AMI_PORT")
    ami_user: str = Field("", env="AMI_USER")
    ami_secret: str = Field("", env="AMI_SECRET", repr=False)
    ami_context: str = Field("hotline-operators", env="AMI_CONTEXT")  # dialplan context of the operator queue
    ami_exten: str = Field("s", env="AMI_EXTEN")
    ami_priority: int = Field(1, env="AMI_PRIORITY")
    ami_db_family: str = Field("audiosocket", env="AMI_DB_FAMILY")  # AstDB family mapping call UUID -> channel

    # 回访 callbacks: the AudioSocket server dials reporters of resolved tickets (AMI Originate into
    # AudioSocket) from the issue API's durable schedule. Off while CALLBACK_CHANNEL is unset.
    callback_channel: Optional[str] = Field(None, env="CALLBACK_CHANNEL")  # dial string, "{phone}" = the digits
    callback_caller_id: str = Field('"96767" <96767>', env="CALLBACK_CALLER_ID")  # what the reporter's phone shows
    callback_poll_seconds: float = Field(30.0, env="CALLBACK_POLL_SECONDS", gt=0)  # how often to ask for due callbacks
    callback_ring_timeout: float = Field(30.0, env="CALLBACK_RING_TIMEOUT", gt=0)  # ring this long, then no_answer
    # Callbacks at once; each also needs a free call slot (AUDIOSOCKET_MAX_CALLS), inbound callers keep the rest.
    callback_max_calls: int = Field(1, env="CALLBACK_MAX_CALLS", ge=1)
    # Where Asterisk connects the answered call (the AudioSocket application's second argument);
    # default AUDIOSOCKET_HOST:AUDIOSOCKET_PORT.
    callback_audiosocket: Optional[str] = Field(None, env="CALLBACK_AUDIOSOCKET")
    # An answered call whose AudioSocket connection does not arrive within this counts as failed.
    callback_connect_timeout: float = Field(30.0, env="CALLBACK_CONNECT_TIMEOUT", gt=0)
    # What a reporter may answer (phrase -> 1..5, yes, no, decline), one per line; the recognizer
    # can be restricted to these phrases (CALLBACK_GRAMMAR, small models only).
    callback_words: Path = Field(CALLBACK_WORDS_FILE, env="CALLBACK_RATING_WORDS")
    callback_grammar: bool = Field(False, env="CALLBACK_GRAMMAR")
    issue_api_url: str = Field("http://127.0.0.1:8000", env="ISSUE_API_URL")
    # The operator role's token: reads the schedule, claims callbacks, records attempts and ratings.
    issue_api_token: str = Field("", env="ISSUE_API_OPERATOR_TOKEN", repr=False)

    @validator("model_dir", "grammar_file", "prompt_cache_dir", "callback_words", "unfinished_words", "graphs_dir")
    def _from_repo_root(cls, value: Optional[Path]) -> Optional[Path]:  # noqa: N805
        return repo_path(value) if value is not None else None

    @validator("rasa_url", "gateway_url", "issue_api_url")
    def _no_trailing_slash(cls, value: Optional[str]) -> Optional[str]:  # noqa: N805
        return value.rstrip("/") if value else value

    @validator("callback_channel")
    def _channel_names_the_phone(cls, value: Optional[str]) -> Optional[str]:  # noqa: N805
        if value and "{phone}" not in value:
            raise ValueError('must contain "{phone}", e.g. PJSIP/{phone}@trunk')
        return value

    @property
    def callback_audiosocket_address(self) -> str:
        """host:port that Asterisk connects an answered callback to."""
        return self.callback_audiosocket or f"{self.audiosocket_host}:{self.audiosocket_port}"

    def with_overrides(self, **changes: Any) -> "VoiceSettings":
        """A copy with some fields replaced (command-line flags, per-channel tweaks)."""
        return self.copy(update=changes)
