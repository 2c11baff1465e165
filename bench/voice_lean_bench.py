"""`python -m bench.voice_lean_bench`: the voice benchmark for the memory-lean profile.

Its own module so that `python -m bench` runs and files it like every other part (bench/results/
voice_lean_bench.md); the measuring is bench.voice_bench's, with `--lean`.
"""
from __future__ import annotations

import sys

from bench.voice_bench import main

if __name__ == "__main__":
    raise SystemExit(main(["--lean", *sys.argv[1:]]))
