"""`python -m bot health`: is every process of the hotline answering? One line each; exit 1 if not."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=3.0)


def run(args: argparse.Namespace) -> int:
    import requests

    from bot.ops.topology import single_topology

    healthy = True
    for program in single_topology():
        if program.health_url is None:
            continue
        try:
            ok = requests.get(program.health_url, timeout=args.timeout).ok
        except requests.RequestException:
            ok = False
        healthy = healthy and ok
        print(f"{program.name:<12} {'up' if ok else 'DOWN':<5} {program.health_url}")
    return 0 if healthy else 1
