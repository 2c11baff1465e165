"""Voice search benchmark: how much a narrower decoder search loses, without reference transcripts.

`python -m bench.voice_search_bench` (about 3 minutes). The decoder's search limits (max-active, beam)
set most of a call's CPU and memory (bench.voice_bench), and narrowing them can only hurt by search
errors: the decoder settles for a path that scores worse than the best one the model allows. That is
measurable on any speech, with no transcript to compare against: decode each sentence with a very
wide search (the reference) and with each setting, and count the sentences whose best path scores
lower than the reference's. A setting with no more search errors than another recognizes as well as
it with the same model; word error rates need the Chinese model and Chinese speech, not here.

Kaldi dithers the audio with random noise by default, so two runs of the same setting differ (the
transcripts of the stock search against itself differ on a third of these sentences; the speech is
made without sox's dither for the same reason, bench.voice_bench.korean): the comparison
runs with dither off (bot.voice.asr's overlay, which also carries the search limits), so that every
difference is the search's.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.voice_bench import LEAN, korean, korean_model_dir, model_label
from bot.voice.asr import endpoint_overlay
from bot.voice.settings import VoiceSettings

RESULTS = Path(__file__).resolve().parent / "results" / "voice_search_bench.md"
CHUNK = 3200  # bytes: 100 ms at 16 kHz, as a call feeds the decoder
REFERENCE = (7000, 14.0)
# Sentences none of the other voice benchmarks say; a tenth of a second of digital silence after each.
SENTENCES = [
    "안녕하세요 만나서 반갑습니다", "오늘 날씨가 좋습니다", "서울에 살고 있습니다", "감사합니다 도와주세요",
    "전화번호를 알려 주세요", "주문을 취소하고 싶어요", "내일 다시 전화하겠습니다", "회사 이름은 한국전자입니다",
    "전기가 자주 끊어집니다", "도로에 구멍이 있습니다", "세금 문제로 전화했습니다", "허가 신청이 늦어지고 있습니다",
    "우리 공장에 물이 나오지 않습니다", "담당자와 통화하고 싶습니다", "접수 번호를 확인해 주세요",
    "처리가 너무 늦습니다", "주소는 서울시 강남구입니다", "다음 주 월요일까지 해결해 주세요",
    "직원 채용에 대해 문의합니다", "토지 사용 허가를 받고 싶습니다", "가로등이 고장 났습니다",
    "세금 계산서가 잘못 나왔습니다", "전기 요금이 너무 많이 나왔습니다", "신청서를 다시 제출하겠습니다",
    "감사합니다 좋은 하루 되세요", "제 이름은 김민수입니다", "회사는 반도체를 만듭니다",
    "인터넷이 자주 끊깁니다", "소음 때문에 일을 할 수 없습니다", "빨리 처리해 주시기 바랍니다",
]
TOLERANCE = 1e-3  # score units (negated path cost): below this, two paths score the same


def decode_all(model_path: Path, audio: list[bytes]) -> tuple[list[tuple[str, float]], float]:
    """(text, best path score) per sentence, and the CPU seconds per sentence."""
    import vosk

    model = vosk.Model(str(model_path))
    rows, cpu = [], 0.0
    for pcm in audio:
        rec = vosk.KaldiRecognizer(model, 16000)
        rec.SetMaxAlternatives(1)  # the result then carries the best path's score ("confidence")
        start = time.thread_time()
        best = [json.loads(rec.Result())["alternatives"][0] for i in range(0, len(pcm), CHUNK)
                if rec.AcceptWaveform(pcm[i:i + CHUNK])]
        best.append(json.loads(rec.FinalResult())["alternatives"][0])
        cpu += time.thread_time() - start
        rows.append((" ".join(b["text"] for b in best if b["text"]), sum(b["confidence"] for b in best)))
    return rows, cpu / len(audio)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.voice_search_bench")
    parser.add_argument("--no-write", action="store_true", help=f"print only, do not write {RESULTS.name}")
    args = parser.parse_args(argv)
    import vosk

    vosk.SetLogLevel(-1)
    model_dir = Path(os.environ.get("VOSK_MODEL") or korean_model_dir()).resolve()
    default = VoiceSettings.from_env()
    lean = default.with_overrides(**LEAN)
    settings = {
        "very wide (reference)": REFERENCE,
        "Vosk model's own (stock)": (3000, 10.0),
        "the hotline's default": (default.max_active, default.beam),
        "memory-lean profile": (lean.max_active, lean.beam),
    }
    audio = [korean(text) + b"\0\0" * 1600 for text in SENTENCES]
    decoded: dict[tuple[int, float], tuple[list[tuple[str, float]], float]] = {}
    with tempfile.TemporaryDirectory(prefix="voice-search-") as tmp:
        for name, (max_active, beam) in settings.items():
            if (max_active, beam) not in decoded:
                print(f"decoding {len(audio)} sentences with max-active {max_active}, beam {beam:g} ({name}) ...", flush=True)
                overlay = endpoint_overlay(model_dir, {"--max-active": str(max_active), "--beam": f"{beam:g}"},
                                           Path(tmp), mfcc={"--dither": "0"})
                decoded[(max_active, beam)] = decode_all(overlay, audio)
    reference, _ = decoded[REFERENCE]
    rows = []
    for name, key in settings.items():
        found, cpu = decoded[key]
        gaps = [ref[1] - got[1] for got, ref in zip(found, reference) if got[1] < ref[1] - TOLERANCE]
        higher = sum(got[1] > ref[1] + TOLERANCE for got, ref in zip(found, reference))
        same = sum(got[0] == ref[0] for got, ref in zip(found, reference))
        rows.append(f"| {name} | {key[0]} / {key[1]:g} | {len(gaps)} of {len(found)} "
                    f"| {statistics.mean(gaps) if gaps else 0:.2f} | {higher} | {same} of {len(found)} | {cpu:.2f} s |")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        "### Voice search",
        "",
        f"`python -m bench.voice_search_bench`, {when}; {model_label(model_dir)}, {len(SENTENCES)} espeak-ng Korean "
        "sentences, dither off. A search error: the sentence's best path scores lower than the very wide "
        "search's (the model's own verdict, no reference transcript needed). Segments a setting ends "
        "differently can score higher than the reference's; those are counted apart.",
        "",
        "| search | max-active / beam | search errors | mean score gap | scored higher | same text as the reference | CPU per sentence |",
        "|---|---|---|---:|---:|---|---:|",
        *rows,
    ]) + "\n"
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
