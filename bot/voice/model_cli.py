"""`python -m bot model download`: install the Chinese Vosk model where the voice bot looks for it."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["download"], help="download: fetch, verify and unpack the model")
    parser.add_argument("--dest", type=Path, help="model directory (default: env VOSK_MODEL or "
                        "models/vosk/vosk-model-small-cn-0.22)")
    parser.add_argument("--base-url", default=os.environ.get("VOSK_MODEL_BASE_URL"),
                        help="where <name>.zip is served (default https://alphacephei.com/vosk/models)")
    parser.add_argument("--list-url", default=os.environ.get("VOSK_MODEL_LIST_URL"),
                        help="the publisher's model list with sizes and MD5s")
    parser.add_argument("--sha256", default=os.environ.get("VOSK_MODEL_SHA256"),
                        help="also require this SHA-256 of the archive")
    parser.add_argument("--force", action="store_true", help="download even if a model is already there")


def run(args: argparse.Namespace) -> int:
    from bot.voice import model_download as md
    from bot.voice.models import is_model_dir
    from bot.voice.settings import VoiceSettings
    from contract.settings import load_or_exit

    dest = args.dest or load_or_exit(VoiceSettings, "model").model_dir
    if is_model_dir(dest) and not args.force:
        print(f"The model is already installed at {dest} (use --force to download again).")
        return 0
    base_url = args.base_url or md.MODEL_BASE_URL
    list_url = args.list_url or (md.MODEL_LIST_URL if base_url == md.MODEL_BASE_URL else f"{base_url.rstrip('/')}/model-list.json")
    try:
        path, digests = md.download_model(dest, md.MODEL_NAME, base_url, list_url, args.sha256)
    except md.DownloadError as exc:
        print(f"Model download failed: {exc}\n模型下载失败，请检查网络后重试：python -m bot model download", file=sys.stderr)
        return 1
    print(f"Installed {md.MODEL_NAME} at {path}\n  size {digests.size} bytes\n  md5 {digests.md5}\n  sha256 {digests.sha256}")
    return 0
