"""WAV container <-> raw PCM16 mono, with the standard library's `wave` module."""
from __future__ import annotations

import io
import wave
from pathlib import Path


class WavFormatError(ValueError):
    """The file is not 16-bit mono PCM WAV."""


def pcm_to_wav(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def read_wav(source: Path | bytes) -> tuple[bytes, int]:
    """(PCM16 mono samples, sample rate) of a WAV file or WAV bytes."""
    handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
    try:
        with wave.open(handle, "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1 or wav.getcomptype() != "NONE":
                raise WavFormatError(
                    f"need 16-bit mono PCM WAV, got {wav.getnchannels()} channel(s), "
                    f"{8 * wav.getsampwidth()}-bit, {wav.getcomptype()}"
                )
            return wav.readframes(wav.getnframes()), wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise WavFormatError(f"not a WAV file: {exc}") from exc
    finally:
        handle.close()


def write_wav(path: Path, pcm: bytes, sample_rate: int) -> None:
    Path(path).write_bytes(pcm_to_wav(pcm, sample_rate))
