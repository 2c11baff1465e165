"""`python -m bot model download`: install the Chinese Vosk model where the voice bot looks for it;
`python -m bot model compile-graph`: precompile its decoding graph (bot/voice/static_graph.py)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["download", "compile-graph"],
                        help="download: fetch, verify and unpack the model (then compile its graph); "
                        "compile-graph: precompile the model's static decoding graph (minutes, once)")
    parser.add_argument("--dest", "--model", type=Path, help="model directory (default: env VOSK_MODEL or "
                        "models/vosk/vosk-model-small-cn-0.22)")
    parser.add_argument("--base-url", default=os.environ.get("VOSK_MODEL_BASE_URL"),
                        help="where <name>.zip is served (default https://alphacephei.com/vosk/models)")
    parser.add_argument("--list-url", default=os.environ.get("VOSK_MODEL_LIST_URL"),
                        help="the publisher's model list with sizes and MD5s")
    parser.add_argument("--sha256", default=os.environ.get("VOSK_MODEL_SHA256"),
                        help="also require this SHA-256 of the archive")
    parser.add_argument("--force", action="store_true", help="download even if a model is already there")


def run(args: argparse.Namespace) -> int:
    from bot.voice.settings import VoiceSettings
    from contract.settings import load_or_exit

    settings = load_or_exit(VoiceSettings, "model")
    dest = args.dest or settings.model_dir
    if args.action == "compile-graph":
        return compile_graph(dest, settings.graphs_dir)
    return download(args, dest, settings.graphs_dir)


def compile_graph(model_dir: Path, graphs_dir: Path, *, required: bool = True) -> int:
    """Compile the static graph, saying what to do when that cannot be done here."""
    from bot.voice import static_graph as sg
    from bot.voice.models import is_model_dir, missing_model_message

    if not is_model_dir(model_dir):
        print(missing_model_message(model_dir), file=sys.stderr)
        return 1
    if (Path(model_dir) / "graph" / "HCLG.fst").exists():
        print(f"{model_dir} decodes with a static graph already (graph/HCLG.fst): nothing to compile.")
        return 0
    if not sg.has_lookahead_graph(model_dir):
        print(f"{model_dir} has no lookahead graph ({', '.join(sg.LOOKAHEAD_FILES)} in graph/): nothing to compile.")
        return 0
    if not required and sg.find_tools() is None:
        print(f"Not compiling the static graph (OpenFst tools missing: {sg.INSTALL_HINT}); the model works without "
              f"it at more CPU and memory per call. Later: python -m bot model compile-graph --model {model_dir}")
        return 0
    print(f"Static decoding graph of {model_dir} (in {graphs_dir}):")
    try:
        sg.compile_graph(model_dir, graphs_dir, progress=lambda line: print(line, flush=True))
    except sg.GraphCompileError as exc:
        print(f"Graph compilation failed: {exc}\n静态解码图生成失败：{exc}", file=sys.stderr)
        if not required:  # after a download: the model is installed and works on its own graph
            print(f"The model works without it (more CPU and memory per call). Later: python -m bot model "
                  f"compile-graph --model {model_dir}", file=sys.stderr)
            return 0
        return 1
    return 0


def download(args: argparse.Namespace, dest: Path, graphs_dir: Path) -> int:
    from bot.voice import model_download as md
    from bot.voice.models import is_model_dir

    if is_model_dir(dest) and not args.force:
        print(f"The model is already installed at {dest} (use --force to download again).")
        return compile_graph(dest, graphs_dir, required=False)
    base_url = args.base_url or md.MODEL_BASE_URL
    list_url = args.list_url or (md.MODEL_LIST_URL if base_url == md.MODEL_BASE_URL else f"{base_url.rstrip('/')}/model-list.json")
    try:
        path, digests = md.download_model(dest, md.MODEL_NAME, base_url, list_url, args.sha256)
    except md.DownloadError as exc:
        print(f"Model download failed: {exc}\n模型下载失败，请检查网络后重试：python -m bot model download", file=sys.stderr)
        return 1
    print(f"Installed {md.MODEL_NAME} at {path}\n  size {digests.size} bytes\n  md5 {digests.md5}\n  sha256 {digests.sha256}")
    return compile_graph(path, graphs_dir, required=False)
