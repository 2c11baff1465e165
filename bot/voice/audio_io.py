"""Where call audio comes from and goes to.

Sources yield PCM16 mono frames at the recognizer's rate; the call clock advances with them (see
call.py), so a recorded or scripted caller is timed exactly like a live one. Sinks take the bot's
speech: `play` queues audio behind what is already playing, `stop` cuts it off (barge-in).
"""
from __future__ import annotations

import collections
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Protocol, Union

from bot.voice.resample import StreamResampler, resample_pcm16
from bot.voice.wavfile import read_wav

FRAME_SECONDS = 0.02  # 20 ms, the telephone frame size


def frame_bytes(sample_rate: int, seconds: float = FRAME_SECONDS) -> int:
    return int(sample_rate * seconds) * 2


def pcm_frames(pcm: bytes, sample_rate: int, seconds: float = FRAME_SECONDS) -> Iterator[bytes]:
    size = frame_bytes(sample_rate, seconds)
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]


def wav_frames(path: Path, sample_rate: int) -> Iterator[bytes]:
    """A WAV file of any rate as the caller's side of the line."""
    pcm, rate = read_wav(path)
    return pcm_frames(resample_pcm16(pcm, rate, sample_rate), sample_rate)


@dataclass(frozen=True)
class Silence:
    """A stretch of caller silence in a scripted call."""

    seconds: float


Segment = Union[Silence, bytes]


def scripted_frames(segments: Iterable[Segment], sample_rate: int) -> Iterator[bytes]:
    """A caller built from speech clips (PCM at `sample_rate`) and silences: tests and the bench."""
    for segment in segments:
        if isinstance(segment, Silence):
            yield from pcm_frames(b"\x00\x00" * int(segment.seconds * sample_rate), sample_rate)
        else:
            yield from pcm_frames(segment, sample_rate)


class QueueSource:
    """Frames pushed by another thread (a phone line, a socket); `close()` ends the stream once what
    was pushed before it has been read.

    With `max_seconds` the queue holds at most that much audio: when the reader falls behind (a
    decoder slower than real time), the oldest frames are dropped rather than the queue growing
    without bound; `push` returns how many frames it dropped and `dropped` counts them all. Odd
    trailing bytes (half a sample) are cut off so that one malformed frame cannot stop the stream.
    """

    def __init__(self, src_rate: int, dst_rate: int, max_seconds: float | None = None) -> None:
        self._frames: collections.deque[bytes] = collections.deque()
        self._bytes = 0
        self._closed = False
        self._ready = threading.Condition()
        self._resampler = StreamResampler(src_rate, dst_rate)
        self.max_bytes = int(src_rate * max_seconds) * 2 if max_seconds else None
        self.dropped = 0

    def push(self, pcm: bytes) -> int:
        pcm = pcm[: len(pcm) // 2 * 2]
        dropped = 0
        with self._ready:
            if self._closed or not pcm:
                return 0
            self._frames.append(pcm)
            self._bytes += len(pcm)
            while self.max_bytes is not None and self._bytes > self.max_bytes and len(self._frames) > 1:
                self._bytes -= len(self._frames.popleft())
                dropped += 1
            self.dropped += dropped
            self._ready.notify()
        return dropped

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    @property
    def queued_bytes(self) -> int:
        with self._ready:
            return self._bytes

    def __iter__(self) -> Iterator[bytes]:
        while True:
            with self._ready:
                while not self._frames and not self._closed:
                    self._ready.wait()
                if not self._frames:
                    return
                pcm = self._frames.popleft()
                self._bytes -= len(pcm)
            yield self._resampler.process(pcm)


class MicrophoneSource:
    """The default input device through PortAudio (sounddevice), 20 ms frames."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._queue: queue.Queue[bytes] = queue.Queue()
        self._stream = None
        self._closed = threading.Event()

    def __enter__(self) -> "MicrophoneSource":
        import sounddevice

        self._stream = sounddevice.RawInputStream(
            samplerate=self.sample_rate, channels=1, dtype="int16",
            blocksize=frame_bytes(self.sample_rate) // 2,
            callback=lambda data, frames, t, status: self._queue.put(bytes(data)),
        )
        self._stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()

    def __iter__(self) -> Iterator[bytes]:
        while not self._closed.is_set():
            try:
                yield self._queue.get(timeout=0.5)
            except queue.Empty:
                continue


class AudioSink(Protocol):
    sample_rate: int

    def play(self, pcm: bytes, now: float) -> None: ...

    def stop(self, now: float) -> None: ...

    def is_playing(self, now: float) -> bool: ...


@dataclass
class Playback:
    """One clip the bot played on a simulated line."""

    start: float
    duration: float
    interrupted_at: float | None = None

    @property
    def end(self) -> float:
        return self.interrupted_at if self.interrupted_at is not None else self.start + self.duration


@dataclass
class SimulatedLine:
    """A sink that plays in call time without a device: the bot's side of a recorded call.

    It remembers what was played when, and what barge-in cut off, for tests and the benchmark.
    """

    sample_rate: int
    playbacks: list[Playback] = field(default_factory=list)
    audio: list[bytes] = field(default_factory=list)

    def play(self, pcm: bytes, now: float) -> None:
        start = max(now, self.playbacks[-1].end if self.playbacks else now)
        self.playbacks.append(Playback(start, len(pcm) / 2 / self.sample_rate))
        self.audio.append(pcm)

    def stop(self, now: float) -> None:
        for playback in self.playbacks:
            if playback.end > now:
                if playback.start > now:  # queued behind the clip playing: it never plays
                    playback.start = now
                playback.interrupted_at = now

    def is_playing(self, now: float) -> bool:
        return bool(self.playbacks) and self.playbacks[-1].end > now


class SpeakerSink:
    """The default output device; a PortAudio callback drains a buffer that `stop` empties."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._stream = None

    def __enter__(self) -> "SpeakerSink":
        import sounddevice

        self._stream = sounddevice.RawOutputStream(
            samplerate=self.sample_rate, channels=1, dtype="int16", callback=self._fill
        )
        self._stream.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._stream is not None:
            if exc_type is None:  # the call ended on its own: let its goodbye finish playing
                deadline = time.monotonic() + 30
                while self.is_playing(0) and time.monotonic() < deadline:
                    time.sleep(0.05)
            self._stream.stop()
            self._stream.close()

    def _fill(self, out, frames, t, status) -> None:  # noqa: ANN001 - PortAudio callback
        need = frames * 2
        with self._lock:
            chunk = bytes(self._buffer[:need])
            del self._buffer[:need]
        out[: len(chunk)] = chunk
        out[len(chunk) :] = b"\x00" * (need - len(chunk))

    def play(self, pcm: bytes, now: float) -> None:
        with self._lock:
            self._buffer.extend(pcm)

    def stop(self, now: float) -> None:
        with self._lock:
            self._buffer.clear()

    def is_playing(self, now: float) -> bool:
        with self._lock:
            return bool(self._buffer)
