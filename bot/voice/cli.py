"""`python -m bot voice`: a call to the hotline from the microphone, or from a WAV file.

With `--wav FILE` the file is the caller: it goes through the whole voice path (resampling, Vosk,
normalization, the bot, speech synthesis) on a simulated line, and every turn is printed to stdout
as one JSON line `{"role": "caller" | "bot", "text": ...}`; logs go to stderr.
With GATEWAY_URL set, an operator who closes the conversation in the console ends the call: the
caller hears a goodbye (the last "bot" line) and the command exits 0, as when the caller hangs up.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wav", type=Path, help="16-bit mono WAV file (any sample rate) to play as the caller")
    parser.add_argument("--model", type=Path, help="Vosk model directory (default: env VOSK_MODEL or "
                        "models/vosk/vosk-model-small-cn-0.22)")
    parser.add_argument("--phone", help="caller id passed to the bot as metadata.phone")
    parser.add_argument("--no-barge-in", action="store_true",
                        help="do not stop speaking when the caller talks (loudspeaker without echo cancellation)")
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging on stderr")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from contract.log_masking import install_log_masking

    install_log_masking()
    from bot.voice.models import ModelNotFoundError
    from bot.voice.settings import VoiceSettings
    from contract.settings import load_or_exit
    from bot.voice.wavfile import WavFormatError

    settings = load_or_exit(VoiceSettings, "voice")
    if args.model:
        settings = settings.with_overrides(model_dir=args.model)
    if args.no_barge_in:
        settings = settings.with_overrides(barge_in=False)
    from bot.voice.bot_client import warn_without_token

    warn_without_token(settings)
    try:
        if args.wav:
            return _run_wav(args.wav, settings, args.phone)
        return _run_microphone(settings, args.phone)
    except ModelNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    except WavFormatError as exc:
        print(f"{args.wav}: {exc}\n无法读取该音频文件：需要 16 位单声道 PCM WAV。", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"{exc}\n找不到音频文件。", file=sys.stderr)
        return 2


def _print_turn(event: object) -> None:
    from bot.voice.call import Turn

    if isinstance(event, Turn):
        print(json.dumps({"role": event.role, "text": event.text}, ensure_ascii=False), flush=True)


def _print_turn_and_partials(event: object) -> None:
    """On a terminal, also show what is being heard while the caller speaks."""
    from bot.voice.call import Partial

    if isinstance(event, Partial):
        print(f"\r… {event.text}\033[K", end="", file=sys.stderr, flush=True)
        return
    print("\r\033[K", end="", file=sys.stderr, flush=True)
    _print_turn(event)


def _session(settings, sink, phone, on_event=_print_turn):  # noqa: ANN001, ANN202 - internal wiring
    from bot.voice.asr import new_recognizer
    from bot.voice.bot_client import build_bot_client
    from bot.voice.call import CallSession
    from bot.voice.tts import build_tts

    return CallSession(
        recognizer=new_recognizer(settings), bot=build_bot_client(settings), tts=build_tts(settings),
        sink=sink, settings=settings, caller_id=phone, on_event=on_event,
    )


def _run_wav(path: Path, settings, phone: str | None) -> int:  # noqa: ANN001
    from bot.voice.audio_io import SimulatedLine, wav_frames
    from bot.voice.models import require_model

    require_model(settings.model_dir)
    frames = wav_frames(path, settings.sample_rate)
    _session(settings, SimulatedLine(settings.sample_rate), phone).run(frames)
    return 0


def _run_microphone(settings, phone: str | None) -> int:  # noqa: ANN001
    from bot.voice.audio_io import MicrophoneSource, SpeakerSink
    from bot.voice.models import require_model

    require_model(settings.model_dir)
    try:
        import sounddevice  # noqa: F401 - fails without PortAudio
    except OSError as exc:
        print(f"No audio device library: {exc}. Install libportaudio2 (make system-deps).", file=sys.stderr)
        return 2
    print("Speak now (Ctrl-C ends the call). 请讲话，按 Ctrl-C 结束通话。", file=sys.stderr)
    try:
        with SpeakerSink(settings.sample_rate) as sink, MicrophoneSource(settings.sample_rate) as mic:
            _session(settings, sink, phone, _print_turn_and_partials if sys.stderr.isatty() else _print_turn).run(mic)
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # PortAudio errors: no device, busy device
        if type(exc).__name__ == "PortAudioError":
            print(f"Audio device error: {exc}\n无法打开麦克风或扬声器。", file=sys.stderr)
            return 2
        raise
    return 0
