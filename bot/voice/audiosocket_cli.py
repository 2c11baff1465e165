"""`python -m bot audiosocket`: answer Asterisk AudioSocket calls (env AUDIOSOCKET_HOST/PORT)."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default env AUDIOSOCKET_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default env AUDIOSOCKET_PORT or 9092)")
    parser.add_argument("--model", type=Path, help="Vosk model directory (default env VOSK_MODEL)")
    parser.add_argument("--verbose", "-v", action="store_true")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from contract.log_masking import install_log_masking

    install_log_masking()
    import asyncio

    from bot.voice.ami import build_transfer, lookup_caller_id
    from bot.voice.asr import Recognizer, load_model, new_recognizer
    from bot.voice.prewarm import warm_pool_in_background
    from bot.voice.turn_end import load_unfinished_words
    from bot.voice.bot_client import build_bot_client, warn_without_token
    from bot.voice.call import CallSession
    from bot.voice.models import ModelNotFoundError
    from bot.voice.prompts import PROMPTS, build_prompt_cache
    from bot.voice.settings import VoiceSettings
    from contract.settings import load_or_exit
    from bot.voice.tts import build_tts

    settings = load_or_exit(VoiceSettings, "audiosocket")
    overrides = {k: v for k, v in {"audiosocket_host": args.host, "audiosocket_port": args.port,
                                   "model_dir": args.model}.items() if v}
    settings = settings.with_overrides(**overrides)
    warn_without_token(settings)
    try:
        load_model(settings)  # fail now, not on the first call
    except ModelNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    if settings.unfinished_words is not None:
        try:
            load_unfinished_words(settings.unfinished_words)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"VOICE_UNFINISHED_WORDS: cannot read {settings.unfinished_words}: {exc}", file=sys.stderr)
            return 2
    tts = build_tts(settings)
    build_prompt_cache(tts)
    transfer = build_transfer(settings)
    warm_pool_in_background(settings, tts)

    from bot.voice.audiosocket_server import CallSlots, serve
    from bot.voice.callback_call import CallbackSession
    from bot.voice.callback_dialer import build_dialer
    from bot.voice.callback_words import AnswerWords, BadWordsFile

    slots = CallSlots(settings.audiosocket_max_calls)
    dialer = build_dialer(settings, slots)
    if dialer is not None:
        try:
            words = AnswerWords.load(settings.callback_words)
        except (OSError, BadWordsFile) as exc:
            print(f"CALLBACK_RATING_WORDS: {exc}", file=sys.stderr)
            return 2
        callback_grammar = words.grammar(load_model(settings, runtime_grammar=True)) if settings.callback_grammar else None
        if settings.callback_grammar and callback_grammar is None:
            logging.getLogger(__name__).warning("CALLBACK_GRAMMAR: the model knows none of the phrases in %s; "
                                                "callbacks are recognized without a grammar", settings.callback_words)

    def make_session(call_id: str, sink) -> CallSession:  # noqa: ANN001
        job = dialer.connected(call_id) if dialer is not None else None
        if job is not None:  # a callback this process dialled
            recognizer = (Recognizer(load_model(settings, runtime_grammar=True), settings.sample_rate, callback_grammar) if callback_grammar
                          else new_recognizer(settings))
            return CallbackSession(recognizer=recognizer, tts=tts, sink=sink, settings=settings, call_id=call_id,
                                   ticket=job.ticket, issue=dialer.issue, words=words, on_end=dialer.finished)
        return CallSession(recognizer=new_recognizer(settings), bot=build_bot_client(settings), tts=tts,
                           sink=sink, settings=settings, call_id=call_id, transfer=transfer,
                           caller_id=lookup_caller_id(settings, call_id))

    try:
        busy = tts.synthesize(PROMPTS["busy"], 8000)
        asyncio.run(serve(make_session, settings, busy, slots=slots,
                          background=[dialer.run] if dialer is not None else [],
                          ready=lambda server: print(
            f"AudioSocket listening on {settings.audiosocket_host}:{settings.audiosocket_port}", flush=True)))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"Cannot listen on {settings.audiosocket_host}:{settings.audiosocket_port}: {exc}", file=sys.stderr)
        return 1
    return 0
