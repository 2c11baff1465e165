"""Fetch, verify and unpack the Chinese Vosk model.

The model is 42 MB from alphacephei.com. Verification uses what the publisher states: the size and
MD5 of every model are listed in the official model list (`model-list.json`, the list Vosk's own
downloader reads); a SHA-256 can be pinned on top (`--sha256` / VOSK_MODEL_SHA256), and the
SHA-256 of what was installed is printed and stored next to the model so a deployment can pin it.
The archive is unpacked into a temporary directory beside the destination and renamed into place,
so a broken download never leaves a half model where the bot looks for one.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

from bot.voice.models import is_model_dir

MODEL_NAME = "vosk-model-small-cn-0.22"
MODEL_BASE_URL = "https://alphacephei.com/vosk/models"
MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """Download failed or the file is not what the publisher says it is."""


@dataclass(frozen=True)
class Expected:
    """What the downloaded archive must match (None: not known)."""

    size: int | None = None
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Digests:
    size: int
    md5: str
    sha256: str


def published_expectation(list_url: str, name: str, timeout: float = 30.0) -> Expected:
    """Size and MD5 of `name` from the publisher's model list."""
    try:
        response = requests.get(list_url, timeout=timeout)
        response.raise_for_status()
        models = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise DownloadError(f"could not read the model list {list_url}: {exc}") from exc
    for entry in models if isinstance(models, list) else []:
        if isinstance(entry, dict) and entry.get("name") == name:
            size = entry.get("size")
            return Expected(size=int(size) if size else None, md5=entry.get("md5") or None)
    raise DownloadError(f"{name} is not in the model list {list_url}")


def fetch(url: str, out: IO[bytes], expected_size: int | None, progress: bool = True) -> Digests:
    """Stream `url` into `out` with a progress bar on stderr; returns size and digests."""
    from tqdm import tqdm

    md5, sha256, size = hashlib.md5(), hashlib.sha256(), 0
    try:
        with requests.get(url, stream=True, timeout=60) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length") or 0) or expected_size
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=url.rsplit("/", 1)[-1],
                      file=sys.stderr, disable=not progress) as bar:
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                    md5.update(chunk)
                    sha256.update(chunk)
                    size += len(chunk)
                    bar.update(len(chunk))
    except requests.RequestException as exc:
        raise DownloadError(f"download of {url} failed: {exc}") from exc
    return Digests(size, md5.hexdigest(), sha256.hexdigest())


def verify(got: Digests, expected: Expected) -> None:
    if expected.size is not None and got.size != expected.size:
        raise DownloadError(f"size mismatch: got {got.size} bytes, expected {expected.size}")
    if expected.md5 and got.md5 != expected.md5.lower():
        raise DownloadError(f"MD5 mismatch: got {got.md5}, expected {expected.md5}")
    if expected.sha256 and got.sha256 != expected.sha256.lower():
        raise DownloadError(f"SHA-256 mismatch: got {got.sha256}, expected {expected.sha256}")


def unpack(archive: Path, dest: Path) -> Path:
    """Unzip and move the model directory to `dest`; refuses paths escaping the archive."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".unpack-", dir=dest.parent) as tmp:
        root = Path(tmp).resolve()
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    if not (root / member).resolve().is_relative_to(root):
                        raise DownloadError(f"archive member {member!r} would land outside the model directory")
                zf.extractall(root)
        except zipfile.BadZipFile as exc:
            raise DownloadError(f"not a zip archive: {exc}") from exc
        candidates = [p.parent.parent for p in root.rglob("am/final.mdl")]
        model_root = next((c for c in candidates if is_model_dir(c)), None)
        if model_root is None:
            raise DownloadError("the archive holds no Vosk model (am/final.mdl and conf/model.conf)")
        if dest.exists():
            shutil.rmtree(dest)
        model_root.rename(dest)
    return dest


def download_model(
    dest: Path,
    name: str = MODEL_NAME,
    base_url: str = MODEL_BASE_URL,
    list_url: str | None = MODEL_LIST_URL,
    sha256: str | None = None,
    progress: bool = True,
) -> tuple[Path, Digests]:
    """Download `name`, verify it against the publisher's list (and `sha256`), unpack to `dest`."""
    expected = published_expectation(list_url, name) if list_url else Expected()
    expected = Expected(expected.size, expected.md5, sha256 or None)
    if expected == Expected():
        raise DownloadError("nothing to verify the download against: give a model list URL or a SHA-256")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(prefix=f".{name}-", suffix=".zip", dir=dest.parent) as tmp:
        digests = fetch(f"{base_url.rstrip('/')}/{name}.zip", tmp, expected.size, progress)
        tmp.flush()
        verify(digests, expected)
        unpack(Path(tmp.name), dest)
    (dest / ".download.json").write_text(
        json.dumps({"name": name, "size": digests.size, "md5": digests.md5, "sha256": digests.sha256}, indent=2),
        encoding="utf-8",
    )
    return dest, digests
