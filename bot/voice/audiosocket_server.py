"""Serve phone calls from Asterisk over AudioSocket: one CallSession per TCP connection.

The asyncio side reads the socket and paces the bot's audio back in real-time 20 ms frames (Asterisk
plays what it receives; sending faster would only fill its buffer and make barge-in late). The call
session itself is synchronous (Vosk decoding is CPU work that releases the GIL), so it runs in a
worker thread, fed through a queue with the line audio resampled from 8 kHz to the model's 16 kHz.

A peer cannot hold a call slot or the server's memory: a line that sends nothing for
AUDIOSOCKET_READ_TIMEOUT seconds is hung up and its slot freed; the queue to the decoder holds at
most AUDIOSOCKET_QUEUE_SECONDS of audio (the oldest is dropped, with a warning, when the decoder
falls behind); a frame of odd length loses its last byte and a message of an unknown type is
skipped (each logged once per call) without ending the call; a peer that stops reading our audio
cannot block the call's end (writes give up after DRAIN_TIMEOUT).
"""
from __future__ import annotations

import asyncio
import collections
import functools
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, Callable, Sequence

from bot.voice import audiosocket as proto
from bot.voice.audio_io import QueueSource
from bot.voice.call import CallSession
from bot.voice.settings import VoiceSettings

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 5.0  # seconds to wait for the peer to take our audio before the line counts as broken
BUSY_PROMPTS_AT_ONCE = 8  # refused callers hearing the busy prompt at once; more are hung up on at once
WALL_CLOCK_MARGIN = 30.0  # seconds a call may run past VOICE_MAX_CALL on the wall clock (a slow line), at most

SessionFactory = Callable[[str, "AudioSocketSink"], CallSession]


