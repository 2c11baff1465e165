"""Which processes make up the hotline and where each answers: one table, read by the supervisor
config (`python -m bot run`), the health check (`python -m bot health`) and the tests.

Ports and hosts come from the same environment variables the processes read themselves, so what is
supervised and what is checked cannot drift apart from what each process serves.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from contract.settings import REPO_ROOT

VENV_BIN = REPO_ROOT / ".venv" / "bin"


@dataclass(frozen=True)
class Program:
    """One supervised process."""

    name: str
    command: str  # a shell command line, run from the repository root
    health_url: Optional[str] = None  # answers 2xx while the process serves
    environment: Mapping[str, str] = field(default_factory=dict)  # on top of the supervisor's own
    stop_seconds: int = 20


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    return (env.get(name) or "").strip() or default


def single_topology(env: Optional[Mapping[str, str]] = None) -> list[Program]:
    """`make run`: every process once, on the embedded defaults."""
    env = os.environ if env is None else env
    py, rasa = VENV_BIN / "python", VENV_BIN / "rasa"
    issue_port = _env(env, "ISSUE_API_PORT", "8000")
    actions_host, actions_port = _env(env, "ACTIONS_HOST", "127.0.0.1"), _env(env, "ACTIONS_PORT", "5055")
    rasa_host, rasa_port = _env(env, "RASA_HOST", "127.0.0.1"), _env(env, "RASA_PORT", "5005")
    gateway_host, gateway_port = _env(env, "GATEWAY_HOST", "127.0.0.1"), _env(env, "GATEWAY_PORT", "8080")
    endpoints = _env(env, "RASA_ENDPOINTS", "endpoints.yml")
    local = lambda host: "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: E731
    programs = [
        Program("issue_api", f"{py} -m issue_api", f"http://127.0.0.1:{issue_port}/api/v1/health"),
        Program("actions", f"{rasa} run actions --port {actions_port}",
                f"http://{local(actions_host)}:{actions_port}/health", {"SANIC_HOST": actions_host}),
        Program("rasa", f"{rasa} run --enable-api --auth-token \"$RASA_API_TOKEN\" -i {rasa_host} --port {rasa_port} "
                        f"--model models/hotline.tar.gz --endpoints {shlex.quote(endpoints)} "
                        "--credentials credentials.yml",
                f"http://{local(rasa_host)}:{rasa_port}/", stop_seconds=30),
        Program("gateway", f"{py} -m bot gateway", f"http://{local(gateway_host)}:{gateway_port}/api/v1/health"),
        Program("retention", f"{py} -m bot purge --every 24"),
    ]
    model = Path(_env(env, "VOSK_MODEL", str(REPO_ROOT / "models" / "vosk" / "vosk-model-small-cn-0.22")))
    if (model / "conf" / "model.conf").is_file():
        programs.append(Program("audiosocket", f"{py} -m bot audiosocket",
                                environment={"GATEWAY_URL": _env(env, "GATEWAY_URL",
                                                                 f"http://{local(gateway_host)}:{gateway_port}")}))
    return programs
