"""`python -m bot health`: is every process of the hotline answering? One line each; exit 1 if not.

With `--scaled`, every replica and the public ports HAProxy serves in front of them."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--scaled", action="store_true", help="check the replicas of `make run-scaled`")


def run(args: argparse.Namespace) -> int:
    import requests

    from bot.ops.topology import public_checks, scaled_topology, single_topology

    programs = scaled_topology() + public_checks() if args.scaled else single_topology()
    healthy = True
    for program in programs:
        if program.health_url is None:
            continue
        try:
            ok = requests.get(program.health_url, timeout=args.timeout).ok
        except requests.RequestException:
            ok = False
        healthy = healthy and ok
        print(f"{program.name:<12} {'up' if ok else 'DOWN':<5} {program.health_url}")
    return 0 if healthy else 1
