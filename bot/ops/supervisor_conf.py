"""The supervisord configuration of a topology: each program restarted when it dies, the others left
serving; output of each program in its own log file under the state directory; supervisord's own
lines (spawned, exited and why, gave up) on the console.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from bot.ops.topology import Program
from contract.settings import REPO_ROOT


def render(programs: Iterable[Program], var_dir: Path) -> str:
    logs = var_dir / "logs"
    lines = [
        "; Written by `python -m bot run` at every start; edit bot/ops/topology.py instead.",
        "[supervisord]",
        "nodaemon=true",
        "logfile=/dev/stdout",
        "logfile_maxbytes=0",
        "loglevel=info",
        f"pidfile={var_dir / 'supervisord.pid'}",
        "user=" + _user(),
        "umask=077",
        "",
        "[unix_http_server]",
        f"file={var_dir / 'supervisor.sock'}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{var_dir / 'supervisor.sock'}",
    ]
    for program in programs:
        environment = ",".join(f'{key}="{value.replace("%", "%%")}"' for key, value in program.environment.items())
        lines += [
            "",
            f"[program:{program.name}]",
            f"command=bash -c '{_escape('exec ' + program.command)}'",
            f"directory={REPO_ROOT}",
            "autostart=true",
            "autorestart=true",
            "startsecs=3",
            "startretries=30",  # backoff grows 1 s per try: a database restart is ridden out
            "stopasgroup=true",
            "killasgroup=true",
            f"stopwaitsecs={program.stop_seconds}",
            "redirect_stderr=true",
            f"stdout_logfile={logs / (program.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=5",
        ]
        if environment:
            lines.append(f"environment={environment}")
    return "\n".join(lines) + "\n"


def _escape(command: str) -> str:
    """For inside a single-quoted bash argument in supervisord's ini ('%' is its own interpolation)."""
    return command.replace("'", "'\\''").replace("%", "%%")


def _user() -> str:
    import getpass

    return getpass.getuser()
