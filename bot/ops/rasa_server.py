"""`python -m bot.ops.rasa_server ARGS`: `rasa run --enable-api ARGS` with the HTTP API's token taken
from the environment.

Rasa takes its API token only as `--auth-token` on the command line, and a command line is readable
by every local user (`ps`, /proc/PID/cmdline): with the token a local user reads every conversation's
tracker (query codes included). This launcher hands the token to Rasa inside the process, so the
command line never carries it; Sanic workers forked from it inherit that command line. It refuses to
start without a token, where `--auth-token ""` would have opened the API to anyone.
"""
from __future__ import annotations

import os
import sys

TOKEN_VARIABLE = "RASA_API_TOKEN"


def rasa_argv(args: list[str], token: str) -> list[str]:
    """What Rasa's own entry point parses: the server with its HTTP API behind `token`."""
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in args):
        raise SystemExit("bot.ops.rasa_server: give the token in RASA_API_TOKEN, not as --auth-token")
    # One argument, "--auth-token=TOKEN": a generated token may start with "-", which argparse would
    # take for the next option if the token came as an argument of its own (Rasa then did not start).
    return ["rasa", "run", "--enable-api", *args, f"--auth-token={token}"]


def main() -> None:
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise SystemExit(f"{TOKEN_VARIABLE} is empty: Rasa's HTTP API must not run without a token. "
                         "Set it (scripts/run.sh generates one into var/local.env) and start again.")
    sys.argv = rasa_argv(sys.argv[1:], token)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
