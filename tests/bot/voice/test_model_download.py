"""`python -m bot model download` against a local HTTP server standing in for alphacephei.com."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from bot.voice import model_download as md
from bot.voice.models import is_model_dir
from tests.support.servers import REPO_ROOT, free_port


def make_model_zip(path: Path, top: str = md.MODEL_NAME, extra: dict[str, str] | None = None) -> bytes:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{top}/am/final.mdl", b"\x00" * 4096)
        zf.writestr(f"{top}/conf/model.conf", "--endpoint.rule2.min-trailing-silence=0.5\n")
        zf.writestr(f"{top}/graph/HCLr.fst", b"\x01" * 2048)
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return path.read_bytes()


class ModelSite:
    """A directory served over HTTP with <name>.zip and a model-list.json like the publisher's."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = partial(SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *a: None  # type: ignore[assignment]
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, data: bytes, size: int | None = None, md5: str | None = None) -> None:
        (self.root / f"{md.MODEL_NAME}.zip").write_bytes(data)
        entry = {"name": md.MODEL_NAME, "lang": "cn", "type": "small",
                 "size": size if size is not None else len(data), "md5": md5 or hashlib.md5(data).hexdigest()}
        (self.root / "model-list.json").write_text(json.dumps([{"name": "other-model", "size": 1}, entry]))


@pytest.fixture()
def site(tmp_path) -> Iterator[ModelSite]:
    root = tmp_path / "site"
    root.mkdir()
    served = ModelSite(root)
    yield served
    served.server.shutdown()
    served.server.server_close()


def run_download(site: ModelSite, dest: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "model", "download", "--dest", str(dest),
                           "--base-url", site.url, *extra], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ})


def test_download_verifies_and_unpacks_where_the_bot_looks(site: ModelSite, tmp_path) -> None:
    data = make_model_zip(tmp_path / "m.zip")
    site.publish(data)
    dest = tmp_path / "models" / "vosk" / md.MODEL_NAME
    result = run_download(site, dest, "--sha256", hashlib.sha256(data).hexdigest())
    assert result.returncode == 0, result.stderr
    assert is_model_dir(dest)
    assert hashlib.sha256(data).hexdigest() in result.stdout
    assert "%" in result.stderr  # the progress bar
    recorded = json.loads((dest / ".download.json").read_text())
    assert recorded["size"] == len(data) and recorded["md5"] == hashlib.md5(data).hexdigest()
    # A second run sees the model and does nothing.
    again = run_download(site, dest)
    assert again.returncode == 0 and "already installed" in again.stdout


@pytest.mark.parametrize("problem", ["size", "md5", "sha256"])
def test_a_download_that_does_not_match_is_refused_and_nothing_installed(site: ModelSite, tmp_path, problem) -> None:
    data = make_model_zip(tmp_path / "m.zip")
    site.publish(data, size=len(data) + 1 if problem == "size" else None,
                 md5="0" * 32 if problem == "md5" else None)
    dest = tmp_path / "model"
    extra = ["--sha256", "f" * 64] if problem == "sha256" else []
    result = run_download(site, dest, *extra)
    assert result.returncode == 1
    assert "mismatch" in result.stderr and "模型下载失败" in result.stderr
    assert not dest.exists()
    assert not list(dest.parent.glob(".*.zip"))  # the partial download is cleaned up


def test_an_archive_without_a_model_or_with_escaping_paths_is_refused(site: ModelSite, tmp_path) -> None:
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("README", "no model here")
    site.publish((tmp_path / "empty.zip").read_bytes())
    with pytest.raises(md.DownloadError, match="no Vosk model"):
        md.download_model(tmp_path / "a", base_url=site.url, list_url=f"{site.url}/model-list.json", progress=False)
    site.publish(make_model_zip(tmp_path / "evil.zip", extra={"../../escape.txt": "x"}))
    with pytest.raises(md.DownloadError, match="outside"):
        md.download_model(tmp_path / "b", base_url=site.url, list_url=f"{site.url}/model-list.json", progress=False)
    assert not (tmp_path / "escape.txt").exists()


def test_an_unreachable_site_gives_a_clear_error(tmp_path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run([sys.executable, "-m", "bot", "model", "download", "--dest", str(tmp_path / "m"),
                             "--base-url", dead], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "python -m bot model download" in result.stderr