class AudioSocketSink:
    """The bot's speech on the phone line: queued 20 ms frames that `pump` sends in real time."""

    sample_rate = proto.SAMPLE_RATE

    def __init__(self) -> None:
        self._frames: collections.deque[bytes] = collections.deque()
        self._lock = threading.Lock()

    def play(self, pcm: bytes, now: float) -> None:
        self.play_frames(frames_of(pcm))

    def play_frames(self, frames: Sequence[bytes]) -> None:
        """Queue ready frames (shared, not copied: the busy prompt is the same for every refusal)."""
        with self._lock:
            self._frames.extend(frames)

    def stop(self, now: float) -> None:
        with self._lock:
            self._frames.clear()

    def is_playing(self, now: float) -> bool:
        with self._lock:
            return bool(self._frames)

    def next_frame(self) -> bytes | None:
        with self._lock:
            return self._frames.popleft() if self._frames else None

    async def pump(self, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        """Send one frame every 20 ms on an absolute schedule (no drift), until `stop` or until the
        peer stops taking them (then what was queued is dropped)."""
        loop = asyncio.get_running_loop()
        tick = proto.FRAME_BYTES / 2 / proto.SAMPLE_RATE
        next_at = loop.time()
        while not stop.is_set():
            frame = self.next_frame()
            if frame is not None:
                writer.write(proto.encode(proto.Kind.AUDIO, frame))
                try:
                    await asyncio.wait_for(writer.drain(), DRAIN_TIMEOUT)
                except (ConnectionError, asyncio.TimeoutError) as exc:
                    log.warning("AudioSocket peer does not take audio (%s): playback stopped",
                                type(exc).__name__)
                    self.stop(0.0)
                    return
            next_at = max(next_at + tick, loop.time() - tick)
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    async def drained(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.is_playing(0) and loop.time() < deadline:
            await asyncio.sleep(0.02)


EXTRA_WORKERS = 8  # worker threads beyond two per call: callback dialling, caller-id lookups


class RecentCalls:
    """Call UUIDs connected in the last RECENT_CALLS_SECONDS (bounded), so that none connects twice."""

    def __init__(self, keep_seconds: float = 6 * 3600, most: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keep_seconds, self.most, self._clock = keep_seconds, most, clock
        self._seen: "OrderedDict[str, float]" = OrderedDict()

    def first_time(self, call_id: str) -> bool:
        now = self._clock()
        while self._seen and (len(self._seen) >= self.most or next(iter(self._seen.values())) < now - self.keep_seconds):
            self._seen.popitem(last=False)
        if call_id in self._seen:
            return False
        self._seen[call_id] = now
        return True


class CallSlots:
    """How many calls the machine can decode in real time (AUDIOSOCKET_MAX_CALLS).

    An outbound callback holds its slot from the moment it is dialled (`reserve`), so that an inbound
    call arriving while the phone rings cannot leave the answered callback without one; its connection
    then takes the reserved slot (`take(call_id)`), or the dialer gives it back (`release`).
    """

    def __init__(self, limit: int) -> None:
        self.limit, self.active = limit, 0
        self._reserved: set[str] = set()
        self._lock = threading.Lock()  # the dialer's threads reserve and release

    @property
    def free(self) -> int:
        with self._lock:
            return self.limit - self.active

    def take(self, call_id: str | None = None) -> bool:
        with self._lock:
            if call_id is not None and call_id in self._reserved:
                self._reserved.discard(call_id)
                return True
            if self.active >= self.limit:
                return False
            self.active += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.active -= 1

    def reserve(self, call_id: str) -> bool:
        with self._lock:
            if self.active >= self.limit:
                return False
            self.active += 1
            self._reserved.add(call_id)
            return True

    def release(self, call_id: str) -> None:
        """Give back a reservation whose call never connected (no answer, or the PBX lost it)."""
        with self._lock:
            if call_id in self._reserved:
                self._reserved.discard(call_id)
                self.active -= 1


def frames_of(pcm: bytes) -> list[bytes]:
    size = proto.FRAME_BYTES
    return [pcm[i : i + size].ljust(size, b"\x00") for i in range(0, len(pcm), size)]


@functools.lru_cache(maxsize=2)
def _busy_frames(busy_audio: bytes) -> tuple[bytes, ...]:
    return tuple(frames_of(busy_audio))


_busy_prompting = 0  # refusals playing the busy prompt now (touched on the event loop only)


async def refuse_busy(writer: asyncio.StreamWriter, busy_audio: bytes, call_id: str) -> None:
    """Over capacity: tell the caller the line is busy, then hang up, rather than answer late. A flood
    of connections beyond the slots is hung up on at once once BUSY_PROMPTS_AT_ONCE are hearing it."""
    global _busy_prompting
    log.warning("call %s refused: all call slots busy", call_id)
    if _busy_prompting < BUSY_PROMPTS_AT_ONCE:
        _busy_prompting += 1
        try:
            sink, stop = AudioSocketSink(), asyncio.Event()
            sink.play_frames(_busy_frames(busy_audio))
            pump = asyncio.create_task(sink.pump(writer, stop))
            await sink.drained(timeout=30)
            stop.set()
            await pump
        finally:
            _busy_prompting -= 1
    writer.write(proto.encode(proto.Kind.HANGUP))
    try:
        await asyncio.wait_for(writer.drain(), DRAIN_TIMEOUT)
    except asyncio.TimeoutError:
        pass
    writer.close()


async def handle_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            make_session: SessionFactory, settings: VoiceSettings,
                            slots: CallSlots | None = None, busy_audio: bytes = b"",
                            recent: "RecentCalls | None" = None) -> None:
    """One call: UUID, then audio/DTMF until either side hangs up."""
    peer = writer.get_extra_info("peername")
    try:
        first = await asyncio.wait_for(proto.read_message(reader), timeout=settings.audiosocket_read_timeout)
        if first is None or first.kind != proto.Kind.UUID:
            got = "nothing" if first is None else f"{first.kind.name} with {len(first.payload)} bytes"
            raise proto.ProtocolError(f"expected the call UUID first, got {got}")  # (never the payload itself)
        call_id = first.call_uuid
    except (proto.ProtocolError, asyncio.TimeoutError) as exc:
        log.warning("AudioSocket connection from %s rejected: %s", peer, exc)
        writer.close()
        return
    if recent is not None and not recent.first_time(call_id):
        # Asterisk makes a new UUID for every call: one seen before is a replay, which would join that
        # call's conversation (and, with AMI, read its caller id) from outside.
        log.warning("AudioSocket connection from %s rejected: call %s was already connected", peer, call_id)
        writer.close()
        return

    if slots is not None and not slots.take(call_id):
        try:
            await refuse_busy(writer, busy_audio, call_id)
        except ConnectionError:
            pass
        finally:
            writer.close()
        return
    try:
        await _run_call(reader, writer, make_session, settings, call_id)
    except Exception:  # a broken call must not take the server down, nor keep its slot
        log.exception("call %s failed", call_id)
    finally:
        writer.close()
        if slots is not None:
            slots.give_back()


async def _run_call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, make_session: SessionFactory,
                    settings: VoiceSettings, call_id: str) -> None:
    loop = asyncio.get_running_loop()
    sink = AudioSocketSink()
    source = QueueSource(proto.SAMPLE_RATE, settings.sample_rate, settings.audiosocket_queue_seconds)
    # Building a session may ask the PBX for the caller id: off the event loop.
    session = await loop.run_in_executor(None, make_session, call_id, sink)
    stop_pump = asyncio.Event()
    pump = asyncio.create_task(sink.pump(writer, stop_pump))
    call = loop.run_in_executor(None, session.run, source)
    line = _LineFaults(call_id)
    caller_hung_up = line_dead = False
    # Only audio keeps a call alive: a peer that sends keys, empty frames or unknown messages and no
    # audio would otherwise hold a call slot with the call's clock (which audio drives) standing
    # still. And no call outlasts VOICE_MAX_CALL on the wall clock either, whatever it sends.
    heard_at = loop.time()
    ends_at = heard_at + settings.max_call + min(WALL_CLOCK_MARGIN, settings.max_call / 2)
    chatter = _Chatter()
    try:
        while not call.done():
            # Checked for every message, not only when a read times out: a peer flooding the line with
            # keys, empty frames or unknown messages never lets a read time out.
            now = loop.time()
            if now >= ends_at or now >= heard_at + settings.audiosocket_read_timeout:
                _log_line_end(call_id, settings, wall_clock=now >= ends_at)
                line_dead = True
                break
            if chatter.flooding(now):
                log.warning("call %s: more than %d messages without audio in a second: hanging up", call_id,
                            CHATTER_PER_SECOND)
                line_dead = True
                break
            wait = min(heard_at + settings.audiosocket_read_timeout, ends_at) - now
            read = asyncio.ensure_future(asyncio.wait_for(proto.read_message(reader), max(wait, 0.001)))
            await asyncio.wait({read, call}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()
                await asyncio.wait({read})  # let the read really stop before anything else reads the line
                break
            try:
                message = read.result()
            except proto.UnknownKind as exc:
                line.unknown_kind(exc)
                chatter.heard(loop.time())
                continue
            except asyncio.TimeoutError:
                _log_line_end(call_id, settings, wall_clock=loop.time() >= ends_at)
                line_dead = True
                break
            if message is None or message.kind == proto.Kind.HANGUP:
                caller_hung_up = True
                break
            if message.kind == proto.Kind.AUDIO:
                samples = line.whole_samples(message.payload)
                if samples:
                    heard_at = loop.time()
                else:
                    chatter.heard(loop.time())
                line.dropped(source.push(samples), source)
            elif message.kind == proto.Kind.DTMF:
                chatter.heard(loop.time())
                session.push_dtmf(message.digit)
            elif message.kind == proto.Kind.ERROR:
                log.warning("call %s: Asterisk reported %s", call_id, message.error_text)
                caller_hung_up = True
                break
    except (proto.ProtocolError, ConnectionError) as exc:
        log.warning("call %s: %s", call_id, exc)
        caller_hung_up = True
    finally:
        source.close()
        try:
            reason = await call
        except Exception:  # a broken call must not take the server down
            log.exception("call %s failed", call_id)
            reason = "error"
        if not caller_hung_up and not line_dead:
            # The bot ended the call (silence, max length, an operator closed it): let the goodbye play,
            # then hang up.
            caller_hung_up = await _play_out(reader, sink, timeout=30)
        stop_pump.set()
        await pump
        if not caller_hung_up and not writer.is_closing():
            writer.write(proto.encode(proto.Kind.HANGUP))
            try:
                await asyncio.wait_for(writer.drain(), DRAIN_TIMEOUT)
                # Closing with the caller's audio unread would reset the connection, and the PBX could
                # lose the hangup frame: read on until it hangs up too (briefly). A dead line is not waited for.
                if not line_dead:
                    await asyncio.wait_for(_discard_until_hangup(reader), timeout=2)
            except (ConnectionError, asyncio.TimeoutError, proto.ProtocolError):
                pass
        writer.close()
        line.summary(source)
        log.info("AudioSocket call %s closed (%s)", call_id, "line silent" if line_dead else reason)


CHATTER_PER_SECOND = 100  # messages without audio a line may send in a second (keys come a few a second)


class _Chatter:
    """Counts messages that carry no audio (keys, empty frames, unknown kinds) in the current second."""

    def __init__(self) -> None:
        self.second, self.count = 0, 0

    def heard(self, now: float) -> None:
        if int(now) != self.second:
            self.second, self.count = int(now), 0
        self.count += 1

    def flooding(self, now: float) -> bool:
        return int(now) == self.second and self.count > CHATTER_PER_SECOND


def _log_line_end(call_id: str, settings: VoiceSettings, wall_clock: bool) -> None:
    if wall_clock:
        log.warning("call %s: longer than %gs on the wall clock: hanging up", call_id, settings.max_call)
    else:
        log.warning("call %s: no audio from the line for %gs: hanging up", call_id, settings.audiosocket_read_timeout)


class _LineFaults:
    """What was wrong with a call's line: each kind of fault is logged once, the counts at the end."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.odd_frames = self.unknown = 0
        self._warned_drop = False

    def whole_samples(self, payload: bytes) -> bytes:
        if len(payload) % 2:
            if not self.odd_frames:
                log.warning("call %s: audio frame of %d bytes (half a sample over): last byte dropped "
                            "(logged once per call)", self.call_id, len(payload))
            self.odd_frames += 1
            return payload[:-1]
        return payload

    def unknown_kind(self, exc: proto.UnknownKind) -> None:
        if not self.unknown:
            log.warning("call %s: %s (%d bytes) skipped (logged once per call)", self.call_id, exc, len(exc.payload))
        self.unknown += 1

    def dropped(self, count: int, source: QueueSource) -> None:
        if count and not self._warned_drop:
            self._warned_drop = True
            log.warning("call %s: the decoder is more than %.0fs behind the line: dropping the oldest audio",
                        self.call_id, (source.max_bytes or 0) / 2 / proto.SAMPLE_RATE)

    def summary(self, source: QueueSource) -> None:
        if self.odd_frames or self.unknown or source.dropped:
            log.warning("call %s: %d odd-length frame(s), %d unknown message(s), %d frame(s) dropped behind the decoder",
                        self.call_id, self.odd_frames, self.unknown, source.dropped)


async def _discard_until_hangup(reader: asyncio.StreamReader) -> None:
    """Read and drop the caller's frames until the caller hangs up or closes the socket."""
    while True:
        try:
            message = await proto.read_message(reader)
        except proto.UnknownKind:
            continue
        if message is None or message.kind in (proto.Kind.HANGUP, proto.Kind.ERROR):
            return


async def _play_out(reader: asyncio.StreamReader, sink: AudioSocketSink, timeout: float) -> bool:
    """Play what is queued while reading the line; True if the caller hung up before it ended."""
    played = asyncio.ensure_future(sink.drained(timeout))
    hung_up = asyncio.ensure_future(_discard_until_hangup(reader))
    await asyncio.wait({played, hung_up}, return_when=asyncio.FIRST_COMPLETED)
    for task in (played, hung_up):
        task.cancel()
    if hung_up.done() and not hung_up.cancelled():
        hung_up.exception()  # retrieved, not raised: a line that broke is a line that hung up
        return True
    return False


async def serve(make_session: SessionFactory, settings: VoiceSettings, busy_audio: bytes = b"",
                ready: Callable[[asyncio.AbstractServer], None] | None = None, slots: CallSlots | None = None,
                background: Sequence[Callable[[], Awaitable[None]]] = ()) -> None:
    """Listen on AUDIOSOCKET_HOST:AUDIOSOCKET_PORT until cancelled, running `background` tasks (the
    callback dialer) alongside."""
    slots = slots or CallSlots(settings.audiosocket_max_calls)
    # Every call holds a worker thread for its whole length (its decoder), and briefly a second one to
    # set it up: asyncio's default pool (cores + 4 threads) would leave calls beyond it with a slot
    # and silence. The pool is sized to the calls allowed, with room for the callbacks' work.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(
        max_workers=2 * settings.audiosocket_max_calls + EXTRA_WORKERS, thread_name_prefix="call"))
    recent = RecentCalls()
    server = await asyncio.start_server(
        lambda r, w: handle_connection(r, w, make_session, settings, slots, busy_audio, recent),
        settings.audiosocket_host, settings.audiosocket_port,
    )
    log.info("AudioSocket server listening on %s:%s", settings.audiosocket_host, settings.audiosocket_port)
    if ready:
        ready(server)
    tasks = [asyncio.create_task(task()) for task in background]
    try:
        async with server:
            await server.serve_forever()
    finally:
        for task in tasks:
            task.cancel()
