"""Where the Vosk model lives, and the message a user sees when it does not.

Kept apart from asr.py so that commands can check for a model (and tell the user what to run)
without importing Vosk.
"""
from __future__ import annotations

from pathlib import Path

from bot.voice.settings import DEFAULT_MODEL_DIR

DOWNLOAD_COMMAND = "python -m bot model download"


class ModelNotFoundError(RuntimeError):
    """No usable Vosk model at the configured place."""

    def __init__(self, model_dir: Path, message: str | None = None) -> None:
        self.model_dir = Path(model_dir)
        super().__init__(message or missing_model_message(self.model_dir))


def missing_model_message(model_dir: Path) -> str:
    """What to run, in English for the operator's terminal and Chinese for everyone else."""
    hint = f"{DOWNLOAD_COMMAND}" if Path(model_dir) == DEFAULT_MODEL_DIR else (
        f"{DOWNLOAD_COMMAND} --dest {model_dir}"
    )
    return (
        f"No Vosk speech model found at {model_dir}.\n"
        f"Run:  {hint}\n"
        "(or point VOSK_MODEL / --model at an unpacked Vosk model directory)\n"
        f"未找到语音识别模型（{model_dir}）。请先运行：{hint}"
    )


def is_model_dir(path: Path) -> bool:
    """A Vosk model directory has the acoustic model and its configuration."""
    path = Path(path)
    return (path / "am" / "final.mdl").is_file() and (path / "conf" / "model.conf").is_file()


def require_model(model_dir: Path) -> Path:
    """The model directory, or ModelNotFoundError with the command to run."""
    if not is_model_dir(model_dir):
        raise ModelNotFoundError(model_dir)
    return Path(model_dir)
