"""`python -m bench`: run every part's benchmark, then paste their figures into the README.

Each benchmark module writes its own markdown snippet to bench/results/<name>.md; this runner only
orders them and keeps the README's figures section in step with the latest run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# In the order the README shows them.
# The load and fault runs come last: they start whole hotlines (single and scaled) and take ~15 minutes.
BENCHMARKS = ["issue_api_bench", "nlu_bench", "model_load_bench", "turn_bench", "turn_profile", "voice_bench",
              "voice_lean_bench", "voice_search_bench", "gateway_bench",
              "load_bench", "fault_bench"]
# Shown in the README beside the latest run but not rerun: the measurement before the speed work.
KEPT = {"turn_profile": "turn_profile_before"}


def run_one(name: str) -> bool:
    print(f"== bench.{name}", flush=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, env=env)
    if result.returncode != 0:
        print(f"bench.{name} failed with exit code {result.returncode}", file=sys.stderr)
    return result.returncode == 0


def update_readme() -> None:
    """Replace the README's figures section with the snippets found under bench/results/."""
    names = [n for name in BENCHMARKS for n in ([KEPT[name], name] if name in KEPT else [name])]
    parts = [
        (RESULTS / f"{name}.md").read_text(encoding="utf-8").strip()
        for name in names
        if (RESULTS / f"{name}.md").exists()
    ]
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"README.md has no {START} ... {END} section; figures not pasted", file=sys.stderr)
        return
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n" + "\n\n".join(parts) + f"\n{END}{tail}", encoding="utf-8")
    print(f"README.md figures updated from {len(parts)} benchmark(s)")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {BENCHMARKS})")
    parser.add_argument("--readme-only", action="store_true", help="only paste existing results")
    args = parser.parse_args()
    ok = True
    if not args.readme_only:
        for name in args.names or BENCHMARKS:
            ok = run_one(name) and ok
    update_readme()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
