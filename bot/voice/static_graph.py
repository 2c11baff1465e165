"""A precompiled (static) decoding graph for a Vosk model that ships a lookahead one.

Vosk's small models (the Chinese one this hotline uses, the Korean test model) ship their graph in
two halves, HCLr.fst and Gr.fst, and every recognizer composes them on the fly into a graph cache of
its own: tens of MB per call, and most of a call's CPU goes into filling it. Composing the halves
once, ahead of time, into one HCLG.fst moves that work out of the call: the graph is read once per
process (about 1 GB for the Korean test model) and shared by every call, which then costs a few MB
and, on a new recognizer, about a quarter of the CPU. The composition is the same graph the
recognizers would build, so the transcripts are the same.

The graph is compiled with OpenFst's command-line tools (Debian `libfst-tools`, and the plugins
package that reads the model's `olabel_lookahead` and `ngram` FST types) into
`<VOSK_GRAPH_DIR>/<model>-<digest>/`, never into the downloaded model: `asr.load_model` links it
into the model overlay. The digest names the model's graph files, so a replaced model is compiled
anew. A runtime grammar (VOSK_GRAMMAR, CALLBACK_GRAMMAR) needs the two halves, so recognizers with
one keep the lookahead graph.
"""
from __future__ import annotations

import ctypes
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

LOOKAHEAD_FILES = ("HCLr.fst", "Gr.fst", "disambig_tid.int")
STATIC_FILES = ("HCLG.fst", "words.txt")
MANIFEST = "manifest.json"
TOOLS = ("fstcompose", "fstrelabel", "fstconvert", "fstsymbols", "fstinfo")
PLUGIN = "olabel_lookahead-fst.so"
PLUGIN_GLOBS = ("/usr/lib/*/fst/*", "/usr/lib/fst/*", "/usr/local/lib/fst", "/usr/local/lib/fst/*")
INSTALL_HINT = ("apt-get install libfst-tools libfst<N>-plugins-base, <N> as in libfst-tools' libfst<N> "
                "(or run make setup)")


class GraphCompileError(RuntimeError):
    """The graph could not be compiled; the message says what to do."""


@dataclass(frozen=True)
class FstTools:
    bin_dir: Path
    plugin_dir: Path

    def env(self) -> dict[str, str]:
        """The tools find the FST types of the model's graph (lookahead, ngram) as plugins on this path."""
        paths = [str(self.plugin_dir), *filter(None, os.environ.get("LD_LIBRARY_PATH", "").split(":"))]
        return {**os.environ, "LD_LIBRARY_PATH": ":".join(paths)}


def has_lookahead_graph(model_dir: Path) -> bool:
    graph = Path(model_dir) / "graph"
    return all((graph / name).is_file() for name in LOOKAHEAD_FILES) and not (graph / "HCLG.fst").exists()


def graph_key(model_dir: Path) -> str:
    """`<model name>-<digest of its lookahead graph files' place, size and time>`."""
    model_dir = Path(model_dir).resolve()
    parts = [str(model_dir)]
    for name in LOOKAHEAD_FILES:
        stat = (model_dir / "graph" / name).stat()
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return f"{model_dir.name}-{hashlib.sha1(chr(10).join(parts).encode()).hexdigest()[:12]}"


def compiled_graph(model_dir: Path, graphs_dir: Path) -> Optional[Path]:
    """The directory holding the model's compiled HCLG.fst and words.txt, if it was compiled."""
    if not has_lookahead_graph(model_dir):
        return None
    place = Path(graphs_dir) / graph_key(model_dir)
    return place if _complete(place) else None


def _complete(place: Path) -> bool:
    return (place / MANIFEST).is_file() and all((place / name).is_file() for name in STATIC_FILES)


def find_tools() -> Optional[FstTools]:
    """OpenFst's tools and the plugin directory that can read the model's FST types, if installed."""
    found = [shutil.which(tool) for tool in TOOLS]
    if not all(found):
        return None
    for pattern in PLUGIN_GLOBS:
        for directory in sorted(glob.glob(pattern), key=_version, reverse=True):  # the newest library first
            if (Path(directory) / PLUGIN).is_file():
                return FstTools(Path(found[0]).parent, Path(directory))
    return None


def _version(directory: str) -> tuple[int, str]:
    number = re.search(r"(\d+)$", directory)
    return (int(number.group(1)) if number else -1, directory)


def compile_graph(model_dir: Path, graphs_dir: Path, *, progress: Callable[[str], None] = print,
                  tools: Optional[FstTools] = None) -> Path:
    """Compile the model's HCLr.fst + Gr.fst into `graphs_dir` (a few minutes; already done: at once)."""
    model_dir = Path(model_dir).resolve()
    if not has_lookahead_graph(model_dir):
        raise GraphCompileError(f"{model_dir} has no lookahead graph (graph/HCLr.fst, graph/Gr.fst) to compile; "
                                "a model with graph/HCLG.fst is static already")
    done = compiled_graph(model_dir, graphs_dir)
    if done is not None:
        progress(f"The static graph is already compiled: {done}")
        return done
    tools = tools or find_tools()
    if tools is None:
        raise GraphCompileError(f"OpenFst tools ({', '.join(TOOLS)}) and their {PLUGIN} plugin were not found: "
                                f"{INSTALL_HINT}")
    graphs_dir = Path(graphs_dir)
    key = graph_key(model_dir)
    target = graphs_dir / key
    try:
        graphs_dir.mkdir(parents=True, exist_ok=True)
        with open(graphs_dir / f".{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process compiling the same graph: wait for it
            if _complete(target):
                progress(f"The static graph is already compiled: {target}")
                return target
            for stale in [*graphs_dir.glob(f".{key}-*"), target]:  # left by a compile that was killed
                shutil.rmtree(stale, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=graphs_dir))
            try:
                _compile_into(model_dir, staging, tools, progress)
                staging.chmod(0o755)  # readable by the service user, as the model is
                staging.rename(target)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise GraphCompileError(f"{exc}. Check that {graphs_dir} is writable and has room (about 1 GB for the Korean "
                                "test model), then run the command again.") from exc
    progress(f"Static graph ready: {target}")
    return target


