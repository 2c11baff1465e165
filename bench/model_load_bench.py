"""How long the Rasa server takes to load the trained model: this project's load (one eager step,
`bot/rasa_plugins/fast_model_load.py`) beside Rasa's own (one traced training step), each in a fresh
process, as a server start or a supervisord restart pays it.

    python -m bench.model_load_bench [--runs 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MODEL = ROOT / "models" / "hotline.tar.gz"

_CHILD = """
import json, resource, sys, time
from bot.rasa_plugins import fast_model_load
if sys.argv[1] == "rasa":
    fast_model_load.keep_rasa_load()
import bot.rasa_plugins.no_signal
from rasa.core.agent import Agent
before = resource.getrusage(resource.RUSAGE_SELF)
started = time.monotonic()
Agent.load(sys.argv[2])
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.monotonic() - started,
                  "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}))
"""


def load_once(mode: str) -> dict[str, float]:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(MODEL)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"no trained model at {MODEL}: run `make setup` first", file=sys.stderr)
        return 1
    figures: dict[str, list[dict[str, float]]] = {"fast": [], "rasa": []}
    for run in range(args.runs):
        for mode in figures:
            print(f"run {run + 1}/{args.runs}: loading the model with {mode} load…", flush=True)
            figures[mode].append(load_once(mode))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = os.getloadavg()

    def median(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in figures[mode])

    text = "\n".join([
        f"### Model load at server start ({when}; {machine}; load average before {load[0]:.1f}; "
        + ("one fresh process each)" if args.runs == 1 else f"median of {args.runs} fresh processes each)"),
        "",
        "| load | wall | CPU |",
        "|---|---|---|",
        f"| Rasa's own (one traced training step) | {median('rasa', 'wall'):.1f} s | {median('rasa', 'cpu'):.1f} s |",
        f"| this project's (one eager step) | {median('fast', 'wall'):.1f} s | {median('fast', 'cpu'):.1f} s |",
    ]) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "model_load_bench.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
