"""`python -m bot run`: start the hotline under supervisord until Ctrl-C (what `make run` does after
preparing the secrets). A process that dies is restarted and the console says which and why; the
others keep serving meanwhile. `--scaled` (`make run-scaled`) starts the replicated topology behind
HAProxy on PostgreSQL and Redis (bot/ops/topology.py)."""
from __future__ import annotations

import argparse
import os


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--print-config", action="store_true", help="print the supervisord config and exit")
    parser.add_argument("--scaled", action="store_true",
                        help="replicas of every process behind HAProxy, state in PostgreSQL and Redis")


def run(args: argparse.Namespace) -> int:
    import sys

    from bot.ops import haproxy_conf
    from bot.ops.supervisor_conf import render
    from bot.ops.topology import VENV_BIN, Ports, ScaledStores, scaled_topology, single_topology
    from contract.settings import HotlineSettings, load_or_exit

    settings = load_or_exit(HotlineSettings, "run")
    var_dir = settings.secure_state_dir()
    (var_dir / "logs").mkdir(exist_ok=True, mode=0o700)
    if args.scaled:
        from bot.ops.scaled_stores import StoreUnavailable, prepare

        try:
            stores = ScaledStores.from_env(os.environ)
            programs = scaled_topology()
        except ValueError as exc:
            print(f"run: {exc}", file=sys.stderr)
            return 2
        if not os.environ.get("GATEWAY_SECRET"):
            print("run: --scaled needs GATEWAY_SECRET (the same for every gateway); make run-scaled sets it",
                  file=sys.stderr)
            return 2
        if not args.print_config:
            try:
                created = prepare(stores)
            except StoreUnavailable as exc:
                print(f"run: {exc}", file=sys.stderr)
                return 1
            if created:
                print("created databases:", ", ".join(created), flush=True)
        replicas = sum(1 for p in programs if p.name.startswith("gateway_"))
        (var_dir / "haproxy.cfg").write_text(haproxy_conf.render(Ports.from_env(os.environ), replicas, var_dir),
                                             encoding="utf-8")
    else:
        programs = single_topology()
    config = render(programs, var_dir)
    if args.print_config:
        print(config)
        return 0
    path = var_dir / "supervisord.conf"
    path.write_text(config, encoding="utf-8")
    print("supervised:", ", ".join(p.name for p in programs), f"(logs: {var_dir / 'logs'}/<name>.log)", flush=True)
    os.execv(str(VENV_BIN / "supervisord"), [str(VENV_BIN / "supervisord"), "-n", "-c", str(path)])
    return 0  # not reached