def _compile_into(model_dir: Path, out: Path, tools: FstTools, progress: Callable[[str], None]) -> None:
    graph = model_dir / "graph"
    env = tools.env()
    tool = {name: str(tools.bin_dir / name) for name in TOOLS}
    started = time.monotonic()

    def step(text: str) -> None:
        progress(f"[{time.monotonic() - started:5.0f} s] {text}")

    step("1/3 word list of the language model")
    words = graph / "words.txt"
    if words.is_file():
        shutil.copyfile(words, out / "words.txt")
    else:  # the small models keep it inside Gr.fst only
        _run([tool["fstsymbols"], f"--save_osymbols={out / 'words.txt'}", str(graph / "Gr.fst"), os.devnull], env)
    # The symbol tables inside the model's FSTs are written by a newer OpenFst than Debian's, which reads
    # them but writes them back unreadably: the composition is made without them (Vosk reads words.txt).
    _run([tool["fstsymbols"], "--clear_isymbols", "--clear_osymbols", str(graph / "Gr.fst"), str(out / "G.fst")], env)
    disambig = out / "disambig.pairs"
    ids = (graph / "disambig_tid.int").read_text(encoding="utf-8").split()
    disambig.write_text("".join(f"{i} 0\n" for i in ids), encoding="utf-8")

    step("2/3 composing HCLr.fst with Gr.fst (minutes; about 3 GB of memory for the Korean test model)")
    logs = {name: out / f"{name}.log" for name in ("fstcompose", "fstrelabel", "fstconvert")}
    with open(out / "HCLG.fst", "wb") as sink, open(logs["fstcompose"], "wb") as compose_log, \
            open(logs["fstrelabel"], "wb") as relabel_log, open(logs["fstconvert"], "wb") as convert_log:
        compose = subprocess.Popen([tool["fstcompose"], str(graph / "HCLr.fst"), str(out / "G.fst")],
                                   stdout=subprocess.PIPE, stderr=compose_log, env=env, preexec_fn=_die_with_parent)
        relabel = subprocess.Popen([tool["fstrelabel"], f"--relabel_ipairs={disambig}"], stdin=compose.stdout,
                                   stdout=subprocess.PIPE, stderr=relabel_log, env=env, preexec_fn=_die_with_parent)
        convert = subprocess.Popen([tool["fstconvert"], "--fst_type=const"], stdin=relabel.stdout, stdout=sink,
                                   stderr=convert_log, env=env, preexec_fn=_die_with_parent)
        assert compose.stdout is not None and relabel.stdout is not None
        compose.stdout.close()  # only the next tool reads it: a failing reader ends the writer
        relabel.stdout.close()
        codes = {"fstcompose": compose.wait(), "fstrelabel": relabel.wait(), "fstconvert": convert.wait()}
    # The first tool that failed on its own is the cause; one ended by a broken pipe only lost its reader.
    failed = [name for name, code in codes.items() if code != 0]
    for name in [n for n in failed if codes[n] != -signal.SIGPIPE] or failed:
        code = codes[name]
        if code != 0:
            err = logs[name].read_text(encoding="utf-8", errors="replace").strip()
            raise GraphCompileError(f"{name} failed ({code}): {err[-500:] or 'no message'}. Check free memory and "
                                    f"disk space in {out.parent}, then run the command again.")
    for log in logs.values():
        log.unlink()
    (out / "G.fst").unlink()
    disambig.unlink()

    step("3/3 checking the result")
    info = _run([tool["fstinfo"], str(out / "HCLG.fst")], env)
    figures = {line.split("  ", 1)[0].strip(): line.rsplit(" ", 1)[-1] for line in info.splitlines() if "  " in line}
    if figures.get("fst type") != "const" or figures.get("# of states", "0") == "0":
        raise GraphCompileError(f"the compiled graph in {out} is unusable: {info[:300]}")
    manifest = {"model": str(model_dir), "compiled_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "seconds": round(time.monotonic() - started), "bytes": (out / "HCLG.fst").stat().st_size,
                "states": figures.get("# of states"), "arcs": figures.get("# of arcs")}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _die_with_parent() -> None:
    """In each tool, before it runs: end it when this process ends (a killed compile leaves no tool
    composing for minutes with gigabytes of memory)."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, capture_output=True, env=env, preexec_fn=_die_with_parent)
    if done.returncode != 0:
        raise GraphCompileError(f"{Path(argv[0]).name} failed ({done.returncode}): "
                                f"{done.stderr.decode(errors='replace').strip()[-500:]}")
    return done.stdout.decode(errors="replace")
