"""Start the project's real processes for tests, on free ports, and stop them again.

Tests talk to live servers over HTTP, never to in-process stand-ins, so that what they check is
what `make run` serves.
"""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping, Sequence

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """Ask the kernel for a port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_HANDED_OUT: set[int] = set()


def port_with_replicas(replicas: int = 2) -> int:
    """A free port whose next `replicas` ports are free too (the replicas listen there), below the
    ephemeral range: a stack that takes minutes to start (Rasa replicas on two busy cores) must not find
    its ports taken meanwhile by the outgoing connections of everything else, which the kernel numbers
    from that range."""
    top = _ephemeral_start() - replicas - 1
    for _ in range(200):
        base = random.randrange(min(10000, top - 1), top)
        if _HANDED_OUT.intersection(range(base, base + 1 + replicas)):
            continue  # another stack of this run was given these
        try:
            held = []
            for port in range(base, base + 1 + replicas):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                held.append(sock)
            for sock in held:
                sock.close()
            _HANDED_OUT.update(range(base, base + 1 + replicas))
            return base
        except OSError:
            for sock in held:
                sock.close()
    raise RuntimeError("no free port range")


class ServerProcess:
    """A child process that serves HTTP; `start()` returns once `health_url` answers 2xx."""

    def __init__(
        self,
        cmd: Sequence[str],
        health_url: str,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.cmd = list(cmd)
        self.health_url = health_url
        self.env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", **(env or {})}
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> "ServerProcess":
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.cmd!r} exited with {self.proc.returncode} before serving; log: {self.log_path}"
                )
            try:
                if requests.get(self.health_url, timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.cmd!r} did not answer {self.health_url} in {self.startup_timeout}s")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """Die hard, as a crash or power cut would: no clean shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, *args]


def venv_tool(name: str) -> str:
    """Path of a console script installed in the same environment as the test runner."""
    return str(VENV_BIN / name)
