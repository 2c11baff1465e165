"""`python -m bot run`: start the hotline under supervisord until Ctrl-C (what `make run` does after
preparing the secrets). A process that dies is restarted and the console says which and why; the
others keep serving meanwhile."""
from __future__ import annotations

import argparse
import os


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--print-config", action="store_true", help="print the supervisord config and exit")


def run(args: argparse.Namespace) -> int:
    from bot.ops.supervisor_conf import render
    from bot.ops.topology import VENV_BIN, single_topology
    from contract.settings import HotlineSettings, load_or_exit

    settings = load_or_exit(HotlineSettings, "run")
    var_dir = settings.secure_state_dir()
    (var_dir / "logs").mkdir(exist_ok=True, mode=0o700)
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
